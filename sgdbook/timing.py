"""A small, honest timer: warm-up, repeats, median, and GPU synchronisation.

Timing a piece of code badly is easy: the first call pays for lazy initialisation and cold
caches, a single measurement catches whatever else the machine was doing, and on a GPU the
Python call returns as soon as the work is *queued*, long before it is done. :func:`measure`
does the three things that avoid those traps: it runs the code a few times untimed (warm-up),
then times ``repeats`` rounds of ``number`` calls each, calling
:func:`sgdbook.device.synchronize` before starting and before stopping the clock, and reports the
median time per call (robust against a round that was interrupted by another process).

:func:`measure_for` does the same with the counts chosen from the code's own speed: it warms up
for a minimum time, then times rounds of a single call (several calls only for code faster than
about 0.1 ms) until a minimum total time has been timed. Fast code thus gets hundreds of short
rounds, so that a round stalled by another program is one outlier among many and leaves the
median alone, while slow code still gets a few rounds. Short rounds matter: on a busy machine
a good fraction of calls can be stalled, and a round of many calls would almost always contain
one.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from . import validation as _validate
from .device import get_device, synchronize

__all__ = [
    "TimingResult",
    "measure",
    "measure_for",
    "intra_op_threads",
    "gflops",
    "matmul_flops",
    "work_clock",
    "best_over_median",
]


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

    @property
    def iqr(self) -> float:
        """Interquartile range of the rounds relative to the median (``statistics.quantiles``,
        exclusive method; 0 with fewer than two rounds): a spread that one slow round does not
        move, unlike :attr:`spread`."""
        if len(self.times) < 2 or self.median <= 0:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.times, n=4)
        return (q3 - q1) / self.median

    def __str__(self) -> str:
        return (
            f"median {self.median * 1e3:.4g} ms per call "
            f"({len(self.times)} rounds x {self.number} calls, {self.warmup} warm-up calls, "
            f"spread {100 * self.spread:.0f}%, {self.device})"
        )


def _timed_round(
    fn: Callable[[], Any], number: int, device: torch.device, clock: Callable[[], float]
) -> float:
    """Seconds for ``number`` calls of ``fn``, the device synchronised before and after."""
    synchronize(device)
    start = clock()
    for _ in range(number):
        fn()
    synchronize(device)
    return clock() - start


def measure(
    fn: Callable[[], Any],
    *,
    repeats: int = 5,
    number: int = 1,
    warmup: int = 1,
    device: torch.device | str | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> TimingResult:
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
    device = _validate.device("device", device)
    device = get_device() if device is None else device
    for _ in range(warmup):
        fn()
    times = [_timed_round(fn, number, device, clock) / number for _ in range(repeats)]
    return TimingResult(times=tuple(times), number=number, warmup=warmup, device=str(device))


def measure_for(
    fn: Callable[[], Any],
    *,
    min_time: float = 0.2,
    round_time: float = 1e-4,
    min_rounds: int = 7,
    max_rounds: int = 2000,
    warmup_time: float = 0.05,
    min_warmup: int = 2,
    device: torch.device | str | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> TimingResult:
    """Time ``fn()`` with counts adapted to its speed (compare :func:`measure`).

    1. Warm-up: untimed calls, each synchronised, until at least ``min_warmup`` calls and
       ``warmup_time`` seconds have passed. The fastest warm-up call estimates the time per call.
    2. Calls per round: enough for a round to last about ``round_time`` seconds (at least 1).
    3. Timed rounds, synchronised as in :func:`measure`, until at least ``min_rounds`` rounds
       *and* ``min_time`` seconds of timed rounds, or ``max_rounds`` rounds.

    The result reports the median like :func:`measure`; with many short rounds a few rounds hit by
    an interruption do not move it.

    Args:
        fn: the code to time, called without arguments.
        min_time: seconds of timed rounds to collect at least (> 0).
        round_time: target duration of one round in seconds (> 0).
        min_rounds: timed rounds at least (>= 1).
        max_rounds: timed rounds at most (>= ``min_rounds``); bounds the time spent on code
            whose calls are much faster than ``round_time`` allows to estimate.
        warmup_time: seconds of untimed warm-up at least (>= 0).
        min_warmup: untimed warm-up calls at least (>= 1: one is needed to estimate the speed).
        device: device to synchronise; ``None`` means :func:`sgdbook.device.get_device`.
        clock: the clock (seconds); replaceable for testing.

    Returns:
        The per-call time of every round.

    Raises:
        TypeError: ``fn`` is not callable, or an argument has the wrong type.
        ValueError: an argument is out of range.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    min_time = _validate.positive("min_time", min_time)
    round_time = _validate.positive("round_time", round_time)
    min_rounds = _validate.integer("min_rounds", min_rounds, minimum=1)
    max_rounds = _validate.integer("max_rounds", max_rounds, minimum=1)
    if max_rounds < min_rounds:
        raise ValueError(f"max_rounds must be >= min_rounds={min_rounds}, got {max_rounds}")
    warmup_time = _validate.nonnegative("warmup_time", warmup_time)
    min_warmup = _validate.integer("min_warmup", min_warmup, minimum=1)
    device = _validate.device("device", device)
    device = get_device() if device is None else device

    warm_calls = 0
    fastest = math.inf
    synchronize(device)
    begin = clock()
    now = begin
    while warm_calls < min_warmup or now - begin < warmup_time:
        start = now
        fn()
        synchronize(device)
        now = clock()
        fastest = min(fastest, now - start)
        warm_calls += 1
    number = 1 if fastest >= round_time else max(1, math.ceil(round_time / max(fastest, 1e-9)))

    times: list[float] = []
    timed = 0.0
    while len(times) < max_rounds and (len(times) < min_rounds or timed < min_time):
        elapsed = _timed_round(fn, number, device, clock)
        timed += elapsed
        times.append(elapsed / number)
    return TimingResult(times=tuple(times), number=number, warmup=warm_calls, device=str(device))


