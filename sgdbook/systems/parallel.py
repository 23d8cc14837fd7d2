"""Chapter 4 (:doc:`/minibatch`): data-parallel mini-batch SGD with ``torch.distributed``, and a
launcher that always cleans up.

:func:`launch` starts ``world_size`` worker processes (forked from one fresh Python process that
imports torch once, so the function they run must be importable, i.e. defined in a module such as
this one, not in a notebook), joins them into one process group over TCP on a free local port, runs
``fn(rank, world_size, *args)`` in each and returns the results in rank order. Whatever happens
(a worker raises, dies, or hangs past the timeout, or the caller is interrupted) every worker is
terminated and reaped before :func:`launch` returns or raises. A worker's own stdout and stderr
go to a log file, not to the caller's streams (its tail is quoted when the worker fails), so a
notebook cell that launches workers shows only what the caller prints.

:func:`data_parallel_sgd` is the chapter's experiment: each worker computes the gradient of its
shard of every mini-batch, ``all_reduce`` sums the shard gradients and each worker divides by the
number of workers, which (with equal shards) is exactly the mini-batch gradient; every worker
then takes the same step. :func:`large_batch_sgd` is the single-process reference with the same
batches.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import divergence as _divergence
from .. import validation as _validate
from ..device import get_device

__all__ = [
    "WorkerError",
    "free_port",
    "choose_backend",
    "ParallelPlan",
    "plan_workers",
    "launch",
    "data_parallel_sgd",
    "large_batch_sgd",
    "sgd_worker",
]


class WorkerError(RuntimeError):
    """A worker process raised or died; the message names the rank and quotes its error.

    Attributes:
        rank: the rank of the first worker found failed.
        pids: process ids of the launcher process and the workers (all stopped and reaped when
            this is raised).
    """

    def __init__(self, message: str, rank: int, pids: list[int]):
        super().__init__(message)
        self.rank = rank
        self.pids = pids


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def choose_backend(world_size: int) -> str:
    """``"nccl"`` when :func:`sgdbook.device.get_device` is CUDA and there is one GPU per worker,
    else ``"gloo"`` (CPU tensors; NCCL cannot place two ranks on one GPU).

    To run on nccl whenever the machine allows it, pick the world size with
    :func:`plan_workers` rather than fixing it.
    """
    world_size = _validate.integer("world_size", world_size, minimum=1)
    if get_device().type == "cuda" and torch.cuda.device_count() >= world_size:
        return "nccl"
    return "gloo"


@dataclass(frozen=True)
class ParallelPlan:
    """How many workers a data-parallel run uses on this machine, and over which backend.

    Attributes:
        world_size: worker processes.
        backend: ``"nccl"`` (one GPU per worker) or ``"gloo"`` (CPU tensors).
        device_type: ``"cuda"`` or ``"cpu"``, as chosen by :func:`sgdbook.device.get_device`.
        gpus: GPUs visible to torch (0 when ``device_type`` is ``"cpu"``).
    """

    world_size: int
    backend: str
    device_type: str
    gpus: int

    @property
    def reason(self) -> str:
        """The reason for the backend, one of ``"gpu-per-worker"`` (nccl), ``"cpu"`` (no GPU
        in use) and ``"too-few-gpus"`` (CUDA in use, but fewer GPUs than the smallest world size;
        NCCL cannot place two ranks on one GPU, so the workers compute on the CPU over gloo)."""
        if self.backend == "nccl":
            return "gpu-per-worker"
        return "cpu" if self.device_type == "cpu" else "too-few-gpus"


def plan_workers(
    preferred: int = 4, *, minimum: int = 2, batch_size: int | None = None
) -> ParallelPlan:
    """Choose the world size and backend of a data-parallel run on this machine.

    With CUDA in use (:func:`sgdbook.device.get_device`) and at least ``minimum`` GPUs, every
    worker gets a GPU of its own and the backend is nccl: the world size is the number of GPUs
    clipped to ``[minimum, preferred]``. Otherwise (CPU, or a single GPU, which NCCL cannot share
    between ranks) ``preferred`` workers use gloo on the CPU. When ``batch_size`` is given, the
    world size is lowered to the largest value not below ``minimum`` that divides it (equal
    shards). The result always agrees with :func:`choose_backend` for its world size.

    Args:
        preferred: the world size wanted (>= ``minimum``).
        minimum: the smallest world size worth running (>= 1).
        batch_size: the global mini-batch size the workers will split, or ``None``.

    Returns:
        The plan; print its fields to say which backend a run used and why.

    Raises:
        TypeError: an argument is not an integer.
        ValueError: ``minimum < 1``, ``preferred < minimum``, ``batch_size < 1``, or no world size
            between ``minimum`` and the cap divides ``batch_size``.
    """
    minimum = _validate.integer("minimum", minimum, minimum=1)
    preferred = _validate.integer("preferred", preferred, minimum=minimum)
    if batch_size is not None:
        batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    device_type = get_device().type
    gpus = torch.cuda.device_count() if device_type == "cuda" else 0
    nccl = device_type == "cuda" and gpus >= minimum
    cap = min(gpus, preferred) if nccl else preferred
    sizes = [w for w in range(cap, minimum - 1, -1) if batch_size is None or batch_size % w == 0]
    if not sizes:
        raise ValueError(
            f"batch_size={batch_size} is not divisible by any world size from {minimum} to {cap}"
        )
    return ParallelPlan(
        world_size=sizes[0], backend="nccl" if nccl else "gloo", device_type=device_type, gpus=gpus
    )


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[-limit:].strip()


class _RunFiles:
    """The files through which the launcher, the pool process and the workers of one run talk.

    All of them live in one temporary directory ``root``; this class is the only code that
    knows their names and formats:

    * ``job.pkl``: the pickled ``(fn, args)``, written by the launcher;
    * ``pids``: the workers' process ids, space-separated, written by the pool process;
    * ``pool.log``: the pool process's own output;
    * ``rank<r>.log``: worker ``r``'s stdout and stderr;
    * ``rank<r>.error``: worker ``r``'s report when it raised: first line a
      ``time.monotonic_ns()`` timestamp (one clock for all ranks, so the earliest report is
      the cause), then the traceback; written atomically (``.tmp`` then rename), since the
      worker may be killed at any moment once a peer failed;
    * ``rank<r>.result``: worker ``r``'s pickled return value, written atomically;
    * ``rank<r>.exit``: ``"<exit code> <self|killed>"``, written by the pool process when it
      reaps worker ``r`` (``killed``: the pool stopped it; ``self``: it stopped by itself).
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.job = self.root / "job.pkl"
        self.pool_log = self.root / "pool.log"
        self._pids = self.root / "pids"

    def log(self, rank: int) -> Path:
        return self.root / f"rank{rank}.log"

    def _error(self, rank: int) -> Path:
        return self.root / f"rank{rank}.error"

    def _result(self, rank: int) -> Path:
        return self.root / f"rank{rank}.result"

    def _exit(self, rank: int) -> Path:
        return self.root / f"rank{rank}.exit"

    @staticmethod
    def _write_atomically(path: Path, data: bytes) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    # -- worker side ------------------------------------------------------------------------
    def write_error(self, rank: int, traceback_text: str) -> None:
        text = f"{time.monotonic_ns()}\n{traceback_text}"
        self._write_atomically(self._error(rank), text.encode("utf-8"))

    def has_error(self, rank: int) -> bool:
        return self._error(rank).is_file()

    def write_result(self, rank: int, result: Any) -> None:
        import pickle

        self._write_atomically(self._result(rank), pickle.dumps(result))

    # -- pool side --------------------------------------------------------------------------
    def write_pids(self, pids: list[int]) -> None:
        self._pids.write_text(" ".join(map(str, pids)), encoding="utf-8")

    def write_exit(self, rank: int, code: int, killed: bool) -> None:
        self._exit(rank).write_text(f"{code} {'killed' if killed else 'self'}")

    # -- launcher side ----------------------------------------------------------------------
    def read_pids(self) -> list[int]:
        if not self._pids.is_file():
            return []
        return [int(p) for p in self._pids.read_text().split()]

    def read_error(self, rank: int) -> tuple[int, str] | None:
        """``(timestamp, traceback)`` of worker ``rank``'s report, or ``None`` if it made none."""
        path = self._error(rank)
        if not path.is_file():
            return None
        stamp, _, text = path.read_text(encoding="utf-8").partition("\n")
        return (int(stamp), text) if stamp.isdigit() else None

    def read_exit(self, rank: int) -> tuple[int, bool] | None:
        """``(exit code, killed)`` of worker ``rank``, or ``None`` if it was never reaped."""
        path = self._exit(rank)
        if not path.is_file():
            return None
        code, how = path.read_text().split()
        return int(code), how == "killed"

    def read_result(self, rank: int) -> tuple[bool, Any]:
        """``(True, value)`` if worker ``rank`` left a result, else ``(False, None)``."""
        import pickle

        path = self._result(rank)
        if not path.is_file():
            return False, None
        return True, pickle.loads(path.read_bytes())


