r"""Learning-rate schedules that work with sgdbook's and torch's optimizers alike.

A schedule is attached to an optimizer and, like ``torch.optim.lr_scheduler``, writes the
learning rate of every parameter group into ``group["lr"]``: once when it is created (the
rate of epoch 0) and again at every :meth:`Schedule.step` (call it after ``optimizer.step()``,
once per epoch or per iteration, as you prefer). It remembers each group's starting rate as
``group["initial_lr"]`` (``base_lrs``), offers :meth:`LRSchedule.get_last_lr`,
:meth:`LRSchedule.state_dict` and :meth:`LRSchedule.load_state_dict`, and emits no warnings.

The hierarchy (see :class:`LRSchedule` for the protocol all of them follow):

* :class:`LRSchedule`: the common base, which owns ``group["lr"]``;
* :class:`Schedule` (epoch-driven, ``step()``, closed form :meth:`Schedule.lr_at`):
  :class:`InverseTimeDecay`, :class:`StepDecay`, :class:`MultiStepDecay`,
  :class:`ExponentialDecay`, :class:`CosineAnnealing`, :class:`CosineAnnealingWarmRestarts`;
* :class:`MetricSchedule` (metric-driven, ``step(metric)``, no closed form):
  :class:`ReduceOnPlateau`;
* :class:`LinearWarmup`: a warm-up in front of a schedule of either kind (or of nothing).

A new epoch-driven schedule subclasses :class:`Schedule` and defines ``_closed_form`` (and
``_next_lr`` where torch's update is recursive); a new metric-driven one subclasses
:class:`MetricSchedule` and defines ``step(metrics)`` and, if it keeps history, ``restart``.

Each schedule reproduces the numbers of its torch counterpart, including torch's *recursive*
("chainable") updates: :class:`StepDecay`, :class:`MultiStepDecay`,
:class:`ExponentialDecay` and :class:`CosineAnnealing` multiply or shift the *current*
``group["lr"]``, exactly as torch does, so they compose with other code that changes the rate.
For plotting, :meth:`Schedule.lr_at` gives the closed form :math:`\eta_t` of any epoch
(no optimizer state is touched), and :func:`lr_curve` records the rates a schedule actually
sets over a number of steps (it also accepts torch's schedulers).

Counterparts in ``torch.optim.lr_scheduler``:

* :class:`InverseTimeDecay`: ``LambdaLR(opt, lambda e: 1 / (1 + k * e))``;
* :class:`StepDecay`: ``StepLR``; :class:`MultiStepDecay`: ``MultiStepLR``;
* :class:`ExponentialDecay`: ``ExponentialLR``;
* :class:`CosineAnnealing`: ``CosineAnnealingLR``;
* :class:`CosineAnnealingWarmRestarts`: ``CosineAnnealingWarmRestarts``;
* :class:`LinearWarmup`: ``LinearLR(opt, start_factor, 1.0, warmup_steps)``, and with a
  following schedule ``SequentialLR(opt, [that LinearLR, after], milestones=[warmup_steps])``;
* :class:`ReduceOnPlateau`: ``ReduceLROnPlateau``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from .. import validation as _validate

__all__ = [
    "LRSchedule",
    "Schedule",
    "MetricSchedule",
    "InverseTimeDecay",
    "StepDecay",
    "MultiStepDecay",
    "ExponentialDecay",
    "CosineAnnealing",
    "CosineAnnealingWarmRestarts",
    "LinearWarmup",
    "ReduceOnPlateau",
    "lr_curve",
]


class LRSchedule:
    """What every sgdbook schedule has in common: it owns ``group["lr"]`` of an optimizer.

    There are two kinds, and every concrete schedule is one of them:

    * :class:`Schedule`: **epoch-driven**. The rate is a function of the epoch counter alone;
      :meth:`Schedule.step` takes no argument and :meth:`Schedule.lr_at` gives the closed form
      of any epoch.
    * :class:`MetricSchedule`: **metric-driven**. The rate depends on the values of a
      monitored metric; :meth:`MetricSchedule.step` takes that value, and there is no closed
      form (so no ``lr_at``).

    :class:`LinearWarmup` is neither on its own: it warms up and then hands over to a schedule
    of either kind through the protocol below, and its ``step`` takes what the following
    schedule's ``step`` takes.

    The protocol shared by both kinds (what :class:`LinearWarmup` relies on):

    * ``optimizer``, ``base_lrs`` (the starting rate of each parameter group; a warm-up in
      front overwrites it with the warmed-up rate) and ``last_epoch`` (0 after creation);
    * ``step(...)``: advance one epoch (or iteration) and write the new rates;
    * :meth:`restart`: go back to epoch 0 from ``base_lrs``, forgetting all history;
    * :meth:`get_last_lr`, :meth:`state_dict`, :meth:`load_state_dict`.

    Subclasses call ``LRSchedule.__init__(optimizer, base_lrs)`` first and then set the rates of
    epoch 0.

    Args:
        optimizer: a :class:`torch.optim.Optimizer` (sgdbook's or torch's).
        base_lrs: the starting rate of each parameter group.

    Raises:
        TypeError: ``optimizer`` is not a torch optimizer.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, base_lrs: Sequence[float]):
        _validate.torch_optimizer("optimizer", optimizer)
        self.optimizer = optimizer
        #: The starting learning rate of each parameter group.
        self.base_lrs: list[float] = list(base_lrs)
        #: The epoch whose rate is in the optimizer now (0 right after creation).
        self.last_epoch = 0
        self._last_lr: list[Any] = [group["lr"] for group in optimizer.param_groups]

    def _apply(self, lrs: Sequence[float]) -> None:
        """Write one rate per parameter group (replacing the value) and remember them."""
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def step(self, *args: Any) -> None:
        """Advance one epoch (or iteration) and set the new rate in every parameter group."""
        raise NotImplementedError

    def restart(self) -> None:
        """Go back to epoch 0, starting again from ``base_lrs`` (a warm-up hands over so)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The rates set by the last call (one per parameter group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, as torch's schedulers do."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned.

        Raises:
            TypeError, ValueError: ``state_dict`` is not a dict, has a key this schedule does
                not have, or holds a hyper-parameter that the constructor would refuse (a
                negative ``gamma``, ``last_epoch < 0`` ...); the schedule is then unchanged.
        """
        self._check_state(state_dict)
        self.__dict__.update(state_dict)

    def _check_state(self, state: Any) -> None:
        """Refuse a state dict whose hyper-parameters the constructor would refuse.

        The constructor is the one home of each schedule's checks, so it is run on a probe
        optimizer with the loaded hyper-parameters (those named like constructor arguments).
        """
        import inspect

        if not isinstance(state, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state).__name__}")
        unknown = sorted(set(state) - set(self.__dict__) - {"after"})
        if unknown:
            raise ValueError(f"state_dict has keys {type(self).__name__} does not have: {unknown}")
        if "last_epoch" in state:
            _validate.integer("state_dict['last_epoch']", state["last_epoch"], minimum=0)
        if "base_lrs" in state:
            lrs = state["base_lrs"]
            if not isinstance(lrs, (list, tuple)) or len(lrs) != len(self.optimizer.param_groups):
                raise ValueError(
                    f"state_dict['base_lrs'] must hold one rate per parameter group "
                    f"({len(self.optimizer.param_groups)}), got {lrs!r}"
                )
            for i, lr in enumerate(lrs):
                _validate.learning_rate(f"state_dict['base_lrs'][{i}]", lr)
        params = list(inspect.signature(type(self).__init__).parameters)[2:]
        kwargs = {name: state[name] for name in params if name in state and name != "after"}
        if not kwargs:
            return
        probe = torch.optim.SGD(
            [
                {"params": [torch.zeros(1)], "lr": float(g["lr"])}
                for g in self.optimizer.param_groups
            ],
            lr=0.0,
        )
        try:
            type(self)(probe, **kwargs)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"state_dict: {exc}") from exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


