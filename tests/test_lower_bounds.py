"""Tests of sgdbook.theory.lower_bounds: Nesterov's worst functions, the floors, conjugate gradients."""

from __future__ import annotations

import numpy as np
import pytest

from sgdbook.problems.objectives import Quadratic
from sgdbook.theory import bounds, gd, lower_bounds


@pytest.mark.parametrize("n", [1, 5, 40])
def test_convex_function_closed_forms(n):
    q = lower_bounds.nesterov_convex_quadratic(n, 2.0)
    i = np.arange(1, n + 1)
    np.testing.assert_allclose(q.minimizer(), 1 - i / (n + 1), rtol=1e-10)
    assert q.min_value() == pytest.approx(2.0 / 8 * (-1 + 1 / (n + 1)))
    assert 0 < q.mu and q.L < 2.0  # eigenvalues inside (0, L)


def test_strongly_convex_minimiser_is_geometric():
    kappa = 25.0
    q = lower_bounds.nesterov_strongly_convex_quadratic(300, 1.0, 1 / kappa)
    r = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    np.testing.assert_allclose(q.minimizer()[:50], r ** np.arange(1, 51), rtol=1e-9)
    assert 1 / kappa < q.mu and q.L < 1.0


def test_gd_lights_one_coordinate_per_step_and_respects_the_floor():
    n, L = 61, 3.0
    q = lower_bounds.nesterov_convex_quadratic(n, L)
    for lr in (0.3 / L, 1 / L, 1.9 / L):
        run = gd.gradient_descent(q, np.zeros(n), lr, 30)
        assert [lower_bounds.support_size(x) for x in run.xs] == list(range(31))
        gap = run.losses - q.min_value()
        assert bounds.bound_holds(lower_bounds.krylov_gap_floor(np.arange(31), n, L), gap)


def test_conjugate_gradient_attains_the_floor():
    n, L = 41, 1.0
    q = lower_bounds.nesterov_convex_quadratic(n, L)
    cg = lower_bounds.conjugate_gradient(q, np.zeros(n), 20)
    floor = lower_bounds.krylov_gap_floor(np.arange(21), n, L)
    np.testing.assert_allclose(cg.losses - q.min_value(), floor, rtol=1e-8, atol=1e-14)
    # with 2k + 1 = n the floor is at least Nesterov's constant form
    k = (n - 1) // 2
    assert floor[k] >= lower_bounds.convex_lower_bound(k, L, np.linalg.norm(q.minimizer()))


def test_conjugate_gradient_solves_in_d_steps():
    rng = np.random.default_rng(0)
    B = rng.normal(size=(6, 6))
    q = Quadratic(B @ B.T + np.eye(6), b=rng.normal(size=6))
    cg = lower_bounds.conjugate_gradient(q, np.zeros(6), 10)
    np.testing.assert_allclose(cg.x, q.minimizer(), atol=1e-9)


def test_strongly_convex_floor_and_bound():
    kappa, n = 50.0, 300
    q = lower_bounds.nesterov_strongly_convex_quadratic(n, 1.0, 1 / kappa)
    k = np.arange(101)
    floor = lower_bounds.krylov_distance_floor(q, k)
    d0 = np.linalg.norm(q.minimizer())
    np.testing.assert_allclose(
        floor, lower_bounds.strongly_convex_lower_bound(k, 1.0, 1 / kappa, d0), rtol=1e-8
    )
    run = gd.gradient_descent(q, np.zeros(n), 2 / (1 + 1 / kappa), 100)
    dist = np.linalg.norm(run.xs - q.minimizer(), axis=1)
    assert bounds.bound_holds(floor, dist)
    assert np.all(dist[40:] > 100 * floor[40:])  # GD is far from optimal here


def test_gd_on_worst_function_agrees_with_torch():
    torch = pytest.importorskip("torch")
    n = 15
    q = lower_bounds.nesterov_convex_quadratic(n, 1.0)
    run = gd.gradient_descent(q, np.zeros(n), 0.8, 12)
    A = torch.tensor(q.A, dtype=torch.float64)
    b = torch.tensor(q.b, dtype=torch.float64)
    x = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.8)
    for k in range(12):
        opt.zero_grad()
        (0.5 * x @ A @ x - b @ x).backward()
        opt.step()
        np.testing.assert_allclose(x.detach().numpy(), run.xs[k + 1], rtol=1e-12, atol=1e-14)


def test_values_and_validation():
    assert lower_bounds.convex_lower_bound(1, 4.0, 2.0) == pytest.approx(3 * 4 * 4 / (32 * 4))
    assert lower_bounds.strongly_convex_lower_bound(2, 9.0, 1.0, 1.0) == pytest.approx(0.25)
    assert lower_bounds.krylov_gap_floor(3, 3, 1.0) == pytest.approx(0.0)
    assert lower_bounds.support_size([1.0, 0.0, 2.0, 0.0]) == 3
    with pytest.raises(ValueError, match="k must lie in"):
        lower_bounds.krylov_gap_floor(5, 4, 1.0)
    with pytest.raises(TypeError, match="k must be an integer"):
        lower_bounds.convex_lower_bound(1.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="mu must be < L"):
        lower_bounds.nesterov_strongly_convex_quadratic(3, 1.0, 1.0)
    with pytest.raises(ValueError, match="n must be >= 1"):
        lower_bounds.nesterov_convex_quadratic(0, 1.0)
    with pytest.raises(ValueError, match="L must be > 0"):
        lower_bounds.nesterov_convex_quadratic(3, -1.0)
    with pytest.raises(TypeError, match="Quadratic"):
        lower_bounds.conjugate_gradient("q", [0.0], 3)


def test_conjugate_gradient_iterates_minimise_over_the_krylov_subspace():
    """Iterate by iterate, CG equals the minimiser of f over x0 + span{g_0, ..., g_{k-1}}."""
    rng = np.random.default_rng(11)
    d = 8
    Qm, _ = np.linalg.qr(rng.normal(size=(d, d)))
    A = (Qm * np.linspace(0.5, 6.0, d)) @ Qm.T
    q = Quadratic(0.5 * (A + A.T), b=rng.normal(size=d))
    x0 = rng.normal(size=d)
    cg = lower_bounds.conjugate_gradient(q, x0, d)
    grads = [q.grad(x) for x in cg.xs]
    for k in range(1, d + 1):
        V, _ = np.linalg.qr(np.column_stack(grads[:k]))  # basis of span{g_0, ..., g_{k-1}}
        # minimise f(x0 + V z): V^T A V z = -V^T grad f(x0)
        z = np.linalg.solve(V.T @ q.A @ V, -V.T @ q.grad(x0))
        np.testing.assert_allclose(cg.xs[k], x0 + V @ z, rtol=1e-9, atol=1e-10)
