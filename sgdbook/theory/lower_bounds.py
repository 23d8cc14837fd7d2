r"""Chapter 1 (:doc:`/gradient-descent`): lower complexity bounds of first-order methods.

A first-order method here is any method whose iterates satisfy
:math:`x_k \in x_0 + \mathrm{span}\{\nabla f(x_0), \dots, \nabla f(x_{k-1})\}`; gradient descent
with any step sizes, momentum and conjugate gradients all do. Nesterov (2018, §2.1.2 and §2.1.4)
builds quadratics on which every such method is slow:

* :func:`nesterov_convex_quadratic`: :math:`f(x) = \tfrac L4\bigl(\tfrac12[x_1^2 +
  \sum_{i<n}(x_i - x_{i+1})^2 + x_n^2] - x_1\bigr)`, convex and :math:`L`-smooth. From
  :math:`x_0 = 0`, :math:`x_k` has zeros after coordinate :math:`k`, so
  :math:`f(x_k) - f^* \ge \tfrac L8\bigl(\tfrac1{k+1} - \tfrac1{n+1}\bigr)`
  (:func:`krylov_gap_floor`), which for :math:`n = 2k+1` is at least
  :math:`3L\|x_0 - x^*\|^2/(32(k+1)^2)` (:func:`convex_lower_bound`, Thm 2.1.7);
* :func:`nesterov_strongly_convex_quadratic`: :math:`\tfrac{L-\mu}8[x_1^2 + \sum(x_i -
  x_{i+1})^2 + x_n^2 - 2x_1] + \tfrac\mu2\|x\|^2`, whose minimiser is close to
  :math:`x^*_i = q^i`, :math:`q = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`; every first-order method
  has :math:`\|x_k - x^*\| \ge (\sum_{i>k} x_i^{*2})^{1/2}` (:func:`krylov_distance_floor`), which
  in infinite dimension is :math:`q^k\|x_0 - x^*\|` (:func:`strongly_convex_lower_bound`,
  Thm 2.1.13);
* :func:`conjugate_gradient`: the first-order method that attains the floor on a quadratic (it
  minimises :math:`f` over :math:`x_0` plus the span of the gradients).
"""

from __future__ import annotations

import math

import numpy as np

from .. import validation as _validate
from ..problems.objectives import Quadratic
from .gd import Trajectory

__all__ = [
    "nesterov_convex_quadratic",
    "nesterov_strongly_convex_quadratic",
    "krylov_gap_floor",
    "convex_lower_bound",
    "strongly_convex_lower_bound",
    "krylov_distance_floor",
    "conjugate_gradient",
    "support_size",
]


def _tridiagonal(n: int) -> np.ndarray:
    """The ``n x n`` matrix with 2 on the diagonal and -1 next to it."""
    return 2.0 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)


def nesterov_convex_quadratic(n: int, L: float) -> Quadratic:
    r"""Nesterov's worst convex :math:`L`-smooth function in dimension ``n`` (a quadratic).

    :math:`A = \tfrac L4\,\mathrm{tridiag}(-1, 2, -1)` (its eigenvalues lie in :math:`(0, L)`),
    :math:`b = \tfrac L4 e_1`; the minimiser is :math:`x^*_i = 1 - i/(n+1)` and
    :math:`f^* = \tfrac L8(-1 + \tfrac1{n+1})`.

    Args:
        n: dimension (>= 1).
        L: the smoothness constant of the class (> 0).

    Returns:
        The :class:`~sgdbook.problems.objectives.Quadratic`.

    Raises:
        ValueError: an argument out of range.
    """
    n = _validate.integer("n", n, minimum=1)
    L = _validate.positive("L", L)
    b = np.zeros(n)
    b[0] = L / 4
    return Quadratic(L / 4 * _tridiagonal(n), b=b)


