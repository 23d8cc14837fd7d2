r"""Two-dimensional loss landscapes: grid evaluation, contour plots with GD paths, examples.

* :func:`grid_values` evaluates an objective on a grid (vectorised when the objective offers
  ``values``, as the classes here and :class:`~sgdbook.problems.objectives.Quadratic` do).
* :func:`plot_contour_with_paths` draws the contour lines of a 2-D objective and the paths of
  one or more runs on a given matplotlib axis; chapters on the learning rate and on momentum
  reuse it.
* :class:`TiltedDoubleWell` is a smooth non-convex function with a global minimum, a local
  minimum and a saddle point, all known in closed form.
* :class:`LogCoshQuadratic` is a non-quadratic strongly convex function whose global constants
  :math:`\mu` and :math:`L` are known exactly and attained, so the rate theorems of chapter 1 can
  be checked where they are tight.
* :class:`LogisticLoss` is the (ridge-regularised) logistic-regression loss of a small data set:
  convex, non-quadratic, with known smoothness and strong-convexity constants.
* :func:`saddle`: :math:`f(x, y) = \tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2`, a saddle point
  at the origin and minima :math:`(0, \pm 1)` with :math:`f = -\tfrac14`. Started at
  :math:`y_0 = 10^{-6}`, the gradient along :math:`y` is about :math:`-y`: tiny.
* :func:`plateau`: :math:`f(x, y) = 1 - \exp(-(x^2 + y^2)/2)`, flat far from its minimum at
  the origin: at radius :math:`r` the gradient has norm :math:`r e^{-r^2/2}`.
  :func:`escape_step` finds when a run's loss first drops below a level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import validation as _validate
from .objectives import FunctionObjective, Quadratic

__all__ = [
    "grid_values",
    "contour_levels",
    "plot_contour_with_paths",
    "TiltedDoubleWell",
    "CriticalPoint",
    "LogisticLoss",
    "LogCoshQuadratic",
    "two_gaussians",
    "saddle",
    "plateau",
    "escape_step",
]


def _limits(name: str, lim) -> tuple[float, float]:
    try:
        lo, hi = lim
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a pair (low, high), got {lim!r}") from exc
    lo, hi = _validate.real(f"{name}[0]", lo), _validate.real(f"{name}[1]", hi)
    if not lo < hi:
        raise ValueError(f"{name} must satisfy low < high, got {lim!r}")
    return lo, hi


def grid_values(objective, xlim, ylim, n: int = 201) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate a two-dimensional objective on an ``n`` by ``n`` grid.

    Args:
        objective: anything with ``value(x)`` for ``x`` of length 2; if it also has
            ``values(points)`` (points of shape ``(m, 2)``) that is used instead (faster).
        xlim: ``(low, high)`` range of the first coordinate.
        ylim: ``(low, high)`` range of the second coordinate.
        n: grid points per axis (>= 2).

    Returns:
        ``(X, Y, Z)``, each of shape ``(n, n)``, ready for ``ax.contour(X, Y, Z)``.

    Raises:
        ValueError: bad limits or ``n < 2``.
        TypeError: limits that are not pairs of numbers.
    """
    _validate.objective("objective", objective, methods=("value",))
    x0, x1 = _limits("xlim", xlim)
    y0, y1 = _limits("ylim", ylim)
    n = _validate.integer("n", n, minimum=2)
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    pts = np.column_stack([X.ravel(), Y.ravel()])
    if isinstance(objective, Quadratic):
        if objective.dim != 2:
            raise ValueError(f"objective must be two-dimensional, got dimension {objective.dim}")
        z = 0.5 * np.einsum("ni,ij,nj->n", pts, objective.A, pts) - pts @ objective.b + objective.c
    elif hasattr(objective, "values"):
        z = np.asarray(objective.values(pts), dtype=float)
    else:
        z = np.array([objective.value(p) for p in pts])
    return X, Y, z.reshape(X.shape)


