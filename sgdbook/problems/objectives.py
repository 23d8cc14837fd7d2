"""Objective functions with exact gradients, for the theory chapters.

An objective is any object with ``value(x)`` and ``grad(x)`` taking a 1-D NumPy array; the
runners in :mod:`sgdbook.theory.gd` accept any such object. :class:`Quadratic` also knows its
Hessian's spectrum, hence its smoothness ``L``, strong convexity ``mu`` and condition number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .. import validation as _validate

__all__ = ["Objective", "Quadratic", "FunctionObjective", "square", "ill_conditioned_2d"]


class Objective(Protocol):
    """What the gradient-descent runners need: a value and a gradient at a point."""

    def value(self, x: np.ndarray) -> float: ...

    def grad(self, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Quadratic:
    r"""The quadratic :math:`f(x) = \tfrac12 x^\top A x - b^\top x + c` with symmetric ``A``.

    Args:
        A: symmetric ``(d, d)`` matrix (the Hessian).
        b: length-``d`` vector; zeros when omitted.
        c: constant offset.

    Raises:
        ValueError: ``A`` is not square and symmetric, or ``b`` has the wrong length.
    """

    A: np.ndarray
    b: np.ndarray | None = None
    c: float = 0.0
    eigenvalues: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        A = _validate.square_matrix("A", self.A, symmetric=True)
        d = A.shape[0]
        b = np.zeros(d) if self.b is None else _validate.vector("b", self.b, dim=d)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", _validate.real("c", self.c))
        object.__setattr__(self, "eigenvalues", np.linalg.eigvalsh(A))

    @property
    def dim(self) -> int:
        """Dimension ``d``."""
        return self.A.shape[0]

    def value(self, x: np.ndarray) -> float:
        """f(x)."""
        x = np.asarray(x, dtype=float)
        return float(0.5 * x @ self.A @ x - self.b @ x + self.c)

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The gradient ``A x - b``."""
        return self.A @ np.asarray(x, dtype=float) - self.b

    @property
    def L(self) -> float:
        """The smoothness constant ``L = max_i |lambda_i(A)|`` (the largest eigenvalue when ``A`` is PSD)."""
        return float(np.abs(self.eigenvalues).max())

    @property
    def mu(self) -> float:
        """The strong-convexity constant ``mu``, the smallest eigenvalue of ``A`` (may be <= 0)."""
        return float(self.eigenvalues[0])

    @property
    def condition_number(self) -> float:
        """``L / mu``; ``inf`` when ``A`` is not positive definite."""
        return self.L / self.mu if self.mu > 0 else float("inf")

    def minimizer(self) -> np.ndarray:
        """The unique minimiser ``A^{-1} b``.

        Raises:
            ValueError: ``A`` is not positive definite, so there is no unique minimiser.
        """
        if self.mu <= 0:
            raise ValueError(f"A is not positive definite (smallest eigenvalue {self.mu:g})")
        return np.linalg.solve(self.A, self.b)

    def min_value(self) -> float:
        """f at the minimiser."""
        return self.value(self.minimizer())


@dataclass(frozen=True)
class FunctionObjective:
    """An objective given by two callables, e.g. a 1-D function and its derivative.

    Args:
        f: maps a 1-D array to a float.
        df: maps a 1-D array to an array of the same shape (the gradient).
        name: label used in plots and messages.
    """

    f: Callable[[np.ndarray], float]
    df: Callable[[np.ndarray], np.ndarray]
    name: str = "f"

    def __post_init__(self) -> None:
        _validate.callable_("f", self.f)
        _validate.callable_("df", self.df)
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {self.name!r}")

    def value(self, x: np.ndarray) -> float:
        return float(self.f(np.asarray(x, dtype=float)))

    def grad(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.df(np.asarray(x, dtype=float)), dtype=float)


def square() -> Quadratic:
    """``f(x) = x^2`` in one dimension (``A = [[2]]``): L = mu = 2, minimiser 0."""
    return Quadratic(A=np.array([[2.0]]))


def ill_conditioned_2d(a: float = 0.1, b: float = 2.0) -> Quadratic:
    """``f(x) = a x1^2 + b x2^2`` (defaults: ``0.1 x1^2 + 2 x2^2``, condition number 20)."""
    a = _validate.positive("a", a)
    b = _validate.positive("b", b)
    return Quadratic(A=np.diag([2 * a, 2 * b]))