def nesterov_strongly_convex_quadratic(n: int, L: float, mu: float) -> Quadratic:
    r"""Nesterov's worst :math:`\mu`-strongly convex, :math:`L`-smooth quadratic, cut to ``n`` coordinates.

    :math:`A = \tfrac{L-\mu}4\,\mathrm{tridiag}(-1, 2, -1) + \mu I` (eigenvalues in
    :math:`(\mu, L)`), :math:`b = \tfrac{L-\mu}4 e_1`.

    Args:
        n: dimension (>= 1).
        L: smoothness constant (> 0).
        mu: strong-convexity constant, ``0 < mu < L``.

    Returns:
        The :class:`~sgdbook.problems.objectives.Quadratic`.

    Raises:
        ValueError: an argument out of range.
    """
    n = _validate.integer("n", n, minimum=1)
    L = _validate.positive("L", L)
    mu = _validate.positive("mu", mu)
    if mu >= L:
        raise ValueError(f"mu must be < L, got mu={mu!r} >= L={L!r}")
    b = np.zeros(n)
    b[0] = (L - mu) / 4
    return Quadratic((L - mu) / 4 * _tridiagonal(n) + mu * np.eye(n), b=b)


def _k_and_n(k, n) -> tuple[np.ndarray, int]:
    n = _validate.integer("n", n, minimum=1)
    arr = np.asarray(k)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"k must be an integer or an array of integers, got {k!r}")
    if np.any(arr < 0) or np.any(arr > n):
        raise ValueError(f"k must lie in [0, n] = [0, {n}], got {k!r}")
    return arr, n


def krylov_gap_floor(k, n: int, L: float):
    r"""The gap :math:`\tfrac L8(\tfrac1{k+1} - \tfrac1{n+1})` below which no first-order method gets in ``k`` steps.

    On :func:`nesterov_convex_quadratic` from :math:`x_0 = 0`; conjugate gradients attain it.

    Args:
        k: step count(s), ``0 <= k <= n``.
        n: dimension (>= 1).
        L: smoothness constant (> 0).

    Returns:
        The floor, shaped like ``k``.

    Raises:
        ValueError: ``k`` outside ``[0, n]`` or another argument out of range.
        TypeError: ``k`` not integral.
    """
    k, n = _k_and_n(k, n)
    L = _validate.positive("L", L)
    out = L / 8 * (1.0 / (k + 1) - 1.0 / (n + 1))
    return float(out) if np.ndim(out) == 0 else out


def convex_lower_bound(k, L: float, distance0: float):
    r"""Nesterov's lower bound :math:`3L\|x_0 - x^*\|^2 / (32(k+1)^2)` (Thm 2.1.7).

    For every :math:`k` with :math:`1 \le k \le (n-1)/2` there is a convex :math:`L`-smooth
    :math:`f` on :math:`\mathbb R^n` on which every first-order method has
    :math:`f(x_k) - f^*` at least this.

    Args:
        k: step count(s) (>= 0).
        L: smoothness constant (> 0).
        distance0: :math:`\|x_0 - x^*\|` (>= 0).

    Returns:
        The bound, shaped like ``k``.

    Raises:
        ValueError: an argument out of range.
        TypeError: ``k`` not integral.
    """
    arr = np.asarray(k)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"k must be an integer or an array of integers, got {k!r}")
    if np.any(arr < 0):
        raise ValueError(f"k must be >= 0, got {k!r}")
    L = _validate.positive("L", L)
    distance0 = _validate.nonnegative("distance0", distance0)
    out = 3.0 * L * distance0**2 / (32.0 * (arr + 1) ** 2)
    return float(out) if np.ndim(out) == 0 else out


def strongly_convex_lower_bound(k, L: float, mu: float, distance0: float):
    r"""Nesterov's lower bound :math:`\bigl(\tfrac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\bigr)^k\|x_0 - x^*\|` (Thm 2.1.13).

    In :math:`\ell^2` there is a :math:`\mu`-strongly convex :math:`L`-smooth :math:`f` on which
    every first-order method has :math:`\|x_k - x^*\|` at least this (and
    :math:`f(x_k) - f^* \ge \tfrac\mu2` times its square).

    Args:
        k: step count(s) (>= 0).
        L: smoothness constant (> 0).
        mu: strong-convexity constant, ``0 < mu <= L``.
        distance0: :math:`\|x_0 - x^*\|` (>= 0).

    Returns:
        The bound, shaped like ``k``.

    Raises:
        ValueError: an argument out of range.
        TypeError: ``k`` not integral.
    """
    arr = np.asarray(k)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"k must be an integer or an array of integers, got {k!r}")
    if np.any(arr < 0):
        raise ValueError(f"k must be >= 0, got {k!r}")
    L = _validate.positive("L", L)
    mu = _validate.positive("mu", mu)
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu!r} > L={L!r}")
    distance0 = _validate.nonnegative("distance0", distance0)
    sk = math.sqrt(L / mu)
    out = ((sk - 1) / (sk + 1)) ** arr * distance0
    return float(out) if np.ndim(out) == 0 else out


