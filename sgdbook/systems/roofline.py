"""Chapter 4 (:doc:`/minibatch`): the roofline model, its two measured ceilings, and the
memory-bound optimizer step.

The roofline model bounds the rate of a kernel by two ceilings of the machine:

.. math::

    \\text{attainable FLOP/s} = \\min(R_{\\text{peak}},\\; \\mathrm{BW} \\cdot I), \\qquad
    I = \\frac{\\text{floating-point operations}}{\\text{bytes moved to and from memory}},

where :math:`R_{\\text{peak}}` is the peak compute rate, :math:`\\mathrm{BW}` the memory bandwidth and :math:`I`
the kernel's *arithmetic intensity*. This module measures both ceilings (:func:`peak_flops` with
``torch.mm``, :func:`stream_bandwidth` with a streaming copy, triad or in-place triad), counts the compulsory
traffic of the kernels chapter 4 places on the roofline (:func:`intensity`), times them
(:func:`time_kernel`), and counts and times one Adam step (:data:`ADAM_BYTES_PER_PARAM`,
:func:`time_adam_steps`), the textbook example of a memory-bound kernel.

All timings use :func:`sgdbook.timing.measure_for` or :func:`sgdbook.timing.measure` (warm-up,
many rounds, device synchronisation); a *ceiling* uses the shortest round (interruptions by other
programs only ever slow a round down), a kernel's rate the median.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .. import validation as _validate
from ..timing import intra_op_threads, measure, measure_for, work_clock
from .matmul import peak_reference

__all__ = [
    "cpu_cache_sizes",
    "last_level_cache_bytes",
    "stream_elements",
    "LLC_FALLBACK_BYTES",
    "Ceilings",
    "peak_flops",
    "STREAM_KERNELS",
    "stream_bytes",
    "stream_bandwidth",
    "measure_ceilings",
    "intensity",
    "KERNELS",
    "KernelPoint",
    "time_kernel",
    "points_from_ways",
    "attainable",
    "ADAM_BYTES_PER_PARAM",
    "adam_floor_seconds",
    "AdamTiming",
    "ADAM_VARIANTS",
    "time_adam_steps",
]


def _device(device) -> torch.device:
    if device is None:
        raise TypeError("device must name a torch device, got None")
    return _validate.device("device", device)


def _threads(threads) -> int | None:
    return None if threads is None else _validate.integer("threads", threads, minimum=1)


def _sizes(sizes) -> tuple[int, ...] | None:
    if sizes is None:
        return None
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a sequence of integers, got {sizes!r}")
    sizes = tuple(_validate.integer(f"sizes[{k}]", m, minimum=1) for k, m in enumerate(sizes))
    if not sizes:
        raise ValueError("sizes must hold at least one size")
    return sizes


def peak_flops(
    *,
    device: torch.device | str,
    threads: int | None = None,
    sizes: tuple[int, ...] | None = None,
    min_time: float = 0.2,
) -> float:
    """The compute ceiling :math:`R_{\\text{peak}}` in FLOP/s: the best rate of ``torch.mm`` (float32) over
    ``sizes`` (default: 256, 512, 1024 on the CPU; 2048, 4096 on a GPU), each the shortest of
    many rounds (:func:`sgdbook.systems.matmul.peak_reference`).

    Args:
        device: where to measure.
        threads: torch intra-op threads on the CPU (``None``: the current setting, i.e. all
            cores by default; ``1``: one core).
        sizes: square sizes to try.
        min_time: seconds of timed rounds per size (> 0).
    """
    device = _device(device)
    threads = _threads(threads)
    sizes = _sizes(sizes)
    min_time = _validate.positive("min_time", min_time)
    if sizes is None:
        sizes = (2048, 4096) if device.type == "cuda" else (256, 512, 1024)
    return 1e9 * peak_reference(sizes, device=device, threads=threads, min_time=min_time).gflops


#: The cache size assumed when the last-level cache cannot be read (32 MiB, the L3 of the book's
#: build machine); :func:`last_level_cache_bytes` reports whether it fell back.
LLC_FALLBACK_BYTES = 32 * 2**20


def _parse_cache_size(text: str) -> int:
    text = text.strip().upper()
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def cpu_cache_sizes() -> dict[int, int]:
    """Sizes in bytes of cpu0's data or unified caches by level, read from
    ``/sys/devices/system/cpu/cpu0/cache/index*`` (Linux); empty where that cannot be read."""
    import glob

    out: dict[int, int] = {}
    for d in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*"):
        try:
            with open(f"{d}/type") as fh:
                kind = fh.read().strip()
            with open(f"{d}/level") as fh:
                level = int(fh.read())
            with open(f"{d}/size") as fh:
                size = _parse_cache_size(fh.read())
        except (OSError, ValueError):
            continue
        if kind in ("Data", "Unified"):
            out[level] = max(out.get(level, 0), size)
    return dict(sorted(out.items()))


def last_level_cache_bytes(device: torch.device | str = "cpu") -> tuple[int, str]:
    """The size in bytes of the last-level cache that ``device``'s memory traffic goes through,
    and where the number came from.

    CUDA: ``torch.cuda.get_device_properties(device).L2_cache_size``. CPU: the largest
    ``/sys/devices/system/cpu/cpu0/cache/index*/size`` of a data or unified cache (Linux); where
    that cannot be read, :data:`LLC_FALLBACK_BYTES` with the source ``"fallback"``.

    Returns:
        ``(bytes, source)``, source one of ``"cuda"``, ``"sysfs"``, ``"fallback"``.
    """
    device = _device(device)
    if device.type == "cuda":
        size = int(getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 0))
        if size > 0:
            return size, "cuda"
        return LLC_FALLBACK_BYTES, "fallback"
    sizes = cpu_cache_sizes()
    return (sizes[max(sizes)], "sysfs") if sizes else (LLC_FALLBACK_BYTES, "fallback")


def stream_elements(
    device: torch.device | str = "cpu", *, factor: int = 4, minimum: int = 1 << 24
) -> int:
    """float32 elements per STREAM array: ``factor`` times the last-level cache
    (:func:`last_level_cache_bytes`), at least ``minimum``, so that the arrays stream from memory
    rather than from the cache."""
    factor = _validate.integer("factor", factor, minimum=1)
    minimum = _validate.integer("minimum", minimum, minimum=1024)
    return max(minimum, factor * last_level_cache_bytes(device)[0] // 4)


#: The streaming kernels of :func:`stream_bandwidth`: (arrays read, arrays written, whether a
#: store misses the cache). ``copy`` is ``b[:] = a``, ``triad`` STREAM's ``a[:] = b + s c``, and
#: ``update`` the in-place triad ``a[:] += s c``, whose stores land on lines it has just read.
STREAM_KERNELS = {"copy": (1, 1, True), "triad": (2, 1, True), "update": (2, 1, False)}


def stream_bytes(kind: str, elements: int, *, write_allocate: bool = True) -> int:
    """Bytes one run of streaming kernel ``kind`` moves on ``elements`` float32 numbers.

    Reads plus writes, 4 bytes each. With ``write_allocate`` (the default, what a CPU with a
    write-back cache does for ordinary stores), a store to a line that is not in the cache first
    reads that line, so a kernel whose destination it has not read (``copy``, ``triad``) moves one
    array more: copy 12 bytes per element instead of 8, triad 16 instead of 12. STREAM's own
    convention (``write_allocate=False``) does not count that read. ``update`` (``a += s c``)
    reads its destination anyway, so both conventions give 12 bytes per element: its rate is the
    bandwidth measured without the question of which convention applies.

    Raises:
        ValueError, TypeError: unknown ``kind``, invalid ``elements`` or ``write_allocate``.
    """
    if not isinstance(kind, str) or kind not in STREAM_KERNELS:
        raise ValueError(f"kind must be one of {sorted(STREAM_KERNELS)}, got {kind!r}")
    elements = _validate.integer("elements", elements, minimum=1)
    if not isinstance(write_allocate, bool):
        raise TypeError(f"write_allocate must be bool, got {write_allocate!r}")
    reads, writes, misses = STREAM_KERNELS[kind]
    return 4 * elements * (reads + writes + (writes if misses and write_allocate else 0))


def stream_bandwidth(
    kind: str = "update",
    *,
    device: torch.device | str,
    elements: int | None = None,
    threads: int | None = None,
    min_time: float = 0.3,
    write_allocate: bool = True,
) -> float:
    """The memory ceiling in bytes/s, measured as STREAM does, with bytes counted by
    :func:`stream_bytes` (by default including the write-allocate read of a destination that is
    not read otherwise).

    ``"copy"`` is ``b[:] = a``; ``"triad"`` is ``a[:] = b + s c``; ``"update"`` is
    ``a[:] += s c``. The arrays must be much larger than the last-level cache, else the cache's
    bandwidth is measured: the default (``elements=None``) is :func:`stream_elements`, four
    times the cache read by :func:`last_level_cache_bytes`. The rate is the shortest round of :func:`sgdbook.timing.measure_for`
    after its warm-up (the first touch of the pages is part of the warm-up, not of the
    measurement).

    On a GPU stores do not read the line first; pass ``write_allocate=False`` there to count the
    traffic that actually moves (:func:`measure_ceilings` does).

    Args:
        kind: one of :data:`STREAM_KERNELS`.
        device: where to measure.
        elements: float32 elements per array (>= 1024); ``None``: :func:`stream_elements`.
        threads: torch intra-op threads on the CPU (``None``: current setting; ``1``: one core).
        min_time: seconds of timed rounds (> 0).
        write_allocate: count the write-allocate read (see :func:`stream_bytes`).

    Raises:
        ValueError, TypeError: invalid arguments.
    """
    if kind not in STREAM_KERNELS:
        raise ValueError(f"kind must be one of {sorted(STREAM_KERNELS)}, got {kind!r}")
    device = _device(device)
    elements = (
        stream_elements(device)
        if elements is None
        else _validate.integer("elements", elements, minimum=1024)
    )
    min_time = _validate.positive("min_time", min_time)
    threads = _threads(threads)
    nbytes = stream_bytes(kind, elements, write_allocate=write_allocate)
    a = torch.ones(elements, device=device)
    b = torch.full((elements,), 2.0, device=device)
    c = torch.full((elements,), 0.5, device=device)
    if kind == "copy":

        def fn():
            b.copy_(a)
    elif kind == "triad":

        def fn():
            torch.add(b, c, alpha=3.0, out=a)
    else:

        def fn():
            a.add_(c, alpha=1e-7)

    with intra_op_threads(threads):
        res = measure_for(
            fn,
            min_time=min_time,
            warmup_time=0.05,
            min_rounds=5,
            device=device,
            clock=work_clock(device, threads),
        )
    return nbytes / res.best


@dataclass(frozen=True)
class Ceilings:
    """The two ceilings of one device, for one core and for all cores.

    Attributes:
        device: the device measured.
        threads: threads of the "all cores" measurement.
        flops_one, flops_all: compute ceilings in FLOP/s (one thread; ``threads`` threads).
        bandwidth_one, bandwidth_all: memory ceiling in bytes/s (one thread; ``threads``): the
            in-place triad ``a += s c`` (``"update"`` of :func:`stream_bandwidth`), whose byte
            count does not depend on the write-allocate convention.
        triad_one, copy_one: STREAM's triad and copy with one thread, in bytes/s counted with the
            write-allocate read on the CPU (:func:`stream_bytes`; on a GPU without it).
        write_allocate: whether ``triad_one`` and ``copy_one`` count the write-allocate read.
        elements: float32 elements per streamed array.
    """

    device: str
    threads: int
    flops_one: float
    flops_all: float
    bandwidth_one: float
    bandwidth_all: float
    copy_one: float
    triad_one: float = float("nan")
    write_allocate: bool = True
    elements: int = 0

    def triad_stream_convention(self) -> float:
        """``triad_one`` in STREAM's convention (12 instead of 16 bytes per element on the CPU)."""
        return self.triad_one * (3 / 4 if self.write_allocate else 1.0)

    def ridge(self, cores: str = "one") -> float:
        """The ridge point :math:`R_{\\text{peak}}/\\mathrm{BW}` in FLOP/byte: kernels of lower intensity are
        memory-bound. ``cores`` is ``"one"`` or ``"all"``."""
        if cores not in ("one", "all"):
            raise ValueError(f"cores must be 'one' or 'all', got {cores!r}")
        return (
            self.flops_one / self.bandwidth_one
            if cores == "one"
            else self.flops_all / self.bandwidth_all
        )


