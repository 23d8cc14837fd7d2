"""Chapter 2 (:doc:`/learning-rate`): step sizes chosen at every iteration without backtracking.

Three rules for :math:`x_{k+1} = x_k - \\eta_k g_k`, :math:`g_k = \\nabla f(x_k)`, beside the fixed
step and Armijo's backtracking of :mod:`sgdbook.theory.stepsize`:

* :func:`exact_line_search_gd` (quadratics): :math:`\\eta_k = \\|g_k\\|^2 / g_k^\\top A g_k`, the
  minimiser of :math:`\\eta \\mapsto f(x_k - \\eta g_k)`; :func:`kantorovich_rate` is its guaranteed
  factor :math:`((\\kappa-1)/(\\kappa+1))^2` per step on :math:`f - f^\\ast`;
* :func:`polyak_gd`: :math:`\\eta_k = (f(x_k) - f^\\ast)/\\|g_k\\|^2`, which needs the optimal value;
* :func:`barzilai_borwein_gd`: :math:`\\eta_k = s^\\top s / s^\\top r` with
  :math:`s = x_k - x_{k-1}`, :math:`r = g_k - g_{k-1}` (the "long" BB step), a secant estimate of
  the inverse curvature along the last step.

Each returns a :class:`StepRun`; a run whose iterate or loss blows up stops and reports it with
:func:`sgdbook.theory.gd.divergence_message`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validation as _validate
from ..problems.objectives import Objective, Quadratic
from .gd import DIVERGENCE_THRESHOLD, divergence_message

__all__ = [
    "StepRun",
    "exact_line_search_gd",
    "kantorovich_rate",
    "polyak_gd",
    "barzilai_borwein_gd",
]


@dataclass(frozen=True)
class StepRun:
    """Iterates ``xs`` (``(k+1, d)``), losses ``losses`` and the step ``steps[j]`` of iteration ``j``.

    ``diverged`` is set when the run was stopped because an iterate or a loss became
    non-finite or exceeded :data:`sgdbook.divergence.DIVERGENCE_THRESHOLD`.
    """

    xs: np.ndarray
    losses: np.ndarray
    steps: np.ndarray
    diverged: bool

    def status(self) -> str:
        """A one-line Chinese summary."""
        k = len(self.xs) - 1
        if self.diverged:
            return divergence_message(k, self.xs[-1], float(self.losses[-1]))
        return f"运行 {k} 步，最终损失 {self.losses[-1]:.6g}"


def _blown(x: np.ndarray, loss: float) -> bool:
    return not (np.all(np.abs(x) <= DIVERGENCE_THRESHOLD) and abs(loss) <= DIVERGENCE_THRESHOLD)


def _run(objective: Objective, x0, steps: int, rule, grad_tol: float) -> StepRun:
    _validate.objective("objective", objective)
    x = _validate.vector("x0", x0)
    steps = _validate.integer("steps", steps, minimum=0)
    grad_tol = _validate.nonnegative("grad_tol", grad_tol)
    xs, losses, etas = [x.copy()], [objective.value(x)], []
    diverged = False
    prev = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(steps):
            g = objective.grad(x)
            if np.linalg.norm(g) <= grad_tol:
                break
            eta = rule(k, x, g, losses[-1], prev)
            if not np.isfinite(eta) or eta <= 0:  # a secant with no curvature information left
                break
            prev = (x, g)
            x = x - eta * g
            xs.append(x.copy())
            losses.append(objective.value(x))
            etas.append(eta)
            if _blown(x, losses[-1]):
                diverged = True
                break
    return StepRun(np.array(xs), np.array(losses), np.array(etas), diverged)


def exact_line_search_gd(quadratic: Quadratic, x0, steps: int, *, grad_tol: float = 0.0) -> StepRun:
    r"""Steepest descent with exact line search on :math:`f(x) = \frac12 x^\top A x - b^\top x`.

    The step :math:`\eta_k = \|g_k\|^2/(g_k^\top A g_k)` minimises :math:`f(x_k - \eta g_k)`.

    Args:
        quadratic: a positive definite :class:`~sgdbook.problems.objectives.Quadratic`.
        x0: starting point.
        steps: number of iterations (>= 0).
        grad_tol: stop once :math:`\|g_k\| \le` ``grad_tol`` (>= 0).

    Raises:
        TypeError, ValueError: bad arguments (a matrix that is not positive definite included).
    """
    if not isinstance(quadratic, Quadratic):
        raise TypeError(f"quadratic must be a Quadratic, got {type(quadratic).__name__}")
    if quadratic.mu <= 0:
        raise ValueError("quadratic must be positive definite")
    A = quadratic.A

    def rule(k, x, g, fx, prev):
        return float(g @ g) / float(g @ A @ g)

    return _run(quadratic, _validate.vector("x0", x0, dim=quadratic.dim), steps, rule, grad_tol)


def kantorovich_rate(kappa: float) -> float:
    r"""The factor :math:`((\kappa-1)/(\kappa+1))^2` of exact line search on a quadratic.

    For every start, :math:`f(x_{k+1}) - f^\ast \le ((\kappa-1)/(\kappa+1))^2 (f(x_k) - f^\ast)`.

    Raises:
        ValueError: ``kappa < 1``.
    """
    kappa = _validate.real("kappa", kappa)
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1, got {kappa!r}")
    return ((kappa - 1.0) / (kappa + 1.0)) ** 2


def polyak_gd(
    objective: Objective, x0, steps: int, f_opt: float, *, grad_tol: float = 0.0
) -> StepRun:
    r"""Gradient descent with Polyak's step :math:`\eta_k = (f(x_k) - f^\ast)/\|g_k\|^2`.

    Args:
        objective: anything with ``value`` and ``grad``.
        x0: starting point.
        steps: number of iterations (>= 0).
        f_opt: the optimal value :math:`f^\ast` (the rule needs it).
        grad_tol: stop once :math:`\|g_k\| \le` ``grad_tol`` (>= 0).

    The run also stops when :math:`f(x_k) \le f^\ast` (the step would be zero or negative).

    Raises:
        TypeError, ValueError: bad arguments.
    """
    f_opt = _validate.real("f_opt", f_opt)

    def rule(k, x, g, fx, prev):
        return (fx - f_opt) / float(g @ g)

    return _run(objective, x0, steps, rule, grad_tol)


def barzilai_borwein_gd(
    objective: Objective, x0, steps: int, eta0: float, *, grad_tol: float = 0.0
) -> StepRun:
    r"""Gradient descent with the Barzilai–Borwein step :math:`\eta_k = s^\top s/s^\top r`.

    :math:`s = x_k - x_{k-1}` and :math:`r = \nabla f(x_k) - \nabla f(x_{k-1})`; the first step is
    ``eta0``. No line search: the loss need not fall at every step (BB is non-monotone). The run
    stops when :math:`s^\top r \le 0` (no positive curvature along the last step).

    Args:
        objective: anything with ``value`` and ``grad``.
        x0: starting point.
        steps: number of iterations (>= 0).
        eta0: the first step (> 0).
        grad_tol: stop once :math:`\|g_k\| \le` ``grad_tol`` (>= 0).

    Raises:
        TypeError, ValueError: bad arguments.
    """
    eta0 = _validate.positive("eta0", eta0)

    def rule(k, x, g, fx, prev):
        if prev is None:
            return eta0
        s, r = x - prev[0], g - prev[1]
        sr = float(s @ r)
        return float(s @ s) / sr if sr > 0 else float("nan")

    return _run(objective, x0, steps, rule, grad_tol)
