"""Tests of sgdbook.linreg (chapter 6): data, schedule, divergence detection, curvatures."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from sgdbook import linreg


@pytest.fixture(scope="module")
def data():
    return linreg.synthetic_regression()


def test_data(data):
    X, y = data
    assert X.shape == (1000, 2) and y.shape == (1000,)
    w, *_ = np.linalg.lstsq(np.hstack([X.numpy(), np.ones((1000, 1))]), y.numpy(), rcond=None)
    np.testing.assert_allclose(w, [2.0, -3.4, 4.2], atol=2e-3)


def test_gradient_matches_autograd(data):
    X, y = data
    w = torch.tensor([0.3, -0.7], requires_grad=True)
    b = torch.tensor([0.1], requires_grad=True)
    linreg._loss(X[:13], y[:13], w, b).backward()
    gw, gb = linreg.gradient(X[:13], y[:13], w.detach(), b.detach())
    torch.testing.assert_close(gw, w.grad)
    torch.testing.assert_close(gb, b.grad)


def test_lr_divided_by_ten_after_epoch_two(data):
    r = linreg.train_linreg(*data, 100, 0.2, epochs=4)
    assert r.lrs == pytest.approx((0.2, 0.2, 0.02, 0.02))
    c = linreg.train_linreg(*data, 100, 0.2, epochs=4, decay_epoch=None)
    assert c.lrs == (0.2,) * 4


def test_outline_settings(data):
    good = linreg.train_linreg(*data, 1000, 0.999)
    assert good.final_loss < 1e-4
    slow = linreg.train_linreg(*data, 10, 0.002)
    assert slow.final_loss > 1.0 and not slow.diverged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad = linreg.train_linreg(*data, 10, 5.0)
    assert bad.diverged and bad.diverged_at < 100 and bad.final_loss == float("inf")
    assert "发散" in bad.status()


def test_reproducible(data):
    a = linreg.train_linreg(*data, 10, 0.2, seed=3)
    b = linreg.train_linreg(*data, 10, 0.2, seed=3)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_batch_curvatures(data):
    X, _ = data
    full = linreg.batch_curvatures(X, 1000)
    Xt = np.hstack([X.numpy().astype(float), np.ones((1000, 1))])
    assert full[0] == pytest.approx(np.linalg.eigvalsh(Xt.T @ Xt / 1000)[-1])
    single = linreg.batch_curvatures(X, 1)
    np.testing.assert_allclose(np.sort(single), np.sort((Xt**2).sum(1)), rtol=1e-10)
    assert linreg.batch_curvatures(X, 10).shape == (100,)


def test_predicted_floor_matches_constant_step_runs(data):
    X, y = data
    fstar = linreg.least_squares_loss(X, y)
    assert fstar == pytest.approx(0.5 * 0.01**2, rel=0.15)
    pred = linreg.predicted_excess_loss(X, 0.2, 10, 0.01)
    runs = [linreg.train_linreg(X, y, 10, 0.2, epochs=6, decay_epoch=None, seed=s) for s in range(4)]
    measured = np.mean([r.mean_loss_after(2000) - fstar for r in runs])
    assert measured == pytest.approx(pred, rel=0.5)
    decayed = np.mean([linreg.train_linreg(X, y, 10, 0.2, epochs=6, decay_epoch=2, seed=s).mean_loss_after(2000)
                       - fstar for s in range(4)])
    assert decayed < measured / 3
    with pytest.raises(ValueError, match="lambda_max"):
        linreg.predicted_excess_loss(X, 5.0, 10, 0.01)
