"""Tests of sgdbook.problems.basin_batches: the notebook's batch-size runs and their many-seed version."""

from __future__ import annotations

import numpy as np
import pytest

from sgdbook.problems import basin_batches as bb
from sgdbook.problems import stochastic as st


def notebook_loop(b, steps, seed, theta=5.0, lr=0.15):
    # the notebook's loop, written out independently
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        labels = rng.integers(0, 2, size=b)
        g = [2 * np.cos(theta) if lab == 0 else 0.4 * theta for lab in labels]
        theta = theta - lr * np.mean(g)
    return theta


def test_batch_run_is_the_notebook_loop():
    for b in (1, 2, 4):
        assert bb.batch_run(b, steps=300, seed=42) == pytest.approx(
            notebook_loop(b, 300, 42), abs=1e-12
        )


def test_batch_one_is_plain_sgd():
    run = st.sgd(st.nonconvex_example(), [5.0], 0.15, 500, seed=3)
    assert bb.batch_run(1, steps=500, seed=3) == pytest.approx(run.x[0], abs=1e-12)


def test_full_gd():
    t = 5.0
    for _ in range(100):
        t -= 0.15 * (np.cos(t) + 0.2 * t)
    assert bb.batch_run(None, steps=100) == pytest.approx(t)


def test_seed_statistics_reproduce_single_runs():
    stat = bb.batch_seed_statistics(2, [0, 7, 42], steps=400)
    for s, t in zip([0, 7, 42], stat.final):
        assert t == pytest.approx(bb.batch_run(2, steps=400, seed=s), abs=1e-9)
    assert stat.left == int(np.sum(stat.final < st.NONCONVEX_LOCAL_MAX))
    assert np.allclose(stat.final_loss, np.sin(stat.final) + 0.1 * stat.final**2)


def test_one_call_equals_per_step_calls():
    r1 = np.random.default_rng(42)
    per_step = np.array([r1.integers(0, 2, size=4) for _ in range(100)])
    assert np.array_equal(per_step, np.random.default_rng(42).integers(0, 2, size=(100, 4)))


def test_table_rows():
    rows = bb.batch_table((1, 2), steps=50)
    assert [r[0] for r in rows] == ["batch=1", "batch=2", "full GD"]
    for _, t, loss in rows:
        assert loss == pytest.approx(np.sin(t) + 0.1 * t * t)


def test_validation():
    with pytest.raises(ValueError, match="batch_size"):
        bb.batch_run(0)
    with pytest.raises(TypeError, match="theta0"):
        bb.batch_run(1, theta0="5")
    with pytest.raises(ValueError, match="seeds must not be empty"):
        bb.batch_seed_statistics(1, [])


def test_basin_patterns_match_single_runs():
    seeds = [0, 1, 2, 42]
    pat = bb.basin_patterns([bb.batch_seed_statistics(b, seeds, steps=600) for b in (1, 2, 4)])
    expected = [
        "".join(
            "L" if bb.batch_run(b, steps=600, seed=s) < st.NONCONVEX_LOCAL_MAX else "R"
            for b in (1, 2, 4)
        )
        for s in seeds
    ]
    assert sum(pat.values()) == len(seeds)
    for p in set(expected):
        assert pat[p] == expected.count(p)


def test_basin_patterns_validation():
    with pytest.raises(ValueError, match="statistics must not be empty"):
        bb.basin_patterns([])
    with pytest.raises(TypeError, match="statistics"):
        bb.basin_patterns([1.0])
    a, b = (
        bb.batch_seed_statistics(1, [0, 1], steps=10),
        bb.batch_seed_statistics(2, [0, 2], steps=10),
    )
    with pytest.raises(ValueError, match="same seeds"):
        bb.basin_patterns([a, b])


def test_objective_validates():
    assert bb.objective(0.0) == pytest.approx(0.0)
    assert bb.objective(np.array([[0.0, 1.0]])).shape == (1, 2)
    with pytest.raises(TypeError, match="theta"):
        bb.objective("a")
    with pytest.raises(ValueError, match="theta"):
        bb.objective([np.nan])
    with pytest.raises(ValueError, match="theta"):
        bb.objective([])
