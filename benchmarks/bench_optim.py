"""Time one optimizer step of sgdbook.optim against torch.optim's default implementation.

Model: about 10 million float32 parameters in 100 tensors (50 weight matrices 448x448 and their
50 bias vectors), with fixed random gradients. For every optimizer setting the two
implementations get identical copies of the parameters; after a warm-up (which also creates
the optimizer state) their steps are timed alternately, ``--repeats`` times each, and the
medians are compared. The device comes from :func:`sgdbook.device.get_device` (CUDA when
available, set ``SGDBOOK_DEVICE=cpu`` to force the CPU); on CUDA the timer synchronizes before
reading the clock.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_optim.py            # all optimizers
    PYTHONPATH=. python benchmarks/bench_optim.py --repeats 50 --only Adam "SGD momentum"
    PYTHONPATH=. python benchmarks/bench_optim.py --threads 1   # steadier on a busy machine

Columns: median milliseconds per step of torch (its default: the for-loop implementation on
the CPU, foreach on CUDA), of sgdbook's per-tensor path (``foreach=False``, the one the book
explains) and of its multi-tensor path (``foreach=True``, ``torch._foreach_*`` ops), and the
ratio of sgdbook's default path (``foreach=None``: per-tensor on the CPU, multi-tensor on
CUDA, like torch) to torch (target: at most 1.3).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Callable

import torch

import sgdbook.optim as so
from sgdbook.device import describe_device, get_device, synchronize

#: (name, sgdbook factory, torch factory); each factory takes a parameter list.
CASES: list[tuple[str, Callable, Callable]] = [
    ("SGD", lambda p, **k: so.SGD(p, lr=1e-3, **k), lambda p: torch.optim.SGD(p, lr=1e-3)),
    ("SGD momentum", lambda p, **k: so.SGD(p, lr=1e-3, momentum=0.9, weight_decay=1e-4, **k),
     lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, weight_decay=1e-4)),
    ("SGD nesterov", lambda p, **k: so.SGD(p, lr=1e-3, momentum=0.9, nesterov=True, **k),
     lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True)),
    ("EMAMomentum", lambda p, **k: so.EMAMomentum(p, lr=1e-2, beta=0.9, **k),
     lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9)),
    ("Adagrad", lambda p, **k: so.Adagrad(p, **k), lambda p: torch.optim.Adagrad(p)),
    ("RMSprop", lambda p, **k: so.RMSprop(p, **k), lambda p: torch.optim.RMSprop(p)),
    ("RMSprop centered+mom", lambda p, **k: so.RMSprop(p, momentum=0.9, centered=True, **k),
     lambda p: torch.optim.RMSprop(p, momentum=0.9, centered=True)),
    ("Adam", lambda p, **k: so.Adam(p, **k), lambda p: torch.optim.Adam(p)),
    ("Adam amsgrad", lambda p, **k: so.Adam(p, amsgrad=True, **k),
     lambda p: torch.optim.Adam(p, amsgrad=True)),
    ("AdamW", lambda p, **k: so.AdamW(p, **k), lambda p: torch.optim.AdamW(p)),
]


def make_model(device: torch.device, seed: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
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


def time_steps(optimizers: list[torch.optim.Optimizer], device: torch.device, warmup: int,
               repeats: int) -> list[float]:
    """Median seconds per ``step()`` of each optimizer, measured alternately."""
    for _ in range(warmup):
        for opt in optimizers:
            opt.step()
    synchronize(device)
    samples: list[list[float]] = [[] for _ in optimizers]
    for _ in range(repeats):
        for i, opt in enumerate(optimizers):
            synchronize(device)
            t0 = time.perf_counter()
            opt.step()
            synchronize(device)
            samples[i].append(time.perf_counter() - t0)
    return [statistics.median(s) for s in samples]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed steps per implementation")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--only", nargs="*", help="optimizer names to run (default: all)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    device = get_device()
    params, grads = make_model(device)
    n = sum(p.numel() for p in params)
    print(f"device: {describe_device(device)}; torch threads: {torch.get_num_threads()}")
    print(f"model: {n / 1e6:.2f}M float32 parameters in {len(params)} tensors; "
          f"median of {args.repeats} steps after {args.warmup} warm-up steps\n")
    default_foreach = device.type in ("cuda", "xpu")
    print(f"sgdbook default path here: foreach={default_foreach}\n")
    header = (f"{'optimizer':<22} {'torch ms':>9} {'foreach=False':>14} {'foreach=True':>13} "
              f"{'ratio':>6}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, ours, theirs in CASES:
        if args.only and name not in args.only:
            continue
        opts = [theirs(attach(params, grads)), ours(attach(params, grads), foreach=False),
                ours(attach(params, grads), foreach=True)]
        t_torch, t_single, t_multi = time_steps(opts, device, args.warmup, args.repeats)
        del opts
        ratio = (t_multi if default_foreach else t_single) / t_torch
        worst = max(worst, ratio)
        print(f"{name:<22} {t_torch * 1e3:9.2f} {t_single * 1e3:14.2f} {t_multi * 1e3:13.2f} "
              f"{ratio:6.2f}", flush=True)
    print(f"\nworst ratio sgdbook/torch: {worst:.2f} (target <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
