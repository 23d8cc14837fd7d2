"""Run any torch-style optimizer on a small problem and get the path back as arrays."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .. import validation as _validate
from ..theory.gd import DIVERGENCE_THRESHOLD, Trajectory
from ._base import DivergenceError

__all__ = ["run_optimizer"]


def run_optimizer(
    make_optimizer: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    objective: Any,
    x0: Any,
    steps: int,
    *,
    grad: Callable[[np.ndarray], Any] | None = None,
) -> Trajectory:
    r"""Run an optimizer for ``steps`` steps from ``x0`` and return every iterate and loss.

    The point is a single float64 tensor of shape ``(d,)`` on the CPU. Each step evaluates the
    gradient at the current point (inside a closure passed to ``optimizer.step``, so optimizers
    that need a closure work too) and lets the optimizer move the point.

    Three ways to give the problem:

    * an sgdbook objective (anything with ``value(x)`` and ``grad(x)`` on NumPy arrays, e.g.
      :class:`~sgdbook.problems.objectives.Quadratic`);
    * a torch function of a tensor, e.g. ``lambda x: 0.1 * x[0]**2 + 2 * x[1]**2``: its
      gradient comes from autograd;
    * a gradient oracle ``grad(x) -> array`` passed by keyword, with ``objective=None`` when
      there is no closed-form value (then ``losses`` is all ``nan``) or with an objective whose
      value is still wanted for the plot (e.g. a noisy stochastic gradient of a known
      function: the losses are the true values, the steps use the oracle).

    Args:
        make_optimizer: builds the optimizer from a parameter list, e.g.
            ``lambda p: sgdbook.optim.Adam(p, lr=0.1)`` or ``lambda p: torch.optim.SGD(p, 0.1)``.
        objective: an sgdbook objective, a torch function, or ``None`` (with ``grad``).
        x0: the starting point (a scalar is a 1-D point).
        steps: number of steps (``>= 0``).
        grad: optional gradient oracle on NumPy arrays; overrides the objective's gradient.

    Returns:
        A :class:`~sgdbook.theory.gd.Trajectory` with ``xs`` of shape ``(k+1, d)`` and ``losses`` of
        shape ``(k+1,)``; ``k = steps`` unless the run diverged: an iterate or a loss (when
        there is one) became ``inf`` or ``nan`` or exceeded
        :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD` in magnitude (as in
        :func:`~sgdbook.theory.gd.gradient_descent`), or the optimizer raised
        :class:`~sgdbook.divergence.DivergenceError` (``check_finite=True``); then the run stops
        at once, ``diverged`` is ``True`` and ``status()`` says so. ``lr`` is the first
        parameter group's learning rate. No overflow warnings are printed.

    Raises:
        ValueError: ``x0`` or ``steps`` out of range, or the gradient (``grad`` or the
            objective's ``grad``) returned an array whose shape is not ``(d,)`` (a scalar is
            accepted when ``d = 1``).
        TypeError: ``make_optimizer`` does not return a :class:`torch.optim.Optimizer`, the
            problem is given in none of the three ways, or the gradient returned ``None`` or
            something that is not an array of real numbers.
    """
    x_np = _validate.vector("x0", x0)
    steps = _validate.integer("steps", steps, minimum=0)
    if not callable(make_optimizer):
        raise TypeError(f"make_optimizer must be callable, got {make_optimizer!r}")
    has_value = objective is not None and callable(getattr(objective, "value", None))
    is_torch_fn = objective is not None and not has_value and callable(objective)
    if objective is None and grad is None:
        raise TypeError("give an objective, a torch function, or grad=oracle")
    if objective is not None and not (has_value or is_torch_fn):
        raise TypeError(f"objective must have value/grad or be callable, got {objective!r}")
    if has_value and grad is None and not callable(getattr(objective, "grad", None)):
        raise TypeError("the objective has no grad(x); pass grad=oracle")
    if grad is not None and not callable(grad):
        raise TypeError(f"grad must be callable, got {grad!r}")

    x = torch.tensor(x_np, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([x])
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"make_optimizer must return a torch.optim.Optimizer, got {optimizer!r}")
    lr = float(optimizer.param_groups[0].get("lr", float("nan")))

    def value_of(point: torch.Tensor) -> float:
        if has_value:
            return float(objective.value(point.detach().numpy().copy()))
        if is_torch_fn:
            with torch.no_grad():
                return float(objective(point.detach()))
        return float("nan")

    oracle = "grad" if grad is not None else "objective.grad"

    def gradient_at(point: np.ndarray) -> torch.Tensor:
        """The oracle's gradient at ``point``, checked to be a real array of shape ``(d,)``."""
        g = grad(point) if grad is not None else objective.grad(point)
        if g is None:
            raise TypeError(f"{oracle}(x) must return an array of shape ({x.shape[0]},), got None")
        try:
            g = np.asarray(g, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{oracle}(x) must return an array of real numbers of shape "
                f"({x.shape[0]},), got {g!r}"
            ) from exc
        if g.shape != tuple(x.shape) and not (g.shape == () and x.shape[0] == 1):
            raise ValueError(
                f"{oracle}(x) must return an array of shape ({x.shape[0]},) "
                f"(the shape of x0), got shape {g.shape}"
            )
        return torch.from_numpy(g.reshape(x.shape).copy())

    def closure() -> torch.Tensor:
        if grad is not None or has_value:
            x.grad = gradient_at(x.detach().numpy().copy())
            loss = torch.tensor(value_of(x), dtype=torch.float64)
        else:
            x.grad = None
            with torch.enable_grad():
                loss = objective(x)
                loss.backward()
            loss = loss.detach()
        last_loss[0] = float(loss)
        return loss

    has_loss = has_value or is_torch_fn  # without a value the losses are nan by design

    def blown_up(point: np.ndarray, loss: float) -> bool:
        """An iterate, or the loss if there is one, is inf/nan or beyond the threshold."""
        if not np.all(np.isfinite(point)) or np.max(np.abs(point)) > DIVERGENCE_THRESHOLD:
            return True
        return has_loss and (not np.isfinite(loss) or abs(loss) > DIVERGENCE_THRESHOLD)

    xs = [x_np.copy()]
    losses: list[float] = []
    last_loss = [float("nan")]
    diverged = False
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(steps):
            last_loss[0] = float("nan")
            try:
                loss = optimizer.step(closure)
            except DivergenceError:  # check_finite=True: the step left x non-finite
                loss, diverged = last_loss[0], True
            losses.append(float(loss) if loss is not None else value_of(x))
            point = x.detach().numpy().copy()
            xs.append(point)
            if diverged or blown_up(point, losses[-1]):
                diverged = True
                break
        losses.append(value_of(x))
        if not diverged and blown_up(xs[-1], losses[-1]):
            diverged = True
    return Trajectory(np.array(xs), np.array(losses, dtype=float), lr, False, diverged)
