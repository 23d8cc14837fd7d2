"""Chapter 5 (:doc:`/momentum-adam`): the standard PyTorch training loop on a real, offline data
set, and a fair optimizer comparison.

Data: scikit-learn's bundled handwritten digits (``sklearn.datasets.load_digits``: 1,797 images
of 8x8 pixels, 10 classes; shipped with scikit-learn, no download). :func:`load_digits_data`
splits it once (fixed seed) into training, validation and test sets and standardises the
features with the training statistics only.

Model: a small MLP (64 -> hidden -> 10, ReLU). :func:`train` runs the textbook loop (shuffle,
``zero_grad``, forward, loss, ``backward``, ``step``) with any optimizer factory, sgdbook's or
torch's. :func:`compare_optimizers` tunes each optimizer's learning rate on the *validation* set
from a small grid and then reports the *test* accuracy at that rate over several seeds (mean and
sample standard deviation; the tuning seed may be kept out of the reported ones).
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .. import validation as _validate
from ..device import get_device

__all__ = [
    "DigitsData",
    "DIVERGENCE_LOSS",
    "load_digits_data",
    "make_mlp",
    "train_epoch",
    "evaluate",
    "TrainResult",
    "train",
    "Comparison",
    "compare_optimizers",
]

OptimizerFactory = Callable[[Iterable[torch.nn.Parameter], float], torch.optim.Optimizer]

#: A mean training loss above this (cross-entropy over 10 classes starts near ln 10 = 2.3), or a
#: non-finite one, counts as divergence.
DIVERGENCE_LOSS = 1e3


@dataclass(frozen=True)
class DigitsData:
    """Tensors of the three splits (features standardised, labels as int64), on one device."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Numbers of training, validation and test examples."""
        return len(self.y_train), len(self.y_val), len(self.y_test)


def load_digits_data(
    *, seed: int = 0, val_size: int = 360, test_size: int = 360, device: torch.device | None = None
) -> DigitsData:
    """Load scikit-learn's digits, split them at random (``seed``) and standardise.

    Args:
        seed: seed of the split.
        val_size: number of validation examples.
        test_size: number of test examples.
        device: where the tensors go (default :func:`sgdbook.device.get_device`).

    Returns:
        A :class:`DigitsData`. Means and standard deviations come from the training split only
        (pixels constant there get standard deviation 1).

    Raises:
        ValueError: the sizes leave fewer than 100 training examples.
    """
    from sklearn.datasets import load_digits

    device = _validate.device("device", device)
    seed = _validate.seed("seed", seed)
    val_size = _validate.integer("val_size", val_size, minimum=1)
    test_size = _validate.integer("test_size", test_size, minimum=1)
    digits = load_digits()
    X = np.asarray(digits.data, dtype=np.float64)
    y = np.asarray(digits.target, dtype=np.int64)
    n = len(y)
    if n - val_size - test_size < 100:
        raise ValueError(
            f"val_size + test_size = {val_size + test_size} leave too few of {n} examples"
        )
    perm = np.random.default_rng(seed).permutation(n)
    te, va, tr = (
        perm[:test_size],
        perm[test_size : test_size + val_size],
        perm[test_size + val_size :],
    )
    mean = X[tr].mean(axis=0)
    std = X[tr].std(axis=0)
    std[std == 0] = 1.0
    device = get_device() if device is None else torch.device(device)

    def t(a, idx):
        if a.dtype == np.int64:
            return torch.as_tensor(a[idx], device=device)
        return torch.as_tensor((a[idx] - mean) / std, dtype=torch.float32, device=device)

    return DigitsData(t(X, tr), t(y, tr), t(X, va), t(y, va), t(X, te), t(y, te))


