r"""Chapter 1 (:doc:`/gradient-descent`): convergence bounds of gradient descent, as functions the
chapter plots next to measured runs.

Notation: :math:`f` is :math:`L`-smooth (its gradient is :math:`L`-Lipschitz) and, where stated,
:math:`\mu`-strongly convex; :math:`x^*` is a minimiser, :math:`f^* = f(x^*)`, :math:`\eta` the
step size and :math:`k` the number of steps. Every bound here is proved in chapter 1 of the book
(see also Nesterov 2018, ch. 2; Bottou, Curtis and Nocedal 2018, §4):

* descent lemma: :math:`f(x - \eta g) \le f(x) - \eta(1 - L\eta/2)\|g\|^2` with
  :math:`g = \nabla f(x)` (:func:`descent_lemma_upper`, :func:`guaranteed_decrease`);
* convex, :math:`0 < \eta \le 1/L`:
  :math:`f(x_k) - f^* \le \|x_0 - x^*\|^2 / (2\eta k)` (:func:`sublinear_bound`);
* nonconvex, :math:`\eta = 1/L`: :math:`\min_{i<k}\|\nabla f(x_i)\|^2 \le 2L(f(x_0) - f_{\inf})/k`
  (:func:`nonconvex_gradient_bound`);
* :math:`\mu`-strongly convex (or only Polyak–Łojasiewicz), :math:`0 < \eta < 2/L`:
  :math:`f(x_k) - f^* \le q(\eta)^k (f(x_0) - f^*)` with
  :math:`q(\eta) = 1 - 2\mu\eta(1 - L\eta/2)` (:func:`linear_rate_factor`,
  :func:`linear_rate_bound`);
* :math:`\mu`-strongly convex, :math:`0 < \eta \le 2/(\mu + L)`:
  :math:`\|x_k - x^*\| \le (1 - 2\eta\mu L/(\mu + L))^{k/2}\|x_0 - x^*\|`, which is
  :math:`((\kappa - 1)/(\kappa + 1))^k\|x_0 - x^*\|` at :math:`\eta = 2/(\mu + L)` (Nesterov 2018,
  Thm 2.1.15; :func:`distance_rate_factor`, :func:`distance_bound`);
* where the descent stops along the negative gradient: :func:`ray_minimizer`, and where
  :math:`f` comes back to its starting value along the ray: :func:`ray_return_step`;
* quadratics: the iterates in closed form through the eigen-decomposition of the Hessian
  (:func:`quadratic_exact_iterates`, :func:`quadratic_exact_gap`, :func:`quadratic_contraction`,
  and the error's coordinates along the eigenvectors, :func:`quadratic_eigen_coordinates`);
* stopping: for :math:`\mu`-strongly convex :math:`f`,
  :math:`f(x) - f^* \le \|\nabla f(x)\|^2/(2\mu)` and :math:`\|x - x^*\| \le \|\nabla f(x)\|/\mu`
  (:func:`gap_from_gradient`, :func:`distance_from_gradient`).
"""

from __future__ import annotations

import math

import numpy as np

from .. import divergence as _divergence
from .. import validation as _validate
from ..problems.objectives import Objective, Quadratic

__all__ = [
    "descent_lemma_upper",
    "guaranteed_decrease",
    "sublinear_bound",
    "linear_rate_factor",
    "linear_rate_bound",
    "distance_rate_factor",
    "distance_bound",
    "nonconvex_gradient_bound",
    "ray_minimizer",
    "ray_return_step",
    "quadratic_eigen_coordinates",
    "steps_for_linear_rate",
    "quadratic_contraction",
    "quadratic_exact_iterates",
    "quadratic_exact_gap",
    "gap_from_gradient",
    "distance_from_gradient",
    "gradient_norms",
    "bound_holds",
]


