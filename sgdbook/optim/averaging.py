"""Chapter 6 (:doc:`/lr-decay`): averaged copies of a network's weights (SWA, EMA), as ``torch.optim.swa_utils.AveragedModel``.

:class:`AveragedModel` keeps a copy of a module whose parameters are the running average of
the parameters it is shown with :meth:`AveragedModel.update_parameters`: the arithmetic mean
of all of them (stochastic weight averaging, Izmailov et al. 2018, the default) or an
exponential moving average with ``decay`` (torch's ``get_ema_multi_avg_fn``). It gives the same
numbers as torch's class on the CPU. For averaging the iterates of SGD on the small
problems of chapter 3 (Polyak–Ruppert averaging) see that chapter; this module is for
``nn.Module`` weights.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .. import validation as _validate

__all__ = ["AveragedModel"]


class AveragedModel(torch.nn.Module):
    r"""A copy of ``model`` whose parameters are the average of the ones it was updated with.

    After :math:`n` calls of :meth:`update_parameters` with weights
    :math:`w_1, \dots, w_n`, the parameters are

    * ``decay=None`` (SWA): :math:`\bar w_n = \frac1n\sum_{i=1}^n w_i`, kept by
      :math:`\bar w_n = \bar w_{n-1} + (w_n - \bar w_{n-1})/n` (torch's ``get_swa_avg_fn``);
    * ``decay=`` :math:`\gamma`: :math:`\bar w_1 = w_1`,
      :math:`\bar w_n = \gamma\,\bar w_{n-1} + (1-\gamma)\,w_n` (torch's EMA).

    Buffers (e.g. batch-norm statistics) are copied, not averaged, unless ``use_buffers``
    (then they are averaged too, as in torch). Calling the module runs the averaged copy.

    Args:
        model: the network being trained (it is deep-copied; the copy is not trained).
        decay: ``None`` for the arithmetic mean, or :math:`\gamma \in [0, 1)` for an EMA.
        use_buffers: average the buffers as well.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``, or ``use_buffers`` not a bool.
        ValueError: ``decay`` outside ``[0, 1)``.
    """

    def __init__(
        self, model: torch.nn.Module, decay: float | None = None, use_buffers: bool = False
    ):
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(use_buffers, bool):
            raise TypeError(f"use_buffers must be True or False, got {use_buffers!r}")
        self.decay = None if decay is None else _validate.unit_interval("decay", decay)
        self.module = copy.deepcopy(model)
        self.use_buffers = use_buffers
        self.register_buffer(
            "n_averaged", torch.tensor(0, dtype=torch.long, device=next(model.parameters()).device)
        )

    def forward(self, *args, **kwargs):
        """Run the averaged copy of the network on the inputs."""
        return self.module(*args, **kwargs)

    def _tensors(self, module: torch.nn.Module) -> list[torch.Tensor]:
        ts = list(module.parameters())
        if self.use_buffers:
            ts += list(module.buffers())
        return ts

    @torch.no_grad()
    def update_parameters(self, model: torch.nn.Module) -> None:
        """Fold ``model``'s current parameters into the average (the first call copies them).

        Raises:
            ValueError: ``model`` has a different number of tensors or different shapes.
        """
        mine, theirs = self._tensors(self.module), self._tensors(model)
        if len(mine) != len(theirs) or any(a.shape != b.shape for a, b in zip(mine, theirs)):
            raise ValueError(
                "model must have the same parameters (number and shapes) as the averaged one"
            )
        n = self.n_averaged
        for avg, cur in zip(mine, theirs):
            cur = cur.detach().to(avg.device)
            if int(n) == 0:
                avg.copy_(cur)
            elif self.decay is None:
                avg.copy_(avg + (cur - avg) / (n + 1))  # running arithmetic mean
            else:
                avg.lerp_(cur, 1 - self.decay)  # gamma avg + (1 - gamma) cur
        if not self.use_buffers:
            for b_avg, b_cur in zip(self.module.buffers(), model.buffers()):
                b_avg.detach().copy_(b_cur.detach().to(b_avg.device))
        self.n_averaged += 1