def measure_ceilings(
    *,
    device: torch.device | str,
    min_time: float = 0.2,
    elements: int | None = None,
    sizes: tuple[int, ...] | None = None,
    flops_one: float | None = None,
) -> Ceilings:
    """Measure :func:`peak_flops` and :func:`stream_bandwidth` with one thread and with torch's
    current thread count. On a GPU "one core" has no meaning; both columns are the device's.
    The memory ceiling is the in-place triad (``"update"``); STREAM's triad and copy are measured
    with one thread too, counted with the write-allocate read on the CPU and without it on a GPU.

    Args:
        device: where to measure.
        min_time: seconds of timed rounds per measurement (> 0).
        elements: float32 elements per streamed array (see :func:`stream_bandwidth`).
        sizes: matrix sizes for :func:`peak_flops`.
        flops_one: an already measured one-thread compute ceiling in FLOP/s (not re-measured).

    Raises:
        ValueError, TypeError: invalid arguments (checked before anything is timed).
    """
    device = _device(device)
    min_time = _validate.positive("min_time", min_time)
    sizes = _sizes(sizes)
    if flops_one is not None:
        flops_one = _validate.positive("flops_one", flops_one)
    elements = (
        stream_elements(device)
        if elements is None
        else _validate.integer("elements", elements, minimum=1024)
    )
    threads = torch.get_num_threads() if device.type == "cpu" else 1
    one = 1 if device.type == "cpu" else None
    if flops_one is None:
        flops_one = peak_flops(device=device, threads=one, min_time=min_time, sizes=sizes)
    else:
        flops_one = _validate.positive("flops_one", flops_one)
    wa = device.type == "cpu"
    return Ceilings(
        device=str(device),
        threads=threads,
        write_allocate=wa,
        elements=elements,
        flops_one=flops_one,
        flops_all=(
            flops_one
            if device.type != "cpu"
            else peak_flops(device=device, threads=None, min_time=min_time, sizes=sizes)
        ),
        bandwidth_one=stream_bandwidth(
            "update", device=device, threads=one, min_time=min_time, elements=elements
        ),
        bandwidth_all=stream_bandwidth(
            "update", device=device, threads=None, min_time=min_time, elements=elements
        ),
        copy_one=stream_bandwidth(
            "copy",
            device=device,
            threads=one,
            min_time=min_time,
            elements=elements,
            write_allocate=wa,
        ),
        triad_one=stream_bandwidth(
            "triad",
            device=device,
            threads=one,
            min_time=min_time,
            elements=elements,
            write_allocate=wa,
        ),
    )


