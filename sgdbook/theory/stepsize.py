"""Chapter 2 (:doc:`/learning-rate`): the stability threshold, the rate theory on quadratics,
backtracking line search.

The functions here support chapter 2 (:ref:`ch-lr`):

* :func:`contraction_factor`, :func:`stability_threshold`, :func:`optimal_step`,
  :func:`optimal_rate` and :func:`predicted_iterations` state what the eigenvalues of a
  quadratic's Hessian predict about constant-step gradient descent;
* :func:`iterations_to_tolerance` measures the same thing by running gradient descent for many
  step sizes at once;
* :func:`bisect_threshold` locates the stability edge from measured behaviour only;
* :func:`backtracking_gd` is gradient descent with Armijo's backtracking line search;
* :func:`per_example_regression` and :func:`per_example_sgd` are the linear-regression experiment
  in which full-batch gradient descent is stable while per-example updates with the same step
  blow up; :func:`mean_square_factor` (the growth of the mean squared error),
  :func:`lyapunov_exponent` (the growth rate of single runs) and :func:`divergence_updates`
  (when runs blow up) tell the two notions of instability apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import validation as _validate
from ..problems.objectives import Objective, Quadratic
from .gd import DIVERGENCE_THRESHOLD

__all__ = [
    "contraction_factor",
    "stability_threshold",
    "optimal_step",
    "optimal_rate",
    "predicted_iterations",
    "iterations_to_tolerance",
    "bisect_threshold",
    "BacktrackingResult",
    "armijo_step",
    "backtracking_gd",
    "armijo_lower_bound",
    "RegressionData",
    "epoch_end_msd",
    "per_example_regression",
    "PerExampleRun",
    "per_example_sgd",
    "mean_square_factor",
    "lyapunov_exponent",
    "divergence_updates",
]


def _eigs(eigenvalues) -> np.ndarray:
    lam = _validate.vector("eigenvalues", eigenvalues)
    if np.any(lam <= 0):
        raise ValueError(f"eigenvalues must be > 0, got {lam}")
    return np.sort(lam)


def contraction_factor(eigenvalues, lr: float) -> float:
    r"""The factor :math:`\rho(\eta) = \max_i |1 - \eta \lambda_i|` of GD on a quadratic.

    For :math:`f(x) = \tfrac12 x^\top A x - b^\top x` the error obeys
    :math:`x_k - x^\star = (I - \eta A)^k (x_0 - x^\star)`, so
    :math:`\|x_k - x^\star\|_2 \le \rho(\eta)^k \|x_0 - x^\star\|_2`, with equality when
    :math:`x_0 - x^\star` is an eigenvector of the extreme factor.

    Args:
        eigenvalues: the Hessian's eigenvalues (all > 0).
        lr: step size :math:`\eta > 0`.

    Returns:
        :math:`\rho(\eta)`; gradient descent converges from every start iff it is < 1.

    Raises:
        ValueError: an eigenvalue is not positive, or ``lr`` is not positive.
    """
    lam = _eigs(eigenvalues)
    lr = _validate.positive("lr", lr)
    return float(np.max(np.abs(1.0 - lr * lam)))


def stability_threshold(eigenvalues) -> float:
    r"""The exact stability edge :math:`2/\lambda_{\max}` of constant-step GD on a quadratic.

    Raises:
        ValueError: an eigenvalue is not positive.
    """
    return 2.0 / float(_eigs(eigenvalues)[-1])


def optimal_step(eigenvalues) -> float:
    r"""The step :math:`2/(\lambda_{\min} + \lambda_{\max})` that minimises :math:`\rho(\eta)`.

    Raises:
        ValueError: an eigenvalue is not positive.
    """
    lam = _eigs(eigenvalues)
    return 2.0 / float(lam[0] + lam[-1])


def optimal_rate(eigenvalues) -> float:
    r"""The smallest contraction factor :math:`(\kappa - 1)/(\kappa + 1)`, :math:`\kappa = \lambda_{\max}/\lambda_{\min}`.

    Raises:
        ValueError: an eigenvalue is not positive.
    """
    lam = _eigs(eigenvalues)
    kappa = float(lam[-1] / lam[0])
    return (kappa - 1.0) / (kappa + 1.0)


def predicted_iterations(eigenvalues, lrs, tol: float) -> np.ndarray:
    r"""Steps after which :math:`\rho(\eta)^k \le` ``tol``, for each step size in ``lrs``.

    This is :math:`\lceil \ln(\mathrm{tol}) / \ln \rho(\eta) \rceil`: the number of steps that
    guarantees :math:`\|x_k - x^\star\| \le \mathrm{tol}\, \|x_0 - x^\star\|` from any start.
    It is ``inf`` where :math:`\rho(\eta) \ge 1` and ``0`` where :math:`\rho(\eta) = 0`.

    Args:
        eigenvalues: the Hessian's eigenvalues (all > 0).
        lrs: step sizes (a scalar or a 1-D array, all > 0).
        tol: relative tolerance in (0, 1).

    Returns:
        A float array of the same length as ``lrs``.

    Raises:
        ValueError: bad eigenvalues, a non-positive step or ``tol`` outside (0, 1).
    """
    lam = _eigs(eigenvalues)
    lrs = _validate.vector("lrs", lrs)
    if np.any(lrs <= 0):
        raise ValueError(f"lrs must be > 0, got {lrs}")
    tol = _validate.positive("tol", tol)
    if tol >= 1:
        raise ValueError(f"tol must be < 1, got {tol!r}")
    rho = np.max(np.abs(1.0 - np.outer(lrs, lam)), axis=1)
    out = np.full(len(lrs), np.inf)
    ok = rho < 1
    with np.errstate(divide="ignore"):
        out[ok] = np.ceil(np.log(tol) / np.log(rho[ok]) - 1e-9)
    out[rho == 0] = 0.0
    return out


def iterations_to_tolerance(
    quadratic: Quadratic, x0, lrs, tol: float, max_steps: int = 100_000
) -> np.ndarray:
    r"""Run GD on ``quadratic`` for every step size in ``lrs`` and count steps to tolerance.

    The count is the first ``k`` with :math:`\|x_k - x^\star\|_2 \le` ``tol``
    :math:`\cdot \|x_0 - x^\star\|_2`. All step sizes run together (one array row each), so a
    sweep of hundreds of step sizes costs one vectorised loop.

    Args:
        quadratic: a positive definite :class:`~sgdbook.problems.objectives.Quadratic`.
        x0: starting point, different from the minimiser.
        lrs: step sizes (all > 0).
        tol: relative tolerance in (0, 1).
        max_steps: give up after this many steps.

    Returns:
        The measured counts (floats), ``inf`` where the run diverged or did not reach the
        tolerance within ``max_steps``.

    Raises:
        ValueError: ``x0`` empty, not finite, of the wrong length, or the minimiser itself;
            an entry of ``lrs`` ``<= 0`` or not finite; ``tol`` outside (0, 1);
            ``max_steps < 1``.
        TypeError: ``max_steps`` not an integer, ``tol`` not a number.
    """
    _validate.instance("quadratic", quadratic, Quadratic)
    xstar = quadratic.minimizer()
    x0 = _validate.vector("x0", x0, dim=quadratic.dim)
    lrs = _validate.vector("lrs", lrs)
    if np.any(lrs <= 0):
        raise ValueError(f"lrs must be > 0, got {lrs}")
    tol = _validate.positive("tol", tol)
    if tol >= 1:
        raise ValueError(f"tol must be < 1, got {tol!r}")
    max_steps = _validate.integer("max_steps", max_steps, minimum=1)
    e0 = x0 - xstar
    n0 = np.linalg.norm(e0)
    if n0 == 0:
        raise ValueError("x0 must differ from the minimiser")
    E = np.tile(e0, (len(lrs), 1))
    counts = np.full(len(lrs), np.inf)
    active = np.ones(len(lrs), dtype=bool)
    A = quadratic.A
    target = (tol * n0) ** 2
    blow = DIVERGENCE_THRESHOLD**2
    step = lrs[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, max_steps + 1):
            E -= step * (E @ A)
            sq = np.einsum("ij,ij->i", E, E)
            done = active & (sq <= target)
            blown = active & ~(sq <= blow)
            counts[done] = k
            E[blown] = 0.0  # frozen: no overflow from rows already judged divergent
            active &= ~(done | blown)
            if not active.any():
                break
    return counts


def bisect_threshold(
    is_stable: Callable[[float], bool], lo: float, hi: float, iters: int = 40
) -> float:
    """Bisection for the edge between stable and unstable step sizes, from behaviour only.

    Args:
        is_stable: returns True when a run with the given step size is judged stable.
        lo: a step size known to be stable.
        hi: a larger step size known to be unstable.
        iters: number of halvings of the bracket.

    Returns:
        The midpoint of the final bracket ``[lo, hi]``.

    Raises:
        ValueError: ``lo >= hi``, or the bracket is not (stable, unstable).
    """
    is_stable = _validate.callable_("is_stable", is_stable)
    lo = _validate.positive("lo", lo)
    hi = _validate.positive("hi", hi)
    iters = _validate.integer("iters", iters, minimum=1)
    if lo >= hi:
        raise ValueError(f"lo must be < hi, got lo={lo!r}, hi={hi!r}")
    if not is_stable(lo) or is_stable(hi):
        raise ValueError("the bracket must have a stable lo and an unstable hi")
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if is_stable(mid):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class BacktrackingResult:
    """A run of gradient descent with backtracking line search.

    ``xs`` and ``losses`` hold the iterates and their losses, ``steps`` the accepted step size
    of each iteration, ``grad_norms`` the gradient norm at the point where each step started,
    and ``evaluations`` the number of function values computed by each line search.
    """

    xs: np.ndarray
    losses: np.ndarray
    steps: np.ndarray
    grad_norms: np.ndarray
    evaluations: np.ndarray


def armijo_step(
    objective: Objective,
    x,
    eta0: float = 1.0,
    beta: float = 0.5,
    c: float = 1e-4,
    max_backtracks: int = 60,
) -> tuple[float, int]:
    r"""One backtracking line search along :math:`-\nabla f(x)`.

    Tries :math:`\eta = \eta_0, \beta\eta_0, \beta^2\eta_0, \dots` and accepts the first step
    with Armijo's sufficient decrease
    :math:`f(x - \eta g) \le f(x) - c\,\eta\,\|g\|^2`, :math:`g = \nabla f(x)`.

    Args:
        objective: anything with ``value`` and ``grad``.
        x: current point.
        eta0: first trial step (> 0).
        beta: shrink factor in (0, 1).
        c: sufficient-decrease constant in (0, 1).
        max_backtracks: give up after this many shrinks.

    Returns:
        ``(eta, evaluations)``: the accepted step and the number of function values computed.

    Raises:
        ValueError: ``x`` empty or not finite, ``eta0`` not finite or ``<= 0``, ``beta`` or
            ``c`` outside (0, 1), ``max_backtracks < 0``.
        TypeError: ``max_backtracks`` not an integer, ``eta0``, ``beta`` or ``c`` not a number.
        RuntimeError: no step was accepted within ``max_backtracks`` shrinks.
    """
    _validate.objective("objective", objective)
    x = _validate.vector("x", x)
    eta = _validate.positive("eta0", eta0)
    beta = _validate.unit_interval("beta", beta)
    c = _validate.unit_interval("c", c)
    if beta == 0 or c == 0:
        raise ValueError(f"beta and c must be in (0, 1), got beta={beta!r}, c={c!r}")
    max_backtracks = _validate.integer("max_backtracks", max_backtracks, minimum=0)
    return _armijo_search(objective, x, eta, beta, c, max_backtracks)


def _armijo_search(objective, x, eta, beta, c, max_backtracks):
    """The search of :func:`armijo_step` without its argument checks (chapter 2 prints it)."""
    fx = objective.value(x)
    g = objective.grad(x)
    gg = float(g @ g)
    evaluations = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max_backtracks + 1):
            evaluations += 1
            trial = objective.value(x - eta * g)
            if np.isfinite(trial) and trial <= fx - c * eta * gg:
                return eta, evaluations
            eta *= beta
    raise RuntimeError(f"no step satisfied the Armijo condition after {max_backtracks} shrinks")


def backtracking_gd(
    objective: Objective, x0, steps: int, eta0: float = 1.0, beta: float = 0.5, c: float = 1e-4
) -> BacktrackingResult:
    """Gradient descent whose step is chosen anew at every iteration by :func:`armijo_step`.

    Every search starts again from ``eta0`` (no warm start), so the accepted steps show what
    the line search finds at each point.

    Args:
        objective: anything with ``value`` and ``grad``.
        x0: starting point.
        steps: number of iterations (>= 0); the run stops early at a zero gradient.
        eta0: first trial step of each search.
        beta: shrink factor in (0, 1).
        c: sufficient-decrease constant in (0, 1).

    Returns:
        The :class:`BacktrackingResult`.

    Raises:
        ValueError: ``x0`` empty or not finite, or ``steps < 0``; and as :func:`armijo_step`
            for ``eta0``, ``beta`` and ``c`` (checked when the first step is searched).
        TypeError: ``steps`` not an integer.
    """
    _validate.objective("objective", objective)
    x = _validate.vector("x0", x0)
    steps = _validate.integer("steps", steps, minimum=0)
    xs, losses = [x.copy()], [objective.value(x)]
    etas, gnorms, evals = [], [], []
    for _ in range(steps):
        g = objective.grad(x)
        gn = float(np.linalg.norm(g))
        if gn == 0.0:
            break
        eta, n_eval = armijo_step(objective, x, eta0, beta, c)
        x = x - eta * g
        xs.append(x.copy())
        losses.append(objective.value(x))
        etas.append(eta)
        gnorms.append(gn)
        evals.append(n_eval)
    return BacktrackingResult(
        np.array(xs), np.array(losses), np.array(etas), np.array(gnorms), np.array(evals, dtype=int)
    )


def armijo_lower_bound(L: float, eta0: float, beta: float, c: float) -> float:
    r"""The guaranteed accepted step :math:`\min(\eta_0,\ 2\beta(1-c)/L)` for an L-smooth f.

    Raises:
        ValueError: ``L`` or ``eta0`` not finite or ``<= 0``, ``beta`` or ``c`` outside (0, 1)
            (``c = 0`` accepts any step that does not increase f, so it guarantees nothing).
        TypeError: an argument is not a number.
    """
    L = _validate.positive("L", L)
    eta0 = _validate.positive("eta0", eta0)
    beta = _validate.open_unit_interval("beta", beta)
    c = _validate.open_unit_interval("c", c)
    return min(eta0, 2.0 * beta * (1.0 - c) / L)


@dataclass(frozen=True)
class RegressionData:
    r"""Least squares :math:`f(w) = \frac1{2n}\sum_i (x_i^\top w - y_i)^2` on fixed data.

    ``X`` is ``(n, d)``, ``y`` has length ``n``, ``w_true`` generated the targets.
    """

    X: np.ndarray
    y: np.ndarray
    w_true: np.ndarray

    @property
    def n(self) -> int:
        """Number of examples."""
        return self.X.shape[0]

    def value(self, w) -> float:
        """The full-batch loss at ``w``."""
        r = self.X @ np.asarray(w, dtype=float) - self.y
        return float(0.5 * np.mean(r * r))

    def grad(self, w) -> np.ndarray:
        """The full-batch gradient at ``w``."""
        w = np.asarray(w, dtype=float)
        return self.X.T @ (self.X @ w - self.y) / self.n

    def hessian(self) -> np.ndarray:
        r"""The constant Hessian :math:`X^\top X / n`."""
        return self.X.T @ self.X / self.n

    def per_example_curvatures(self) -> np.ndarray:
        r"""The nonzero eigenvalue :math:`\|x_i\|^2` of each per-example Hessian :math:`x_i x_i^\top`."""
        return np.sum(self.X**2, axis=1)

    def minimizer(self) -> np.ndarray:
        """The least-squares solution."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]