@contextlib.contextmanager
def _one_thread_on_cpu(device: torch.device):
    """Run torch on one CPU thread (restored afterwards).

    The network is tiny: on a CPU, splitting its 64-column matrix products over threads costs
    more than it saves, and on a busy machine it can be ten times slower. One thread also makes
    the floating-point results independent of the number of cores.
    """
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_mlp(
    *, hidden: int = 64, seed: int = 0, device: torch.device | None = None, norm: bool = False
) -> nn.Module:
    """The network 64 -> ``hidden`` -> 10 with ReLU, initialised with ``torch.manual_seed(seed)``.

    With ``norm=True`` a ``LayerNorm(hidden)`` sits between the first layer and the ReLU (its
    scale starts at 1 and its shift at 0, so the two linear layers get the same initial weights
    as without it).

    The initialisation runs inside :func:`torch.random.fork_rng` (CPU generator only; the model
    is created on the CPU and then moved): the weights are exactly those drawn after a global
    ``torch.manual_seed(seed)`` (``nn.Linear`` takes no generator, so a private
    ``torch.Generator`` could not reproduce them), but torch's global generator is restored
    afterwards, so calling this function does not change the caller's random state.

    Raises:
        TypeError, ValueError: ``hidden`` not an integer >= 1, ``seed`` not a valid seed,
            ``device`` not a device, ``norm`` not a bool.
    """
    hidden = _validate.integer("hidden", hidden, minimum=1)
    seed = _validate.seed("seed", seed)
    if not isinstance(norm, bool):
        raise TypeError(f"norm must be True or False, got {norm!r}")
    if device is not None and not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be None, a str or a torch.device, got {device!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        first = nn.Linear(64, hidden)
        layers = [first, nn.LayerNorm(hidden)] if norm else [first]
        model = nn.Sequential(*layers, nn.ReLU(), nn.Linear(hidden, 10))
    return model.to(get_device() if device is None else torch.device(device))


# chapter 5 (momentum-adam.md) prints this function's source (inspect.getsource); the formatter
# keeps out so the printed code stays as written (hand layout, aligned comments)
# fmt: off
def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, X: torch.Tensor, y: torch.Tensor,
                batch_size: int, generator: torch.Generator) -> float:
    """One pass over ``(X, y)`` in a random order: the standard PyTorch training loop.

    Returns:
        The mean training loss over the epoch's mini-batches (``nan`` if it became non-finite).
    """
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(len(y), generator=generator).to(X.device)
    total, batches = 0.0, 0
    for start in range(0, len(y), batch_size):
        idx = order[start:start + batch_size]
        optimizer.zero_grad()               # forget the previous gradient
        loss = loss_fn(model(X[idx]), y[idx])  # forward pass
        loss.backward()                     # backward pass: fills p.grad
        optimizer.step()                    # update the parameters
        total += loss.item()
        batches += 1
    return total / batches
# fmt: on


def _validated_train_epoch(fn):
    """Check :func:`train_epoch`'s arguments, then run it.

    A wrapper rather than lines in the body: chapter 5 prints the body
    (``inspect.getsource(training.train_epoch)``, which follows ``__wrapped__``) as the standard
    PyTorch loop, and the check would only clutter it.
    """

    @functools.wraps(fn)
    def train_epoch(model, optimizer, X, y, batch_size, generator):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        _validate.torch_optimizer("optimizer", optimizer)
        _validate.tensor("X", X, ndim=2)
        _validate.tensor("y", y, ndim=1, floating=False)
        _validate.same_length("X", X, "y", y)
        _validate.positive_int("batch_size", batch_size)
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return fn(model, optimizer, X, y, batch_size, generator)

    train_epoch.__doc__ = (
        (fn.__doc__ or "")
        + """
    Raises:
        TypeError: ``model`` not a module, ``optimizer`` not a torch optimizer, ``X``/``y``
            not tensors (``X`` of a floating dtype), ``batch_size`` not an integer,
            ``generator`` not a :class:`torch.Generator`.
        ValueError: ``X`` not 2-D or ``y`` not 1-D, empty, of different lengths, ``X`` not
            finite, ``batch_size < 1``.
    """
    )
    return train_epoch


train_epoch = _validated_train_epoch(train_epoch)


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on ``(X, y)`` (evaluation mode)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _validate.tensor("X", X, ndim=2)
    _validate.tensor("y", y, ndim=1, floating=False)
    _validate.same_length("X", X, "y", y)
    model.eval()
    logits = model(X)
    loss = nn.functional.cross_entropy(logits, y).item()
    acc = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, acc


