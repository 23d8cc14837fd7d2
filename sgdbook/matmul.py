"""Four ways to compute ``C = A B`` with torch, from one framework call per number to one call.

All four give the same matrix (up to rounding); they differ only in how much work each call into
the framework does, which is what chapter 4 times:

* :func:`matmul_elementwise`: ``C[i, j] = dot(A[i, :], B[:, j])``, one call per entry;
* :func:`matmul_columns`: ``C[:, j] = mv(A, B[:, j])``, one call per column;
* :func:`matmul_blocks`: ``C[:, j:j+s] = mm(A, B[:, j:j+s])``, one call per block of columns;
* :func:`matmul_full`: ``C = mm(A, B)``, a single call.

:func:`matmul_elementwise` can compute only the first ``rows`` rows, so that the slowest way can
be timed on a part of the product and its rate reported for that part (it is the same operation
repeated, so the rate carries over to the whole product).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import _validate
from .timing import gflops, matmul_flops, measure

__all__ = ["matmul_elementwise", "matmul_columns", "matmul_blocks", "matmul_full", "METHODS",
           "WayTiming", "time_four_ways", "peak_gflops"]


def _check(A: torch.Tensor, B: torch.Tensor) -> None:
    if not (isinstance(A, torch.Tensor) and isinstance(B, torch.Tensor)):
        raise TypeError("A and B must be torch tensors")
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"shapes do not chain: A {tuple(A.shape)}, B {tuple(B.shape)}")
    if A.device != B.device or A.dtype != B.dtype:
        raise ValueError(f"A and B must share device and dtype, got {A.device}/{A.dtype} "
                         f"and {B.device}/{B.dtype}")


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
        C[:, j:j + block] = torch.mm(A, B[:, j:j + block])
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
    """

    name: str
    calls: int
    flops: int
    seconds: float
    rows: int

    @property
    def gflops(self) -> float:
        """Rate in GFLOP/s."""
        return gflops(self.flops, self.seconds)


def time_four_ways(A: torch.Tensor, B: torch.Tensor, *, elementwise_rows: int = 4,
                   block: int = 64, repeats: int = 5) -> list[WayTiming]:
    """Time the four ways on ``A @ B`` with :func:`sgdbook.timing.measure` (warm-up, median of
    ``repeats`` rounds, device synchronisation).

    The entry-by-entry way computes only the first ``elementwise_rows`` rows (it repeats the same
    operation for every entry, so its rate on a part is its rate on the whole; the whole would
    take ``m / elementwise_rows`` times as long). Fast ways run several times per round so that a
    round lasts long enough for the clock.

    Returns:
        One :class:`WayTiming` per way, in the order of :data:`METHODS`.
    """
    _check(A, B)
    m, k = A.shape
    n = B.shape[1]
    rows = _validate.integer("elementwise_rows", elementwise_rows, minimum=1)
    device = A.device
    plan = [
        (METHODS[0][0], lambda: matmul_elementwise(A, B, rows=rows), rows * n, rows, 1),
        (METHODS[1][0], lambda: matmul_columns(A, B), n, m, 1),
        (METHODS[2][0], lambda: matmul_blocks(A, B, block), -(-n // block), m, 3),
        (METHODS[3][0], lambda: matmul_full(A, B), 1, m, 5),
    ]
    out = []
    for name, fn, calls, r, number in plan:
        res = measure(fn, repeats=repeats, number=number, warmup=max(1, number // 5),
                      device=device)
        out.append(WayTiming(name=name, calls=calls, flops=matmul_flops(r, k, n),
                             seconds=res.median, rows=r))
    return out


def peak_gflops(size: int, *, device: torch.device | str, dtype: torch.dtype = torch.float32,
                repeats: int = 5, seed: int = 0) -> float:
    """Measured rate of one large ``size x size`` product on ``device`` (GFLOP/s): the practical
    peak against which the four ways are compared.

    A peak is what the hardware can reach, and interruptions by other programs only ever make a
    run slower, so this uses the *shortest* of ``repeats`` timed runs (after one warm-up run),
    not the median.
    """
    size = _validate.integer("size", size, minimum=1)
    gen = torch.Generator().manual_seed(_validate.integer("seed", seed, minimum=0))
    P = torch.randn(size, size, generator=gen, dtype=dtype).to(device)
    Q = torch.randn(size, size, generator=gen, dtype=dtype).to(device)
    res = measure(lambda: torch.mm(P, Q), repeats=repeats, number=1, warmup=1, device=device)
    return gflops(matmul_flops(size, size, size), res.best)