def per_example_regression(
    n: int = 200, d: int = 3, noise: float = 0.1, seed: int = 0
) -> RegressionData:
    """Linear-regression data with inputs uniform in [-5, 5) and targets ``X w + noise``.

    The true weights are ``(1, 2, ..., d)``.

    Args:
        n: number of examples.
        d: number of input features.
        noise: standard deviation of the Gaussian target noise (>= 0).
        seed: seed of ``numpy.random.default_rng`` (inputs first, then noise).

    Returns:
        The :class:`RegressionData`.

    Raises:
        ValueError: ``n < 1``, ``d < 1``, ``noise`` negative or not finite, ``seed < 0``.
        TypeError: ``n``, ``d`` or ``seed`` not an integer, ``noise`` not a number.
    """
    n = _validate.integer("n", n, minimum=1)
    d = _validate.integer("d", d, minimum=1)
    noise = _validate.nonnegative("noise", noise)
    rng = np.random.default_rng(_validate.seed("seed", seed))
    X = rng.uniform(-5.0, 5.0, size=(n, d))
    w = np.arange(1.0, d + 1.0)
    y = X @ w + noise * rng.normal(size=n)
    return RegressionData(X, y, w)


@dataclass(frozen=True)
class PerExampleRun:
    """Distances ``||w_k - w*||`` of a per-example SGD run, and whether and when it blew up.

    ``distances[k]`` is the distance after ``k`` updates; ``diverged_at`` is the update at
    which the iterate exceeded the divergence threshold (``None`` when it never did).
    """

    distances: np.ndarray
    diverged_at: int | None
    lr: float
    order: str

    def status(self) -> str:
        """A one-line Chinese summary of the run."""
        if self.diverged_at is not None:
            return (
                f"发散：第 {self.diverged_at} 次更新后 |w| 超过 {DIVERGENCE_THRESHOLD:.0e}，已停止"
            )
        return f"稳定：{len(self.distances) - 1} 次更新后 ‖w−w*‖ = {self.distances[-1]:.3g}"


