"""Divergence: the one place that decides when a run has blown up and how it is reported.

Every iteration in sgdbook that can blow up (gradient descent, the optimizers, SGD chains, the
heavy-ball and Nesterov iterations, the trainers, the noise-floor simulation, the exact quadratic
iterates) uses this module:

* :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD`: an iterate, a loss or any other monitored quantity whose
  magnitude exceeds it (or that is ``inf``/``nan``) counts as divergence;
* :func:`blown_up`: whether an array crossed that bound (no numpy warning is emitted);
* :func:`check`: raise :class:`~sgdbook.divergence.DivergenceError` naming the quantity, the bound, the step and
  the offending value;
* :func:`first_divergent_step` and :func:`check_series`: the same for a whole series (one row
  per step);
* :func:`divergence_message`: the Chinese one-line summary that runs returning a result object
  (:class:`sgdbook.theory.gd.Trajectory` and friends) print from ``status()``.

Two ways of reporting exist, chosen per function and documented in its docstring: a *run*
(``gradient_descent``, ``run_optimizer``, ``stochastic.sgd``, the trainers that return a result
with ``diverged``/``diverged_at``) stops and says so in its result, because the book shows
divergent runs on purpose; a *statistic* computed from many iterates (a noise-ball variance, a
basin count, a simulated excess loss) raises :class:`~sgdbook.divergence.DivergenceError`, because a mean over
``inf`` is meaningless. Functions returning whole trajectories raise by default and take
``on_divergence="return"`` to return the divergent trajectory instead (with ``inf``/``nan`` and
without numpy warnings).

:class:`~sgdbook.divergence.DivergenceError` derives from :class:`ArithmeticError` (it is a numerical failure, like
``OverflowError``) and, for backward compatibility with code written for the optimizers' first
version, from :class:`RuntimeError`; ``except ArithmeticError`` and ``except RuntimeError``
both catch it. It is not a :class:`ValueError`: the arguments were valid, the run was not.

Importing this module does not import torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "DIVERGENCE_THRESHOLD",
    "DivergenceError",
    "blown_up",
    "check",
    "check_series",
    "first_divergent_step",
    "divergence_message",
    "on_divergence",
]

#: An iterate or loss whose magnitude exceeds this is treated as divergence.
DIVERGENCE_THRESHOLD = 1e12


class DivergenceError(ArithmeticError, RuntimeError):
    """A run blew up: a monitored quantity became ``inf``/``nan`` or exceeded its bound.

    The attributes say where (``None`` when not known).

    Args:
        message: the text shown.
        step: the step (or epoch, or update) at which the problem was found.
        group: index of the parameter group holding the offending tensor (optimizers).
        index: index of the tensor inside that group (optimizers).
        quantity: name of the quantity that crossed the bound (``"x"``, ``"loss"`` ...).
        value: its largest magnitude (``inf`` or ``nan`` included).
        bound: the bound it crossed.
    """

    def __init__(
        self,
        message: str,
        *,
        step: int | None = None,
        group: int = 0,
        index: int = 0,
        quantity: str | None = None,
        value: float | None = None,
        bound: float | None = None,
    ):
        super().__init__(message)
        self.step = step
        self.group = group
        self.index = index
        self.quantity = quantity
        self.value = value
        self.bound = bound


def _max_abs(x: Any) -> float:
    """``max |x|`` (``nan`` if any entry is ``nan``), without warnings."""
    a = np.asarray(x)
    if a.size == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.abs(a.astype(float, copy=False))
        if np.isnan(a).any():
            return float("nan")
        return float(a.max())


def blown_up(x: Any, threshold: float = DIVERGENCE_THRESHOLD) -> bool:
    """``True`` when an entry of ``x`` is ``inf``/``nan`` or exceeds ``threshold`` in magnitude."""
    m = _max_abs(x)
    return not m <= threshold


def check(
    quantity: str, x: Any, step: int | None = None, *, threshold: float = DIVERGENCE_THRESHOLD
) -> None:
    """Raise :class:`~sgdbook.divergence.DivergenceError` if ``x`` (a number or an array) has :func:`blown_up`.

    The message names ``quantity``, the step, the largest magnitude and ``threshold``, e.g.
    ``"x diverged at step 64: max |x| = 3.2e+12 exceeds the bound 1e+12"``.
    """
    m = _max_abs(x)
    if m <= threshold:
        return
    where = f" at step {step}" if step is not None else ""
    what = "is not finite" if not np.isfinite(m) else f"= {m:.3g} exceeds the bound {threshold:g}"
    raise DivergenceError(
        f"{quantity} diverged{where}: max |{quantity}| {what}; lower the step size",
        step=step,
        quantity=quantity,
        value=m,
        bound=threshold,
    )


def first_divergent_step(series: Any, threshold: float = DIVERGENCE_THRESHOLD) -> int | None:
    """Index of the first row of ``series`` (axis 0 = steps) that has :func:`blown_up`, else ``None``."""
    a = np.asarray(series, dtype=float)
    if a.size == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        ok = np.abs(a.reshape(a.shape[0], -1)) <= threshold  # nan compares False
    bad = ~ok.all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def check_series(
    quantity: str, series: Any, *, threshold: float = DIVERGENCE_THRESHOLD, offset: int = 0
) -> None:
    """Raise :class:`~sgdbook.divergence.DivergenceError` at the first row (step ``offset + row``) that has blown up."""
    k = first_divergent_step(series, threshold)
    if k is not None:
        check(quantity, np.asarray(series)[k], offset + k, threshold=threshold)


def on_divergence(value: Any) -> str:
    """Validate an ``on_divergence`` argument: ``"raise"`` or ``"return"``.

    Raises:
        ValueError: any other value (the message repeats it).
    """
    if value not in ("raise", "return"):
        raise ValueError(f"on_divergence must be 'raise' or 'return', got {value!r}")
    return value


def divergence_message(step: int, x, loss: float | None = None) -> str:
    """The Chinese one-line report of a run stopped at ``step`` with last iterate ``x``.

    It names what went wrong: an iterate or a loss (when given) that is not finite, or what
    crossed :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD`: the iterate itself, or (when the iterate is still
    below it) the function value.
    """
    x = np.asarray(x)
    if not np.all(np.isfinite(x)):
        return f"发散：第 {step} 步后迭代值出现 inf 或 nan，已停止"
    if not np.all(np.abs(x) <= DIVERGENCE_THRESHOLD):
        return f"发散：第 {step} 步后迭代值的量级超过 {DIVERGENCE_THRESHOLD:.0e}，已停止"
    if loss is not None and not np.isfinite(loss):
        return f"发散：第 {step} 步后函数值出现 inf 或 nan，已停止"
    return f"发散：第 {step} 步后函数值的量级超过 {DIVERGENCE_THRESHOLD:.0e}，已停止"
