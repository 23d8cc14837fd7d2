"""Tests of sgdbook.problems.training (chapter 5): data, the loop, reproducibility, fair comparison."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sgdbook.problems import training


@pytest.fixture(scope="module")
def data():
    return training.load_digits_data(device="cpu")


def test_digits_shapes_and_standardisation(data):
    assert data.sizes == (1077, 360, 360)
    assert data.X_train.shape == (1077, 64) and data.X_train.dtype == torch.float32
    assert set(data.y_train.unique().tolist()) == set(range(10))
    m = data.X_train.mean(0)
    assert float(m.abs().max()) < 1e-5
    # splits are disjoint: no test image equals a training image row-for-row in bulk
    assert data.y_test.shape == (360,)


def test_split_depends_on_seed_only(data):
    again = training.load_digits_data(device="cpu")
    assert torch.equal(again.X_test, data.X_test)
    other = training.load_digits_data(seed=1, device="cpu")
    assert not torch.equal(other.X_test, data.X_test)


def _adam(p, lr):
    return torch.optim.Adam(p, lr=lr)


def test_training_reproducible_with_seed(data):
    a = training.train(_adam, 3e-3, data, epochs=2, seed=5)
    b = training.train(_adam, 3e-3, data, epochs=2, seed=5)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    assert a.test_acc == b.test_acc
    c = training.train(_adam, 3e-3, data, epochs=2, seed=6)
    assert not np.array_equal(a.train_loss, c.train_loss)


def test_training_learns(data):
    r = training.train(_adam, 1e-2, data, epochs=4, seed=0)
    assert r.train_loss[-1] < r.train_loss[0] < 2.5
    assert r.test_acc > 0.9 and not r.diverged


def test_divergence_detected(data):
    r = training.train(lambda p, lr: torch.optim.SGD(p, lr=lr), 1e6, data, epochs=3, seed=0)
    assert r.diverged and np.isnan(r.test_acc)


def test_compare_picks_lowest_validation_loss(data):
    res = training.compare_optimizers(
        {"SGD": lambda p, lr: torch.optim.SGD(p, lr=lr)},
        {"SGD": [1e-4, 0.3]},
        data,
        seeds=(0, 1),
        epochs=2,
    )
    (c,) = res
    assert c.best_lr == 0.3 and c.best_on_edge
    assert c.grid_val_loss[1] < c.grid_val_loss[0]
    assert c.test_acc.shape == (2,) and c.train_loss.shape == (2, 2)
    # default: the tuning run (seed 0) is reused as the first reported run
    assert c.tuning_seed == 0 and c.seeds == (0, 1) and c.reuses_tuning_run
    tuned = training.train(lambda p, lr: torch.optim.SGD(p, lr=lr), 0.3, data, epochs=2, seed=0)
    np.testing.assert_array_equal(c.runs[0].train_loss, tuned.train_loss)


def test_compare_with_separate_tuning_seed(data):
    make = {"SGD": lambda p, lr: torch.optim.SGD(p, lr=lr)}
    (c,) = training.compare_optimizers(
        make, {"SGD": [1e-4, 0.3]}, data, seeds=(1, 2), tuning_seed=0, epochs=2
    )
    assert c.best_lr == 0.3 and c.tuning_seed == 0 and c.seeds == (1, 2) and not c.reuses_tuning_run
    (d,) = training.compare_optimizers(make, {"SGD": [1e-4, 0.3]}, data, seeds=(0, 1), epochs=2)
    np.testing.assert_array_equal(c.grid_val_loss, d.grid_val_loss)  # same tuning runs
    for run, seed in zip(c.runs, (1, 2)):  # reported runs: their own seeds
        again = training.train(make["SGD"], 0.3, data, epochs=2, seed=seed)
        np.testing.assert_array_equal(run.train_loss, again.train_loss)
    assert not np.array_equal(c.runs[0].train_loss, d.runs[0].train_loss)
    with pytest.raises(ValueError, match="tuning_seed"):
        training.compare_optimizers(
            make, {"SGD": [0.3]}, data, seeds=(1,), tuning_seed=-1, epochs=1
        )


def test_accuracy_summary_uses_sample_std(data):
    (c,) = training.compare_optimizers(
        {"SGD": lambda p, lr: torch.optim.SGD(p, lr=lr)},
        {"SGD": [0.3]},
        data,
        seeds=(1, 2, 3),
        tuning_seed=0,
        epochs=1,
    )
    acc = c.test_acc
    assert c.test_acc_mean == pytest.approx(acc.mean())
    assert c.test_acc_std == pytest.approx(np.sqrt(np.sum((acc - acc.mean()) ** 2) / 2))
    assert c.test_acc_std > 0
    (one,) = training.compare_optimizers(
        {"SGD": lambda p, lr: torch.optim.SGD(p, lr=lr)}, {"SGD": [0.3]}, data, seeds=(1,), epochs=1
    )
    assert np.isnan(one.test_acc_std)


def test_thread_count_restored(data):
    before = torch.get_num_threads()
    training.train(_adam, 1e-3, data, epochs=1)
    assert torch.get_num_threads() == before


def test_validation_errors(data):
    with pytest.raises(ValueError, match="lr"):
        training.train(_adam, -1.0, data)
    with pytest.raises(ValueError, match="no learning-rate grid"):
        training.compare_optimizers({"A": _adam}, {}, data)
