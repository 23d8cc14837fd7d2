"""Tests of sgdbook.optim.ema (chapter 5): the EMA recursion, its weights and the window facts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sgdbook.optim import ema


def test_bias_correction_exact_on_constant_series():
    series = np.full(50, 3.7)
    raw = ema.ema(series, 0.9)
    np.testing.assert_allclose(raw, 3.7 * (1 - 0.9 ** np.arange(1, 51)), rtol=1e-12)
    np.testing.assert_allclose(ema.ema(series, 0.9, bias_correction=True), 3.7, rtol=1e-12)


def test_ema_equals_weighted_sum():
    rng = np.random.default_rng(1)
    x = rng.normal(size=30)
    v = ema.ema(x, 0.8)
    w = ema.ema_weights(0.8, 30)
    assert v[-1] == pytest.approx(np.dot(w, x[::-1]), rel=1e-12)
    assert w.sum() == pytest.approx(1 - 0.8**30, rel=1e-12)


def test_beta_zero_is_identity():
    x = np.array([1.0, -2.0, 5.0])
    np.testing.assert_array_equal(ema.ema(x, 0.0), x)


def test_window_facts():
    s = ema.window_summary(0.99)
    assert s.window == pytest.approx(100)
    assert s.weight_ratio_after_window == pytest.approx(math.exp(-1), rel=0.01)
    assert s.mass_in_window == pytest.approx(1 - 0.99**100)
    assert s.mean_age == pytest.approx(99)
    assert s.equivalent_boxcar == pytest.approx(199)


def test_variance_ratio_matches_simulation():
    rng = np.random.default_rng(0)
    beta = 0.9
    noise = rng.normal(size=200_000)
    v = ema.ema(noise, beta)[1000:]
    assert np.var(v) == pytest.approx(ema.variance_ratio(beta), rel=0.03)


def test_mean_age_matches_weights():
    w = ema.ema_weights(0.95, 5000)
    assert np.dot(np.arange(5000), w) == pytest.approx(ema.mean_age(0.95), rel=1e-9)


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan")])
def test_rejects_bad_beta(bad):
    with pytest.raises(ValueError, match="beta"):
        ema.ema([1.0, 2.0], bad)


def test_noisy_series_reproducible():
    a = ema.noisy_series(100, seed=3)
    b = ema.noisy_series(100, seed=3)
    np.testing.assert_array_equal(a[1], b[1])
    assert a[0].shape == (100,)


def test_fed_back_correction_has_a_large_transient_but_does_not_diverge():
    wrong = ema.ema_correction_fed_back(np.full(4, 3.0), 0.9)
    np.testing.assert_allclose(wrong, [3.0, 3.0 / 0.19, (0.9 * 3.0 / 0.19 + 0.3) / 0.271, wrong[3]])
    assert wrong[1] == pytest.approx(15.789, abs=1e-3) and wrong[2] == pytest.approx(
        53.54, abs=1e-2
    )
    long = ema.ema_correction_fed_back(np.full(400, 3.0), 0.9)
    assert long.max() > 1e3 and abs(long[-1] - 3.0) < 1e-6  # a huge transient, not a divergence
    np.testing.assert_allclose(ema.ema(np.full(30, 3.0), 0.9, bias_correction=True), 3.0)
