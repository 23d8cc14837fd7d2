"""Tests of sgdbook.theory.heavy_ball (chapter 5): Polyak's optimum, rates, torch equivalences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sgdbook.problems import objectives
from sgdbook.theory import heavy_ball as hb


@pytest.mark.parametrize("kappa", [4.0, 20.0, 100.0])
def test_optimum_matches_brute_force_sweep(kappa):
    mu, L = 1.0, kappa
    best = hb.optimal_parameters(mu, L)
    lrs = np.linspace(0.2, 1.5, 400) * best.lr
    moms = np.linspace(0.0, 0.999, 400)
    R = hb.rate_grid(mu, L, lrs, moms)
    i, j = np.unravel_index(np.argmin(R), R.shape)
    assert R.min() >= best.rate - 1e-9  # nothing on the grid beats the formula
    assert R.min() == pytest.approx(best.rate, abs=5e-3)
    assert lrs[j] == pytest.approx(best.lr, rel=0.05)
    assert moms[i] == pytest.approx(best.momentum, abs=0.02)


def test_rate_formula():
    p = hb.optimal_parameters(0.2, 4.0)
    sk = np.sqrt(20.0)
    assert p.rate == pytest.approx((sk - 1) / (sk + 1))
    assert p.lr == pytest.approx(4 / (np.sqrt(4.0) + np.sqrt(0.2)) ** 2)
    # every eigenvalue in [mu, L] has modulus sqrt(beta)
    lam = np.linspace(0.2, 4.0, 50)
    for eig in lam:
        assert hb.spectral_radius(p.lr, p.momentum, [eig]) == pytest.approx(p.rate, rel=1e-7)


def test_measured_rate_agrees_with_spectral_radius():
    lrs = np.array([0.3, 0.5, 0.6])
    moms = np.array([0.2, 0.5, 0.7])
    measured = hb.measured_rate(0.2, 4.0, lrs, moms, steps=3000)
    np.testing.assert_allclose(measured, hb.spectral_radius(lrs, moms, [0.2, 4.0]), rtol=2e-3)


def test_gd_optimal():
    p = hb.gd_optimal(1.0, 9.0)
    assert p.lr == pytest.approx(0.2) and p.rate == pytest.approx(0.8)
    assert hb.spectral_radius(p.lr, 0.0, [1.0, 9.0]) == pytest.approx(0.8)


def test_heavy_ball_equals_torch_sgd_momentum():
    q = objectives.ill_conditioned_2d()
    traj = hb.heavy_ball(q, [3.0, 2.0], 0.3, 0.8, 40)
    x = torch.tensor([3.0, 2.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.3, momentum=0.8)
    A = torch.tensor(q.A)
    for k in range(40):
        opt.zero_grad()
        x.grad = A @ x.detach()
        opt.step()
        np.testing.assert_allclose(x.detach().numpy(), traj.xs[k + 1], rtol=1e-12, atol=1e-14)


def test_torch_nesterov_produces_lookahead_points():
    q = objectives.ill_conditioned_2d()
    thetas, looks = hb.nesterov_sutskever(q, [3.0, 2.0], 0.2, 0.9, 30)
    x = torch.tensor([3.0, 2.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.2, momentum=0.9, nesterov=True)
    A = torch.tensor(q.A)
    for k in range(30):
        x.grad = A @ x.detach()
        opt.step()
        np.testing.assert_allclose(x.detach().numpy(), looks[k + 1], rtol=1e-11, atol=1e-13)
    assert not np.allclose(thetas[5], looks[5])


def test_divergence_reported():
    q = objectives.ill_conditioned_2d()
    t = hb.heavy_ball(q, [1.0, 1.0], 1.5, 0.5, 10_000)
    assert t.diverged and t.steps < 10_000


def test_validation():
    with pytest.raises(ValueError, match="L must be >= mu"):
        hb.optimal_parameters(2.0, 1.0)
    with pytest.raises(ValueError, match="momentum"):
        hb.heavy_ball(objectives.square(), 1.0, 0.1, 1.0, 5)
    assert hb.iterations_to_tolerance(0.5, 1e-3) == pytest.approx(np.log(1e3) / np.log(2))


def test_nesterov_spectral_radius_matches_runs():
    q = objectives.Quadratic(np.diag([0.2, 4.0]))
    for lr, mom in [(0.25, 0.9), (0.25, 0.635), (0.1, 0.5)]:
        thetas, _ = hb.nesterov_sutskever(q, [1.0, 1.0], lr, mom, 600)
        err = np.linalg.norm(thetas, axis=1)
        assert hb.observed_rate(err, 300, 600) == pytest.approx(
            float(hb.nesterov_spectral_radius(lr, mom, [0.2, 4.0])), rel=5e-3
        )


def test_observed_rate():
    e = 3.0 * 0.5 ** np.arange(10)
    assert hb.observed_rate(e, 2, 8) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="stop"):
        hb.observed_rate(e, 2, 10)


# Nesterov's accelerated gradient (1983 form, common beta_k simplification) against its bounds


def test_accelerated_gradient_meets_the_convex_bound():
    A, b, xs, fs = hb.worst_case_quadratic(100, L=2.0)
    X = hb.accelerated_gradient(lambda x: A @ x - b, np.zeros(100), 0.5, 300)
    gap = np.array([0.5 * x @ A @ x - b @ x for x in X]) - fs
    k = np.arange(301)
    assert np.all(gap <= 2 * 2.0 * (xs @ xs) / (k + 1) ** 2 + 1e-12)
    # gradient descent with the same step is slower at the end
    g = np.zeros(100)
    for _ in range(300):
        g = g - 0.5 * (A @ g - b)
    assert 0.5 * g @ A @ g - b @ g - fs > gap[-1]


def test_constant_momentum_is_the_strongly_convex_scheme():
    mu, L = 0.2, 4.0
    A = np.diag([mu, L])
    beta = (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
    x0 = np.array([-5.0, -2.0])
    X = hb.accelerated_gradient(lambda x: A @ x, x0, 1 / L, 80, momentum=beta)
    f = 0.5 * np.einsum("ki,ij,kj->k", X, A, X)
    bound = (1 - np.sqrt(mu / L)) ** np.arange(81) * (f[0] + mu / 2 * x0 @ x0)
    assert np.all(f <= bound)


def test_worst_case_quadratic_validates():
    with pytest.raises(ValueError, match="n"):
        hb.worst_case_quadratic(1)
    with pytest.raises(ValueError, match="momentum"):
        hb.accelerated_gradient(lambda x: x, [1.0], 0.1, 3, momentum=1.0)