def _run_rank(fn, args, rank, world_size, backend, port, timeout, files: _RunFiles) -> None:
    """Body of one forked worker: never returns (``os._exit``)."""
    fd = os.open(files.log(rank), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    code = 0

    def report() -> None:
        files.write_error(rank, traceback.format_exc())

    try:
        import torch.distributed as dist

        if backend == "nccl":
            torch.cuda.set_device(rank)
        dist.init_process_group(
            backend,
            init_method=f"tcp://127.0.0.1:{port}",
            rank=rank,
            world_size=world_size,
            timeout=timedelta(seconds=timeout),
        )
        try:
            result = fn(rank, world_size, *args)
            dist.barrier()  # nobody tears the group down while a peer still uses it
        except BaseException:
            report()  # before the group is torn down, which makes the peers fail too
            code = 1
        finally:
            try:
                dist.destroy_process_group()
            except Exception as exc:  # teardown only; the result (if any) stands
                print(f"destroy_process_group failed: {exc!r}", flush=True)
        if code == 0:
            files.write_result(rank, result)
    except BaseException:  # report everything, KeyboardInterrupt included
        if not files.has_error(rank):
            report()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _pool_entry() -> None:
    """The process :func:`launch` starts: it imports torch once, then forks one worker per rank
    (no parallel torch operation has run yet, so forking is safe), reaps them, and stops all of
    them as soon as one fails or when it is asked to stop (SIGTERM)."""
    import pickle
    import signal

    import torch.distributed  # noqa: F401  (imported once, shared by the forked workers)

    job, world_size, backend, port, timeout, outdir = sys.argv[1:7]
    world_size, port, timeout = int(world_size), int(port), float(timeout)
    files = _RunFiles(Path(outdir))
    with open(job, "rb") as fh:
        fn, args = pickle.load(fh)
    children: dict[int, int] = {}

    def reap(pid: int, status: int, killed: bool) -> None:
        rank = children.pop(pid, None)
        if rank is not None:  # did it stop by itself?
            files.write_exit(rank, os.waitstatus_to_exitcode(status), killed)

    def stop_all(*_: object) -> None:
        while children:  # first collect those that already stopped by themselves
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            reap(pid, status, killed=False)
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(children):
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                children.pop(pid, None)
                continue
            reap(pid, status, killed=True)

    def on_term(*_: object) -> None:
        stop_all()
        os._exit(1)

    signal.signal(signal.SIGTERM, on_term)
    for rank in range(world_size):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _run_rank(fn, args, rank, world_size, backend, port, timeout, files)
        children[pid] = rank
    files.write_pids(list(children))
    while children:
        pid, status = os.waitpid(-1, 0)
        failed = os.waitstatus_to_exitcode(status) != 0
        reap(pid, status, killed=False)
        if failed:
            stop_all()
            os._exit(1)
    os._exit(0)


def launch(
    fn: Callable[..., Any],
    world_size: int,
    args: tuple = (),
    *,
    backend: str | None = None,
    timeout: float = 120.0,
) -> list[Any]:
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` processes joined in a process group.

    One fresh Python process is started (``subprocess``, in a session of its own, with this
    package on its path); it imports torch once and forks the workers, so the start-up cost of
    torch is paid once, not once per worker. Each worker's stdout and stderr go to a log file.
    If the chosen port is taken by another program before the group binds it, the launch is
    retried with a new port (at most three attempts). Linux and macOS only (``os.fork``).

    Args:
        fn: a module-level (importable, picklable) function; its return value must be picklable.
        world_size: number of worker processes (>= 1).
        args: extra positional arguments, pickled to every worker.
        backend: ``"gloo"`` or ``"nccl"``; ``None``: :func:`choose_backend`.
        timeout: seconds allowed for the whole run (start-up included); also the process
            group's timeout for a collective operation.

    Returns:
        The return values of ``fn``, in rank order.

    Raises:
        WorkerError: a worker raised (its traceback is in the message) or exited abnormally.
        TimeoutError: the workers did not all finish within ``timeout`` seconds.
        ValueError, TypeError: invalid arguments, or ``fn``/``args`` cannot be pickled.
    """
    for attempt in range(3):
        try:
            return _launch_once(fn, world_size, args, backend=backend, timeout=timeout)
        except WorkerError as exc:
            # the port was free when chosen but another program took it before rank 0 bound it
            if attempt == 2 or "address already in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _launch_once(
    fn: Callable[..., Any], world_size: int, args: tuple, *, backend: str | None, timeout: float
) -> list[Any]:
    import pickle
    import signal
    import subprocess

    world_size = _validate.integer("world_size", world_size, minimum=1)
    timeout = _validate.positive("timeout", timeout)
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    backend = choose_backend(world_size) if backend is None else backend
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
    workdir = Path(tempfile.mkdtemp(prefix="sgdbook-dist-"))
    files = _RunFiles(workdir)
    pool: subprocess.Popen | None = None
    log = None
    pids: list[int] = []
    try:
        job = files.job
        try:
            job.write_bytes(pickle.dumps((fn, tuple(args))))
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError(
                f"fn and args must be picklable (fn defined at module level in an "
                f"importable module, not in a notebook): {exc}"
            ) from exc
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(
            [package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
        if backend == "gloo" and sys.platform.startswith("linux"):
            env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # loopback, no hostname lookup
        code = "from sgdbook.systems.parallel import _pool_entry; _pool_entry()"
        argv = [
            sys.executable,
            "-c",
            code,
            str(job),
            str(world_size),
            backend,
            str(free_port()),
            repr(timeout),
            str(workdir),
        ]
        log = open(files.pool_log, "wb")
        pool = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
        pids.append(pool.pid)
        try:
            pool.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(
                f"the {world_size} workers did not finish within {timeout:g} s; "
                "all of them were stopped"
            ) from None
        finally:
            pids.extend(files.read_pids())

        def failure(rank: int, what: str) -> WorkerError:
            tail = _tail(files.log(rank))
            extra = f"\n--- worker {rank} output (tail) ---\n{tail}" if tail else ""
            return WorkerError(f"worker {rank} of {world_size} failed: {what}{extra}", rank, pids)

        # Find the cause. A worker that died without reporting (a crash) comes first; otherwise
        # the earliest error report: the others failed later, because they lost a peer.
        crashed, raised = [], []
        for rank in range(world_size):
            report = files.read_error(rank)
            exit_status = files.read_exit(rank)
            if report is not None:
                raised.append((report[0], rank, report[1]))
            elif exit_status is not None and exit_status[0] != 0 and not exit_status[1]:
                crashed.append((rank, exit_status[0]))
        if crashed:
            rank, code = crashed[0]
            raise failure(rank, f"it exited with code {code} without reporting")
        if raised:
            _, rank, text = min(raised)
            raise failure(rank, "it raised\n" + text)
        results = []
        for rank in range(world_size):
            found, result = files.read_result(rank)
            if not found:
                tail = _tail(files.pool_log)
                raise WorkerError(
                    f"worker {rank} of {world_size} left no result (launcher exit "
                    f"code {pool.returncode})" + (f"\n{tail}" if tail else ""),
                    rank,
                    pids,
                )
            results.append(result)
        return results
    finally:
        if pool is not None:
            if pool.poll() is None:
                pool.terminate()  # the pool kills and reaps its workers
                try:
                    pool.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            try:  # whatever is left in the session (nothing, normally)
                os.killpg(pool.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            pool.wait()
        if log is not None:
            log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _batches(n: int, batch_size: int, steps: int, seed: int) -> list[torch.Tensor]:
    """The index sets of the mini-batches: each a fresh random subset of ``batch_size`` distinct
    examples (the same sequence in every process, from a seeded CPU generator)."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=gen)[:batch_size] for _ in range(steps)]


def sgd_worker(
    rank: int,
    world_size: int,
    X: np.ndarray,
    y: np.ndarray,
    w0: np.ndarray,
    lr: float,
    steps: int,
    batch_size: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """One worker of :func:`data_parallel_sgd` (run by :func:`launch`).

    For every step: the shared mini-batch, this rank's shard of ``batch_size / world_size``
    examples, the shard's mean gradient of ``(x^T w - y)^2 / 2``, ``all_reduce`` (sum) divided by
    ``world_size``, then the SGD step.

    Returns:
        ``{"w": final parameters, "grads": averaged gradient of every step, "shard": sizes}``.

    Raises:
        ValueError, TypeError: invalid arguments (checked before any collective call).
    """
    world_size = _validate.integer("world_size", world_size, minimum=1)
    rank = _validate.integer("rank", rank, minimum=0)
    if rank >= world_size:
        raise ValueError(f"rank must be < world_size={world_size}, got {rank}")
    if w0 is None:
        raise TypeError("w0 must be an array of the start, got None")
    X, y, w0, lr, steps, batch_size, seed = _check_problem(X, y, w0, lr, steps, batch_size, seed)
    if batch_size % world_size:
        raise ValueError(f"world_size={world_size} must divide batch_size={batch_size}")
    import torch.distributed as dist

    device = torch.device("cuda", rank) if dist.get_backend() == "nccl" else torch.device("cpu")
    Xt = torch.from_numpy(X).to(device)
    yt = torch.from_numpy(y).to(device)
    w = torch.from_numpy(w0).to(device).clone()
    shard = batch_size // world_size
    grads = []
    for batch in _batches(X.shape[0], batch_size, steps, seed):
        mine = batch[rank * shard : (rank + 1) * shard].to(device)
        xb, yb = Xt[mine], yt[mine]
        g = xb.T @ (xb @ w - yb) / shard
        dist.all_reduce(g, op=dist.ReduceOp.SUM)
        g /= world_size
        grads.append(g.cpu().numpy())
        w -= lr * g
    return {"w": w.cpu().numpy(), "grads": np.stack(grads), "shard": np.array(shard)}


def _check_problem(X, y, w0, lr, steps, batch_size, seed):
    X = np.ascontiguousarray(_validate.array("X", X, ndim=2), dtype=np.float64)
    y = np.ascontiguousarray(_validate.array("y", y, ndim=1), dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    w0 = np.zeros(X.shape[1]) if w0 is None else _validate.vector("w0", w0, dim=X.shape[1])
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=1)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    if batch_size > X.shape[0]:
        raise ValueError(f"batch_size must be <= n={X.shape[0]}, got {batch_size}")
    seed = _validate.seed("seed", seed)
    return X, y, w0, lr, steps, batch_size, seed


def large_batch_sgd(
    X: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    lr: float,
    steps: int,
    seed: int,
    w0: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Single-process mini-batch SGD on ``(x^T w - y)^2 / 2`` with the batches that
    :func:`data_parallel_sgd` uses (float64, CPU).

    Returns:
        ``{"w": final parameters, "grads": mini-batch gradient of every step}``.

    Raises:
        ~sgdbook.divergence.DivergenceError: ``w`` crossed :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD`
            (the message names the step).
    """
    X, y, w0, lr, steps, batch_size, seed = _check_problem(X, y, w0, lr, steps, batch_size, seed)
    Xt, yt, w = torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(w0).clone()
    grads = []
    for batch in _batches(X.shape[0], batch_size, steps, seed):
        xb, yb = Xt[batch], yt[batch]
        g = xb.T @ (xb @ w - yb) / batch_size
        grads.append(g.numpy().copy())
        w -= lr * g
        _divergence.check("w", w.numpy(), len(grads))
    return {"w": w.numpy(), "grads": np.stack(grads)}


def data_parallel_sgd(
    X: np.ndarray,
    y: np.ndarray,
    *,
    world_size: int,
    batch_size: int,
    lr: float,
    steps: int,
    seed: int,
    w0: np.ndarray | None = None,
    backend: str | None = None,
    timeout: float = 120.0,
) -> list[dict]:
    """Mini-batch SGD on least squares split over ``world_size`` processes (float64).

    Args:
        X, y: data, (n, d) and (n,).
        world_size: worker processes; must divide ``batch_size`` (equal shards).
        batch_size: examples per step over all workers.
        lr: step size.
        steps: SGD steps.
        seed: seed of the mini-batch sequence (shared by all workers).
        w0: start (default zeros).
        backend: see :func:`launch`.
        timeout: see :func:`launch`.

    Returns:
        One dict per rank, as returned by :func:`sgd_worker`.

    Raises:
        ValueError: ``world_size`` does not divide ``batch_size``, or other invalid arguments.
        WorkerError, TimeoutError: see :func:`launch`.
    """
    X, y, w0, lr, steps, batch_size, seed = _check_problem(X, y, w0, lr, steps, batch_size, seed)
    world_size = _validate.integer("world_size", world_size, minimum=1)
    if batch_size % world_size:
        raise ValueError(
            f"world_size={world_size} must divide batch_size={batch_size} "
            "(equal shards make the average of shard means the batch mean)"
        )
    return launch(
        sgd_worker,
        world_size,
        (X, y, w0, lr, steps, batch_size, seed),
        backend=backend,
        timeout=timeout,
    )