def _steps_array(k) -> np.ndarray:
    """Validate a step count or an array of step counts (non-negative integers)."""
    arr = np.asarray(k)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"k must be an integer or an array of integers, got {k!r}")
    if np.any(arr < 0):
        raise ValueError(f"k must be >= 0, got {k!r}")
    return arr


def _step_size(lr: float | None, L: float) -> float:
    """The step size of the bounds: ``1/L`` by default, else a value in ``(0, 1/L]``."""
    if lr is None:
        return 1.0 / L
    lr = _validate.positive("lr", lr)
    if lr > 1.0 / L * (1 + 1e-12):
        raise ValueError(f"lr must be <= 1/L = {1.0 / L:g} for this bound, got {lr!r}")
    return lr


def descent_lemma_upper(value: float, grad, lr, L: float) -> np.ndarray | float:
    r"""The descent-lemma upper bound on :math:`f(x - \eta\nabla f(x))`.

    For an :math:`L`-smooth :math:`f`, :math:`f(x - \eta g) \le f(x) - \eta\|g\|^2 +
    \tfrac{L\eta^2}{2}\|g\|^2` for every :math:`\eta \ge 0`, where :math:`g = \nabla f(x)`.

    Args:
        value: :math:`f(x)`.
        grad: the gradient :math:`g` at :math:`x` (a vector).
        lr: one step size :math:`\eta \ge 0` or an array of them.
        L: the smoothness constant (> 0).

    Returns:
        The bound, a float for a scalar ``lr``, else an array shaped like ``lr``.

    Raises:
        ValueError: ``L`` not positive, a negative step size, or non-finite input.
    """
    value = _validate.real("value", value)
    g = _validate.vector("grad", grad)
    L = _validate.positive("L", L)
    eta = _validate.real_array("lr", lr)
    if not np.all(np.isfinite(eta)) or np.any(eta < 0):
        raise ValueError(f"lr must be finite and >= 0, got {lr!r}")
    g2 = float(g @ g)
    out = value - eta * g2 + 0.5 * L * eta**2 * g2
    return float(out) if out.ndim == 0 else out


def guaranteed_decrease(grad_norm, lr: float, L: float):
    r"""The decrease :math:`\eta(1 - L\eta/2)\|\nabla f(x)\|^2` that one step is sure to achieve.

    It is positive exactly when :math:`0 < \eta < 2/L`, and largest, :math:`\|g\|^2/(2L)`, at
    :math:`\eta = 1/L`.

    Args:
        grad_norm: :math:`\|\nabla f(x)\|` (a number or an array of them, >= 0).
        lr: step size :math:`\eta > 0`.
        L: smoothness constant (> 0).

    Returns:
        The guaranteed decrease, shaped like ``grad_norm``.

    Raises:
        ValueError: a negative gradient norm, or ``lr``, ``L`` not positive.
    """
    lr = _validate.positive("lr", lr)
    L = _validate.positive("L", L)
    g = _validate.real_array("grad_norm", grad_norm)
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise ValueError(f"grad_norm must be finite and >= 0, got {grad_norm!r}")
    out = lr * (1.0 - 0.5 * L * lr) * g**2
    return float(out) if out.ndim == 0 else out


def sublinear_bound(k, L: float, distance0: float, lr: float | None = None):
    r"""The :math:`O(1/k)` bound for convex :math:`L`-smooth :math:`f`.

    :math:`f(x_k) - f^* \le \dfrac{\|x_0 - x^*\|^2}{2\eta k}`, which is
    :math:`L\|x_0 - x^*\|^2/(2k)` for :math:`\eta = 1/L`.

    Args:
        k: number of steps (an integer >= 1, or an array of them).
        L: smoothness constant (> 0).
        distance0: :math:`\|x_0 - x^*\|` (>= 0).
        lr: step size in :math:`(0, 1/L]`; ``1/L`` when omitted.

    Returns:
        The bound, shaped like ``k``.

    Raises:
        ValueError: ``k < 1``, ``lr > 1/L`` (the proof needs :math:`\eta \le 1/L`), or
            another argument out of range.
    """
    k = _steps_array(k)
    if np.any(k < 1):
        raise ValueError(f"k must be >= 1 for the sublinear bound, got {k!r}")
    L = _validate.positive("L", L)
    distance0 = _validate.nonnegative("distance0", distance0)
    eta = _step_size(lr, L)
    out = distance0**2 / (2.0 * eta * k)
    return float(out) if np.ndim(out) == 0 else out