def attainable(intensity_: float, flops: float, bandwidth: float) -> float:
    """The roofline bound :math:`\\min(R_{\\text{peak}}, \\mathrm{BW}\\, I)` in FLOP/s."""
    intensity_ = _validate.positive("intensity", intensity_)
    return min(
        _validate.positive("flops", flops), _validate.positive("bandwidth", bandwidth) * intensity_
    )


def _counts(kernel: str, n: int, block: int) -> tuple[int, int, int]:
    """(flops, compulsory bytes, framework calls) of one run of ``kernel`` at size ``n``
    (float32: 4 bytes per number). Every operand of a call is read once and every result written
    once; a result the kernel does not read first (every one here but ``axpy``'s) is also read
    once by the write-allocate of the CPU's cache, the convention of :func:`stream_bytes`."""
    if kernel == "dot":  # n^2 dots: each reads a row and a column, writes one number
        return 2 * n**3, 4 * n * n * (2 * n + 2), n * n
    if kernel == "mv":  # n mvs: each reads A and a column, writes a column
        return 2 * n**3, 4 * n * (n * n + 3 * n), n
    if kernel == "block":  # n/block mms: each reads A and a block, writes a block
        calls = -(-n // block)
        return 2 * n**3, 4 * calls * (n * n + 3 * n * block), calls
    if kernel == "mm":  # one mm: reads A and B, writes C
        return 2 * n**3, 4 * 4 * n * n, 1
    if kernel == "matvec":  # y = A x, A of n x n
        return 2 * n * n, 4 * (n * n + 3 * n), 1
    if kernel == "axpy":  # y += a x on n^2 numbers, in place: 2 flops, 3 numbers moved
        return 2 * n * n, 4 * 3 * n * n, 1
    raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")


#: The kernels of the chapter's roofline plot.
KERNELS = ("dot", "mv", "block", "mm", "matvec", "axpy")


def intensity(kernel: str, n: int, *, block: int = 64) -> float:
    """Arithmetic intensity (FLOP per byte of compulsory traffic, float32) of ``kernel`` at size
    ``n``: the four ways of :mod:`sgdbook.systems.matmul` for an ``n x n`` product (``"dot"``, ``"mv"``,
    ``"block"``, ``"mm"``), a matrix-vector product ``A x`` with ``A`` of ``n x n`` (``"matvec"``)
    and an elementwise update ``y += a x`` of ``n^2`` numbers (``"axpy"``).

    Compulsory traffic counts every operand of a call read once and every result written once,
    plus the write-allocate read of a result the kernel has not read (see :func:`stream_bytes`);
    a kernel whose working set fits the caches moves less to and from main memory, one that
    re-reads data moves more. It is the convention of the roofline model.

    Raises:
        ValueError, TypeError: unknown kernel or invalid ``n``/``block``.
    """
    n = _validate.integer("n", n, minimum=1)
    block = _validate.integer("block", block, minimum=1)
    flops, nbytes, _ = _counts(kernel, n, block)
    return flops / nbytes


@dataclass(frozen=True)
class KernelPoint:
    """One kernel measured for the roofline plot.

    Attributes:
        kernel: the name, one of :data:`KERNELS`.
        n: its size.
        flops: floating-point operations of one run.
        bytes: compulsory bytes of one run.
        seconds: median seconds of one run.
        calls: framework calls of one run.
        best: seconds of the fastest round (``nan`` when not recorded).
    """

    kernel: str
    n: int
    flops: int
    bytes: int
    seconds: float
    calls: int
    best: float = float("nan")

    @property
    def intensity(self) -> float:
        """FLOP per byte."""
        return self.flops / self.bytes

    @property
    def rate_best(self) -> float:
        """FLOP/s of the fastest round (``nan`` when it was not recorded)."""
        return float("nan") if self.best != self.best else self.flops / self.best

    @property
    def rate(self) -> float:
        """Measured FLOP/s."""
        return self.flops / self.seconds


def time_kernel(
    kernel: str,
    n: int,
    *,
    device: torch.device | str,
    threads: int | None = None,
    block: int = 64,
    min_time: float = 0.2,
    seed: int = 0,
) -> KernelPoint:
    """Time ``kernel`` (see :func:`intensity`) at size ``n`` on float32 data, median of the
    rounds of :func:`sgdbook.timing.measure_for`.

    For ``"dot"`` only the first 4 rows of the product are computed and the counts scaled
    accordingly (the same operation repeated; see :func:`sgdbook.systems.matmul.time_four_ways`).
    """
    from . import matmul

    n = _validate.integer("n", n, minimum=1)
    block = _validate.integer("block", block, minimum=1)
    min_time = _validate.positive("min_time", min_time)
    device = _device(device)
    threads = _threads(threads)
    flops, nbytes, calls = _counts(kernel, n, block)
    gen = torch.Generator().manual_seed(_validate.seed("seed", seed))
    if kernel in ("dot", "mv", "block", "mm", "matvec"):
        A = torch.randn(n, n, generator=gen).to(device)
        B = torch.randn(n, n, generator=gen).to(device)
        x = torch.randn(n, generator=gen).to(device)
        out = torch.empty(n, device=device)
    if kernel == "dot":
        rows = min(4, n)
        fn: Callable[[], object] = lambda: matmul.matmul_elementwise(A, B, rows=rows)
        flops, nbytes, calls = (flops * rows // n, nbytes * rows // n, calls * rows // n)
    elif kernel == "mv":
        fn = lambda: matmul.matmul_columns(A, B)
    elif kernel == "block":
        fn = lambda: matmul.matmul_blocks(A, B, block)
    elif kernel == "mm":
        fn = lambda: matmul.matmul_full(A, B)
    elif kernel == "matvec":
        fn = lambda: torch.mv(A, x, out=out)
    else:
        yv = torch.randn(n * n, generator=gen).to(device)
        xv = torch.randn(n * n, generator=gen).to(device)
        fn = lambda: yv.add_(xv, alpha=1e-3)
    with intra_op_threads(threads):
        res = measure_for(
            fn,
            min_time=min_time,
            warmup_time=0.05,
            device=device,
            clock=work_clock(device, threads),
        )
    return KernelPoint(
        kernel=kernel,
        n=n,
        flops=flops,
        bytes=nbytes,
        seconds=res.median,
        calls=calls,
        best=res.best,
    )


def points_from_ways(ways, n: int, *, block: int = 64) -> list[KernelPoint]:
    """Roofline points of the four ways already timed by :func:`sgdbook.systems.matmul.time_four_ways`
    on an ``n x n`` product (the entry-by-entry way on its timed rows), without timing again."""
    from .matmul import METHODS, WayTiming

    n = _validate.integer("n", n, minimum=1)
    block = _validate.integer("block", block, minimum=1)
    if isinstance(ways, (str, bytes)) or not hasattr(ways, "__iter__"):
        raise TypeError(f"ways must be a sequence of WayTiming, got {ways!r:.60}")
    kinds = dict(zip((m[0] for m in METHODS), ("dot", "mv", "block", "mm")))
    out = []
    for k, w in enumerate(ways):
        if not isinstance(w, WayTiming) or w.name not in kinds:
            raise TypeError(
                f"ways[{k}] must be a WayTiming of sgdbook.systems.matmul.time_four_ways"
            )
        nbytes = _counts(kinds[w.name], n, block)[1]
        scale = w.rows / n
        out.append(
            KernelPoint(
                kernel=kinds[w.name],
                n=n,
                flops=w.flops,
                bytes=round(nbytes * scale),
                seconds=w.seconds,
                calls=w.calls,
                best=w.best,
            )
        )
    return out


#: The fewest bytes one Adam step can move per float32 parameter. It reads the parameter, its
#: gradient and the two moments (4 x 4 bytes) and writes the parameter and the two moments
#: (3 x 4 bytes). Reads plus writes; every store lands on a line the step has just read, so the
#: write-allocate read adds nothing (the count is the same in both conventions of
#: :func:`stream_bytes`).
ADAM_BYTES_PER_PARAM = 28


def adam_floor_seconds(
    params: int, bandwidth: float, *, bytes_per_param: int = ADAM_BYTES_PER_PARAM
) -> float:
    """The bandwidth floor of one Adam step: ``params * bytes_per_param / bandwidth`` seconds
    (no implementation that reads and writes each number once can be faster)."""
    params = _validate.integer("params", params, minimum=1)
    bytes_per_param = _validate.integer("bytes_per_param", bytes_per_param, minimum=1)
    return params * bytes_per_param / _validate.positive("bandwidth", bandwidth)


#: The implementations of one Adam step compared by :func:`time_adam_steps`, in order
#: torch's per-tensor loop, its multi-tensor (``foreach``) and fused kernels, and sgdbook's
#: :class:`sgdbook.optim.Adam` (its multi-tensor path).
ADAM_VARIANTS = ("torch for-loop", "torch foreach", "torch fused", "sgdbook")


@dataclass(frozen=True)
class AdamTiming:
    """One Adam implementation timed on a model-sized list of tensors.

    Attributes:
        name: one of :data:`ADAM_VARIANTS`.
        params: parameters updated by one step.
        tensors: tensors they are split into.
        seconds: median seconds per step.
        spread: (max - min) / median over the timed rounds.
        best: seconds of the fastest step (``nan`` when not recorded).
        rounds: timed steps.
        max_diff: largest absolute difference of the parameters after the checked steps from
            those of the first variant (0 for the first).
    """

    name: str
    params: int
    tensors: int
    seconds: float
    spread: float
    max_diff: float
    best: float = float("nan")
    rounds: int = 0

    def effective_bytes_per_param(self, bandwidth: float) -> float:
        """Bytes per parameter the measured time corresponds to at ``bandwidth`` bytes/s."""
        return self.seconds * _validate.positive("bandwidth", bandwidth) / self.params


def _make_optimizer(name: str, params: list[torch.Tensor], lr: float):
    from ..optim import Adam as BookAdam

    if name == "torch for-loop":
        return torch.optim.Adam(params, lr=lr, foreach=False)
    if name == "torch foreach":
        return torch.optim.Adam(params, lr=lr, foreach=True)
    if name == "torch fused":
        return torch.optim.Adam(params, lr=lr, fused=True)
    if name == "sgdbook":
        return BookAdam(params, lr=lr, foreach=True)
    raise ValueError(f"name must be one of {ADAM_VARIANTS}, got {name!r}")


def time_adam_steps(
    params: int = 10_000_000,
    *,
    tensors: int = 40,
    device: torch.device | str,
    threads: int | None = None,
    variants: tuple[str, ...] = ADAM_VARIANTS,
    repeats: int = 5,
    check_steps: int = 3,
    lr: float = 1e-3,
    seed: int = 0,
    min_time: float | None = None,
) -> list[AdamTiming]:
    """Time one Adam step on ``params`` float32 parameters split into ``tensors`` equal tensors
    (like the layers of a model), for each of ``variants``.

    Every variant starts from the same parameters, gradients and (after ``check_steps`` checked
    steps) state. The first ``check_steps`` steps are compared with the first variant's
    parameters (``max_diff``); then the steps are timed, with :func:`sgdbook.timing.measure_for`
    (at least ``repeats`` steps and ``min_time`` seconds, after a warm-up of at least one step)
    when ``min_time`` is given, else with :func:`sgdbook.timing.measure` (``repeats`` steps, one
    warm-up step); the median and the fastest step are reported. On the CPU with one thread the
    clock is the thread's CPU time (:func:`sgdbook.timing.work_clock`). Only one variant's
    tensors are alive at a time.

    Raises:
        ValueError, TypeError: invalid arguments.
    """
    params = _validate.integer("params", params, minimum=1)
    tensors = _validate.integer("tensors", tensors, minimum=1)
    if tensors > params:
        raise ValueError(f"tensors must be <= params={params}, got {tensors}")
    repeats = _validate.integer("repeats", repeats, minimum=1)
    check_steps = _validate.integer("check_steps", check_steps, minimum=1)
    if min_time is not None:
        min_time = _validate.positive("min_time", min_time)
    lr = _validate.positive("lr", lr)
    seed = _validate.seed("seed", seed)
    device = _device(device)
    threads = _threads(threads)
    if isinstance(variants, str) or not hasattr(variants, "__iter__"):
        raise TypeError(f"variants must be a sequence of names, got {variants!r}")
    if not variants:
        raise ValueError("variants must name at least one implementation")
    for v in variants:
        if v not in ADAM_VARIANTS:
            raise ValueError(f"variants must be drawn from {ADAM_VARIANTS}, got {v!r}")
    size = params // tensors
    shapes = [size + (1 if k < params - size * tensors else 0) for k in range(tensors)]
    gen = torch.Generator().manual_seed(seed)
    start = [torch.randn(s, generator=gen) for s in shapes]
    grads = [torch.randn(s, generator=gen) for s in shapes]
    reference: list[torch.Tensor] | None = None
    out = []
    with intra_op_threads(threads):
        for name in variants:
            ps = [p.clone().to(device).requires_grad_(True) for p in start]
            for p, g in zip(ps, grads):
                p.grad = g.to(device)
            opt = _make_optimizer(name, ps, lr)
            with torch.no_grad():
                for _ in range(check_steps):
                    opt.step()
            final = [p.detach().cpu().clone() for p in ps]
            if reference is None:
                reference, diff = final, 0.0
            else:
                diff = max(float((a - b).abs().max()) for a, b in zip(final, reference))
            clock = work_clock(device, threads)
            with torch.no_grad():
                if min_time is None:
                    res = measure(opt.step, repeats=repeats, warmup=1, device=device, clock=clock)
                else:
                    res = measure_for(
                        opt.step,
                        min_time=min_time,
                        min_rounds=repeats,
                        warmup_time=0.0,
                        min_warmup=1,
                        round_time=1e-4,
                        device=device,
                        clock=clock,
                    )
            out.append(
                AdamTiming(
                    name=name,
                    params=params,
                    tensors=tensors,
                    seconds=res.median,
                    spread=res.spread,
                    max_diff=diff,
                    best=res.best,
                    rounds=len(res.times),
                )
            )
            del ps, opt
    return out
