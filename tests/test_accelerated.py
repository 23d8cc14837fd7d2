"""Nesterov's 1983 method against its bounds, the EMA erratum, and L2 vs SGDW."""

from __future__ import annotations

import numpy as np
import pytest

import sgdbook.ema as ema
import sgdbook.heavy_ball as hb
import sgdbook.paper_forms as pf


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


def test_fed_back_correction_diverges_for_a_constant_series():
    wrong = ema.ema_correction_fed_back(np.full(4, 3.0), 0.9)
    np.testing.assert_allclose(wrong, [3.0, 3.0 / 0.19, (0.9 * 3.0 / 0.19 + 0.3) / 0.271, wrong[3]])
    assert wrong[1] == pytest.approx(15.789, abs=1e-3) and wrong[2] == pytest.approx(53.54, abs=1e-2)
    long = ema.ema_correction_fed_back(np.full(400, 3.0), 0.9)
    assert long.max() > 1e3 and abs(long[-1] - 3.0) < 1e-6   # a huge transient, not a divergence
    np.testing.assert_allclose(ema.ema(np.full(30, 3.0), 0.9, bias_correction=True), 3.0)


def test_l2_equals_sgdw_only_without_momentum():
    grad = lambda x: np.array([1.0, 10.0]) * np.sin(x)
    l2, w = pf.sgd_weight_decay_forms(grad, [1.0, 2.0], 50, lr=0.05, momentum=0.0, wd=0.5)
    np.testing.assert_allclose(l2, w, rtol=1e-12, atol=1e-14)
    l2, w = pf.sgd_weight_decay_forms(grad, [1.0, 2.0], 50, lr=0.05, momentum=0.9, wd=0.5)
    assert np.abs(l2 - w).max() > 1e-2


def test_polyak_ruppert_average_beats_the_noise_floor():
    import sgdbook.noise_floor as nf
    lrs = np.full(4000, 0.1)
    last, avg = nf.simulate_averaged(1.0, 1.0, lrs, 5.0, start=1000, chains=500, seed=3)
    floor = nf.stationary_excess_loss(1.0, 1.0, 0.1)
    assert abs(last[-500:].mean() / floor - 1) < 0.1
    assert avg[-1] < floor / 20 and np.isnan(avg[999]) and not np.isnan(avg[1000])
    # same chains as simulate()
    np.testing.assert_allclose(last, nf.simulate(1.0, 1.0, lrs, 5.0, chains=500, seed=3))
    with pytest.raises(ValueError, match="start"):
        nf.simulate_averaged(1.0, 1.0, lrs, 5.0, start=5000)