def per_example_sgd(
    data: RegressionData, lr: float, epochs: int, order: str = "replacement", seed: int = 0, w0=None
) -> PerExampleRun:
    r"""SGD with one example per update, :math:`w \leftarrow w - \eta\, x_i (x_i^\top w - y_i)`.

    Args:
        data: the regression problem.
        lr: step size (> 0).
        epochs: number of passes; each pass is ``n`` updates.
        order: ``"replacement"`` (each index drawn uniformly, independently), ``"shuffle"``
            (a fresh random permutation every epoch) or ``"sorted"`` (always the data order).
        seed: seed of the ``numpy.random.default_rng`` that draws the indices.
        w0: starting point; zeros when omitted.

    Returns:
        The :class:`PerExampleRun`; the run stops as soon as ``|w|`` exceeds the divergence
        threshold.

    Raises:
        ValueError: ``lr`` not finite or ``<= 0``, ``epochs < 0``, ``order`` not one of
            ``"replacement"``, ``"shuffle"``, ``"sorted"``, ``seed < 0``, or ``w0`` not finite or
            of the wrong length.
        TypeError: ``epochs`` or ``seed`` not an integer, ``lr`` not a number.
    """
    _validate.instance("data", data, RegressionData)
    lr = _validate.positive("lr", lr)
    epochs = _validate.integer("epochs", epochs, minimum=0)
    if order not in ("replacement", "shuffle", "sorted"):
        raise ValueError(f"order must be 'replacement', 'shuffle' or 'sorted', got {order!r}")
    rng = np.random.default_rng(_validate.seed("seed", seed))
    d = data.X.shape[1]
    w = np.zeros(d) if w0 is None else _validate.vector("w0", w0, dim=d)
    wstar = data.minimizer()
    n = data.n
    X, y = data.X, data.y
    W = np.empty((epochs * n + 1, d))
    W[0] = w
    k = 0
    diverged_at = None
    for _ in range(epochs):
        if order == "replacement":
            idx = rng.integers(n, size=n)
        elif order == "shuffle":
            idx = rng.permutation(n)
        else:
            idx = np.arange(n)
        for i in idx:
            xi = X[i]
            w = w - lr * (xi @ w - y[i]) * xi
            k += 1
            W[k] = w
            if not np.abs(w).max() <= DIVERGENCE_THRESHOLD:  # also catches nan
                diverged_at = k
                break
        if diverged_at is not None:
            break
    dists = np.linalg.norm(W[: k + 1] - wstar, axis=1)
    return PerExampleRun(dists, diverged_at, lr, order)


