"""Gradient descent on an :class:`~sgdbook.problems.objectives.Objective`, with divergence reported.

:func:`gradient_descent` returns a :class:`Trajectory`: every iterate and every loss as arrays,
ready to plot. When the iterates blow up the run stops at once and says so
(``trajectory.diverged``), instead of filling arrays with ``inf`` and ``nan`` and printing
overflow warnings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validation as _validate
from ..divergence import DIVERGENCE_THRESHOLD, divergence_message
from ..problems.objectives import Objective

__all__ = ["Trajectory", "gradient_descent", "DIVERGENCE_THRESHOLD", "divergence_message"]

# The threshold and the message live in sgdbook.divergence (the one mechanism); re-exported.


@dataclass(frozen=True)
class Trajectory:
    """The iterates ``xs`` (shape ``(k+1, d)``) and losses ``losses`` (shape ``(k+1,)``) of a run.

    ``k`` is the number of steps taken: ``steps`` unless the run stopped early because the
    stopping tolerance was met (``converged``) or the iterates blew up (``diverged``).
    """

    xs: np.ndarray
    losses: np.ndarray
    lr: float
    converged: bool
    diverged: bool

    @property
    def steps(self) -> int:
        """Number of steps actually taken."""
        return len(self.xs) - 1

    @property
    def x(self) -> np.ndarray:
        """The last iterate."""
        return self.xs[-1]

    def status(self) -> str:
        """A one-line Chinese summary, e.g. ``发散：第 64 步后函数值的量级超过 1e+12，已停止``."""
        if self.diverged:
            return divergence_message(self.steps, self.x, float(self.losses[-1]))
        if self.converged:
            return f"收敛：{self.steps} 步达到停止条件"
        return f"运行 {self.steps} 步，最终损失 {self.losses[-1]:.6g}"


def _blown_up(x: np.ndarray, loss: float) -> bool:
    return (
        not np.all(np.isfinite(x))
        or not np.isfinite(loss)
        or np.max(np.abs(x)) > DIVERGENCE_THRESHOLD
        or abs(loss) > DIVERGENCE_THRESHOLD
    )


def gradient_descent(
    objective: Objective,
    x0,
    lr: float,
    steps: int,
    *,
    grad_tol: float | None = None,
) -> Trajectory:
    r"""Run ``x_{k+1} = x_k - lr * grad f(x_k)`` for ``steps`` steps from ``x0``.

    Args:
        objective: anything with ``value(x)`` and ``grad(x)``.
        x0: starting point (a scalar is a 1-D point).
        lr: step size :math:`\eta > 0`.
        steps: maximal number of steps (``>= 0``).
        grad_tol: if given, stop as soon as :math:`\|\nabla f(x_k)\|_2 \le` ``grad_tol``.

    Returns:
        The :class:`Trajectory`; ``diverged`` is set (and the run stopped) when an iterate or a
        loss becomes non-finite or exceeds :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD` in magnitude.

    Raises:
        ValueError: ``x0``, ``lr``, ``steps`` or ``grad_tol`` out of range.
        TypeError: one of them of the wrong type.
    """
    _validate.objective("objective", objective)
    x = _validate.vector("x0", x0)
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=0)
    if grad_tol is not None:
        grad_tol = _validate.positive("grad_tol", grad_tol)
    xs = [x.copy()]
    losses = [objective.value(x)]
    converged = diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g = objective.grad(x)
            if grad_tol is not None and np.linalg.norm(g) <= grad_tol:
                converged = True
                break
            x = x - lr * g
            loss = objective.value(x)
            xs.append(x.copy())
            losses.append(loss)
            if _blown_up(x, loss):
                diverged = True
                break
        else:
            if grad_tol is not None and np.linalg.norm(objective.grad(x)) <= grad_tol:
                converged = True
    return Trajectory(np.array(xs), np.array(losses), lr, converged, diverged)
