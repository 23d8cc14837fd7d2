"""Time one optimizer step of sgdbook.optim against torch.optim's default implementation.

Model: about 10 million float32 parameters in 100 tensors (50 weight matrices 448x448 and their
50 bias vectors), with fixed random gradients. For every optimizer setting, torch and the two
code paths of sgdbook get identical copies of the parameters; after a warm-up (which also
creates the optimizer state) their steps are timed in rounds (one step of each per round, in
rotating order; at least ``--repeats`` rounds and ``--min-seconds`` seconds), and medians
are compared. The device comes from :func:`sgdbook.device.get_device` (CUDA when
available, set ``SGDBOOK_DEVICE=cpu`` to force the CPU); on CUDA the timer synchronizes before
reading the clock.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_optim.py            # all optimizers
    PYTHONPATH=. python benchmarks/bench_optim.py --repeats 50 --only Adam "SGD momentum"
    PYTHONPATH=. python benchmarks/bench_optim.py --threads 2   # torch's default thread count

On the CPU the benchmark uses one torch thread unless ``--threads`` says otherwise: with
several threads every operation waits for its slowest thread, and on a machine shared with
other jobs that makes single timings vary by a factor of two or more.

Columns: median wall-clock milliseconds per step of torch (its default: the for-loop implementation on
the CPU, foreach on CUDA), of sgdbook's per-tensor path (``foreach=False``, the one the book
explains) and of its multi-tensor path (``foreach=True``, ``torch._foreach_*`` ops), and the
ratio of sgdbook's default path (``foreach=None``: per-tensor on the CPU, multi-tensor on
CUDA, like torch) to torch: the median over rounds of the paired ratio of two steps timed
moments apart (target: at most 1.3). The three are timed in rotating order in every round.
On the CPU with one thread, ``cpu ratio`` is the same paired ratio measured with the thread's CPU time
(:func:`time.thread_time`), which does not count time the process spent descheduled.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch

import sgdbook.optim as so
from sgdbook.device import describe_device, get_device, synchronize

#: (name, sgdbook factory, torch factory); each factory takes a parameter list.
CASES: list[tuple[str, Callable, Callable]] = [
    ("SGD", lambda p, **k: so.SGD(p, lr=1e-3, **k), lambda p: torch.optim.SGD(p, lr=1e-3)),
    (
        "SGD momentum",
        lambda p, **k: so.SGD(p, lr=1e-3, momentum=0.9, weight_decay=1e-4, **k),
        lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, weight_decay=1e-4),
    ),
    (
        "SGD nesterov",
        lambda p, **k: so.SGD(p, lr=1e-3, momentum=0.9, nesterov=True, **k),
        lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
    ),
    (
        "EMAMomentum",
        lambda p, **k: so.EMAMomentum(p, lr=1e-2, beta=0.9, **k),
        lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9),
    ),
    ("Adagrad", lambda p, **k: so.Adagrad(p, **k), lambda p: torch.optim.Adagrad(p)),
    ("RMSprop", lambda p, **k: so.RMSprop(p, **k), lambda p: torch.optim.RMSprop(p)),
    (
        "RMSprop centered+mom",
        lambda p, **k: so.RMSprop(p, momentum=0.9, centered=True, **k),
        lambda p: torch.optim.RMSprop(p, momentum=0.9, centered=True),
    ),
    ("Adam", lambda p, **k: so.Adam(p, **k), lambda p: torch.optim.Adam(p)),
    (
        "Adam amsgrad",
        lambda p, **k: so.Adam(p, amsgrad=True, **k),
        lambda p: torch.optim.Adam(p, amsgrad=True),
    ),
    ("AdamW", lambda p, **k: so.AdamW(p, **k), lambda p: torch.optim.AdamW(p)),
]


def make_model(
    device: torch.device, seed: int = 0
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """About 10M parameters in 100 tensors, and one fixed gradient per tensor."""
    g = torch.Generator().manual_seed(seed)
    shapes = [s for _ in range(50) for s in ((448, 448), (448,))]
    params = [torch.randn(s, generator=g).mul_(0.02).to(device) for s in shapes]
    grads = [torch.randn(s, generator=g).mul_(1e-3).to(device) for s in shapes]
    return params, grads


def attach(params: list[torch.Tensor], grads: list[torch.Tensor]) -> list[torch.Tensor]:
    """Fresh leaf copies of ``params`` carrying copies of ``grads``."""
    out = []
    for p, gr in zip(params, grads):
        q = p.clone().requires_grad_(True)
        q.grad = gr.clone()
        out.append(q)
    return out


def time_steps(
    optimizers: list[torch.optim.Optimizer],
    device: torch.device,
    warmup: int,
    repeats: int,
    min_seconds: float = 0.0,
) -> dict[str, list[float]]:
    """Time ``step()`` of each optimizer, in rounds; the order rotates from round to round.

    At least ``repeats`` rounds are timed, and more until ``min_seconds`` have passed (cheap
    steps get more rounds, which steadies their medians).

    Returns, per clock (``wall``: :func:`time.perf_counter` around a synchronized step;
    ``cpu``: :func:`time.thread_time`, the CPU time of this thread, which is the whole work
    of a step on the CPU with one torch thread and ignores time spent descheduled), the
    median seconds per step of each optimizer (``<clock>``) and the median over rounds of the
    paired ratio ``time_i / time_0`` (``<clock>_ratio``; the first optimizer is the
    reference). Pairing steps taken moments apart cancels most of the drift of a machine
    shared with other work.
    """
    for _ in range(warmup):
        for opt in optimizers:
            opt.step()
    synchronize(device)
    k = len(optimizers)
    wall: list[list[float]] = [[] for _ in optimizers]
    cpu: list[list[float]] = [[] for _ in optimizers]
    start = time.perf_counter()
    r = 0
    while r < repeats or time.perf_counter() - start < min_seconds:
        r += 1
        for j in range(k):
            i = (r + j) % k
            synchronize(device)
            c0, t0 = time.thread_time(), time.perf_counter()
            optimizers[i].step()
            synchronize(device)
            wall[i].append(time.perf_counter() - t0)
            cpu[i].append(time.thread_time() - c0)
    out: dict[str, list[float]] = {}
    for name, samples in (("wall", wall), ("cpu", cpu)):
        out[name] = [statistics.median(s) for s in samples]
        out[name + "_ratio"] = [
            statistics.median(a / max(b, 1e-12) for a, b in zip(s, samples[0])) for s in samples
        ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed steps per implementation")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=5.0,
        help="keep adding rounds until this much time has passed per optimizer",
    )
    parser.add_argument("--only", nargs="*", help="optimizer names to run (default: all)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads (default: 1 on the CPU, for steady timings)",
    )
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    device = get_device()
    if args.threads is None and device.type == "cpu":
        torch.set_num_threads(1)
    params, grads = make_model(device)
    n = sum(p.numel() for p in params)
    on_cpu = device.type == "cpu" and torch.get_num_threads() == 1  # CPU time is meaningful
    print(f"device: {describe_device(device)}; torch threads: {torch.get_num_threads()}")
    print(
        f"model: {n / 1e6:.2f}M float32 parameters in {len(params)} tensors; "
        f"at least {args.repeats} timed rounds and {args.min_seconds:g} s per optimizer, "
        f"after {args.warmup} warm-up steps"
    )
    default_foreach = device.type in ("cuda", "xpu")
    print(f"sgdbook default path here: foreach={default_foreach}\n")
    header = (
        f"{'optimizer':<22} {'torch ms':>9} {'foreach=False':>14} {'foreach=True':>13} "
        f"{'ratio':>6}" + (f" {'cpu ratio':>10}" if on_cpu else "")
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, ours, theirs in CASES:
        if args.only and name not in args.only:
            continue
        opts = [
            theirs(attach(params, grads)),
            ours(attach(params, grads), foreach=False),
            ours(attach(params, grads), foreach=True),
        ]
        t = time_steps(opts, device, args.warmup, args.repeats, args.min_seconds)
        del opts
        pick = 2 if default_foreach else 1
        ratio = t["wall_ratio"][pick]
        worst = max(worst, ratio)
        t_torch, t_single, t_multi = (x * 1e3 for x in t["wall"])
        line = f"{name:<22} {t_torch:9.2f} {t_single:14.2f} {t_multi:13.2f} {ratio:6.2f}"
        if on_cpu:
            line += f" {t['cpu_ratio'][pick]:10.2f}"
        print(line, flush=True)
    print(f"\nworst ratio sgdbook/torch: {worst:.2f} (target <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
