r"""Chapter 3 (:doc:`/sgd`): the convergence theory of SGD, its constants, and runs to check it.

The test problem is :class:`DiagonalQuadraticSum`,
:math:`f_i(x) = \tfrac12\sum_j h_{ij}(x_j - c_{ij})^2`, on which every constant of the theory is
known in closed form: the smoothness :math:`L` and strong convexity :math:`\mu` of :math:`f`, the
componentwise smoothness :math:`L_{\max}`, and the pair :math:`(M, M_G)` of the second-moment
bound :math:`\mathbb E_i\|\nabla f_i(x)\|^2 \le M + M_G\|\nabla f(x)\|^2` (Bottou, Curtis &
Nocedal 2018, assumption 4.3 with unbiased gradients). Its expected SGD error also follows an
exact recursion (:meth:`DiagonalQuadraticSum.expected_excess`).

* bounds: :func:`fixed_step_bound` (their theorem 4.6), :func:`diminishing_step_bound`
  (theorem 4.7), :func:`nonconvex_bound` (theorem 4.8) with :func:`sin_example_constants`,
  :func:`interpolation_bound`, :func:`svrg_rate`, :func:`robbins_monro_envelope`,
  :func:`averaging_bounds`, and the work counts :func:`gd_work` and :func:`sgd_work`;
* runs, vectorised over independent chains: :func:`sgd_chains` (any step schedule, optional
  iterate averaging), :func:`gd_run`, :func:`svrg_chains`, and :func:`sin_grad_norms` for the
  nonconvex example.

Runs report divergence as the rest of the book does: the run stops, ``diverged`` is set and
``status()`` gives :func:`sgdbook.theory.gd.divergence_message`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import validation as _validate
from .gd import DIVERGENCE_THRESHOLD, divergence_message

__all__ = [
    "DiagonalQuadraticSum",
    "random_sum",
    "fixed_step_bound",
    "diminishing_step_bound",
    "nonconvex_bound",
    "sin_example_constants",
    "interpolation_bound",
    "svrg_rate",
    "robbins_monro_envelope",
    "averaging_bounds",
    "gd_work",
    "sgd_work",
    "ChainRun",
    "sgd_chains",
    "gd_run",
    "svrg_chains",
    "sin_grad_norms",
]


def _matrix(name, value) -> np.ndarray:
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real array, got {value!r}") from exc
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty (n, d) array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


@dataclass(frozen=True)
class DiagonalQuadraticSum:
    r"""The finite sum :math:`f(x)=\frac1n\sum_i f_i(x)`, :math:`f_i(x) = \tfrac12\sum_j h_{ij}(x_j-c_{ij})^2`.

    ``h`` (curvatures, all > 0) and ``c`` (centres) have shape ``(n, d)`` (a 1-D array is one
    coordinate). :math:`f` is a quadratic with Hessian :math:`\operatorname{diag}(\bar h)`,
    :math:`\bar h = \frac1n\sum_i h_i`, minimiser :math:`x^\ast_j = \sum_i h_{ij}c_{ij}/\sum_i h_{ij}`.

    Raises:
        ValueError, TypeError: bad shapes, non-positive curvatures, non-finite entries.
    """

    h: np.ndarray
    c: np.ndarray

    def __post_init__(self) -> None:
        h, c = _matrix("h", self.h), _matrix("c", self.c)
        if h.shape != c.shape:
            raise ValueError(f"h and c must have the same shape, got {h.shape} and {c.shape}")
        if np.any(h <= 0):
            raise ValueError("h must be > 0 everywhere")
        object.__setattr__(self, "h", h)
        object.__setattr__(self, "c", c)

    # ----- sizes and constants
    @property
    def n(self) -> int:
        """Number of components."""
        return self.h.shape[0]

    @property
    def d(self) -> int:
        """Dimension."""
        return self.h.shape[1]

    @property
    def hbar(self) -> np.ndarray:
        """The diagonal of the Hessian of :math:`f`."""
        return self.h.mean(axis=0)

    @property
    def minimizer(self) -> np.ndarray:
        r""":math:`x^\ast`."""
        return (self.h * self.c).mean(axis=0) / self.hbar

    @property
    def L(self) -> float:
        """Smoothness constant of :math:`f` (largest Hessian entry)."""
        return float(self.hbar.max())

    @property
    def mu(self) -> float:
        """Strong-convexity constant of :math:`f` (smallest Hessian entry)."""
        return float(self.hbar.min())

    @property
    def L_max(self) -> float:
        r"""The largest smoothness constant of a component, :math:`\max_{i,j} h_{ij}`."""
        return float(self.h.max())

    @property
    def fstar(self) -> float:
        """The minimum value of :math:`f`."""
        return float(self._value(self.minimizer))

    def _moments(self):
        d = self.c - self.minimizer  # d_i = c_i - x*
        A = np.mean(self.h**2, axis=0)
        B = np.mean(self.h**2 * d, axis=0)
        C = np.mean(self.h**2 * d**2, axis=0)
        return A, B, C

    @property
    def sigma2(self) -> float:
        r"""Gradient noise at the optimum, :math:`\mathbb E_i\|\nabla f_i(x^\ast)\|^2`."""
        return float(np.sum(self._moments()[2]))

    @property
    def min_MG(self) -> float:
        r""":math:`\max_j A_j/\bar h_j^2`: every :math:`M_G` above it has a finite :math:`M`; :math:`M_G` equal to it only if :math:`B_j = 0` where the maximum is attained."""
        A = self._moments()[0]
        return float(np.max(A / self.hbar**2))

    def second_moment_M(self, M_G: float) -> float:
        r"""The smallest :math:`M` with :math:`\mathbb E_i\|\nabla f_i(x)\|^2\le M+M_G\|\nabla f(x)\|^2` for all :math:`x`.

        Per coordinate, with :math:`u = x_j - x^\ast_j`, :math:`d_{ij} = c_{ij}-x^\ast_j`,
        :math:`A=\mathbb E h^2`, :math:`B = \mathbb E h^2 d`, :math:`C=\mathbb E h^2d^2`:
        :math:`\mathbb E g_j^2 = Au^2 - 2Bu + C` and :math:`(\nabla f)_j^2 = \bar h_j^2u^2`, so the
        best :math:`M` is :math:`\sum_j \big(C_j + B_j^2/(M_G\bar h_j^2 - A_j)\big)`.

        Raises:
            ValueError: ``M_G`` below :attr:`min_MG` (no finite M), or not positive.
        """
        M_G = _validate.positive("M_G", M_G)
        A, B, C = self._moments()
        gap = M_G * self.hbar**2 - A
        tol = 1e-12 * np.maximum(A, 1.0)
        if np.any(gap < -tol):
            raise ValueError(f"M_G must be >= {self.min_MG:.6g} for this problem, got {M_G!r}")
        out = 0.0
        for g, b, cc, t in zip(gap, B, C, tol):
            if g <= t:
                if abs(b) > 1e-12 * max(1.0, math.sqrt(cc)):
                    raise ValueError(
                        f"M_G must be > {self.min_MG:.6g} for this problem, got {M_G!r}"
                    )
                out += cc
            else:
                out += cc + b * b / g
        return float(out)

    def constants_for_step(self, lr: float) -> tuple[float, float]:
        r"""``(M, M_G)`` with the largest :math:`M_G` the step allows, :math:`M_G = 1/(\eta L)`.

        Theorems 4.6–4.8 need :math:`\eta\le 1/(LM_G)`; a larger :math:`M_G` gives a smaller
        :math:`M`, so this is the best pair for step ``lr``.

        Raises:
            ValueError: ``lr`` so large that :math:`1/(\eta L)` is below :attr:`min_MG`.
        """
        lr = _validate.positive("lr", lr)
        M_G = 1.0 / (lr * self.L)
        if M_G < self.min_MG * (1 - 1e-12):
            raise ValueError(
                f"lr must be <= 1/(L min_MG) = {1 / (self.L * self.min_MG):.6g}, got {lr!r}"
            )
        M_G = max(M_G, self.min_MG)
        return self.second_moment_M(M_G), M_G

    # ----- values and gradients, rows of X are points
    def _points(self, X) -> np.ndarray:
        """``X`` checked: a finite real array whose last axis has length :attr:`d`."""
        if np.ndim(X) <= 1:
            return _validate.vector("X", X, dim=self.d)
        try:
            arr = np.array(X, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"X must be a real array of points, got {X!r}") from exc
        if arr.shape[-1] != self.d or arr.size == 0:
            raise ValueError(
                f"X must have points of length {self.d} in its last axis, got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError("X must be finite")
        return arr

    def _value(self, X):
        v = 0.5 * np.mean(np.sum(self.h * (X[..., None, :] - self.c) ** 2, axis=-1), axis=-1)
        return float(v) if np.ndim(v) == 0 else v

    def _excess(self, X):
        return 0.5 * np.sum(self.hbar * (X - self.minimizer) ** 2, axis=-1)

    def _grad(self, X):
        return self.hbar * (X - self.minimizer)

    def _component_grad(self, X, idx):
        return self.h[idx] * (X - self.c[idx])

    def value(self, X) -> np.ndarray | float:
        """:math:`f` at each row of ``X`` (a float for a single point).

        Raises:
            TypeError: ``X`` is not a real array.
            ValueError: ``X`` is empty, not finite, or its last axis is not of length :attr:`d`.
        """
        return self._value(self._points(X))

    def excess(self, X) -> np.ndarray:
        r""":math:`f(x)-f^\ast = \tfrac12\sum_j\bar h_j(x_j-x^\ast_j)^2` at each row of ``X``.

        Raises:
            TypeError, ValueError: as :meth:`value`.
        """
        return self._excess(self._points(X))

    def grad(self, X) -> np.ndarray:
        r""":math:`\nabla f` at each row of ``X``: :math:`\bar h\odot(x-x^\ast)`.

        Raises:
            TypeError, ValueError: as :meth:`value`.
        """
        return self._grad(self._points(X))

    def component_grad(self, X, idx) -> np.ndarray:
        r""":math:`\nabla f_{i}(x)` with ``i = idx[r]`` at row ``r`` of ``X`` (a single index for a single point).

        Raises:
            TypeError: as :meth:`value`, or ``idx`` not integers.
            ValueError: as :meth:`value`, or an index outside ``0 .. n-1``, or ``idx`` not
                matching the rows of ``X``.
        """
        X = self._points(X)
        idx_arr = np.asarray(idx)
        if idx_arr.dtype == bool or not np.issubdtype(idx_arr.dtype, np.integer):
            raise TypeError(f"idx must hold integers, got {idx!r}")
        if np.any(idx_arr < 0) or np.any(idx_arr >= self.n):
            raise ValueError(f"idx must be in 0 .. {self.n - 1}, got {idx!r}")
        if idx_arr.shape != X.shape[:-1]:
            raise ValueError(
                f"idx must have shape {X.shape[:-1]} (one index per point), got {idx_arr.shape}"
            )
        return self._component_grad(X, idx_arr)

    def expected_excess(self, x0, lrs) -> np.ndarray:
        r"""Exact :math:`\mathbb E f(x_k) - f^\ast`, :math:`k=0,\dots,K`, of SGD with steps ``lrs``.

        With :math:`e = x - x^\ast` per coordinate and :math:`i` uniform, independent of
        :math:`e`: :math:`\mathbb E e' = (1-\eta\bar h)\mathbb E e` and
        :math:`\mathbb E e'^2 = (1-2\eta\bar h+\eta^2A)\mathbb E e^2 - 2\eta^2B\,\mathbb E e+\eta^2C`.
        """
        e1 = _validate.vector("x0", x0, dim=self.d) - self.minimizer
        lrs = np.asarray(lrs, dtype=float)
        if lrs.ndim != 1 or np.any(~np.isfinite(lrs)) or np.any(lrs <= 0):
            raise ValueError("lrs must be a 1-D array of positive finite step sizes")
        A, B, C = self._moments()
        out = np.zeros(len(lrs) + 1)
        steps = [float(eta) for eta in lrs]
        for j in range(self.d):  # coordinates are independent; plain floats are fast here
            hb, a, b, c = float(self.hbar[j]), float(A[j]), float(B[j]), float(C[j])
            m1 = float(e1[j])
            m2 = m1 * m1
            col = [m2]
            for eta in steps:
                m2 = (
                    (1 - 2 * eta * hb + eta * eta * a) * m2 - 2 * eta * eta * b * m1 + eta * eta * c
                )
                m1 = (1 - eta * hb) * m1
                col.append(m2)
            out += 0.5 * hb * np.array(col)
        return out


def random_sum(
    n: int, d: int = 2, kappa: float = 10.0, seed: int = 0, interpolate: bool = False
) -> DiagonalQuadraticSum:
    r"""A random :class:`DiagonalQuadraticSum`: curvatures :math:`h_{ij} = s_j u_{ij}`.

    :math:`s_j` runs geometrically from 1 to :math:`1/\kappa`, :math:`u_{ij}\sim U[0.5, 1.5]`,
    centres :math:`c_{ij}\sim N(0,1)` (all zero with ``interpolate``: every :math:`f_i` then has
    its minimum at the origin), from ``numpy.random.default_rng(seed)``.
    """
    n = _validate.integer("n", n, minimum=1)
    d = _validate.integer("d", d, minimum=1)
    kappa = _validate.positive("kappa", kappa)
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1, got {kappa!r}")
    rng = np.random.default_rng(_validate.seed("seed", seed))
    s = kappa ** (-np.linspace(0.0, 1.0, d)) if d > 1 else np.ones(1)
    h = s * rng.uniform(0.5, 1.5, size=(n, d))
    c = rng.normal(size=(n, d))
    if _validate.boolean("interpolate", interpolate):
        c = np.zeros_like(c)
    return DiagonalQuadraticSum(h, c)


# ------------------------------------------------------------------ the bounds


def fixed_step_bound(
    k, lr: float, L: float, mu: float, M: float, M_G: float, gap0: float
) -> np.ndarray:
    r"""Theorem 4.6 of Bottou et al. (unbiased gradients), steps :math:`k = 0, 1, \dots`.

    For :math:`0<\eta\le 1/(LM_G)`:
    :math:`\mathbb E f(x_k)-f^\ast \le \frac{\eta LM}{2\mu} + (1-\eta\mu)^k\big(f(x_0)-f^\ast-\frac{\eta LM}{2\mu}\big)`.

    Raises:
        ValueError: step too large or constants out of range.
    """
    lr, L, mu, M_G = (
        _validate.positive(a, v) for a, v in (("lr", lr), ("L", L), ("mu", mu), ("M_G", M_G))
    )
    M, gap0 = _validate.nonnegative("M", M), _validate.nonnegative("gap0", gap0)
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu!r} > L={L!r}")
    if lr * L * M_G > 1 + 1e-12:
        raise ValueError(f"lr must be <= 1/(L M_G) = {1 / (L * M_G):.6g}, got {lr!r}")
    k = _validate.real_array("k", k, minimum=0)
    ball = lr * L * M / (2 * mu)
    return ball + (1 - lr * mu) ** k * (gap0 - ball)


def diminishing_step_bound(
    k, beta: float, gamma: float, L: float, mu: float, M: float, M_G: float, gap0: float
) -> np.ndarray:
    r"""Theorem 4.7 of Bottou et al. for :math:`\eta_k = \beta/(\gamma+k)`, :math:`k=0,1,\dots`.

    Needs :math:`\beta > 1/\mu` and :math:`\eta_0=\beta/\gamma\le 1/(LM_G)`. Then
    :math:`\mathbb E f(x_k)-f^\ast\le \nu/(\gamma+k)` with
    :math:`\nu=\max\{\beta^2LM/(2(\beta\mu-1)),\ \gamma(f(x_0)-f^\ast)\}`.

    Raises:
        ValueError: the conditions fail.
    """
    beta, gamma, L, mu, M_G = (
        _validate.positive(a, v)
        for a, v in (("beta", beta), ("gamma", gamma), ("L", L), ("mu", mu), ("M_G", M_G))
    )
    M, gap0 = _validate.nonnegative("M", M), _validate.nonnegative("gap0", gap0)
    if beta * mu <= 1:
        raise ValueError(f"beta must be > 1/mu = {1 / mu:.6g}, got {beta!r}")
    if beta / gamma * L * M_G > 1 + 1e-12:
        raise ValueError(
            f"need beta/gamma <= 1/(L M_G) = {1 / (L * M_G):.6g}, got {beta / gamma:.6g}"
        )
    nu = max(beta**2 * L * M / (2 * (beta * mu - 1)), gamma * gap0)
    return nu / (gamma + _validate.real_array("k", k, minimum=0))


def sin_example_constants(M_V: float) -> tuple[float, float, float]:
    r"""``(L, M, M_G)`` for :math:`f_1=2\sin\theta`, :math:`f_2=0.2\theta^2`, :math:`f` their mean.

    :math:`|f''| = |0.2-\sin\theta|\le1.2 = L`. With :math:`c=\cos\theta`, :math:`u=0.2\theta`:
    :math:`\mathbb E g^2 = (c+u)^2 + (c-u)^2` and :math:`(f')^2=(c+u)^2`; for :math:`M_V>1`,
    :math:`(c-u)^2 - M_V(c+u)^2\le \frac{4M_V}{M_V-1}c^2\le\frac{4M_V}{M_V-1}`, so
    :math:`M = 4M_V/(M_V-1)` and :math:`M_G = M_V+1`.

    Raises:
        ValueError: ``M_V <= 1``.
    """
    M_V = _validate.real("M_V", M_V)
    if M_V <= 1:
        raise ValueError(f"M_V must be > 1, got {M_V!r}")
    return 1.2, 4 * M_V / (M_V - 1), M_V + 1


def nonconvex_bound(K, lr: float, L: float, M: float, M_G: float, gap_inf: float) -> np.ndarray:
    r"""Theorem 4.8 of Bottou et al.: :math:`\frac1K\sum_{k<K}\mathbb E\|\nabla f(x_k)\|^2\le\eta LM+\frac{2(f(x_0)-f_{\inf})}{K\eta}`.

    Needs :math:`0<\eta\le1/(LM_G)`; ``gap_inf`` is :math:`f(x_0)-f_{\inf}`.

    Raises:
        ValueError: step too large, constants out of range, ``K < 1``.
    """
    lr, L, M_G = (_validate.positive(a, v) for a, v in (("lr", lr), ("L", L), ("M_G", M_G)))
    M, gap_inf = _validate.nonnegative("M", M), _validate.nonnegative("gap_inf", gap_inf)
    if lr * L * M_G > 1 + 1e-12:
        raise ValueError(f"lr must be <= 1/(L M_G) = {1 / (L * M_G):.6g}, got {lr!r}")
    K = _validate.real_array("K", K)
    if np.any(K < 1):
        raise ValueError("K must be >= 1")
    return lr * L * M + 2 * gap_inf / (K * lr)


def interpolation_bound(k, lr: float, mu: float, L_max: float, dist0: float) -> np.ndarray:
    r""":math:`\mathbb E\|x_k-x^\ast\|^2\le(1-\eta\mu)^k\|x_0-x^\ast\|^2` for :math:`0<\eta\le 1/L_{\max}`.

    Raises:
        ValueError: step too large or constants out of range.
    """
    lr, mu, L_max = (
        _validate.positive(a, v) for a, v in (("lr", lr), ("mu", mu), ("L_max", L_max))
    )
    dist0 = _validate.nonnegative("dist0", dist0)
    if mu > L_max:
        raise ValueError(f"mu must be <= L_max, got {mu!r} > {L_max!r}")
    if lr * L_max > 1 + 1e-12:
        raise ValueError(f"lr must be <= 1/L_max = {1 / L_max:.6g}, got {lr!r}")
    return (1 - lr * mu) ** _validate.real_array("k", k, minimum=0) * dist0


def svrg_rate(lr: float, m: int, L: float, mu: float) -> float:
    r"""Johnson & Zhang's contraction per outer loop, :math:`\alpha=\frac{1}{\mu\eta(1-2L\eta)m}+\frac{2L\eta}{1-2L\eta}`.

    ``L`` is the smoothness of every component. The theorem needs :math:`\alpha<1`; this
    returns :math:`\alpha` whatever its size.

    Raises:
        ValueError: :math:`\eta\ge 1/(2L)` (the formula breaks down) or bad constants.
    """
    lr, L, mu = (_validate.positive(a, v) for a, v in (("lr", lr), ("L", L), ("mu", mu)))
    m = _validate.integer("m", m, minimum=1)
    if 2 * L * lr >= 1:
        raise ValueError(f"lr must be < 1/(2L) = {1 / (2 * L):.6g}, got {lr!r}")
    return 1 / (mu * lr * (1 - 2 * L * lr) * m) + 2 * L * lr / (1 - 2 * L * lr)


def robbins_monro_envelope(k, c: float, mu: float, e0: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Bounds on :math:`|\mathbb E e_k| = |e_0|\prod_{j<k}(1-c\mu/(j+1))` for :math:`0<c\mu\le\frac12`.

    Returns ``(lower, upper)``: :math:`|e_0|e^{-c\mu-(c\mu)^2\pi^2/6}k^{-c\mu}` and
    :math:`|e_0|(k+1)^{-c\mu}`, for :math:`k\ge1`.

    Raises:
        ValueError: :math:`c\mu` outside :math:`(0, 1/2]` or ``k < 1``.
    """
    c, mu = _validate.positive("c", c), _validate.positive("mu", mu)
    e0 = abs(_validate.real("e0", e0))
    t = c * mu
    if t > 0.5:
        raise ValueError(f"need c*mu <= 1/2, got {t!r}")
    k = _validate.real_array("k", k)
    if np.any(k < 1):
        raise ValueError("k must be >= 1")
    return e0 * math.exp(-t - t * t * math.pi**2 / 6) * k ** (-t), e0 * (k + 1) ** (-t)


