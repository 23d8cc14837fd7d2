"""Tests of sgdbook.timing and sgdbook.matmul (behaviour only; no timed assertions)."""

from __future__ import annotations


import pytest
import torch

from sgdbook import matmul, timing


class FakeClock:
    """A clock that advances by a fixed list of increments, one per reading."""

    def __init__(self, steps):
        self.t = 0.0
        self.steps = iter(steps)

    def __call__(self):
        self.t += next(self.steps)
        return self.t


def test_measure_counts_calls_and_takes_median():
    calls = []
    # each round reads the clock twice: start (+0) and stop (+duration of the round)
    clock = FakeClock([0, 3.0, 0, 1.0, 0, 2.0])
    r = timing.measure(lambda: calls.append(1), repeats=3, number=2, warmup=4, device="cpu",
                       clock=clock)
    assert len(calls) == 4 + 3 * 2
    assert r.times == (1.5, 0.5, 1.0)  # per call: round time / number
    assert r.median == 1.0
    assert r.best == 0.5
    assert r.spread == pytest.approx(1.0)
    assert "3 rounds x 2 calls" in str(r)


def test_measure_synchronises_around_each_round(monkeypatch):
    events = []
    monkeypatch.setattr(timing, "synchronize", lambda device: events.append("sync"))
    timing.measure(lambda: events.append("call"), repeats=2, number=1, warmup=1, device="cpu")
    assert events == ["call", "sync", "call", "sync", "sync", "call", "sync"]


@pytest.mark.parametrize("kw", [{"repeats": 0}, {"number": 0}, {"warmup": -1}])
def test_measure_rejects_bad_counts(kw):
    with pytest.raises(ValueError):
        timing.measure(lambda: None, device="cpu", **kw)


def test_measure_rejects_non_callable():
    with pytest.raises(TypeError, match="callable"):
        timing.measure(42, device="cpu")


def test_flops_and_rate():
    assert timing.matmul_flops(256, 256, 256) == 2 * 256**3
    assert timing.gflops(2e9, 0.5) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        timing.gflops(1.0, 0.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_four_ways_agree(dtype):
    g = torch.Generator().manual_seed(0)
    A = torch.randn(24, 17, generator=g, dtype=dtype)
    B = torch.randn(17, 70, generator=g, dtype=dtype)
    C = A @ B
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(matmul.matmul_elementwise(A, B), C, rtol=tol, atol=tol)
    torch.testing.assert_close(matmul.matmul_columns(A, B), C, rtol=tol, atol=tol)
    torch.testing.assert_close(matmul.matmul_full(A, B), C, rtol=tol, atol=tol)
    for block in (1, 16, 64, 100):  # the last block is narrower when 64 does not divide 70
        torch.testing.assert_close(matmul.matmul_blocks(A, B, block), C, rtol=tol, atol=tol)
    torch.testing.assert_close(matmul.matmul_elementwise(A, B, rows=5), C[:5], rtol=tol, atol=tol)


def test_matmul_validation():
    A, B = torch.ones(3, 4), torch.ones(5, 2)
    with pytest.raises(ValueError, match="do not chain"):
        matmul.matmul_full(A, B)
    with pytest.raises(ValueError, match="rows must be <= 3"):
        matmul.matmul_elementwise(A, torch.ones(4, 2), rows=4)
    with pytest.raises(ValueError, match="block must be >= 1"):
        matmul.matmul_blocks(A, torch.ones(4, 2), 0)
    with pytest.raises(ValueError, match="dtype"):
        matmul.matmul_full(A, torch.ones(4, 2, dtype=torch.float64))
    with pytest.raises(TypeError):
        matmul.matmul_full([[1.0]], torch.ones(1, 1))


def test_method_table():
    assert [f for _, f in matmul.METHODS] == [matmul.matmul_elementwise, matmul.matmul_columns,
                                               matmul.matmul_blocks, matmul.matmul_full]
    assert len({name for name, _ in matmul.METHODS}) == 4


def test_time_four_ways_counts():
    A, B = torch.randn(8, 8), torch.randn(8, 130)
    rows = matmul.time_four_ways(A, B, elementwise_rows=2, block=64, repeats=1)
    assert [r.calls for r in rows] == [2 * 130, 130, 3, 1]
    assert [r.flops for r in rows] == [2 * 2 * 8 * 130] + [2 * 8 * 8 * 130] * 3
    assert all(r.seconds > 0 and r.gflops > 0 for r in rows)
    assert matmul.peak_gflops(16, device="cpu", repeats=1) > 0
