r"""Exponentially weighted moving averages (EMA), the building block of momentum, RMSprop and Adam.

The average of a series :math:`a_1, a_2, \dots` with factor :math:`\beta \in [0, 1)` is

.. math:: m_0 = 0, \qquad m_t = \beta m_{t-1} + (1-\beta)\,a_t,

so :math:`m_t = (1-\beta)\sum_{k=0}^{t-1} \beta^k a_{t-k}`: the observation ``k`` steps old
carries weight :math:`(1-\beta)\beta^k`. The weights of the first ``t`` terms sum to
:math:`1-\beta^t` only, which is why :math:`m_t` is biased towards the starting value 0 and why
Adam divides by :math:`1-\beta^t` (*bias correction*).

The "window" :math:`1/(1-\beta)` is a time scale, not a hard cut-off; :func:`window_summary` gives
the precise statements behind it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import validation as _validate

__all__ = [
    "ema",
    "ema_weights",
    "effective_window",
    "mean_age",
    "mass_in_last",
    "variance_ratio",
    "equivalent_boxcar",
    "WindowSummary",
    "window_summary",
    "noisy_series",
]


def _beta(beta: float) -> float:
    return _validate.unit_interval("beta", beta)


def ema(series, beta: float, *, bias_correction: bool = False) -> np.ndarray:
    r"""The exponentially weighted average of ``series``, one value per observation.

    Args:
        series: the observations :math:`a_1, \dots, a_T` (1-D, finite).
        beta: the factor :math:`\beta \in [0, 1)`; ``0`` returns the series itself.
        bias_correction: if true, return :math:`\hat m_t = m_t / (1-\beta^t)` instead of
            :math:`m_t`.

    Returns:
        Array of length ``T`` holding :math:`m_1, \dots, m_T` (or the corrected values).

    Raises:
        ValueError: ``beta`` outside ``[0, 1)`` or ``series`` empty or not finite.
    """
    beta = _beta(beta)
    theta = _validate.vector("series", series)
    bias_correction = _validate.boolean("bias_correction", bias_correction)
    out = np.empty_like(theta)
    v = 0.0
    for t, x in enumerate(theta, start=1):
        v = beta * v + (1.0 - beta) * x
        out[t - 1] = v / (1.0 - beta**t) if bias_correction else v
    return out


def ema_weights(beta: float, t: int) -> np.ndarray:
    r"""Weights :math:`w_k = (1-\beta)\beta^k` that :math:`m_t` puts on :math:`a_{t-k}`.

    Args:
        beta: the factor :math:`\beta \in [0, 1)`.
        t: number of observations so far (``>= 1``).

    Returns:
        Array of length ``t``; entry ``k`` is the weight of the observation ``k`` steps old.
        The entries sum to :math:`1-\beta^t`.
    """
    beta = _beta(beta)
    t = _validate.integer("t", t, minimum=1)
    return (1.0 - beta) * beta ** np.arange(t)


def effective_window(beta: float) -> float:
    r""":math:`1/(1-\beta)`, the usual "number of recent observations averaged".

    Precisely: the weight of an observation falls by a factor :math:`\beta^{1/(1-\beta)}`
    over this many steps, which tends to :math:`1/e` as :math:`\beta \to 1` (an e-folding time).
    """
    return 1.0 / (1.0 - _beta(beta))


def mean_age(beta: float) -> float:
    r"""Mean age :math:`\sum_k k (1-\beta)\beta^k = \beta/(1-\beta)` of the averaged observations."""
    beta = _beta(beta)
    return beta / (1.0 - beta)


def mass_in_last(beta: float, n: int) -> float:
    r"""Total weight :math:`1-\beta^n` of the ``n`` newest observations in the stationary average."""
    beta = _beta(beta)
    n = _validate.integer("n", n, minimum=0)
    return 1.0 - beta**n


def variance_ratio(beta: float) -> float:
    r"""Stationary :math:`\operatorname{Var}(m_t)/\sigma^2 = (1-\beta)/(1+\beta)` for i.i.d. noise."""
    beta = _beta(beta)
    return (1.0 - beta) / (1.0 + beta)


def equivalent_boxcar(beta: float) -> float:
    r"""Length :math:`N = (1+\beta)/(1-\beta)` of the plain average with the same noise reduction.

    A plain mean of ``N`` i.i.d. terms has variance :math:`\sigma^2/N`; equating with
    :func:`variance_ratio` gives this ``N`` (which also has the same mean age :math:`(N-1)/2`).
    """
    return 1.0 / variance_ratio(beta)


@dataclass(frozen=True)
class WindowSummary:
    """Facts about the EMA window for one ``beta`` (see :func:`window_summary`)."""

    beta: float
    window: float
    weight_ratio_after_window: float
    mass_in_window: float
    mean_age: float
    equivalent_boxcar: float


def window_summary(beta: float) -> WindowSummary:
    r"""Collect the precise meanings of the window :math:`n = 1/(1-\beta)`.

    Returns:
        A :class:`WindowSummary` with the window :math:`n`, the decay :math:`\beta^n` of a weight
        over ``n`` steps (about :math:`1/e`), the total weight :math:`1-\beta^{\lfloor n \rceil}`
        of the newest ``round(n)`` observations (about 63%), the mean age and the length of the
        plain average with the same variance.
    """
    beta = _beta(beta)
    n = effective_window(beta)
    return WindowSummary(
        beta=beta,
        window=n,
        weight_ratio_after_window=beta**n,
        mass_in_window=mass_in_last(beta, round(n)),
        mean_age=mean_age(beta),
        equivalent_boxcar=equivalent_boxcar(beta),
    )


def noisy_series(n: int, seed: int, *, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""A test series: a smooth signal (a slow sine plus a step) plus Gaussian noise.

    Args:
        n: length (``>= 2``).
        seed: seed of the noise.
        noise: standard deviation of the noise (``> 0``).

    Returns:
        ``(signal, observed)``, two arrays of length ``n``.
    """
    n = _validate.integer("n", n, minimum=2)
    noise = _validate.positive("noise", noise)
    t = np.arange(n)
    signal = 2.0 + np.sin(2 * math.pi * t / n * 1.5) + np.where(t >= n // 2, 1.5, 0.0)
    observed = signal + noise * _validate_rng(seed).normal(size=n)
    return signal, observed


def _validate_rng(seed: int) -> np.random.Generator:
    from ..seeding import rng

    return rng(seed)


def ema_correction_fed_back(series, beta: float) -> np.ndarray:
    r"""The **wrong** bias correction some lecture notes give: the corrected value fed back.

    :math:`m_0 = 0`, :math:`m_t = \bigl(\beta m_{t-1} + (1-\beta)a_t\bigr)/(1-\beta^t)`:
    the division by :math:`1-\beta^t` is put *inside* the recursion, so every corrected value
    is corrected again at the next step. For a constant series it does not stay constant: for
    :math:`a_t = 3`, :math:`\beta = 0.9` it runs 3, 15.8, 53.5, 141, … up to about
    :math:`10^4` (near :math:`t = 20`), and only relaxes back towards 3 over the following
    hundred steps, once :math:`1-\beta^t` is close to 1.
    The right form keeps the recursion as it is and divides only the output: :func:`ema` with
    ``bias_correction=True``.

    Raises:
        ValueError: as :func:`ema`.
    """
    beta = _beta(beta)
    theta = _validate.vector("series", series)
    out = np.empty_like(theta)
    v = 0.0
    for t, x in enumerate(theta, start=1):
        v = (beta * v + (1.0 - beta) * x) / (1.0 - beta**t)
        out[t - 1] = v
    return out


__all__ += ["ema_correction_fed_back"]
