"""Chapter 4 (:doc:`/minibatch`): data parallelism as practitioners run it, with
``DistributedDataParallel``, ``DistributedSampler`` and gradient accumulation, checked against
single-process large-batch training, and the cost of communication against computation.

* :func:`ddp_training` trains a small two-layer network with
  ``torch.nn.parallel.DistributedDataParallel`` in ``world_size`` processes (gloo on the CPU,
  nccl with one GPU per process), each reading its share of every epoch through a
  ``torch.utils.data.DistributedSampler``; with ``accumulation = k`` each process sums the
  gradients of ``k`` micro-batches (``no_sync`` for the first ``k - 1``) before one step.
* :func:`global_batches` lists, step by step, the union of the examples the processes saw; with
  equal shards DDP's averaged gradient is the mean gradient over that union, so
  :func:`large_batch_training` on these batches in one process is the reference, and
  :func:`accumulated_training` is the same in one process with ``k`` micro-batches per step.
* :func:`comm_compute` times, in the processes of a group, the ``all_reduce`` of a model's
  gradient and the forward and backward pass of a local batch, for several model sizes.

Processes are started by :func:`sgdbook.systems.parallel.launch` (free port, retries, timeout, every
worker stopped and reaped whatever happens); the worker functions are defined here so that they
can be imported by the workers.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from .. import validation as _validate
from ..optim import assert_finite as _assert_finite
from .parallel import launch

__all__ = [
    "make_model",
    "global_batches",
    "large_batch_training",
    "accumulated_training",
    "ddp_training",
    "ddp_worker",
    "CommComputeTiming",
    "comm_compute",
    "comm_compute_worker",
    "allreduce_bytes",
    "chapter_worker",
    "run_chapter_experiments",
]


def make_model(
    d: int, hidden: int, *, seed: int, dtype: torch.dtype = torch.float64
) -> torch.nn.Module:
    """``Linear(d, hidden) -> tanh -> Linear(hidden, 1)``, initialised from ``seed`` (the same
    parameters in every process).

    Raises:
        TypeError: ``dtype`` is not a floating-point ``torch.dtype``; a size or the seed is not
            an integer.
        ValueError: a size is below 1 or the seed is negative.
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    d = _validate.integer("d", d, minimum=1)
    _validate.dtype("dtype", dtype)
    hidden = _validate.integer("hidden", hidden, minimum=1)
    seed = _validate.seed("seed", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = torch.nn.Sequential(
            torch.nn.Linear(d, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)
        )
    return model.to(dtype)


def _check_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty (n, d) array, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite")
    return X, y


class _Indices(torch.utils.data.Dataset):
    """A data set of ``n`` examples, only for its length (what a sampler looks at)."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


def _rank_indices(n: int, world_size: int, rank: int, seed: int, epoch: int) -> list[int]:
    sampler = torch.utils.data.DistributedSampler(
        _Indices(n), num_replicas=world_size, rank=rank, shuffle=True, seed=seed
    )
    sampler.set_epoch(epoch)
    return list(sampler)


def _check_schedule(n, world_size, micro_batch, accumulation, epochs, seed):
    n = _validate.integer("n", n, minimum=1)
    world_size = _validate.integer("world_size", world_size, minimum=1)
    micro_batch = _validate.integer("micro_batch", micro_batch, minimum=1)
    accumulation = _validate.integer("accumulation", accumulation, minimum=1)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    seed = _validate.seed("seed", seed)
    per_rank = -(-n // world_size)  # DistributedSampler pads every rank to this length
    micro_steps = per_rank // micro_batch
    if micro_steps == 0 or micro_steps % accumulation:
        raise ValueError(
            f"each process sees {per_rank} examples per epoch, i.e. {micro_steps} "
            f"full micro-batches of {micro_batch}; accumulation={accumulation} must "
            "divide that number (and it must be >= 1)"
        )
    return n, world_size, micro_batch, accumulation, epochs, seed


def global_batches(
    n: int,
    *,
    world_size: int,
    micro_batch: int,
    accumulation: int = 1,
    epochs: int = 1,
    seed: int = 0,
) -> list[np.ndarray]:
    """The example indices of every optimizer step of :func:`ddp_training`: for each step, the
    ``accumulation`` micro-batches of every rank (as ``DistributedSampler`` with ``seed`` and
    ``set_epoch(e)`` hands them out, the last incomplete micro-batch dropped), concatenated.

    Raises:
        ValueError: ``accumulation`` does not divide the micro-batches per epoch, or invalid
            arguments.
    """
    n, world_size, micro_batch, accumulation, epochs, seed = _check_schedule(
        n, world_size, micro_batch, accumulation, epochs, seed
    )
    steps = []
    for epoch in range(epochs):
        ranks = [_rank_indices(n, world_size, r, seed, epoch) for r in range(world_size)]
        micro_steps = len(ranks[0]) // micro_batch
        per_step = micro_batch * accumulation
        for s in range(micro_steps // accumulation):
            steps.append(
                np.concatenate(
                    [np.asarray(idx[s * per_step : (s + 1) * per_step]) for idx in ranks]
                )
            )
    return steps


def _params(model: torch.nn.Module) -> list[np.ndarray]:
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


def large_batch_training(
    X, y, batches: list[np.ndarray], *, hidden: int, lr: float, seed: int
) -> list[np.ndarray]:
    """Single-process SGD on the mean squared error of :func:`make_model`, one step per entry of
    ``batches`` (its mean gradient), float64. Returns the final parameters."""
    return accumulated_training(X, y, batches, hidden=hidden, lr=lr, seed=seed, accumulation=1)


def accumulated_training(
    X, y, batches: list[np.ndarray], *, hidden: int, lr: float, seed: int, accumulation: int
) -> list[np.ndarray]:
    """Like :func:`large_batch_training`, but every batch is split into ``accumulation`` equal
    micro-batches whose gradients (of the micro-batch mean divided by ``accumulation``) are
    accumulated by ``backward`` before one step: gradient accumulation in one process.

    Raises:
        ValueError: ``accumulation`` does not divide a batch's size, or invalid arguments.
        ~sgdbook.divergence.DivergenceError: a parameter became ``inf``/``nan`` (the message names the step).
    """
    X, y = _check_data(X, y)
    lr = _validate.positive("lr", lr)
    accumulation = _validate.integer("accumulation", accumulation, minimum=1)
    if not batches:
        raise ValueError("batches must hold at least one batch")
    model = make_model(X.shape[1], hidden, seed=seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for k, batch in enumerate(batches):
        batch = np.asarray(batch)
        if batch.size == 0 or batch.size % accumulation:
            raise ValueError(
                f"batches[{k}] has {batch.size} examples, not a positive multiple "
                f"of accumulation={accumulation}"
            )
        opt.zero_grad()
        for micro in np.split(batch, accumulation):
            idx = torch.from_numpy(micro)
            loss = torch.mean((model(Xt[idx]).squeeze(1) - yt[idx]) ** 2) / accumulation
            loss.backward()
        opt.step()
        _assert_finite(opt, step=k + 1)
    return _params(model)


def _check_rank(rank, world_size) -> tuple[int, int]:
    world_size = _validate.integer("world_size", world_size, minimum=1)
    rank = _validate.integer("rank", rank, minimum=0)
    if rank >= world_size:
        raise ValueError(f"rank must be < world_size={world_size}, got {rank}")
    return rank, world_size


def ddp_worker(
    rank: int,
    world_size: int,
    X: np.ndarray,
    y: np.ndarray,
    hidden: int,
    micro_batch: int,
    accumulation: int,
    lr: float,
    epochs: int,
    seed: int,
    backend: str,
) -> list[np.ndarray]:
    """One process of :func:`ddp_training` (run by :func:`sgdbook.systems.parallel.launch`).

    Raises:
        ValueError, TypeError: invalid arguments (checked before the process group is used).
    """
    rank, world_size = _check_rank(rank, world_size)
    X, y = _check_data(X, y)
    hidden = _validate.integer("hidden", hidden, minimum=1)
    lr = _validate.positive("lr", lr)
    _, _, micro_batch, accumulation, epochs, seed = _check_schedule(
        X.shape[0], world_size, micro_batch, accumulation, epochs, seed
    )
    backend = _validate.choice("backend", backend, ("gloo", "nccl"))
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    torch.set_num_threads(1)
    device = torch.device(f"cuda:{rank}") if backend == "nccl" else torch.device("cpu")
    model = make_model(X.shape[1], hidden, seed=seed).to(device)
    ddp = DDP(model, device_ids=[rank] if device.type == "cuda" else None)
    data = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    sampler = torch.utils.data.DistributedSampler(
        data, num_replicas=world_size, rank=rank, shuffle=True, seed=seed
    )
    loader = torch.utils.data.DataLoader(
        data, batch_size=micro_batch, sampler=sampler, drop_last=True
    )
    opt = torch.optim.SGD(ddp.parameters(), lr=lr)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        opt.zero_grad()
        for j, (xb, yb) in enumerate(loader):
            xb, yb = xb.to(device), yb.to(device)
            last = (j + 1) % accumulation == 0
            with nullcontext() if last else ddp.no_sync():  # all-reduce on the last only
                loss = torch.mean((ddp(xb).squeeze(1) - yb) ** 2) / accumulation
                loss.backward()
            if last:
                opt.step()
                opt.zero_grad()
    dist.barrier()
    return _params(model)


def ddp_training(
    X,
    y,
    *,
    world_size: int,
    hidden: int,
    micro_batch: int,
    lr: float,
    epochs: int,
    seed: int,
    accumulation: int = 1,
    backend: str | None = None,
    timeout: float = 120.0,
) -> list[list[np.ndarray]]:
    """Train :func:`make_model` with ``DistributedDataParallel`` in ``world_size`` processes.

    Each process reads ``micro_batch`` examples at a time through a ``DistributedSampler``
    (shuffled with ``seed``, ``set_epoch`` every epoch) and steps after ``accumulation``
    micro-batches. One step thus uses ``world_size * accumulation * micro_batch`` examples, the
    batch :func:`global_batches` lists.

    Args:
        X, y: data, (n, d) and (n,), float64.
        world_size: processes (>= 1).
        hidden: hidden units of the model.
        micro_batch: examples per process and micro-batch.
        lr: SGD step size.
        epochs: passes over the data.
        seed: seed of the model's initialisation and of the sampler.
        accumulation: micro-batches per step.
        backend: ``"gloo"`` or ``"nccl"`` (see :func:`sgdbook.systems.parallel.launch`).
        timeout: seconds for the whole run.

    Returns:
        The final parameters of every rank, in rank order.

    Raises:
        ValueError, TypeError: invalid arguments; WorkerError, TimeoutError: see
            :func:`sgdbook.systems.parallel.launch`.
    """
    X, y = _check_data(X, y)
    hidden = _validate.integer("hidden", hidden, minimum=1)
    lr = _validate.positive("lr", lr)
    _, world_size, micro_batch, accumulation, epochs, seed = _check_schedule(
        X.shape[0], world_size, micro_batch, accumulation, epochs, seed
    )
    return launch(
        ddp_worker,
        world_size,
        (X, y, hidden, micro_batch, accumulation, lr, epochs, seed, backend or "gloo"),
        backend=backend or "gloo",
        timeout=timeout,
    )


def allreduce_bytes(params: int, world_size: int, *, element_bytes: int = 4) -> float:
    """Bytes each process sends in a ring all-reduce of ``params`` numbers:
    ``2 (P - 1) / P * params * element_bytes`` (reduce-scatter, then all-gather)."""
    params = _validate.integer("params", params, minimum=1)
    world_size = _validate.integer("world_size", world_size, minimum=1)
    element_bytes = _validate.integer("element_bytes", element_bytes, minimum=1)
    return 2 * (world_size - 1) / world_size * params * element_bytes


@dataclass(frozen=True)
class CommComputeTiming:
    """Per-step costs of one model size, the slowest process's median.

    Attributes:
        width: the width ``h`` of the model ``Linear(h, h) -> ReLU -> Linear(h, h)``.
        params: its parameters.
        local_batch: examples per process.
        compute: seconds of a forward and backward pass on the local batch.
        allreduce: seconds of one ``all_reduce`` of a float32 tensor of ``params`` numbers.
    """

    width: int
    params: int
    local_batch: int
    compute: float
    allreduce: float

    @property
    def compute_gflops(self) -> float:
        """Rate of the forward and backward pass in GFLOP/s, counting ``6 * params`` flops per
        example (forward ``2N``, backward ``4N``; biases and the activation ignored)."""
        return 6 * self.params * self.local_batch / self.compute / 1e9

    @property
    def comm_fraction(self) -> float:
        """All-reduce time over the sum of both (what share of a step without overlap is spent
        communicating)."""
        return self.allreduce / (self.allreduce + self.compute)


def comm_compute_worker(
    rank: int,
    world_size: int,
    widths: tuple[int, ...],
    local_batch: int,
    repeats: int,
    backend: str,
) -> list[tuple[int, int, float, float]]:
    """One process of :func:`comm_compute`: ``(width, params, compute s, all-reduce s)`` per
    width. Every process makes the same calls in the same order (a fixed count of repeats), as
    collectives require. The compute is timed with :func:`sgdbook.timing.measure` on the
    process's own clock (:func:`sgdbook.timing.work_clock`: its thread's CPU time on the CPU,
    where the worker runs one thread); every all-reduce round is timed on its own, on the wall
    clock, after a barrier, so that no process starts a round while another is still in the
    previous one (a round would then include waiting for the slower process)."""
    rank, world_size = _check_rank(rank, world_size)
    try:
        widths = tuple(widths)
    except TypeError:
        raise TypeError(f"widths must be an iterable of integers, got {widths!r}") from None
    if not widths:
        raise ValueError("widths must hold at least one width")
    widths = tuple(_validate.integer(f"widths[{k}]", w, minimum=1) for k, w in enumerate(widths))
    local_batch = _validate.integer("local_batch", local_batch, minimum=1)
    repeats = _validate.integer("repeats", repeats, minimum=1)
    backend = _validate.choice("backend", backend, ("gloo", "nccl"))
    import statistics
    import time

    import torch.distributed as dist

    from ..device import synchronize
    from ..timing import measure, work_clock

    torch.set_num_threads(1)
    device = torch.device(f"cuda:{rank}") if backend == "nccl" else torch.device("cpu")
    out = []
    for width in widths:
        torch.manual_seed(width)
        model = torch.nn.Sequential(
            torch.nn.Linear(width, width), torch.nn.ReLU(), torch.nn.Linear(width, width)
        ).to(device)
        xb = torch.randn(local_batch, width, device=device)
        params = sum(p.numel() for p in model.parameters())

        def step(model=model, xb=xb):
            model.zero_grad(set_to_none=False)
            model(xb).square().mean().backward()

        flat = torch.randn(params, device=device)
        compute = measure(
            step, repeats=repeats, warmup=2, device=device, clock=work_clock(device, 1)
        ).median
        for _ in range(2):  # warm-up rounds
            dist.all_reduce(flat)
        rounds = []
        for _ in range(repeats):
            dist.barrier()
            synchronize(device)
            start = time.perf_counter()
            dist.all_reduce(flat)
            synchronize(device)
            rounds.append(time.perf_counter() - start)
        out.append((width, params, compute, statistics.median(rounds)))
    return out


def comm_compute(
    widths=(64, 256, 1024),
    *,
    world_size: int = 2,
    local_batch: int = 32,
    repeats: int = 7,
    backend: str | None = None,
    timeout: float = 120.0,
) -> list[CommComputeTiming]:
    """Time compute and all-reduce per step in a group of ``world_size`` processes, for the model
    ``Linear(h, h) -> ReLU -> Linear(h, h)`` at each width ``h`` (``2 h^2 + 2 h`` parameters),
    each process with one intra-op thread. Reports, per width, the largest median over the
    processes (a step waits for the slowest).

    Raises:
        ValueError, TypeError: invalid arguments; WorkerError, TimeoutError: see
            :func:`sgdbook.systems.parallel.launch`.
    """
    try:
        widths = tuple(widths)
    except TypeError:
        raise TypeError(f"widths must be an iterable of integers, got {widths!r}") from None
    if not widths:
        raise ValueError("widths must hold at least one width")
    widths = tuple(_validate.integer(f"widths[{k}]", w, minimum=1) for k, w in enumerate(widths))
    world_size = _validate.integer("world_size", world_size, minimum=2)
    local_batch = _validate.integer("local_batch", local_batch, minimum=1)
    repeats = _validate.integer("repeats", repeats, minimum=1)
    backend = backend or "gloo"
    per_rank = launch(
        comm_compute_worker,
        world_size,
        (widths, local_batch, repeats, backend),
        backend=backend,
        timeout=timeout,
    )
    out = []
    for k, width in enumerate(widths):
        rows = [r[k] for r in per_rank]
        out.append(
            CommComputeTiming(
                width=width,
                params=rows[0][1],
                local_batch=local_batch,
                compute=max(r[2] for r in rows),
                allreduce=max(r[3] for r in rows),
            )
        )
    return out


def chapter_worker(
    rank: int, world_size: int, sgd_args: tuple, ddp_args: tuple, comm_args: tuple
) -> dict:
    """One process of :func:`run_chapter_experiments`: the hand-written all-reduce SGD of
    :func:`sgdbook.systems.parallel.sgd_worker`, then :func:`ddp_worker`, then
    :func:`comm_compute_worker`, in one process group (one start-up instead of three)."""
    from .parallel import sgd_worker

    rank, world_size = _check_rank(rank, world_size)
    for name, value, size in (
        ("sgd_args", sgd_args, 7),
        ("ddp_args", ddp_args, 9),
        ("comm_args", comm_args, 4),
    ):
        if not isinstance(value, tuple) or len(value) != size:
            raise TypeError(f"{name} must be a tuple of {size} arguments, got {value!r:.80}")
    return {
        "sgd": sgd_worker(rank, world_size, *sgd_args),
        "ddp": ddp_worker(rank, world_size, *ddp_args),
        "comm": comm_compute_worker(rank, world_size, *comm_args),
    }


def run_chapter_experiments(
    X,
    y,
    *,
    world_size: int,
    sgd: dict,
    ddp: dict,
    comm: dict,
    backend: str | None = None,
    timeout: float = 300.0,
) -> dict:
    """The three experiments of chapter 4's data-parallel section in one launch.

    Args:
        X, y: data (float64).
        world_size: processes (>= 2).
        sgd: keyword arguments ``batch_size, lr, steps, seed`` of
            :func:`sgdbook.systems.parallel.data_parallel_sgd` (start at zero).
        ddp: keyword arguments ``hidden, micro_batch, lr, epochs, seed, accumulation`` of
            :func:`ddp_training`.
        comm: keyword arguments ``widths, local_batch, repeats`` of :func:`comm_compute`.
        backend, timeout: see :func:`sgdbook.systems.parallel.launch`.

    Returns:
        ``{"sgd": [per-rank dict], "ddp": [per-rank parameters], "comm": [CommComputeTiming]}``.

    Raises:
        ValueError, TypeError: invalid arguments; WorkerError, TimeoutError: see
            :func:`sgdbook.systems.parallel.launch`.
    """
    X, y = _check_data(X, y)
    world_size = _validate.integer("world_size", world_size, minimum=2)
    if backend is not None:
        _validate.choice("backend", backend, ("gloo", "nccl"))
    timeout = _validate.positive("timeout", timeout)
    backend = backend or "gloo"
    for name, value, keys in (
        ("sgd", sgd, {"batch_size", "lr", "steps", "seed"}),
        ("ddp", ddp, {"hidden", "micro_batch", "lr", "epochs", "seed", "accumulation"}),
        ("comm", comm, {"widths", "local_batch", "repeats"}),
    ):
        if not isinstance(value, dict) or set(value) != keys:
            raise ValueError(
                f"{name} must be a dict with exactly the keys {sorted(keys)}, got {value!r}"
            )
    batch = _validate.integer("sgd['batch_size']", sgd["batch_size"], minimum=1)
    if batch % world_size:
        raise ValueError(f"world_size={world_size} must divide sgd['batch_size']={batch}")
    steps = _validate.integer("sgd['steps']", sgd["steps"], minimum=1)
    sgd_args = (
        X,
        y,
        np.zeros(X.shape[1]),
        _validate.positive("sgd['lr']", sgd["lr"]),
        steps,
        batch,
        _validate.integer("sgd['seed']", sgd["seed"], minimum=0),
    )
    _, _, micro, accum, epochs, seed = _check_schedule(
        X.shape[0], world_size, ddp["micro_batch"], ddp["accumulation"], ddp["epochs"], ddp["seed"]
    )
    ddp_args = (
        X,
        y,
        _validate.integer("ddp['hidden']", ddp["hidden"], minimum=1),
        micro,
        accum,
        _validate.positive("ddp['lr']", ddp["lr"]),
        epochs,
        seed,
        backend,
    )
    widths = tuple(
        _validate.integer(f"comm['widths'][{k}]", w, minimum=1)
        for k, w in enumerate(comm["widths"])
    )
    if not widths:
        raise ValueError("comm['widths'] must hold at least one width")
    comm_args = (
        widths,
        _validate.integer("comm['local_batch']", comm["local_batch"], minimum=1),
        _validate.integer("comm['repeats']", comm["repeats"], minimum=1),
        backend,
    )
    per_rank = launch(
        chapter_worker,
        world_size,
        (sgd_args, ddp_args, comm_args),
        backend=backend,
        timeout=timeout,
    )
    timings = []
    for k, width in enumerate(widths):
        rows = [r["comm"][k] for r in per_rank]
        timings.append(
            CommComputeTiming(
                width=width,
                params=rows[0][1],
                local_batch=comm_args[1],
                compute=max(r[2] for r in rows),
                allreduce=max(r[3] for r in rows),
            )
        )
    return {
        "sgd": [r["sgd"] for r in per_rank],
        "ddp": [r["ddp"] for r in per_rank],
        "comm": timings,
    }
