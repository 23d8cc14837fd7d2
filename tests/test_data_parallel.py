"""Tests of sgdbook.systems.data_parallel: DDP with DistributedSampler and gradient accumulation give the
parameters of single-process large-batch training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sgdbook.systems import data_parallel as dp


def _problem(n=96, d=4):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = np.tanh(X @ rng.normal(size=d)) + 0.1 * rng.normal(size=n)
    return X, y


def _maxdiff(a, b):
    return max(float(np.max(np.abs(x - z))) for x, z in zip(a, b))


def test_global_batches_are_the_union_of_the_samplers_shards():
    batches = dp.global_batches(20, world_size=2, micro_batch=3, accumulation=1, epochs=2, seed=4)
    assert all(len(b) == 6 for b in batches)
    assert len(batches) == 2 * 3  # 10 examples per rank: 3 full micro-batches per epoch
    for epoch in range(2):
        shards = []
        for rank in range(2):
            s = torch.utils.data.DistributedSampler(
                list(range(20)), num_replicas=2, rank=rank, shuffle=True, seed=4
            )
            s.set_epoch(epoch)
            shards.append(list(s))
        for k in range(3):
            expected = sorted(shards[0][3 * k : 3 * k + 3] + shards[1][3 * k : 3 * k + 3])
            assert sorted(batches[3 * epoch + k].tolist()) == expected


def test_accumulation_equals_large_batch():
    X, y = _problem()
    batches = dp.global_batches(len(y), world_size=1, micro_batch=24, epochs=3, seed=1)
    ref = dp.large_batch_training(X, y, batches, hidden=6, lr=0.2, seed=2)
    acc = dp.accumulated_training(X, y, batches, hidden=6, lr=0.2, seed=2, accumulation=4)
    start = [p.detach().numpy() for p in dp.make_model(4, 6, seed=2).parameters()]
    assert _maxdiff(acc, ref) < 1e-12
    assert _maxdiff(start, ref) > 1e-3  # training moved the parameters


def test_accumulation_with_unequal_micro_batches_is_rejected():
    X, y = _problem()
    with pytest.raises(ValueError, match="accumulation"):
        dp.accumulated_training(X, y, [np.arange(10)], hidden=3, lr=0.1, seed=0, accumulation=3)


@pytest.mark.parametrize("accumulation", [1, 2])
def test_ddp_equals_single_process_large_batch(accumulation):
    X, y = _problem()
    per_rank = dp.ddp_training(
        X,
        y,
        world_size=2,
        hidden=6,
        micro_batch=6,
        lr=0.2,
        epochs=2,
        seed=1,
        accumulation=accumulation,
        backend="gloo",
        timeout=120,
    )
    batches = dp.global_batches(
        len(y), world_size=2, micro_batch=6, accumulation=accumulation, epochs=2, seed=1
    )
    assert all(len(b) == 12 * accumulation for b in batches)
    ref = dp.large_batch_training(X, y, batches, hidden=6, lr=0.2, seed=1)
    for params in per_rank:
        assert _maxdiff(params, ref) < 1e-12
    # the reference is not trivially close to anything: other batches give other parameters
    other = dp.large_batch_training(
        X,
        y,
        dp.global_batches(
            len(y), world_size=2, micro_batch=6, accumulation=accumulation, epochs=2, seed=9
        ),
        hidden=6,
        lr=0.2,
        seed=1,
    )
    assert _maxdiff(other, ref) > 1e-6


def test_bad_arguments():
    X, y = _problem()
    with pytest.raises(ValueError, match="accumulation"):
        dp.global_batches(96, world_size=2, micro_batch=6, accumulation=5)
    with pytest.raises(ValueError, match="y must have shape"):
        dp.ddp_training(X, y[:-1], world_size=2, hidden=3, micro_batch=6, lr=0.1, epochs=1, seed=0)
    with pytest.raises(TypeError, match="world_size"):
        dp.ddp_training(X, y, world_size=2.0, hidden=3, micro_batch=6, lr=0.1, epochs=1, seed=0)
    with pytest.raises(ValueError, match="widths"):
        dp.comm_compute(())
    with pytest.raises(ValueError, match="world_size"):
        dp.comm_compute((8,), world_size=1)


def test_allreduce_bytes():
    assert dp.allreduce_bytes(1000, 2) == 4000
    assert dp.allreduce_bytes(1000, 4) == 6000
    with pytest.raises(ValueError, match="params"):
        dp.allreduce_bytes(0, 2)


def test_chapter_experiments_run_in_one_launch():
    X, y = _problem()
    out = dp.run_chapter_experiments(
        X,
        y,
        world_size=2,
        sgd={"batch_size": 8, "lr": 0.1, "steps": 3, "seed": 0},
        ddp={"hidden": 4, "micro_batch": 6, "lr": 0.2, "epochs": 1, "seed": 1, "accumulation": 2},
        comm={"widths": (8, 16), "local_batch": 4, "repeats": 2},
        timeout=120,
    )
    batches = dp.global_batches(len(y), world_size=2, micro_batch=6, accumulation=2, seed=1)
    ref = dp.large_batch_training(X, y, batches, hidden=4, lr=0.2, seed=1)
    assert _maxdiff(out["ddp"][1], ref) < 1e-12
    assert [t.params for t in out["comm"]] == [2 * 8 * 8 + 2 * 8, 2 * 16 * 16 + 2 * 16]
    assert all(t.compute > 0 and t.allreduce > 0 and 0 < t.comm_fraction < 1 for t in out["comm"])
    assert np.allclose(out["sgd"][0]["w"], out["sgd"][1]["w"], atol=0, rtol=0)
    with pytest.raises(ValueError, match="keys"):
        dp.run_chapter_experiments(X, y, world_size=2, sgd={}, ddp={}, comm={})


def test_make_model_validates_dtype():
    with pytest.raises(TypeError, match="dtype"):
        dp.make_model(3, 4, seed=0, dtype=torch.int64)
    with pytest.raises(TypeError, match="dtype"):
        dp.make_model(3, 4, seed=0, dtype="float64")
    model = dp.make_model(3, 4, seed=0, dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_comm_compute_gflops():
    t = dp.CommComputeTiming(width=4, params=40, local_batch=8, compute=1e-6, allreduce=1e-6)
    assert t.compute_gflops == pytest.approx(6 * 40 * 8 / 1e-6 / 1e9)