def _mu_L(L, mu) -> tuple[float, float]:
    L = _validate.positive("L", L)
    mu = _validate.positive("mu", mu)
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu!r} > L={L!r}")
    return L, mu


def linear_rate_factor(L: float, mu: float, lr: float | None = None) -> float:
    r"""The per-step factor :math:`q(\eta) = 1 - 2\mu\eta(1 - L\eta/2)` of the linear rate.

    For :math:`L`-smooth :math:`f` satisfying :math:`\|\nabla f(x)\|^2 \ge 2\mu(f(x) - f^*)`
    (the Polyak–Łojasiewicz inequality, true for every :math:`\mu`-strongly convex :math:`f`),
    the descent lemma gives :math:`f(x_{k+1}) - f^* \le q(\eta)(f(x_k) - f^*)`. It lies in
    :math:`[1 - \mu/L, 1)` for :math:`0 < \eta < 2/L`, is smallest, :math:`1 - 1/\kappa`, at
    :math:`\eta = 1/L`, and is at most :math:`1 - \eta\mu` for :math:`\eta \le 1/L`.

    Args:
        L: smoothness constant (> 0).
        mu: strong-convexity (or PL) constant, ``0 < mu <= L``.
        lr: step size in :math:`(0, 2/L)`; ``1/L`` when omitted.

    Returns:
        The factor.

    Raises:
        ValueError: ``mu > L``, ``lr >= 2/L`` or another argument out of range.
    """
    L, mu = _mu_L(L, mu)
    if lr is None:
        eta = 1.0 / L
    else:
        eta = _validate.positive("lr", lr)
        if eta >= 2.0 / L:
            raise ValueError(f"lr must be < 2/L = {2.0 / L:g} for the linear rate, got {lr!r}")
    return 1.0 - 2.0 * mu * eta * (1.0 - 0.5 * L * eta)


def linear_rate_bound(k, L: float, mu: float, gap0: float, lr: float | None = None):
    r"""The linear rate for :math:`\mu`-strongly convex (or PL), :math:`L`-smooth :math:`f`.

    :math:`f(x_k) - f^* \le q(\eta)^k\,(f(x_0) - f^*)` for :math:`0 < \eta < 2/L`, with
    :math:`q(\eta) = 1 - 2\mu\eta(1 - L\eta/2)` (:func:`linear_rate_factor`); with
    :math:`\eta = 1/L` the factor is :math:`1 - 1/\kappa`, :math:`\kappa = L/\mu`.

    Args:
        k: number of steps (integer >= 0, or an array of them).
        L: smoothness constant (> 0).
        mu: strong-convexity constant, ``0 < mu <= L``.
        gap0: :math:`f(x_0) - f^*` (>= 0).
        lr: step size in :math:`(0, 2/L)`; ``1/L`` when omitted.

    Returns:
        The bound, shaped like ``k``.

    Raises:
        ValueError: ``mu > L``, ``lr >= 2/L`` or another argument out of range.
    """
    k = _steps_array(k)
    factor = linear_rate_factor(L, mu, lr)
    gap0 = _validate.nonnegative("gap0", gap0)
    out = factor**k * gap0
    return float(out) if np.ndim(out) == 0 else out


