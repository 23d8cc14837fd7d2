"""The two roofline ceilings of this machine, kernels against them, the Adam step against its
bandwidth floor, and all-reduce against compute (chapter 4, book/minibatch.md).

Usage (from the repository root):

    PYTHONPATH=. python benchmarks/bench_roofline.py [--device cpu|cuda|auto] [--params 10000000]
                                                     [--no-comm]

Prints: the peak rate of torch.mm and the memory bandwidth (in-place triad ``a += s*c``, whose
byte count does not depend on the write-allocate convention) with one thread and with all of
torch's threads, and STREAM's triad and copy with one thread counted both ways (reads + writes,
and with the write-allocate read of the destination); the intensity, measured rate and roofline bound of a matrix product, a
matrix-vector product and an elementwise update (one thread); one Adam step on ``--params``
float32 parameters (40 tensors) with torch's per-tensor loop, foreach, fused and sgdbook's Adam,
against the floor 28 bytes x params / bandwidth; and (unless ``--no-comm``) the forward+backward
time (and its GFLOP/s) and the all-reduce time per step (a barrier before every round) in a group of 2 processes over gloo. A measurement, not a
test: it always exits 0.
"""

from __future__ import annotations

import argparse
import sys

import torch

from sgdbook.device import describe_device, get_device
from sgdbook.systems import data_parallel, roofline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--params", type=int, default=10_000_000)
    parser.add_argument("--no-comm", action="store_true", help="skip the all-reduce timing")
    args = parser.parse_args(argv)
    device = get_device() if args.device == "auto" else torch.device(args.device)
    one = 1 if device.type == "cpu" else None
    print(f"device: {describe_device(device)}; torch threads {torch.get_num_threads()}")
    llc, source = roofline.last_level_cache_bytes(device)
    c = roofline.measure_ceilings(device=device, min_time=0.3)
    print(
        f"last-level cache {llc / 2**20:.0f} MiB ({source}); STREAM arrays "
        f"{4 * c.elements / 2**20:.0f} MiB each ({4 * c.elements / llc:.1f}x the cache); one-thread "
        "timings use the thread's CPU time (sgdbook.timing.work_clock)"
    )
    print(
        f"peak torch.mm:   one thread {c.flops_one / 1e9:8.1f} GFLOP/s   "
        f"{c.threads} threads {c.flops_all / 1e9:8.1f} GFLOP/s"
    )
    print(
        f"bandwidth BW (in-place triad a += s*c, 12 B/element): one thread "
        f"{c.bandwidth_one / 1e9:8.1f} GB/s   {c.threads} threads {c.bandwidth_all / 1e9:8.1f} GB/s"
    )
    print(
        f"STREAM triad a = b + s*c, one thread: {c.triad_one / 1e9:.1f} GB/s counting the "
        f"write-allocate read (16 B/element), {c.triad_stream_convention() / 1e9:.1f} GB/s in "
        f"STREAM's convention (12 B/element); ratio to BW {c.triad_one / c.bandwidth_one:.2f} and "
        f"{c.triad_stream_convention() / c.bandwidth_one:.2f}"
    )
    print(
        f"STREAM copy b = a, one thread: {c.copy_one / 1e9:.1f} GB/s counting the write-allocate "
        f"read (12 B/element)"
    )
    print(
        f"ridge point R_peak/BW: one thread {c.ridge('one'):.2f} FLOP/B, all {c.ridge('all'):.2f}"
    )
    print(
        f"{'kernel':<10}{'n':>6}{'FLOP/B':>9}{'GFLOP/s median':>16}{'best':>9}{'roof':>10}"
        f"{'% roof (best)':>15}"
    )
    for kernel, n in (("mm", 256), ("mm", 1024), ("matvec", 4096), ("axpy", 4096)):
        p = roofline.time_kernel(kernel, n, device=device, threads=one, min_time=0.3)
        bound = roofline.attainable(p.intensity, c.flops_one, c.bandwidth_one)
        print(
            f"{kernel:<10}{n:>6}{p.intensity:>9.2f}{p.rate / 1e9:>16.2f}{p.rate_best / 1e9:>9.2f}"
            f"{bound / 1e9:>10.2f}{100 * p.rate_best / bound:>14.0f}%"
        )
    floor = roofline.adam_floor_seconds(args.params, c.bandwidth_one)
    print(
        f"Adam step, {args.params:,} float32 parameters in 40 tensors, one thread; floor "
        f"{floor * 1e3:.2f} ms (28 B/param, reads + writes, every store to a line just read, at "
        f"the one-thread in-place triad bandwidth)"
    )
    for a in roofline.time_adam_steps(
        args.params, tensors=40, device=device, threads=one, repeats=7, check_steps=3, min_time=1.0
    ):
        print(
            f"  {a.name:<16}best {a.best * 1e3:8.2f} ms  median {a.seconds * 1e3:8.2f} ms "
            f"({a.rounds} steps)  best x{a.best / floor:5.2f} floor  "
            f"{a.best * c.bandwidth_one / a.params:6.1f} B/param  max diff {a.max_diff:.1e}"
        )
    if not args.no_comm:
        print("2 processes over gloo, 1 thread each, local batch 32 (slowest process, median):")
        for t in data_parallel.comm_compute(
            (64, 256, 1024, 2048), world_size=2, local_batch=32, repeats=7
        ):
            print(
                f"  width {t.width:>5} params {t.params:>10,}  forward+backward "
                f"{t.compute * 1e3:8.2f} ms ({t.compute_gflops:6.1f} GFLOP/s)  all-reduce "
                f"{t.allreduce * 1e3:8.2f} ms  "
                f"communication {100 * t.comm_fraction:3.0f}%"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
