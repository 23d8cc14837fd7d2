"""Tests of sgdbook.systems.parallel: data-parallel SGD equals large-batch SGD; failures clean up."""

from __future__ import annotations

import os

import numpy as np
import pytest

from sgdbook.systems import _parallel_workers, parallel


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=40)
    return X, y


def test_data_parallel_equals_large_batch():
    X, y = _problem()
    res = parallel.data_parallel_sgd(
        X, y, world_size=2, batch_size=8, lr=0.1, steps=4, seed=3, backend="gloo", timeout=120
    )
    ref = parallel.large_batch_sgd(X, y, batch_size=8, lr=0.1, steps=4, seed=3)
    assert len(res) == 2 and int(res[0]["shard"]) == 4
    for r in res:
        np.testing.assert_allclose(r["grads"], ref["grads"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(r["w"], ref["w"], rtol=0, atol=1e-12)
    assert not np.allclose(ref["w"], 0)


def test_failing_worker_raises_and_leaves_nothing():
    with pytest.raises(parallel.WorkerError) as info:
        parallel.launch(_parallel_workers.failing_worker, 3, (1,), backend="gloo", timeout=120)
    msg = str(info.value)
    assert "worker 1 of 3 failed: it raised" in msg, msg
    assert "deliberate failure in worker 1" in msg
    assert "worker about to fail" in msg  # the worker's stderr is quoted, not leaked
    assert info.value.rank == 1
    assert len(info.value.pids) == 4  # the launcher process and three workers
    assert all(_gone(pid) for pid in info.value.pids)


def test_timeout_stops_workers():
    with pytest.raises(TimeoutError, match="did not finish within 3 s"):
        parallel.launch(_parallel_workers.sleeping_worker, 2, (60,), backend="gloo", timeout=3)


def test_results_in_rank_order(capfd):
    assert parallel.launch(_parallel_workers.sleeping_worker, 3, (0,), backend="gloo") == [0, 1, 2]
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # workers print nothing to the caller's streams


def test_validation():
    X, y = _problem()
    with pytest.raises(ValueError, match="must divide"):
        parallel.data_parallel_sgd(X, y, world_size=3, batch_size=8, lr=0.1, steps=1, seed=0)
    with pytest.raises(ValueError, match="backend"):
        parallel.launch(_parallel_workers.sleeping_worker, 1, (0,), backend="mpi")
    with pytest.raises(TypeError, match="picklable"):
        parallel.launch(lambda r, w: r, 1)
    with pytest.raises(ValueError, match="world_size"):
        parallel.launch(_parallel_workers.sleeping_worker, 0, (0,))


def test_backend_choice_on_cpu(monkeypatch):
    monkeypatch.setenv("SGDBOOK_DEVICE", "cpu")
    assert parallel.choose_backend(4) == "gloo"


def test_crashed_worker_is_reported_and_reaped():
    with pytest.raises(parallel.WorkerError) as info:
        parallel.launch(_parallel_workers.crashing_worker, 3, (1,), backend="gloo", timeout=120)
    msg = str(info.value)
    assert "worker 1 of 3 failed: it exited with code 3" in msg, msg
    assert info.value.rank == 1
    assert all(_gone(pid) for pid in info.value.pids)


def _pretend_gpus(monkeypatch, count):
    """Make sgdbook.systems.parallel see CUDA with `count` GPUs (nothing is run on them)."""
    import torch

    monkeypatch.setattr(parallel, "get_device", lambda: torch.device("cuda"))
    monkeypatch.setattr(parallel.torch.cuda, "device_count", lambda: count)


def test_plan_on_cpu_uses_gloo_with_the_preferred_size(monkeypatch):
    monkeypatch.setenv("SGDBOOK_DEVICE", "cpu")
    plan = parallel.plan_workers(4, batch_size=48)
    assert (plan.world_size, plan.backend, plan.device_type, plan.gpus) == (4, "gloo", "cpu", 0)
    assert plan.reason == "cpu"
    assert parallel.plan_workers(4, batch_size=18).world_size == 3  # 4 does not divide 18


@pytest.mark.parametrize(
    "gpus,batch,expected",
    [
        (1, 48, (4, "gloo", "too-few-gpus")),  # NCCL cannot put two ranks on the one GPU
        (2, 48, (2, "nccl", "gpu-per-worker")),
        (3, 48, (3, "nccl", "gpu-per-worker")),
        (3, 64, (2, "nccl", "gpu-per-worker")),  # 3 does not divide 64
        (8, 48, (4, "nccl", "gpu-per-worker")),  # capped at the preferred size
    ],
)
def test_plan_on_gpus_uses_nccl_when_every_worker_gets_a_gpu(monkeypatch, gpus, batch, expected):
    _pretend_gpus(monkeypatch, gpus)
    plan = parallel.plan_workers(4, batch_size=batch)
    assert (plan.world_size, plan.backend, plan.reason) == expected
    assert plan.gpus == gpus and plan.device_type == "cuda"
    assert parallel.choose_backend(plan.world_size) == plan.backend  # launch would agree


def test_plan_validation(monkeypatch):
    monkeypatch.setenv("SGDBOOK_DEVICE", "cpu")
    with pytest.raises(ValueError, match="preferred must be >= 2"):
        parallel.plan_workers(1)
    with pytest.raises(ValueError, match="minimum must be >= 1"):
        parallel.plan_workers(4, minimum=0)
    with pytest.raises(TypeError, match="batch_size"):
        parallel.plan_workers(4, batch_size=4.0)
    with pytest.raises(ValueError, match="batch_size=7 is not divisible"):
        parallel.plan_workers(4, batch_size=7)


def test_test_workers_are_not_public():
    assert not {"failing_worker", "crashing_worker", "sleeping_worker"} & set(parallel.__all__)


def test_run_files_round_trip(tmp_path):
    files = parallel._RunFiles(tmp_path)
    assert files.read_error(0) is None and files.read_exit(0) is None
    assert files.read_result(0) == (False, None) and files.read_pids() == []
    files.write_error(1, "Traceback: boom")
    stamp, text = files.read_error(1)
    assert text == "Traceback: boom" and stamp > 0 and files.has_error(1)
    files.write_exit(2, 3, killed=False)
    files.write_exit(0, -9, killed=True)
    assert files.read_exit(2) == (3, False) and files.read_exit(0) == (-9, True)
    files.write_result(0, {"w": [1.0]})
    assert files.read_result(0) == (True, {"w": [1.0]})
    files.write_pids([11, 12])
    assert files.read_pids() == [11, 12]
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporary files