def contour_levels(Z, count: int = 12, *, quantile: float = 0.9) -> np.ndarray:
    r"""Contour levels that look evenly spaced for bowl-shaped functions.

    Levels are :math:`z_{\min} + (z_q - z_{\min})\,t^2` for ``count`` values of :math:`t` evenly
    spaced in :math:`(0, 1]`, where :math:`z_q` is the ``quantile`` of ``Z``: for a quadratic
    this spaces the ellipses evenly in "radius" instead of crowding them at the edge.

    Args:
        Z: grid values (any shape).
        count: number of levels (>= 1).
        quantile: which quantile of ``Z`` the highest level sits at, in ``(0, 1]``.

    Returns:
        Increasing array of ``count`` levels.

    Raises:
        ValueError: ``count < 1``, ``quantile`` outside ``(0, 1]``, or constant ``Z``.
    """
    Z = _validate.array("Z", Z, finite=False)
    count = _validate.integer("count", count, minimum=1)
    quantile = _validate.positive("quantile", quantile)
    if quantile > 1:
        raise ValueError(f"quantile must be in (0, 1], got {quantile!r}")
    zmin, ztop = float(np.min(Z)), float(np.quantile(Z, quantile))
    if not ztop > zmin:
        raise ValueError("Z is constant below the chosen quantile; no contour levels to draw")
    t = np.linspace(0, 1, count + 1)[1:]
    return zmin + (ztop - zmin) * t**2


def plot_contour_with_paths(
    ax,
    objective,
    paths: Mapping[str, np.ndarray] | Sequence[np.ndarray] = (),
    *,
    xlim,
    ylim,
    levels: int | Sequence[float] = 12,
    n: int = 201,
    colors: Sequence[str] | None = None,
    markersize: float = 3.5,
    equal_aspect: bool = True,
    points: Mapping[str, Sequence[float]] | None = None,
):
    """Draw the contour lines of a 2-D objective and the paths of runs on ``ax``.

    Each path is drawn as a line through its iterates (small dots), its start as a hollow
    square and its end as a filled circle. Paths and special points get legend entries when
    given as mappings (label to array); the caller calls ``ax.legend()`` if wanted.

    Args:
        ax: a matplotlib ``Axes``.
        objective: a two-dimensional objective (see :func:`grid_values`).
        paths: iterates of shape ``(k + 1, 2)`` each (e.g. ``Trajectory.xs``), as a mapping
            from legend label to array, or as a plain sequence.
        xlim: ``(low, high)`` of the first coordinate.
        ylim: ``(low, high)`` of the second coordinate.
        levels: number of levels (see :func:`contour_levels`) or the levels themselves.
        n: grid points per axis.
        colors: one colour per path; the book's palette when omitted.
        markersize: size of the iterate dots.
        equal_aspect: draw both axes to the same scale, so that angles (the zig-zag of GD
            and the orthogonality of gradients to contour lines) are seen undistorted.
        points: optional mapping from label to a point, marked with a black star (minimisers,
            saddle points).

    Returns:
        The ``QuadContourSet`` of the contour lines.

    Raises:
        ValueError: a path that is not of shape ``(k + 1, 2)``, or bad limits.
    """
    from ..plotting import PALETTE

    if not callable(getattr(ax, "contour", None)):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    markersize = _validate.positive("markersize", markersize)
    equal_aspect = _validate.boolean("equal_aspect", equal_aspect)
    if not isinstance(paths, Mapping) and (
        isinstance(paths, (str, bytes)) or not hasattr(paths, "__iter__")
    ):
        raise TypeError(f"paths must be a mapping or a sequence of arrays, got {paths!r:.60}")
    X, Y, Z = grid_values(objective, xlim, ylim, n)
    lv = contour_levels(Z, levels) if np.ndim(levels) == 0 else np.asarray(levels, dtype=float)
    cs = ax.contour(X, Y, Z, levels=lv, colors="0.6", linewidths=0.8, linestyles="solid")
    if isinstance(paths, Mapping):
        items = list(paths.items())
    else:
        items = [(None, p) for p in paths]
    colors = list(colors) if colors is not None else PALETTE
    for i, (label, path) in enumerate(items):
        p = np.asarray(path, dtype=float)
        if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
            raise ValueError(f"paths: each path must have shape (k + 1, 2), got {p.shape}")
        c = colors[i % len(colors)]
        ax.plot(p[:, 0], p[:, 1], "-o", color=c, ms=markersize, lw=1.2, label=label)
        ax.plot(p[0, 0], p[0, 1], "s", ms=7, mfc="white", mec=c, mew=1.5)
        ax.plot(p[-1, 0], p[-1, 1], "o", ms=6, color=c)
    for label, pt in (points or {}).items():
        pt = _validate.vector("point", pt, dim=2)
        ax.plot(pt[0], pt[1], "*", ms=12, color="black", mec="white", mew=0.6, label=label)
    ax.set_xlim(*_limits("xlim", xlim))
    ax.set_ylim(*_limits("ylim", ylim))
    if equal_aspect:
        ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return cs


