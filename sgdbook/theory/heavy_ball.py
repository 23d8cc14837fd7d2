r"""Chapter 5 (:doc:`/momentum-adam`): Polyak's heavy-ball method and Nesterov's method on
quadratics, exact rates and forms.

On a quadratic whose Hessian has its eigenvalues in :math:`[\mu, L]`, the heavy-ball iteration

.. math:: x_{k+1} = x_k - \alpha \nabla f(x_k) + \beta (x_k - x_{k-1}), \qquad x_{-1} = x_0,

acts on each eigen-direction (eigenvalue :math:`\lambda`) through the :math:`2\times 2` matrix
:math:`T(\lambda) = \begin{pmatrix} 1+\beta-\alpha\lambda & -\beta \\ 1 & 0 \end{pmatrix}`; its
spectral radius is the asymptotic rate. :func:`optimal_parameters` gives Polyak's optimum
:math:`\alpha^* = 4/(\sqrt L+\sqrt\mu)^2`, :math:`\beta^* = ((\sqrt\kappa-1)/(\sqrt\kappa+1))^2`
with rate :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`; :func:`rate_grid` and :func:`measured_rate`
check it by brute force.

The iteration is exactly ``torch.optim.SGD(lr=alpha, momentum=beta)`` (see :func:`heavy_ball`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import divergence as _divergence
from .. import validation as _validate
from .gd import DIVERGENCE_THRESHOLD, Trajectory

__all__ = [
    "HeavyBallParameters",
    "optimal_parameters",
    "gd_optimal",
    "spectral_radius",
    "rate_grid",
    "measured_rate",
    "heavy_ball",
    "nesterov_sutskever",
    "iterations_to_tolerance",
    "nesterov_spectral_radius",
    "observed_rate",
]


@dataclass(frozen=True)
class HeavyBallParameters:
    """Step ``lr`` (alpha), momentum ``momentum`` (beta) and the resulting asymptotic ``rate``."""

    lr: float
    momentum: float
    rate: float


def _mu_L(mu: float, L: float) -> tuple[float, float]:
    mu = _validate.positive("mu", mu)
    L = _validate.positive("L", L)
    if L < mu:
        raise ValueError(f"L must be >= mu, got L={L!r} < mu={mu!r}")
    return mu, L


def optimal_parameters(mu: float, L: float) -> HeavyBallParameters:
    r"""Polyak's optimal heavy-ball parameters for eigenvalues in :math:`[\mu, L]`.

    Args:
        mu: smallest eigenvalue (``> 0``).
        L: largest eigenvalue (``>= mu``).

    Returns:
        :math:`\alpha^* = 4/(\sqrt L + \sqrt\mu)^2`,
        :math:`\beta^* = \big((\sqrt\kappa-1)/(\sqrt\kappa+1)\big)^2` and the rate
        :math:`\sqrt{\beta^*} = (\sqrt\kappa-1)/(\sqrt\kappa+1)`, :math:`\kappa = L/\mu`.
    """
    mu, L = _mu_L(mu, L)
    sk = math.sqrt(L / mu)
    rate = (sk - 1.0) / (sk + 1.0)
    return HeavyBallParameters(4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2, rate**2, rate)


def gd_optimal(mu: float, L: float) -> HeavyBallParameters:
    r"""Best constant step of plain gradient descent, :math:`2/(\mu+L)`, rate :math:`(\kappa-1)/(\kappa+1)`."""
    mu, L = _mu_L(mu, L)
    return HeavyBallParameters(2.0 / (mu + L), 0.0, (L - mu) / (L + mu))


def spectral_radius(lr, momentum, eigenvalues) -> np.ndarray:
    r"""Spectral radius :math:`\max_\lambda \rho(T(\lambda))` of the heavy-ball iteration.

    Args:
        lr: step :math:`\alpha` (scalar or array; broadcast with ``momentum``).
        momentum: :math:`\beta` (scalar or array).
        eigenvalues: the Hessian's eigenvalues (1-D).

    Returns:
        Array of the broadcast shape of ``lr`` and ``momentum``: the largest modulus of a root of
        :math:`z^2 - (1+\beta-\alpha\lambda) z + \beta` over the given eigenvalues.
    """
    lam = _validate.vector("eigenvalues", eigenvalues)
    a = _validate.real_array("lr", lr, minimum=0)[..., None]
    b = _validate.real_array("momentum", momentum, minimum=0)[..., None]
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("lr and momentum must be finite")
    tr = 1.0 + b - a * lam
    disc = (tr**2 - 4.0 * b).astype(complex)
    sq = np.sqrt(disc)
    r = np.maximum(np.abs((tr + sq) / 2.0), np.abs((tr - sq) / 2.0))
    return r.max(axis=-1)


def rate_grid(mu: float, L: float, lrs, momenta) -> np.ndarray:
    """:func:`spectral_radius` on the grid ``momenta x lrs`` (rows: momentum, columns: lr).

    The worst eigenvalue of a quadratic is always ``mu`` or ``L`` (the modulus is ``sqrt(beta)``
    in between or grows towards the ends), so the two extremes suffice.
    """
    mu, L = _mu_L(mu, L)
    A, B = np.meshgrid(
        _validate.real_array("lrs", lrs, minimum=0).reshape(-1),
        _validate.real_array("momenta", momenta, minimum=0).reshape(-1),
    )
    return spectral_radius(A, B, [mu, L])


def measured_rate(mu: float, L: float, lr, momentum, *, steps: int = 400) -> np.ndarray:
    r"""Rate per step actually observed when running heavy ball on :math:`\mathrm{diag}(\mu, L)`.

    Runs the iteration from :math:`x_0 = x_{-1} = (1, 1)` for ``steps`` steps, renormalising the
    state each step (the iteration is linear) so nothing overflows, and returns
    :math:`(\|z_N\| / \|z_{N/2}\|)^{2/N}` where :math:`z_k = (x_k, x_{k-1})`. Vectorised over
    array-valued ``lr`` and ``momentum``.

    Returns:
        Array of the broadcast shape of ``lr`` and ``momentum``.
    """
    mu, L = _mu_L(mu, L)
    steps = _validate.integer("steps", steps, minimum=2)
    a = _validate.real_array("lr", lr, minimum=0)
    b = _validate.real_array("momentum", momentum, minimum=0)
    a, b = np.broadcast_arrays(a, b)
    lam = np.array([mu, L])
    x = np.ones((*a.shape, 2))
    x_prev = x.copy()
    log_norm = np.zeros(a.shape)
    half = steps // 2
    log_half = None
    for k in range(1, steps + 1):
        x_new = x - a[..., None] * lam * x + b[..., None] * (x - x_prev)
        x_prev, x = x, x_new
        n = np.sqrt((x**2).sum(-1) + (x_prev**2).sum(-1))
        log_norm += np.log(n)
        x = x / n[..., None]
        x_prev = x_prev / n[..., None]
        if k == half:
            log_half = log_norm.copy()
    return np.exp((log_norm - log_half) / (steps - half))


def heavy_ball(objective, x0, lr: float, momentum: float, steps: int) -> Trajectory:
    r"""Run Polyak's heavy ball :math:`x_{k+1} = x_k - \alpha\nabla f(x_k) + \beta(x_k-x_{k-1})`.

    With :math:`x_{-1} = x_0` this is, step for step, ``torch.optim.SGD(lr=alpha,
    momentum=beta)``: writing :math:`x_{k+1} - x_k = -\alpha u_k` gives
    :math:`u_k = \beta u_{k-1} + \nabla f(x_k)`, torch's momentum buffer.

    Args:
        objective: anything with ``value(x)`` and ``grad(x)``.
        x0: starting point.
        lr: step :math:`\alpha > 0`.
        momentum: :math:`\beta \in [0, 1)`.
        steps: number of steps.

    Returns:
        A :class:`~sgdbook.theory.gd.Trajectory`; ``diverged`` set (and the run stopped) on blow-up.
    """
    _validate.objective("objective", objective)
    x = _validate.vector("x0", x0)
    lr = _validate.positive("lr", lr)
    momentum = _validate.unit_interval("momentum", momentum)
    steps = _validate.integer("steps", steps, minimum=0)
    x_prev = x.copy()
    xs, losses = [x.copy()], [objective.value(x)]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            x, x_prev = x - lr * objective.grad(x) + momentum * (x - x_prev), x
            loss = objective.value(x)
            xs.append(x.copy())
            losses.append(loss)
            if (
                not np.all(np.isfinite(x))
                or not np.isfinite(loss)
                or np.max(np.abs(x)) > DIVERGENCE_THRESHOLD
            ):
                diverged = True
                break
    return Trajectory(np.array(xs), np.array(losses), lr, False, diverged)


def nesterov_sutskever(
    objective, x0, lr: float, momentum: float, steps: int, *, on_divergence: str = "raise"
):
    r"""Nesterov's method in the form of Sutskever et al. (2013).

    .. math:: v_{t+1} = \mu v_t - \varepsilon \nabla f(\theta_t + \mu v_t), \qquad
              \theta_{t+1} = \theta_t + v_{t+1}, \qquad v_0 = 0.

    Args:
        objective: anything with ``value(x)`` and ``grad(x)``.
        x0: :math:`\theta_0`.
        lr: :math:`\varepsilon > 0`.
        momentum: :math:`\mu \in [0, 1)`.
        steps: number of steps.

    Returns:
        ``(thetas, lookaheads)``: arrays of shape ``(steps+1, d)`` holding :math:`\theta_t` and
        the look-ahead points :math:`\theta_t + \mu v_t` at which the gradients are taken.
        ``torch.optim.SGD(lr, momentum, nesterov=True)`` produces the look-ahead points.
        With ``on_divergence="raise"`` (default) a :class:`~sgdbook.divergence.DivergenceError`
        names the step at which :math:`\theta_t` crossed
        :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD`; ``"return"`` returns the whole
        divergent run (without numpy warnings).

    Raises:
        TypeError: ``objective`` has no ``grad``; an argument of the wrong type.
        ValueError: an argument out of range.
    """
    theta = _validate.vector("x0", x0)
    lr = _validate.positive("lr", lr)
    momentum = _validate.unit_interval("momentum", momentum)
    steps = _validate.integer("steps", steps, minimum=0)
    on_divergence = _divergence.on_divergence(on_divergence)
    _validate.callable_("objective.grad", getattr(objective, "grad", None))
    v = np.zeros_like(theta)
    thetas, looks = [theta.copy()], [theta.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            v = momentum * v - lr * objective.grad(theta + momentum * v)
            theta = theta + v
            thetas.append(theta.copy())
            looks.append(theta + momentum * v)
            if on_divergence == "raise":
                _divergence.check("theta", theta, t + 1)
    return np.array(thetas), np.array(looks)


def iterations_to_tolerance(rate: float, tol: float) -> float:
    r"""Steps :math:`\ln(1/\text{tol}) / \ln(1/\text{rate})` for an error shrinking by ``rate`` per step."""
    rate = _validate.real("rate", rate)
    if not 0 < rate < 1:
        raise ValueError(f"rate must be in (0, 1), got {rate!r}")
    tol = _validate.positive("tol", tol)
    if tol >= 1:
        raise ValueError(f"tol must be in (0, 1) (an error ratio to reach), got {tol!r}")
    return math.log(1.0 / tol) / math.log(1.0 / rate)


def nesterov_spectral_radius(lr, momentum, eigenvalues) -> np.ndarray:
    r"""Spectral radius of Nesterov's method on a quadratic (any of its equivalent forms).

    Per eigenvalue :math:`\lambda` the iteration matrix has characteristic polynomial
    :math:`z^2 - (1+\beta)(1-\alpha\lambda) z + \beta(1-\alpha\lambda)`; this returns the
    largest root modulus over ``eigenvalues`` (broadcast over ``lr`` and ``momentum``).
    """
    lam = _validate.vector("eigenvalues", eigenvalues)
    a = _validate.real_array("lr", lr, minimum=0)[..., None]
    b = _validate.real_array("momentum", momentum, minimum=0)[..., None]
    c = 1.0 - a * lam
    tr = (1.0 + b) * c
    sq = np.sqrt((tr**2 - 4.0 * b * c).astype(complex))
    return np.maximum(np.abs((tr + sq) / 2.0), np.abs((tr - sq) / 2.0)).max(axis=-1)


def observed_rate(errors, start: int, stop: int) -> float:
    r"""Average contraction per step :math:`(e_{\text{stop}}/e_{\text{start}})^{1/(\text{stop}-\text{start})}`.

    Args:
        errors: e.g. distances :math:`\|x_k - x^*\|` of a run.
        start: first index.
        stop: last index (``> start``).
    """
    e = _validate.array("errors", errors, ndim=1, finite=False)
    start = _validate.integer("start", start, minimum=0)
    stop = _validate.integer("stop", stop, minimum=start + 1)
    if stop >= len(e):
        raise ValueError(f"stop must be < len(errors) = {len(e)}, got {stop}")
    if e[start] <= 0:
        raise ValueError("errors[start] must be > 0")
    return float((e[stop] / e[start]) ** (1.0 / (stop - start)))


def accelerated_gradient(
    grad, x0, lr: float, steps: int, momentum=None, *, on_divergence: str = "raise"
) -> np.ndarray:
    r"""Nesterov's accelerated gradient method in its 1983 form, iterates :math:`x_0, \dots, x_{\text{steps}}`.

    .. math::

        y_k = x_k + \beta_k\,(x_k - x_{k-1}), \qquad x_{k+1} = y_k - \eta\,\nabla f(y_k),
        \qquad x_{-1} = x_0,

    with the growing momentum :math:`\beta_k = (k-1)/(k+2)` when ``momentum`` is ``None`` (the
    common simplification of Nesterov's :math:`\beta_k = (t_k-1)/t_{k+1}`,
    :math:`t_1 = 1`, :math:`t_{k+1} = (1+\sqrt{4t_k^2+1})/2`; it takes :math:`t_k = (k+1)/2`)
    (the smooth convex case, :math:`O(1/k^2)`), or a constant :math:`\beta_k = \beta` (the
    strongly convex case, :math:`\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)`). With a constant
    :math:`\beta` this is the iteration of torch's ``SGD(nesterov=True)``, whose stored
    parameter is :math:`y_k`.

    Args:
        grad: gradient oracle ``grad(x) -> array``.
        x0: start (1-D).
        lr: step :math:`\eta > 0` (:math:`1/L` for the classical bounds).
        steps: number of steps (``>= 1``).
        momentum: ``None`` or a constant :math:`\beta \in [0, 1)`.

    Returns:
        Array of shape ``(steps + 1, d)``. With ``on_divergence="raise"`` (default) a
        :class:`~sgdbook.divergence.DivergenceError` names the step at which :math:`x_k`
        crossed :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD`; ``"return"`` returns the
        divergent iterates.

    Raises:
        ValueError: bad ``lr``, ``steps``, ``momentum`` or ``x0``; ``grad`` returns an array
            of another shape than ``x0``.
        TypeError: ``grad`` is not callable.
    """
    grad = _validate.callable_("grad", grad)
    x = _validate.vector("x0", x0)
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=1)
    if momentum is not None:
        momentum = _validate.unit_interval("momentum", momentum)
    on_divergence = _divergence.on_divergence(on_divergence)
    prev = x.copy()
    out = [x.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            b = (k - 1) / (k + 2) if momentum is None else momentum
            y = x + b * (x - prev)
            g = np.asarray(grad(y), dtype=float)
            if k == 0:
                _validate.same_shape("grad(x)", g, "x0", x)
            prev, x = x, y - lr * g
            out.append(x.copy())
            if on_divergence == "raise":
                _divergence.check("x", x, k + 1)
    return np.array(out)


def worst_case_quadratic(n: int, L: float = 1.0):
    r"""Nesterov's hard smooth convex function :math:`f(x) = \tfrac L8\bigl(x_1^2 + \sum_{i<n}(x_i - x_{i+1})^2 + x_n^2\bigr) - \tfrac L4 x_1`.

    :math:`f(x) = \tfrac12 x^\top A x - b^\top x` with :math:`A = \tfrac L4\,\mathrm{tridiag}(-1, 2, -1)`
    (eigenvalues in :math:`(0, L)`, the smallest about :math:`L\pi^2/(4n^2)`: convex, barely
    strongly convex) and :math:`b = \tfrac L4 e_1` (Nesterov 2018, §2.1.2).

    Returns:
        ``(A, b, x_star, f_star)``.

    Raises:
        ValueError: ``n < 2`` or ``L <= 0``.
    """
    n = _validate.integer("n", n, minimum=2)
    L = _validate.positive("L", L)
    A = (L / 4) * (2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1))
    b = np.zeros(n)
    b[0] = L / 4
    x_star = np.linalg.solve(A, b)
    f_star = float(0.5 * x_star @ A @ x_star - b @ x_star)
    return A, b, x_star, f_star


__all__ += ["accelerated_gradient", "worst_case_quadratic"]
