"""Adam (with AMSGrad) and AdamW."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from .. import validation as _validate
from ._base import BookOptimizer

__all__ = ["Adam", "AdamW", "adam_update", "adam_state"]


def adam_state(param: torch.Tensor, state: dict[str, Any], *, amsgrad: bool = False) -> None:
    r"""Create the Adam/AdamW state of one tensor if it is missing: the one place it is made.

    Both :func:`adam_update` and the multi-tensor path of :class:`Adam` call this before each
    step (torch's ``_init_group`` does the same job). The keys, as in ``torch.optim.Adam``:

    * ``step``: the number of steps taken, :math:`t` (an ``int``; 0 before the first step);
    * ``exp_avg``: the first moment :math:`m`, zeros like ``param``;
    * ``exp_avg_sq``: the second moment :math:`v`, zeros like ``param``;
    * ``max_exp_avg_sq``: with ``amsgrad`` only, the running maximum :math:`\hat v`, zeros.

    Args:
        param: the parameter whose state it is (gives shape, dtype, device and layout).
        state: that parameter's state dict, filled in place.
        amsgrad: also create ``max_exp_avg_sq`` (it is added the first time it is needed).
    """
    if "exp_avg" not in state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    if amsgrad and "max_exp_avg_sq" not in state:
        state["max_exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)


@_validate.update_arguments
def adam_update(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: dict[str, Any],
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    decoupled_weight_decay: bool = False,
) -> None:
    r"""One Adam (or AdamW) step on one tensor, in place.

    .. math::

        t &\leftarrow t + 1 \\
        g &\leftarrow \nabla f(x) + \lambda x \quad \text{(Adam)}, \qquad
          x \leftarrow (1 - \eta\lambda)\, x \quad \text{(AdamW: decoupled)} \\
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, g \odot g \qquad (m_0 = v_0 = 0) \\
        \hat v &\leftarrow \max(\hat v, v) \text{ (AMSGrad)}, \text{ else } \hat v = v \\
        x &\leftarrow x - \frac{\eta}{1 - \beta_1^t} \cdot
             \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}

    that is :math:`x \leftarrow x - \eta\, \hat m / (\sqrt{\hat v_c} + \epsilon)` with the
    bias-corrected moments :math:`\hat m = m / (1-\beta_1^t)`,
    :math:`\hat v_c = \hat v / (1-\beta_2^t)`: ``eps`` is added **after** the square root
    of the bias-corrected second moment.

    Args:
        param: the parameter, updated in place.
        grad: its gradient (not modified).
        state: this tensor's state, created by :func:`~sgdbook.optim.adam.adam_state`
            (which lists its keys).
        lr: learning rate :math:`\eta`.
        beta1: :math:`\beta_1`.
        beta2: :math:`\beta_2`.
        eps: :math:`\epsilon`.
        weight_decay: :math:`\lambda`.
        amsgrad: use the running maximum of :math:`v`.
        decoupled_weight_decay: AdamW's decay of the weights instead of an L2 gradient term.
    """
    adam_state(param, state, amsgrad=amsgrad)
    state["step"] += 1
    t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)  # x = (1 - lr lambda) x
        else:
            grad = grad.add(param, alpha=weight_decay)  # g = g + lambda x
    m.lerp_(grad, 1 - beta1)  # m = beta1 m + (1-beta1) g
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v = beta2 v + (1-beta2) g^2
    bias_correction1 = 1 - beta1**t
    bias_correction2 = 1 - beta2**t
    step_size = lr / bias_correction1
    if amsgrad:
        v_hat = state["max_exp_avg_sq"]
        torch.maximum(v_hat, v, out=v_hat)  # v_hat = max(v_hat, v)
    else:
        v_hat = v
    denom = v_hat.sqrt().div_(bias_correction2**0.5).add_(eps)  # sqrt(v_hat / bc2) + eps
    param.addcdiv_(m, denom, value=-step_size)  # x = x - lr/bc1 * m / denom


class Adam(BookOptimizer):
    r"""Adam (Kingma & Ba 2015); same arguments, defaults and numbers as :class:`torch.optim.Adam`.

    Each tensor is updated by :func:`adam_update`:
    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
    :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
    :math:`x \leftarrow x - \eta\, \frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}`,
    with ``eps`` added after the root of the bias-corrected second moment; ``weight_decay``
    adds :math:`\lambda x` to the gradient (L2 regularisation; see :class:`AdamW` for the
    decoupled form); ``amsgrad`` replaces :math:`v` by its running maximum in the denominator.

    Args:
        params: tensors or parameter-group dicts to optimise.
        lr: learning rate :math:`\eta \ge 0` (default ``1e-3``).
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)` (default ``(0.9, 0.999)``).
        eps: :math:`\epsilon > 0` (default ``1e-8``).
        weight_decay: L2 coefficient :math:`\lambda \ge 0` (default 0).
        amsgrad: AMSGrad variant (default ``False``).
        foreach: ``True`` multi-tensor path, ``False`` per-tensor loop, ``None`` (default)
            multi-tensor on GPUs and per-tensor on the CPU, as torch; same numbers.
        maximize: maximise the objective instead (torch's ``maximize``; default ``False``).
        check_finite: raise :class:`~sgdbook.divergence.DivergenceError` after a step that leaves
            a parameter ``inf`` or ``nan``.

    Raises:
        ValueError: an argument out of range or an empty parameter list.
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
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
            amsgrad=amsgrad,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def _validate_group(self, group):
        group["lr"] = _validate.learning_rate("lr", group["lr"])
        group["betas"] = _validate.betas("betas", group["betas"])
        group["eps"] = _validate.positive("eps", group["eps"])
        group["weight_decay"] = _validate.nonnegative("weight_decay", group["weight_decay"])
        group["amsgrad"] = _validate.boolean("amsgrad", group["amsgrad"])
        group["foreach"] = _validate.optional_boolean("foreach", group["foreach"])

    def _update(self, group, param, grad, state):
        beta1, beta2 = group["betas"]
        adam_update.__wrapped__(
            param,
            grad,
            state,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            amsgrad=group["amsgrad"],
            decoupled_weight_decay=self._decoupled,
        )

    def _foreach_update(self, group, params, grads, states):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        wd, amsgrad = group["weight_decay"], group["amsgrad"]
        for p, s in zip(params, states):
            adam_state(p, s, amsgrad=amsgrad)
            s["step"] += 1
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_sq"] for s in states]
        if wd != 0:
            if self._decoupled:
                torch._foreach_mul_(params, 1 - lr * wd)
            else:
                grads = torch._foreach_add(grads, params, alpha=wd)
        torch._foreach_lerp_(ms, grads, 1 - beta1)
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, grads, grads, value=1 - beta2)
        steps = [s["step"] for s in states]
        step_size = [(lr / (1 - beta1**t)) * -1 for t in steps]
        bias_correction2_sqrt = [(1 - beta2**t) ** 0.5 for t in steps]
        if amsgrad:
            v_hats = [s["max_exp_avg_sq"] for s in states]
            torch._foreach_maximum_(v_hats, vs)
            denom = torch._foreach_sqrt(v_hats)
        else:
            denom = torch._foreach_sqrt(vs)
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(params, ms, denom, step_size)


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay; same as :class:`torch.optim.AdamW`.

    Identical to :class:`Adam` except for the weight decay, which shrinks the weights directly,
    :math:`x \leftarrow (1 - \eta\lambda)\, x`, before the Adam step, instead of adding
    :math:`\lambda x` to the gradient (where the adaptive denominator would rescale it).
    Note the default ``weight_decay=1e-2`` (torch's).

    Args:
        params: tensors or parameter-group dicts to optimise.
        lr: learning rate :math:`\eta \ge 0` (default ``1e-3``).
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)` (default ``(0.9, 0.999)``).
        eps: :math:`\epsilon > 0` (default ``1e-8``).
        weight_decay: decoupled decay :math:`\lambda \ge 0` (default ``1e-2``).
        amsgrad: AMSGrad variant (default ``False``).
        foreach: ``True`` multi-tensor path, ``False`` per-tensor loop, ``None`` (default)
            multi-tensor on GPUs and per-tensor on the CPU, as torch; same numbers.
        maximize: maximise the objective instead (torch's ``maximize``; default ``False``).
        check_finite: raise :class:`~sgdbook.divergence.DivergenceError` after a step that leaves
            a parameter ``inf`` or ``nan``.

    Raises:
        ValueError: an argument out of range or an empty parameter list.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        check_finite: bool = False,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            foreach=foreach,
            maximize=maximize,
            check_finite=check_finite,
        )
