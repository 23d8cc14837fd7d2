"""Tests of sgdbook.theory.noise_floor (chapter 6): constant-step floor, Robbins–Monro decay."""

from __future__ import annotations

import numpy as np
import pytest

from sgdbook.theory import noise_floor as nf


def test_stationary_formula_matches_recursion_and_simulation():
    h, sigma, lr = 1.0, 1.0, 0.1
    exact = nf.expected_excess_loss(h, sigma, np.full(400, lr), 5.0)
    floor = nf.stationary_excess_loss(h, sigma, lr)
    assert exact[-1] == pytest.approx(floor, rel=1e-6)
    sim = nf.simulate(h, sigma, np.full(400, lr), 5.0, chains=20_000, seed=1)
    assert sim[-50:].mean() == pytest.approx(floor, rel=0.05)


def test_floor_proportional_to_lr_for_small_steps():
    a = nf.stationary_excess_loss(2.0, 1.0, 0.001)
    b = nf.stationary_excess_loss(2.0, 1.0, 0.002)
    assert b / a == pytest.approx(2.0, rel=0.002)


def test_robbins_monro_schedule_goes_below_every_floor():
    h, sigma = 1.0, 1.0
    t = np.arange(20_000)
    lrs = 1.0 / (1.0 + t)  # sum infinite, sum of squares finite
    e = nf.expected_excess_loss(h, sigma, lrs, 5.0)
    assert e[-1] < 1e-4
    assert e[-1] < nf.stationary_excess_loss(h, sigma, 0.01)


def test_square_summability_is_not_necessary():
    # eta_t = 0.5 / sqrt(t + 1): sum of squares diverges, yet the excess loss still tends to 0,
    # tracking the floor of the current step (about eta_t / 4).
    h, sigma = 1.0, 1.0
    lrs = 0.5 / np.sqrt(np.arange(100_000) + 1.0)
    assert np.sum(lrs**2) > 3.0
    e = nf.expected_excess_loss(h, sigma, lrs, 5.0)
    for n in (10_000, 100_000):
        assert e[n] == pytest.approx(nf.stationary_excess_loss(h, sigma, lrs[n - 1]), rel=0.01)
    assert e[100_000] < e[10_000] / 3 < e[1_000] / 9
    assert e[-1] < nf.stationary_excess_loss(h, sigma, 0.01) / 3


def test_summable_steps_freeze_the_mean():
    h = 1.0
    lrs = 0.5 * 0.9 ** np.arange(500)  # sum = 5 < inf
    limit = nf.limit_of_mean(h, lrs, 5.0)
    assert limit > 0.01
    e = nf.expected_excess_loss(h, 0.0, lrs, 5.0)
    assert e[-1] == pytest.approx(0.5 * limit**2, rel=1e-9)


def test_validation():
    with pytest.raises(ValueError, match="lr \\* h"):
        nf.stationary_excess_loss(1.0, 1.0, 2.5)
    with pytest.raises(ValueError, match="lrs"):
        nf.simulate(1.0, 1.0, [0.1, -0.1], 1.0)


def test_averaged_excess_loss_matches_simulation_and_the_asymptotic_formula():
    h, sigma, x0 = 1.0, 1.0, 5.0
    # exact against many chains on a short run (transient included)
    _, avg = nf.simulate_averaged(h, sigma, np.full(50, 0.5), x0, start=3, chains=200_000, seed=4)
    assert avg[-1] == pytest.approx(
        nf.averaged_excess_loss(h, sigma, 0.5, x0, start=3, m=48), rel=0.02
    )
    # long averages: sigma^2 / (2 h m), whatever the step
    for lr in (0.02, 0.1, 0.5):
        e = nf.averaged_excess_loss(h, sigma, lr, x0, start=2000, m=20_000)
        assert e == pytest.approx(sigma**2 / (2 * h * 20_000), rel=0.01)
    # m = 1 is the last iterate: the exact recursion
    e1 = nf.averaged_excess_loss(2.0, 0.3, 0.1, 1.5, start=40, m=1)
    assert e1 == pytest.approx(
        nf.expected_excess_loss(2.0, 0.3, np.full(40, 0.1), 1.5)[40], rel=1e-12
    )
    with pytest.raises(ValueError, match="lr"):
        nf.averaged_excess_loss(1.0, 1.0, 2.5, 0.0, start=0, m=5)
    with pytest.raises(ValueError, match="m"):
        nf.averaged_excess_loss(1.0, 1.0, 0.1, 0.0, start=0, m=0)


def test_polyak_ruppert_average_beats_the_noise_floor():
    lrs = np.full(4000, 0.1)
    last, avg = nf.simulate_averaged(1.0, 1.0, lrs, 5.0, start=1000, chains=500, seed=3)
    floor = nf.stationary_excess_loss(1.0, 1.0, 0.1)
    assert abs(last[-500:].mean() / floor - 1) < 0.1
    assert avg[-1] < floor / 20 and np.isnan(avg[999]) and not np.isnan(avg[1000])
    # same chains as simulate()
    np.testing.assert_allclose(last, nf.simulate(1.0, 1.0, lrs, 5.0, chains=500, seed=3))
    with pytest.raises(ValueError, match="start"):
        nf.simulate_averaged(1.0, 1.0, lrs, 5.0, start=5000)