def distance_rate_factor(L: float, mu: float, lr: float | None = None) -> float:
    r"""The per-step factor of :math:`\|x_k - x^*\|` for strongly convex :math:`f`.

    For :math:`\mu`-strongly convex, :math:`L`-smooth :math:`f` and
    :math:`0 < \eta \le 2/(\mu + L)`, :math:`\|x_{k+1} - x^*\| \le
    \sqrt{1 - 2\eta\mu L/(\mu + L)}\,\|x_k - x^*\|` (Nesterov 2018, Thm 2.1.15); at
    :math:`\eta = 2/(\mu + L)` the factor is :math:`(\kappa - 1)/(\kappa + 1)`.

    Args:
        L: smoothness constant (> 0).
        mu: strong-convexity constant, ``0 < mu <= L``.
        lr: step size in :math:`(0, 2/(\mu + L)]`; ``2/(mu + L)`` when omitted.

    Returns:
        The factor.

    Raises:
        ValueError: ``mu > L``, ``lr > 2/(mu + L)`` or another argument out of range.
    """
    L, mu = _mu_L(L, mu)
    if lr is None:
        return (L - mu) / (L + mu)
    eta = _validate.positive("lr", lr)
    if eta > 2.0 / (mu + L) * (1 + 1e-12):
        raise ValueError(f"lr must be <= 2/(mu + L) = {2.0 / (mu + L):g}, got {lr!r}")
    return math.sqrt(max(0.0, 1.0 - 2.0 * eta * mu * L / (mu + L)))


def distance_bound(k, L: float, mu: float, distance0: float, lr: float | None = None):
    r"""The bound :math:`\|x_k - x^*\| \le \rho^k\,\|x_0 - x^*\|`, :math:`\rho` from :func:`distance_rate_factor`.

    Args:
        k: number of steps (integer >= 0, or an array of them).
        L: smoothness constant (> 0).
        mu: strong-convexity constant, ``0 < mu <= L``.
        distance0: :math:`\|x_0 - x^*\|` (>= 0).
        lr: step size in :math:`(0, 2/(\mu + L)]`; ``2/(mu + L)`` when omitted.

    Returns:
        The bound, shaped like ``k``.

    Raises:
        ValueError: as :func:`distance_rate_factor`, or ``k`` negative.
    """
    k = _steps_array(k)
    rho = distance_rate_factor(L, mu, lr)
    distance0 = _validate.nonnegative("distance0", distance0)
    out = rho**k * distance0
    return float(out) if np.ndim(out) == 0 else out


def nonconvex_gradient_bound(k, L: float, gap0: float):
    r"""The bound :math:`\min_{i<k}\|\nabla f(x_i)\|^2 \le 2L(f(x_0) - f_{\inf})/k` for :math:`\eta = 1/L`.

    It needs only :math:`L`-smoothness (on a set the iterates do not leave) and a lower bound
    :math:`f_{\inf}`; no convexity.

    Args:
        k: number of steps (an integer >= 1, or an array of them).
        L: smoothness constant (> 0).
        gap0: :math:`f(x_0) - f_{\inf}` (>= 0).

    Returns:
        The bound, shaped like ``k``.

    Raises:
        ValueError: ``k < 1`` or another argument out of range.
    """
    k = _steps_array(k)
    if np.any(k < 1):
        raise ValueError(f"k must be >= 1 for the nonconvex bound, got {k!r}")
    L = _validate.positive("L", L)
    gap0 = _validate.nonnegative("gap0", gap0)
    out = 2.0 * L * gap0 / k
    return float(out) if np.ndim(out) == 0 else out


