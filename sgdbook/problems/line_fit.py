"""Chapter 2 (:doc:`/learning-rate`): fitting a line with batch GD and with per-example SGD, in torch.

This reproduces a well-known PyTorch tutorial on its own terms: 100 sorted inputs
``X = torch.arange(-5, 5, 0.1)`` as a column, targets ``Y = -5 X + 0.4 * noise``, the model
``w * x + b``, the loss ``torch.mean((y_pred - y) ** 2)`` (no factor one half), the start
``w = -10``, ``b = -20``, the step 0.1 and 20 epochs; batch GD uses all points per update, SGD one
example per update in the stored (sorted) order, and the loss is recorded on all points at the
start of every epoch, as the tutorial does.

* :func:`tutorial_data` builds the data (seeded);
* :func:`batch_gd` and :func:`per_example` run the two loops (per example: plain SGD, or torch's
  Adam, in the sorted order or reshuffled every epoch) and stop a run that blows up, reported
  with :func:`sgdbook.theory.gd.divergence_message`;
* :func:`per_example_curvatures`, :func:`full_batch_hessian` and :func:`cyclic_epoch_factor`
  are the numbers that explain the runs: the Hessian of ``(w x + b - y)^2`` is
  ``2 [[x^2, x], [x, 1]]`` with nonzero eigenvalue ``2 (x^2 + 1)``; the spectral radius of the
  product of one epoch's update matrices decides whether the sorted per-example run converges.
* :func:`sorted_epoch_map` and :func:`sorted_cycle` write one sorted epoch as the affine map
  ``e -> P e + c`` of the error ``e = (w, b) - (w*, b*)`` and follow its periodic orbit: the
  term ``c`` collects the residuals of the least-squares fit, each amplified by the maps that
  follow it in the pass; :func:`shuffled_epoch_factors` draws the spectral radius of the epoch
  product for random permutations.
* :func:`sorted_epoch_losses` predicts the tutorial's epoch-start losses from that map (the run
  it predicts is :func:`per_example` with ``stop=False``); :func:`sorted_contraction_edge` and
  :func:`sorted_orbit_edge` find by bisection the step where the spectral radius of ``P`` reaches 1 and where
  the periodic orbit first reaches the divergence threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import validation as _validate
from ..theory.gd import DIVERGENCE_THRESHOLD, divergence_message
from ..theory.stepsize import bisect_threshold

__all__ = [
    "tutorial_data",
    "per_example_curvatures",
    "full_batch_hessian",
    "cyclic_epoch_factor",
    "epoch_transient_gain",
    "least_squares",
    "sorted_epoch_map",
    "sorted_cycle",
    "epoch_drive_terms",
    "shuffled_epoch_factors",
    "sorted_epoch_losses",
    "sorted_contraction_edge",
    "sorted_orbit_edge",
    "LineFitRun",
    "batch_gd",
    "per_example",
]


def tutorial_data(seed: int = 42) -> tuple[torch.Tensor, torch.Tensor]:
    """``X = arange(-5, 5, 0.1)`` as a ``(100, 1)`` column and ``Y = -5 X + 0.4 N(0, 1)`` (float32).

    The noise is drawn with ``torch.randn`` after ``torch.manual_seed(seed)``, inside
    :func:`torch.random.fork_rng`: the numbers are those of a global reseed, but torch's global
    generator is left as it was (no side effect on the caller's random state).

    Raises:
        TypeError, ValueError: ``seed`` not a non-negative integer.
    """
    seed = _validate.seed("seed", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        X = torch.arange(-5, 5, 0.1).view(-1, 1)
        Y = -5 * X + 0.4 * torch.randn(X.size())
    return X, Y


def _column(name: str, X) -> np.ndarray:
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    x = _validate.array(name, X).reshape(-1)
    return _validate.vector(name, x)


def per_example_curvatures(X) -> np.ndarray:
    r"""The nonzero Hessian eigenvalue :math:`2(x_i^2 + 1)` of each loss :math:`(w x_i + b - y_i)^2`.

    Raises:
        TypeError, ValueError: ``X`` empty or not finite.
    """
    x = _column("X", X)
    return 2.0 * (x * x + 1.0)


def full_batch_hessian(X) -> np.ndarray:
    r"""The Hessian :math:`2\begin{pmatrix}\overline{x^2} & \bar x\\ \bar x & 1\end{pmatrix}` of the mean loss.

    Raises:
        TypeError, ValueError: ``X`` empty or not finite.
    """
    x = _column("X", X)
    return 2.0 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])


def cyclic_epoch_factor(X, lr: float) -> float:
    r"""Spectral radius of :math:`M_n \cdots M_1`, :math:`M_i = I - 2\eta\, a_i a_i^\top`, :math:`a_i = (x_i, 1)`.

    Per-example SGD in a fixed order is, per epoch, the affine map
    :math:`e \mapsto M_n\cdots M_1 e + c`; it converges (to a fixed point of the epoch map, a
    cycle of ``n`` points near the least-squares solution) from every start iff this radius is
    below 1.

    Raises:
        TypeError, ValueError: bad ``X`` or ``lr``.
    """
    x = _column("X", X)
    lr = _validate.positive("lr", lr)
    P = np.eye(2)
    for xi in x:
        a = np.array([xi, 1.0])
        P = (np.eye(2) - 2.0 * lr * np.outer(a, a)) @ P
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.max(np.abs(np.linalg.eigvals(P))))


def epoch_transient_gain(X, lr: float) -> float:
    r"""The largest :math:`\|M_j \cdots M_1\|_2`, :math:`j = 1, \dots, n`: growth inside one sorted epoch.

    An error at the start of an epoch can be amplified by this factor before the epoch ends,
    even when the whole epoch's product contracts (:func:`cyclic_epoch_factor` below 1).

    Raises:
        TypeError, ValueError: bad ``X`` or ``lr``.
    """
    x = _column("X", X)
    lr = _validate.positive("lr", lr)
    P = np.eye(2)
    gain = 0.0
    for xi in x:
        a = np.array([xi, 1.0])
        P = (np.eye(2) - 2.0 * lr * np.outer(a, a)) @ P
        gain = max(gain, float(np.linalg.norm(P, 2)))
    return gain


def _design(X) -> np.ndarray:
    x = _column("X", X)
    return np.column_stack([x, np.ones_like(x)])


def least_squares(X, Y) -> np.ndarray:
    """The least-squares ``(w*, b*)`` of ``w x + b`` on the data (float64).

    Raises:
        TypeError, ValueError: ``X``, ``Y`` empty, not finite or of different lengths.
    """
    A = _design(X)
    y = _column("Y", Y)
    if len(y) != len(A):
        raise ValueError(f"X and Y must have the same length, got {len(A)} and {len(y)}")
    return np.linalg.lstsq(A, y, rcond=None)[0]


def sorted_epoch_map(X, Y, lr: float) -> tuple[np.ndarray, np.ndarray]:
    r"""One epoch of per-example SGD in the stored order as the affine map :math:`e \mapsto Pe + c`.

    With :math:`e = (w, b) - (w^\ast, b^\ast)` and the residual :math:`r_i = y_i - a_i^\top
    (w^\ast, b^\ast)` of the least-squares fit, the update on :math:`(w x_i + b - y_i)^2` is
    :math:`e \leftarrow M_i e + 2\eta\, r_i a_i`, :math:`M_i = I - 2\eta\, a_i a_i^\top`, so
    :math:`P = M_n\cdots M_1` and :math:`c = \sum_i (M_n\cdots M_{i+1})\, 2\eta\, r_i a_i`: every
    residual is multiplied by the maps that follow it in the pass. Computed in float64.

    Returns:
        ``(P, c)``.

    Raises:
        TypeError, ValueError: bad ``X``, ``Y`` or ``lr``.
    """
    lr = _validate.positive("lr", lr)
    A = _design(X)
    r = _column("Y", Y) - A @ least_squares(X, Y)
    P, c = np.eye(2), np.zeros(2)
    for a, ri in zip(A, r):
        M = np.eye(2) - 2.0 * lr * np.outer(a, a)
        P, c = M @ P, M @ c + 2.0 * lr * ri * a
    return P, c


def sorted_cycle(X, Y, lr: float) -> np.ndarray:
    r"""Distances :math:`\|e\|` along the periodic orbit of sorted per-example SGD (float64).

    When the epoch map :math:`e\mapsto Pe+c` (:func:`sorted_epoch_map`) contracts
    (:math:`\rho(P)<1`), the errors at the epoch boundaries converge to its fixed point
    :math:`e^\ast = (I-P)^{-1}c` from every start, and the run converges to the ``n``-periodic
    orbit through it. Entry ``j`` is the distance after ``j`` updates of a pass started at
    :math:`e^\ast` (entries ``0`` and ``n`` are both :math:`\|e^\ast\|`).

    Raises:
        TypeError, ValueError: bad arguments, or :math:`\rho(P) \ge 1` (no attracting orbit).
    """
    P, c = sorted_epoch_map(X, Y, lr)
    if np.max(np.abs(np.linalg.eigvals(P))) >= 1.0:
        raise ValueError(f"the sorted epoch map does not contract at lr={lr}: no attracting cycle")
    A = _design(X)
    r = _column("Y", Y) - A @ least_squares(X, Y)
    e = np.linalg.solve(np.eye(2) - P, c)
    out = [np.linalg.norm(e)]
    for a, ri in zip(A, r):
        e = e - 2.0 * lr * (a @ e) * a + 2.0 * lr * ri * a
        out.append(np.linalg.norm(e))
    return np.array(out)


def epoch_drive_terms(X, Y, lr: float) -> np.ndarray:
    r"""The terms :math:`(M_n\cdots M_{i+1})\,2\eta\, r_i a_i` of :func:`sorted_epoch_map`'s ``c``, one row per example.

    Row ``i`` is what the residual of example ``i`` contributes to the error at the end of a
    sorted pass, after the maps that follow it; the rows sum to ``c``. Computed in float64.

    Raises:
        TypeError, ValueError: bad ``X``, ``Y`` or ``lr``.
    """
    lr = _validate.positive("lr", lr)
    A = _design(X)
    r = _column("Y", Y) - A @ least_squares(X, Y)
    out = np.empty_like(A)
    T = np.eye(2)  # the product of the maps after example i, built from the end
    for i in range(len(A) - 1, -1, -1):
        out[i] = T @ (2.0 * lr * r[i] * A[i])
        T = T @ (np.eye(2) - 2.0 * lr * np.outer(A[i], A[i]))
    return out


def shuffled_epoch_factors(X, lr: float, permutations: int, seed: int = 0) -> np.ndarray:
    r"""The spectral radius :math:`\rho(M_{\pi(n)}\cdots M_{\pi(1)})` for random permutations :math:`\pi`.

    One value per permutation (drawn by ``numpy.random.default_rng(seed)``). Per-example SGD
    reshuffled every epoch multiplies one such independent product per epoch; the mean of
    :math:`\ln\rho/n` over permutations approximates the top Lyapunov exponent per update.

    Raises:
        TypeError, ValueError: bad ``X``, ``lr``, ``permutations`` (>= 1) or ``seed``.
    """
    lr = _validate.positive("lr", lr)
    permutations = _validate.integer("permutations", permutations, minimum=1)
    rng = np.random.default_rng(_validate.seed("seed", seed))
    A = _design(X)
    Ms = np.eye(2)[None] - 2.0 * lr * np.einsum("ni,nj->nij", A, A)
    out = np.empty(permutations)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(permutations):
            Q = np.eye(2)
            for i in rng.permutation(len(A)):
                Q = Ms[i] @ Q
            out[t] = np.max(np.abs(np.linalg.eigvals(Q)))
    return out


@dataclass(frozen=True)
class LineFitRun:
    """One run: ``losses[e]`` is the mean loss on all points at the start of epoch ``e``.

    ``w`` and ``b`` hold the parameters after every update (index 0: the start);
    ``diverged_at`` is the update at which ``|w|`` or ``|b|`` exceeded
    :data:`sgdbook.divergence.DIVERGENCE_THRESHOLD` or became non-finite (``None``: never).
    """

    losses: np.ndarray
    w: np.ndarray
    b: np.ndarray
    diverged_at: int | None
    message: str

    def status(self) -> str:
        """A one-line Chinese summary."""
        return self.message


def _check(X, Y, lr, epochs):
    if not isinstance(X, torch.Tensor) or not isinstance(Y, torch.Tensor):
        raise TypeError("X and Y must be torch tensors")
    if X.ndim != 2 or X.shape[1] != 1 or X.shape != Y.shape or len(X) == 0:
        raise ValueError(
            f"X and Y must both have shape (n, 1), n >= 1; got {tuple(X.shape)}, {tuple(Y.shape)}"
        )
    if not (bool(torch.isfinite(X).all()) and bool(torch.isfinite(Y).all())):
        raise ValueError("X and Y must be finite")
    return _validate.positive("lr", lr), _validate.integer("epochs", epochs, minimum=1)


def _params(w0, b0):
    w0 = _validate.real("w0", w0)
    b0 = _validate.real("b0", b0)
    return torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)


def _mean_loss(w, b, X, Y) -> float:
    with torch.no_grad():
        return float(torch.mean((w * X + b - Y) ** 2))


def _finish(losses, ws, bs, diverged_at, what):
    if diverged_at is not None:
        message = divergence_message(diverged_at, [ws[-1], bs[-1]]).replace("步", f"次{what}", 1)
    else:
        message = (
            f"{len(ws) - 1} 次{what}后 w = {ws[-1]:.4f}，b = {bs[-1]:.4f}，损失 {losses[-1]:.4g}"
        )
    return LineFitRun(np.array(losses), np.array(ws), np.array(bs), diverged_at, message)


def _blown(w, b) -> bool:
    return not (
        abs(float(w.detach())) <= DIVERGENCE_THRESHOLD
        and abs(float(b.detach())) <= DIVERGENCE_THRESHOLD
    )


def batch_gd(
    X: torch.Tensor,
    Y: torch.Tensor,
    lr: float = 0.1,
    epochs: int = 20,
    w0: float = -10.0,
    b0: float = -20.0,
) -> LineFitRun:
    """The tutorial's batch loop: one update per epoch on ``torch.mean((w X + b - Y) ** 2)``.

    ``losses`` has ``epochs`` entries, each the loss before that epoch's update.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    lr, epochs = _check(X, Y, lr, epochs)
    w, b = _params(w0, b0)
    losses, ws, bs = [], [float(w.detach())], [float(b.detach())]
    for _ in range(epochs):
        loss = torch.mean((w * X + b - Y) ** 2)
        losses.append(float(loss.detach()))
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        ws.append(float(w.detach()))
        bs.append(float(b.detach()))
        if _blown(w, b):
            return _finish(losses, ws, bs, len(ws) - 1, "更新")
    return _finish(losses, ws, bs, None, "更新")


def per_example(
    X: torch.Tensor,
    Y: torch.Tensor,
    lr: float = 0.1,
    epochs: int = 20,
    *,
    order: str = "sorted",
    optimizer: str = "sgd",
    seed: int = 0,
    w0: float = -10.0,
    b0: float = -20.0,
    stop: bool = True,
) -> LineFitRun:
    """The tutorial's SGD loop: one update per example, ``loss = torch.mean((w x + b - y) ** 2)``.

    Args:
        X, Y: ``(n, 1)`` tensors.
        lr: step size (> 0).
        epochs: passes over the data (>= 1).
        order: ``"sorted"`` (the stored order, as in the tutorial) or ``"shuffle"`` (a fresh
            permutation every epoch, drawn by a ``torch.Generator`` seeded with ``seed``).
        optimizer: ``"sgd"`` (``w -= lr * w.grad``, as in the tutorial) or ``"adam"``
            (``torch.optim.Adam([w, b], lr=lr)`` with its default betas and eps).
        seed: seed of the shuffling.
        w0, b0: the start.
        stop: stop the run when ``|w|`` or ``|b|`` exceeds the divergence threshold (the book's
            rule); ``False`` runs all epochs, exactly the tutorial's loop, and then
            ``diverged_at`` is the first update beyond the threshold, if any.

    Returns:
        A :class:`LineFitRun`; the loss is recorded on all points at the start of every epoch.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    lr, epochs = _check(X, Y, lr, epochs)
    if order not in ("sorted", "shuffle"):
        raise ValueError(f"order must be 'sorted' or 'shuffle', got {order!r}")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    gen = torch.Generator().manual_seed(_validate.seed("seed", seed))
    if not isinstance(stop, bool):
        raise TypeError(f"stop must be a bool, got {type(stop).__name__}")
    w, b = _params(w0, b0)
    first_blown = None
    adam = torch.optim.Adam([w, b], lr=lr) if optimizer == "adam" else None
    losses, ws, bs = [], [float(w.detach())], [float(b.detach())]
    n = len(X)
    for _ in range(epochs):
        losses.append(_mean_loss(w, b, X, Y))
        idx = torch.randperm(n, generator=gen) if order == "shuffle" else torch.arange(n)
        for i in idx:
            x, y = X[i], Y[i]
            loss = torch.mean((w * x + b - y) ** 2)
            loss.backward()
            if adam is not None:
                adam.step()
                adam.zero_grad()
            else:
                with torch.no_grad():
                    w -= lr * w.grad
                    b -= lr * b.grad
                w.grad.zero_()
                b.grad.zero_()
            ws.append(float(w.detach()))
            bs.append(float(b.detach()))
            if _blown(w, b):
                if stop:
                    return _finish(losses, ws, bs, len(ws) - 1, "更新")
                if first_blown is None:
                    first_blown = len(ws) - 1
    run = _finish(losses, ws, bs, None, "更新")
    if first_blown is not None:  # not stopped: report the crossing, keep the whole run
        run = LineFitRun(
            run.losses,
            run.w,
            run.b,
            first_blown,
            run.message + f"（第 {first_blown} 次更新首次越过 {DIVERGENCE_THRESHOLD:.0e}，未停止）",
        )
    return run


def sorted_epoch_losses(
    X, Y, lr: float, epochs: int, w0: float = -10.0, b0: float = -20.0
) -> np.ndarray:
    r"""The mean losses at the start of epochs ``0 .. epochs`` predicted by the sorted epoch map.

    The error at the start of epoch ``k + 1`` is :math:`e_{k+1} = P e_k + c`
    (:func:`sorted_epoch_map`, float64) from :math:`e_0 = (w_0, b_0) - (w^\ast, b^\ast)`, and the
    mean loss :math:`\frac1n\sum_i (a_i^\top(w,b) - y_i)^2` at :math:`(w^\ast,b^\ast)+e` is
    :math:`\ell^\ast + e^\top (A^\top A/n)\, e` with :math:`\ell^\ast` the least-squares loss.
    When :math:`\rho(P) < 1` the last entries approach the loss at the fixed point
    :math:`e^\ast = (I-P)^{-1}c`, the epoch-start point of the periodic orbit.

    Returns:
        ``epochs + 1`` losses (entry 0: the start).

    Raises:
        TypeError, ValueError: bad ``X``, ``Y``, ``lr``, ``epochs`` (>= 0), ``w0`` or ``b0``.
    """
    epochs = _validate.integer("epochs", epochs, minimum=0)
    start = np.array([_validate.real("w0", w0), _validate.real("b0", b0)])
    P, c = sorted_epoch_map(X, Y, lr)
    A = _design(X)
    y = _column("Y", Y)
    wb = least_squares(X, Y)
    loss_ls = float(np.mean((A @ wb - y) ** 2))
    G = A.T @ A / len(A)
    e = start - wb
    out = [loss_ls + e @ G @ e]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            e = P @ e + c
            out.append(loss_ls + e @ G @ e)
    return np.array(out)


def sorted_contraction_edge(X, lo: float, hi: float, iters: int = 40) -> float:
    r"""The step where the sorted epoch product's spectral radius :math:`\rho(P)` reaches 1 (bisection).

    :func:`sorted_epoch_losses`' map forgets its start iff :math:`\rho(P)<1`
    (:func:`cyclic_epoch_factor`). ``lo`` must have :math:`\rho(P)<1` and ``hi``
    :math:`\rho(P)\ge1`; between them the first crossing found by halving is returned (the
    midpoint of the last bracket), so check on a grid that there is only one.

    Raises:
        TypeError, ValueError: bad ``X``, a bracket that is not (contracting, not contracting).
    """
    _column("X", X)
    return bisect_threshold(lambda lr: cyclic_epoch_factor(X, lr) < 1.0, lo, hi, iters=iters)


def sorted_orbit_edge(
    X, Y, lo: float, hi: float, threshold: float = DIVERGENCE_THRESHOLD, iters: int = 40
) -> float:
    r"""The step where the sorted periodic orbit's largest distance reaches ``threshold`` (bisection).

    Below it (and with :math:`\rho(P)<1`) the orbit of :func:`sorted_cycle` stays within
    ``threshold`` of the least-squares solution: a run that has settled on it is not stopped by
    the divergence test. A step with :math:`\rho(P)\ge1` counts as reaching the threshold.

    Raises:
        TypeError, ValueError: bad ``X``, ``Y``, ``threshold`` (> 0), or a bracket that is not
            (below, reaching).
    """
    threshold = _validate.positive("threshold", threshold)

    def below(lr: float) -> bool:
        return cyclic_epoch_factor(X, lr) < 1.0 and float(sorted_cycle(X, Y, lr).max()) < threshold

    return bisect_threshold(below, lo, hi, iters=iters)
