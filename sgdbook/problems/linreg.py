r"""Chapter 6 (:doc:`/lr-decay`): mini-batch SGD on synthetic linear regression, with a
learning-rate schedule.

The data follow the outline of chapter 6: :math:`n = 1000` inputs
:math:`x^{(i)} \sim N(0, I_2)`, labels :math:`y^{(i)} = w^\top x^{(i)} + b + \epsilon^{(i)}` with
:math:`w = (2, -3.4)`, :math:`b = 4.2`, :math:`\epsilon^{(i)} \sim N(0, 0.01^2)`. The model is
linear and the loss is half the mean squared error,
:math:`\ell(\theta) = \frac1{2n}\sum_i (x^{(i)\top} w + b - y^{(i)})^2`.

:func:`train_linreg` trains it with ``sgdbook.optim.SGD`` and, optionally, a
``sgdbook.optim.schedules.MultiStepDecay`` that divides the rate by 10 from a given epoch on;
divergence is detected and the run stopped (no overflow, no walls of ``nan``).
:func:`batch_curvatures` gives the per-batch curvature that explains which settings diverge.
Both take their mini-batches from :func:`epoch_batches`, so the curvatures are those of exactly
the batches the training run steps on: every epoch is a fresh ``torch.randperm(n)`` drawn from
one ``torch.Generator().manual_seed(seed)``, cut into consecutive slices of ``batch_size``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import validation as _validate
from ..seeding import rng

__all__ = [
    "TRUE_W",
    "DIVERGENCE_LOSS",
    "TRUE_B",
    "synthetic_regression",
    "LinRegRun",
    "epoch_batches",
    "train_linreg",
    "batch_curvatures",
    "gradient",
    "least_squares_loss",
    "predicted_excess_loss",
]

TRUE_W = (2.0, -3.4)
TRUE_B = 4.2
#: A loss above this (or a non-finite one) counts as divergence.
DIVERGENCE_LOSS = 1e12


def synthetic_regression(
    n: int = 1000, *, noise: float = 0.01, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` examples of ``y = X w + b + noise`` (float32 tensors ``X`` of shape ``(n, 2)``, ``y`` of shape ``(n,)``).

    Args:
        n: number of examples.
        noise: standard deviation of the label noise (``>= 0``).
        seed: seed of the inputs and the noise.
    """
    n = _validate.integer("n", n, minimum=1)
    noise = _validate.nonnegative("noise", noise)
    gen = rng(seed)
    X = gen.standard_normal((n, 2))
    y = X @ np.array(TRUE_W) + TRUE_B + noise * gen.standard_normal(n)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def _loss(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((X @ w + b - y) ** 2).mean()


def gradient(
    X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Gradient of the half mean squared error on a batch, in closed form.

    With residuals :math:`r = X w + b - y` over a batch of size :math:`m`:
    :math:`\nabla_w = X^\top r / m`, :math:`\nabla_b = \bar r`. (Autograd gives the same numbers;
    the closed form is about five times faster for these tiny tensors, which matters for the
    3,000 steps of batch size 1.)

    Returns:
        ``(grad_w, grad_b)`` with the shapes of ``w`` (``(2,)``) and ``b`` (``(1,)``).

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: shapes that do not match (``X`` ``(m, d)`` with ``m >= 1``, ``y`` ``(m,)``,
            ``w`` ``(d,)``, ``b`` ``(1,)``). Only shapes are checked (this runs at every step).
    """
    if not all(isinstance(t, torch.Tensor) for t in (X, y, w, b)):
        raise TypeError(
            f"X, y, w and b must be torch tensors, got {[type(t).__name__ for t in (X, y, w, b)]}"
        )
    if (
        X.dim() != 2
        or X.shape[0] == 0
        or tuple(y.shape) != (X.shape[0],)
        or tuple(w.shape) != (X.shape[1],)
        or tuple(b.shape) != (1,)
    ):
        raise ValueError(
            f"shapes must be X (m, d) with m >= 1, y (m,), w (d,), b (1,); got "
            f"{tuple(X.shape)}, {tuple(y.shape)}, {tuple(w.shape)}, {tuple(b.shape)}"
        )
    r = X @ w + b - y
    return X.T @ r / len(r), r.mean().reshape(1)


@dataclass(frozen=True)
class LinRegRun:
    """One training run: the full-data loss against the number of examples processed.

    ``examples[j]`` examples had been used when ``losses[j]`` was measured (``examples[0] = 0``).
    ``diverged_at`` is the step at which the loss exceeded the threshold (``None`` if never);
    ``lrs`` holds the learning rate of each epoch.
    """

    batch_size: int
    lr: float
    examples: np.ndarray
    losses: np.ndarray
    lrs: tuple[float, ...]
    w: np.ndarray
    b: float
    diverged_at: int | None
    steps_per_epoch: int

    @property
    def diverged(self) -> bool:
        """True when the run was stopped because the loss blew up."""
        return self.diverged_at is not None

    @property
    def final_loss(self) -> float:
        """The last full-data loss measured (``inf`` for a diverged run)."""
        return float("inf") if self.diverged else float(self.losses[-1])

    def mean_loss_after(self, examples: int) -> float:
        """Mean of the recorded losses measured after more than ``examples`` examples."""
        sel = self.losses[self.examples > examples]
        if sel.size == 0:
            raise ValueError(f"no loss recorded after {examples} examples")
        return float(sel.mean())

    def status(self) -> str:
        """One line in Chinese describing the outcome."""
        head = f"批量 {self.batch_size}，学习率 {self.lr:g}："
        if self.diverged:
            epoch = (self.diverged_at - 1) // self.steps_per_epoch + 1
            return (
                f"{head}发散（第 {epoch} 轮第 {self.diverged_at} 步损失超过 {DIVERGENCE_LOSS:.0e}，"
                "已停止）"
            )
        return (
            f"{head}最终损失 {self.final_loss:.3e}，w = [{self.w[0]:.4f}, {self.w[1]:.4f}]，"
            f"b = {self.b:.4f}"
        )


def _inputs(X: Any, *, dtype: Any = None) -> None:
    """``X`` is a finite real ``(n, 2)`` tensor with ``n >= 1`` (of ``dtype`` when given)."""
    _validate.tensor("X", X, ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {tuple(X.shape)}")
    if dtype is not None and X.dtype != dtype:
        raise TypeError(
            f"X must have dtype {dtype} (the model's parameters are {dtype}), got "
            f"{X.dtype}; convert it with X.to({dtype})"
        )


def _targets(X: Any, y: Any, *, dtype: Any = None) -> None:
    """``y`` is a finite real ``(n,)`` tensor matching ``X``."""
    _validate.tensor("y", y, ndim=1)
    _validate.same_length("X", X, "y", y)
    if dtype is not None and y.dtype != dtype:
        raise TypeError(f"y must have dtype {dtype}, got {y.dtype}; convert it with y.to({dtype})")


def epoch_batches(
    n: int, batch_size: int, *, epochs: int = 1, seed: int = 0
) -> list[list[torch.Tensor]]:
    """The mini-batches (index tensors) of every epoch, in the order :func:`train_linreg` uses them.

    One ``torch.Generator().manual_seed(seed)`` is created; for each epoch it draws
    ``torch.randperm(n, generator=...)`` and the permutation is cut into consecutive slices of
    ``batch_size`` (the last one may be shorter). Epoch ``e`` of a training run with this seed
    steps on exactly ``epoch_batches(...)[e]``, batch by batch.

    Args:
        n: number of examples.
        batch_size: mini-batch size.
        epochs: number of epochs.
        seed: seed of the shuffling.

    Returns:
        A list with one list of int64 index tensors per epoch.
    """
    n = _validate.integer("n", n, minimum=1)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    seed = _validate.seed("seed", seed)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        out.append([order[start : start + batch_size] for start in range(0, n, batch_size)])
    return out


def train_linreg(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    lr: float,
    *,
    epochs: int = 3,
    decay_epoch: int | None = 2,
    record_every: int = 10,
    seed: int = 0,
) -> LinRegRun:
    """Mini-batch SGD from ``w = 0, b = 0``, the rate divided by 10 from epoch ``decay_epoch`` on.

    The loop is the standard one: each epoch shuffles the data (the batches of
    :func:`epoch_batches` with the same ``seed``), and for every mini-batch sets the gradient (:func:`gradient`, the closed form of what ``backward()`` would
    compute) and calls ``optimizer.step()`` (``sgdbook.optim.SGD``); after each epoch the
    schedule
    (``sgdbook.optim.schedules.MultiStepDecay`` with milestone ``decay_epoch``) steps.

    Args:
        X: inputs, shape ``(n, 2)``.
        y: labels, shape ``(n,)``.
        batch_size: mini-batch size (the last batch of an epoch may be smaller).
        lr: initial learning rate.
        epochs: number of passes over the data.
        decay_epoch: first epoch (counted from 0) trained with ``lr / 10``; ``None`` keeps the
            rate constant.
        record_every: measure the full-data loss whenever another ``record_every`` examples
            have been processed (and at the start).
        seed: seed of the shuffling.

    Returns:
        A :class:`LinRegRun`.

    Raises:
        TypeError: ``X`` or ``y`` not a float32 tensor (the parameters are float32; a float64
            ``X`` is refused with the conversion to use rather than failing inside torch), an
            argument of the wrong type.
        ValueError: ``X`` not ``(n, 2)`` or ``y`` not ``(n,)``, empty or not finite data, an
            argument out of range.
    """
    from ..optim import SGD
    from ..optim.schedules import MultiStepDecay

    _inputs(X, dtype=torch.float32)
    _targets(X, y, dtype=torch.float32)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    lr = _validate.positive("lr", lr)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    if decay_epoch is not None:
        decay_epoch = _validate.integer("decay_epoch", decay_epoch, minimum=1)
    record_every = _validate.integer("record_every", record_every, minimum=1)
    seed = _validate.seed("seed", seed)
    n = len(y)
    w = torch.zeros(2, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = SGD([w, b], lr=lr)
    schedule = (
        MultiStepDecay(optimizer, milestones=[decay_epoch], gamma=0.1) if decay_epoch else None
    )
    examples, losses, lrs = [0], [float(_loss(X, y, w.detach(), b.detach()))], []
    seen, step, diverged_at = 0, 0, None
    steps_per_epoch = -(-n // batch_size)
    for batches in epoch_batches(n, batch_size, epochs=epochs, seed=seed):
        lrs.append(optimizer.param_groups[0]["lr"])
        for idx in batches:
            with torch.no_grad():
                w.grad, b.grad = gradient(X[idx], y[idx], w, b)
            optimizer.step()
            step += 1
            before, seen = seen, seen + len(idx)
            if seen // record_every > before // record_every or seen == n * epochs:
                with torch.no_grad():
                    full = float(_loss(X, y, w, b))
                if not np.isfinite(full) or full > DIVERGENCE_LOSS:
                    diverged_at = step
                    break
                examples.append(seen)
                losses.append(full)
        if diverged_at is not None:
            break
        if schedule is not None:
            schedule.step()
    return LinRegRun(
        batch_size,
        lr,
        np.array(examples),
        np.array(losses),
        tuple(lrs),
        w.detach().numpy().copy(),
        float(b.detach()[0]),
        diverged_at,
        steps_per_epoch,
    )


def batch_curvatures(
    X: torch.Tensor, batch_size: int, *, epochs: int = 1, seed: int = 0
) -> np.ndarray:
    r"""Largest Hessian eigenvalue of the loss on each mini-batch a training run steps on.

    On a batch :math:`B` the loss is a quadratic with Hessian
    :math:`H_B = \frac1{|B|}\sum_{i\in B} \tilde x^{(i)} \tilde x^{(i)\top}`,
    :math:`\tilde x = (x, 1)`; a step of size :math:`\eta` expands the error along its top
    eigenvector when :math:`\eta > 2/\lambda_{\max}`. The last entry of every :math:`\tilde x`
    is 1, so :math:`(H_B)_{33} = 1` and :math:`\lambda_{\max}(H_B) \ge e_3^\top H_B e_3 = 1`
    for every batch.

    The batches are those of :func:`epoch_batches` (hence of :func:`train_linreg`) with the same
    ``batch_size``, ``epochs`` and ``seed``, in training order.

    Args:
        X: inputs, shape ``(n, 2)``.
        batch_size: mini-batch size.
        epochs: number of epochs covered.
        seed: seed of the shuffling, as passed to :func:`train_linreg`.

    Returns:
        Array with one :math:`\lambda_{\max}` per mini-batch, epoch after epoch (length
        ``epochs * ceil(n / batch_size)``).
    """
    _inputs(X)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    Xt = np.hstack([np.asarray(X, dtype=np.float64), np.ones((len(X), 1))])
    out = []
    for batches in epoch_batches(len(Xt), batch_size, epochs=epochs, seed=seed):
        for idx in batches:
            B = Xt[idx.numpy()]
            out.append(np.linalg.eigvalsh(B.T @ B / len(B))[-1])
    return np.array(out)


def least_squares_loss(X: torch.Tensor, y: torch.Tensor) -> float:
    """The smallest achievable training loss (exact least squares with an intercept), in float64.

    Raises:
        TypeError: ``X`` or ``y`` not a real tensor.
        ValueError: ``X`` not ``(n, 2)``, ``y`` not ``(n,)``, ``n = 0``, or data not finite.
    """
    _inputs(X)
    _targets(X, y)
    Xt = np.hstack([np.asarray(X, dtype=np.float64), np.ones((len(X), 1))])
    yy = np.asarray(y, dtype=np.float64)
    coef, *_ = np.linalg.lstsq(Xt, yy, rcond=None)
    return float(0.5 * np.mean((Xt @ coef - yy) ** 2))


def predicted_excess_loss(X: torch.Tensor, lr: float, batch_size: int, noise: float) -> float:
    r"""Stationary excess loss of constant-step mini-batch SGD near the optimum (i.i.d. batches).

    Near the least-squares solution the per-example gradient is :math:`\tilde x\,\epsilon`, whose
    covariance is :math:`\sigma^2 H` with :math:`H = \frac1n\sum_i \tilde x^{(i)}\tilde x^{(i)\top}`;
    a batch of size :math:`b` divides it by :math:`b`. In the eigenbasis of :math:`H` (eigenvalues
    :math:`\lambda_i`) the directions decouple into the one-dimensional problem of
    :mod:`sgdbook.theory.noise_floor` with noise variance :math:`\sigma^2\lambda_i/b`, so the expected
    excess loss tends to

    .. math:: \sum_i \frac{\eta\,\sigma^2\lambda_i / b}{2\,(2 - \eta\lambda_i)}.

    Raises:
        ValueError: ``lr * lambda_max >= 2`` (no stationary regime).
    """
    _inputs(X)
    lr = _validate.positive("lr", lr)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    noise = _validate.nonnegative("noise", noise)
    Xt = np.hstack([np.asarray(X, dtype=np.float64), np.ones((len(X), 1))])
    lam = np.linalg.eigvalsh(Xt.T @ Xt / len(Xt))
    if lr * lam[-1] >= 2:
        raise ValueError(f"lr * lambda_max must be < 2, got {lr * lam[-1]!r}")
    return float(np.sum(lr * noise**2 * lam / batch_size / (2.0 * (2.0 - lr * lam))))