def ray_minimizer(objective: Objective, x, direction, *, tol: float = 1e-12) -> float:
    r"""A step :math:`t > 0` at which :math:`\varphi(t) = f(x + t\,d)` stops decreasing.

    :math:`\varphi'(t) = \nabla f(x + t d)^\top d` must be negative at :math:`t = 0`; the
    bracket :math:`[0, t_1]` is doubled until :math:`\varphi'(t_1) \ge 0`, then bisected on the
    sign of :math:`\varphi'`. The result is a zero of :math:`\varphi'`; for a convex :math:`f`
    it is the exact line-search step :math:`\arg\min_{t \ge 0}\varphi(t)`. For a non-convex
    :math:`f` it need not be the first such zero (the doubling may jump over one).

    Args:
        objective: anything with ``grad(x)``.
        x: the point (a vector).
        direction: the direction :math:`d` (a vector of the same length), e.g.
            :math:`-\nabla f(x)`.
        tol: relative width at which the bisection stops (> 0).

    Returns:
        The step :math:`t`.

    Raises:
        ValueError: :math:`d` is not a descent direction, or :math:`\varphi` keeps decreasing
            up to :math:`t = 2^{60}\cdot` the first trial step (no minimiser along the ray).
    """
    _validate.objective("objective", objective, methods=("grad",))
    x = _validate.vector("x", x)
    d = _validate.vector("direction", direction)
    _validate.same_shape("x", x, "direction", d)
    tol = _validate.positive("tol", tol)

    def slope(t: float) -> float:
        return float(objective.grad(x + t * d) @ d)

    if not slope(0.0) < 0:
        raise ValueError("direction must be a descent direction: grad f(x) . direction must be < 0")
    lo, hi = 0.0, 1.0 / float(np.linalg.norm(d))
    for _ in range(60):
        if slope(hi) >= 0:
            break
        lo, hi = hi, 2.0 * hi
    else:
        raise ValueError("f keeps decreasing along the ray: no minimiser found")
    while hi - lo > tol * hi:
        mid = 0.5 * (lo + hi)
        if slope(mid) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def ray_return_step(objective: Objective, x, direction, *, tol: float = 1e-12) -> float:
    r"""Where :math:`\varphi(t) = f(x + t\,d)` comes back to :math:`\varphi(0) = f(x)`.

    For a convex :math:`f` and a descent direction :math:`d`, the set
    :math:`\{t > 0 : \varphi(t) < \varphi(0)\}` is an interval :math:`(0, t_{\mathrm{ret}})` and
    this function returns :math:`t_{\mathrm{ret}} = \sup\{t > 0: \varphi(t) < \varphi(0)\}`:
    every step shorter than it lowers :math:`f`, none longer does. On a quadratic
    :math:`t_{\mathrm{ret}} = 2\|g\|^2/(g^\top A g)` for :math:`d = -g`, twice
    :func:`ray_minimizer`; along an eigenvector of the largest eigenvalue :math:`L` it is exactly
    :math:`2/L`, the step at which the descent lemma's bound returns to :math:`f(x)`.

    The bracket :math:`[0, t_1]` is doubled until :math:`\varphi(t_1) \ge \varphi(0)`, then
    bisected on the sign of :math:`\varphi(t) - \varphi(0)`. For a non-convex :math:`f` the
    result is a crossing of the level :math:`\varphi(0)`, not necessarily the supremum.

    Args:
        objective: anything with ``value(x)`` and ``grad(x)``.
        x: the point (a vector).
        direction: the direction :math:`d` (a vector of the same length), e.g.
            :math:`-\nabla f(x)`.
        tol: relative width at which the bisection stops (> 0).

    Returns:
        The step :math:`t_{\mathrm{ret}}`.

    Raises:
        ValueError: :math:`d` is not a descent direction, or :math:`\varphi` stays below
            :math:`\varphi(0)` up to :math:`t = 2^{60}\cdot` the first trial step.
    """
    _validate.objective("objective", objective)
    x = _validate.vector("x", x)
    d = _validate.vector("direction", direction)
    _validate.same_shape("x", x, "direction", d)
    tol = _validate.positive("tol", tol)
    if not float(objective.grad(x) @ d) < 0:
        raise ValueError("direction must be a descent direction: grad f(x) . direction must be < 0")
    f0 = float(objective.value(x))

    def below(t: float) -> bool:
        return float(objective.value(x + t * d)) < f0

    lo, hi = 0.0, 1.0 / float(np.linalg.norm(d))
    for _ in range(60):
        if not below(hi):
            break
        lo, hi = hi, 2.0 * hi
    else:
        raise ValueError("f stays below f(x) along the ray: it never comes back")
    while hi - lo > tol * hi:
        mid = 0.5 * (lo + hi)
        if below(mid):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def steps_for_linear_rate(L: float, mu: float, gap0: float, tol: float) -> int:
    r"""The step budget that the linear rate with :math:`\eta = 1/L` certifies.

    The smallest :math:`k` with :math:`(1 - 1/\kappa)^k\,(f(x_0) - f^*) \le` ``tol``; it is at
    most :math:`\lceil \kappa \ln((f(x_0) - f^*)/\mathrm{tol}) \rceil`.

    Args:
        L: smoothness constant (> 0).
        mu: strong-convexity constant, ``0 < mu <= L``.
        gap0: initial gap :math:`f(x_0) - f^*` (>= 0).
        tol: target gap (> 0).

    Returns:
        The number of steps (0 when ``gap0 <= tol``).

    Raises:
        ValueError: an argument out of range.
    """
    L = _validate.positive("L", L)
    mu = _validate.positive("mu", mu)
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu!r} > L={L!r}")
    gap0 = _validate.nonnegative("gap0", gap0)
    tol = _validate.positive("tol", tol)
    if gap0 <= tol:
        return 0
    if mu == L:  # one step of size 1/L lands on the minimiser
        return 1
    if not math.isfinite(math.log(tol / gap0) / math.log1p(-mu / L)):
        raise ValueError(f"mu/L = {mu / L!r} is too small: the step count overflows a float")
    k = math.ceil(math.log(tol / gap0) / math.log1p(-mu / L))
    # guard against rounding in the logarithms
    if mu / L <= 1e-8:
        # in the log domain with log1p: below the rounding unit of 1, 1 - mu/L == 1.0 and the
        # power form would never reach tol (a hang) or be off by millions of steps
        log_q, log_target = math.log1p(-mu / L), math.log(tol / gap0)
        while k * log_q > log_target:
            k += 1
        while k > 0 and (k - 1) * log_q <= log_target:
            k -= 1
        return k
    while (1 - mu / L) ** k * gap0 > tol:
        k += 1
    while k > 0 and (1 - mu / L) ** (k - 1) * gap0 <= tol:
        k -= 1
    return k


