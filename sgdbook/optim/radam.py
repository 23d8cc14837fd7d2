"""Chapter 5 (:doc:`/momentum-adam`): RAdam, Adam with a rectified adaptive step (Liu et al. 2020), as ``torch.optim.RAdam``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

from .. import validation as _validate
from ._base import BookOptimizer

__all__ = ["RAdam", "radam_update", "radam_rho", "radam_rectification"]


def radam_rho(step: int, beta2: float = 0.999) -> float:
    r"""Length :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)` of RAdam's approximated SMA.

    :math:`\rho_\infty = 2/(1-\beta_2) - 1`. RAdam uses the adaptive step only when
    :math:`\rho_t > 5` (torch's threshold).

    Raises:
        ValueError: ``step < 1`` or ``beta2`` outside ``[0, 1)``.
    """
    step = _validate.integer("step", step, minimum=1)
    beta2 = _validate.unit_interval("beta2", beta2)
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * step * (beta2**step) / (1 - beta2**step)


def radam_rectification(step: int, beta2: float = 0.999) -> float:
    r"""The factor :math:`r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}`, or ``nan`` when :math:`\rho_t \le 5`.

    Raises:
        ValueError: as :func:`radam_rho`.
    """
    rho_t = radam_rho(step, beta2)
    rho_inf = 2 / (1 - beta2) - 1
    if rho_t <= 5.0:
        return math.nan
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


def _init_state(param: torch.Tensor, state: dict[str, Any]) -> None:
    """Create RAdam's state of one tensor (every code path calls this, once per tensor)."""
    if "exp_avg" in state:
        return
    state["step"] = 0
    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)


@_validate.update_arguments
def radam_update(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: dict[str, Any],
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
) -> None:
    r"""One RAdam step on one tensor, in place (torch's arithmetic, in torch's order).

    .. math::

        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) g \odot g, \qquad \hat m = m/(1-\beta_1^t) \\
        x &\leftarrow x - \eta\, \hat m \cdot r_t\,\frac{\sqrt{1-\beta_2^t}}{\sqrt v + \epsilon}
             \quad (\rho_t > 5), \qquad
        x \leftarrow x - \eta\, \hat m \quad (\rho_t \le 5)

    with :math:`\rho_t` and :math:`r_t` from :func:`radam_rho` and
    :func:`radam_rectification`: while the variance of the adaptive step is not yet defined
    (the first steps; 5 of them with :math:`\beta_2 = 0.999`), RAdam takes plain SGD-with-
    momentum steps, and afterwards scales Adam's step by :math:`r_t < 1`, which rises to 1.

    Args:
        param: the parameter, updated in place.
        grad: its gradient (not modified).
        state: holds ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`).
        lr: learning rate :math:`\eta`.
        beta1, beta2: :math:`\beta_1, \beta_2`.
        eps: :math:`\epsilon` (added to :math:`\sqrt v`, before the bias correction).
        weight_decay: L2 coefficient (or decoupled decay with ``decoupled_weight_decay``).
        decoupled_weight_decay: AdamW-style decay of the weights.
    """
    _init_state(param, state)
    state["step"] += 1
    t = float(state["step"])
    m, v = state["exp_avg"], state["exp_avg_sq"]
    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)
    m.lerp_(grad, 1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bias_correction1 = 1 - beta1**t
    bias_correction2 = 1 - beta2**t
    m_hat = m / bias_correction1
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
    if rho_t > 5.0:
        rect = (
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        ) ** 0.5
        adaptive = (bias_correction2**0.5) / v.sqrt().add_(eps)
        param.add_(m_hat * lr * adaptive * rect, alpha=-1.0)
    else:
        param.add_(m_hat * lr, alpha=-1.0)


class RAdam(BookOptimizer):
    r"""RAdam (Liu et al. 2020): Adam with its adaptive step switched on and rectified gradually; as :class:`torch.optim.RAdam`.

    Each tensor is updated by :func:`radam_update`; same arguments, defaults and numbers as
    torch. Both code paths call the same per-tensor function.

    Args:
        params: tensors or parameter-group dicts to optimise.
        lr: learning rate :math:`\eta \ge 0` (default ``1e-3``).
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
        eps: :math:`\epsilon > 0` (default ``1e-8``).
        weight_decay: :math:`\lambda \ge 0` (default 0).
        decoupled_weight_decay: decay the weights directly (default ``False``).
        foreach: accepted for torch compatibility; both paths give the same numbers.
        maximize: maximise the objective instead.
        check_finite: raise :class:`~sgdbook.divergence.DivergenceError` after a non-finite step.

    Raises:
        ValueError: an argument out of range or an empty parameter list.
        TypeError: a flag that is not a bool.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        check_finite: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def _validate_group(self, group):
        group["lr"] = _validate.learning_rate("lr", group["lr"])
        group["betas"] = _validate.betas("betas", group["betas"])
        group["eps"] = _validate.positive("eps", group["eps"])
        group["weight_decay"] = _validate.nonnegative("weight_decay", group["weight_decay"])
        group["decoupled_weight_decay"] = _validate.boolean(
            "decoupled_weight_decay", group["decoupled_weight_decay"]
        )
        group["foreach"] = _validate.optional_boolean("foreach", group["foreach"])

    def _update(self, group, param, grad, state):
        beta1, beta2 = group["betas"]
        radam_update.__wrapped__(
            param,
            grad,
            state,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
        )