def averaging_bounds(
    k, lr: float, a: float, sigma2: float, e0: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Two-sided bounds on :math:`\mathbb E\bar e_k^2` for averaged constant-step SGD, :math:`f_i=\frac a2(x-c_i)^2`.

    :math:`\bar e_k = \frac1k\sum_{j<k}e_j = \Xi_k/k + (e_0-e_k)/(\eta ak)`, so with
    :math:`r_k=\sqrt{(1-q^k)^2e_0^2+(1-q^{2k})V_\infty}/(\eta ak)`, :math:`q=1-\eta a`,
    :math:`\max(0,\sigma/\sqrt k-r_k)^2\le\mathbb E\bar e_k^2\le(\sigma/\sqrt k+r_k)^2`.

    Raises:
        ValueError: ``lr`` outside :math:`(0, 2/a)` or bad values.
    """
    lr, a = _validate.positive("lr", lr), _validate.positive("a", a)
    sigma2, e0 = _validate.nonnegative("sigma2", sigma2), _validate.real("e0", e0)
    if lr * a >= 2:
        raise ValueError(f"lr must be < 2/a = {2 / a:g}, got {lr!r}")
    k = _validate.real_array("k", k)
    if np.any(k < 1):
        raise ValueError("k must be >= 1")
    q = 1 - lr * a
    V = lr * a * sigma2 / (2 - lr * a)
    r = np.sqrt((1 - q**k) ** 2 * e0**2 + (1 - q ** (2 * k)) * V) / (lr * a * k)
    s = np.sqrt(sigma2 / k)
    return np.maximum(0.0, s - r) ** 2, (s + r) ** 2


def gd_work(n: int, L: float, mu: float, gap0: float, eps: float) -> int:
    r"""Gradient evaluations GD (:math:`\eta=1/L`) needs by chapter 1's linear rate: :math:`n\lceil\kappa\ln(\Delta_0/\varepsilon)\rceil`.

    From :math:`f(x_k)-f^\ast\le(1-\mu/L)^k\Delta_0\le e^{-k/\kappa}\Delta_0`.
    """
    n = _validate.integer("n", n, minimum=1)
    L, mu, gap0, eps = (
        _validate.positive(a, v) for a, v in (("L", L), ("mu", mu), ("gap0", gap0), ("eps", eps))
    )
    return n * max(0, math.ceil(L / mu * math.log(gap0 / eps)))


def sgd_work(
    beta: float, gamma: float, L: float, mu: float, M: float, M_G: float, gap0: float, eps: float
) -> int:
    r"""Steps (one gradient each) after which theorem 4.7's bound is at most ``eps``: :math:`\lceil\nu/\varepsilon-\gamma\rceil`."""
    nu = float(diminishing_step_bound(0, beta, gamma, L, mu, M, M_G, gap0)) * gamma
    eps = _validate.positive("eps", eps)
    return max(0, math.ceil(nu / eps - gamma))


# ------------------------------------------------------------------ the runs


@dataclass(frozen=True)
class ChainRun:
    """Averages over independent chains of a run, one entry per recorded step.

    ``steps``: the step numbers recorded; ``excess``: mean :math:`f(x_k)-f^\\ast`;
    ``dist2``: mean :math:`\\|x_k-x^\\ast\\|^2`; ``avg_dist2``: the same for the running average
    of the iterates (``None`` unless requested); ``evals``: component-gradient evaluations spent
    per chain up to each recorded point; ``diverged``: set when an iterate blew up (then the run
    stopped and ``x`` holds the last iterates); ``x_avg``: each chain's running average
    :math:`\\bar x_k` at the last recorded step (``None`` unless the average was requested), so
    two runs drawn from the same seed can be compared chain by chain.
    """

    steps: np.ndarray
    excess: np.ndarray
    dist2: np.ndarray
    avg_dist2: np.ndarray | None
    evals: np.ndarray
    x: np.ndarray
    diverged: bool
    x_avg: np.ndarray | None = None

    def status(self) -> str:
        """A one-line Chinese summary."""
        if self.diverged:
            return divergence_message(int(self.steps[-1]), self.x)
        return f"运行 {int(self.steps[-1])} 步，平均超额损失 {self.excess[-1]:.6g}"


def _blown(X) -> bool:
    return not np.all(np.isfinite(X)) or float(np.max(np.abs(X))) > DIVERGENCE_THRESHOLD


def _schedule(lrs, steps: int) -> np.ndarray:
    if np.ndim(lrs) == 0:
        return np.full(steps, _validate.positive("lr", lrs))
    lrs = np.asarray(lrs, dtype=float)
    if lrs.shape != (steps,) or np.any(~np.isfinite(lrs)) or np.any(lrs <= 0):
        raise ValueError(f"lrs must be a positive number or {steps} positive step sizes")
    return lrs


def sgd_chains(
    problem: DiagonalQuadraticSum,
    x0,
    lrs,
    steps: int,
    chains: int = 200,
    seed: int = 0,
    every: int = 1,
    average: bool = False,
    stop_below: float | None = None,
) -> ChainRun:
    r"""``chains`` independent SGD runs (one uniform index per step, with replacement).

    Args:
        problem: the finite sum.
        x0: common start.
        lrs: a constant step, or the schedule :math:`\eta_0,\dots,\eta_{K-1}` (length ``steps``).
        steps: number of steps :math:`K`.
        chains: independent runs, all drawn from ``numpy.random.default_rng(seed)``
            (step ``k`` draws ``rng.integers(n, size=chains)``).
        seed: seed.
        every: record every ``every``-th step (and step 0).
        average: also track :math:`\bar x_k=\frac1k\sum_{j<k}x_j` (recorded as ``avg_dist2``;
            at step 0 it is :math:`x_0`).
        stop_below: if given, stop at the first recorded step whose mean excess is at most this.

    Returns:
        The :class:`ChainRun`.

    Raises:
        ValueError, TypeError: bad arguments.
    """
    average = _validate.boolean("average", average)
    _validate.instance("problem", problem, DiagonalQuadraticSum)
    x0 = _validate.vector("x0", x0, dim=problem.d)
    steps = _validate.integer("steps", steps, minimum=0)
    chains = _validate.integer("chains", chains, minimum=1)
    every = _validate.integer("every", every, minimum=1)
    lrs = _schedule(lrs, steps)
    if stop_below is not None:
        stop_below = _validate.positive("stop_below", stop_below)
    rng = np.random.default_rng(_validate.seed("seed", seed))
    xs = problem.minimizer
    X = np.tile(x0, (chains, 1))
    S = np.zeros_like(X)
    rec_k, rec_f, rec_d, rec_a = (
        [0],
        [problem._excess(X).mean()],
        [np.sum((X - xs) ** 2, 1).mean()],
        [],
    )
    if average:
        rec_a.append(rec_d[0])
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            if average:
                S += X
            idx = rng.integers(problem.n, size=chains)
            X = X - lrs[k] * problem._component_grad(X, idx)
            if _blown(X):
                diverged = True
            if (k + 1) % every == 0 or diverged or k == steps - 1:
                rec_k.append(k + 1)
                rec_f.append(problem._excess(X).mean())
                rec_d.append(np.sum((X - xs) ** 2, 1).mean())
                if average:
                    rec_a.append(np.sum((S / (k + 1) - xs) ** 2, 1).mean())
                if stop_below is not None and rec_f[-1] <= stop_below:
                    break
            if diverged:
                break
    steps_arr = np.array(rec_k)
    x_avg = (
        S / max(int(steps_arr[-1]), 1)
        if average and steps_arr[-1] > 0
        else (X.copy() if average else None)
    )
    return ChainRun(
        steps_arr,
        np.array(rec_f),
        np.array(rec_d),
        np.array(rec_a) if average else None,
        steps_arr.astype(float),
        X,
        diverged,
        x_avg,
    )


def gd_run(problem: DiagonalQuadraticSum, x0, lr: float, steps: int) -> ChainRun:
    """Full gradient descent, each step the mean of all ``n`` component gradients.

    ``evals`` counts ``n`` per step.

    Raises:
        ValueError, TypeError: bad arguments.
    """
    _validate.instance("problem", problem, DiagonalQuadraticSum)
    x = _validate.vector("x0", x0, dim=problem.d)
    lr = _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=0)
    xs = problem.minimizer
    f, dd = [problem._excess(x)], [float(np.sum((x - xs) ** 2))]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            x = x - lr * np.mean(problem.h * (x - problem.c), axis=0)
            f.append(problem._excess(x))
            dd.append(float(np.sum((x - xs) ** 2)))
            if _blown(x):
                diverged = True
                break
    k = np.arange(len(f))
    return ChainRun(
        k,
        np.array(f, dtype=float),
        np.array(dd),
        None,
        (k * problem.n).astype(float),
        x[None, :],
        diverged,
    )