def quadratic_contraction(eigenvalues, lr: float) -> float:
    r"""The per-step contraction :math:`\max_i |1 - \eta\lambda_i|` of GD on a quadratic.

    On :math:`f(x) = \tfrac12 x^\top A x - b^\top x`, the error :math:`x_k - x^*` shrinks (in the
    worst direction) by this factor per step; GD is stable iff it is < 1.

    Args:
        eigenvalues: the eigenvalues :math:`\lambda_i` of :math:`A`.
        lr: step size (> 0).

    Returns:
        The contraction factor.

    Raises:
        ValueError: ``lr`` not positive or ``eigenvalues`` empty or non-finite.
    """
    lam = _validate.vector("eigenvalues", eigenvalues)
    lr = _validate.positive("lr", lr)
    return float(np.max(np.abs(1.0 - lr * lam)))


def _eigen_coordinates(q: Quadratic, x0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(q, Quadratic):
        raise TypeError(
            f"q must be a sgdbook.problems.objectives.Quadratic, got {type(q).__name__}"
        )
    x0 = _validate.vector("x0", x0, dim=q.dim)
    lam, Q = np.linalg.eigh(q.A)
    x_star = q.minimizer()
    c0 = Q.T @ (x0 - x_star)
    return lam, Q, x_star, c0


def quadratic_exact_iterates(
    q: Quadratic, x0, lr: float, steps: int, *, on_divergence: str = "raise"
) -> np.ndarray:
    r"""The gradient-descent iterates on a quadratic, in closed form.

    With :math:`A = Q\Lambda Q^\top`, :math:`x_k = x^* + Q(I - \eta\Lambda)^k Q^\top(x_0 - x^*)`:
    in the eigenbasis every coordinate of the error is multiplied by :math:`1 - \eta\lambda_i` per
    step, independently of the others.

    Args:
        q: a :class:`~sgdbook.problems.objectives.Quadratic` with positive-definite ``A``.
        x0: starting point (length ``q.dim``).
        lr: step size (> 0).
        steps: number of steps (>= 0).

    Returns:
        Array of shape ``(steps + 1, d)``: :math:`x_0, \dots, x_{\text{steps}}`.
        ``on_divergence="raise"`` (the default) raises
        :class:`~sgdbook.divergence.DivergenceError` when an iterate crosses
        :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD` (``lr >= 2/lambda_max``);
        ``"return"`` returns the divergent iterates (``inf`` included) without a warning.

    Raises:
        ValueError: ``A`` not positive definite or an argument out of range.
        TypeError: ``q`` is not a ``Quadratic``.
    """
    lam, Q, x_star, c0 = _eigen_coordinates(q, x0)
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=0)
    on_divergence = _divergence.on_divergence(on_divergence)
    k = np.arange(steps + 1)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        factors = (1.0 - lr * lam)[None, :] ** k  # (steps+1, d)
        out = x_star[None, :] + (factors * c0[None, :]) @ Q.T
    if on_divergence == "raise":
        _divergence.check_series("x_k", out)
    return out


