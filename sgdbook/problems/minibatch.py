"""Chapter 4 (:doc:`/minibatch`): mini-batch SGD on least squares, gradient noise against batch
size, and timed training runs.

The objective is the mean squared error ``f(w) = (1/n) sum_i f_i(w)`` with
``f_i(w) = (x_i^T w - y_i)^2 / 2``, whose per-example gradient is ``g_i = (x_i^T w - y_i) x_i``.
The mini-batch gradient on a batch ``B`` is the mean of the ``g_i`` over ``B``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .. import divergence as _divergence
from .. import validation as _validate
from ..device import synchronize
from ..systems.batching import BatchIterator

__all__ = [
    "add_bias",
    "mse",
    "full_gradient",
    "per_example_gradients",
    "smoothness",
    "minibatch_step_size",
    "gradient_noise",
    "noise_theory",
    "loglog_slope",
    "TrainingRun",
    "train_least_squares",
    "optimal_loss",
    "TimedTraining",
    "timed_training",
    "synthetic_regression",
    "step_time",
    "forward_time",
    "backward_time",
    "StepTimes",
    "step_times_by_batch",
]


def _xy(X: torch.Tensor, y: torch.Tensor) -> None:
    if not (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError("X and y must be torch tensors")
    if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
        raise ValueError(
            f"X must be (n, d) with n >= 1 and y (n,), got {tuple(X.shape)} and {tuple(y.shape)}"
        )
    _validate.tensor("X", X, ndim=2)
    _validate.tensor("y", y, ndim=1)
    if X.dtype != y.dtype:
        raise TypeError(f"X and y must have the same dtype, got {X.dtype} and {y.dtype}")


def _w(X: torch.Tensor, w: torch.Tensor) -> None:
    """``w`` is a real tensor of shape (d,) and X's dtype (its finiteness is not required:
    the loss of a divergent iterate is reported by the divergence checks)."""
    _validate.tensor("w", w, ndim=1, finite=False, min_rows=0)
    if w.shape != (X.shape[1],) or w.dtype != X.dtype:
        raise ValueError(
            f"w must have shape ({X.shape[1]},) and dtype {X.dtype} like X, got "
            f"{tuple(w.shape)} and {w.dtype}"
        )


def add_bias(X: torch.Tensor) -> torch.Tensor:
    """Append a column of ones (the intercept) to ``X``, an (n, d) floating-point tensor.

    Raises:
        TypeError: ``X`` is not a floating-point torch tensor.
        ValueError: ``X`` is not two-dimensional.
    """
    _validate.tensor("X", X, ndim=2)
    if not X.is_floating_point():
        raise TypeError(f"X must be floating point, got {X.dtype}")
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)], dim=1)


def mse(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> float:
    """``f(w) = mean((X w - y)^2) / 2``."""
    _xy(X, y)
    _w(X, w)
    r = X @ w - y
    return float((r @ r) / (2 * X.shape[0]))


def full_gradient(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``grad f(w) = X^T (X w - y) / n`` (for a batch ``X_B, y_B``: the mini-batch gradient)."""
    _xy(X, y)
    _w(X, w)
    return X.T @ (X @ w - y) / X.shape[0]


