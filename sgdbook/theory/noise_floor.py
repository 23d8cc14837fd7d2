r"""Chapter 6 (:doc:`/lr-decay`): constant-step SGD stalls at a noise floor; decaying steps
(Robbins–Monro) do not.

The model problem is the one-dimensional quadratic :math:`f(x) = \tfrac h2 x^2` observed through
a noisy gradient :math:`g_t = h x_t + \xi_t` with independent :math:`\xi_t \sim N(0, \sigma^2)`.
SGD with steps :math:`\eta_t` gives :math:`x_{t+1} = (1-\eta_t h) x_t - \eta_t \xi_t`, hence

.. math:: \mathbb E x_{t+1} = (1-\eta_t h)\,\mathbb E x_t, \qquad
          e_{t+1} = (1-\eta_t h)^2 e_t + \eta_t^2 \sigma^2, \quad e_t = \mathbb E x_t^2.

With a constant step the excess loss :math:`\tfrac h2 e_t` tends to
:math:`\eta\sigma^2 / (2(2-\eta h))` (:func:`stationary_excess_loss`), not to zero.
"""

from __future__ import annotations

import numpy as np

from .. import divergence as _divergence
from .. import validation as _validate
from ..seeding import rng

__all__ = ["simulate", "expected_excess_loss", "stationary_excess_loss", "limit_of_mean"]


def _steps(lrs) -> np.ndarray:
    lrs = _validate.vector("lrs", lrs)
    if np.any(lrs < 0):
        raise ValueError("lrs must be >= 0")
    return lrs


def simulate(
    h: float, sigma: float, lrs, x0: float, *, chains: int = 2000, seed: int = 0
) -> np.ndarray:
    r"""Average excess loss :math:`\tfrac h2 x_t^2` over independent SGD chains.

    Args:
        h: curvature (``> 0``).
        sigma: standard deviation of the gradient noise (``>= 0``).
        lrs: the steps :math:`\eta_0, \dots, \eta_{T-1}` (1-D, ``>= 0``).
        x0: common starting point.
        chains: number of independent chains averaged.
        seed: seed of the noise.

    Returns:
        Array of length ``T+1``: the mean of :math:`\tfrac h2 x_t^2` over the chains,
        :math:`t = 0, \dots, T`.

    Raises:
        ValueError: an argument out of range.
        ~sgdbook.divergence.DivergenceError: the mean excess loss crossed
            :data:`~sgdbook.divergence.DIVERGENCE_THRESHOLD` (steps with :math:`\eta h > 2`);
            the message names the step.
    """
    h = _validate.positive("h", h)
    sigma = _validate.nonnegative("sigma", sigma)
    lrs = _steps(lrs)
    x0 = _validate.real("x0", x0)
    chains = _validate.integer("chains", chains, minimum=1)
    gen = rng(seed)
    x = np.full(chains, x0)
    out = np.empty(len(lrs) + 1)
    out[0] = 0.5 * h * x0**2
    for t, eta in enumerate(lrs):
        x = x - eta * (h * x + sigma * gen.standard_normal(chains))
        out[t + 1] = 0.5 * h * np.mean(x**2)
        _divergence.check("excess loss", out[t + 1], t + 1)
    return out


def expected_excess_loss(h: float, sigma: float, lrs, x0: float) -> np.ndarray:
    r"""The exact :math:`\tfrac h2 \mathbb E x_t^2` from the recursion :math:`e_{t+1} = (1-\eta_t h)^2 e_t + \eta_t^2\sigma^2`.

    Same arguments as :func:`simulate`; returns an array of length ``T+1``.
    """
    h = _validate.positive("h", h)
    sigma = _validate.nonnegative("sigma", sigma)
    lrs = _steps(lrs)
    e = _validate.real("x0", x0) ** 2
    out = [0.5 * h * e]
    for eta in lrs:
        e = (1.0 - eta * h) ** 2 * e + eta**2 * sigma**2
        out.append(0.5 * h * e)
    return np.array(out)


def stationary_excess_loss(h: float, sigma: float, lr: float) -> float:
    r"""Limit :math:`\eta\sigma^2/(2(2-\eta h))` of the expected excess loss for a constant step.

    Raises:
        ValueError: ``lr * h >= 2`` (the iteration is unstable and has no limit).
    """
    h = _validate.positive("h", h)
    sigma = _validate.nonnegative("sigma", sigma)
    lr = _validate.positive("lr", lr)
    if lr * h >= 2:
        raise ValueError(f"lr * h must be < 2 for a stationary limit, got {lr * h!r}")
    return lr * sigma**2 / (2.0 * (2.0 - lr * h))


def limit_of_mean(h: float, lrs, x0: float) -> float:
    r""":math:`\mathbb E x_T = x_0 \prod_t (1-\eta_t h)`: stays away from 0 when :math:`\sum_t \eta_t < \infty`."""
    h = _validate.positive("h", h)
    lrs = _steps(lrs)
    return float(_validate.real("x0", x0) * np.prod(1.0 - lrs * h))


