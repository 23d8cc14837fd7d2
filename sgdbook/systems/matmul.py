"""Chapter 4 (:doc:`/minibatch`): four ways to compute ``C = A B`` with torch, from one framework
call per number to one call.

All four give the same matrix (up to rounding); they differ only in how much work each call into
the framework does, which is what chapter 4 times:

* :func:`matmul_elementwise`: ``C[i, j] = dot(A[i, :], B[:, j])``, one call per entry;
* :func:`matmul_columns`: ``C[:, j] = mv(A, B[:, j])``, one call per column;
* :func:`matmul_blocks`: ``C[:, j:j+s] = mm(A, B[:, j:j+s])``, one call per block of columns;
* :func:`matmul_full`: ``C = mm(A, B)``, a single call.

:func:`matmul_elementwise` can compute only the first ``rows`` rows, so that the slowest way can
be timed on a part of the product and its rate reported for that part (it is the same operation
repeated, so the rate carries over to the whole product).

:func:`time_four_ways` times the four ways and :func:`peak_reference` the practical peak of
``torch.mm`` on the device, both with :func:`sgdbook.timing.measure_for` (warm-up for a minimum
time, then many short rounds, median), so that on a loaded machine a round interrupted by
another program does not decide the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import torch

from .. import validation as _validate
from ..timing import gflops, intra_op_threads, matmul_flops, measure_for, work_clock

__all__ = [
    "matmul_elementwise",
    "matmul_columns",
    "matmul_blocks",
    "matmul_full",
    "METHODS",
    "WayTiming",
    "time_four_ways",
    "peak_gflops",
    "PeakReference",
    "peak_reference",
    "rate_inversions",
]


def _check(A: torch.Tensor, B: torch.Tensor) -> None:
    if not (isinstance(A, torch.Tensor) and isinstance(B, torch.Tensor)):
        raise TypeError("A and B must be torch tensors")
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"shapes do not chain: A {tuple(A.shape)}, B {tuple(B.shape)}")
    if A.device != B.device or A.dtype != B.dtype:
        raise ValueError(
            f"A and B must share device and dtype, got {A.device}/{A.dtype} "
            f"and {B.device}/{B.dtype}"
        )


def matmul_elementwise(A: torch.Tensor, B: torch.Tensor, rows: int | None = None) -> torch.Tensor:
    """Entry by entry: one ``torch.dot`` per entry of ``C``.

    Args:
        A: an (m x k) tensor.
        B: a (k x n) tensor on the same device, same dtype.
        rows: compute only the first ``rows`` rows of ``C`` (1 <= rows <= m); ``None``: all.

    Returns:
        The (rows x n) top part of ``A @ B``.

    Raises:
        TypeError, ValueError: the operands or ``rows`` are invalid.
    """
    _check(A, B)
    m = A.shape[0]
    rows = m if rows is None else _validate.integer("rows", rows, minimum=1)
    if rows > m:
        raise ValueError(f"rows must be <= {m} (rows of A), got {rows}")
    C = torch.empty(rows, B.shape[1], dtype=A.dtype, device=A.device)
    Bt = B.t().contiguous()  # columns of B as contiguous rows, as a careful loop would use
    for i in range(rows):
        for j in range(B.shape[1]):
            C[i, j] = torch.dot(A[i], Bt[j])
    return C


def matmul_columns(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Column by column: one ``torch.mv`` (matrix times vector) per column of ``C``."""
    _check(A, B)
    C = torch.empty(A.shape[0], B.shape[1], dtype=A.dtype, device=A.device)
    Bt = B.t().contiguous()
    for j in range(B.shape[1]):
        C[:, j] = torch.mv(A, Bt[j])
    return C


def matmul_blocks(A: torch.Tensor, B: torch.Tensor, block: int = 64) -> torch.Tensor:
    """Blocks of ``block`` columns: one ``torch.mm`` per block (the last block may be narrower).

    Raises:
        TypeError, ValueError: the operands are invalid or ``block`` is not a positive integer.
    """
    _check(A, B)
    block = _validate.integer("block", block, minimum=1)
    C = torch.empty(A.shape[0], B.shape[1], dtype=A.dtype, device=A.device)
    for j in range(0, B.shape[1], block):
        C[:, j : j + block] = torch.mm(A, B[:, j : j + block])
    return C