@dataclass(frozen=True)
class TrainResult:
    """Per-epoch training loss, validation loss and accuracy, and the final test accuracy.

    ``diverged`` is true when an epoch's training loss was non-finite or above
    :data:`DIVERGENCE_LOSS`; training stopped there and
    the remaining entries are ``nan``.
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    test_acc: float
    diverged: bool
    #: Euclidean norm of all the final parameters (``nan`` after divergence).
    weight_norm: float = float("nan")


def train(
    make_optimizer: OptimizerFactory,
    lr: float,
    data: DigitsData,
    *,
    epochs: int = 8,
    batch_size: int = 64,
    seed: int = 0,
    hidden: int = 64,
) -> TrainResult:
    """Train a fresh :func:`make_mlp` (seed ``seed``) with ``make_optimizer(params, lr)``.

    Args:
        make_optimizer: e.g. ``lambda p, lr: sgdbook.optim.Adam(p, lr=lr)``.
        lr: the learning rate passed to the factory.
        data: the splits (:func:`load_digits_data`).
        epochs: passes over the training set.
        batch_size: mini-batch size.
        seed: seeds both the initialisation and the shuffling.
        hidden: width of the hidden layer.

    Returns:
        A :class:`TrainResult`.
    """
    make_optimizer = _validate.callable_("make_optimizer", make_optimizer)
    _validate.instance("data", data, DigitsData)
    lr = _validate.positive("lr", lr)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    seed = _validate.seed("seed", seed)
    device = data.X_train.device
    with _one_thread_on_cpu(device):
        model = make_mlp(hidden=hidden, seed=seed, device=device)
        optimizer = make_optimizer(model.parameters(), lr)
        gen = torch.Generator().manual_seed(seed)
        tl, vl, va = (np.full(epochs, np.nan) for _ in range(3))
        diverged = False
        for epoch in range(epochs):
            loss = train_epoch(model, optimizer, data.X_train, data.y_train, batch_size, gen)
            if not np.isfinite(loss) or loss > DIVERGENCE_LOSS:
                diverged = True
                break
            tl[epoch] = loss
            vl[epoch], va[epoch] = evaluate(model, data.X_val, data.y_val)
        test_acc = float("nan") if diverged else evaluate(model, data.X_test, data.y_test)[1]
        wnorm = (
            float("nan")
            if diverged
            else float(torch.sqrt(sum((p.detach() ** 2).sum() for p in model.parameters())))
        )
    return TrainResult(tl, vl, va, test_acc, diverged, wnorm)


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare_optimizers` for one optimizer.

    ``grid_val_loss[i]`` is the final validation loss with ``lr_grid[i]`` (seed ``tuning_seed``);
    ``best_lr`` minimises it; ``runs`` are the runs with ``best_lr`` and each of ``seeds``, in
    that order. A run whose seed equals ``tuning_seed`` is the tuning run itself, reused.
    """

    name: str
    lr_grid: tuple[float, ...]
    grid_val_loss: np.ndarray
    best_lr: float
    runs: list[TrainResult] = field(repr=False)
    seeds: tuple[int, ...] = ()
    tuning_seed: int = 0

    @property
    def best_on_edge(self) -> bool:
        """True when the best rate is the smallest or largest of the grid (widen the grid)."""
        return self.best_lr in (self.lr_grid[0], self.lr_grid[-1])

    @property
    def reuses_tuning_run(self) -> bool:
        """True when one of the reported runs is the tuning run (its seed is ``tuning_seed``)."""
        return self.tuning_seed in self.seeds

    @property
    def test_acc(self) -> np.ndarray:
        """Test accuracy of each seed's run."""
        return np.array([r.test_acc for r in self.runs])

    @property
    def test_acc_mean(self) -> float:
        """Mean test accuracy over the seeds."""
        return float(self.test_acc.mean())

    @property
    def test_acc_std(self) -> float:
        """Sample standard deviation (``ddof=1``) of the test accuracy over the seeds (``nan`` for one seed)."""
        acc = self.test_acc
        return float(acc.std(ddof=1)) if len(acc) > 1 else float("nan")

    @property
    def train_loss(self) -> np.ndarray:
        """Training-loss curves, shape ``(len(seeds), epochs)``."""
        return np.array([r.train_loss for r in self.runs])


