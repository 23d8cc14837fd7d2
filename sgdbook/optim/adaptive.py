"""Per-coordinate step sizes: AdaGrad and RMSprop."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from .. import validation as _validate
from ._base import BookOptimizer

__all__ = [
    "Adagrad",
    "RMSprop",
    "adagrad_update",
    "rmsprop_update",
    "adagrad_state",
    "rmsprop_state",
]


def adagrad_state(
    param: torch.Tensor, state: dict[str, Any], *, initial_accumulator_value: float = 0.0
) -> None:
    r"""Create the AdaGrad state of one tensor if it is missing: the one place it is made.

    Both :func:`adagrad_update` and the multi-tensor path of :class:`Adagrad` call this. The
    keys, as in ``torch.optim.Adagrad``:

    * ``step``: the number of steps taken, :math:`t` (an ``int``; 0 before the first step);
    * ``sum``: the sum of squared gradients :math:`s`, filled with
      ``initial_accumulator_value`` (:math:`s_0`).

    Args:
        param: the parameter whose state it is.
        state: that parameter's state dict, filled in place.
        initial_accumulator_value: :math:`s_0`.
    """
    if "sum" not in state:
        state["step"] = 0
        state["sum"] = torch.full_like(
            param, initial_accumulator_value, memory_format=torch.preserve_format
        )


def rmsprop_state(
    param: torch.Tensor, state: dict[str, Any], *, momentum: float = 0.0, centered: bool = False
) -> None:
    r"""Create the RMSprop state of one tensor if it is missing: the one place it is made.

    Both :func:`rmsprop_update` and the multi-tensor path of :class:`RMSprop` call this. The
    keys, as in ``torch.optim.RMSprop``:

    * ``step``: the number of steps taken (an ``int``; 0 before the first step);
    * ``square_avg``: the average :math:`s` of squared gradients, zeros like ``param``;
    * ``momentum_buffer``: with ``momentum > 0`` only, :math:`b`, zeros;
    * ``grad_avg``: with ``centered`` only, the average :math:`m` of the gradients, zeros.

    A key that becomes needed later (momentum or centering switched on in the group) is added
    then, as zeros.

    Args:
        param: the parameter whose state it is.
        state: that parameter's state dict, filled in place.
        momentum: :math:`\mu`; ``> 0`` creates ``momentum_buffer``.
        centered: create ``grad_avg``.
    """
    if "square_avg" not in state:
        state["step"] = 0
        state["square_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    if momentum > 0 and "momentum_buffer" not in state:
        state["momentum_buffer"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    if centered and "grad_avg" not in state:
        state["grad_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)


@_validate.update_arguments
def adagrad_update(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: dict[str, Any],
    *,
    lr: float,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> None:
    r"""One AdaGrad step on one tensor, in place.

    .. math::

        t &\leftarrow t + 1, \qquad g \leftarrow \nabla f(x) + \lambda x \\
        s &\leftarrow s + g \odot g \quad (s_0 = \text{initial\_accumulator\_value}) \\
        x &\leftarrow x - \frac{\eta}{1 + (t-1)\,\text{lr\_decay}}
             \cdot \frac{g}{\sqrt{s} + \epsilon}

    ``eps`` is added **outside** the square root.

    Args:
        param: the parameter, updated in place.
        grad: its gradient (not modified).
        state: this tensor's state, created by :func:`~sgdbook.optim.adaptive.adagrad_state`
            (which lists its keys).
        lr: learning rate :math:`\eta`.
        lr_decay: inverse-time decay of the learning rate.
        weight_decay: L2 penalty :math:`\lambda`.
        initial_accumulator_value: starting value of :math:`s`.
        eps: :math:`\epsilon`.
    """
    adagrad_state(param, state, initial_accumulator_value=initial_accumulator_value)
    state["step"] += 1
    t, s = state["step"], state["sum"]
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    clr = lr / (1 + (t - 1) * lr_decay)
    s.addcmul_(grad, grad, value=1)  # s = s + g^2
    std = s.sqrt().add_(eps)  # sqrt(s) + eps
    param.addcdiv_(grad, std, value=-clr)  # x = x - clr g / (sqrt(s) + eps)


@_validate.update_arguments
def rmsprop_update(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: dict[str, Any],
    *,
    lr: float,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> None:
    r"""One RMSprop step on one tensor, in place.

    .. math::

        g &\leftarrow \nabla f(x) + \lambda x \\
        s &\leftarrow \alpha s + (1 - \alpha)\, g \odot g \qquad (s_0 = 0) \\
        m &\leftarrow \alpha m + (1 - \alpha)\, g \quad\text{and}\quad
            d = \sqrt{s - m \odot m} + \epsilon \quad (\text{centered}) \\
        d &= \sqrt{s} + \epsilon \quad (\text{not centered}) \\
        b &\leftarrow \mu b + g / d, \quad x \leftarrow x - \eta b \quad (\mu > 0), \qquad
        x \leftarrow x - \eta\, g / d \quad (\mu = 0)

    ``eps`` is added **outside** the square root.

    Args:
        param: the parameter, updated in place.
        grad: its gradient (not modified).
        state: this tensor's state, created by :func:`~sgdbook.optim.adaptive.rmsprop_state`
            (which lists its keys).
        lr: learning rate :math:`\eta`.
        alpha: smoothing constant :math:`\alpha`.
        eps: :math:`\epsilon`.
        weight_decay: L2 penalty :math:`\lambda`.
        momentum: :math:`\mu`.
        centered: divide by an estimate of the gradient's standard deviation instead of its RMS.
    """
    rmsprop_state(param, state, momentum=momentum, centered=centered)
    state["step"] += 1
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    s = state["square_avg"]
    s.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)  # s = alpha s + (1-alpha) g^2
    if centered:
        m = state["grad_avg"]
        m.lerp_(grad, 1 - alpha)  # m = alpha m + (1-alpha) g
        denom = s.addcmul(m, m, value=-1).sqrt_()  # sqrt(s - m^2)
    else:
        denom = s.sqrt()
    denom.add_(eps)
    if momentum > 0:
        b = state["momentum_buffer"]
        b.mul_(momentum).addcdiv_(grad, denom)  # b = mu b + g / d
        param.add_(b, alpha=-lr)
    else:
        param.addcdiv_(grad, denom, value=-lr)  # x = x - lr g / d


class Adagrad(BookOptimizer):
    r"""AdaGrad (Duchi et al. 2011); same arguments, defaults and numbers as :class:`torch.optim.Adagrad`.

    Each tensor is updated by :func:`adagrad_update`:
    :math:`s \leftarrow s + g^2`,
    :math:`x \leftarrow x - \frac{\eta}{1+(t-1)\,\text{lr\_decay}}\, g / (\sqrt{s} + \epsilon)`,
    with ``eps`` outside the root. The positional order is torch's (``params, lr, lr_decay,
    weight_decay, initial_accumulator_value, eps, foreach``).

    As in torch, the sum of squares of **every** tensor starts at the constructor's
    ``initial_accumulator_value`` (``self.defaults``): a value given in a parameter-group dict,
    also one added later with ``add_param_group``, is validated and kept in the group but not
    used (torch 2.13 does the same).

    Args:
        params: tensors or parameter-group dicts to optimise.
        lr: learning rate :math:`\eta \ge 0` (default ``1e-2``).
        lr_decay: :math:`\ge 0` (default 0).
        weight_decay: L2 coefficient :math:`\ge 0` added to the gradient (default 0).
        initial_accumulator_value: starting value of the sum of squares, :math:`\ge 0`, for
            all parameter groups (see above).
        eps: :math:`\epsilon > 0` (default ``1e-10``).
        foreach: ``True`` multi-tensor path, ``False`` per-tensor loop, ``None`` (default)
            multi-tensor on GPUs and per-tensor on the CPU, as torch; same numbers.
        maximize: maximise the objective instead (torch's ``maximize``; default ``False``).
        check_finite: raise :class:`~sgdbook.divergence.DivergenceError` after a step that leaves
            a parameter ``inf`` or ``nan``.

    Raises:
        ValueError: an argument out of range or an empty parameter list.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        check_finite: bool = False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def _validate_group(self, group):
        group["lr"] = _validate.learning_rate("lr", group["lr"])
        group["lr_decay"] = _validate.nonnegative("lr_decay", group["lr_decay"])
        group["weight_decay"] = _validate.nonnegative("weight_decay", group["weight_decay"])
        group["initial_accumulator_value"] = _validate.nonnegative(
            "initial_accumulator_value", group["initial_accumulator_value"]
        )
        group["eps"] = _validate.positive("eps", group["eps"])
        group["foreach"] = _validate.optional_boolean("foreach", group["foreach"])

    def _update(self, group, param, grad, state):
        # torch starts every sum from the defaults' value, not the group's
        adagrad_update.__wrapped__(
            param,
            grad,
            state,
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            initial_accumulator_value=self.defaults["initial_accumulator_value"],
            eps=group["eps"],
        )

    def _foreach_update(self, group, params, grads, states):
        lr, lr_decay, wd = group["lr"], group["lr_decay"], group["weight_decay"]
        s0 = self.defaults["initial_accumulator_value"]  # torch: the defaults', not the group's
        for p, s in zip(params, states):
            adagrad_state(p, s, initial_accumulator_value=s0)
            s["step"] += 1
        sums = [s["sum"] for s in states]
        if wd != 0:
            grads = torch._foreach_add(grads, params, alpha=wd)
        minus_clr = [-lr / (1 + (s["step"] - 1) * lr_decay) for s in states]
        torch._foreach_addcmul_(sums, grads, grads, value=1)
        std = torch._foreach_sqrt(sums)
        torch._foreach_add_(std, group["eps"])
        numerator = torch._foreach_mul(grads, minus_clr)
        torch._foreach_addcdiv_(params, numerator, std)


class RMSprop(BookOptimizer):
    r"""RMSprop (Tieleman & Hinton 2012); same arguments, defaults and numbers as :class:`torch.optim.RMSprop`.

    Each tensor is updated by :func:`rmsprop_update`:
    :math:`s \leftarrow \alpha s + (1-\alpha) g^2`,
    :math:`x \leftarrow x - \eta\, g / (\sqrt{s} + \epsilon)`; with ``centered`` the root is
    :math:`\sqrt{s - m^2}` where :math:`m` averages :math:`g` the same way; with momentum
    :math:`b \leftarrow \mu b + g / (\cdot)` and :math:`x \leftarrow x - \eta b`.
    ``eps`` is outside the root. Note ``alpha`` plays the role of Adam's ``beta2``, and there
    is no bias correction. The positional order is torch's up to ``centered``; torch's next
    positional argument, ``capturable``, is not offered, so ``foreach`` and ``maximize`` are
    keyword-only here (a longer positional call raises ``TypeError`` instead of binding them
    differently).

    Args:
        params: tensors or parameter-group dicts to optimise.
        lr: learning rate :math:`\eta \ge 0` (default ``1e-2``).
        alpha: :math:`\alpha \in [0, 1)` (default 0.99).
        eps: :math:`\epsilon > 0` (default ``1e-8``).
        weight_decay: L2 coefficient :math:`\ge 0` added to the gradient.
        momentum: :math:`\mu \ge 0` (default 0).
        centered: use the centered second moment (default ``False``).
        foreach: ``True`` multi-tensor path, ``False`` per-tensor loop, ``None`` (default)
            multi-tensor on GPUs and per-tensor on the CPU, as torch; same numbers.
        maximize: maximise the objective instead (torch's ``maximize``; default ``False``).
        check_finite: raise :class:`~sgdbook.divergence.DivergenceError` after a step that leaves
            a parameter ``inf`` or ``nan``.

    Raises:
        ValueError: an argument out of range or an empty parameter list.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        check_finite: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def _validate_group(self, group):
        group["lr"] = _validate.learning_rate("lr", group["lr"])
        group["alpha"] = _validate.unit_interval("alpha", group["alpha"])
        group["eps"] = _validate.positive("eps", group["eps"])
        group["weight_decay"] = _validate.nonnegative("weight_decay", group["weight_decay"])
        group["momentum"] = _validate.nonnegative("momentum", group["momentum"])
        group["centered"] = _validate.boolean("centered", group["centered"])
        group["foreach"] = _validate.optional_boolean("foreach", group["foreach"])

    def _update(self, group, param, grad, state):
        rmsprop_update.__wrapped__(
            param,
            grad,
            state,
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            centered=group["centered"],
        )

    def _foreach_update(self, group, params, grads, states):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        mu, wd, centered = group["momentum"], group["weight_decay"], group["centered"]
        for p, s in zip(params, states):
            rmsprop_state(p, s, momentum=mu, centered=centered)
            s["step"] += 1
        if wd != 0:
            grads = torch._foreach_add(grads, params, alpha=wd)
        square_avgs = [s["square_avg"] for s in states]
        torch._foreach_mul_(square_avgs, alpha)
        torch._foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
        if centered:
            grad_avgs = [s["grad_avg"] for s in states]
            torch._foreach_lerp_(grad_avgs, grads, 1 - alpha)
            avg = torch._foreach_addcmul(square_avgs, grad_avgs, grad_avgs, value=-1)
            torch._foreach_sqrt_(avg)
        else:
            avg = torch._foreach_sqrt(square_avgs)
        torch._foreach_add_(avg, eps)
        if mu > 0:
            bufs = [s["momentum_buffer"] for s in states]
            torch._foreach_mul_(bufs, mu)
            torch._foreach_addcdiv_(bufs, grads, avg)
            torch._foreach_add_(params, bufs, alpha=-lr)
        else:
            torch._foreach_addcdiv_(params, grads, avg, value=-lr)
