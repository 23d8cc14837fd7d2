"""Tests of sgdbook.timing (behaviour only; no timed assertions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from sgdbook import timing
from sgdbook.systems import matmul


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
    r = timing.measure(
        lambda: calls.append(1), repeats=3, number=2, warmup=4, device="cpu", clock=clock
    )
    assert len(calls) == 4 + 3 * 2
    assert r.times == (1.5, 0.5, 1.0)  # per call: round time / number
    assert r.median == 1.0
    assert r.best == 0.5
    assert r.spread == pytest.approx(1.0)
    assert "3 rounds x 2 calls" in str(r)


def test_iqr_ignores_one_stalled_round():
    r = timing.TimingResult(
        times=(1.0, 1.0, 1.1, 1.0, 0.9, 1.0, 50.0, 1.0), number=1, warmup=0, device="cpu"
    )
    q1, _, q3 = __import__("statistics").quantiles(r.times, n=4)
    assert r.iqr == pytest.approx((q3 - q1) / 1.0) and r.iqr < 0.2 < r.spread
    assert timing.TimingResult(times=(2.0,), number=1, warmup=0, device="cpu").iqr == 0.0


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


def test_timing_threads_are_set_and_restored(monkeypatch):
    before = torch.get_num_threads()
    seen = []
    real = timing.measure_for

    def spy(fn, **kw):
        seen.append(torch.get_num_threads())
        return real(fn, **kw)

    monkeypatch.setattr(matmul, "measure_for", spy)
    matmul.time_four_ways(
        torch.randn(4, 4),
        torch.randn(4, 4),
        elementwise_rows=1,
        min_time=0.001,
        warmup_time=0.0,
        threads=1,
    )
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
    r = timing.measure_for(
        code.fn,
        min_time=2**-6,
        round_time=2**-13,
        min_rounds=7,
        warmup_time=2**-10,
        min_warmup=2,
        device="cpu",
        clock=code.clock,
    )
    assert r.warmup == 128  # warm-up ran for warmup_time
    assert r.number == 16  # 16 calls fill a round of round_time
    assert len(r.times) == 128  # rounds until min_time was timed
    assert r.median == 2**-17
    assert code.calls == r.warmup + r.number * len(r.times)


def test_measure_for_slow_code_gets_min_rounds_of_one_call():
    code = SimulatedCode(cost=0.5)
    r = timing.measure_for(
        code.fn,
        min_time=0.2,
        round_time=1e-4,
        min_rounds=7,
        warmup_time=0.05,
        min_warmup=2,
        device="cpu",
        clock=code.clock,
    )
    assert (r.warmup, r.number, len(r.times)) == (2, 1, 7)
    code = SimulatedCode(cost=1e-4)
    r = timing.measure_for(
        code.fn, min_time=10.0, max_rounds=30, warmup_time=0.0, device="cpu", clock=code.clock
    )
    assert len(r.times) == 30  # max_rounds bounds the time spent


def test_measure_for_median_ignores_stalled_rounds():
    # a third of the timed calls are stalled 100-fold; one call per round, so the median is clean
    warm = 2
    stalls = [warm + k for k in range(0, 300, 3)]
    code = SimulatedCode(cost=1e-3, stalls=stalls, stall=0.1)
    r = timing.measure_for(
        code.fn,
        min_time=0.3,
        round_time=1e-4,
        min_rounds=7,
        warmup_time=0.0,
        min_warmup=warm,
        device="cpu",
        clock=code.clock,
    )
    assert r.number == 1
    assert r.median == pytest.approx(1e-3)
    assert r.best == pytest.approx(1e-3)
    assert max(r.times) == pytest.approx(0.1)


def test_measure_for_synchronises_around_every_call_and_round(monkeypatch):
    events = []
    monkeypatch.setattr(timing, "synchronize", lambda device: events.append("sync"))
    code = SimulatedCode(cost=1.0)
    timing.measure_for(
        lambda: (events.append("call"), code.fn()),
        min_time=1.0,
        min_rounds=1,
        warmup_time=0.0,
        min_warmup=1,
        device="cpu",
        clock=code.clock,
    )
    assert events == [
        "sync",
        "call",
        "sync",  # warm-up: each call synchronised
        "sync",
        "call",
        "sync",
    ]  # one timed round


@pytest.mark.parametrize(
    "kw,exc,name",
    [
        ({"min_time": 0}, ValueError, "min_time"),
        ({"round_time": -1.0}, ValueError, "round_time"),
        ({"min_rounds": 0}, ValueError, "min_rounds"),
        ({"min_rounds": 5, "max_rounds": 4}, ValueError, "max_rounds"),
        ({"warmup_time": -0.1}, ValueError, "warmup_time"),
        ({"min_warmup": 0}, ValueError, "min_warmup"),
        ({"min_rounds": 2.0}, TypeError, "min_rounds"),
    ],
)
def test_measure_for_rejects_bad_arguments(kw, exc, name):
    with pytest.raises(exc, match=name):
        timing.measure_for(lambda: None, device="cpu", **kw)


def test_measure_for_rejects_non_callable():
    with pytest.raises(TypeError, match="callable"):
        timing.measure_for(None, device="cpu")


# ---- chapter 4: the cells whose output depends on time carry the `timing` tag -------------

CHAPTER = Path(__file__).resolve().parent.parent / "book" / "minibatch.md"
#: Calls and attributes whose values are measured times: a cell using one prints or plots them.
TIMED = re.compile(
    r"\b(time_four_ways|peak_reference|peak_gflops|loader_throughput|measure|"
    r"measure_for)\(|\.seconds\b"
)


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


def test_work_clock_is_thread_cpu_time_only_for_one_cpu_thread():
    import time

    assert timing.work_clock("cpu", 1) is time.thread_time
    assert timing.work_clock("cpu", None) is time.perf_counter
    assert timing.work_clock("cpu", 2) is time.perf_counter
    with pytest.raises(ValueError, match="threads"):
        timing.work_clock("cpu", 0)
    # CPU time does not advance while the thread sleeps (a stand-in for being descheduled)
    res = timing.measure(
        lambda: time.sleep(0.01),
        repeats=2,
        warmup=0,
        device="cpu",
        clock=timing.work_clock("cpu", 1),
    )
    assert res.median < 0.005


def test_best_over_median():
    r = timing.TimingResult(times=(1.0, 2.0, 4.0), number=1, warmup=0, device="cpu")
    assert timing.best_over_median(r) == pytest.approx(0.5)
    with pytest.raises(TypeError, match="TimingResult"):
        timing.best_over_median(1.0)