def quadratic_exact_gap(
    q: Quadratic, x0, lr: float, steps: int, *, on_divergence: str = "raise"
) -> np.ndarray:
    r"""The optimality gap :math:`f(x_k) - f^*` of GD on a quadratic, in closed form.

    :math:`f(x_k) - f^* = \sum_i \tfrac{\lambda_i}{2}(1 - \eta\lambda_i)^{2k} c_i^2`, where
    :math:`c = Q^\top(x_0 - x^*)` are the coordinates of the initial error in the eigenbasis.

    Args:
        q: a :class:`~sgdbook.problems.objectives.Quadratic` with positive-definite ``A``.
        x0: starting point.
        lr: step size (> 0).
        steps: number of steps (>= 0).

    Returns:
        Array of shape ``(steps + 1,)``. ``on_divergence`` as in :func:`quadratic_exact_iterates`.

    Raises:
        ValueError: ``A`` not positive definite or an argument out of range.
        TypeError: ``q`` is not a ``Quadratic``.
    """
    lam, _, _, c0 = _eigen_coordinates(q, x0)
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=0)
    on_divergence = _divergence.on_divergence(on_divergence)
    k = np.arange(steps + 1)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        terms = 0.5 * lam[None, :] * (1.0 - lr * lam)[None, :] ** (2 * k) * c0[None, :] ** 2
        out = terms.sum(axis=1)
    if on_divergence == "raise":
        _divergence.check_series("f(x_k) - f*", out)
    return out