def matmul_full(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """All at once: a single ``torch.mm`` call."""
    _check(A, B)
    return torch.mm(A, B)


#: The four ways, in the order the chapter presents them (name, function).
METHODS = (
    ("逐元素（dot）", matmul_elementwise),
    ("逐列（mv）", matmul_columns),
    ("64 列分块（mm）", matmul_blocks),
    ("整体（mm）", matmul_full),
)


@dataclass(frozen=True)
class WayTiming:
    """The measured rate of one way of computing the product.

    Attributes:
        name: the way, as named in :data:`METHODS`.
        calls: framework calls made by one timed run (``torch.dot``, ``torch.mv`` or ``torch.mm``).
        flops: floating-point operations of the timed run (``2 m k n`` for the part computed).
        seconds: median seconds of one run.
        rows: rows of ``C`` computed by the timed run.
        rounds: timed rounds the median was taken over.
        number: runs per timed round.
        iqr: interquartile range of the rounds relative to the median
            (:attr:`sgdbook.timing.TimingResult.iqr`).
        best: seconds of the fastest round (``nan`` when not recorded); ceilings are fastest
            rounds, so a kernel compared with one is reported with both statistics.
    """

    name: str
    calls: int
    flops: int
    seconds: float
    rows: int
    rounds: int = 1
    number: int = 1
    iqr: float = 0.0
    best: float = float("nan")

    @property
    def gflops(self) -> float:
        """Rate in GFLOP/s (from the median)."""
        return gflops(self.flops, self.seconds)

    @property
    def gflops_best(self) -> float:
        """Rate in GFLOP/s of the fastest round (``nan`` when it was not recorded)."""
        return float("nan") if self.best != self.best else gflops(self.flops, self.best)


def time_four_ways(
    A: torch.Tensor,
    B: torch.Tensor,
    *,
    elementwise_rows: int = 4,
    block: int = 64,
    min_time: float = 0.3,
    warmup_time: float = 0.05,
    threads: int | None = None,
) -> list[WayTiming]:
    """Time the four ways on ``A @ B`` with :func:`sgdbook.timing.measure_for`.

    Each way is warmed up for at least ``warmup_time`` seconds and then timed in rounds of one
    run (several only for runs under 0.1 ms), at least 7 rounds, until ``min_time`` seconds have
    been timed; the reported time is the median over the rounds, with device synchronisation
    around each round (on the CPU with one thread the clock is the thread's CPU time,
    :func:`sgdbook.timing.work_clock`, which does not count the time another program held the
    core). A fast way (a single ``torch.mm`` takes a fraction of a millisecond) thus
    gets hundreds of rounds, and a round that another program interrupted is one outlier among
    them.

    The entry-by-entry way computes only the first ``elementwise_rows`` rows (it repeats the same
    operation for every entry, so its rate on a part is its rate on the whole; the whole would
    take ``m / elementwise_rows`` times as long).

    Args:
        A, B: the operands, as for :func:`matmul_full`.
        elementwise_rows: rows timed for the entry-by-entry way (1 <= ``elementwise_rows`` <= m).
        block: columns per block for :func:`matmul_blocks` (>= 1).
        min_time: seconds of timed rounds per way (> 0).
        warmup_time: seconds of untimed warm-up per way (>= 0).
        threads: torch intra-op threads during the measurement (see
            :func:`sgdbook.timing.intra_op_threads`); ``None``: the current setting.

    Returns:
        One :class:`WayTiming` per way, in the order of :data:`METHODS`.

    Raises:
        TypeError, ValueError: invalid operands or arguments.
    """
    _check(A, B)
    m, k = A.shape
    n = B.shape[1]
    rows = _validate.integer("elementwise_rows", elementwise_rows, minimum=1)
    if rows > m:
        raise ValueError(f"elementwise_rows must be <= {m} (rows of A), got {rows}")
    block = _validate.integer("block", block, minimum=1)
    min_time = _validate.positive("min_time", min_time)
    warmup_time = _validate.nonnegative("warmup_time", warmup_time)
    if threads is not None:
        threads = _validate.integer("threads", threads, minimum=1)
    device = A.device
    plan = [
        (METHODS[0][0], lambda: matmul_elementwise(A, B, rows=rows), rows * n, rows),
        (METHODS[1][0], lambda: matmul_columns(A, B), n, m),
        (METHODS[2][0], lambda: matmul_blocks(A, B, block), -(-n // block), m),
        (METHODS[3][0], lambda: matmul_full(A, B), 1, m),
    ]
    out = []
    clock = work_clock(device, threads)
    with intra_op_threads(threads):
        for name, fn, calls, r in plan:
            res = measure_for(
                fn, min_time=min_time, warmup_time=warmup_time, device=device, clock=clock
            )
            out.append(
                WayTiming(
                    name=name,
                    calls=calls,
                    flops=matmul_flops(r, k, n),
                    seconds=res.median,
                    rows=r,
                    rounds=len(res.times),
                    number=res.number,
                    iqr=res.iqr,
                    best=res.best,
                )
            )
    return out


def rate_inversions(ways: list[WayTiming]) -> list[tuple[str, str]]:
    """Neighbouring ways, in the order given, whose rate does *not* rise: ``(slower-call way,
    next way)`` for every pair where the next way, with fewer calls, is not faster.

    An empty list means the rates rise monotonically, the typical outcome.

    Raises:
        TypeError: an element is not a :class:`WayTiming`.
    """
    if isinstance(ways, (str, bytes)) or not hasattr(ways, "__iter__"):
        raise TypeError(f"ways must be a sequence of WayTiming, got {ways!r:.60}")
    ways = list(ways)
    for k, w in enumerate(ways):
        if not isinstance(w, WayTiming):
            raise TypeError(f"ways[{k}] must be a WayTiming, got {type(w).__name__}")
    return [(a.name, b.name) for a, b in pairwise(ways) if not a.gflops < b.gflops]


def _check_peak(device, dtype, min_time, seed, threads):
    if device is None:
        raise TypeError("device must be a str or a torch.device, got None")
    device = _validate.device("device", device)
    dtype = _validate.dtype("dtype", dtype)
    min_time = _validate.positive("min_time", min_time)
    seed = _validate.seed("seed", seed)
    if threads is not None:
        threads = _validate.integer("threads", threads, minimum=1)
    return device, dtype, min_time, seed, threads


def peak_gflops(
    size: int,
    *,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
    min_time: float = 0.2,
    seed: int = 0,
    threads: int | None = None,
) -> float:
    """Measured rate of one ``size x size`` product on ``device`` (GFLOP/s), the practical peak
    of ``torch.mm`` at that size.

    A peak is what the hardware can reach, and interruptions by other programs only ever make a
    run slower, so this uses the *shortest* round of :func:`sgdbook.timing.measure_for` (warm-up
    of at least 0.05 s, then rounds until ``min_time`` seconds have been timed), not the median.
    ``threads`` is as for :func:`time_four_ways`.

    Raises:
        TypeError, ValueError: invalid ``size``, ``device``, ``dtype``, ``min_time``, ``seed`` or
            ``threads``.
    """
    size = _validate.integer("size", size, minimum=1)
    device, dtype, min_time, seed, threads = _check_peak(device, dtype, min_time, seed, threads)
    gen = torch.Generator().manual_seed(_validate.seed("seed", seed))
    P = torch.randn(size, size, generator=gen, dtype=dtype).to(device)
    Q = torch.randn(size, size, generator=gen, dtype=dtype).to(device)
    with intra_op_threads(threads):
        res = measure_for(
            lambda: torch.mm(P, Q),
            min_time=min_time,
            device=device,
            clock=work_clock(device, threads),
        )
    return gflops(matmul_flops(size, size, size), res.best)


@dataclass(frozen=True)
class PeakReference:
    """The practical peak of ``torch.mm``: the highest of the rates measured at several sizes.

    Attributes:
        rates: GFLOP/s of :func:`peak_gflops` for every size measured.
    """

    rates: dict[int, float]

    @property
    def size(self) -> int:
        """The size with the highest rate."""
        return max(self.rates, key=self.rates.get)

    @property
    def gflops(self) -> float:
        """The reference peak in GFLOP/s, the highest of the measured rates."""
        return self.rates[self.size]

    def percent(self, rate: float) -> float:
        """``rate`` as a percentage of the peak."""
        return 100.0 * _validate.nonnegative("rate", rate) / self.gflops


def peak_reference(
    sizes: Iterable[int],
    *,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
    min_time: float = 0.2,
    seed: int = 0,
    threads: int | None = None,
) -> PeakReference:
    """:func:`peak_gflops` at every size in ``sizes``; the peak is the highest of them.

    Which size runs fastest depends on the hardware: a product that fits the caches can beat a
    larger one (on some CPUs ``1024 x 1024`` runs well below ``256 x 256``), while a GPU needs
    large matrices to keep its cores busy. So pass several sizes, including the size being
    compared with the peak.

    Args:
        sizes: one or more distinct positive integers.
        device, dtype, min_time, seed, threads: as for :func:`peak_gflops`.

    Raises:
        TypeError, ValueError: ``sizes`` is empty, repeats a size or holds a non-positive or
            non-integer value; or the other arguments are invalid.
    """
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(f"sizes must be an iterable of integers, got {sizes!r}") from None
    if not sizes:
        raise ValueError("sizes must hold at least one size")
    sizes = [_validate.integer(f"sizes[{k}]", m, minimum=1) for k, m in enumerate(sizes)]
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"sizes must be distinct, got {sizes}")
    device, dtype, min_time, seed, threads = _check_peak(device, dtype, min_time, seed, threads)
    return PeakReference(
        {
            m: peak_gflops(
                m, device=device, dtype=dtype, min_time=min_time, seed=seed, threads=threads
            )
            for m in sizes
        }
    )
