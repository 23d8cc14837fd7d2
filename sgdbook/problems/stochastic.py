r"""Chapter 3 (:doc:`/sgd`): stochastic gradient descent on finite sums :math:`f = \frac1n \sum_i
f_i`.

* :class:`FiniteSum` holds the component functions and their gradients;
  :func:`gradient_noise` gives the exact mean and variance of the one-sample estimate
  :math:`\nabla f_i(x)` and :func:`sample_gradients` draws it;
* :func:`sgd` runs SGD in NumPy with seeded index sampling, with replacement or one shuffled
  pass per epoch; :func:`draw_indices` is exactly the sampling it uses;
* :func:`nonconvex_example` is :math:`f = \tfrac12 (2\sin\theta) + \tfrac12 (0.2\theta^2)`,
  and :func:`basin_statistics` repeats its SGD run over many seeds;
* :class:`ShiftedSquares`, :func:`noise_ball` and :func:`epoch_end_errors` measure the spread of
  constant-step SGD and compare it with the closed forms :func:`noise_ball_theory` and
  :func:`reshuffle_theory`;
* :func:`two_gaussians` and :func:`train_logistic` are the logistic-regression experiment in
  PyTorch (device from :func:`sgdbook.device.get_device`); :func:`logistic_sgd_loop` is its
  training loop, which the chapter prints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import divergence as _divergence
from .. import validation as _validate
from ..theory.gd import DIVERGENCE_THRESHOLD, divergence_message

__all__ = [
    "FiniteSum",
    "gradient_noise",
    "sample_gradients",
    "draw_indices",
    "SGDRun",
    "sgd",
    "nonconvex_example",
    "NONCONVEX_LOCAL_MAX",
    "basin_statistics",
    "wilson_interval",
    "ShiftedSquares",
    "noise_ball_theory",
    "noise_ball",
    "reshuffle_theory",
    "epoch_end_errors",
    "two_gaussians",
    "LogisticHistory",
    "train_logistic",
    "logistic_sgd_loop",
]


@dataclass(frozen=True)
class FiniteSum:
    r"""The objective :math:`f(x) = \frac1n \sum_{i=0}^{n-1} f_i(x)` given by its components.

    Args:
        values: the component functions :math:`f_i`, each mapping a 1-D array to a float.
        grads: their gradients, each mapping a 1-D array to an array of the same shape.
        name: label for plots and messages.

    Raises:
        ValueError: no components, or ``values`` and ``grads`` differ in length.
        TypeError: a component is not callable.
    """

    values: Sequence[Callable[[np.ndarray], float]]
    grads: Sequence[Callable[[np.ndarray], np.ndarray]]
    name: str = "f"

    def __post_init__(self) -> None:
        for name in ("values", "grads"):
            v = getattr(self, name)
            if isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
                raise TypeError(f"{name} must be a sequence of callables, got {v!r:.60}")
        if len(self.values) == 0 or len(self.values) != len(self.grads):
            raise ValueError(
                f"grads: need as many gradients as values (>= 1), got "
                f"{len(self.values)} and {len(self.grads)}"
            )
        if not all(callable(h) for h in (*self.values, *self.grads)):
            raise TypeError("values and grads must hold callables (the components)")
        object.__setattr__(self, "values", tuple(self.values))
        object.__setattr__(self, "grads", tuple(self.grads))

    @property
    def n(self) -> int:
        """Number of components."""
        return len(self.values)

    def value(self, x) -> float:
        """The average :math:`f(x)`."""
        x = np.asarray(x, dtype=float)
        return float(np.mean([f(x) for f in self.values]))

    def grad(self, x) -> np.ndarray:
        """The full gradient, the average of the component gradients."""
        return np.mean(self.component_grads(x), axis=0)

    def component_grad(self, x, i: int) -> np.ndarray:
        """The gradient of component ``i`` at ``x``."""
        i = _validate.integer("i", i, minimum=0)
        if i >= self.n:
            raise ValueError(f"i must be < n = {self.n}, got {i}")
        return np.atleast_1d(np.asarray(self.grads[i](np.asarray(x, dtype=float)), dtype=float))

    def component_grads(self, x) -> np.ndarray:
        """All component gradients at ``x``, one row each (shape ``(n, d)``)."""
        x = np.asarray(x, dtype=float)
        return np.array([np.atleast_1d(np.asarray(g(x), dtype=float)) for g in self.grads])


def gradient_noise(problem: FiniteSum, x) -> tuple[np.ndarray, float]:
    r"""Exact mean and variance of the one-sample estimate :math:`\nabla f_i(x)`, i uniform.

    Returns:
        ``(mean, variance)`` with mean :math:`\nabla f(x)` and variance
        :math:`\frac1n\sum_i \|\nabla f_i(x) - \nabla f(x)\|^2
        = \frac1n\sum_i\|\nabla f_i(x)\|^2 - \|\nabla f(x)\|^2`.
    """
    _validate.instance("problem", problem, FiniteSum)
    x = _validate.vector("x", x)
    G = problem.component_grads(x)
    mean = G.mean(axis=0)
    return mean, float(np.mean(np.sum((G - mean) ** 2, axis=1)))


def sample_gradients(problem: FiniteSum, x, samples: int, seed: int) -> np.ndarray:
    """Draw ``samples`` one-sample gradient estimates at ``x`` (indices from ``default_rng(seed)``).

    The indices are ``numpy.random.default_rng(seed).integers(n, size=samples)``.

    Returns:
        Array of shape ``(samples, d)``.

    Raises:
        ValueError: ``x`` empty or not finite, ``samples < 1`` or ``seed < 0``.
        TypeError: ``samples`` or ``seed`` not an integer, ``x`` not numeric.
    """
    _validate.instance("problem", problem, FiniteSum)
    x = _validate.vector("x", x)
    samples = _validate.integer("samples", samples, minimum=1)
    idx = np.random.default_rng(_validate.seed("seed", seed)).integers(problem.n, size=samples)
    G = problem.component_grads(x)
    return G[idx]


def draw_indices(
    n: int, steps: int, rng: np.random.Generator, sampling: str = "replacement"
) -> np.ndarray:
    """The component indices SGD uses, ``steps`` of them, drawn from ``rng``.

    ``"replacement"``: ``rng.integers(n, size=steps)``, the same numbers as calling
    ``rng.integers(n)`` once per step. ``"shuffle"``: concatenated ``rng.permutation(n)``, one
    per epoch (the last one cut to length).

    Raises:
        ValueError: ``n < 1``, ``steps < 0``, or ``sampling`` neither ``"replacement"`` nor
            ``"shuffle"``.
        TypeError: ``n`` or ``steps`` not an integer.
    """
    _validate.instance("rng", rng, np.random.Generator)
    n = _validate.integer("n", n, minimum=1)
    steps = _validate.integer("steps", steps, minimum=0)
    if sampling == "replacement":
        return rng.integers(n, size=steps)
    if sampling == "shuffle":
        epochs = -(-steps // n)
        if epochs == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([rng.permutation(n) for _ in range(epochs)])[:steps]
    raise ValueError(f"sampling must be 'replacement' or 'shuffle', got {sampling!r}")


@dataclass(frozen=True)
class SGDRun:
    """Iterates ``xs`` (shape ``(k+1, d)``), losses and the indices used by an SGD run.

    ``diverged`` is set when the run stopped because an iterate blew up.
    """

    xs: np.ndarray
    losses: np.ndarray
    indices: np.ndarray
    lr: float
    diverged: bool

    @property
    def x(self) -> np.ndarray:
        """The last iterate."""
        return self.xs[-1]

    def status(self) -> str:
        """A one-line Chinese summary."""
        k = len(self.xs) - 1
        if self.diverged:
            return divergence_message(k, self.x)
        return f"运行 {k} 步，最终损失 {self.losses[-1]:.6g}"


def sgd(
    problem: FiniteSum, x0, lr: float, steps: int, seed: int, sampling: str = "replacement"
) -> SGDRun:
    r"""Plain SGD, :math:`x_{k+1} = x_k - \eta \nabla f_{i_k}(x_k)`.

    The indices are ``draw_indices(problem.n, steps, numpy.random.default_rng(seed),
    sampling)``; with replacement this is ``rng = default_rng(seed)`` and ``i = rng.integers(n)``
    at every step.

    Args:
        problem: the finite sum.
        x0: starting point.
        lr: constant step size (> 0).
        steps: number of steps (>= 0).
        seed: seed of the index generator.
        sampling: ``"replacement"`` or ``"shuffle"``.

    Returns:
        The :class:`SGDRun`.

    Raises:
        ValueError: ``x0`` empty or not finite, ``lr`` not finite or ``<= 0``, ``seed < 0``.
        TypeError: ``lr`` not a number, ``seed`` not an integer.
    """
    _validate.instance("problem", problem, FiniteSum)
    x = _validate.vector("x0", x0)
    lr = _validate.positive("lr", lr)
    rng = np.random.default_rng(_validate.seed("seed", seed))
    idx = draw_indices(problem.n, steps, rng, sampling)
    xs, losses = [x.copy()], [problem.value(x)]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for i in idx:
            x = x - lr * np.atleast_1d(problem.grads[i](x))
            xs.append(x.copy())
            losses.append(problem.value(x))
            if not np.all(np.isfinite(x)) or np.max(np.abs(x)) > DIVERGENCE_THRESHOLD:
                diverged = True
                idx = idx[: len(xs) - 1]
                break
    return SGDRun(np.array(xs), np.array(losses), np.asarray(idx), lr, diverged)


def nonconvex_example() -> FiniteSum:
    r"""The two-component example :math:`f_1 = 2\sin\theta`, :math:`f_2 = 0.2\theta^2`.

    Their average is :math:`f(\theta) = \sin\theta + 0.1\theta^2`; index 0 is :math:`f_1`,
    index 1 is :math:`f_2`.
    """
    return FiniteSum(
        values=(lambda t: float(2.0 * np.sin(t[0])), lambda t: float(0.2 * t[0] ** 2)),
        grads=(lambda t: 2.0 * np.cos(t), lambda t: 0.4 * t),
        name="sin θ + 0.1 θ²",
    )


def _local_max() -> float:
    # f'(t) = cos t + 0.2 t has exactly one root in (1, 3): the local maximum; Newton from 2.
    t = 2.0
    for _ in range(50):
        t -= (math.cos(t) + 0.2 * t) / (-math.sin(t) + 0.2)
    return t


#: The local maximum of :math:`\sin\theta + 0.1\theta^2` that separates the two basins.
NONCONVEX_LOCAL_MAX: float = _local_max()


def basin_statistics(
    seeds: Sequence[int], theta0: float = 5.0, lr: float = 0.15, steps: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """SGD on :func:`nonconvex_example` once per seed, all seeds run together.

    Seed ``s`` draws its indices exactly as :func:`sgd` does with ``seed=s``.

    Args:
        seeds: the seeds (non-negative integers).
        theta0: starting point.
        lr: step size.
        steps: number of steps.

    Returns:
        ``(final, minimum)``: the last iterate and the smallest iterate of each run.
        A run whose iterate crosses :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD` raises
        :class:`~sgdbook.divergence.DivergenceError` (step and value in the message): the
        statistics of a divergent run mean nothing.

    Raises:
        ValueError: ``seeds`` empty or a seed ``< 0``, ``theta0`` not finite, ``lr`` not finite or
            ``<= 0``, ``steps < 0``.
        TypeError: a seed or ``steps`` not an integer, ``theta0`` or ``lr`` not a number.
    """
    seeds = _validate.seeds("seeds", seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    theta0 = _validate.real("theta0", theta0)
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=0)
    idx = np.array([np.random.default_rng(s).integers(2, size=steps) for s in seeds])
    theta = np.full(len(seeds), theta0)
    lowest = theta.copy()
    for k in range(steps):
        g = np.where(idx[:, k] == 0, 2.0 * np.cos(theta), 0.4 * theta)
        theta = theta - lr * g
        np.minimum(lowest, theta, out=lowest)
        _divergence.check("theta", theta, k + 1)
    return theta, lowest


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score confidence interval for a binomial proportion (z = 1.96: 95 %).

    Raises:
        ValueError: ``trials < 1``, ``successes < 0`` or ``> trials``, ``z`` not finite or
            ``<= 0``.
        TypeError: ``trials`` or ``successes`` not an integer, ``z`` not a number.
    """
    trials = _validate.integer("trials", trials, minimum=1)
    successes = _validate.integer("successes", successes, minimum=0)
    if successes > trials:
        raise ValueError(f"successes must be <= trials, got {successes} > {trials}")
    z = _validate.positive("z", z)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ShiftedSquares:
    r"""The quadratic finite sum :math:`f_i(x) = \frac a2 (x - c_i)^2` in one dimension.

    All components share the curvature ``a``; the minimiser of :math:`f` is the mean
    :math:`\bar c`. ``centers`` holds the :math:`c_i`.
    """

    centers: np.ndarray
    a: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "centers", _validate.vector("centers", self.centers))
        object.__setattr__(self, "a", _validate.positive("a", self.a))

    @property
    def n(self) -> int:
        """Number of components."""
        return len(self.centers)

    @property
    def minimizer(self) -> float:
        """The mean of the centres."""
        return float(np.mean(self.centers))

    @property
    def spread(self) -> float:
        r"""The population variance :math:`\sigma^2 = \frac1n\sum_i (c_i - \bar c)^2`."""
        return float(np.var(self.centers))

    def as_finite_sum(self) -> FiniteSum:
        """The same problem as a :class:`FiniteSum` (for :func:`sgd`)."""
        a = self.a
        return FiniteSum(
            values=[(lambda x, c=c: float(0.5 * a * (x[0] - c) ** 2)) for c in self.centers],
            grads=[(lambda x, c=c: a * (x - c)) for c in self.centers],
            name="shifted squares",
        )


def noise_ball_theory(problem: ShiftedSquares, lr: float) -> float:
    r"""Stationary :math:`\mathbb E(x_k - x^\ast)^2 = \eta a \sigma^2 / (2 - \eta a)` under sampling with replacement.

    Raises:
        ValueError: ``lr`` not in (0, 2/a).
    """
    _validate.instance("problem", problem, ShiftedSquares)
    lr = _validate.positive("lr", lr)
    if lr * problem.a >= 2:
        raise ValueError(f"lr must be < 2/a = {2 / problem.a:g}, got {lr!r}")
    return lr * problem.a * problem.spread / (2 - lr * problem.a)


def _errors(
    problem: ShiftedSquares,
    lr: float,
    steps: int,
    chains: int,
    seed: int,
    sampling: str,
    every: int,
) -> np.ndarray:
    rng = np.random.default_rng(_validate.seed("seed", seed))
    n = problem.n
    c = problem.centers - problem.minimizer
    if sampling == "replacement":
        idx = rng.integers(n, size=(chains, steps))
    elif sampling == "shuffle":
        epochs = -(-steps // n)
        idx = np.concatenate(
            [rng.permuted(np.tile(np.arange(n), (chains, 1)), axis=1) for _ in range(epochs)],
            axis=1,
        )[:, :steps]
    else:
        raise ValueError(f"sampling must be 'replacement' or 'shuffle', got {sampling!r}")
    e = np.zeros(chains)  # start every chain at the minimiser
    q = 1.0 - lr * problem.a
    out = []
    for k in range(steps):
        e = q * e + lr * problem.a * c[idx[:, k]]
        _divergence.check("x - x*", e, k + 1)
        if (k + 1) % every == 0:
            out.append(e.copy())
    return np.array(out)


def noise_ball(
    problem: ShiftedSquares,
    lr: float,
    steps: int = 4000,
    burn_in: int = 1000,
    chains: int = 200,
    seed: int = 0,
) -> float:
    r"""Measured stationary :math:`\mathbb E(x_k - x^\ast)^2` of constant-step SGD (with replacement).

    Runs ``chains`` independent chains from the minimiser and averages the squared error over
    the chains and over the steps after ``burn_in``. A chain crossing
    :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD` (``lr * a > 2``) raises
    :class:`~sgdbook.divergence.DivergenceError`.

    Raises:
        ValueError: ``lr`` not finite or ``<= 0``, ``steps < 1``, ``burn_in < 0`` or
            ``>= steps``, ``chains < 1``.
        TypeError: ``steps``, ``burn_in`` or ``chains`` not an integer, ``lr`` not a number.
    """
    _validate.instance("problem", problem, ShiftedSquares)
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=1)
    burn_in = _validate.integer("burn_in", burn_in, minimum=0)
    chains = _validate.integer("chains", chains, minimum=1)
    if burn_in >= steps:
        raise ValueError(f"burn_in must be < steps, got {burn_in} >= {steps}")
    E = _errors(problem, lr, steps, chains, seed, "replacement", 1)
    return float(np.mean(E[burn_in:] ** 2))


def reshuffle_theory(problem: ShiftedSquares, lr: float) -> float:
    r"""Stationary :math:`\mathbb E(x - x^\ast)^2` at epoch ends under one shuffled pass per epoch.

    With :math:`q = 1 - \eta a` and weights :math:`w_j = q^{n-1-j}`, one epoch maps the error
    :math:`e` to :math:`q^n e + \eta a \sum_j w_j (c_{\pi(j)} - \bar c)`; for a uniform random
    permutation :math:`\pi` the sum has variance
    :math:`\sigma^2 \frac{n}{n-1} \sum_j (w_j - \bar w)^2`, hence the fixed point
    :math:`\eta^2 a^2 \sigma^2 \frac{n}{n-1}\sum_j (w_j-\bar w)^2 / (1 - q^{2n})`.

    Raises:
        ValueError: ``lr`` not in (0, 2/a) or fewer than two components.
    """
    _validate.instance("problem", problem, ShiftedSquares)
    lr = _validate.positive("lr", lr)
    if lr * problem.a >= 2:
        raise ValueError(f"lr must be < 2/a = {2 / problem.a:g}, got {lr!r}")
    n = problem.n
    if n < 2:
        raise ValueError("need at least two components")
    q = 1.0 - lr * problem.a
    w = q ** np.arange(n - 1, -1, -1, dtype=float)
    var_sum = problem.spread * n / (n - 1) * float(np.sum((w - w.mean()) ** 2))
    return (lr * problem.a) ** 2 * var_sum / (1.0 - q ** (2 * n))


def epoch_end_errors(
    problem: ShiftedSquares, lr: float, epochs: int, sampling: str, chains: int = 200, seed: int = 0
) -> np.ndarray:
    r"""Mean squared error :math:`\mathbb E(x - x^\ast)^2` at the end of each epoch, over chains.

    Every chain starts at the minimiser, so the curves show the noise alone.

    Args:
        problem: the quadratic finite sum.
        lr: step size.
        epochs: number of epochs (``n`` steps each).
        sampling: ``"replacement"`` or ``"shuffle"``.
        chains: number of independent chains.
        seed: seed of the generator of all chains' indices.

    Returns:
        Array of length ``epochs``.

    Raises:
        ValueError: ``lr`` not finite or ``<= 0``, ``epochs < 1`` or ``chains < 1``.
        TypeError: ``epochs`` or ``chains`` not an integer, ``lr`` not a number.
    """
    _validate.instance("problem", problem, ShiftedSquares)
    lr = _validate.positive("lr", lr)
    epochs = _validate.integer("epochs", epochs, minimum=1)
    chains = _validate.integer("chains", chains, minimum=1)
    E = _errors(problem, lr, epochs * problem.n, chains, seed, sampling, problem.n)
    return np.mean(E**2, axis=1)


# ---------------------------------------------------------------- logistic regression (torch)


def two_gaussians(n_per_class: int, flips: int, seed: int, std: float = 0.9):
    """Two Gaussian classes in the plane, label 0 around (-1, -1) and label 1 around (1, 1).

    ``flips`` labels, chosen uniformly without replacement, are then flipped. Everything is
    drawn from ``numpy.random.default_rng(seed)``: class-0 points, class-1 points, flip indices.

    Returns:
        ``(X, y)`` as float32 NumPy arrays of shapes ``(2 n, 2)`` and ``(2 n,)``.

    Raises:
        ValueError: ``n_per_class < 1``, ``flips < 0`` or ``> 2 * n_per_class``, ``std`` not
            finite or ``<= 0``, ``seed < 0``.
        TypeError: ``n_per_class``, ``flips`` or ``seed`` not an integer, ``std`` not a number.
    """
    n = _validate.integer("n_per_class", n_per_class, minimum=1)
    flips = _validate.integer("flips", flips, minimum=0)
    if flips > 2 * n:
        raise ValueError(f"flips must be <= {2 * n}, got {flips}")
    std = _validate.positive("std", std)
    rng = np.random.default_rng(_validate.seed("seed", seed))
    X0 = rng.normal(-1.0, std, size=(n, 2))
    X1 = rng.normal(1.0, std, size=(n, 2))
    X = np.vstack([X0, X1]).astype(np.float32)
    y = np.concatenate([np.zeros(n), np.ones(n)]).astype(np.float32)
    flip = rng.choice(2 * n, size=flips, replace=False)
    y[flip] = 1.0 - y[flip]
    return X, y


@dataclass(frozen=True)
class LogisticHistory:
    """Per-epoch training loss, training accuracy and test accuracy (index 0: before training).

    ``a`` and ``b`` are the final parameters, ``updates`` the number of SGD steps taken.
    """

    batch_size: int
    loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    a: np.ndarray
    b: float
    updates: int


def _check_loop(a, b, X, y, loss_fn, batch_size, lr, epochs, generator, evaluate):
    """The argument checks of :func:`logistic_sgd_loop` (kept apart so that its printed source
    in chapter 3 shows the loop)."""
    import torch

    X = _validate.tensor("X", X, ndim=2)
    y = _validate.tensor("y", y, ndim=1)
    _validate.same_length("X", X, "y", y)
    a = _validate.tensor("a", a, ndim=1)
    if a.shape[0] != X.shape[1] or not a.requires_grad:
        raise ValueError(
            f"a must be a leaf of shape ({X.shape[1]},) with requires_grad, "
            f"got shape {tuple(a.shape)}"
        )
    b = _validate.tensor("b", b, ndim=(0, 1))
    if b.numel() != 1 or not b.requires_grad:
        raise ValueError(f"b must be one number with requires_grad, got shape {tuple(b.shape)}")
    loss_fn = _validate.callable_("loss_fn", loss_fn)
    evaluate = _validate.callable_("evaluate", evaluate)
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    lr = _validate.positive("lr", lr)
    epochs = _validate.integer("epochs", epochs, minimum=0)
    generator = _validate.instance("generator", generator, torch.Generator)
    return batch_size, lr, epochs


def logistic_sgd_loop(
    a,
    b,
    X,
    y,
    loss_fn,
    *,
    batch_size: int,
    lr: float,
    epochs: int,
    generator,
    evaluate: Callable[[], tuple],
) -> tuple[list, int]:
    """The loop of :func:`train_logistic` (chapter 3 prints it): history and update count."""
    import torch

    batch_size, lr, epochs = _check_loop(
        a, b, X, y, loss_fn, batch_size, lr, epochs, generator, evaluate
    )
    n = X.shape[0]
    hist = [evaluate()]
    updates = 0
    for _ in range(epochs):
        perm = torch.randperm(n, generator=generator).to(X.device)
        for start in range(0, n, batch_size):
            batch = perm[start : start + batch_size]
            loss = loss_fn(X[batch] @ a + b, y[batch])
            loss.backward()
            with torch.no_grad():  # the plain SGD step, p <- p - lr * grad
                for p in (a, b):
                    p -= lr * p.grad
                    p.grad = None
            updates += 1
        hist.append(evaluate())
    return hist, updates


def train_logistic(
    X_train,
    y_train,
    X_test,
    y_test,
    batch_size: int,
    lr: float = 0.02,
    epochs: int = 100,
    seed: int = 0,
    device=None,
) -> LogisticHistory:
    r"""Logistic regression :math:`p(y=1\mid x) = \sigma(a^\top x + b)` trained by mini-batch SGD.

    The standard PyTorch loop with ``BCEWithLogitsLoss`` (mean over the batch) and the plain
    SGD update written out, ``p -= lr * p.grad`` for each parameter (what
    ``torch.optim.SGD(params, lr=lr)`` does without momentum or weight decay; written out
    because constructing a ``torch.optim`` optimizer the first time costs seconds of imports).
    The start is :math:`a = (-1, -1)`, :math:`b = 0`; every epoch visits
    the training set once in an order given by ``torch.randperm`` with a generator seeded by
    ``seed``. After every epoch it records the loss and accuracy on the whole training set and
    the accuracy on the test set, which is never used for training. On the CPU the work runs on
    one thread (the tensors are tiny, and a thread pool only adds synchronisation, which on a busy
    machine costs more than the arithmetic); the previous thread count is restored on return.

    Args:
        X_train: training inputs, shape ``(n, 2)``.
        y_train: training labels in {0, 1}.
        X_test: test inputs.
        y_test: test labels.
        batch_size: examples per update (``n`` gives full-batch gradient descent).
        lr: learning rate.
        epochs: number of passes.
        seed: seed of the shuffling generator.
        device: torch device; :func:`sgdbook.device.get_device` when omitted.

    Returns:
        The :class:`LogisticHistory`.

    Raises:
        ValueError: ``X_train``/``X_test`` not of shape ``(n, 2)``, empty or not finite, labels
            not in {0, 1} or of another length,
            ``batch_size`` outside ``1..n``, ``lr`` not finite or ``<= 0``, ``epochs`` or
            ``seed`` negative.
        TypeError: data not real arrays, ``batch_size``, ``epochs`` or ``seed`` not an integer,
            ``lr`` not a number, ``device`` not a device.
    """
    import torch

    from ..device import get_device

    device = get_device() if device is None else _validate.device("device", device)
    for name, value, ndim in (
        ("X_train", X_train, 2),
        ("y_train", y_train, 1),
        ("X_test", X_test, 2),
        ("y_test", y_test, 1),
    ):
        arr = _validate.array(name, value, ndim=ndim)
        if ndim == 2 and arr.shape[1] != 2:
            raise ValueError(f"{name} must have shape (n, 2), got {arr.shape}")
        if ndim == 1 and not np.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} must hold labels in {{0, 1}}")
    Xtr = torch.as_tensor(np.asarray(X_train, dtype=np.float32), device=device)
    ytr = torch.as_tensor(np.asarray(y_train, dtype=np.float32), device=device)
    Xte = torch.as_tensor(np.asarray(X_test, dtype=np.float32), device=device)
    yte = torch.as_tensor(np.asarray(y_test, dtype=np.float32), device=device)
    if Xtr.ndim != 2 or Xtr.shape[1] != 2 or ytr.shape != (Xtr.shape[0],):
        raise ValueError(
            f"need X_train of shape (n, 2) and y_train of shape (n,), got "
            f"{tuple(Xtr.shape)} and {tuple(ytr.shape)}"
        )
    if Xte.ndim != 2 or Xte.shape[1] != 2 or yte.shape != (Xte.shape[0],):
        raise ValueError(
            f"need X_test of shape (m, 2) and y_test of shape (m,), got "
            f"{tuple(Xte.shape)} and {tuple(yte.shape)}"
        )
    n = Xtr.shape[0]
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= n = {n}, got {batch_size}")
    lr = _validate.positive("lr", lr)
    epochs = _validate.integer("epochs", epochs, minimum=0)
    gen = torch.Generator().manual_seed(_validate.seed("seed", seed))

    a = torch.tensor([-1.0, -1.0], device=device, requires_grad=True)
    b = torch.tensor(0.0, device=device, requires_grad=True)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def evaluate() -> tuple[float, float, float]:
        with torch.no_grad():
            z = Xtr @ a + b
            loss = loss_fn(z, ytr).item()
            tr = ((z > 0).float() == ytr).float().mean().item()
            te = (((Xte @ a + b) > 0).float() == yte).float().mean().item()
        return loss, tr, te

    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        hist, updates = logistic_sgd_loop(
            a,
            b,
            Xtr,
            ytr,
            loss_fn,
            batch_size=batch_size,
            lr=lr,
            epochs=epochs,
            generator=gen,
            evaluate=evaluate,
        )
    finally:
        torch.set_num_threads(threads)
    H = np.array(hist)
    return LogisticHistory(
        batch_size,
        H[:, 0],
        H[:, 1],
        H[:, 2],
        a.detach().cpu().numpy().astype(float),
        float(b.item()),
        updates,
    )