def svrg_chains(
    problem: DiagonalQuadraticSum,
    x0,
    lr: float,
    m: int,
    epochs: int,
    chains: int = 100,
    seed: int = 0,
    snapshot: str = "random",
) -> ChainRun:
    r"""SVRG (Johnson & Zhang 2013) over ``chains`` independent runs, recorded once per outer loop.

    Outer loop :math:`s`: full gradient :math:`\nabla f(\tilde x)` at the snapshot (``n``
    evaluations), then ``m`` inner steps :math:`x\leftarrow x-\eta(\nabla f_i(x)-\nabla f_i(\tilde x)
    +\nabla f(\tilde x))` (2 evaluations each), then the new snapshot: the inner iterate
    :math:`x_t` for a uniform :math:`t\in\{0,\dots,m-1\}` (``"random"``, the theorem's option) or the
    last one (``"last"``). Indices: ``rng.integers(n, size=chains)`` per inner step, then (option
    ``"random"``) ``rng.integers(m, size=chains)`` per outer loop.

    Returns:
        The :class:`ChainRun` at the snapshots (``steps`` counts outer loops).

    Raises:
        ValueError, TypeError: bad arguments.
    """
    _validate.instance("problem", problem, DiagonalQuadraticSum)
    x0 = _validate.vector("x0", x0, dim=problem.d)
    lr = _validate.positive("lr", lr)
    m = _validate.integer("m", m, minimum=1)
    epochs = _validate.integer("epochs", epochs, minimum=0)
    chains = _validate.integer("chains", chains, minimum=1)
    if snapshot not in ("random", "last"):
        raise ValueError(f"snapshot must be 'random' or 'last', got {snapshot!r}")
    rng = np.random.default_rng(_validate.seed("seed", seed))
    xs = problem.minimizer
    W = np.tile(x0, (chains, 1))
    rows = np.arange(chains)
    f, dd = [problem._excess(W).mean()], [np.sum((W - xs) ** 2, 1).mean()]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            full = problem._grad(W)
            X = W.copy()
            kept = np.empty((m, chains, problem.d)) if snapshot == "random" else None
            for t in range(m):
                if kept is not None:
                    kept[t] = X
                idx = rng.integers(problem.n, size=chains)
                X = X - lr * (problem.h[idx] * (X - W) + full)
                if _blown(X):
                    diverged = True
                    break
            if diverged:
                W = X
            elif kept is not None:
                W = kept[rng.integers(m, size=chains), rows]
            else:
                W = X
            f.append(problem._excess(W).mean())
            dd.append(np.sum((W - xs) ** 2, 1).mean())
            if diverged:
                break
    s = np.arange(len(f))
    return ChainRun(
        s, np.array(f), np.array(dd), None, (s * (problem.n + 2 * m)).astype(float), W, diverged
    )


def sin_grad_norms(
    seeds: Sequence[int], theta0: float = 5.0, lr: float = 0.15, steps: int = 2000
) -> np.ndarray:
    r"""Mean over seeds of :math:`f'(\theta_k)^2`, :math:`k=0,\dots,K-1`, for SGD on :math:`\sin\theta+0.1\theta^2`.

    Seed ``s`` draws ``default_rng(s).integers(2, size=steps)`` (0: :math:`f_1`, 1: :math:`f_2`),
    as :func:`sgdbook.problems.stochastic.sgd` does.

    Raises:
        ValueError, TypeError: bad arguments.
    """
    seeds = _validate.seeds("seeds", seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    theta0, lr = _validate.real("theta0", theta0), _validate.positive("lr", lr)
    steps = _validate.integer("steps", steps, minimum=1)
    idx = np.array([np.random.default_rng(s).integers(2, size=steps) for s in seeds])
    theta = np.full(len(seeds), theta0)
    out = np.empty(steps)
    for k in range(steps):
        out[k] = np.mean((np.cos(theta) + 0.2 * theta) ** 2)
        g = np.where(idx[:, k] == 0, 2.0 * np.cos(theta), 0.4 * theta)
        theta = theta - lr * g
    return out
