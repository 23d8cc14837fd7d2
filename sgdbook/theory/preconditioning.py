r"""Chapter 1 (:doc:`/gradient-descent`): Newton's method and preconditioned gradient descent, a preview.

Preconditioned gradient descent with a symmetric positive-definite matrix :math:`M` is

.. math:: x_{k+1} = x_k - \eta\, M \nabla f(x_k),

which is plain gradient descent on :math:`\tilde f(y) = f(M^{1/2} y)` in the coordinates
:math:`y = M^{-1/2} x`. On a quadratic with Hessian :math:`A` the speed is therefore set by the
condition number of :math:`M^{1/2} A M^{1/2}` (:func:`preconditioned_condition_number`; its
whole spectrum, whose top eigenvalue :math:`L_M` sets the step :math:`1/L_M`, is
:func:`preconditioned_spectrum`) instead of that of :math:`A`. :math:`M = A^{-1}` makes it 1, and one step with :math:`\eta = 1` is Newton's
step (:func:`newton_step`), which lands on the minimiser of a quadratic. :func:`jacobi` is the
cheap diagonal choice :math:`M = \mathrm{diag}(A)^{-1}`.
"""

from __future__ import annotations

import numpy as np

from .. import validation as _validate
from ..problems.objectives import FunctionObjective
from .gd import Trajectory, gradient_descent

__all__ = [
    "newton_step",
    "jacobi",
    "preconditioned_spectrum",
    "preconditioned_condition_number",
    "preconditioned_gradient_descent",
]


def _spd(name: str, M) -> np.ndarray:
    M = _validate.square_matrix(name, M, symmetric=True)
    if np.linalg.eigvalsh(M)[0] <= 0:
        raise ValueError(f"{name} must be positive definite")
    return M


def _sqrt_spd(M: np.ndarray) -> np.ndarray:
    lam, Q = np.linalg.eigh(M)
    return (Q * np.sqrt(lam)) @ Q.T


def newton_step(objective, x) -> np.ndarray:
    r"""One Newton step :math:`x - \nabla^2 f(x)^{-1}\nabla f(x)`.

    Args:
        objective: anything with ``grad(x)`` and ``hessian(x)`` (the quadratics of
            :mod:`sgdbook.problems.objectives` expose their Hessian as ``A``; both are accepted).
        x: the point.

    Returns:
        The new point.

    Raises:
        TypeError: ``objective`` has neither ``hessian`` nor ``A``.
        ValueError: the Hessian at ``x`` is not positive definite.
    """
    dim = getattr(objective, "dim", None)
    x = _validate.vector(
        "x", x, dim=dim if isinstance(dim, int) and not isinstance(dim, bool) else None
    )
    if hasattr(objective, "hessian"):
        H = objective.hessian(x)
    elif hasattr(objective, "A"):
        H = objective.A
    else:
        raise TypeError("objective must have a hessian(x) method or a Hessian A")
    H = _spd("hessian", H)
    if H.shape[0] != x.shape[0]:
        raise ValueError(
            f"x must have length {H.shape[0]} (the size of the Hessian), got length {x.shape[0]}"
        )
    return x - np.linalg.solve(H, objective.grad(x))


def jacobi(A) -> np.ndarray:
    r"""The Jacobi (diagonal) preconditioner :math:`M = \mathrm{diag}(A_{11}, \dots, A_{dd})^{-1}`.

    Args:
        A: a symmetric matrix with positive diagonal.

    Returns:
        The diagonal matrix :math:`M`.

    Raises:
        ValueError: ``A`` not square and symmetric, or a diagonal entry not positive.
    """
    A = _validate.square_matrix("A", A, symmetric=True)
    d = np.diag(A)
    if np.any(d <= 0):
        raise ValueError("A must have a positive diagonal")
    return np.diag(1.0 / d)


def preconditioned_spectrum(A, M) -> np.ndarray:
    r"""The eigenvalues of :math:`M^{1/2} A M^{1/2}`, in ascending order.

    They are the curvatures of :math:`\tilde f(y) = f(M^{1/2} y)` for a quadratic :math:`f` with
    Hessian :math:`A`; the largest one, :math:`L_M`, is the smoothness constant that sets the step
    :math:`1/L_M` of preconditioned gradient descent. (Every factor :math:`S` with
    :math:`SS^\top = M` gives the same spectrum, since :math:`S^\top A S` is similar to
    :math:`MA`.)

    Args:
        A: symmetric positive-definite Hessian.
        M: symmetric positive-definite preconditioner.

    Returns:
        The eigenvalues (an array of length :math:`d`).

    Raises:
        ValueError: ``A`` or ``M`` not symmetric positive definite, or their shapes differ.
    """
    A = _spd("A", A)
    M = _spd("M", M)
    if A.shape != M.shape:
        raise ValueError(f"A {A.shape} and M {M.shape} must have the same shape")
    S = _sqrt_spd(M)
    return np.linalg.eigvalsh(S @ A @ S)


def preconditioned_condition_number(A, M) -> float:
    r"""The condition number of :math:`M^{1/2} A M^{1/2}` (the Hessian in the new coordinates).

    Args:
        A: symmetric positive-definite Hessian.
        M: symmetric positive-definite preconditioner.

    Returns:
        :math:`\lambda_{\max}/\lambda_{\min}` of :math:`M^{1/2} A M^{1/2}`.

    Raises:
        ValueError: ``A`` or ``M`` not symmetric positive definite, or their shapes differ.
    """
    lam = preconditioned_spectrum(A, M)
    return float(lam[-1] / lam[0])


def preconditioned_gradient_descent(
    objective, x0, lr: float, steps: int, M, *, grad_tol: float | None = None
) -> Trajectory:
    r"""Run :math:`x_{k+1} = x_k - \eta M\nabla f(x_k)`.

    It runs :func:`sgdbook.theory.gd.gradient_descent` on :math:`\tilde f(y) = f(M^{1/2}y)` and maps the
    iterates back, so divergence is detected and reported as for plain gradient descent.

    Args:
        objective: anything with ``value(x)`` and ``grad(x)``.
        x0: starting point.
        lr: step size (> 0).
        steps: maximal number of steps (>= 0).
        M: symmetric positive-definite preconditioner (``d x d``).
        grad_tol: if given, stop once :math:`\|M^{1/2}\nabla f(x_k)\| \le` ``grad_tol``.

    Returns:
        A :class:`~sgdbook.theory.gd.Trajectory` of the :math:`x` iterates.

    Raises:
        ValueError: ``M`` not symmetric positive definite or of the wrong size, or an argument
            out of range.
    """
    _validate.objective("objective", objective)
    x0 = _validate.vector("x0", x0)
    M = _spd("M", M)
    if M.shape[0] != x0.shape[0]:
        raise ValueError(
            f"M must be {x0.shape[0]} x {x0.shape[0]} (the length of x0), got {M.shape}"
        )
    S = _sqrt_spd(M)
    g = FunctionObjective(lambda y: objective.value(S @ y), lambda y: S @ objective.grad(S @ y))
    run = gradient_descent(g, np.linalg.solve(S, x0), lr, steps, grad_tol=grad_tol)
    return Trajectory(run.xs @ S.T, run.losses, run.lr, run.converged, run.diverged)