def quadratic_eigen_coordinates(
    q: Quadratic, x0, lr: float, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""The error of GD on a quadratic along the eigenvectors, in closed form.

    :math:`c_{k,i} = (1 - \eta\lambda_i)^k c_{0,i}` with :math:`c_k = Q^\top(x_k - x^*)` and
    :math:`A = Q\Lambda Q^\top` (eigenvalues ascending, as :func:`numpy.linalg.eigh` orders them).

    Args:
        q: a :class:`~sgdbook.problems.objectives.Quadratic` with positive-definite ``A``.
        x0: starting point.
        lr: step size (> 0).
        steps: number of steps (>= 0).

    Returns:
        ``(eigenvalues, c)``: eigenvalues of shape ``(d,)`` and ``c`` of shape ``(steps + 1, d)``.

    Raises:
        ValueError: ``A`` not positive definite or an argument out of range.
        TypeError: ``q`` is not a ``Quadratic``.
    """
    lam, _, _, c0 = _eigen_coordinates(q, x0)
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=0)
    k = np.arange(steps + 1)[:, None]
    with np.errstate(over="ignore"):
        return lam, (1.0 - lr * lam)[None, :] ** k * c0[None, :]


def gap_from_gradient(grad_norm, mu: float):
    r"""Upper bound :math:`\|\nabla f(x)\|^2 / (2\mu) \ge f(x) - f^*` for :math:`\mu`-strongly convex :math:`f`.

    Args:
        grad_norm: :math:`\|\nabla f(x)\|` (number or array, >= 0).
        mu: strong-convexity constant (> 0).

    Returns:
        The bound, shaped like ``grad_norm``.

    Raises:
        ValueError: negative gradient norm or ``mu`` not positive.
    """
    mu = _validate.positive("mu", mu)
    g = _validate.real_array("grad_norm", grad_norm)
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise ValueError(f"grad_norm must be finite and >= 0, got {grad_norm!r}")
    out = g**2 / (2.0 * mu)
    return float(out) if out.ndim == 0 else out


def distance_from_gradient(grad_norm, mu: float):
    r"""Upper bound :math:`\|\nabla f(x)\| / \mu \ge \|x - x^*\|` for :math:`\mu`-strongly convex :math:`f`.

    Args:
        grad_norm: :math:`\|\nabla f(x)\|` (number or array, >= 0).
        mu: strong-convexity constant (> 0).

    Returns:
        The bound, shaped like ``grad_norm``.

    Raises:
        ValueError: negative gradient norm or ``mu`` not positive.
    """
    mu = _validate.positive("mu", mu)
    g = _validate.real_array("grad_norm", grad_norm)
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise ValueError(f"grad_norm must be finite and >= 0, got {grad_norm!r}")
    out = g / mu
    return float(out) if out.ndim == 0 else out


def gradient_norms(objective: Objective, xs) -> np.ndarray:
    r"""The gradient norms :math:`\|\nabla f(x_k)\|` along a run (rows of ``xs``).

    Args:
        objective: anything with ``grad(x)``.
        xs: iterates, shape ``(n, d)`` (e.g. ``Trajectory.xs``).

    Returns:
        Array of shape ``(n,)``.

    Raises:
        ValueError: ``xs`` is not a non-empty two-dimensional array.
    """
    _validate.objective("objective", objective, methods=("grad",))
    xs = _validate.array("xs", xs)
    if xs.ndim != 2 or xs.shape[0] == 0:
        raise ValueError(f"xs must have shape (n, d) with n >= 1, got {xs.shape}")
    return np.array([np.linalg.norm(objective.grad(x)) for x in xs])


def bound_holds(measured, bound, *, atol: float = 1e-12, rtol: float = 1e-9) -> bool:
    r"""Whether ``bound >= measured`` holds everywhere, up to floating-point rounding.

    Elementwise :math:`\text{measured} \le \text{bound} + \text{atol} + \text{rtol}\,|\text{bound}|`;
    the tolerances only absorb rounding (a gap of ``1e-17`` measured against a bound of ``0``).

    Args:
        measured: measured values (array).
        bound: the bound, same shape (or broadcastable).
        atol: absolute tolerance (>= 0).
        rtol: relative tolerance (>= 0).

    Returns:
        ``True`` when the bound holds at every entry.

    Raises:
        ValueError: the shapes do not broadcast, or a tolerance is negative.
    """
    atol = _validate.nonnegative("atol", atol)
    rtol = _validate.nonnegative("rtol", rtol)
    m = _validate.array("measured", measured, finite=False)
    b = _validate.array("bound", bound, finite=False)
    try:
        np.broadcast_shapes(m.shape, b.shape)
    except ValueError as exc:
        raise ValueError(f"measured {m.shape} and bound {b.shape} do not broadcast") from exc
    return bool(np.all(m <= b + atol + rtol * np.abs(b)))
