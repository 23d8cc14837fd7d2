r"""Chapter 2 (:doc:`/learning-rate`): sharpness and the edge of stability of full-batch GD.

The *sharpness* of a loss at the parameters :math:`\\theta` is the largest eigenvalue of its
Hessian :math:`\\nabla^2 f(\\theta)`. On a quadratic, constant-step gradient descent is stable
exactly when the sharpness is below :math:`2/\\eta` (chapter 2's first theorem). Cohen et al.
(ICLR 2021) observed that when a neural network is trained with full-batch GD, the sharpness
rises ("progressive sharpening") until it reaches about :math:`2/\\eta` and then hovers there,
while the loss keeps falling, though not monotonically ("edge of stability").

* :func:`hessian_vector_product` multiplies the Hessian of a scalar loss by a vector with two
  backward passes (Pearlmutter's trick), never forming the Hessian;
* :func:`top_hessian_eigenvalue` finds the top eigenvalue from those products (Lanczos, or the
  power iteration), stopped when the residual :math:`\|Hv-\theta v\|` is small;
* :func:`dense_hessian` forms the Hessian column by column (small models only; used by the tests
  to check both methods against ``torch.linalg.eigvalsh``);
* :func:`gd_with_sharpness` trains :func:`sgdbook.problems.training.make_mlp` on the digits data with
  full-batch GD on the squared loss and records the loss at every step and the sharpness every
  few steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import validation as _validate
from ..problems.training import DigitsData, _one_thread_on_cpu, make_mlp
from .gd import DIVERGENCE_THRESHOLD, divergence_message

__all__ = [
    "hessian_vector_product",
    "top_hessian_eigenvalue",
    "dense_hessian",
    "squared_loss",
    "SharpnessRun",
    "gd_with_sharpness",
]


def _params(params) -> list[torch.Tensor]:
    if isinstance(params, nn.Module):
        params = list(params.parameters())
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be a module or an iterable of tensors, got {params!r:.60}")
    params = list(params)
    if not params:
        raise ValueError("params must not be empty")
    for p in params:
        if not isinstance(p, torch.Tensor) or not p.requires_grad:
            raise TypeError("params must be tensors that require grad")
    return params


def _flat_grad(loss_fn: Callable[[], torch.Tensor], params: list[torch.Tensor]) -> torch.Tensor:
    loss = loss_fn()
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError("loss_fn must return a scalar tensor")
    grads = torch.autograd.grad(loss, params, create_graph=True)
    return torch.cat([g.reshape(-1) for g in grads])


def _hvp_from_grad(
    flat_grad: torch.Tensor, params: list[torch.Tensor], v: torch.Tensor
) -> torch.Tensor:
    hv = torch.autograd.grad(flat_grad, params, grad_outputs=v, retain_graph=True)
    return torch.cat([h.reshape(-1) for h in hv]).detach()


def _check_vector(name: str, v, n: int, like: torch.Tensor) -> torch.Tensor:
    if not isinstance(v, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(v).__name__}")
    if v.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {tuple(v.shape)}")
    if not bool(torch.isfinite(v).all()):
        raise ValueError(f"{name} must be finite")
    return v.to(dtype=like.dtype, device=like.device)


def hessian_vector_product(
    loss_fn: Callable[[], torch.Tensor], params, v: torch.Tensor
) -> torch.Tensor:
    r"""The product :math:`\nabla^2 f(\theta)\,v` for the loss ``loss_fn()`` at ``params``.

    Two backward passes: :math:`g = \nabla f` with a graph, then :math:`\nabla (g^\top v)`.

    Args:
        loss_fn: computes the scalar loss from the current parameters.
        params: an ``nn.Module`` or a sequence of tensors that require grad.
        v: a flat vector with one entry per parameter (in ``parameters()`` order).

    Returns:
        The flat product (detached).

    Raises:
        TypeError: ``v`` not a tensor, or a parameter that does not require grad.
        ValueError: wrong shape of ``v``, non-finite ``v``, or a non-scalar loss.
    """
    loss_fn = _validate.callable_("loss_fn", loss_fn)
    params = _params(params)
    n = sum(p.numel() for p in params)
    v = _check_vector("v", v, n, params[0])
    return _hvp_from_grad(_flat_grad(loss_fn, params), params, v)


def _check_method(method: str) -> str:
    if method not in ("lanczos", "power"):
        raise ValueError(f"method must be 'lanczos' or 'power', got {method!r}")
    return method


def top_hessian_eigenvalue(
    loss_fn: Callable[[], torch.Tensor],
    params,
    *,
    iters: int = 100,
    tol: float = 1e-4,
    v0: torch.Tensor | None = None,
    seed: int = 0,
    method: str = "lanczos",
    min_iters: int = 1,
) -> tuple[float, torch.Tensor, int]:
    r"""The top Hessian eigenvalue from Hessian-vector products, stopped on the residual.

    Both methods return a pair :math:`(\theta, v)`, :math:`\|v\| = 1`, and stop as soon as the
    residual satisfies :math:`\|Hv - \theta v\| \le \mathrm{tol}\cdot|\theta|` (or after ``iters``
    products). For a symmetric :math:`H` that residual bounds the error: some eigenvalue lies
    within :math:`\|Hv-\theta v\|` of :math:`\theta` (and within
    :math:`\|Hv-\theta v\|^2/\text{gap}` when :math:`\theta` is separated from the rest of the
    spectrum by ``gap``). A stopping rule on the *change* of the estimate between two iterations
    does not give such a bound: when the two largest eigenvalues are close, the Rayleigh quotient
    creeps up slowly and such a rule stops while it is still far from the eigenvalue.

    * ``"lanczos"`` (default): the Lanczos process with full reorthogonalisation; :math:`\theta`
      is the largest Ritz value of the tridiagonal matrix (the largest *algebraic* eigenvalue of
      the Krylov projection, so it converges to :math:`\lambda_{\max}`, the sharpness), and the
      residual of its Ritz vector is :math:`\beta_j |s_j|` (no extra product needed).
    * ``"power"``: :math:`v \leftarrow Hv/\|Hv\|` with the Rayleigh quotient
      :math:`\theta = v^\top H v`; it converges to the eigenvalue of largest *magnitude*, at the
      rate :math:`|\lambda_2/\lambda_1|` per product.

    The graph of the gradient is built once and reused for every product.

    Args:
        loss_fn: computes the scalar loss from the current parameters.
        params: an ``nn.Module`` or a sequence of tensors that require grad.
        iters: maximal number of products (>= 1).
        tol: relative residual tolerance (> 0).
        v0: starting vector (for a warm start, e.g. the previous call's vector); random
            (``seed``) when omitted. Must not be zero.
        seed: seed of the random starting vector.
        method: ``"lanczos"`` or ``"power"``.
        min_iters: at least this many products before the stopping test (>= 1, <= ``iters``);
            with a warm start a few Lanczos steps make sure that an eigenvalue which has just
            overtaken the previous top one is found.

    Returns:
        ``(eigenvalue, unit eigenvector, products used)``.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    loss_fn = _validate.callable_("loss_fn", loss_fn)
    params = _params(params)
    iters = _validate.integer("iters", iters, minimum=1)
    min_iters = _validate.integer("min_iters", min_iters, minimum=1)
    if min_iters > iters:
        raise ValueError(f"min_iters must be at most iters={iters}, got {min_iters}")
    tol = _validate.positive("tol", tol)
    seed = _validate.seed("seed", seed)
    method = _check_method(method)
    n = sum(p.numel() for p in params)
    like = params[0]
    if v0 is None:
        gen = torch.Generator().manual_seed(seed)
        v = torch.randn(n, generator=gen, dtype=like.dtype).to(like.device)
    else:
        v = _check_vector("v0", v0, n, like).clone()
    norm = torch.linalg.vector_norm(v)
    if float(norm) == 0.0:
        raise ValueError("v0 must not be zero")
    v = v / norm
    flat_grad = _flat_grad(loss_fn, params)
    if method == "power":
        return _power(flat_grad, params, v, iters, min_iters, tol)
    return _lanczos(flat_grad, params, v, min(iters, n), min(min_iters, n), tol)


def _power(flat_grad, params, v, iters, min_iters, tol):
    estimate, used = float("nan"), 0
    for used in range(1, iters + 1):
        hv = _hvp_from_grad(flat_grad, params, v)
        estimate = float(v @ hv)
        residual = float(torch.linalg.vector_norm(hv - estimate * v))
        hn = torch.linalg.vector_norm(hv)
        if float(hn) == 0.0:
            return 0.0, v, used
        if (used >= min_iters and residual <= tol * abs(estimate)) or used == iters:
            break  # the estimate and the residual are those of v, the vector returned
        v = hv / hn
    return estimate, v, used


def _lanczos(flat_grad, params, v, iters, min_iters, tol):
    basis = [v]
    alphas: list[float] = []
    betas: list[float] = []
    theta, ritz = float("nan"), v
    for j in range(1, iters + 1):
        w = _hvp_from_grad(flat_grad, params, basis[-1])
        alphas.append(float(basis[-1] @ w))
        V = torch.stack(basis, dim=1)
        for _ in range(2):  # full reorthogonalisation, twice is enough
            w = w - V @ (V.T @ w)
        beta = float(torch.linalg.vector_norm(w))
        T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        vals, vecs = np.linalg.eigh(T)
        theta, s = float(vals[-1]), vecs[:, -1]
        residual = beta * abs(float(s[-1]))
        ritz = V @ torch.as_tensor(s, dtype=V.dtype, device=V.device)
        ritz = ritz / torch.linalg.vector_norm(ritz)
        exhausted = beta <= 1e-12 * max(abs(theta), 1e-300)
        if exhausted or (j >= min_iters and residual <= tol * abs(theta)):
            return theta, ritz, j
        betas.append(beta)
        basis.append(w / beta)
    return theta, ritz, iters


def dense_hessian(loss_fn: Callable[[], torch.Tensor], params) -> torch.Tensor:
    """The full Hessian, one Hessian-vector product per column (for small models and tests).

    Raises:
        TypeError, ValueError: bad arguments.
    """
    loss_fn = _validate.callable_("loss_fn", loss_fn)
    params = _params(params)
    n = sum(p.numel() for p in params)
    flat_grad = _flat_grad(loss_fn, params)
    eye = torch.eye(n, dtype=params[0].dtype, device=params[0].device)
    return torch.stack([_hvp_from_grad(flat_grad, params, eye[j]) for j in range(n)], dim=1)


def squared_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    r"""Half the squared distance to the one-hot labels, averaged over examples.

    :math:`\frac1{2n}\sum_i \|z^{(i)} - e_{y^{(i)}}\|^2` (the loss Cohen et al. use for most of
    their figures).

    Raises:
        ValueError: shapes that do not match, or labels out of range.
    """
    _validate.tensor("logits", logits, ndim=2)
    _validate.tensor("labels", labels, ndim=1, floating=False)
    if labels.is_floating_point():
        raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if logits.ndim != 2 or labels.ndim != 1 or len(labels) != len(logits) or len(labels) == 0:
        raise ValueError(
            f"logits (n, C) and labels (n,) expected, got {tuple(logits.shape)} "
            f"and {tuple(labels.shape)}"
        )
    if int(labels.min()) < 0 or int(labels.max()) >= logits.shape[1]:
        raise ValueError("labels must lie in [0, number of classes)")
    target = nn.functional.one_hot(labels, logits.shape[1]).to(logits.dtype)
    return 0.5 * ((logits - target) ** 2).sum(dim=1).mean()


@dataclass(frozen=True)
class SharpnessRun:
    r"""A full-batch GD run: ``losses[k]`` after ``k`` steps, ``sharpness[j]`` at step ``at[j]``.

    ``products[j]`` is the number of Hessian-vector products that measurement used and
    ``residuals[j]`` the relative residual :math:`\|Hv-\theta v\|/|\theta|` of the returned pair,
    recomputed with one more product (so it does not rely on the Lanczos recurrence).
    ``diverged`` says whether the run was stopped because a loss or a parameter became
    non-finite or exceeded :data:`sgdbook.divergence.DIVERGENCE_THRESHOLD`.
    """

    lr: float
    losses: np.ndarray
    at: np.ndarray
    sharpness: np.ndarray
    accuracy: float
    diverged: bool
    message: str
    products: np.ndarray
    residuals: np.ndarray

    def status(self) -> str:
        """A one-line Chinese summary."""
        return self.message


def gd_with_sharpness(
    data: DigitsData,
    lr: float,
    steps: int,
    *,
    every: int = 20,
    n_train: int | None = None,
    hidden: int = 32,
    seed: int = 0,
    max_products: int = 200,
    tol: float = 1e-3,
    method: str = "lanczos",
    min_iters: int = 8,
) -> SharpnessRun:
    r"""Full-batch GD on :func:`squared_loss` of a fresh ``make_mlp(hidden=hidden, seed=seed)``.

    The first ``n_train`` training examples of ``data`` (all when ``None``) form the batch. Every
    ``every`` steps (and at the start and the end) the sharpness is estimated with
    :func:`top_hessian_eigenvalue` (Lanczos by default, stopped when the relative residual
    :math:`\|Hv-\theta v\|/|\theta|` is at most ``tol``), warm-started from the previous
    eigenvector; ``min_iters`` Lanczos steps at least, so that an eigenvalue that has overtaken
    the previous top one since the last measurement is found.

    Args:
        data: the digits splits (:func:`sgdbook.problems.training.load_digits_data`).
        lr: step size :math:`\eta > 0`.
        steps: number of GD steps (>= 1).
        every: sharpness every this many steps (>= 1).
        n_train: number of training examples used (>= 1), or ``None``.
        hidden: width of the hidden layer.
        seed: seed of the initialisation.
        max_products, tol, method, min_iters: passed to :func:`top_hessian_eigenvalue`
            (``max_products`` as ``iters``).

    Returns:
        A :class:`SharpnessRun`; ``accuracy`` is the final training accuracy on the batch.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    from ..problems.training import DigitsData

    _validate.instance("data", data, DigitsData)
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=1)
    max_products = _validate.integer("max_products", max_products, minimum=1)
    min_iters = _validate.integer("min_iters", min_iters, minimum=1)
    tol = _validate.positive("tol", tol)
    method = _check_method(method)
    every = _validate.integer("every", every, minimum=1)
    n_all = len(data.y_train)
    n_train = n_all if n_train is None else _validate.integer("n_train", n_train, minimum=1)
    if n_train > n_all:
        raise ValueError(f"n_train must be at most {n_all}, got {n_train}")
    X, y = data.X_train[:n_train], data.y_train[:n_train]
    with _one_thread_on_cpu(X.device):
        model = make_mlp(hidden=hidden, seed=seed, device=X.device)
        params = list(model.parameters())

        def loss_fn():
            return squared_loss(model(X), y)

        losses = np.full(steps + 1, np.nan)
        at, sharp, products, residuals = [], [], [], []
        v = None
        diverged = False
        message = f"运行 {steps} 步"
        for k in range(steps + 1):
            if k % every == 0 or k == steps:
                lam, v, used = top_hessian_eigenvalue(
                    loss_fn,
                    params,
                    iters=max_products,
                    tol=tol,
                    v0=v,
                    seed=seed,
                    method=method,
                    min_iters=min(min_iters, max_products),
                )
                at.append(k)
                sharp.append(lam)
                products.append(used)
                hv = hessian_vector_product(loss_fn, params, v)
                residuals.append(float(torch.linalg.vector_norm(hv - lam * v)) / abs(lam))
            loss = loss_fn()
            losses[k] = float(loss.detach())
            biggest = max(float(p.detach().abs().max()) for p in params)
            if not (abs(losses[k]) <= DIVERGENCE_THRESHOLD and biggest <= DIVERGENCE_THRESHOLD):
                diverged = True
                message = divergence_message(k, [biggest], losses[k])
                losses = losses[: k + 1]
                break
            if k == steps:
                break
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p -= lr * g
        with torch.no_grad():
            accuracy = float((model(X).argmax(dim=1) == y).float().mean())
    if not diverged:
        message = f"运行 {steps} 步，最终损失 {losses[-1]:.4g}，训练准确率 {accuracy:.3f}"
    return SharpnessRun(
        lr,
        losses,
        np.array(at),
        np.array(sharp),
        accuracy,
        diverged,
        message,
        np.array(products),
        np.array(residuals),
    )