@dataclass(frozen=True)
class CriticalPoint:
    """A point where the gradient vanishes, with its kind and the Hessian's eigenvalues."""

    x: np.ndarray
    value: float
    kind: str
    hessian_eigenvalues: np.ndarray


@dataclass(frozen=True)
class TiltedDoubleWell:
    r"""The non-convex :math:`f(x) = \tfrac14 x_1^4 - \tfrac12 x_1^2 + t\,x_1 + \tfrac{c}{2} x_2^2`.

    Along :math:`x_1` it is a double well tilted by :math:`t`; along :math:`x_2` a parabola.
    For :math:`|t| < 2/(3\sqrt3) \approx 0.385` it has three critical points on the axis
    :math:`x_2 = 0`, at the roots of :math:`x_1^3 - x_1 + t = 0`: a global minimum (on the side
    the tilt lowers), a local minimum, and between them a saddle point (a maximum along
    :math:`x_1`, a minimum along :math:`x_2`).

    Args:
        tilt: :math:`t` (default 0.3).
        curvature: :math:`c > 0` (default 1).

    Raises:
        ValueError: ``curvature`` not positive or ``tilt`` not finite.
    """

    tilt: float = 0.3
    curvature: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "tilt", _validate.real("tilt", self.tilt))
        object.__setattr__(self, "curvature", _validate.positive("curvature", self.curvature))

    def value(self, x) -> float:
        """f(x) for a point of length 2."""
        x1, x2 = _validate.vector("x", x, dim=2)
        return float(0.25 * x1**4 - 0.5 * x1**2 + self.tilt * x1 + 0.5 * self.curvature * x2**2)

    def values(self, points) -> np.ndarray:
        """f at each row of ``points`` (shape ``(m, 2)``)."""
        p = np.asarray(points, dtype=float)
        x1, x2 = p[:, 0], p[:, 1]
        return 0.25 * x1**4 - 0.5 * x1**2 + self.tilt * x1 + 0.5 * self.curvature * x2**2

    def grad(self, x) -> np.ndarray:
        """The gradient :math:`(x_1^3 - x_1 + t,\\; c\\,x_2)`."""
        x = np.asarray(x, dtype=float)
        return np.array([x[0] ** 3 - x[0] + self.tilt, self.curvature * x[1]])

    def hessian(self, x) -> np.ndarray:
        """The Hessian :math:`\\mathrm{diag}(3x_1^2 - 1, c)`."""
        x = np.asarray(x, dtype=float)
        return np.diag([3 * x[0] ** 2 - 1, self.curvature])

    def smoothness_on_sublevel_set(self, level) -> tuple[float, float]:
        r"""A smoothness constant valid wherever :math:`f \le` ``level``.

        The sublevel set lies in the band :math:`|x_1| \le R`, where :math:`R` is the largest
        :math:`|x_1|` with :math:`\tfrac14 x_1^4 - \tfrac12 x_1^2 + t x_1 \le` ``level``; on that
        (convex) band the Hessian :math:`\mathrm{diag}(3x_1^2 - 1, c)` has spectral norm at most
        :math:`L_R = \max(3R^2 - 1, 1, c)`. Gradient descent with :math:`\eta \le 1/L_R` started at
        ``level = f(x_0)`` never leaves the sublevel set, so the descent lemma holds along its run.

        Args:
            level: the level (finite, at least the global minimum value).

        Returns:
            ``(R, L_R)``.

        Raises:
            ValueError: ``level`` below the minimum value (the sublevel set is empty).
        """
        level = _validate.real("level", level)
        roots = np.roots([0.25, 0.0, -0.5, self.tilt, -level])
        # at level == min f the edge is a double root, which np.roots returns as a pair with a
        # small imaginary part (about sqrt(machine epsilon) relative): accept those
        real = roots[np.abs(roots.imag) <= 1e-6 * np.maximum(1.0, np.abs(roots))].real
        if real.size == 0:
            raise ValueError(f"level must be >= the minimum value of f, got {level!r}")
        R = float(np.max(np.abs(real)))
        return R, float(max(3 * R**2 - 1, 1.0, self.curvature))

    def critical_points(self) -> list[CriticalPoint]:
        """All critical points, sorted by :math:`x_1`, each classified by its Hessian.

        Returns:
            A list of :class:`CriticalPoint` with ``kind`` one of ``"全局极小点"``,
            ``"局部极小点"``, ``"鞍点"``.
        """
        roots = np.roots([1.0, 0.0, -1.0, self.tilt])
        real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
        # polish with Newton's method (np.roots is accurate to ~1e-15 relative, make it exact-ish)
        for _ in range(3):
            real = real - (real**3 - real + self.tilt) / (3 * real**2 - 1)
        pts = [np.array([r, 0.0]) for r in real]
        vals = [self.value(p) for p in pts]
        fmin = min(v for p, v in zip(pts, vals) if 3 * p[0] ** 2 - 1 > 0)
        out = []
        for p, v in zip(pts, vals):
            eig = np.linalg.eigvalsh(self.hessian(p))
            if eig[0] < 0:
                kind = "鞍点"
            elif v <= fmin + 1e-12:
                kind = "全局极小点"
            else:
                kind = "局部极小点"
            out.append(CriticalPoint(p, v, kind, eig))
        return out