class Schedule(LRSchedule):
    """An epoch-driven schedule: sets ``group["lr"]`` of every parameter group from the epoch.

    Subclasses define ``_closed_form(base_lr, epoch)`` (the rate of any epoch from the base
    rate) and, where torch updates recursively, ``_next_lr(lr, base_lr, epoch)`` (the rate of
    ``epoch`` given the current rate, as torch computes it; by default the closed form). The
    base rates are the groups' ``initial_lr`` (set to the current rate if missing, as torch
    does).

    Args:
        optimizer: a :class:`torch.optim.Optimizer` (sgdbook's or torch's).

    Raises:
        TypeError: ``optimizer`` is not a torch optimizer.
    """

    def __init__(self, optimizer: torch.optim.Optimizer):
        _validate.torch_optimizer("optimizer", optimizer)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        super().__init__(optimizer, [group["initial_lr"] for group in optimizer.param_groups])
        self._apply([self._next_lr(g["lr"], b, 0) for g, b in self._groups()])

    def _groups(self):
        return zip(self.optimizer.param_groups, self.base_lrs)

    def _next_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        """The rate for ``epoch`` given the current rate ``lr`` (torch's recursive form)."""
        return self._closed_form(base_lr, epoch)

    def _closed_form(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch (or iteration) and set the new rate in every parameter group."""
        self.last_epoch += 1
        self._apply([self._next_lr(g["lr"], b, self.last_epoch) for g, b in self._groups()])

    def restart(self) -> None:
        """Go back to epoch 0: the rate of epoch 0 computed from ``base_lrs``."""
        self.last_epoch = 0
        self._apply([self._closed_form(b, 0) for b in self.base_lrs])

    def lr_at(self, epoch: int, group: int = 0) -> float:
        """The closed-form rate of ``epoch`` for parameter group ``group`` (for plots).

        Equal to what :meth:`step` sets after ``epoch`` steps, up to rounding, as long as
        nothing else changed the rate.

        Raises:
            TypeError: ``epoch`` is not an integer.
            ValueError: ``epoch`` is negative.
        """
        epoch = _validate.integer("epoch", epoch, minimum=0)
        return self._closed_form(self.base_lrs[group], epoch)


class MetricSchedule(LRSchedule):
    """A metric-driven schedule: :meth:`step` takes the monitored value of this epoch.

    The rate depends on the metrics seen so far, so there is no closed form; to plot one, use
    :func:`lr_curve` with ``metrics``. The base rates are the groups' current rates. Rates are
    written with ``_set_lr``, which fills a tensor rate in place (as torch's
    ``ReduceLROnPlateau`` does) instead of replacing it by a float.

    Args:
        optimizer: a :class:`torch.optim.Optimizer` (sgdbook's or torch's).

    Raises:
        TypeError: ``optimizer`` is not a torch optimizer.
    """

    def __init__(self, optimizer: torch.optim.Optimizer):
        _validate.torch_optimizer("optimizer", optimizer)
        super().__init__(optimizer, [float(group["lr"]) for group in optimizer.param_groups])
        self._record_lrs()

    def step(self, metrics: float) -> None:
        """Record this epoch's metric and set the new rates.

        Args:
            metrics: the monitored value (a number or a one-element tensor).
        """
        raise NotImplementedError

    def restart(self) -> None:
        """Back to epoch 0: the rates become ``base_lrs``; subclasses also reset their history."""
        self.last_epoch = 0
        for group, lr in zip(self.optimizer.param_groups, self.base_lrs):
            self._set_lr(group, lr)
        self._record_lrs()

    @staticmethod
    def _set_lr(group: dict[str, Any], lr: float) -> None:
        """``group["lr"] = lr``, filling a tensor rate in place as torch does."""
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(float(lr))
        else:
            group["lr"] = lr

    def _record_lrs(self) -> None:
        """Remember the current rates for :meth:`get_last_lr` (tensors copied, as torch)."""
        self._last_lr = [
            g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"]
            for g in self.optimizer.param_groups
        ]


class InverseTimeDecay(Schedule):
    r"""Inverse-time decay :math:`\eta_t = \eta_0 / (1 + k t)`.

    Torch counterpart: ``LambdaLR(optimizer, lambda t: 1 / (1 + k * t))``. The sum of the rates
    diverges while the sum of their squares converges: the Robbins–Monro conditions.

    Args:
        optimizer: the optimizer whose rates are set.
        k: decay rate :math:`k \ge 0` (``k = 0`` keeps the rate constant).

    Raises:
        ValueError: ``k`` negative or not finite.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, k: float):
        self.k = _validate.nonnegative("k", k)
        super().__init__(optimizer)

    def _closed_form(self, base_lr, epoch):
        return base_lr / (1 + self.k * epoch)


class StepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs:
    :math:`\eta_t = \eta_0 \gamma^{\lfloor t / \text{step\_size} \rfloor}`; torch's ``StepLR``.

    Args:
        optimizer: the optimizer whose rates are set.
        step_size: period in epochs (integer ``>= 1``).
        gamma: factor :math:`\gamma > 0` (default 0.1).

    Raises:
        ValueError: ``step_size < 1`` or ``gamma <= 0``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = _validate.integer("step_size", step_size, minimum=1)
        self.gamma = _validate.positive("gamma", gamma)
        super().__init__(optimizer)

    def _next_lr(self, lr, base_lr, epoch):
        if epoch == 0 or epoch % self.step_size != 0:
            return lr
        return lr * self.gamma

    def _closed_form(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` at each epoch listed in ``milestones``; torch's ``MultiStepLR``.

    :math:`\eta_t = \eta_0 \gamma^{\#\{m \in \text{milestones}: m \le t\}}` (a milestone
    listed twice counts twice, as in torch).

    Args:
        optimizer: the optimizer whose rates are set.
        milestones: epochs (integers ``>= 1``) at which the rate is multiplied by ``gamma``.
        gamma: factor :math:`\gamma > 0` (default 0.1).

    Raises:
        ValueError: a milestone ``< 1``, no milestones, or ``gamma <= 0``.
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, milestones: Iterable[int], gamma: float = 0.1
    ):
        try:
            ms = list(milestones)
        except TypeError as exc:
            raise TypeError(f"milestones must be a list of integers, got {milestones!r}") from exc
        if not ms:
            raise ValueError("milestones must not be empty, got []")
        ms = [_validate.integer(f"milestones[{i}]", m, minimum=1) for i, m in enumerate(ms)]
        self.milestones = Counter(ms)
        self.gamma = _validate.positive("gamma", gamma)
        super().__init__(optimizer)

    def _next_lr(self, lr, base_lr, epoch):
        if epoch not in self.milestones:
            return lr
        return lr * self.gamma ** self.milestones[epoch]

    def _closed_form(self, base_lr, epoch):
        passed = sum(n for m, n in self.milestones.items() if m <= epoch)
        return base_lr * self.gamma**passed