def krylov_distance_floor(q: Quadratic, k):
    r"""The distance :math:`(\sum_{i>k} x_i^{*2})^{1/2}` below which no first-order method from 0 gets in ``k`` steps.

    It holds on any quadratic with tridiagonal ``A`` and :math:`b` along :math:`e_1` (as the two
    Nesterov functions here): from :math:`x_0 = 0` every gradient, hence every iterate
    :math:`x_k`, has zeros after coordinate :math:`k`.

    Args:
        q: a :class:`~sgdbook.problems.objectives.Quadratic` with positive-definite ``A``.
        k: step count(s), ``0 <= k <= q.dim``.

    Returns:
        The floor, shaped like ``k``.

    Raises:
        TypeError: ``q`` is not a ``Quadratic`` or ``k`` not integral.
        ValueError: ``k`` outside ``[0, q.dim]`` or ``A`` not positive definite.
    """
    if not isinstance(q, Quadratic):
        raise TypeError(
            f"q must be a sgdbook.problems.objectives.Quadratic, got {type(q).__name__}"
        )
    k, _n = _k_and_n(k, q.dim)
    tail = np.concatenate(
        [np.cumsum((q.minimizer() ** 2)[::-1])[::-1], [0.0]]
    )  # tail[j] = sum_{i>=j}
    out = np.sqrt(tail[k])
    return float(out) if np.ndim(out) == 0 else out


def support_size(x, *, tol: float = 0.0) -> int:
    """The number of leading coordinates of ``x`` up to its last entry with magnitude above ``tol``.

    Args:
        x: a vector.
        tol: threshold (>= 0).

    Returns:
        An integer in ``[0, len(x)]``.

    Raises:
        ValueError: ``x`` not a finite vector or ``tol`` negative.
    """
    x = _validate.vector("x", x)
    tol = _validate.nonnegative("tol", tol)
    nz = np.flatnonzero(np.abs(x) > tol)
    return int(nz[-1] + 1) if nz.size else 0


def conjugate_gradient(q: Quadratic, x0, steps: int) -> Trajectory:
    r"""Conjugate gradients on a quadratic: the best first-order method there.

    :math:`x_k` minimises :math:`f` over :math:`x_0 + \mathrm{span}\{\nabla f(x_0), \dots,
    \nabla f(x_{k-1})\}`. The run stops early (``converged``) when the gradient vanishes.

    Args:
        q: a :class:`~sgdbook.problems.objectives.Quadratic` with positive-definite ``A``.
        x0: starting point.
        steps: maximal number of steps (>= 0).

    Returns:
        A :class:`~sgdbook.theory.gd.Trajectory` (``lr`` is ``nan``: the steps are chosen by the method).

    Raises:
        TypeError: ``q`` is not a ``Quadratic``.
        ValueError: an argument out of range or ``A`` not positive definite.
    """
    if not isinstance(q, Quadratic):
        raise TypeError(
            f"q must be a sgdbook.problems.objectives.Quadratic, got {type(q).__name__}"
        )
    x = _validate.vector("x0", x0, dim=q.dim).copy()
    steps = _validate.integer("steps", steps, minimum=0)
    if q.mu <= 0:
        raise ValueError(f"A is not positive definite (smallest eigenvalue {q.mu:g})")
    r = q.b - q.A @ x  # the negative gradient
    p = r.copy()
    xs, losses = [x.copy()], [q.value(x)]
    converged = False
    for _ in range(steps):
        rr = float(r @ r)
        if rr == 0.0:
            converged = True
            break
        Ap = q.A @ p
        alpha = rr / float(p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        p = r + (float(r @ r) / rr) * p
        xs.append(x.copy())
        losses.append(q.value(x))
    return Trajectory(np.array(xs), np.array(losses), float("nan"), converged, False)
