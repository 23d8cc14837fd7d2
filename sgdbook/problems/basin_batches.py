r"""Chapter 3 (:doc:`/sgd`): batch size on the two-basin example :math:`\sin\theta + 0.1\theta^2`.

The course notebook's batch-size table: from :math:`\theta_0` with a constant step, each run
seeded with ``numpy.random.default_rng(seed)``; at every step ``labels = rng.integers(0, 2,
size=b)`` (label 0 is :math:`f_1 = 2\sin\theta`, label 1 is :math:`f_2 = 0.2\theta^2`, as in
:func:`sgdbook.problems.stochastic.nonconvex_example`) and the step uses the mean gradient over the drawn
labels. :func:`batch_run` is one such run (``batch_size=None``: full gradient descent),
:func:`batch_table` the notebook's table, and :func:`batch_seed_statistics` the same runs over
many seeds at once (vectorised; seed ``s`` gives exactly :func:`batch_run`'s numbers);
:func:`basin_patterns` counts, over the same seeds, which basin each batch size ends in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import validation as _validate
from .stochastic import NONCONVEX_LOCAL_MAX

__all__ = [
    "objective",
    "batch_run",
    "batch_table",
    "BatchSeedStatistics",
    "batch_seed_statistics",
    "basin_patterns",
]


def objective(theta) -> np.ndarray:
    r""":math:`f(\theta) = \sin\theta + 0.1\theta^2`, elementwise.

    Raises:
        TypeError: ``theta`` is not a real number or array.
        ValueError: ``theta`` is empty or not finite.
    """
    if np.ndim(theta) == 0:
        theta = _validate.real("theta", theta.item() if isinstance(theta, np.ndarray) else theta)
        return np.sin(theta) + 0.1 * theta**2
    theta = _validate.vector("theta", np.ravel(theta)).reshape(np.shape(theta))
    return np.sin(theta) + 0.1 * theta**2


def _check(theta0, lr, steps):
    return (
        _validate.real("theta0", theta0),
        _validate.positive("lr", lr),
        _validate.integer("steps", steps, minimum=0),
    )


def batch_run(
    batch_size: int | None, theta0: float = 5.0, lr: float = 0.15, steps: int = 7000, seed: int = 42
) -> float:
    """The final iterate of one run, drawn step by step exactly as the notebook draws it.

    Args:
        batch_size: labels per step (>= 1), or ``None`` for full gradient descent (no draws).
        theta0: start.
        lr: constant step.
        steps: number of steps.
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        The final :math:`\\theta`.

    Raises:
        ValueError, TypeError: bad arguments.
    """
    theta, lr, steps = _check(theta0, lr, steps)
    if batch_size is None:
        for _ in range(steps):
            theta -= lr * (np.cos(theta) + 0.2 * theta)
        return float(theta)
    b = _validate.integer("batch_size", batch_size, minimum=1)
    rng = np.random.default_rng(_validate.seed("seed", seed))
    for _ in range(steps):
        labels = rng.integers(0, 2, size=b)
        grads = np.where(labels == 0, 2.0 * np.cos(theta), 0.4 * theta)
        theta = float(theta - lr * grads.mean())
    return theta


def batch_table(
    batch_sizes: Sequence[int] = (1, 2, 4),
    theta0: float = 5.0,
    lr: float = 0.15,
    steps: int = 7000,
    seed: int = 42,
) -> list[tuple[str, float, float]]:
    """The notebook's table: ``(name, final θ, final f)`` for each batch size, then full GD.

    Each batch size gets its own generator seeded ``seed``.
    """
    rows = []
    if isinstance(batch_sizes, (str, bytes)) or not hasattr(batch_sizes, "__iter__"):
        raise TypeError(f"batch_sizes must be a sequence of batch sizes, got {batch_sizes!r}")
    for b in batch_sizes:
        t = batch_run(b, theta0, lr, steps, seed)
        rows.append((f"batch={b}", t, float(objective(t))))
    t = batch_run(None, theta0, lr, steps, seed)
    rows.append(("full GD", t, float(objective(t))))
    return rows


@dataclass(frozen=True)
class BatchSeedStatistics:
    """Final iterates of one batch size over many seeds; ``left`` counts runs left of θ_max."""

    batch_size: int
    seeds: np.ndarray
    final: np.ndarray

    @property
    def left(self) -> int:
        """Runs whose final iterate lies in the left basin (the global minimum's)."""
        return int(np.sum(self.final < NONCONVEX_LOCAL_MAX))

    @property
    def final_loss(self) -> np.ndarray:
        """:math:`f` at each final iterate."""
        return objective(self.final)


def batch_seed_statistics(
    batch_size: int, seeds: Sequence[int], theta0: float = 5.0, lr: float = 0.15, steps: int = 7000
) -> BatchSeedStatistics:
    """:func:`batch_run` for every seed in ``seeds``, all runs advanced together.

    Seed ``s`` draws ``default_rng(s).integers(0, 2, size=(steps, b))``, which is the same
    sequence as ``steps`` calls of ``integers(0, 2, size=b)`` (checked in the tests).

    Raises:
        ValueError, TypeError: bad arguments.
    """
    theta0, lr, steps = _check(theta0, lr, steps)
    b = _validate.integer("batch_size", batch_size, minimum=1)
    seeds = np.array(_validate.seeds("seeds", seeds), dtype=np.int64)
    if seeds.size == 0:
        raise ValueError("seeds must not be empty")
    # fraction of label-0 draws at each step, shape (steps, seeds)
    frac = np.array(
        [
            np.mean(np.random.default_rng(int(s)).integers(0, 2, size=(steps, b)) == 0, axis=1)
            for s in seeds
        ]
    ).T
    theta = np.full(seeds.size, theta0)
    for k in range(steps):
        p = frac[k]
        theta = theta - lr * (p * 2.0 * np.cos(theta) + (1.0 - p) * 0.4 * theta)
    return BatchSeedStatistics(b, seeds, theta)


def basin_patterns(statistics: Sequence[BatchSeedStatistics]) -> Counter:
    r"""For each seed, the basins the final iterates of all batch sizes lie in, counted.

    ``statistics`` holds one :class:`BatchSeedStatistics` per batch size, all over the same
    seeds (each seed run with its own ``default_rng(s)`` per batch size, as in
    :func:`batch_table`). A seed's pattern has one letter per entry of ``statistics``, in order:
    ``"L"`` (final iterate in the left basin, :math:`\theta < \theta_{\max}`) or ``"R"``; for
    batch sizes ``(1, 2, 4)``, ``"LRR"`` means batch size 1 ended left, 2 and 4 right.

    Returns:
        A :class:`collections.Counter` from pattern to number of seeds.

    Raises:
        TypeError: an entry is not a :class:`BatchSeedStatistics`.
        ValueError: ``statistics`` is empty or its entries have different seeds.
    """
    statistics = _validate.non_empty("statistics", statistics)
    for stat in statistics:
        if not isinstance(stat, BatchSeedStatistics):
            raise TypeError(f"statistics must hold BatchSeedStatistics, got {type(stat).__name__}")
        if not np.array_equal(stat.seeds, statistics[0].seeds):
            raise ValueError("statistics must all be over the same seeds")
    left = np.array(
        [stat.final < NONCONVEX_LOCAL_MAX for stat in statistics]
    )  # (batch sizes, seeds)
    return Counter("".join("L" if x else "R" for x in col) for col in left.T)
