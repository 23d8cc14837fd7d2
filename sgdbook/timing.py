"""A small, honest timer: warm-up, repeats, median, and GPU synchronisation.

Timing a piece of code badly is easy: the first call pays for lazy initialisation and cold
caches, a single measurement catches whatever else the machine was doing, and on a GPU the
Python call returns as soon as the work is *queued*, long before it is done. :func:`measure`
does the three things that avoid those traps: it runs the code a few times untimed (warm-up),
then times ``repeats`` rounds of ``number`` calls each, calling
:func:`sgdbook.device.synchronize` before starting and before stopping the clock, and reports the
median time per call (robust against a round that was interrupted by another process).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch

from . import _validate
from .device import get_device, synchronize

__all__ = ["TimingResult", "measure", "gflops", "matmul_flops"]


@dataclass(frozen=True)
class TimingResult:
    """Per-call times of one measurement.

    Attributes:
        times: seconds per call, one value per timed round (each round ran ``number`` calls).
        number: calls per round.
        warmup: untimed calls made before the first round.
        device: the device that was synchronised around each round.
    """

    times: tuple[float, ...]
    number: int
    warmup: int
    device: str

    @property
    def median(self) -> float:
        """Median seconds per call over the rounds."""
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        """Shortest seconds per call over the rounds (interruptions only ever add time)."""
        return min(self.times)

    @property
    def spread(self) -> float:
        """Largest minus smallest round, relative to the median (a rough noise indicator)."""
        return (max(self.times) - min(self.times)) / self.median if self.median > 0 else 0.0

    def __str__(self) -> str:
        return (f"median {self.median * 1e3:.4g} ms per call "
                f"({len(self.times)} rounds x {self.number} calls, {self.warmup} warm-up calls, "
                f"spread {100 * self.spread:.0f}%, {self.device})")


def measure(fn: Callable[[], Any], *, repeats: int = 5, number: int = 1, warmup: int = 1,
            device: torch.device | str | None = None,
            clock: Callable[[], float] = time.perf_counter) -> TimingResult:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` timed rounds of ``number`` calls.

    The device is synchronised before the clock starts and before it stops, so queued GPU work is
    counted; on the CPU synchronisation is a no-op.

    Args:
        fn: the code to time, called without arguments.
        repeats: timed rounds (>= 1); the median over rounds is the reported value.
        number: calls per round (>= 1); use more for very short calls.
        warmup: untimed calls first (>= 0).
        device: device to synchronise; ``None`` means :func:`sgdbook.device.get_device`.
        clock: the clock (seconds); replaceable for testing.

    Returns:
        The per-call time of every round.

    Raises:
        TypeError: ``fn`` is not callable, or a count is not an integer.
        ValueError: a count is out of range.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    repeats = _validate.integer("repeats", repeats, minimum=1)
    number = _validate.integer("number", number, minimum=1)
    warmup = _validate.integer("warmup", warmup, minimum=0)
    device = get_device() if device is None else torch.device(device)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = clock()
        for _ in range(number):
            fn()
        synchronize(device)
        times.append((clock() - start) / number)
    return TimingResult(times=tuple(times), number=number, warmup=warmup, device=str(device))


def matmul_flops(m: int, k: int, n: int) -> int:
    """Floating-point operations of an (m x k) by (k x n) product: ``2 m k n`` (a multiply and an
    add per term; the ``m n`` saved additions of the first terms are ignored, as is customary)."""
    m = _validate.integer("m", m, minimum=1)
    k = _validate.integer("k", k, minimum=1)
    n = _validate.integer("n", n, minimum=1)
    return 2 * m * k * n


def gflops(flops: float, seconds: float) -> float:
    """Rate in GFLOP/s: ``flops / seconds / 1e9``.

    Raises:
        ValueError: ``seconds`` is not > 0 or ``flops`` is negative.
    """
    flops = _validate.nonnegative("flops", flops)
    seconds = _validate.positive("seconds", seconds)
    return flops / seconds / 1e9