def per_example_gradients(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """All ``g_i(w)`` as the rows of an (n, d) tensor."""
    _xy(X, y)
    _w(X, w)
    return (X @ w - y)[:, None] * X


def optimal_loss(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, float]:
    """The least-squares minimiser ``w*`` and ``f(w*)`` (computed in float64)."""
    _xy(X, y)
    Xd, yd = X.double().cpu(), y.double().cpu()
    w = torch.linalg.lstsq(Xd, yd[:, None]).solution[:, 0]
    return w.to(X.dtype).to(X.device), mse(Xd, yd, w)


def smoothness(X: torch.Tensor) -> tuple[float, float]:
    """``L``, the largest eigenvalue of ``X^T X / n`` (smoothness of ``f``), and
    ``L_max = max_i ||x_i||^2`` (the largest smoothness constant of a single ``f_i``)."""
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[0] == 0:
        raise ValueError("X must be a non-empty (n, d) tensor")
    _validate.tensor("X", X, ndim=2)
    Xd = X.double().cpu()
    L = float(torch.linalg.eigvalsh(Xd.T @ Xd / Xd.shape[0])[-1])
    L_max = float((Xd * Xd).sum(dim=1).max())
    return L, L_max


def minibatch_step_size(L: float, L_max: float, n: int, batch_size: int) -> float:
    """``1 / L(b)`` with ``L(b) = n(b-1)/(b(n-1)) L + (n-b)/(b(n-1)) L_max``.

    ``L(b)`` (the "expected smoothness" of b-element batches drawn without replacement) runs from
    ``L_max`` at ``b = 1`` to ``L`` at ``b = n``: the step can grow with the batch.
    """
    L = _validate.positive("L", L)
    L_max = _validate.positive("L_max", L_max)
    n = _validate.integer("n", n, minimum=2)
    b = _validate.integer("batch_size", batch_size, minimum=1)
    if b > n:
        raise ValueError(f"batch_size must be <= n={n}, got {b}")
    Lb = n * (b - 1) / (b * (n - 1)) * L + (n - b) / (b * (n - 1)) * L_max
    return 1.0 / Lb


def gradient_noise(
    G: torch.Tensor, batch_sizes, draws: int, *, replace: bool, seed: int
) -> np.ndarray:
    """Measured root-mean-square error of the mini-batch gradient, one value per batch size.

    For each ``b`` it draws ``draws`` batches (``replace=True``: ``b`` indices uniformly with
    replacement; ``False``: ``b`` distinct indices), averages the rows of ``G`` over each batch,
    and returns ``sqrt(mean ||g_B - g||^2)`` where ``g`` is the mean of all rows.

    The batches of different sizes are prefixes of the same ``draws`` index sequences (iid
    indices, or random permutations): every prefix is itself a uniform sample of its size, so
    each estimate is exact in distribution; only the estimates for different sizes are
    correlated, and the sampling work is done once.

    Args:
        G: per-example gradients, shape (n, d).
        batch_sizes: batch sizes (integers >= 1; <= n when ``replace`` is False).
        draws: batches per size (>= 2).
        replace: sample with replacement or not.
        seed: seed of the generator that draws the batches.

    Returns:
        One standard deviation per batch size.
    """
    if not isinstance(G, torch.Tensor) or G.ndim != 2 or G.shape[0] == 0:
        raise ValueError("G must be a non-empty (n, d) tensor")
    _validate.tensor("G", G, ndim=2)
    replace = _validate.boolean("replace", replace)
    draws = _validate.integer("draws", draws, minimum=2)
    gen = torch.Generator().manual_seed(_validate.seed("seed", seed))
    n = G.shape[0]
    sizes = [
        _validate.integer("batch size", b, minimum=1)
        for b in _validate.non_empty("batch_sizes", batch_sizes)
    ]
    if not sizes:
        raise ValueError("batch_sizes must not be empty")
    largest = max(sizes)
    if replace:
        pool = torch.randint(n, (draws, largest), generator=gen)
    else:
        if largest > n:
            raise ValueError(f"batch size {largest} > n={n} without replacement")
        pool = torch.rand(draws, n, generator=gen).argsort(dim=1)  # random permutations
    pool = pool.to(G.device)
    mean = G.mean(dim=0)
    out = []
    for b in sizes:
        gB = G[pool[:, :b]].mean(dim=1)
        out.append(float(((gB - mean) ** 2).sum(dim=1).mean().sqrt()))
    return np.array(out)


def noise_theory(G: torch.Tensor, batch_sizes, *, replace: bool) -> np.ndarray:
    """Exact ``sqrt(E ||g_B - g||^2)``: ``sigma / sqrt(b)`` with replacement, and
    ``sigma / sqrt(b) * sqrt((n - b) / (n - 1))`` without, where
    ``sigma^2 = (1/n) sum_i ||g_i - g||^2``.

    Raises:
        TypeError: ``G`` not a real floating tensor, ``replace`` not a bool.
        ValueError: ``G`` not a non-empty finite (n, d) tensor (``n >= 2`` without
            replacement), a batch size ``< 1`` or (without replacement) ``> n``.
    """
    _validate.tensor("G", G, ndim=2)
    replace = _validate.boolean("replace", replace)
    _bs = _validate.real_array("batch_sizes", batch_sizes, minimum=1)
    if not replace and (G.shape[0] < 2 or np.any(_bs > G.shape[0])):
        raise ValueError(
            f"without replacement batch_sizes must be <= n = {G.shape[0]} (n >= 2), "
            f"got {batch_sizes!r}"
        )
    n = G.shape[0]
    b = np.asarray(_bs, dtype=float)
    sigma2 = float(((G - G.mean(dim=0)) ** 2).sum(dim=1).mean())
    b = b.astype(float)
    var = sigma2 / b
    if not replace:
        var = var * (n - b) / (n - 1)
    return np.sqrt(var)


def loglog_slope(x, y) -> float:
    """Least-squares slope of ``log y`` against ``log x``."""
    x = _validate.vector("x", x)
    y = _validate.vector("y", y, dim=x.shape[0])
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive for a log-log fit")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


@dataclass
class TrainingRun:
    """Loss recorded during a mini-batch SGD run on least squares.

    Attributes:
        batch_size: examples per step.
        lr: the constant step size.
        examples: examples processed (gradients of single ``f_i`` computed) at each record.
        iterations: parameter updates made at each record.
        seconds: seconds spent in the updates (loss evaluation excluded) at each record, on the
            clock passed to :func:`train_least_squares`.
        losses: ``f(w)`` over the whole data set at each record.
        w: the final parameters.
    """

    batch_size: int
    lr: float
    examples: np.ndarray
    iterations: np.ndarray
    seconds: np.ndarray
    losses: np.ndarray
    w: torch.Tensor


def train_least_squares(
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    lr: float,
    epochs: int,
    seed: int,
    record_every: int | None = None,
    decay_steps: int | None = None,
    clock=time.perf_counter,
) -> TrainingRun:
    """Mini-batch SGD from ``w = 0`` with shuffled epochs (:class:`~sgdbook.systems.batching.BatchIterator`).

    The loss over all ``n`` examples is recorded at the start and then after the first update that
    brings the count of processed examples to the next multiple of ``record_every`` (and after
    the last update). Only the updates are timed; the device is synchronised before every
    reading of the clock.

    Args:
        X, y: data, (n, d) and (n,), on the device to train on.
        batch_size: examples per update (``n``: gradient descent; ``1``: plain SGD).
        lr: constant step size > 0.
        epochs: passes over the data (>= 1).
        seed: seed of the batch order.
        record_every: examples between records; default ``max(1, n // 20)``.
        decay_steps: ``None`` for the constant step ``lr``; an integer ``T >= 1`` for the
            decaying step ``lr / (1 + k / T)`` at update ``k = 0, 1, ...`` (exercise 4.5).
        clock: the clock, in seconds (:func:`sgdbook.timing.work_clock`: the thread's CPU time
            for single-threaded CPU runs, the wall clock otherwise).

    Returns:
        The recorded curve.

    Raises:
        ~sgdbook.divergence.DivergenceError: a recorded loss crossed
            :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD` (the message names the update);
            the timing of a divergent run is meaningless.
    """
    _xy(X, y)
    lr = _validate.positive("lr", lr)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    n = X.shape[0]
    record_every = (
        max(1, n // 20)
        if record_every is None
        else _validate.integer("record_every", record_every, minimum=1)
    )
    if decay_steps is not None:
        decay_steps = _validate.integer("decay_steps", decay_steps, minimum=1)
    if not callable(clock):
        raise TypeError(f"clock must be callable, got {clock!r}")
    loader = BatchIterator(X, y, batch_size=batch_size, seed=seed)
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    examples, iterations, seconds, losses = [0], [0], [0.0], [mse(X, y, w)]
    seen = steps = 0
    elapsed = 0.0
    next_mark = record_every
    synchronize(X.device)
    start = clock()
    for _ in range(epochs):
        for xb, yb in loader:
            eta = lr if decay_steps is None else lr / (1 + steps / decay_steps)
            w -= eta * (xb.T @ (xb @ w - yb)) / xb.shape[0]
            seen += xb.shape[0]
            steps += 1
            if seen >= next_mark:
                synchronize(X.device)
                elapsed += clock() - start
                examples.append(seen)
                iterations.append(steps)
                seconds.append(elapsed)
                losses.append(mse(X, y, w))
                _divergence.check("loss", losses[-1], steps)
                next_mark = (seen // record_every + 1) * record_every
                synchronize(X.device)
                start = clock()
    if examples[-1] != seen:
        synchronize(X.device)
        elapsed += clock() - start
        examples.append(seen)
        iterations.append(steps)
        seconds.append(elapsed)
        losses.append(mse(X, y, w))
        _divergence.check("loss", losses[-1], steps)
    return TrainingRun(
        batch_size=loader.batch_size,
        lr=lr,
        examples=np.array(examples),
        iterations=np.array(iterations),
        seconds=np.array(seconds),
        losses=np.array(losses),
        w=w,
    )


@dataclass
class TimedTraining:
    """Several runs of :func:`train_least_squares` that differ only in the seed of the batch order.

    Attributes:
        runs: one :class:`TrainingRun` per seed (all record at the same example counts).
        warmup_seconds: duration of the untimed warm-up run.
    """

    runs: list[TrainingRun]
    warmup_seconds: float

    @property
    def totals(self) -> np.ndarray:
        """Training seconds of each run."""
        return np.array([r.seconds[-1] for r in self.runs])

    @property
    def median_seconds(self) -> float:
        """Median training seconds over the runs."""
        return float(np.median(self.totals))

    @property
    def spread(self) -> float:
        """(slowest - fastest) / median over the runs."""
        t = self.totals
        return float((t.max() - t.min()) / np.median(t)) if np.median(t) > 0 else 0.0

    @property
    def examples(self) -> np.ndarray:
        """Example counts of the records (shared by all runs)."""
        return self.runs[0].examples

    def loss_quantiles(self, qs=(0.0, 0.5, 1.0)) -> np.ndarray:
        """Quantiles over the runs of the loss at each record, one row per quantile."""
        L = np.stack([r.losses for r in self.runs])
        return np.quantile(L, _validate.vector("qs", qs), axis=0)

    def median_clock(self) -> np.ndarray:
        """Median over the runs of the training seconds at each record."""
        return np.median(np.stack([r.seconds for r in self.runs]), axis=0)

    def binned(self, bins: int = 24, *, offset: float = 0.0, qs=(0.0, 0.5, 1.0)):
        """Smoothed curves for plotting: the records after the start are grouped into ``bins``
        intervals of the example count, equally spaced on a log scale; in each interval every run's
        losses (minus ``offset``, e.g. ``f*``) are averaged, and the quantiles ``qs`` over the runs
        of these means are returned with the mean example count and the median clock of the
        interval.

        Returns:
            ``(examples, seconds, quantiles)``: arrays of length ``m`` (non-empty intervals) and an
            array of shape ``(len(qs), m)``.
        """
        bins = _validate.integer("bins", bins, minimum=1)
        offset = _validate.real("offset", offset)
        ex = self.examples[1:]
        edges = np.geomspace(ex[0], ex[-1] * (1 + 1e-9), bins + 1)
        which = np.clip(np.searchsorted(edges, ex, side="right") - 1, 0, bins - 1)
        keep = [k for k in range(bins) if np.any(which == k)]
        L = np.stack([r.losses[1:] - offset for r in self.runs])
        T = self.median_clock()[1:]
        means = np.stack([L[:, which == k].mean(axis=1) for k in keep], axis=1)
        xs = np.array([ex[which == k].mean() for k in keep])
        ts = np.array([T[which == k].mean() for k in keep])
        return xs, ts, np.quantile(means, _validate.vector("qs", qs), axis=0)


def timed_training(
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    lr: float,
    epochs: int,
    seeds,
    record_every: int | None = None,
    threads: int | None = None,
) -> TimedTraining:
    """:func:`train_least_squares` once untimed (warm-up, seed of ``seeds[0]``, one epoch), then
    once per seed in ``seeds``. The runs differ in the batch order only, so their spread in time
    is measurement noise and their spread in loss is SGD's noise (none for gradient descent).
    ``threads`` is as for :func:`sgdbook.timing.intra_op_threads` (``None``: unchanged); with
    ``threads=1`` on the CPU the runs are timed with the thread's CPU time
    (:func:`sgdbook.timing.work_clock`), so that time another program held the core is not
    counted.

    Raises:
        ValueError, TypeError: invalid arguments (``seeds`` empty or not integers).
    """
    try:
        seeds = [_validate.integer(f"seeds[{k}]", s, minimum=0) for k, s in enumerate(seeds)]
    except TypeError as exc:
        raise TypeError(f"seeds must be an iterable of integers: {exc}") from None
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    from ..timing import intra_op_threads, work_clock

    _validate.tensor("X", X, ndim=2)
    clock = work_clock(X.device, threads)
    with intra_op_threads(threads):
        warm = train_least_squares(
            X,
            y,
            batch_size=batch_size,
            lr=lr,
            epochs=1,
            seed=seeds[0],
            record_every=record_every,
            clock=clock,
        )
        runs = [
            train_least_squares(
                X,
                y,
                batch_size=batch_size,
                lr=lr,
                epochs=epochs,
                seed=s,
                record_every=record_every,
                clock=clock,
            )
            for s in seeds
        ]
    return TimedTraining(runs=runs, warmup_seconds=float(warm.seconds[-1]))


def synthetic_regression(
    n: int,
    d: int,
    *,
    condition: float = 100.0,
    noise: float = 0.5,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """A synthetic least-squares problem: ``x_i ~ N(0, diag(s))`` with the variances ``s_j``
    spaced geometrically from 1 down to ``1 / condition`` (so the Hessian ``X^T X / n`` has
    condition number about ``condition``), ``y = X w* + noise * N(0, 1)`` with ``w* ~ N(0, I)``.

    Raises:
        ValueError, TypeError: invalid sizes, ``condition < 1`` or negative ``noise``.
    """
    _validate.dtype("dtype", dtype)
    device = _validate.device("device", device)
    n = _validate.integer("n", n, minimum=2)
    d = _validate.integer("d", d, minimum=1)
    condition = _validate.real("condition", condition)
    if condition < 1:
        raise ValueError(f"condition must be >= 1, got {condition}")
    noise = _validate.nonnegative("noise", noise)
    gen = torch.Generator().manual_seed(_validate.seed("seed", seed))
    scales = torch.logspace(0, -0.5 * np.log10(condition), d, dtype=torch.float64)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64) * scales
    w_star = torch.randn(d, generator=gen, dtype=torch.float64)
    y = X @ w_star + noise * torch.randn(n, generator=gen, dtype=torch.float64)
    return X.to(dtype=dtype, device=device), y.to(dtype=dtype, device=device)


def _streaming_timing(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    part: str,
    min_time: float,
    threads: int | None,
):
    from ..timing import intra_op_threads, measure_for, work_clock

    _xy(X, y)
    n = X.shape[0]
    b = _validate.integer("batch_size", batch_size, minimum=1)
    if b > n:
        raise ValueError(f"batch_size must be <= n={n}, got {b}")
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    r = torch.ones(b, dtype=X.dtype, device=X.device)
    offset = [0]

    def step() -> None:
        i = offset[0]
        xb, yb = X[i : i + b], y[i : i + b]
        if part == "forward":
            torch.mv(xb, w)
        elif part == "backward":
            torch.mv(xb.T, r)
        else:
            w.sub_(1e-3 * (xb.T @ (xb @ w - yb)) / b)
        offset[0] = i + b if i + 2 * b <= n else 0

    with intra_op_threads(threads):
        return measure_for(
            step,
            min_time=_validate.positive("min_time", min_time),
            warmup_time=0.02,
            device=X.device,
            clock=work_clock(X.device, threads),
        )


def step_time(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    min_time: float = 0.1,
    threads: int | None = None,
):
    """Time one mini-batch gradient step ``w -= eta X_B^T (X_B w - y_B) / b`` on consecutive
    slices of ``X`` (each call takes the next ``batch_size`` rows, so the batch streams from
    memory as in training, not from a cache that holds the same slice), with
    :func:`sgdbook.timing.measure_for`. The step makes two passes over the batch: the forward
    product ``X_B w`` and the backward product ``X_B^T r``.

    Returns:
        The :class:`sgdbook.timing.TimingResult`.
    """
    return _streaming_timing(X, y, batch_size, part="step", min_time=min_time, threads=threads)


def forward_time(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    min_time: float = 0.1,
    threads: int | None = None,
):
    """Time the forward pass ``X_B w`` alone, on the same consecutive slices as
    :func:`step_time` (the throughput that the two-pass model of :class:`StepTimes` uses)."""
    return _streaming_timing(X, y, batch_size, part="forward", min_time=min_time, threads=threads)


def backward_time(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    min_time: float = 0.1,
    threads: int | None = None,
):
    """Time the backward pass ``X_B^T r`` alone (``r`` a fixed vector of length ``batch_size``),
    on the same consecutive slices as :func:`step_time`."""
    return _streaming_timing(X, y, batch_size, part="backward", min_time=min_time, threads=threads)


@dataclass(frozen=True)
class StepTimes:
    """Median seconds per gradient step for each batch size (see :func:`step_times_by_batch`).

    The model of a step is ``t(b) = c + b * s``: a fixed overhead ``c`` (framework calls) and a
    cost ``s`` per example. The step makes two passes over the batch, each a matrix-vector
    product of the same size (forward ``X_B w``: ``2d`` flops per example; backward
    ``X_B^T r``: ``2d`` more; a layer inside a network would also need the gradient with respect
    to its input, making the backward pass twice the forward one and the whole step about three
    forward passes). So ``s`` is predicted from the measured forward throughput as
    ``s = 2 * forward_per_example`` (:meth:`two_pass_model`), and bounded below by the traffic
    of two passes at the memory bandwidth, ``2 * bytes_per_example / BW`` (:meth:`floor_model`).

    Attributes:
        batch_sizes: the batch sizes.
        seconds: median seconds of one step at each batch size.
        spreads: (max - min) / median of the rounds at each batch size.
        bytes_per_example: bytes of one example's features and target (one pass's traffic).
        flops_per_example: flops of one step per example (``4d``: two passes of ``2d``).
        forward_per_example: seconds per example of the forward pass alone at the largest batch
            size (:func:`forward_time`; see :func:`step_times_by_batch`).
        forward_seconds, forward_best: median and fastest round of the forward pass alone at
            every batch size.
        backward_seconds: median of the backward pass alone (:func:`backward_time`) at every
            batch size.
        iqrs: interquartile range / median of the rounds at each batch size.
        best: the fastest round at each batch size (an interruption by another program only
            ever makes a round slower, so on a busy machine this is the least disturbed
            estimate of the step's cost; :meth:`fit` uses it by default).
    """

    batch_sizes: tuple[int, ...]
    seconds: tuple[float, ...]
    spreads: tuple[float, ...]
    bytes_per_example: int
    flops_per_example: int = 0
    forward_per_example: float = float("nan")
    iqrs: tuple[float, ...] = ()
    best: tuple[float, ...] = ()
    forward_seconds: tuple[float, ...] = ()
    forward_best: tuple[float, ...] = ()
    backward_seconds: tuple[float, ...] = ()

    def best_over_median(self) -> np.ndarray:
        """``best / median`` of the step's rounds at every batch size (1: all rounds equal;
        well below 1: most rounds were slowed by something else)."""
        if not self.best:
            raise ValueError("the fastest rounds were not recorded")
        return np.array(self.best) / np.array(self.seconds)

    def disturbed(self, threshold: float = 0.8) -> list[int]:
        """Batch sizes whose fastest round is below ``threshold`` times the median: the
        measurements a computed criterion flags as disturbed (``threshold`` in (0, 1])."""
        threshold = _validate.positive("threshold", threshold)
        if threshold > 1:
            raise ValueError(f"threshold must be <= 1, got {threshold}")
        return [b for b, r in zip(self.batch_sizes, self.best_over_median()) if r < threshold]

    def measured_pass_model(self, overhead: float, *, passes: float = 2) -> np.ndarray:
        """``overhead + passes * (fwd(b) - fwd(b_min))`` at every batch size: each pass costs what
        the forward pass was measured to cost at that batch size beyond its cost at the smallest
        one (its call overhead), so the cache behaviour of each batch size is in the model, not
        one per-example constant. Needs ``forward_seconds``."""
        if len(self.forward_seconds) != len(self.batch_sizes):
            raise ValueError("forward_seconds must hold one time per batch size")
        passes = _validate.positive("passes", passes)
        f = np.array(self.forward_seconds)
        k0 = int(np.argmin(self.batch_sizes))
        return _validate.nonnegative("overhead", overhead) + passes * np.maximum(f - f[k0], 0.0)

    def sum_model(self, overhead: float) -> np.ndarray:
        """``overhead + (fwd(b) - fwd(b_min)) + (bwd(b) - bwd(b_min))``: the two passes each at
        its own measured cost beyond its call overhead. Needs ``forward_seconds`` and
        ``backward_seconds``."""
        if not (len(self.forward_seconds) == len(self.backward_seconds) == len(self.batch_sizes)):
            raise ValueError(
                "forward_seconds and backward_seconds must hold one time per batch size"
            )
        k0 = int(np.argmin(self.batch_sizes))
        f, g = np.array(self.forward_seconds), np.array(self.backward_seconds)
        return (
            _validate.nonnegative("overhead", overhead)
            + np.maximum(f - f[k0], 0.0)
            + np.maximum(g - g[k0], 0.0)
        )

    def floor_model(self, overhead: float, bandwidth: float, *, passes: int = 2) -> np.ndarray:
        """The bandwidth floor ``overhead + passes * b * bytes_per_example / bandwidth`` at every
        batch size."""
        b = np.array(self.batch_sizes, dtype=float)
        passes = _validate.integer("passes", passes, minimum=1)
        return _validate.nonnegative(
            "overhead", overhead
        ) + passes * b * self.bytes_per_example / _validate.positive("bandwidth", bandwidth)

    def two_pass_model(self, overhead: float, batch_sizes=None, *, passes: float = 2) -> np.ndarray:
        """``overhead + passes * b * forward_per_example``: ``passes`` passes (default two), each
        at the measured forward throughput (at ``batch_sizes``; default: the measured ones).
        ``passes=1`` is the case where the backward pass reads the batch from the cache at no
        cost."""
        b = np.asarray(self.batch_sizes if batch_sizes is None else batch_sizes, dtype=float)
        per = _validate.positive("forward_per_example", self.forward_per_example)
        passes = _validate.positive("passes", passes)
        return _validate.nonnegative("overhead", overhead) + passes * b * per

    def fit(self, min_batch: int = 1, *, statistic: str = "best") -> tuple[float, float]:
        """Least-squares fit of ``t(b) = c + b s`` to the fastest rounds (``statistic="best"``,
        falling back to the medians when they were not recorded) or to the medians
        (``"median"``) at the batch sizes ``>= min_batch`` (at least two), in relative terms (each point weighted by ``1 / t``, so
        the small steps count as much as the large ones); returns ``(c, s)`` in seconds and
        seconds per example, *not* clipped: a negative intercept says that the per-example
        cost grows with ``b`` over the fitted range (the line is then a poor description)."""
        min_batch = _validate.integer("min_batch", min_batch, minimum=1)
        keep = [k for k, b in enumerate(self.batch_sizes) if b >= min_batch]
        if len(keep) < 2:
            raise ValueError(f"min_batch must leave at least two batch sizes, got {min_batch}")
        if statistic not in ("best", "median"):
            raise ValueError(f"statistic must be 'best' or 'median', got {statistic!r}")
        times = self.best if statistic == "best" and self.best else self.seconds
        b = np.array([self.batch_sizes[k] for k in keep], dtype=float)
        t = np.array([times[k] for k in keep], dtype=float)
        A = np.stack([1 / t, b / t], axis=1)
        (c, s_), *_ = np.linalg.lstsq(A, np.ones_like(t), rcond=None)
        return float(c), float(s_)

    def knee(self, overhead: float, per_example: float) -> float:
        """The batch size where the two terms are equal: ``overhead / per_example``."""
        return _validate.positive("overhead", overhead) / _validate.positive(
            "per_example", per_example
        )


def step_times_by_batch(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_sizes,
    *,
    min_time: float = 0.1,
    threads: int | None = None,
) -> StepTimes:
    """:func:`step_time`, :func:`forward_time` and :func:`backward_time` at every batch size in ``batch_sizes``.

    ``forward_per_example`` is the forward pass's cost per example at the largest batch size
    beyond its cost at the smallest, ``(fwd(b_max) - fwd(b_min)) / (b_max - b_min)`` (medians):
    the throughput of batches as large as the largest one (beyond the cache when the largest
    batch is), not of cache-friendly ones. :meth:`StepTimes.measured_pass_model` uses the
    forward time of every batch size instead."""
    sizes = tuple(int(b) for b in _validate.vector("batch_sizes", batch_sizes))
    if len(sizes) < 2 or len(set(sizes)) != len(sizes):
        raise ValueError(f"batch_sizes must hold at least two distinct sizes, got {sizes}")
    res = [step_time(X, y, b, min_time=min_time, threads=threads) for b in sizes]
    fwd = [forward_time(X, y, b, min_time=min_time, threads=threads) for b in sizes]
    bwd = [backward_time(X, y, b, min_time=min_time, threads=threads) for b in sizes]
    lo, hi = int(np.argmin(sizes)), int(np.argmax(sizes))
    fwd_per = max(fwd[hi].median - fwd[lo].median, 1e-15) / (sizes[hi] - sizes[lo])
    per_example = X.element_size() * (X.shape[1] + 1)
    return StepTimes(
        batch_sizes=sizes,
        seconds=tuple(r.median for r in res),
        spreads=tuple(r.spread for r in res),
        bytes_per_example=per_example,
        flops_per_example=4 * X.shape[1],
        forward_per_example=fwd_per,
        iqrs=tuple(r.iqr for r in res),
        best=tuple(r.best for r in res),
        forward_seconds=tuple(r.median for r in fwd),
        forward_best=tuple(r.best for r in fwd),
        backward_seconds=tuple(r.median for r in bwd),
    )
