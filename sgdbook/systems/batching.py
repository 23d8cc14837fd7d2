"""Chapter 4 (:doc:`/minibatch`): mini-batches of in-memory tensors, a fast shuffled iterator, and
its comparison with DataLoader.

:class:`BatchIterator` is what the book uses when the whole data set already sits in memory (on
the CPU or the GPU). Each epoch it draws one random permutation, gathers every tensor in that
order (one ``index_select``, in a few serial pieces on the CPU), and then hands out consecutive slices, which are views and cost
almost nothing. ``torch.utils.data.DataLoader`` over a ``TensorDataset`` instead fetches the
examples of a batch one by one and stacks them (``default_collate``), paying Python overhead per
*example*. :func:`loader_throughput` measures the reasonable ways to batch in-memory tensors
(:data:`LOADERS`): the default ``DataLoader``, a ``DataLoader`` whose sampler is a
``BatchSampler`` (one index batch per fetch, :func:`batch_sampler_loader`; the sampler yields a
Python *list* of indices, which indexing first converts to a tensor), a ``DataLoader`` whose
sampler yields index *tensors* (:class:`IndexTensorSampler`, :func:`tensor_sampler_loader`),
plain slicing of a shuffled index (``X[perm[i:i+b]]``, :func:`index_slices`) and
:class:`BatchIterator`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from .. import validation as _validate
from ..timing import intra_op_threads, measure, measure_for, work_clock

__all__ = [
    "BatchIterator",
    "dataloader",
    "batch_sampler_loader",
    "IndexTensorSampler",
    "tensor_sampler_loader",
    "index_slices",
    "LOADERS",
    "loader_timing",
    "loader_throughput",
]


#: Rows gathered per call on the CPU: pieces of at most this many elements stay below ATen's
#: parallel grain size (32768), so each runs on the calling thread. On a busy machine a parallel
#: kernel can stall for a whole scheduler time slice waking its worker threads; small serial
#: pieces never do. (Whether they cost the same as one parallel gather on an idle machine has not
#: been measured here.)
_CHUNK_ELEMENTS = 16384


def _gather(t: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """``t[perm]`` along the first dimension, in serial pieces on the CPU (see above)."""
    row = max(1, t[0].numel())
    rows = max(1, _CHUNK_ELEMENTS // row)
    if t.device.type != "cpu" or t.shape[0] <= rows:
        return t.index_select(0, perm)
    out = torch.empty((t.shape[0], *t.shape[1:]), dtype=t.dtype, device=t.device)
    for start in range(0, t.shape[0], rows):
        torch.index_select(t, 0, perm[start : start + rows], out=out[start : start + rows])
    return out


#: Seeds are passed to ``torch.Generator.manual_seed``, which takes a signed 64-bit integer.
_SEED_LIMIT = 2**63


def _seed(seed: object) -> int:
    """A generator seed: an integer with ``0 <= seed < 2**63`` (TypeError/ValueError otherwise)."""
    seed = _validate.seed("seed", seed)
    if seed >= _SEED_LIMIT:
        raise ValueError(
            f"seed must be < 2**63 (torch generators take a signed 64-bit seed), got {seed}"
        )
    return seed


def _check_tensors(tensors: tuple[torch.Tensor, ...]) -> int:
    if not tensors:
        raise ValueError("at least one tensor is needed")
    for k, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"tensors[{k}] must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim == 0:
            raise ValueError(f"tensors[{k}] must have a first (example) dimension, got a scalar")
    n = tensors[0].shape[0]
    for k, t in enumerate(tensors[1:], start=1):
        if t.shape[0] != n:
            raise ValueError(
                f"all tensors must have the same first dimension: tensors[0] has {n}, "
                f"tensors[{k}] has {t.shape[0]}"
            )
        if t.device != tensors[0].device:
            raise ValueError(
                f"all tensors must be on one device: {tensors[0].device} and {t.device}"
            )
    if n == 0:
        raise ValueError("the tensors hold no examples (first dimension 0)")
    return n


class BatchIterator:
    """Shuffled mini-batches of in-memory tensors by index slicing.

    Iterating over the object runs one epoch: a fresh permutation of the ``n`` examples (from the
    iterator's own generator, so the sequence of epochs is reproducible), the tensors gathered in
    that order, then slices of ``batch_size`` consecutive rows. Batches stay on the device of the
    tensors; the permutation is drawn on the CPU, so the same seed gives the same batches on every
    device.

    Args:
        *tensors: tensors with the same first dimension ``n >= 1`` (e.g. ``X`` and ``y``), all on
            one device.
        batch_size: examples per batch, an integer >= 1 (a value above ``n`` gives one batch).
        shuffle: draw a new permutation each epoch (``False``: the stored order).
        drop_last: drop the last batch of an epoch when it is smaller than ``batch_size``.
        seed: seed of the iterator's ``torch.Generator``, an integer with
            ``0 <= seed < 2**63``; ``None`` draws the seed from torch's global generator
            (reproducible after ``seed_everything``).

    Raises:
        TypeError: a tensor is not a ``torch.Tensor``, or ``batch_size``/``seed`` is not an integer.
        ValueError: no tensors, mismatched first dimensions or devices, no examples,
            ``batch_size < 1``, ``seed`` outside ``[0, 2**63)``, or ``drop_last`` with
            ``batch_size > n`` (no batch at all).

    Example:
        >>> it = BatchIterator(torch.arange(5.0), batch_size=2, seed=0)
        >>> [b[0].tolist() for b in it]
        [[4.0, 0.0], [1.0, 3.0], [2.0]]

        (``tests/test_batching.py`` runs this example.)
    """

    def __init__(
        self,
        *tensors: torch.Tensor,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int | None = None,
    ) -> None:
        self.n = _check_tensors(tensors)
        self.tensors = tensors
        self.batch_size = _validate.integer("batch_size", batch_size, minimum=1)
        if not isinstance(shuffle, bool) or not isinstance(drop_last, bool):
            raise TypeError("shuffle and drop_last must be bool")
        if drop_last and self.batch_size > self.n:
            raise ValueError(
                f"drop_last=True with batch_size={self.batch_size} > n={self.n} "
                "would give no batch at all"
            )
        self.shuffle = shuffle
        self.drop_last = drop_last
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        self.seed = _seed(seed)
        self.generator = torch.Generator(device="cpu").manual_seed(self.seed)

    def __len__(self) -> int:
        """Batches per epoch."""
        if self.drop_last:
            return self.n // self.batch_size
        return math.ceil(self.n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        if self.shuffle:
            perm = torch.randperm(self.n, generator=self.generator)
            perm = perm.to(self.tensors[0].device, non_blocking=True)
            data = tuple(_gather(t, perm) for t in self.tensors)  # one gather per epoch
        else:
            data = self.tensors
        # torch.split makes all the slices (views, no copy) in one call per tensor
        pieces = [torch.split(t, self.batch_size) for t in data]
        count = len(self)
        for k, batch in enumerate(zip(*pieces)):
            if k == count:  # drop_last: the short last piece is left out
                return
            yield batch


def dataloader(
    *tensors: torch.Tensor,
    batch_size: int,
    shuffle: bool = True,
    drop_last: bool = False,
    seed: int | None = None,
) -> torch.utils.data.DataLoader:
    """The standard alternative: ``DataLoader(TensorDataset(*tensors))`` in the main process.

    Same arguments and checks as :class:`BatchIterator`; ``num_workers=0``, default collation.
    """
    _check_tensors(tensors)
    shuffle = _validate.boolean("shuffle", shuffle)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    generator = None
    if seed is not None:
        generator = torch.Generator().manual_seed(_seed(seed))
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*tensors),
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        generator=generator,
    )


def batch_sampler_loader(
    *tensors: torch.Tensor, batch_size: int, drop_last: bool = False, seed: int | None = None
) -> torch.utils.data.DataLoader:
    """``DataLoader(TensorDataset(*tensors), sampler=BatchSampler(RandomSampler(...)),
    batch_size=None)``: the sampler yields a list of ``batch_size`` indices and
    ``TensorDataset.__getitem__`` receives the whole list, so each batch is one indexing call per
    tensor and no collation. Same checks as :class:`BatchIterator`."""
    _check_tensors(tensors)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    if not isinstance(drop_last, bool):
        raise TypeError("drop_last must be bool")
    generator = None
    if seed is not None:
        generator = torch.Generator().manual_seed(_seed(seed))
    ds = torch.utils.data.TensorDataset(*tensors)
    sampler = torch.utils.data.BatchSampler(
        torch.utils.data.RandomSampler(ds, generator=generator),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    return torch.utils.data.DataLoader(ds, sampler=sampler, batch_size=None)


class IndexTensorSampler(torch.utils.data.Sampler):
    """A batch sampler that yields index *tensors*: each epoch one ``torch.randperm(n)`` cut into
    consecutive pieces of ``batch_size`` (``torch.split``, views). Given to a ``DataLoader`` with
    ``batch_size=None``, ``TensorDataset.__getitem__`` receives a ``LongTensor`` and indexes with
    it directly, without the list-to-tensor conversion a ``BatchSampler``'s list needs.

    Args:
        n: number of examples (>= 1).
        batch_size: examples per batch (>= 1); the last batch may be smaller.
        generator: the ``torch.Generator`` for the permutations (``None``: torch's global one).
    """

    def __init__(self, n: int, batch_size: int, generator: torch.Generator | None = None):
        self.n = _validate.integer("n", n, minimum=1)
        self.batch_size = _validate.integer("batch_size", batch_size, minimum=1)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {generator!r}")
        self.generator = generator

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        yield from torch.randperm(self.n, generator=self.generator).split(self.batch_size)


def tensor_sampler_loader(
    *tensors: torch.Tensor, batch_size: int, seed: int | None = None
) -> torch.utils.data.DataLoader:
    """``DataLoader(TensorDataset(*tensors), sampler=IndexTensorSampler(...), batch_size=None)``:
    like :func:`batch_sampler_loader`, but each fetch indexes with a tensor, not a list. Same
    checks as :class:`BatchIterator`."""
    n = _check_tensors(tensors)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    generator = None
    if seed is not None:
        generator = torch.Generator().manual_seed(_seed(seed))
    ds = torch.utils.data.TensorDataset(*tensors)
    return torch.utils.data.DataLoader(
        ds, sampler=IndexTensorSampler(n, batch_size, generator), batch_size=None
    )


def index_slices(
    *tensors: torch.Tensor, batch_size: int, generator: torch.Generator | None = None
) -> Iterator[tuple[torch.Tensor, ...]]:
    """One shuffled epoch by plain slicing of a permutation: ``t[perm[i:i + b]]`` for every
    tensor ``t`` (one gather per batch and tensor; the training loop of chapter 5 does this)."""
    n = _check_tensors(tensors)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    perm = torch.randperm(n, generator=generator).to(tensors[0].device)
    for i in range(0, n, batch_size):
        idx = perm[i : i + batch_size]
        yield tuple(t[idx] for t in tensors)


#: The ways to batch in-memory tensors that :func:`loader_throughput` measures. In order the
#: default DataLoader, DataLoader with a BatchSampler (index lists), DataLoader with an
#: :class:`IndexTensorSampler` (index tensors), slicing a shuffled index, and
#: :class:`BatchIterator`.
LOADERS = ("dataloader", "batchsampler", "tensorsampler", "slicing", "sgdbook")


def loader_throughput(
    *tensors: torch.Tensor,
    batch_size: int,
    kind: str,
    repeats: int = 3,
    warmup: int = 1,
    min_time: float | None = None,
    threads: int | None = None,
) -> float:
    """Examples per second of one full epoch of ``kind`` (median epoch of
    :func:`loader_timing`)."""
    res = loader_timing(
        *tensors,
        batch_size=batch_size,
        kind=kind,
        repeats=repeats,
        warmup=warmup,
        min_time=min_time,
        threads=threads,
    )
    return tensors[0].shape[0] / res.median


def loader_timing(
    *tensors: torch.Tensor,
    batch_size: int,
    kind: str,
    repeats: int = 3,
    warmup: int = 1,
    min_time: float | None = None,
    threads: int | None = None,
):
    """Seconds of one full epoch of ``kind``, one of :data:`LOADERS`: ``"sgdbook"``
    (:class:`BatchIterator`), ``"dataloader"`` (:func:`dataloader`), ``"batchsampler"``
    (:func:`batch_sampler_loader`), ``"tensorsampler"`` (:func:`tensor_sampler_loader`) or
    ``"slicing"`` (:func:`index_slices`). Returns the :class:`sgdbook.timing.TimingResult`
    (one round per epoch; its median and spread).

    Each timed epoch iterates over every batch (what a training loop receives: tensors ready to
    use; on a GPU, the synchronisation at the end of the epoch waits for queued copies), with
    device synchronisation. With ``min_time`` (seconds), epochs are timed with
    :func:`sgdbook.timing.measure_for` until at least ``repeats`` epochs and ``min_time`` seconds
    (after at least ``warmup`` untimed epochs, at least one): the statistics then rest on a
    minimum total time, not on a fixed count. Without it, ``repeats`` epochs after ``warmup``
    (:func:`sgdbook.timing.measure`). ``threads`` sets torch's intra-op threads for the
    measurement (``None``: unchanged); with one thread on the CPU the clock is the thread's CPU
    time (:func:`sgdbook.timing.work_clock`; the ``DataLoader`` runs in the main process).

    Raises:
        ValueError: ``kind`` is not one of :data:`LOADERS`, or a count or time is out of range.
    """
    if kind == "sgdbook":
        loader = BatchIterator(*tensors, batch_size=batch_size, seed=0)
    elif kind == "dataloader":
        loader = dataloader(*tensors, batch_size=batch_size, seed=0)
    elif kind == "batchsampler":
        loader = batch_sampler_loader(*tensors, batch_size=batch_size, seed=0)
    elif kind == "tensorsampler":
        loader = tensor_sampler_loader(*tensors, batch_size=batch_size, seed=0)
    elif kind == "slicing":
        _check_tensors(tensors)
        _validate.integer("batch_size", batch_size, minimum=1)
        gen = torch.Generator().manual_seed(0)
        loader = None
    else:
        raise ValueError(f"kind must be one of {LOADERS}, got {kind!r}")

    def epoch() -> None:
        for _ in (
            loader
            if loader is not None
            else index_slices(*tensors, batch_size=batch_size, generator=gen)
        ):
            pass

    device = tensors[0].device
    repeats = _validate.integer("repeats", repeats, minimum=1)
    warmup = _validate.integer("warmup", warmup, minimum=0)
    clock = work_clock(device, threads)
    with intra_op_threads(threads):
        if min_time is None:
            return measure(epoch, repeats=repeats, warmup=warmup, device=device, clock=clock)
        return measure_for(
            epoch,
            min_time=_validate.positive("min_time", min_time),
            min_rounds=repeats,
            max_rounds=max(repeats, 2000),
            warmup_time=0.0,
            min_warmup=max(1, warmup),
            round_time=1e-6,
            device=device,
            clock=clock,
        )
