"""Stochastic gradient descent, with momentum in both conventions (PyTorch's and the EMA form)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from .. import validation as _validate
from ._base import BookOptimizer

__all__ = [
    "SGD",
    "EMAMomentum",
    "sgd_update",
    "ema_momentum_update",
    "momentum_buffer",
    "ema_momentum_state",
]


def momentum_buffer(
    state: dict[str, Any], grad: torch.Tensor, *, momentum: float, dampening: float = 0.0
) -> torch.Tensor:
    r"""Advance SGD's momentum buffer of one tensor, creating it at the first step: the one place.

    Both :func:`sgd_update` and the multi-tensor path of :class:`SGD` call this (the
    multi-tensor path does the same arithmetic with ``torch._foreach_*`` ops once every
    tensor has a buffer). The state's only key, as in ``torch.optim.SGD``:

    * ``momentum_buffer``: :math:`v`; absent before the first step with momentum, then
      :math:`v_1 = g_1` (a copy of the first gradient, no dampening) and
      :math:`v \leftarrow \mu v + (1 - 	au) g` afterwards.

    Args:
        state: the tensor's state dict, updated in place.
        grad: this step's gradient :math:`g` (weight decay already added; not modified).
        momentum: :math:`\mu`.
        dampening: :math:`	au`.

    Returns:
        The buffer :math:`v` (the tensor stored in ``state``).
    """
    v = state.get("momentum_buffer")
    if v is None:
        v = state["momentum_buffer"] = grad.detach().clone()  # v_1 = g_1
    else:
        v.mul_(momentum).add_(grad, alpha=1 - dampening)  # v = mu v + (1 - tau) g
    return v


def ema_momentum_state(param: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
    r"""Create the :class:`EMAMomentum` state of one tensor if it is missing: the one place.

    Both :func:`ema_momentum_update` and the multi-tensor path call this. The state's key:

    * ``velocity``: the average :math:`v` of the gradients, zeros like ``param`` (:math:`v_0 = 0`).

    Args:
        param: the parameter whose state it is.
        state: that parameter's state dict, filled in place.

    Returns:
        The velocity :math:`v` (the tensor stored in ``state``).
    """
    v = state.get("velocity")
    if v is None:
        v = state["velocity"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    return v


@_validate.update_arguments
def sgd_update(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: dict[str, Any],
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> None:
    r"""One SGD step on one tensor, in place (PyTorch's convention).

    .. math::

        g &\leftarrow \nabla f(x) + \lambda x \\
        v &\leftarrow \mu v + (1 - \tau) g \quad (v \leftarrow g \text{ at the first step}) \\
        x &\leftarrow x - \eta\,(g + \mu v) \text{ (Nesterov) or } x - \eta v

    with :math:`\eta` = ``lr``, :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening``,
    :math:`\lambda` = ``weight_decay``. Without momentum it is :math:`x \leftarrow x - \eta g`.

    Args:
        param: the parameter :math:`x`, updated in place.
        grad: its gradient (not modified).
        state: this tensor's state; :func:`~sgdbook.optim.sgd.momentum_buffer`
            creates and advances its buffer.
        lr: learning rate.
        momentum: :math:`\mu`.
        dampening: :math:`\tau`.
        nesterov: use the Nesterov look-ahead :math:`g + \mu v`.
        weight_decay: L2 penalty :math:`\lambda` added to the gradient.
    """
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)  # g + lambda x
    if momentum != 0:
        v = momentum_buffer(state, grad, momentum=momentum, dampening=dampening)
        grad = grad.add(v, alpha=momentum) if nesterov else v
    param.add_(grad, alpha=-lr)  # x = x - lr * direction


@_validate.update_arguments
def ema_momentum_update(
    param: torch.Tensor,
    grad: torch.Tensor,
    state: dict[str, Any],
    *,
    lr: float,
    beta: float = 0.9,
    weight_decay: float = 0.0,
) -> None:
    r"""One step of momentum in the exponential-moving-average form, in place.

    .. math::

        g \leftarrow \nabla f(x) + \lambda x, \qquad
        v \leftarrow \beta v + (1 - \beta) g \quad (v_0 = 0), \qquad
        x \leftarrow x - \eta v

    Args:
        param: the parameter :math:`x`, updated in place.
        grad: its gradient (not modified).
        state: this tensor's state, created by :func:`~sgdbook.optim.sgd.ema_momentum_state`
            (which lists its key).
        lr: learning rate :math:`\eta`.
        beta: averaging coefficient :math:`\beta`.
        weight_decay: L2 penalty :math:`\lambda` added to the gradient.
    """
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    v = ema_momentum_state(param, state)
    v.lerp_(grad, 1 - beta)  # v = beta v + (1 - beta) g
    param.add_(v, alpha=-lr)  # x = x - lr v


class SGD(BookOptimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum; same as :class:`torch.optim.SGD`.

    The update of each tensor is :func:`sgd_update`:
    :math:`g \leftarrow \nabla f + \lambda x`, :math:`v \leftarrow \mu v + (1-\tau) g`
    (:math:`v_1 = g_1`, no dampening at the first step), then
    :math:`x \leftarrow x - \eta v`, or :math:`x \leftarrow x - \eta (g + \mu v)` with Nesterov.
    Arguments, their positional order (``params, lr, momentum, dampening, weight_decay,
    nesterov``) and defaults are torch's (``differentiable`` and ``fused`` are not offered).

    Args:
        params: tensors or parameter-group dicts to optimise.
        lr: learning rate :math:`\eta \ge 0` (default ``1e-3``).
        momentum: :math:`\mu \ge 0` (default 0: plain SGD).
        dampening: :math:`\tau \in [0, 1]` (default 0).
        weight_decay: L2 coefficient :math:`\lambda \ge 0` added to the gradient.
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
        foreach: ``True`` uses the multi-tensor ``torch._foreach_*`` path, ``None`` (default)
            does so on GPUs only (as torch),
            ``False`` uses the per-tensor loop (same numbers).
        maximize: maximise the objective instead (torch's ``maximize``; default ``False``).
        check_finite: raise :class:`~sgdbook.divergence.DivergenceError` after a step that
            leaves a parameter ``inf`` or ``nan``.

    Raises:
        ValueError: an argument out of range (the message names it and its value), an empty
            parameter list, or ``nesterov`` without momentum or with dampening.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        check_finite: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def _validate_group(self, group: dict[str, Any]) -> None:
        group["lr"] = _validate.learning_rate("lr", group["lr"])
        group["momentum"] = _validate.nonnegative("momentum", group["momentum"])
        group["dampening"] = _validate.unit_interval(
            "dampening", group["dampening"], closed_right=True
        )
        group["weight_decay"] = _validate.nonnegative("weight_decay", group["weight_decay"])
        group["nesterov"] = _validate.boolean("nesterov", group["nesterov"])
        group["foreach"] = _validate.optional_boolean("foreach", group["foreach"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening == 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update(self, group, param, grad, state):
        sgd_update.__wrapped__(
            param,
            grad,
            state,
            lr=group["lr"],
            momentum=group["momentum"],
            dampening=group["dampening"],
            nesterov=group["nesterov"],
            weight_decay=group["weight_decay"],
        )

    def _foreach_update(self, group, params, grads, states):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd != 0:
            grads = torch._foreach_add(grads, params, alpha=wd)
        if mu != 0:
            if all("momentum_buffer" in s for s in states):
                bufs = [s["momentum_buffer"] for s in states]
                torch._foreach_mul_(bufs, mu)
                torch._foreach_add_(bufs, grads, alpha=1 - group["dampening"])
            else:  # some tensor's first step (v_1 = g_1): tensor by tensor
                bufs = [
                    momentum_buffer(s, g, momentum=mu, dampening=group["dampening"])
                    for g, s in zip(grads, states)
                ]
            if group["nesterov"]:
                grads = torch._foreach_add(grads, bufs, alpha=mu)
            else:
                grads = bufs
        torch._foreach_add_(params, grads, alpha=-lr)


class EMAMomentum(BookOptimizer):
    r"""Momentum as an exponential moving average of gradients (the form many courses use).

    The update of each tensor is :func:`ema_momentum_update`:

    .. math::

        v_t = \beta v_{t-1} + (1 - \beta) g_t, \quad v_0 = 0, \qquad x_t = x_{t-1} - \eta v_t .

    **Equivalence with PyTorch's form.** :class:`torch.optim.SGD` with momentum :math:`\mu`
    keeps :math:`u_t = \mu u_{t-1} + g_t` with :math:`u_1 = g_1` and steps
    :math:`x_t = x_{t-1} - \eta' u_t`. Put :math:`u_t := v_t / (1 - \beta)`. Dividing the EMA
    recursion by :math:`1-\beta` gives :math:`u_t = \beta u_{t-1} + g_t`, and
    :math:`v_0 = 0` gives :math:`u_1 = g_1`: the same recursion and start as torch's buffer
    with :math:`\mu = \beta`. The step is :math:`\eta v_t = \eta (1-\beta) u_t`. Hence, by
    induction on :math:`t`, both produce the same iterates when

    .. math:: \mu = \beta, \qquad \eta' = (1 - \beta)\,\eta, \qquad \text{dampening} = 0,

    i.e. ``EMAMomentum(params, lr, beta)`` equals
    ``torch.optim.SGD(params, lr=lr * (1 - beta), momentum=beta)`` (up to rounding; weight
    decay enters both gradients identically). The EMA form keeps the step size comparable
    to plain SGD's (:math:`v` is an average of gradients), while torch's buffer grows to
    about :math:`g / (1 - \mu)`.

    Args:
        params: tensors or parameter-group dicts to optimise.
        lr: learning rate :math:`\eta \ge 0` (no default: it differs from torch's by the
            factor above).
        beta: :math:`\beta \in [0, 1)` (default 0.9; ``beta = 0`` is plain SGD).
        weight_decay: L2 coefficient added to the gradient.
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
        lr: float,
        beta: float = 0.9,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        check_finite: bool = False,
    ):
        defaults = dict(
            lr=lr, beta=beta, weight_decay=weight_decay, foreach=foreach, maximize=maximize
        )
        super().__init__(params, defaults, check_finite=check_finite)

    def _validate_group(self, group):
        group["lr"] = _validate.learning_rate("lr", group["lr"])
        group["beta"] = _validate.unit_interval("beta", group["beta"])
        group["weight_decay"] = _validate.nonnegative("weight_decay", group["weight_decay"])
        group["foreach"] = _validate.optional_boolean("foreach", group["foreach"])

    def _update(self, group, param, grad, state):
        ema_momentum_update.__wrapped__(
            param,
            grad,
            state,
            lr=group["lr"],
            beta=group["beta"],
            weight_decay=group["weight_decay"],
        )

    def _foreach_update(self, group, params, grads, states):
        beta, wd = group["beta"], group["weight_decay"]
        if wd != 0:
            grads = torch._foreach_add(grads, params, alpha=wd)
        vs = [ema_momentum_state(p, s) for p, s in zip(params, states)]
        torch._foreach_lerp_(vs, grads, 1 - beta)
        torch._foreach_add_(params, vs, alpha=-group["lr"])
