"""Chapter 5 (:doc:`/momentum-adam`): NAdam, Adam with Nesterov momentum (Dozat 2016), as ``torch.optim.NAdam``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from .. import validation as _validate
from ._base import BookOptimizer

__all__ = ["NAdam", "nadam_update"]


def _scalar_dtype() -> torch.dtype:
    """The dtype torch keeps its scalar optimizer state in (``mu_product``): float64 only if default."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _init_state(param: torch.Tensor, state: dict[str, Any]) -> None:
    """Create NAdam's state of one tensor (every code path calls this, once per tensor)."""
    if "exp_avg" in state:
        return
    state["step"] = 0
    # torch keeps the product of the momentum coefficients as a 0-d tensor of the scalar dtype;
    # keeping it the same way gives the same rounding, hence the same numbers.
    state["mu_product"] = torch.tensor(1.0, dtype=_scalar_dtype())
    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)


@_validate.update_arguments
def nadam_update(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: dict[str, Any],
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
) -> None:
    r"""One NAdam step on one tensor, in place (torch's arithmetic, in torch's order).

    .. math::

        \beta_{1,t} &= \beta_1\,\bigl(1 - \tfrac12\, 0.96^{\,t\psi}\bigr), \qquad
        \Pi_t = \textstyle\prod_{s \le t} \beta_{1,s} \\
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) g \odot g \\
        x &\leftarrow x - \eta\,\frac{1-\beta_{1,t}}{1-\Pi_t}\,\frac{g}{\sqrt{v/(1-\beta_2^t)}+\epsilon}
              - \eta\,\frac{\beta_{1,t+1}}{1-\Pi_t\beta_{1,t+1}}\,\frac{m}{\sqrt{v/(1-\beta_2^t)}+\epsilon}

    (:math:`\psi` is ``momentum_decay``). The second term is Adam's step with the *next*
    step's momentum coefficient: the Nesterov look-ahead applied to the first moment.

    Args:
        param: the parameter, updated in place.
        grad: its gradient (not modified).
        state: holds ``step``, ``mu_product`` (:math:`\Pi_t`), ``exp_avg``, ``exp_avg_sq``.
        lr: learning rate :math:`\eta`.
        beta1, beta2: :math:`\beta_1, \beta_2`.
        eps: :math:`\epsilon`.
        weight_decay: L2 coefficient (or decoupled decay with ``decoupled_weight_decay``).
        momentum_decay: :math:`\psi` of the momentum schedule (torch's default 4e-3).
        decoupled_weight_decay: AdamW-style decay of the weights (torch's NAdamW).
    """
    _init_state(param, state)
    state["step"] += 1
    t = float(state["step"])
    m, v, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
    bias_correction2 = 1 - beta2**t
    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))  # beta_{1,t}
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))  # beta_{1,t+1}
    mu_product *= mu  # Pi_t
    m.lerp_(grad, 1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = v.div(bias_correction2).sqrt().add_(eps)
    pi_t = float(mu_product)
    param.addcdiv_(grad, denom, value=(-lr * (1.0 - mu) / (1.0 - pi_t)))
    param.addcdiv_(m, denom, value=(-lr * mu_next) / (1.0 - pi_t * mu_next))


class NAdam(BookOptimizer):
    r"""NAdam (Dozat 2016): Adam whose first moment takes a Nesterov look-ahead; as :class:`torch.optim.NAdam`.

    Each tensor is updated by :func:`nadam_update`. Same arguments, defaults and numbers as
    torch (``lr=2e-3``, ``momentum_decay=4e-3``); both code paths call the same per-tensor
    function, so they agree bit for bit.

    Args:
        params: tensors or parameter-group dicts to optimise.
        lr: learning rate :math:`\eta \ge 0` (default ``2e-3``).
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
        eps: :math:`\epsilon > 0` (default ``1e-8``).
        weight_decay: :math:`\lambda \ge 0` (default 0).
        momentum_decay: :math:`\psi \ge 0` (default ``4e-3``).
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
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
            momentum_decay=momentum_decay,
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
        group["momentum_decay"] = _validate.nonnegative("momentum_decay", group["momentum_decay"])
        group["decoupled_weight_decay"] = _validate.boolean(
            "decoupled_weight_decay", group["decoupled_weight_decay"]
        )
        group["foreach"] = _validate.optional_boolean("foreach", group["foreach"])

    def _update(self, group, param, grad, state):
        beta1, beta2 = group["betas"]
        nadam_update.__wrapped__(
            param,
            grad,
            state,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum_decay=group["momentum_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
        )