@dataclass(frozen=True)
class LogCoshQuadratic:
    r"""The strongly convex, non-quadratic :math:`f(x) = \tfrac12(\mu x_1^2 + L x_2^2) + \delta\,(\tfrac12 x_1^2 - \log\cosh x_1)`.

    Its Hessian is :math:`\mathrm{diag}(\mu + \delta\tanh^2 x_1,\ L)`. Since
    :math:`\tanh^2 x_1 \in [0, 1)`, the curvature along :math:`x_1` runs from :math:`\mu` (at
    :math:`x_1 = 0`) towards :math:`\mu + \delta` (for :math:`|x_1|\to\infty`); with
    :math:`L \ge \mu + \delta` the function is :math:`\mu`-strongly convex and :math:`L`-smooth
    with both constants the best ones (attained at the minimiser, the origin, where
    :math:`f = 0`). Far from the origin along :math:`x_1` it behaves like a quadratic of curvature
    :math:`\mu + \delta`, near it like one of curvature :math:`\mu`.

    Args:
        mu: :math:`\mu > 0` (default 0.2).
        L: :math:`L \ge \mu + \delta` (default 4).
        delta: :math:`\delta \ge 0` (default 1).

    Raises:
        ValueError: an argument out of range, or :math:`L < \mu + \delta` (then :math:`L` would
            not be a smoothness constant).
    """

    mu: float = 0.2
    L: float = 4.0
    delta: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu", _validate.positive("mu", self.mu))
        object.__setattr__(self, "L", _validate.positive("L", self.L))
        object.__setattr__(self, "delta", _validate.nonnegative("delta", self.delta))
        if self.L < self.mu + self.delta:
            raise ValueError(f"L must be >= mu + delta = {self.mu + self.delta:g}, got {self.L!r}")

    dim = 2

    @property
    def condition_number(self) -> float:
        r""":math:`\kappa = L/\mu`."""
        return self.L / self.mu

    @staticmethod
    def _log_cosh(t):
        t = np.abs(t)
        return t + np.log1p(np.exp(-2.0 * t)) - np.log(2.0)  # stable for large |t|

    def value(self, x) -> float:
        """f(x) for a point of length 2."""
        x1, x2 = _validate.vector("x", x, dim=2)
        return float(self.values(np.array([[x1, x2]]))[0])

    def values(self, points) -> np.ndarray:
        """f at each row of ``points`` (shape ``(m, 2)``)."""
        p = np.asarray(points, dtype=float)
        x1, x2 = p[:, 0], p[:, 1]
        return 0.5 * (self.mu * x1**2 + self.L * x2**2) + self.delta * (
            0.5 * x1**2 - self._log_cosh(x1)
        )

    def grad(self, x) -> np.ndarray:
        r"""The gradient :math:`(\mu x_1 + \delta(x_1 - \tanh x_1),\; L x_2)`."""
        x = np.asarray(x, dtype=float)
        return np.array([self.mu * x[0] + self.delta * (x[0] - np.tanh(x[0])), self.L * x[1]])

    def hessian(self, x) -> np.ndarray:
        r"""The Hessian :math:`\mathrm{diag}(\mu + \delta\tanh^2 x_1,\ L)`."""
        x = np.asarray(x, dtype=float)
        return np.diag([self.mu + self.delta * np.tanh(x[0]) ** 2, self.L])

    def minimizer(self) -> np.ndarray:
        """The minimiser, the origin."""
        return np.zeros(2)

    def min_value(self) -> float:
        """The minimum value, 0."""
        return 0.0


