"""Tests of sgdbook.theory.preconditioning: Newton's step, Jacobi, preconditioned gradient descent."""

from __future__ import annotations

import numpy as np
import pytest

from sgdbook.problems import objectives
from sgdbook.problems.landscapes import LogisticLoss, two_gaussians
from sgdbook.theory import bounds, preconditioning


def rotated_quadratic(theta: float) -> objectives.Quadratic:
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    A = R @ np.diag([0.2, 4.0]) @ R.T
    return objectives.Quadratic(0.5 * (A + A.T), b=np.array([1.0, -2.0]))


def test_newton_step_solves_a_quadratic():
    q = rotated_quadratic(0.7)
    np.testing.assert_allclose(
        preconditioning.newton_step(q, [5.0, -3.0]), q.minimizer(), atol=1e-12
    )


def test_newton_step_on_logistic_agrees_with_torch():
    torch = pytest.importorskip("torch")
    X, y = two_gaussians(20, seed=2)
    f = LogisticLoss(X, y, reg=0.1)
    w = np.array([0.5, -1.0])
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def loss(v):
        return torch.nn.functional.softplus(-yt * (Xt @ v)).mean() + 0.05 * v @ v

    wt = torch.tensor(w)
    g = torch.autograd.functional.jacobian(loss, wt).numpy()
    H = torch.autograd.functional.hessian(loss, wt).numpy()
    np.testing.assert_allclose(
        preconditioning.newton_step(f, w), w - np.linalg.solve(H, g), rtol=1e-10
    )


def test_condition_numbers():
    q = rotated_quadratic(0.0)
    assert preconditioning.preconditioned_condition_number(q.A, np.eye(2)) == pytest.approx(20.0)
    assert preconditioning.preconditioned_condition_number(
        q.A, preconditioning.jacobi(q.A)
    ) == pytest.approx(1.0)
    qr = rotated_quadratic(np.pi / 6)
    kj = preconditioning.preconditioned_condition_number(qr.A, preconditioning.jacobi(qr.A))
    assert 1.0 < kj < 20.0  # helps, but not fully
    assert preconditioning.preconditioned_condition_number(
        qr.A, np.linalg.inv(qr.A)
    ) == pytest.approx(1.0)
    # at 45 degrees the diagonal is constant: Jacobi changes nothing
    q45 = rotated_quadratic(np.pi / 4)
    assert preconditioning.preconditioned_condition_number(
        q45.A, preconditioning.jacobi(q45.A)
    ) == pytest.approx(20.0)


def test_preconditioned_gd_is_the_plain_recursion_and_obeys_the_new_kappa():
    q = rotated_quadratic(np.pi / 6)
    M = preconditioning.jacobi(q.A)
    x0 = np.array([-8.0, 2.0])
    S = np.linalg.cholesky(M)
    lam = np.linalg.eigvalsh(S.T @ q.A @ S)
    lr = 1 / lam[-1]
    run = preconditioning.preconditioned_gradient_descent(q, x0, lr, 60, M)
    x = x0.copy()
    for k in range(60):
        x = x - lr * M @ q.grad(x)
        np.testing.assert_allclose(run.xs[k + 1], x, rtol=1e-10, atol=1e-12)
    gap = run.losses - q.min_value()
    b = bounds.linear_rate_bound(np.arange(61), lam[-1], lam[0], gap[0])  # rate with the new kappa
    assert bounds.bound_holds(gap, b)


def test_preconditioned_gd_reports_divergence():
    q = rotated_quadratic(0.0)
    run = preconditioning.preconditioned_gradient_descent(q, [1.0, 1.0], 3.0, 500, np.eye(2))
    assert run.diverged and "发散" in run.status()


def test_exact_preconditioner_one_step():
    q = rotated_quadratic(1.1)
    run = preconditioning.preconditioned_gradient_descent(q, [3.0, 3.0], 1.0, 1, np.linalg.inv(q.A))
    np.testing.assert_allclose(run.x, q.minimizer(), atol=1e-10)


def test_validation():
    q = rotated_quadratic(0.0)
    with pytest.raises(ValueError, match="M must be positive definite"):
        preconditioning.preconditioned_gradient_descent(q, [1.0, 1.0], 0.1, 3, -np.eye(2))
    with pytest.raises(ValueError, match="M must be 2 x 2"):
        preconditioning.preconditioned_gradient_descent(q, [1.0, 1.0], 0.1, 3, np.eye(3))
    with pytest.raises(ValueError, match="positive diagonal"):
        preconditioning.jacobi(np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="hessian must be positive definite"):
        preconditioning.newton_step(objectives.Quadratic(np.diag([1.0, -1.0])), [1.0, 1.0])
    with pytest.raises(TypeError, match="hessian"):
        preconditioning.newton_step(objectives.FunctionObjective(np.sum, np.sign), [1.0])
    with pytest.raises(ValueError, match="same shape"):
        preconditioning.preconditioned_condition_number(np.eye(2), np.eye(3))


def test_preconditioned_spectrum():
    q = rotated_quadratic(0.4)
    rng = np.random.default_rng(5)
    B = rng.normal(size=(2, 2))
    M = B @ B.T + 0.5 * np.eye(2)
    lam = preconditioning.preconditioned_spectrum(q.A, M)
    # the same spectrum as M A (similar matrices) and as S^T A S for the Cholesky factor S
    np.testing.assert_allclose(lam, np.sort(np.linalg.eigvals(M @ q.A).real), rtol=1e-10)
    S = np.linalg.cholesky(M)
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(S.T @ q.A @ S), rtol=1e-10)
    assert preconditioning.preconditioned_condition_number(q.A, M) == pytest.approx(
        lam[-1] / lam[0]
    )
    np.testing.assert_allclose(
        preconditioning.preconditioned_spectrum(q.A, np.linalg.inv(q.A)), 1.0
    )
    # 2/L_M is the stability threshold of the preconditioned run
    kw = dict(x0=[3.0, -1.0], steps=300, M=M)
    stable = preconditioning.preconditioned_gradient_descent(q, lr=1.9 / lam[-1], **kw)
    assert stable.losses[-1] - q.min_value() < 1e-6 * (stable.losses[0] - q.min_value())
    unstable = preconditioning.preconditioned_gradient_descent(q, lr=2.1 / lam[-1], **kw)
    assert (
        unstable.diverged or unstable.losses[-1] - q.min_value() > stable.losses[0] - q.min_value()
    )
    with pytest.raises(ValueError, match="same shape"):
        preconditioning.preconditioned_spectrum(q.A, np.eye(3))
    with pytest.raises(ValueError, match="M must be positive definite"):
        preconditioning.preconditioned_spectrum(q.A, -np.eye(2))