def epoch_end_msd(
    data: RegressionData, lr: float, epochs: int, order: str, seeds, burn_in: int = 0
) -> np.ndarray:
    r"""Per seed, the mean of :math:`\|w-w^\star\|^2` at the ends of epochs ``burn_in..epochs``.

    One :func:`per_example_sgd` run per seed; the squared distance is read after every full
    pass (update ``e * n`` for ``e = burn_in, ..., epochs``) and averaged, which estimates the
    stationary noise level of that sampling order. A run that diverges gives ``inf``.

    Args:
        data: the regression problem.
        lr: step size (> 0).
        epochs: number of passes (>= 1).
        order: ``"replacement"``, ``"shuffle"`` or ``"sorted"``.
        seeds: the seeds (a non-empty iterable of non-negative integers).
        burn_in: first epoch end that is averaged (``0 <= burn_in <= epochs``).

    Returns:
        An array with one value per seed.

    Raises:
        ValueError: ``epochs < 1``, ``burn_in < 0`` or ``> epochs``, ``seeds`` empty.
        TypeError: ``epochs`` or ``burn_in`` not an integer.
    """
    _validate.instance("data", data, RegressionData)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    burn_in = _validate.integer("burn_in", burn_in, minimum=0)
    if burn_in > epochs:
        raise ValueError(f"burn_in must be at most epochs={epochs}, got {burn_in}")
    seeds = _validate.seeds("seeds", seeds)
    out = np.empty(len(seeds))
    ends = np.arange(burn_in, epochs + 1) * data.n
    for j, seed in enumerate(seeds):
        run = per_example_sgd(data, lr, epochs, order, seed=seed)
        out[j] = np.inf if run.diverged_at is not None else np.mean(run.distances[ends] ** 2)
    return out