def compare_optimizers(
    factories: Mapping[str, OptimizerFactory],
    lr_grids: Mapping[str, Sequence[float]],
    data: DigitsData,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int = 8,
    batch_size: int = 64,
    hidden: int = 64,
    tuning_seed: int | None = None,
) -> list[Comparison]:
    """Tune each optimizer's learning rate on the validation set, then run it with several seeds.

    For each name, every rate of ``lr_grids[name]`` is tried once with ``tuning_seed``; the rate
    with the lowest final validation loss (diverged runs count as ``inf``) is kept and run with
    every seed of ``seeds``. A seed equal to ``tuning_seed`` reuses the tuning run instead of
    training it again; pass a ``tuning_seed`` outside ``seeds`` to report only runs that took no
    part in the choice. The test set is used only for the reported accuracy.

    Args:
        factories: name -> ``make_optimizer(params, lr)``.
        lr_grids: name -> learning rates to try.
        data: the splits (:func:`load_digits_data`).
        seeds: seeds of the reported runs (initialisation and shuffling).
        epochs: passes over the training set per run.
        batch_size: mini-batch size.
        hidden: width of the hidden layer.
        tuning_seed: seed of the tuning runs; ``None`` (default) means ``seeds[0]``, whose tuning
            run is then reused as the first reported run.

    Returns:
        One :class:`Comparison` per optimizer, in the order of ``factories``.

    Raises:
        ValueError: no seeds, a missing or empty grid, or a non-positive rate.
    """
    if not isinstance(factories, Mapping) or not factories:
        raise ValueError(
            f"factories must be a non-empty mapping name -> factory, got {factories!r:.60}"
        )
    for name, make in factories.items():
        _validate.callable_(f"factories[{name!r}]", make)
    if not isinstance(lr_grids, Mapping):
        raise TypeError(f"lr_grids must be a mapping name -> learning rates, got {lr_grids!r:.60}")
    _validate.instance("data", data, DigitsData)
    seeds = _validate.seeds("seeds", seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    tuning_seed = (
        seeds[0]
        if tuning_seed is None
        else int(_validate.integer("tuning_seed", tuning_seed, minimum=0))
    )
    out = []
    for name, make in factories.items():
        if name not in lr_grids:
            raise ValueError(f"lr_grids has no learning-rate grid for {name!r}")
        grid = tuple(
            float(_validate.positive("lr", lr))
            for lr in _validate.non_empty(f"lr_grids[{name!r}]", lr_grids[name])
        )
        if not grid:
            raise ValueError(f"empty learning-rate grid for {name!r}")
        first = [
            train(
                make,
                lr,
                data,
                epochs=epochs,
                batch_size=batch_size,
                seed=tuning_seed,
                hidden=hidden,
            )
            for lr in grid
        ]
        scores = np.array([np.inf if r.diverged else r.val_loss[-1] for r in first])
        best = int(np.argmin(scores))
        runs = [
            first[best]
            if s == tuning_seed
            else train(
                make, grid[best], data, epochs=epochs, batch_size=batch_size, seed=s, hidden=hidden
            )
            for s in seeds
        ]
        out.append(Comparison(name, grid, scores, grid[best], runs, tuple(seeds), tuning_seed))
    return out


# --- Chapter 6: the same loop with a schedule, clipping and weight averaging -----------------


@dataclass(frozen=True)
class RunResult:
    """Result of :func:`train_run`.

    ``lrs[i]`` and ``grad_norms[i]`` are group 0's learning rate and the total gradient norm
    (before clipping) at iteration ``i``; ``train_loss`` is the mean loss of each epoch;
    ``averaged_test_acc`` is the test accuracy of the weight average (``nan`` without one).
    ``diverged`` as in :class:`TrainResult`.
    """

    train_loss: np.ndarray
    test_acc: float
    lrs: np.ndarray
    grad_norms: np.ndarray
    diverged: bool
    averaged_test_acc: float
    weight_norm: float
    final_parameters: dict = field(default_factory=dict, repr=False)

    @property
    def diverged_epoch(self) -> int | None:
        """The epoch (1-based) whose mean loss was non-finite or above the divergence threshold,
        or ``None`` if the run did not diverge."""
        if not self.diverged:
            return None
        return int(np.flatnonzero(np.isnan(self.train_loss))[0]) + 1


def train_run(
    make_optimizer: Callable[[torch.nn.Module], torch.optim.Optimizer],
    data: DigitsData,
    *,
    epochs: int = 8,
    batch_size: int = 128,
    seed: int = 0,
    hidden: int = 64,
    make_schedule: Callable[[torch.optim.Optimizer, int], object] | None = None,
    schedule_every: str = "iteration",
    schedule_first: bool = False,
    clip_norm: float | None = None,
    average_from: int | None = None,
    norm: bool = False,
) -> RunResult:
    """Train a fresh :func:`make_mlp` with an optional schedule, gradient clipping and SWA.

    The loop of :func:`train_epoch`, with these additions at each iteration: the total
    gradient norm is recorded and, with ``clip_norm``, the gradients are rescaled by
    ``torch.nn.utils.clip_grad_norm_``; the schedule steps after ``optimizer.step()``
    (``schedule_every="iteration"``), or after each epoch (``"epoch"``); ``schedule_first``
    puts the iteration's ``schedule.step()`` *before* ``optimizer.step()`` instead (a common
    mistake, shown in chapter 6). With ``average_from=e``, an
    :class:`sgdbook.optim.averaging.AveragedModel` averages the weights at the end of every epoch
    from epoch ``e`` (0-based) on (stochastic weight averaging).

    Args:
        make_optimizer: ``model -> optimizer`` (the model is given so that parameter groups
            can be built, e.g. no weight decay on biases).
        data: the splits (:func:`load_digits_data`).
        epochs, batch_size, seed, hidden: as in :func:`train`.
        make_schedule: ``(optimizer, steps_per_epoch) -> schedule`` (sgdbook's or torch's), or
            ``None`` for a constant rate.
        schedule_every: ``"iteration"`` or ``"epoch"``.
        schedule_first: step the schedule before the optimizer (per iteration only).
        clip_norm: clip the total gradient norm to this value (``> 0``), or ``None``.
        average_from: first epoch whose weights enter the average, or ``None``.
        norm: put a ``LayerNorm`` after the first layer (:func:`make_mlp`).

    Returns:
        A :class:`RunResult`.

    Raises:
        ValueError: an argument out of range.
    """
    from ..optim.averaging import AveragedModel

    make_optimizer = _validate.callable_("make_optimizer", make_optimizer)
    _validate.instance("data", data, DigitsData)
    if make_schedule is not None:
        _validate.callable_("make_schedule", make_schedule)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    seed = _validate.seed("seed", seed)
    if schedule_every not in ("iteration", "epoch"):
        raise ValueError(f"schedule_every must be 'iteration' or 'epoch', got {schedule_every!r}")
    if not isinstance(schedule_first, bool):
        raise TypeError(f"schedule_first must be True or False, got {schedule_first!r}")
    if clip_norm is not None:
        clip_norm = _validate.positive("clip_norm", clip_norm)
    if average_from is not None:
        average_from = _validate.integer("average_from", average_from, minimum=0)
        if average_from >= epochs:
            raise ValueError(f"average_from must be < epochs = {epochs}, got {average_from}")
    device = data.X_train.device
    n = len(data.y_train)
    steps_per_epoch = -(-n // batch_size)
    loss_fn = nn.CrossEntropyLoss()
    with _one_thread_on_cpu(device):
        model = make_mlp(hidden=hidden, seed=seed, device=device, norm=norm)
        optimizer = make_optimizer(model)
        schedule = None if make_schedule is None else make_schedule(optimizer, steps_per_epoch)
        averaged = None
        gen = torch.Generator().manual_seed(seed)
        tl = np.full(epochs, np.nan)
        lrs, norms = [], []
        diverged = False
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(n, generator=gen).to(device)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                optimizer.zero_grad()
                loss = loss_fn(model(data.X_train[idx]), data.y_train[idx])
                loss.backward()
                norms.append(
                    float(
                        torch.nn.utils.clip_grad_norm_(
                            model.parameters(), math.inf if clip_norm is None else clip_norm
                        )
                    )
                )
                if schedule is not None and schedule_first and schedule_every == "iteration":
                    schedule.step()
                lrs.append(float(optimizer.param_groups[0]["lr"]))
                optimizer.step()
                if schedule is not None and not schedule_first and schedule_every == "iteration":
                    schedule.step()
                total += loss.item()
            loss_mean = total / steps_per_epoch
            if not np.isfinite(loss_mean) or loss_mean > DIVERGENCE_LOSS:
                diverged = True
                break
            tl[epoch] = loss_mean
            if schedule is not None and schedule_every == "epoch":
                schedule.step()
            if average_from is not None and epoch >= average_from:
                if averaged is None:
                    averaged = AveragedModel(model)
                averaged.update_parameters(model)
        test_acc = float("nan") if diverged else evaluate(model, data.X_test, data.y_test)[1]
        avg_acc = (
            float("nan")
            if diverged or averaged is None
            else evaluate(averaged.module, data.X_test, data.y_test)[1]
        )
        wnorm = float(torch.sqrt(sum((p.detach() ** 2).sum() for p in model.parameters())))
        final = {name: p.detach().cpu().numpy().copy() for name, p in model.named_parameters()}
    return RunResult(tl, test_acc, np.array(lrs), np.array(norms), diverged, avg_acc, wnorm, final)


class OptimizerGroup:
    """Several optimizers driven as one (e.g. ``torch.optim.Muon`` for the weight matrices and
    AdamW for the rest, since Muon only accepts 2-D parameters).

    ``step()`` and ``zero_grad()`` call every optimizer in turn; ``param_groups`` lists their
    groups in order (the first optimizer's first group is the one :func:`train_run` records).

    Raises:
        TypeError: an element is not a ``torch.optim.Optimizer``; ValueError: none given.
    """

    def __init__(self, *optimizers: torch.optim.Optimizer):
        if not optimizers:
            raise ValueError("optimizers must not be empty")
        for o in optimizers:
            if not isinstance(o, torch.optim.Optimizer):
                raise TypeError(
                    f"optimizers must be torch.optim.Optimizer instances, got {type(o).__name__}"
                )
        self.optimizers = tuple(optimizers)

    @property
    def param_groups(self) -> list[dict]:
        return [g for o in self.optimizers for g in o.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for o in self.optimizers:
            o.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for o in self.optimizers:
            o.step()


def no_decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Parameter groups: weight decay on the weight matrices only, none on biases (and norms).

    Every parameter with fewer than 2 dimensions (biases, the scales and shifts of
    normalisation layers) goes into a group with ``weight_decay=0``.

    Raises:
        ValueError: ``weight_decay`` negative; TypeError: ``model`` not a module.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    weight_decay = _validate.nonnegative("weight_decay", weight_decay)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return [dict(params=decay, weight_decay=weight_decay), dict(params=no_decay, weight_decay=0.0)]


__all__ += ["RunResult", "train_run", "no_decay_groups", "OptimizerGroup"]


def schedule_pairs(
    epochs: int,
    *,
    warmup_fraction: float = 0.1,
    decay_fraction: float = 0.2,
    step_gamma: float = 0.1,
) -> dict[str, tuple[Callable, Callable | None]]:
    """The six schedules of chapter 6's comparison, each as (sgdbook factory, torch factory).

    Every factory is ``(optimizer, steps_per_epoch) -> schedule`` for :func:`train_run`,
    stepped once per iteration over ``epochs * steps_per_epoch`` iterations :math:`T`, with the
    optimizer's rate as the peak rate :math:`\\eta`:

    * ``"常数"``: no schedule (both ``None``);
    * ``"阶梯"``: ``MultiStepDecay`` at 50% and 75% of :math:`T` by ``step_gamma``
      (torch ``MultiStepLR``);
    * ``"余弦"``: ``CosineAnnealing(T_max=T)`` (``CosineAnnealingLR``);
    * ``"预热+余弦"``: ``LinearWarmup`` over ``warmup_fraction`` of :math:`T` from 0.1η, then
      cosine to 0 (``SequentialLR`` of ``LinearLR`` and ``CosineAnnealingLR``);
    * ``"OneCycle"``: ``OneCycle(max_lr=η, total_steps=T)`` (``OneCycleLR``; it also cycles
      the momentum between 0.95 and 0.85, as torch does by default);
    * ``"WSD"``: ``WarmupStableDecay`` with the same warm-up, constant until
      ``1 - decay_fraction`` of :math:`T`, then linear decay to 0 (``SequentialLR`` of
      ``LinearLR``, ``ConstantLR`` and ``LinearLR``).

    Raises:
        ValueError: ``epochs < 1`` or a fraction outside (0, 1).
    """
    from torch.optim import lr_scheduler as ls

    from ..optim import schedules as sch

    epochs = _validate.integer("epochs", epochs, minimum=1)
    wf = _validate.unit_interval("warmup_fraction", warmup_fraction)
    df = _validate.unit_interval("decay_fraction", decay_fraction)
    step_gamma = _validate.positive("step_gamma", step_gamma)
    if wf + df >= 1 or wf == 0 or df == 0:
        raise ValueError(
            f"need 0 < warmup_fraction, decay_fraction and their sum < 1, got {wf}, {df}"
        )

    def sizes(spe):
        T = epochs * spe
        W = max(1, round(wf * T))
        D = max(1, round(df * T))
        return T, W, D

    def lr0(opt):
        return opt.param_groups[0]["lr"]

    def ours_step(o, spe):
        T = sizes(spe)[0]
        return sch.MultiStepDecay(o, [T // 2, (3 * T) // 4], gamma=step_gamma)

    def torch_step(o, spe):
        T = sizes(spe)[0]
        return ls.MultiStepLR(o, [T // 2, (3 * T) // 4], gamma=step_gamma)

    def ours_warm_cos(o, spe):
        T, W, _ = sizes(spe)
        return sch.LinearWarmup(o, W, after=sch.CosineAnnealing(o, T_max=T - W), start_factor=0.1)

    def torch_warm_cos(o, spe):
        T, W, _ = sizes(spe)
        return ls.SequentialLR(
            o, [ls.LinearLR(o, 0.1, 1.0, W), ls.CosineAnnealingLR(o, T_max=T - W)], [W]
        )

    def ours_wsd(o, spe):
        T, W, D = sizes(spe)
        return sch.WarmupStableDecay(o, W, T - W - D, D, start_factor=0.1)

    def torch_wsd(o, spe):
        T, W, D = sizes(spe)
        return ls.SequentialLR(
            o,
            [
                ls.LinearLR(o, 0.1, 1.0, W),
                ls.ConstantLR(o, 1.0, total_iters=0),
                ls.LinearLR(o, 1.0, 0.0, D),
            ],
            [W, T - D],
        )

    return {
        "常数": (None, None),
        "阶梯": (ours_step, torch_step),
        "余弦": (
            lambda o, spe: sch.CosineAnnealing(o, T_max=sizes(spe)[0]),
            lambda o, spe: ls.CosineAnnealingLR(o, T_max=sizes(spe)[0]),
        ),
        "预热+余弦": (ours_warm_cos, torch_warm_cos),
        "OneCycle": (
            lambda o, spe: sch.OneCycle(o, max_lr=lr0(o), total_steps=sizes(spe)[0]),
            lambda o, spe: ls.OneCycleLR(o, max_lr=lr0(o), total_steps=sizes(spe)[0]),
        ),
        "WSD": (ours_wsd, torch_wsd),
    }


__all__ += ["schedule_pairs"]