def simulate_averaged(
    h: float, sigma: float, lrs, x0: float, *, start: int = 0, chains: int = 2000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Chapter 6 (:doc:`/lr-decay`): SGD chains with Polyak–Ruppert averaging of the iterates.

    Runs the same chains as :func:`simulate` and also keeps the running average
    :math:`\bar x_t = \frac{1}{t - s + 1}\sum_{u=s}^{t} x_u` of the iterates from step
    :math:`s` = ``start`` on (Polyak & Juditsky 1992). With a constant step the iterates stay
    at the noise floor, while the average of :math:`m` roughly independent iterates has an
    excess loss smaller by about :math:`1/m` (the iterates are correlated over about
    :math:`1/(\eta h)` steps, which is what "roughly" means).

    Args:
        h, sigma, lrs, x0, chains, seed: as in :func:`simulate`.
        start: first step averaged (``0 <= start <= len(lrs)``).

    Returns:
        ``(last, averaged)``: arrays of length ``T+1`` with the mean excess loss over the chains
        of :math:`x_t` and of :math:`\bar x_t` (``nan`` before ``start``).

    Raises:
        ValueError: an argument out of range.
        ~sgdbook.divergence.DivergenceError: as in :func:`simulate`.
    """
    h = _validate.positive("h", h)
    sigma = _validate.nonnegative("sigma", sigma)
    lrs = _steps(lrs)
    x0 = _validate.real("x0", x0)
    chains = _validate.integer("chains", chains, minimum=1)
    start = _validate.integer("start", start, minimum=0)
    if start > len(lrs):
        raise ValueError(f"start must be <= len(lrs) = {len(lrs)}, got {start}")
    gen = rng(seed)
    x = np.full(chains, x0)
    avg = np.zeros(chains)
    last = np.empty(len(lrs) + 1)
    averaged = np.full(len(lrs) + 1, np.nan)
    last[0] = 0.5 * h * x0**2
    if start == 0:
        avg = x.copy()
        averaged[0] = last[0]
    for t, eta in enumerate(lrs, start=1):
        x = x - eta * (h * x + sigma * gen.standard_normal(chains))
        last[t] = 0.5 * h * np.mean(x**2)
        _divergence.check("excess loss", last[t], t)
        if t >= start:
            m = t - start + 1
            avg = avg + (x - avg) / m
            averaged[t] = 0.5 * h * np.mean(avg**2)
    return last, averaged


__all__ += ["simulate_averaged"]


def averaged_excess_loss(
    h: float, sigma: float, lr: float, x0: float, *, start: int, m: int
) -> float:
    r"""Chapter 6 (:doc:`/lr-decay`): exact expected excess loss of the average of ``m`` iterates.

    For the model of :func:`simulate` with a constant step :math:`\eta` (:math:`0 < \eta h < 2`),
    :math:`x_t = a^t x_0 + n_t` with :math:`a = 1 - \eta h` and a zero-mean noise part
    :math:`n_t` of variance :math:`V_t = \eta^2\sigma^2(1 - a^{2t})/(1 - a^2)` and covariance
    :math:`\operatorname{Cov}(n_t, n_u) = a^{u-t} V_t` (:math:`u \ge t`). The average
    :math:`\bar x = \frac1m\sum_{t=s}^{s+m-1} x_t` (:math:`s` = ``start``, the same average as
    :func:`simulate_averaged` at step :math:`s + m - 1`) therefore has

    .. math::
        \mathbb E\,\bar x^2 = \Bigl(\frac{x_0}{m}\sum_t a^t\Bigr)^2
        + \frac{1}{m^2}\sum_t V_t\Bigl(1 + 2\sum_{u>t} a^{u-t}\Bigr),

    and the function returns :math:`\tfrac h2\,\mathbb E\,\bar x^2`. For large :math:`m` (and
    :math:`s` past the transient) it tends to :math:`\sigma^2/(2hm)`, whatever :math:`\eta`.

    Raises:
        ValueError: an argument out of range (``lr * h`` must lie in ``(0, 2)``).
    """
    h = _validate.positive("h", h)
    sigma = _validate.nonnegative("sigma", sigma)
    lr = _validate.positive("lr", lr)
    x0 = _validate.real("x0", x0)
    start = _validate.integer("start", start, minimum=0)
    m = _validate.integer("m", m, minimum=1)
    if not lr * h < 2:
        raise ValueError(f"lr * h must be < 2, got {lr * h}")
    a = 1.0 - lr * h
    t = np.arange(start, start + m, dtype=float)
    last = start + m - 1
    mean = x0 * np.sum(a**t) / m
    var_t = lr**2 * sigma**2 * (1.0 - a ** (2 * t)) / (1.0 - a**2)
    tail = a * (1.0 - a ** (last - t)) / (1.0 - a)  # sum_{u=t+1}^{last} a^(u-t)
    var = float(np.sum(var_t * (1.0 + 2.0 * tail))) / m**2
    return 0.5 * h * (mean**2 + var)


__all__ += ["averaged_excess_loss"]