def two_gaussians(
    n_per_class: int = 50, *, seed: int = 0, separation: float = 1.0, std: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """A two-class data set in the plane: centres ``±(separation, separation)``.

    Args:
        n_per_class: points per class (>= 1).
        seed: seed of the NumPy generator.
        separation: coordinate of the positive class's centre (> 0).
        std: standard deviation of each coordinate (> 0).

    Returns:
        ``(X, y)``: ``X`` of shape ``(2 n, 2)``, labels ``y`` in ``{-1, +1}``.

    Raises:
        ValueError: an argument out of range.
    """
    n = _validate.integer("n_per_class", n_per_class, minimum=1)
    separation = _validate.positive("separation", separation)
    std = _validate.positive("std", std)
    g = np.random.default_rng(_validate.seed("seed", seed))
    pos = g.normal(separation, std, size=(n, 2))
    neg = g.normal(-separation, std, size=(n, 2))
    X = np.vstack([pos, neg])
    y = np.concatenate([np.ones(n), -np.ones(n)])
    return X, y


@dataclass(frozen=True)
class LogisticLoss:
    r"""Ridge-regularised logistic loss :math:`f(w) = \frac1n\sum_i \log(1 + e^{-y_i x_i^\top w}) + \frac{\lambda}{2}\|w\|^2`.

    Convex and :math:`L`-smooth with :math:`L = \lambda + \|X\|_2^2/(4n)` (because
    :math:`0 < \sigma'(t) \le 1/4`), and :math:`\mu`-strongly convex with :math:`\mu = \lambda`;
    unlike a quadratic, its curvature changes from point to point.

    Args:
        X: inputs, shape ``(n, d)``.
        y: labels in ``{-1, +1}``, shape ``(n,)``.
        reg: :math:`\lambda > 0`.

    Raises:
        ValueError: shapes that do not match, labels other than ±1, or ``reg`` not positive.
    """

    X: np.ndarray
    y: np.ndarray
    reg: float = 0.1
    _w_star: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        X = np.asarray(self.X, dtype=float)
        if X.ndim != 2 or X.shape[0] == 0 or not np.all(np.isfinite(X)):
            raise ValueError(f"X must be a finite (n, d) array, got shape {X.shape}")
        y = _validate.vector("y", self.y, dim=X.shape[0])
        if not np.all(np.isin(y, (-1.0, 1.0))):
            raise ValueError("y must hold labels -1 and +1 only")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "reg", _validate.positive("reg", self.reg))
        object.__setattr__(self, "_w_star", self._newton())

    @property
    def dim(self) -> int:
        """Number of parameters ``d``."""
        return self.X.shape[1]

    @property
    def L(self) -> float:
        """Smoothness constant :math:`\\lambda + \\|X\\|_2^2 / (4n)`."""
        n = self.X.shape[0]
        return self.reg + float(np.linalg.norm(self.X, 2) ** 2) / (4 * n)

    @property
    def mu(self) -> float:
        """Strong-convexity constant :math:`\\lambda`."""
        return self.reg

    def value(self, w) -> float:
        """f(w)."""
        w = np.asarray(w, dtype=float)
        margins = self.y * (self.X @ w)
        return float(np.mean(np.logaddexp(0.0, -margins)) + 0.5 * self.reg * w @ w)

    def values(self, points) -> np.ndarray:
        """f at each row of ``points`` (shape ``(m, d)``)."""
        W = np.asarray(points, dtype=float)
        margins = (W @ self.X.T) * self.y[None, :]
        return np.mean(np.logaddexp(0.0, -margins), axis=1) + 0.5 * self.reg * np.sum(W**2, axis=1)

    def grad(self, w) -> np.ndarray:
        """The gradient :math:`-\\frac1n\\sum_i \\sigma(-y_i x_i^\\top w)\\,y_i x_i + \\lambda w`."""
        w = np.asarray(w, dtype=float)
        margins = self.y * (self.X @ w)
        s = 0.5 * (1.0 - np.tanh(0.5 * margins))  # sigma(-m), overflow-free
        return -(self.X.T @ (s * self.y)) / self.X.shape[0] + self.reg * w

    def hessian(self, w) -> np.ndarray:
        """The Hessian :math:`\\frac1n X^\\top \\mathrm{diag}(\\sigma(m)\\sigma(-m)) X + \\lambda I`."""
        w = np.asarray(w, dtype=float)
        margins = self.y * (self.X @ w)
        s = 0.5 * (1.0 - np.tanh(0.5 * margins))
        weights = s * (1.0 - s)
        return (self.X.T * weights) @ self.X / self.X.shape[0] + self.reg * np.eye(self.dim)

    def _newton(self) -> np.ndarray:
        w = np.zeros(self.dim)
        for _ in range(100):
            step = np.linalg.solve(self.hessian(w), self.grad(w))
            w = w - step
            if np.linalg.norm(step) < 1e-15 * max(1.0, np.linalg.norm(w)):
                break
        if np.linalg.norm(self.grad(w)) > 1e-9:  # pragma: no cover - not seen with reg > 0
            raise RuntimeError("Newton's method did not find the minimiser of the logistic loss")
        return w

    def minimizer(self) -> np.ndarray:
        """The unique minimiser, computed once by Newton's method to machine precision."""
        return self._w_star.copy()

    def min_value(self) -> float:
        """f at the minimiser."""
        return self.value(self._w_star)


