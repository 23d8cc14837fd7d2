"""Tests of sgdbook.systems.roofline: intensities, the roofline bound, Adam's byte count, and that the
Adam implementations compared agree."""

from __future__ import annotations

import pytest
import torch

from sgdbook.systems import matmul, roofline


def test_intensities_by_hand():
    n = 256
    # reads + writes + the write-allocate read of every result not read first (all but axpy)
    assert roofline.intensity("mm", n) == pytest.approx(2 * n**3 / (16 * n * n))
    assert roofline.intensity("axpy", n) == pytest.approx(1 / 6)
    assert roofline.intensity("matvec", n) == pytest.approx(2 * n * n / (4 * (n * n + 3 * n)))
    assert roofline.intensity("dot", n) == pytest.approx(2 * n / (4 * (2 * n + 2)))
    order = [roofline.intensity(k, n) for k in ("dot", "mv", "block", "mm")]
    assert order == sorted(order)
    with pytest.raises(ValueError, match="kernel"):
        roofline.intensity("fft", n)
    with pytest.raises(TypeError, match="n"):
        roofline.intensity("mm", 2.5)


def test_attainable_is_the_minimum_of_the_two_ceilings():
    assert roofline.attainable(0.5, 100e9, 20e9) == pytest.approx(10e9)
    assert roofline.attainable(50, 100e9, 20e9) == pytest.approx(100e9)
    with pytest.raises(ValueError, match="bandwidth"):
        roofline.attainable(1, 1e9, 0)


def test_ridge_and_floor():
    c = roofline.Ceilings("cpu", 2, 100e9, 180e9, 20e9, 30e9, 18e9)
    assert c.ridge("one") == pytest.approx(5)
    assert c.ridge("all") == pytest.approx(6)
    with pytest.raises(ValueError, match="cores"):
        c.ridge("some")
    assert roofline.ADAM_BYTES_PER_PARAM == 7 * 4
    assert roofline.adam_floor_seconds(10**6, 28e9) == pytest.approx(1e-3)


def test_stream_bytes_count_the_write_allocate_read():
    n = 1000
    assert roofline.stream_bytes("copy", n) == 12 * n
    assert roofline.stream_bytes("copy", n, write_allocate=False) == 8 * n
    assert roofline.stream_bytes("triad", n) == 16 * n
    assert roofline.stream_bytes("triad", n, write_allocate=False) == 12 * n
    # the in-place triad reads its destination: the same count in both conventions
    assert (
        roofline.stream_bytes("update", n)
        == roofline.stream_bytes("update", n, write_allocate=False)
        == 12 * n
    )
    with pytest.raises(TypeError, match="write_allocate"):
        roofline.stream_bytes("copy", n, write_allocate=1)
    c = roofline.Ceilings("cpu", 2, 1e9, 1e9, 1e9, 1e9, 1e9, triad_one=16e9)
    assert c.triad_stream_convention() == pytest.approx(12e9)


def test_stream_bandwidth_and_kernel_return_positive_rates():
    assert roofline.stream_bandwidth("copy", device="cpu", elements=1 << 12, min_time=0.01) > 0
    for kind in ("triad", "update"):
        assert roofline.stream_bandwidth(kind, device="cpu", elements=1 << 12, min_time=0.01) > 0
    p = roofline.time_kernel("axpy", 64, device="cpu", min_time=0.01)
    assert p.flops == 2 * 64 * 64 and p.bytes == 12 * 64 * 64 and p.rate > 0
    with pytest.raises(ValueError, match="kind"):
        roofline.stream_bandwidth("scale", device="cpu")


def test_points_from_ways_scale_the_elementwise_part():
    A = torch.randn(32, 32)
    ways = matmul.time_four_ways(A, A, elementwise_rows=4, block=8, min_time=0.01, warmup_time=0.0)
    pts = roofline.points_from_ways(ways, 32, block=8)
    assert [p.kernel for p in pts] == ["dot", "mv", "block", "mm"]
    assert pts[0].intensity == pytest.approx(roofline.intensity("dot", 32))
    assert pts[2].intensity == pytest.approx(roofline.intensity("block", 32, block=8))
    with pytest.raises(TypeError, match="WayTiming"):
        roofline.points_from_ways([1], 32)


def test_adam_variants_agree():
    res = roofline.time_adam_steps(10_000, tensors=7, device="cpu", repeats=1, check_steps=3)
    assert [r.name for r in res] == list(roofline.ADAM_VARIANTS)
    assert res[0].max_diff == 0
    for r in res[1:]:
        assert r.max_diff < 1e-5  # float32; fused differs only by rounding
    assert all(r.seconds > 0 for r in res)
    with pytest.raises(ValueError, match="variants"):
        roofline.time_adam_steps(100, tensors=2, device="cpu", variants=("mine",))
    with pytest.raises(ValueError, match="tensors"):
        roofline.time_adam_steps(3, tensors=4, device="cpu")


def test_cache_sizes_and_stream_elements(monkeypatch):
    size, source = roofline.last_level_cache_bytes("cpu")
    assert size > 0 and source in ("sysfs", "fallback")
    levels = roofline.cpu_cache_sizes()
    if levels:
        assert source == "sysfs" and size == levels[max(levels)]
    assert roofline.stream_elements("cpu") >= 4 * size // 4
    monkeypatch.setattr(roofline, "cpu_cache_sizes", lambda: {})
    assert roofline.last_level_cache_bytes("cpu") == (roofline.LLC_FALLBACK_BYTES, "fallback")
    assert roofline._parse_cache_size("32768K") == 32 * 2**20
    with pytest.raises(ValueError, match="factor"):
        roofline.stream_elements("cpu", factor=0)


def test_adam_timed_for_a_minimum_time_reports_best_and_median():
    out = roofline.time_adam_steps(
        4000,
        tensors=4,
        device="cpu",
        threads=1,
        repeats=3,
        check_steps=1,
        variants=("torch for-loop", "torch fused"),
        min_time=0.01,
    )
    for a in out:
        assert a.rounds >= 3 and 0 < a.best <= a.seconds
    with pytest.raises(ValueError, match="min_time"):
        roofline.time_adam_steps(4000, tensors=4, device="cpu", min_time=0.0)
