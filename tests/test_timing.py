"""Tests of sgdbook.timing and sgdbook.matmul (behaviour only; no timed assertions)."""

from __future__ import annotations

import re
from pathlib import Path

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
    rows = matmul.time_four_ways(A, B, elementwise_rows=2, block=64, min_time=0.01,
                                 warmup_time=0.0)
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


def test_timing_threads_are_set_and_restored(monkeypatch):
    before = torch.get_num_threads()
    seen = []
    real = timing.measure_for

    def spy(fn, **kw):
        seen.append(torch.get_num_threads())
        return real(fn, **kw)

    monkeypatch.setattr(matmul, "measure_for", spy)
    matmul.time_four_ways(torch.randn(4, 4), torch.randn(4, 4), elementwise_rows=1,
                          min_time=0.001, warmup_time=0.0, threads=1)
    matmul.peak_gflops(8, device="cpu", min_time=0.001, threads=1)
    assert seen == [1] * 5
    assert torch.get_num_threads() == before


def test_intra_op_threads_restores_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"):
        with timing.intra_op_threads(1) as t:
            assert t == 1 == torch.get_num_threads()
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with timing.intra_op_threads(None) as t:
        assert t == before
    with pytest.raises(TypeError, match="threads"):
        with timing.intra_op_threads(1.5):
            pass


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


class SimulatedCode:
    """A function and a clock: each call advances the clock by `cost` seconds, except calls whose
    index is in `stalls`, which take `stall` seconds (a round hit by another program)."""

    def __init__(self, cost, stalls=(), stall=0.0):
        self.t = 0.0
        self.calls = 0
        self.cost, self.stalls, self.stall = cost, set(stalls), stall

    def fn(self):
        self.t += self.stall if self.calls in self.stalls else self.cost
        self.calls += 1

    def clock(self):
        return self.t


def test_measure_for_adapts_the_counts_to_the_speed():
    # powers of two keep the simulated clock exact
    code = SimulatedCode(cost=2**-17)
    r = timing.measure_for(code.fn, min_time=2**-6, round_time=2**-13, min_rounds=7,
                           warmup_time=2**-10, min_warmup=2, device="cpu", clock=code.clock)
    assert r.warmup == 128                    # warm-up ran for warmup_time
    assert r.number == 16                     # 16 calls fill a round of round_time
    assert len(r.times) == 128                # rounds until min_time was timed
    assert r.median == 2**-17
    assert code.calls == r.warmup + r.number * len(r.times)


def test_measure_for_slow_code_gets_min_rounds_of_one_call():
    code = SimulatedCode(cost=0.5)
    r = timing.measure_for(code.fn, min_time=0.2, round_time=1e-4, min_rounds=7,
                           warmup_time=0.05, min_warmup=2, device="cpu", clock=code.clock)
    assert (r.warmup, r.number, len(r.times)) == (2, 1, 7)
    code = SimulatedCode(cost=1e-4)
    r = timing.measure_for(code.fn, min_time=10.0, max_rounds=30, warmup_time=0.0,
                           device="cpu", clock=code.clock)
    assert len(r.times) == 30                 # max_rounds bounds the time spent


def test_measure_for_median_ignores_stalled_rounds():
    # a third of the timed calls are stalled 100-fold; one call per round, so the median is clean
    warm = 2
    stalls = [warm + k for k in range(0, 300, 3)]
    code = SimulatedCode(cost=1e-3, stalls=stalls, stall=0.1)
    r = timing.measure_for(code.fn, min_time=0.3, round_time=1e-4, min_rounds=7,
                           warmup_time=0.0, min_warmup=warm, device="cpu", clock=code.clock)
    assert r.number == 1
    assert r.median == pytest.approx(1e-3)
    assert r.best == pytest.approx(1e-3)
    assert max(r.times) == pytest.approx(0.1)


def test_measure_for_synchronises_around_every_call_and_round(monkeypatch):
    events = []
    monkeypatch.setattr(timing, "synchronize", lambda device: events.append("sync"))
    code = SimulatedCode(cost=1.0)
    timing.measure_for(lambda: (events.append("call"), code.fn()), min_time=1.0, min_rounds=1,
                       warmup_time=0.0, min_warmup=1, device="cpu", clock=code.clock)
    assert events == ["sync", "call", "sync",            # warm-up: each call synchronised
                      "sync", "call", "sync"]            # one timed round


@pytest.mark.parametrize("kw,exc,name", [
    ({"min_time": 0}, ValueError, "min_time"), ({"round_time": -1.0}, ValueError, "round_time"),
    ({"min_rounds": 0}, ValueError, "min_rounds"),
    ({"min_rounds": 5, "max_rounds": 4}, ValueError, "max_rounds"),
    ({"warmup_time": -0.1}, ValueError, "warmup_time"),
    ({"min_warmup": 0}, ValueError, "min_warmup"), ({"min_rounds": 2.0}, TypeError, "min_rounds"),
])
def test_measure_for_rejects_bad_arguments(kw, exc, name):
    with pytest.raises(exc, match=name):
        timing.measure_for(lambda: None, device="cpu", **kw)


def test_measure_for_rejects_non_callable():
    with pytest.raises(TypeError, match="callable"):
        timing.measure_for(None, device="cpu")


# ---- chapter 4: the cells whose output depends on time carry the `timing` tag -------------

CHAPTER = Path(__file__).resolve().parent.parent / "book" / "minibatch.md"
#: Calls and attributes whose values are measured times: a cell using one prints or plots them.
TIMED = re.compile(r"\b(time_four_ways|peak_reference|peak_gflops|loader_throughput|measure|"
                   r"measure_for)\(|\.seconds\b")


def _cells(text):
    cells = []
    for m in re.finditer(r"^```\{code-cell\}[^\n]*\n(.*?)^```$", text, re.S | re.M):
        body = m.group(1)
        tags = re.search(r"^:tags: \[([^\]]*)\]", body, re.M)
        cells.append(({t.strip() for t in tags.group(1).split(",")} if tags else set(), body))
    return cells


def test_chapter_timing_cells_are_tagged_and_name_the_device():
    cells = _cells(CHAPTER.read_text(encoding="utf-8"))
    assert len(cells) > 10
    timed = [body for tags, body in cells if TIMED.search(body)]
    assert len(timed) >= 3
    for tags, body in cells:
        if TIMED.search(body):
            assert "timing" in tags, f"a cell uses measured times without the timing tag:\n{body}"
        if "timing" in tags:  # the note: a printed timing names the device; a figure says so
            assert "describe_device(device)" in body or "数值随机器而变" in body, body
    # the training cell records times but prints only seeded numbers: it is not tagged
    training = [(tags, body) for tags, body in cells if "train_least_squares(" in body]
    assert len(training) == 1 and "timing" not in training[0][0]
    assert not TIMED.search(training[0][1])
