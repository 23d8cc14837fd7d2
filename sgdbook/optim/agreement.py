"""Run two optimizers side by side on the same problem and measure how far apart they drift.

``step_differences`` is what the chapters use to show that a from-scratch optimizer of
``sgdbook.optim`` and its ``torch.optim`` counterpart produce the same parameters at every
step: both start from the same random tensors, each takes the gradient of the same loss at its
own parameters, and after every step the largest absolute difference between the two sets of
parameters is recorded. Any difference in the update rule would show up and grow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

from .. import validation as _validate

__all__ = ["test_problem", "step_differences"]

OptimizerFactory = Callable[[Iterable[torch.Tensor]], torch.optim.Optimizer]


def test_problem(
    shapes: Sequence[tuple[int, ...]] = ((6, 4), (4,), (3, 2)),
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
):
    r"""A random smooth non-convex loss over several tensors, and a random starting point.

    The loss is :math:`\sum_j \big\| \tanh(A_j \operatorname{vec} p_j) - c_j \big\|^2 + 0.01\,\|p_j\|^4`
    summed over the tensors :math:`p_j`, with fixed random :math:`A_j`, :math:`c_j`; gradients have
    different scales in different coordinates (the rows of :math:`A_j` are scaled from 0.1
    to about 3), as adaptive methods like. With moderate learning rates the iterations settle
    down, so rounding differences are not amplified.

    Args:
        shapes: shapes of the parameter tensors.
        seed: seed of the problem and the starting point.
        dtype: floating dtype.

    Returns:
        ``(loss_fn, start)``: ``loss_fn(params) -> scalar tensor`` and a list of tensors.
    """
    seed = _validate.seed("seed", seed)
    _validate.dtype("dtype", dtype)
    shapes = _validate.non_empty("shapes", shapes)
    for shape in shapes:
        if (
            not isinstance(shape, tuple)
            or not shape
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape)
        ):
            raise ValueError(f"shapes must hold non-empty tuples of positive ints, got {shape!r}")
    gen = torch.Generator().manual_seed(seed)
    mats, targets, start = [], [], []
    for shape in shapes:
        n = int(np.prod(shape))
        scale = torch.logspace(-1, 0.5, n, dtype=dtype)  # coordinate scales from 0.1 to 3
        mats.append(torch.randn(n, n, generator=gen, dtype=dtype) * scale / n**0.5)
        targets.append(torch.rand(n, generator=gen, dtype=dtype) * 1.6 - 0.8)
        start.append(torch.randn(shape, generator=gen, dtype=dtype))

    def loss_fn(params: Sequence[torch.Tensor]) -> torch.Tensor:
        total = 0.0
        for p, A, c in zip(params, mats, targets):
            v = p.reshape(-1)
            total = total + ((torch.tanh(A @ v) - c) ** 2).sum() + 0.01 * (v @ v) ** 2
        return total

    return loss_fn, start


def step_differences(
    make_a: OptimizerFactory,
    make_b: OptimizerFactory,
    *,
    steps: int = 100,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    schedule: Callable[[torch.optim.Optimizer], object] | None = None,
    schedule_b: Callable[[torch.optim.Optimizer], object] | None = None,
) -> np.ndarray:
    """Largest absolute parameter difference between two optimizers after each of ``steps`` steps.

    Args:
        make_a: builds the first optimizer from a list of tensors, e.g.
            ``lambda p: sgdbook.optim.Adam(p, lr=1e-2)``.
        make_b: builds the second, e.g. ``lambda p: torch.optim.Adam(p, lr=1e-2)``.
        steps: number of steps.
        seed: seed of the :func:`test_problem`.
        dtype: floating dtype of the parameters.
        schedule: optional learning-rate schedule attached to the first optimizer (stepped after
            every optimizer step).
        schedule_b: the same for the second optimizer.

    Returns:
        Array of length ``steps``.
    """
    make_a = _validate.callable_("make_a", make_a)
    make_b = _validate.callable_("make_b", make_b)
    if schedule is not None:
        _validate.callable_("schedule", schedule)
    if schedule_b is not None:
        _validate.callable_("schedule_b", schedule_b)
    steps = _validate.integer("steps", steps, minimum=1)
    loss_fn, start = test_problem(seed=seed, dtype=dtype)
    pa = [p.clone().requires_grad_(True) for p in start]
    pb = [p.clone().requires_grad_(True) for p in start]
    oa, ob = make_a(pa), make_b(pb)
    sa = schedule(oa) if schedule is not None else None
    sb = schedule_b(ob) if schedule_b is not None else None
    out = np.empty(steps)
    for k in range(steps):
        for params, opt in ((pa, oa), (pb, ob)):
            opt.zero_grad()
            loss_fn(params).backward()
            opt.step()
        for s in (sa, sb):
            if s is not None:
                s.step()
        with torch.no_grad():
            out[k] = max(float((a - b).abs().max()) for a, b in zip(pa, pb))
    return out