def mean_square_factor(data: RegressionData, lr: float) -> float:
    r"""Growth factor per update of :math:`\mathbb E\, e_k e_k^\top` for per-example SGD with replacement.

    Without the target noise the error :math:`e_k = w_k - w^\star` of a consistent problem obeys
    :math:`e_{k+1} = M_i e_k` with :math:`M_i = I - \eta x_i x_i^\top` and ``i`` uniform, so
    :math:`P_k = \mathbb E\, e_k e_k^\top` obeys :math:`P_{k+1} = \frac1n \sum_i M_i P_k M_i`.
    The spectral radius of that linear map, :math:`\rho(\frac1n\sum_i M_i \otimes M_i)`, is
    returned: below 1 the mean squared error of the homogeneous part decays geometrically,
    above 1 it grows geometrically (mean-square stability).

    Raises:
        ValueError: ``lr`` not positive.
    """
    _validate.instance("data", data, RegressionData)
    lr = _validate.positive("lr", lr)
    d = data.X.shape[1]
    T = np.zeros((d * d, d * d))
    for x in data.X:
        M = np.eye(d) - lr * np.outer(x, x)
        T += np.kron(M, M)
    T /= data.n
    return float(np.max(np.abs(np.linalg.eigvals(T))))


def _index_draws(n: int, updates: int, order: str, rng: np.random.Generator) -> np.ndarray:
    """``updates`` example indices in the given order (replacement, shuffle or sorted)."""
    if order == "replacement":
        return rng.integers(n, size=updates)
    epochs = -(-updates // n)
    if order == "shuffle":
        return np.concatenate([rng.permutation(n) for _ in range(epochs)])[:updates]
    return np.tile(np.arange(n), epochs)[:updates]


def _check_order(order: str) -> str:
    if order not in ("replacement", "shuffle", "sorted"):
        raise ValueError(f"order must be 'replacement', 'shuffle' or 'sorted', got {order!r}")
    return order


def lyapunov_exponent(
    data: RegressionData, lr: float, updates: int, seeds, order: str = "replacement"
) -> np.ndarray:
    r"""Per seed, an estimate of the top Lyapunov exponent of per-example SGD's linear part.

    The error of per-example SGD is :math:`e_{k+1} = M_{i_k} e_k + \eta r_{i_k} x^{(i_k)}` with
    :math:`M_i = I - \eta x^{(i)} x^{(i)\top}`. The growth rate of a *single* run is governed by
    the products :math:`M_{i_k}\cdots M_{i_1}`:
    :math:`\lambda_1 = \lim_k \frac1k \ln\|M_{i_k}\cdots M_{i_1} v\|` (almost surely, for almost
    every ``v``), that is :math:`\mathbb E \ln(\|M_i u\|/\|u\|)` along the run. It is estimated
    by pushing a unit vector through ``updates`` factors, renormalising after each, and
    averaging the logarithms of the growths. By Jensen's inequality
    :math:`\lambda_1 \le \frac12 \ln \rho_{\text{ms}}` (:func:`mean_square_factor`).

    Args:
        data: the regression problem.
        lr: step size (> 0).
        updates: number of factors per seed (>= 1).
        seeds: non-empty iterable of seeds (each also seeds the starting vector).
        order: ``"replacement"``, ``"shuffle"`` or ``"sorted"``.

    Returns:
        One estimate (per update, natural log) per seed.

    Raises:
        ValueError: bad arguments.
    """
    _validate.instance("data", data, RegressionData)
    lr = _validate.positive("lr", lr)
    updates = _validate.integer("updates", updates, minimum=1)
    order = _check_order(order)
    seeds = _validate.seeds("seeds", seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    n, d = data.X.shape
    S = len(seeds)
    rngs = [np.random.default_rng(s) for s in seeds]
    idx = np.stack([_index_draws(n, updates, order, r) for r in rngs], axis=1)  # (updates, S)
    U = np.stack([r.normal(size=d) for r in rngs])
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    total = np.zeros(S)
    X = data.X
    for k in range(updates):
        xi = X[idx[k]]  # (S, d)
        U = U - lr * np.einsum("sd,sd->s", xi, U)[:, None] * xi
        growth = np.linalg.norm(U, axis=1)
        total += np.log(growth)
        U /= growth[:, None]
    return total / updates


def divergence_updates(
    data: RegressionData, lr: float, epochs: int, seeds, order: str = "replacement", w0=None
) -> np.ndarray:
    """Per seed, the update at which per-example SGD from ``w0`` blew up (``inf``: never).

    The same updates as :func:`per_example_sgd` (the indices are drawn differently, all runs
    advance together), with the same divergence test: ``|w|`` above
    :data:`sgdbook.divergence.DIVERGENCE_THRESHOLD` or not finite.

    Args:
        data: the regression problem.
        lr: step size (> 0).
        epochs: passes of ``n`` updates (>= 1).
        seeds: non-empty iterable of seeds.
        order: ``"replacement"``, ``"shuffle"`` or ``"sorted"``.
        w0: the common start (zeros when omitted).

    Returns:
        A float array, one entry per seed.

    Raises:
        ValueError: bad arguments.
    """
    _validate.instance("data", data, RegressionData)
    lr = _validate.positive("lr", lr)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    order = _check_order(order)
    seeds = _validate.seeds("seeds", seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    n, d = data.X.shape
    updates = epochs * n
    idx = np.stack(
        [_index_draws(n, updates, order, np.random.default_rng(s)) for s in seeds], axis=1
    )
    start = np.zeros(d) if w0 is None else _validate.vector("w0", w0, dim=d)
    W = np.tile(start, (len(seeds), 1))
    out = np.full(len(seeds), np.inf)
    alive = np.ones(len(seeds), dtype=bool)
    X, y = data.X, data.y
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(updates):
            i = idx[k]
            xi = X[i]
            W = W - lr * (np.einsum("sd,sd->s", xi, W) - y[i])[:, None] * xi
            blown = alive & ~(np.abs(W).max(axis=1) <= DIVERGENCE_THRESHOLD)
            if blown.any():
                out[blown] = k + 1
                W[blown] = 0.0
                alive &= ~blown
                if not alive.any():
                    break
    return out
