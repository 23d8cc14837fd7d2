r"""Two-dimensional landscapes where plain gradient descent is slow: a saddle and a plateau.

* :func:`saddle`: :math:`f(x, y) = \tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2`, a saddle point
  at the origin and minima :math:`(0, \pm 1)` with :math:`f = -\tfrac14`. Started at
  :math:`y_0 = 10^{-6}`, the gradient along :math:`y` is about :math:`-y`: tiny.
* :func:`plateau`: :math:`f(x, y) = 1 - \exp(-(x^2 + y^2)/2)`, flat far from its minimum at
  the origin: at radius :math:`r` the gradient has norm :math:`r e^{-r^2/2}`.
"""

from __future__ import annotations

import numpy as np

from .objectives import FunctionObjective

__all__ = ["saddle", "plateau", "escape_step"]


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
    """First index at which ``losses`` is at or below ``level`` (``None`` if never)."""
    losses = np.asarray(losses, dtype=float)
    hit = np.flatnonzero(losses <= level)
    return int(hit[0]) if hit.size else None