def work_clock(
    device: torch.device | str | None = None, threads: int | None = None
) -> Callable[[], float]:
    """The clock to time work with: :func:`time.thread_time` (CPU time of the calling thread)
    when the work runs on the CPU in the calling thread alone (``threads == 1``), else
    :func:`time.perf_counter` (wall clock, which :func:`measure` and :func:`measure_for`
    bracket with device synchronisation).

    On a shared machine another program can take the core for whole scheduler time slices; wall
    time counts those stalls, the thread's CPU time does not. The CPU time still includes the
    slower memory accesses that a neighbour's traffic causes, so it is robust to preemption,
    not to every kind of interference. With several threads, or on a GPU, the work does not run
    in the calling thread, and only the wall clock measures it.

    Raises:
        TypeError, ValueError: ``threads`` is not ``None`` or an integer >= 1.
    """
    if threads is not None:
        threads = _validate.integer("threads", threads, minimum=1)
    device = _validate.device("device", device)
    dev = get_device() if device is None else device
    if dev.type == "cpu" and threads == 1:
        return time.thread_time
    return time.perf_counter


def best_over_median(result: TimingResult) -> float:
    """``best / median`` of a measurement: 1 when every round took the same time, small when
    most rounds were slowed by something (another program, a cache that another program keeps
    evicting). A criterion for interference that is computed, not assumed."""
    if not isinstance(result, TimingResult):
        raise TypeError(f"result must be a TimingResult, got {type(result).__name__}")
    return result.best / result.median if result.median > 0 else 1.0


@contextmanager
def intra_op_threads(threads: int | None) -> Iterator[int]:
    """Run a block with ``threads`` torch intra-op threads, then restore the previous setting.

    On a CPU that other programs are using, a multi-threaded kernel can wait for its worker
    thread for a whole scheduler time slice (milliseconds) on every call, for seconds on end;
    timing with one thread avoids that, at the price of measuring one core.

    Args:
        threads: threads to use (>= 1), or ``None`` to leave the setting unchanged.

    Yields:
        The number of threads in effect inside the block.

    Raises:
        TypeError, ValueError: ``threads`` is not ``None`` or an integer >= 1.
    """
    if threads is not None:
        threads = _validate.integer("threads", threads, minimum=1)
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


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
