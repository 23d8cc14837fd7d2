"""Workers that misbehave on purpose, for the tests of :mod:`sgdbook.systems.parallel` (not public).

:func:`sgdbook.systems.parallel.launch` pickles the function it runs by reference, so a worker must be
importable by the launched process: these live in the package, in a private module.
"""

from __future__ import annotations

import os
import sys
import time

__all__ = ["failing_worker", "sleeping_worker", "crashing_worker"]


def failing_worker(rank: int, world_size: int, bad_rank: int) -> int:
    """A worker for tests and demonstrations: rank ``bad_rank`` raises ``ValueError``, the others
    wait at a barrier that can then never complete."""
    import torch.distributed as dist

    if rank == bad_rank:
        print("worker about to fail", file=sys.stderr)
        raise ValueError(f"deliberate failure in worker {rank}")
    dist.barrier()
    return rank


def sleeping_worker(rank: int, world_size: int, seconds: float) -> int:
    """A worker for tests: sleeps ``seconds`` then returns its rank (to exercise timeouts)."""
    time.sleep(seconds)
    return rank


def crashing_worker(rank: int, world_size: int, bad_rank: int) -> int:
    """A worker for tests: rank ``bad_rank`` dies at once (``os._exit(3)``, no Python error, as
    after a segmentation fault or an out-of-memory kill); the others wait at a barrier."""
    import torch.distributed as dist

    if rank == bad_rank:
        os._exit(3)
    dist.barrier()
    return rank
