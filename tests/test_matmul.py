"""Tests of sgdbook.systems.matmul: the four ways to multiply matrices and their timing table (behaviour
only; no timed assertions)."""

from __future__ import annotations

import pytest
import torch

from sgdbook.systems import matmul


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
    assert [f for _, f in matmul.METHODS] == [
        matmul.matmul_elementwise,
        matmul.matmul_columns,
        matmul.matmul_blocks,
        matmul.matmul_full,
    ]
    assert len({name for name, _ in matmul.METHODS}) == 4


def test_time_four_ways_counts():
    A, B = torch.randn(8, 8), torch.randn(8, 130)
    rows = matmul.time_four_ways(A, B, elementwise_rows=2, block=64, min_time=0.01, warmup_time=0.0)
    assert [r.calls for r in rows] == [2 * 130, 130, 3, 1]
    assert [r.flops for r in rows] == [2 * 2 * 8 * 130] + [2 * 8 * 8 * 130] * 3
    assert all(r.seconds > 0 and r.gflops > 0 for r in rows)
    assert all(r.rounds >= 7 and r.number >= 1 for r in rows)
    assert matmul.peak_gflops(16, device="cpu", min_time=0.01) > 0


def test_time_four_ways_validation():
    A, B = torch.randn(8, 8), torch.randn(8, 16)
    with pytest.raises(ValueError, match="elementwise_rows must be <= 8"):
        matmul.time_four_ways(A, B, elementwise_rows=9)
    with pytest.raises(ValueError, match="block must be >= 1"):
        matmul.time_four_ways(A, B, block=0)
    with pytest.raises(ValueError, match="min_time must be > 0"):
        matmul.time_four_ways(A, B, min_time=0)
    with pytest.raises(ValueError, match="threads must be >= 1"):
        matmul.time_four_ways(A, B, min_time=0.001, threads=0)


def _way(name, gflop_per_s):
    return matmul.WayTiming(name=name, calls=1, flops=int(gflop_per_s * 1e9), seconds=1.0, rows=1)


def test_rate_inversions_names_the_pairs_that_do_not_rise():
    ways = [_way("a", 1), _way("b", 10), _way("c", 100), _way("d", 1000)]
    assert matmul.rate_inversions(ways) == []
    ways = [_way("a", 1), _way("b", 10), _way("c", 5), _way("d", 5)]
    assert matmul.rate_inversions(ways) == [("b", "c"), ("c", "d")]  # equal is not a rise
    with pytest.raises(TypeError, match=r"ways\[1\]"):
        matmul.rate_inversions([_way("a", 1), 3.0])


def test_peak_reference_takes_the_fastest_size(monkeypatch):
    rates = {64: 50.0, 128: 80.0, 256: 70.0}
    monkeypatch.setattr(matmul, "peak_gflops", lambda m, **kw: rates[m])
    ref = matmul.peak_reference([64, 128, 256], device="cpu")
    assert ref.rates == rates and ref.size == 128 and ref.gflops == 80.0
    assert ref.percent(40.0) == pytest.approx(50.0)
    assert ref.percent(88.0) == pytest.approx(110.0)  # noise can put a way above the reference
    with pytest.raises(ValueError, match="at least one"):
        matmul.peak_reference([], device="cpu")
    with pytest.raises(ValueError, match="distinct"):
        matmul.peak_reference([64, 64], device="cpu")
    with pytest.raises(ValueError, match=r"sizes\[1\] must be >= 1"):
        matmul.peak_reference([64, 0], device="cpu")
    with pytest.raises(TypeError, match="iterable"):
        matmul.peak_reference(64, device="cpu")


def test_peak_reference_measures_on_cpu():
    ref = matmul.peak_reference((8, 16), device="cpu", min_time=0.005)
    assert set(ref.rates) == {8, 16} and all(r > 0 for r in ref.rates.values())