class ExponentialDecay(Schedule):
    r"""Exponential decay :math:`\eta_t = \eta_0 \gamma^t`; torch's ``ExponentialLR``.

    Args:
        optimizer: the optimizer whose rates are set.
        gamma: factor per epoch :math:`\gamma > 0`.

    Raises:
        ValueError: ``gamma <= 0`` or not finite.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, gamma: float):
        self.gamma = _validate.positive("gamma", gamma)
        super().__init__(optimizer)

    def _next_lr(self, lr, base_lr, epoch):
        return lr if epoch == 0 else lr * self.gamma

    def _closed_form(self, base_lr, epoch):
        return base_lr * self.gamma**epoch


class CosineAnnealing(Schedule):
    r"""Cosine annealing :math:`\eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})(1 + \cos(\pi t / T_{\max}))`.

    Torch's ``CosineAnnealingLR``, whose ``step()`` uses the recursive form

    .. math::

        \eta_t = \eta_{\min} + (\eta_{t-1} - \eta_{\min})
                 \frac{1 + \cos(\pi t / T_{\max})}{1 + \cos(\pi (t-1) / T_{\max})}

    (with an additive update where the denominator vanishes); this class does the same and so
    gives torch's numbers (:meth:`Schedule.lr_at` gives the closed form above). After :math:`T_{\max}` the rate climbs back along the cosine
    (period :math:`2 T_{\max}`), as in torch; see :class:`CosineAnnealingWarmRestarts` for
    restarts.

    Args:
        optimizer: the optimizer whose rates are set.
        T_max: half period in epochs (integer ``>= 1``).
        eta_min: the lowest rate :math:`\eta_{\min} \ge 0` (default 0).

    Raises:
        ValueError: ``T_max < 1`` or ``eta_min < 0``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, T_max: int, eta_min: float = 0.0):
        self.T_max = _validate.integer("T_max", T_max, minimum=1)
        self.eta_min = _validate.nonnegative("eta_min", eta_min)
        super().__init__(optimizer)

    def _next_lr(self, lr, base_lr, epoch):
        T, eta_min = self.T_max, self.eta_min
        if epoch == 0:
            return lr
        if (epoch - 1 - T) % (2 * T) == 0:
            return lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
        return (1 + math.cos(math.pi * epoch / T)) / (1 + math.cos(math.pi * (epoch - 1) / T)) * (
            lr - eta_min
        ) + eta_min

    def _closed_form(self, base_lr, epoch):
        return (
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        )


