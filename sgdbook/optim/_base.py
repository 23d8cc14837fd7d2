"""The machinery shared by sgdbook's optimizers: validation, the step loop, divergence checks.

Every optimizer in :mod:`sgdbook.optim` is a :class:`torch.optim.Optimizer` subclass built on
:class:`BookOptimizer`. A subclass supplies two things:

* ``_update(group, param, grad, state)``: the textbook update of **one** tensor (it calls the
  small module-level function the book explains, e.g. :func:`sgdbook.optim.adam_update`);
* ``_foreach_update(group, params, grads, states)``: the same arithmetic on a whole list of
  tensors at once with the ``torch._foreach_*`` ops (one call per operation instead of one per
  tensor and operation), used when ``foreach`` allows it.

Each optimizer's per-tensor state is created in one place, a module-level initialiser next to
its update function (:func:`~sgdbook.optim.adam.adam_state`,
:func:`~sgdbook.optim.sgd.momentum_buffer`,
:func:`~sgdbook.optim.sgd.ema_momentum_state`,
:func:`~sgdbook.optim.adaptive.adagrad_state`,
:func:`~sgdbook.optim.adaptive.rmsprop_state`;
torch's ``_init_group`` plays this role): both the update function and the multi-tensor path
call it, and its docstring lists the state keys.

Both paths perform the same operations in the same order as ``torch.optim``, so they agree with
it to the last few bits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import torch

from .. import validation as _validate
from ..divergence import DivergenceError

__all__ = ["BookOptimizer", "DivergenceError", "assert_finite", "params_finite"]


def _max_abs(params: list[torch.Tensor]) -> list[torch.Tensor]:
    """``max |p|`` of every tensor (``nan`` propagates, ``inf`` stays ``inf``; nothing overflows)."""
    if not params:
        return []
    try:
        return list(torch._foreach_norm(params, ord=math.inf))
    except (RuntimeError, TypeError, NotImplementedError):  # pragma: no cover - very old torch
        return [p.detach().abs().amax() for p in params]


def params_finite(optimizer: torch.optim.Optimizer) -> bool:
    """``True`` when every parameter of ``optimizer`` (sgdbook's or torch's) is finite.

    One reduction per tensor and a single device-to-host transfer; no warnings are emitted.

    Raises:
        TypeError: ``optimizer`` is not a torch optimizer.
    """
    _validate.torch_optimizer("optimizer", optimizer)
    params = [p for g in optimizer.param_groups for p in g["params"] if p.numel() > 0]
    if not params:
        return True
    with torch.no_grad():
        by_device: dict[torch.device, list[torch.Tensor]] = defaultdict(list)
        for p in params:
            by_device[p.device].append(p)
        for ps in by_device.values():
            if not bool(torch.stack([torch.isfinite(m) for m in _max_abs(ps)]).all()):
                return False
    return True


def assert_finite(optimizer: torch.optim.Optimizer, step: int | None = None) -> None:
    """Raise :class:`~sgdbook.divergence.DivergenceError` if any parameter of ``optimizer`` is ``inf`` or ``nan``.

    Works with sgdbook and torch optimizers. Typical use in a training loop that may diverge on
    purpose::

        try:
            for epoch in range(epochs):
                ...
                optimizer.step()
                assert_finite(optimizer, step=epoch)
        except DivergenceError as err:
            print(err)          # one line, instead of a flood of nan losses

    Args:
        optimizer: any :class:`torch.optim.Optimizer`.
        step: the step (or epoch) number to put in the message.

    Raises:
        ~sgdbook.divergence.DivergenceError: a parameter is not finite; the message names the group, the tensor,
            its shape, the learning rate and the step.
        TypeError, ValueError: ``optimizer`` is not a torch optimizer, ``step`` not ``None`` or
            an integer >= 0.
    """
    if step is not None:
        _validate.integer("step", step, minimum=0)
    if params_finite(optimizer):
        return
    for gi, group in enumerate(optimizer.param_groups):
        for pi, p in enumerate(group["params"]):
            if p.numel() and not bool(torch.isfinite(p.detach()).all()):
                where = f"after step {step}" if step is not None else "after the last step"
                raise DivergenceError(
                    f"diverged {where}: parameter {pi} of group {gi} (shape {tuple(p.shape)}) "
                    f"is not finite (lr={group.get('lr')}); lower the learning rate",
                    step=step,
                    group=gi,
                    index=pi,
                )


#: Device types on which ``foreach=None`` picks the multi-tensor path (torch's choice too).
_FOREACH_DEVICES = ("cuda", "xpu")


def _group_by_device_and_dtype(params: list[torch.Tensor]) -> list[list[int]]:
    """Indices of ``params`` split by (device, dtype): ``torch._foreach_*`` wants uniform lists."""
    buckets: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    for i, p in enumerate(params):
        buckets.setdefault((p.device, p.dtype), []).append(i)
    return list(buckets.values())


class BookOptimizer(torch.optim.Optimizer):
    """Base class of sgdbook's optimizers: validation, the step loop, divergence checks.

    A subclass supplies ``_validate_group(group)`` (checks one parameter group's
    hyper-parameters), ``_update(group, param, grad, state)`` (the textbook update of one
    tensor, calling e.g. :func:`~sgdbook.optim.adam_update`) and
    ``_foreach_update(group, params, grads, states)`` (the same arithmetic on lists of tensors
    with ``torch._foreach_*`` ops). :meth:`step` skips parameters without a gradient, negates
    the gradients of a ``maximize`` group, picks the path (see ``foreach``), and with
    ``check_finite`` raises :class:`~sgdbook.divergence.DivergenceError` after a step that left a
    parameter ``inf`` or ``nan``.

    Args:
        params: an iterable of tensors, or of dicts defining parameter groups (as in torch).
        defaults: the hyper-parameters, validated for every parameter group.
        check_finite: after each step, raise :class:`~sgdbook.divergence.DivergenceError` if a parameter is not
            finite (costs one reduction per tensor and one device sync per step).

    Raises:
        ValueError: ``params`` is empty, a parameter group has no parameters, or a
            hyper-parameter is out of range (also for groups added later with
            ``add_param_group``). torch accepts a group with ``"params": []``; sgdbook refuses
            it, as it refuses an empty parameter list.

    """

    def __init__(
        self, params: Iterable[Any], defaults: dict[str, Any], *, check_finite: bool = False
    ):
        if isinstance(params, torch.Tensor):
            raise TypeError(
                "params must be an iterable of tensors or dicts, got a single Tensor; "
                "pass [tensor] instead"
            )
        if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
            raise TypeError(f"params must be an iterable of tensors or dicts, got {params!r:.80}")
        params = list(params)
        if not params:
            raise ValueError("params must not be empty, got an empty parameter list")
        self.check_finite = _validate.boolean("check_finite", check_finite)
        #: Number of calls to :meth:`step` (used in divergence messages).
        self.steps_taken = 0
        super().__init__(params, defaults)

    # -- validation -------------------------------------------------------------------------
    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check (and normalise) one parameter group's hyper-parameters in place."""
        raise NotImplementedError

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (as torch does), validating its hyper-parameters.

        Raises:
            ValueError: the group has no parameters (torch accepts that; sgdbook does not), or
                a hyper-parameter is out of range. The group is then not added.
        """
        super().add_param_group(param_group)
        try:
            group = self.param_groups[-1]
            if not group["params"]:
                raise ValueError(
                    f"params of parameter group {len(self.param_groups) - 1} must not be "
                    "empty, got an empty parameter list"
                )
            self._validate_group(group)
            group["maximize"] = _validate.boolean("maximize", group.get("maximize", False))
            for p in group["params"]:
                if not (p.is_floating_point()):
                    raise TypeError(
                        f"params must be real floating-point tensors (sgdbook optimizers), got dtype "
                        f"{getattr(p, 'dtype', type(p).__name__)}"
                    )
        except Exception:
            self.param_groups.pop()
            raise

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("check_finite", False)
        self.__dict__.setdefault("steps_taken", 0)
        # torch keeps the step count as a tensor; sgdbook as a Python int. Accept both.
        for s in self.state.values():
            if "step" in s and torch.is_tensor(s["step"]):
                s["step"] = int(s["step"].item())

    # -- the step ---------------------------------------------------------------------------
    def _use_foreach(self, group: dict[str, Any], params: list[torch.Tensor]) -> bool:
        """Whether to take the multi-tensor path for this group.

        ``foreach=True`` always does, ``False`` never. ``None`` (the default) decides as torch
        does: the multi-tensor path on GPUs, where it saves one kernel launch per tensor and
        operation, and the per-tensor loop on the CPU, where ``torch._foreach_*`` ops are
        themselves loops over tensors, and the per-tensor order keeps each tensor's working
        set in cache (measured in ``benchmarks/bench_optim.py``). Both paths give the same
        numbers.
        """
        foreach = group.get("foreach")
        if foreach is None:
            return len(params) > 1 and all(p.device.type in _FOREACH_DEVICES for p in params)
        return foreach

    def _update(
        self, group: dict[str, Any], param: torch.Tensor, grad: torch.Tensor, state: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def _foreach_update(
        self,
        group: dict[str, Any],
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        states: list[dict[str, Any]],
    ) -> None:
        """The multi-tensor path; by default the per-tensor update, tensor by tensor.

        An optimizer without a ``torch._foreach_*`` form (NAdam, RAdam) keeps this default, so
        ``foreach=True`` gives the same numbers as ``foreach=False``.
        """
        for param, grad, state in zip(params, grads, states):
            self._update(group, param, grad, state)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step; returns ``closure()`` (evaluated with gradients enabled) if given.

        Parameters whose ``grad`` is ``None`` are skipped, as in torch.

        Raises:
            ValueError, TypeError: a parameter group's hyper-parameter is out of range or of
                the wrong type *now* (e.g. ``group["lr"] = nan`` set by hand, by a schedule or
                by ``load_state_dict``); nothing is updated. The message names the group.
            ~sgdbook.divergence.DivergenceError: with ``check_finite=True``, when a parameter became non-finite.
            RuntimeError: a gradient is sparse (sgdbook's optimizers are dense only).
        """
        # Hyper-parameters are checked again at every step: schedules, load_state_dict and users
        # change group["lr"] & co. after construction (a few float comparisons per group).
        for gi, group in enumerate(self.param_groups):
            try:
                self._validate_group(group)
            except (TypeError, ValueError) as exc:
                raise type(exc)(
                    f"param_groups[{gi}] before step {self.steps_taken + 1}: {exc}"
                ) from exc
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            if any(g.is_sparse for g in grads):
                raise RuntimeError("sgdbook optimizers do not support sparse gradients")
            if group.get("maximize", False):
                grads = torch._foreach_neg(grads)  # ascend: the same update with -g
            states = [self.state[p] for p in params]
            if self._use_foreach(group, params):
                for idx in _group_by_device_and_dtype(params):
                    self._foreach_update(
                        group,
                        [params[i] for i in idx],
                        [grads[i] for i in idx],
                        [states[i] for i in idx],
                    )
            else:
                for p, g, s in zip(params, grads, states):
                    self._update(group, p, g, s)
        self.steps_taken += 1
        if self.check_finite:
            assert_finite(self, step=self.steps_taken)
        return loss