# --- Saddle and plateau (chapter 5) ------------------------------------------------------------


def _saddle_f(p: np.ndarray) -> float:
    x, y = p
    return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2


def _saddle_df(p: np.ndarray) -> np.ndarray:
    x, y = p
    return np.array([x, y**3 - y])


def _plateau_f(p: np.ndarray) -> float:
    return 1.0 - np.exp(-0.5 * float(p @ p))


def _plateau_df(p: np.ndarray) -> np.ndarray:
    return p * np.exp(-0.5 * float(p @ p))


def saddle() -> FunctionObjective:
    r""":math:`\tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2` (saddle at 0, minima at :math:`(0,\pm1)`, value :math:`-\tfrac14`)."""
    return FunctionObjective(_saddle_f, _saddle_df, name="saddle")


def plateau() -> FunctionObjective:
    r""":math:`1 - e^{-(x^2+y^2)/2}` (minimum 0 at the origin, nearly flat for :math:`r \gtrsim 3`)."""
    return FunctionObjective(_plateau_f, _plateau_df, name="plateau")


def escape_step(losses, level: float) -> int | None:
    """First index at which ``losses`` is at or below ``level`` (``None`` if never).

    ``losses`` may hold ``inf``/``nan`` (a divergent run never escapes) and may be empty.

    Raises:
        TypeError, ValueError: ``losses`` is not a one-dimensional real array, ``level`` not a
            finite number.
    """
    losses = _validate.array("losses", losses, ndim=1, min_size=0, finite=False)
    level = _validate.real("level", level)
    hit = np.flatnonzero(losses <= level)
    return int(hit[0]) if hit.size else None