class CosineAnnealingWarmRestarts(Schedule):
    r"""Cosine annealing with warm restarts (SGDR); torch's ``CosineAnnealingWarmRestarts``.

    :math:`\eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})(1 + \cos(\pi T_{cur} / T_i))`,
    where :math:`T_{cur}` counts the epochs since the last restart and the :math:`i`-th cycle
    lasts :math:`T_i = T_0 T_{mult}^i` epochs.

    Args:
        optimizer: the optimizer whose rates are set.
        T_0: length of the first cycle (integer ``>= 1``).
        T_mult: growth factor of the cycle length (integer ``>= 1``, default 1).
        eta_min: the lowest rate (``>= 0``, default 0).

    Raises:
        ValueError: ``T_0 < 1``, ``T_mult < 1`` or ``eta_min < 0``.
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0
    ):
        self.T_0 = _validate.integer("T_0", T_0, minimum=1)
        self.T_mult = _validate.integer("T_mult", T_mult, minimum=1)
        self.eta_min = _validate.nonnegative("eta_min", eta_min)
        self.T_i, self.T_cur = self.T_0, 0
        super().__init__(optimizer)

    def _cycle(self, epoch: int) -> tuple[int, int]:
        """``(T_cur, T_i)`` at ``epoch``, by walking through the cycles (exact integers)."""
        T_i, T_cur = self.T_0, epoch
        while T_cur >= T_i:
            T_cur -= T_i
            T_i *= self.T_mult
        return T_cur, T_i

    def _cosine(self, base_lr: float, T_cur: int, T_i: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2

    def step(self) -> None:
        """Advance one epoch; restart the cosine when the current cycle is over."""
        self.last_epoch += 1
        self.T_cur += 1
        if self.T_cur >= self.T_i:
            self.T_cur -= self.T_i
            self.T_i *= self.T_mult
        self._apply([self._cosine(b, self.T_cur, self.T_i) for b in self.base_lrs])

    def restart(self) -> None:
        """Go back to epoch 0 and to the first cycle."""
        self.T_i, self.T_cur = self.T_0, 0
        super().restart()

    def _closed_form(self, base_lr, epoch):
        return self._cosine(base_lr, *self._cycle(epoch))


class LinearWarmup(LRSchedule):
    r"""Linear warm-up over ``warmup_steps`` epochs, then hand over to another schedule.

    For :math:`t < W` (``W = warmup_steps``):
    :math:`\eta_t = \eta_0\,(s + (1 - s)\, t / W)` with :math:`s` = ``start_factor``, where
    :math:`\eta_0` is each group's **current** rate when the warm-up is created (as in torch's
    ``LinearLR``, which starts from ``group["lr"] * start_factor``; this is also
    ``base_lrs``); at :math:`t = W` the schedule ``after`` starts from its own epoch 0 with
    :math:`\eta_0` as its base rate (so its epoch :math:`j` is our epoch :math:`W + j`);
    without ``after`` the rate stays at :math:`\eta_0`.

    Torch counterpart: ``LinearLR(opt, start_factor=s, end_factor=1.0, total_iters=W)``, and
    with ``after``, ``SequentialLR(opt, [that LinearLR, torch_after], milestones=[W])``.
    Like torch's ``LinearLR``, the warm-up uses the recursive update when ``s > 0``; ``s = 0``
    (start from a zero rate, which torch does not allow) uses the closed form. One
    difference: torch's ``SequentialLR`` first resets every group to its ``initial_lr``, so in
    a second phase (after an earlier schedule lowered the rate) it warms up to the *original*
    rate; ``LinearWarmup`` warms up to the current one, as ``LinearLR`` alone does. Both agree
    when nothing changed the rate before.

    Create ``after`` first, on the same optimizer::

        cosine = CosineAnnealing(opt, T_max=90)
        schedule = LinearWarmup(opt, warmup_steps=10, after=cosine, start_factor=0.1)

    and then call only ``schedule.step()``.

    Args:
        optimizer: the optimizer whose rates are set.
        warmup_steps: :math:`W`, integer ``>= 1``.
        after: an sgdbook :class:`Schedule` on the same optimizer, or ``None``; its base
            rates become :math:`\eta_0`. With a :class:`ReduceOnPlateau` (which torch's
            ``SequentialLR`` refuses), pass the metric to every ``step(metric)``: it is
            ignored during the warm-up, and the plateau logic starts at :math:`t = W` from
            :math:`\eta_0`.
        start_factor: :math:`s \in [0, 1]` (default ``1/3``, torch's ``LinearLR`` default).

    Raises:
        ValueError: ``warmup_steps < 1``, ``start_factor`` outside [0, 1], or ``after`` on
            another optimizer.
        TypeError: ``after`` is not an sgdbook schedule.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int,
        after: LRSchedule | None = None,
        start_factor: float = 1.0 / 3,
    ):
        _validate.torch_optimizer("optimizer", optimizer)
        self.warmup_steps = _validate.integer("warmup_steps", warmup_steps, minimum=1)
        self.start_factor = _validate.unit_interval("start_factor", start_factor, closed_right=True)
        if after is not None:
            if not isinstance(after, LRSchedule) or isinstance(after, LinearWarmup):
                raise TypeError(
                    f"after must be an sgdbook schedule other than LinearWarmup, got {after!r}"
                )
            if after.optimizer is not optimizer:
                raise ValueError("after must be a schedule of the same optimizer")
        self.after = after
        # torch's LinearLR warms up to the rate the groups have now, not to initial_lr
        peak_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        super().__init__(optimizer, peak_lrs)
        # epoch 0: group["lr"] * start_factor, as LinearLR
        self._apply([g["lr"] * self.start_factor for g in optimizer.param_groups])
        if after is not None:
            after.base_lrs = list(peak_lrs)  # it takes over from the warmed-up rate

    def _warmup_lr(self, base_lr: float, epoch: int) -> float:
        """The closed form of the warm-up, :math:`\\eta_0 (s + (1 - s) t / W)`, for ``t <= W``."""
        s, W = self.start_factor, self.warmup_steps
        return base_lr * (s + (1.0 - s) * epoch / W)

    def _next_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        """torch's recursive ``LinearLR`` update for epoch ``epoch >= 1``."""
        s, W = self.start_factor, self.warmup_steps
        if epoch > W:
            return lr
        if s == 0:
            return self._warmup_lr(base_lr, epoch)
        return lr * (1.0 + (1.0 - s) / (W * s + (epoch - 1) * (1.0 - s)))

    def step(self, *args: Any) -> None:
        """Advance one epoch: warm up, or let ``after`` take over from epoch ``warmup_steps``.

        Args:
            *args: what ``after.step`` takes (nothing for a :class:`Schedule`, the metric for a
                :class:`MetricSchedule`); ignored during the warm-up and at the hand-over.

        Raises:
            TypeError: the arguments do not suit ``after.step`` (e.g. no metric for a
                metric-driven ``after``).
        """
        self.last_epoch += 1
        if self.after is None or self.last_epoch < self.warmup_steps:
            self._apply(
                [
                    self._next_lr(g["lr"], b, self.last_epoch)
                    for g, b in zip(self.optimizer.param_groups, self.base_lrs)
                ]
            )
            return
        if self.last_epoch == self.warmup_steps:
            self.after.restart()
        else:
            self.after.step(*args)
        self._last_lr = self.after.get_last_lr()

    def restart(self) -> None:
        """Go back to epoch 0 of the warm-up (``base_lrs`` times ``start_factor``)."""
        self.last_epoch = 0
        self._apply([b * self.start_factor for b in self.base_lrs])

    def lr_at(self, epoch: int, group: int = 0) -> float:
        """The closed-form rate of ``epoch``: the warm-up, then ``after``'s :meth:`Schedule.lr_at`.

        Raises:
            TypeError: ``epoch`` is not an integer, or ``epoch >= warmup_steps`` and ``after``
                is a :class:`MetricSchedule` (its rates have no closed form).
            ValueError: ``epoch`` is negative.
        """
        epoch = _validate.integer("epoch", epoch, minimum=0)
        if epoch < self.warmup_steps:
            return self._warmup_lr(self.base_lrs[group], epoch)
        if self.after is None:
            return self.base_lrs[group]
        if not isinstance(self.after, Schedule):
            raise TypeError(
                f"{type(self.after).__name__} is metric-driven: its rates have no closed form; "
                "use lr_curve(..., metrics=...)"
            )
        return self.after.lr_at(epoch - self.warmup_steps, group)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer; ``after``'s state is nested."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "after")}
        state["after"] = None if self.after is None else self.after.state_dict()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (``after`` must be of the same kind)."""
        self._check_state(state_dict)
        state = dict(state_dict)
        after_state = state.pop("after")
        self.__dict__.update(state)
        if after_state is not None and self.after is not None:
            self.after.load_state_dict(after_state)


class ReduceOnPlateau(MetricSchedule):
    r"""Divide the rate when a metric stops improving; torch's ``ReduceLROnPlateau``.

    Call ``step(metric)`` once per epoch with the monitored value (e.g. validation loss). A
    value is an improvement if it beats the best so far by the threshold
    (``rel``: :math:`a < \text{best}\,(1 - \text{threshold})` in ``min`` mode,
    ``abs``: :math:`a < \text{best} - \text{threshold}`; mirrored in ``max`` mode). After more
    than ``patience`` epochs without improvement every rate becomes
    :math:`\max(\eta \cdot \text{factor}, \text{min\_lr})` (changes smaller than ``eps`` are
    skipped) and ``cooldown`` epochs are ignored.

    Args:
        optimizer: the optimizer whose rates are set.
        mode: ``"min"`` or ``"max"``.
        factor: multiplier in (0, 1) (default 0.1).
        patience: bad epochs tolerated (integer ``>= 0``, default 10).
        threshold: improvement threshold (``>= 0``, default ``1e-4``).
        threshold_mode: ``"rel"`` or ``"abs"``.
        cooldown: epochs to wait after a reduction (integer ``>= 0``).
        min_lr: lower bound on the rate (``>= 0``), or one per parameter group. As in torch,
            a single number also applies to parameter groups added to the optimizer later
            (``min_lrs`` is extended at the next reduction); with a list, a later group
            makes that reduction raise ``RuntimeError`` (set ``min_lrs`` to match).
        eps: minimal change of the rate (``>= 0``, default ``1e-8``).

    A tensor learning rate (``torch.optim.SGD(params, lr=torch.tensor(0.1))``) is filled in
    place, as torch does, rather than replaced by a float.

    Raises:
        ValueError: an argument out of range (named in the message).
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0,
        eps: float = 1e-8,
    ):
        _validate.torch_optimizer("optimizer", optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        factor = _validate.positive("factor", factor)
        if factor >= 1:
            raise ValueError(f"factor must be < 1, got {factor!r}")
        self.mode, self.threshold_mode, self.factor = mode, threshold_mode, factor
        self.patience = _validate.integer("patience", patience, minimum=0)
        self.threshold = _validate.nonnegative("threshold", threshold)
        self.cooldown = _validate.integer("cooldown", cooldown, minimum=0)
        self.eps = _validate.nonnegative("eps", eps)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(
                    f"min_lr must have one entry per parameter group ({n}), got {len(min_lr)}"
                )
            self.min_lrs = [_validate.nonnegative(f"min_lr[{i}]", m) for i, m in enumerate(min_lr)]
            self.default_min_lr: float | None = None
        else:
            self.default_min_lr = _validate.nonnegative("min_lr", min_lr)
            self.min_lrs = [self.default_min_lr] * n
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        super().__init__(optimizer)

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            return (
                a < best * (1.0 - self.threshold)
                if self.threshold_mode == "rel"
                else a < best - self.threshold
            )
        return (
            a > best * (self.threshold + 1.0)
            if self.threshold_mode == "rel"
            else a > best + self.threshold
        )

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """Record this epoch's metric and reduce the rates if it has plateaued.

        Args:
            metrics: the monitored value (a number or a one-element tensor).
        """
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lrs()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._record_lrs()

    def _reduce_lrs(self) -> None:
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):  # a group was added after creation
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"the optimizer has {len(groups)} parameter groups but min_lr had "
                    f"{len(self.min_lrs)} entries; set min_lrs to one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)  # torch's rule
        for i, group in enumerate(groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                self._set_lr(group, new_lr)

    def restart(self) -> None:
        """Start afresh from the base rates, forgetting the best value and the counters."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        super().restart()


def lr_curve(
    make_schedule: Callable[[torch.optim.Optimizer], Any],
    epochs: int,
    lr: float = 1.0,
    *,
    metrics: Sequence[float] | None = None,
) -> np.ndarray:
    """The learning rates a schedule sets over ``epochs`` epochs, for plotting.

    Builds a throw-away optimizer with one parameter and rate ``lr``, attaches
    ``make_schedule(optimizer)`` (an sgdbook schedule or a torch scheduler), and records the
    rate of epochs ``0 .. epochs-1``.

    Args:
        make_schedule: e.g. ``lambda opt: CosineAnnealing(opt, T_max=50)``.
        epochs: number of rates to record (``>= 1``).
        lr: the base learning rate.
        metrics: for :class:`ReduceOnPlateau` (or torch's), the metric passed at each step
            (at least ``epochs - 1`` values).

    Returns:
        Array of shape ``(epochs,)``.

    Raises:
        ValueError: ``epochs < 1``, ``lr`` negative, or too few ``metrics``.
    """
    make_schedule = _validate.callable_("make_schedule", make_schedule)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    lr = _validate.nonnegative("lr", lr)
    if metrics is not None:
        _validate.array("metrics", metrics, ndim=1, min_size=0)
    if metrics is not None and len(metrics) < epochs - 1:
        raise ValueError(
            f"metrics must have at least epochs - 1 = {epochs - 1} values, got {len(metrics)}"
        )
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    schedule = make_schedule(optimizer)
    if metrics is not None and isinstance(schedule, Schedule):
        raise ValueError(
            f"metrics were given but {type(schedule).__name__} is epoch-driven "
            "(its step() takes no metric)"
        )
    out = [optimizer.param_groups[0]["lr"]]
    for t in range(epochs - 1):
        optimizer.step()  # no gradients: a no-op, but torch schedulers expect it first
        if metrics is not None:
            schedule.step(metrics[t])
        else:
            schedule.step()
        out.append(optimizer.param_groups[0]["lr"])
    return np.array(out, dtype=float)


# --- Chapter 6 additions: one-cycle and warmup-stable-decay schedules ------------------------


class OneCycle(Schedule):
    r"""Chapter 6 (:doc:`/lr-decay`): Smith's one-cycle policy, stepped once per **iteration**; torch's ``OneCycleLR``.

    The rate rises from :math:`\eta_{\max}/d` to :math:`\eta_{\max}` over the first
    ``pct_start`` of ``total_steps`` iterations and then falls to
    :math:`\eta_{\max}/(d\,d_f)` at iteration ``total_steps - 1`` (``d = div_factor``,
    ``d_f = final_div_factor``), along half a cosine (``anneal_strategy="cos"``) or a line.
    Phase boundaries are torch's: the first phase ends at step :math:`p T - 1`.

    With ``cycle_momentum`` (torch's default, ``True``) the momentum (``group["momentum"]``
    or :math:`\beta_1` of ``group["betas"]``) moves the opposite way, from ``max_momentum``
    down to ``base_momentum`` and back. Note what torch does here: an SGD optimizer created
    **without** momentum gets momentum 0.95 → 0.85 → 0.95 all the same, because its
    ``defaults`` have a ``"momentum"`` key. Pass ``cycle_momentum=False`` to leave it alone.

    Unlike the other schedules, the base rate is set by the schedule: ``group["initial_lr"]``
    becomes :math:`\eta_{\max}/d` (as torch does), whatever ``group["lr"]`` was.

    Args:
        optimizer: the optimizer whose rates are set.
        max_lr: peak rate :math:`\eta_{\max} > 0` (one for all groups).
        total_steps: number of iterations :math:`T \ge 2`; stepping past it raises.
        pct_start: fraction :math:`p \in (0, 1)` of the iterations spent rising.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        cycle_momentum: cycle the momentum too (see above).
        base_momentum, max_momentum: momentum range, in ``[0, 1)``.
        div_factor: :math:`d > 0`; final_div_factor: :math:`d_f > 0`.

    Raises:
        ValueError: an argument out of range, or a ``step`` beyond ``total_steps``.
        TypeError: ``cycle_momentum`` with an optimizer that has neither momentum nor betas.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
    ):
        _validate.torch_optimizer("optimizer", optimizer)
        self.max_lr = _validate.positive("max_lr", max_lr)
        self.total_steps = _validate.integer("total_steps", total_steps, minimum=2)
        self.pct_start = _validate.unit_interval("pct_start", pct_start)
        if not 0 < self.pct_start:
            raise ValueError(f"pct_start must be in (0, 1), got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        if not isinstance(cycle_momentum, bool):
            raise TypeError(f"cycle_momentum must be True or False, got {cycle_momentum!r}")
        self.cycle_momentum = cycle_momentum
        self.base_momentum = _validate.unit_interval("base_momentum", base_momentum)
        self.max_momentum = _validate.unit_interval("max_momentum", max_momentum)
        self.div_factor = _validate.positive("div_factor", div_factor)
        self.final_div_factor = _validate.positive("final_div_factor", final_div_factor)
        self.initial_lr = self.max_lr / self.div_factor
        self.min_lr = self.initial_lr / self.final_div_factor
        self._phase_end = float(self.pct_start * self.total_steps) - 1
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise TypeError("cycle_momentum needs an optimizer with momentum or betas")
            self._use_beta1 = "betas" in optimizer.defaults
        for group in optimizer.param_groups:
            group["initial_lr"] = self.initial_lr
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _phase(self, epoch: int) -> tuple[float, float, float, float, float]:
        """(start lr, end lr, start momentum, end momentum, fraction) of iteration ``epoch``."""
        if epoch <= self._phase_end:
            return (
                self.initial_lr,
                self.max_lr,
                self.max_momentum,
                self.base_momentum,
                epoch / self._phase_end,
            )
        end = self.total_steps - 1
        return (
            self.max_lr,
            self.min_lr,
            self.base_momentum,
            self.max_momentum,
            (epoch - self._phase_end) / (end - self._phase_end),
        )

    def _closed_form(self, base_lr, epoch):
        if epoch > self.total_steps:
            raise ValueError(f"stepped {epoch} times; total_steps is {self.total_steps}")
        a, b, _, _, pct = self._phase(epoch)
        return self._anneal(a, b, pct)

    def momentum_at(self, epoch: int) -> float:
        """The momentum (or :math:`\\beta_1`) the schedule sets at iteration ``epoch``."""
        epoch = _validate.integer("epoch", epoch, minimum=0)
        _, _, a, b, pct = self._phase(epoch)
        return self._anneal(a, b, pct)

    def _apply(self, lrs):
        super()._apply(lrs)
        if self.cycle_momentum:
            m = self.momentum_at(self.last_epoch)
            for group in self.optimizer.param_groups:
                if self._use_beta1:
                    group["betas"] = (m, *group["betas"][1:])
                else:
                    group["momentum"] = m


class WarmupStableDecay(Schedule):
    r"""Chapter 6 (:doc:`/lr-decay`): warmup–stable–decay ("WSD", trapezoidal) schedule.

    Linear warm-up from :math:`s\,\eta_0` to :math:`\eta_0` over ``warmup_steps`` :math:`W`
    steps, a constant :math:`\eta_0` for ``stable_steps`` :math:`S` steps, then a decay to
    :math:`\eta_{\min}` over ``decay_steps`` :math:`D` steps, after which the rate stays at
    :math:`\eta_{\min}`:

    .. math::

        \eta_t = \begin{cases}
          \eta_0\,(s + (1-s)\,t/W) & t < W \\
          \eta_0 & W \le t < W + S \\
          \eta_{\min} + (\eta_0 - \eta_{\min})\,\phi\!\left(\frac{t - W - S}{D}\right) & W + S \le t < W + S + D \\
          \eta_{\min} & \text{after,}
        \end{cases}

    with :math:`\phi(u) = 1 - u` (``decay="linear"``), :math:`1 - \sqrt u` (``"sqrt"``,
    the "1−sqrt" cool-down of Hägele et al. 2024) or :math:`\tfrac12(1 + \cos\pi u)`
    (``"cos"``). Computed in closed form at every step. Torch has no class of this name; the
    counterpart is ``LambdaLR(opt, lambda t: schedule.lr_at(t) / lr0)``, or for the linear
    decay to 0 ``SequentialLR`` of ``LinearLR`` (warm-up), ``ConstantLR(factor=1)`` and
    ``LinearLR(1, 0)`` (checked in the tests).

    Args:
        optimizer: the optimizer whose rates are set.
        warmup_steps: :math:`W \ge 0`; stable_steps: :math:`S \ge 0`; decay_steps: :math:`D \ge 1`.
        start_factor: :math:`s \in [0, 1]` (default 0).
        eta_min: final rate :math:`\eta_{\min} \ge 0` (default 0).
        decay: ``"linear"``, ``"sqrt"`` or ``"cos"``.

    Raises:
        ValueError: an argument out of range.
    """

    _DECAYS: ClassVar[dict[str, Callable[[float], float]]] = {
        "linear": lambda u: 1.0 - u,
        "sqrt": lambda u: 1.0 - math.sqrt(u),
        "cos": lambda u: 0.5 * (1.0 + math.cos(math.pi * u)),
    }

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int,
        stable_steps: int,
        decay_steps: int,
        start_factor: float = 0.0,
        eta_min: float = 0.0,
        decay: str = "linear",
    ):
        self.warmup_steps = _validate.integer("warmup_steps", warmup_steps, minimum=0)
        self.stable_steps = _validate.integer("stable_steps", stable_steps, minimum=0)
        self.decay_steps = _validate.integer("decay_steps", decay_steps, minimum=1)
        self.start_factor = _validate.unit_interval("start_factor", start_factor, closed_right=True)
        self.eta_min = _validate.nonnegative("eta_min", eta_min)
        if decay not in self._DECAYS:
            raise ValueError(f"decay must be one of {sorted(self._DECAYS)}, got {decay!r}")
        self.decay = decay
        super().__init__(optimizer)

    def _closed_form(self, base_lr, epoch):
        W, S, D = self.warmup_steps, self.stable_steps, self.decay_steps
        if epoch < W:
            return base_lr * (self.start_factor + (1.0 - self.start_factor) * epoch / W)
        if epoch < W + S:
            return base_lr
        u = min((epoch - W - S) / D, 1.0)
        return self.eta_min + (base_lr - self.eta_min) * self._DECAYS[self.decay](u)


__all__ += ["OneCycle", "WarmupStableDecay"]
