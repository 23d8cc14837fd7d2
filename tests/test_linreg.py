"""Tests of sgdbook.problems.linreg (chapter 6): data, schedule, divergence detection, curvatures."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from sgdbook.problems import linreg


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


def test_epoch_batches_are_seeded_permutations():
    batches = linreg.epoch_batches(1000, 128, epochs=3, seed=4)
    assert len(batches) == 3 and [len(b) for b in batches[0]] == [128] * 7 + [104]
    for epoch in batches:
        assert torch.equal(torch.sort(torch.cat(epoch)).values, torch.arange(1000))
    assert not torch.equal(torch.cat(batches[0]), torch.cat(batches[1]))
    gen = torch.Generator().manual_seed(4)
    first, second = torch.randperm(1000, generator=gen), torch.randperm(1000, generator=gen)
    assert torch.equal(torch.cat(batches[0]), first) and torch.equal(torch.cat(batches[1]), second)
    again = linreg.epoch_batches(1000, 128, epochs=3, seed=4)
    assert all(torch.equal(a, b) for ea, eb in zip(batches, again) for a, b in zip(ea, eb))
    with pytest.raises(ValueError, match="batch_size"):
        linreg.epoch_batches(10, 0)


def test_training_steps_on_the_epoch_batches(data):
    # replay the first steps of a run by hand on linreg.epoch_batches: the losses must agree
    X, y = data
    run = linreg.train_linreg(X, y, 10, 0.2, epochs=2, decay_epoch=None, record_every=10, seed=3)
    batches = [idx for epoch in linreg.epoch_batches(1000, 10, epochs=2, seed=3) for idx in epoch]
    w, b = torch.zeros(2), torch.zeros(1)
    for k, idx in enumerate(batches[:150]):
        gw, gb = linreg.gradient(X[idx], y[idx], w, b)
        w, b = torch.add(w, gw, alpha=-0.2), torch.add(b, gb, alpha=-0.2)
        assert run.losses[k + 1] == pytest.approx(float(linreg._loss(X, y, w, b)), rel=1e-5)
    # another shuffling gives other losses, so the comparison above is not vacuous
    other = linreg.train_linreg(X, y, 10, 0.2, epochs=2, decay_epoch=None, record_every=10, seed=4)
    assert not np.allclose(other.losses[1:150], run.losses[1:150], rtol=1e-3)


def test_batch_curvatures_are_those_of_the_training_batches(data):
    X, _ = data
    Xt = np.hstack([X.numpy().astype(float), np.ones((1000, 1))])
    order = torch.cat(
        [torch.cat(e) for e in linreg.epoch_batches(1000, 1, epochs=2, seed=5)]
    ).numpy()
    single = linreg.batch_curvatures(X, 1, epochs=2, seed=5)
    np.testing.assert_allclose(
        single, (Xt[order] ** 2).sum(1), rtol=1e-10
    )  # same order, not just same set
    tens = linreg.batch_curvatures(X, 10, epochs=3, seed=5)
    assert tens.shape == (300,)
    idx = linreg.epoch_batches(1000, 10, epochs=3, seed=5)[2][7].numpy()
    B = Xt[idx]
    assert tens[2 * 100 + 7] == pytest.approx(np.linalg.eigvalsh(B.T @ B / 10)[-1], rel=1e-12)


def test_every_batch_curvature_is_at_least_one(data):
    # the bias column makes (H_B)_33 = 1, so lambda_max >= 1 and 2 / lambda_max <= 2 for any batch
    X, _ = data
    for b in (1, 7, 10, 100):
        assert linreg.batch_curvatures(X, b, epochs=2, seed=b).min() >= 1 - 1e-12
    tiny = torch.full((50, 2), 1e-3)  # inputs almost zero: the bound is attained
    np.testing.assert_allclose(linreg.batch_curvatures(tiny, 10), 1.0, atol=1e-5)


def test_predicted_floor_matches_constant_step_runs(data):
    X, y = data
    fstar = linreg.least_squares_loss(X, y)
    assert fstar == pytest.approx(0.5 * 0.01**2, rel=0.15)
    pred = linreg.predicted_excess_loss(X, 0.2, 10, 0.01)
    runs = [
        linreg.train_linreg(X, y, 10, 0.2, epochs=6, decay_epoch=None, seed=s) for s in range(4)
    ]
    measured = np.mean([r.mean_loss_after(2000) - fstar for r in runs])
    assert measured == pytest.approx(pred, rel=0.5)
    decayed = np.mean(
        [
            linreg.train_linreg(X, y, 10, 0.2, epochs=6, decay_epoch=2, seed=s).mean_loss_after(
                2000
            )
            - fstar
            for s in range(4)
        ]
    )
    assert decayed < measured / 3
    with pytest.raises(ValueError, match="lambda_max"):
        linreg.predicted_excess_loss(X, 5.0, 10, 0.01)
