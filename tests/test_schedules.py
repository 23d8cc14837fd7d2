"""sgdbook.optim.schedules against torch.optim.lr_scheduler: the same rates at every step."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as L

import sgdbook.optim as so
from sgdbook.optim import schedules as S


def make_optimizer(kind="torch", lrs=(0.5, 0.05)):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "torch":
        return torch.optim.SGD(groups, lr=lrs[0])
    return so.Adam(groups, lr=lrs[0])


def compare(make_ours, make_theirs, steps=60, metrics=None, kind="torch", lrs=(0.5, 0.05)):
    """Step an sgdbook schedule and a torch scheduler side by side; compare the rates each step."""
    oa, ob = make_optimizer(kind, lrs), make_optimizer("torch", lrs)
    sa, sb = make_ours(oa), make_theirs(ob)
    history = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sgdbook's schedules never warn
        for t in range(steps):
            la = [g["lr"] for g in oa.param_groups]
            lb = [g["lr"] for g in ob.param_groups]
            assert sa.get_last_lr() == la
            torch.testing.assert_close(la, lb, msg=lambda m: f"epoch {t}: {m}")
            history.append(la[0])
            oa.step()
            ob.step()
            if metrics is None:
                sa.step()
                sb.step()
            else:
                sa.step(metrics[t])
                sb.step(metrics[t])
    return sa, np.array(history)


CASES = [
    (
        "inverse-time",
        lambda o: S.InverseTimeDecay(o, k=0.3),
        lambda o: L.LambdaLR(o, lambda e: 1 / (1 + 0.3 * e)),
    ),
    (
        "inverse-time-k0",
        lambda o: S.InverseTimeDecay(o, k=0),
        lambda o: L.LambdaLR(o, lambda e: 1.0),
    ),
    ("step", lambda o: S.StepDecay(o, 7), lambda o: L.StepLR(o, 7)),
    ("step-1-gamma", lambda o: S.StepDecay(o, 1, gamma=0.9), lambda o: L.StepLR(o, 1, 0.9)),
    (
        "multistep",
        lambda o: S.MultiStepDecay(o, [30, 3, 10, 10], gamma=0.5),
        lambda o: L.MultiStepLR(o, [30, 3, 10, 10], gamma=0.5),
    ),
    ("exponential", lambda o: S.ExponentialDecay(o, 0.93), lambda o: L.ExponentialLR(o, 0.93)),
    ("exponential-up", lambda o: S.ExponentialDecay(o, 1.01), lambda o: L.ExponentialLR(o, 1.01)),
    (
        "cosine",
        lambda o: S.CosineAnnealing(o, 13, eta_min=0.01),
        lambda o: L.CosineAnnealingLR(o, 13, eta_min=0.01),
    ),
    ("cosine-T1", lambda o: S.CosineAnnealing(o, 1), lambda o: L.CosineAnnealingLR(o, 1)),
    ("cosine-long", lambda o: S.CosineAnnealing(o, 50), lambda o: L.CosineAnnealingLR(o, 50)),
    (
        "restarts",
        lambda o: S.CosineAnnealingWarmRestarts(o, 5),
        lambda o: L.CosineAnnealingWarmRestarts(o, 5),
    ),
    (
        "restarts-mult",
        lambda o: S.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.001),
        lambda o: L.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.001),
    ),
    (
        "warmup-only",
        lambda o: S.LinearWarmup(o, 6, start_factor=0.1),
        lambda o: L.LinearLR(o, 0.1, 1.0, 6),
    ),
    ("warmup-default", lambda o: S.LinearWarmup(o, 5), lambda o: L.LinearLR(o, total_iters=5)),
    (
        "warmup-1",
        lambda o: S.LinearWarmup(o, 1, start_factor=0.5),
        lambda o: L.LinearLR(o, 0.5, 1.0, 1),
    ),
]


def warmup_then(ours_after, theirs_after, W, s):
    def ours(o):
        return S.LinearWarmup(o, W, after=ours_after(o), start_factor=s)

    def theirs(o):
        after = theirs_after(o)
        return L.SequentialLR(o, [L.LinearLR(o, s, 1.0, W), after], milestones=[W])

    return ours, theirs


WARMUP_CASES = [
    (
        "warmup-cosine",
        *warmup_then(
            lambda o: S.CosineAnnealing(o, 20, 0.01),
            lambda o: L.CosineAnnealingLR(o, 20, 0.01),
            6,
            0.1,
        ),
    ),
    (
        "warmup-step",
        *warmup_then(lambda o: S.StepDecay(o, 5, 0.5), lambda o: L.StepLR(o, 5, 0.5), 4, 0.25),
    ),
    (
        "warmup-exp",
        *warmup_then(
            lambda o: S.ExponentialDecay(o, 0.9), lambda o: L.ExponentialLR(o, 0.9), 3, 1.0 / 3
        ),
    ),
    (
        "warmup-multistep",
        *warmup_then(
            lambda o: S.MultiStepDecay(o, [5, 12]), lambda o: L.MultiStepLR(o, [5, 12]), 10, 0.5
        ),
    ),
    (
        "warmup-restarts",
        *warmup_then(
            lambda o: S.CosineAnnealingWarmRestarts(o, 4, 2),
            lambda o: L.CosineAnnealingWarmRestarts(o, 4, 2),
            5,
            0.2,
        ),
    ),
    (
        "warmup-inverse",
        *warmup_then(
            lambda o: S.InverseTimeDecay(o, 0.5),
            lambda o: L.LambdaLR(o, lambda e: 1 / (1 + 0.5 * e)),
            8,
            0.01,
        ),
    ),
]


@pytest.mark.parametrize("kind", ["torch", "sgdbook"])
@pytest.mark.parametrize(
    "name,ours,theirs", CASES + WARMUP_CASES, ids=[c[0] for c in CASES + WARMUP_CASES]
)
def test_matches_torch_every_epoch(name, ours, theirs, kind):
    compare(ours, theirs, steps=80, kind=kind)


@pytest.mark.parametrize(
    "name,ours,theirs", CASES + WARMUP_CASES, ids=[c[0] for c in CASES + WARMUP_CASES]
)
def test_lr_at_is_the_closed_form_of_the_steps(name, ours, theirs):
    sched, history = compare(ours, theirs, steps=80)
    closed = np.array([sched.lr_at(t) for t in range(80)])
    np.testing.assert_allclose(closed, history, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(S.lr_curve(ours, 80, lr=0.5), history, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(S.lr_curve(theirs, 80, lr=0.5), history, rtol=1e-12, atol=1e-15)


def test_closed_forms_by_hand():
    o = make_optimizer(lrs=(1.0,))
    assert S.InverseTimeDecay(o, k=0.5).lr_at(4) == pytest.approx(1 / 3)
    o = make_optimizer(lrs=(1.0,))
    assert S.StepDecay(o, 3, 0.5).lr_at(7) == pytest.approx(0.25)
    o = make_optimizer(lrs=(1.0,))
    assert S.CosineAnnealing(o, 10, 0.1).lr_at(5) == pytest.approx(0.55)
    o = make_optimizer(lrs=(1.0,))
    sgdr = S.CosineAnnealingWarmRestarts(o, 2, T_mult=3)
    # cycles: epochs 0-1 (T=2), 2-7 (T=6), 8-25 (T=18)
    assert [sgdr.lr_at(e) for e in (0, 2, 8)] == [1.0, 1.0, 1.0]
    assert sgdr.lr_at(5) == pytest.approx(0.5)
    o = make_optimizer(lrs=(1.0,))
    assert S.LinearWarmup(o, 4, start_factor=0.0).lr_at(1) == pytest.approx(0.25)


def test_warmup_from_zero():
    o = make_optimizer(lrs=(0.8,))
    sched = S.LinearWarmup(o, 4, after=None, start_factor=0.0)
    lrs = [o.param_groups[0]["lr"]]
    for _ in range(6):
        sched.step()
        lrs.append(o.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, [0.0, 0.2, 0.4, 0.6, 0.8, 0.8, 0.8], rtol=1e-15)


PLATEAU = [
    dict(),
    dict(patience=2, factor=0.5),
    dict(patience=0, cooldown=2, factor=0.3, min_lr=0.01),
    dict(patience=1, threshold=0.05, threshold_mode="abs", min_lr=[0.1, 0.001]),
    dict(mode="max", patience=3, factor=0.2, threshold=0.01),
    dict(mode="max", threshold_mode="abs", patience=1, eps=0.1),
]


@pytest.mark.parametrize("kind", ["torch", "sgdbook"])
@pytest.mark.parametrize("kw", PLATEAU, ids=[str(k) for k in PLATEAU])
def test_reduce_on_plateau_matches_torch(kw, kind):
    rng = np.random.default_rng(1)
    metrics = 1 / (1 + np.arange(150)) + 0.05 * rng.random(150)
    if kw.get("mode") == "max":
        metrics = -metrics
    metrics = [float(m) for m in metrics]
    metrics[40:60] = [float("nan")] * 20  # nan is never an improvement
    compare(
        lambda o: S.ReduceOnPlateau(o, **kw),
        lambda o: L.ReduceLROnPlateau(o, **kw),
        steps=150,
        metrics=metrics,
        kind=kind,
    )


@settings(max_examples=30, deadline=None)
@given(
    T=st.integers(1, 40),
    eta_min=st.floats(0.0, 0.5),
    lr=st.floats(1e-3, 2.0),
    steps=st.integers(1, 120),
)
def test_cosine_property(T, eta_min, lr, steps):
    compare(
        lambda o: S.CosineAnnealing(o, T, eta_min),
        lambda o: L.CosineAnnealingLR(o, T, eta_min),
        steps=steps,
        lrs=(lr, lr / 3),
    )


@settings(max_examples=30, deadline=None)
@given(
    W=st.integers(1, 15),
    s=st.floats(0.01, 1.0),
    gamma=st.floats(0.5, 1.0),
    size=st.integers(1, 10),
    steps=st.integers(1, 60),
)
def test_warmup_step_property(W, s, gamma, size, steps):
    ours, theirs = warmup_then(
        lambda o: S.StepDecay(o, size, gamma), lambda o: L.StepLR(o, size, gamma), W, s
    )
    compare(ours, theirs, steps=steps)


@settings(max_examples=30, deadline=None)
@given(
    T_0=st.integers(1, 10),
    T_mult=st.integers(1, 3),
    eta_min=st.floats(0.0, 0.01),
    steps=st.integers(1, 100),
)
def test_restarts_property(T_0, T_mult, eta_min, steps):
    compare(
        lambda o: S.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min),
        lambda o: L.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min),
        steps=steps,
    )


def first_phase(oa, ob, epochs=3):
    """An earlier StepDecay / StepLR phase on both optimizers: it halves the rates 3 times."""
    fa, fb = S.StepDecay(oa, 1, 0.5), L.StepLR(ob, 1, 0.5)
    for _ in range(epochs):
        oa.step()
        ob.step()
        fa.step()
        fb.step()


@pytest.mark.parametrize("phase", [1, 2])
@pytest.mark.parametrize("kind", ["torch", "sgdbook"])
def test_warmup_then_reduce_on_plateau(kind, phase):
    """Warm-up, then ReduceOnPlateau from the warmed-up rate (torch's SequentialLR refuses this).

    In phase 2 an earlier schedule has lowered the rate to 1/8: the warm-up rises to that rate
    (as torch's LinearLR does) and the plateau logic starts from it.
    """
    W, s, N = 5, 0.2, 60
    rng = np.random.default_rng(3)
    metrics = [float(m) for m in 1 / (1 + np.arange(N)) ** 2 + 0.01 * rng.random(N)]
    kw = dict(factor=0.5, patience=2)
    oa, ob = make_optimizer(kind), make_optimizer()
    if phase == 2:
        first_phase(oa, ob)
    peak = [g["lr"] for g in ob.param_groups]
    assert peak == ([0.5, 0.05] if phase == 1 else [0.0625, 0.00625])
    sa = S.LinearWarmup(oa, W, after=S.ReduceOnPlateau(oa, **kw), start_factor=s)
    lin = L.LinearLR(ob, s, 1.0, W)
    got, want = [sa.get_last_lr()], [[g["lr"] for g in ob.param_groups]]
    for t in range(N):
        oa.step()
        ob.step()
        sa.step(metrics[t])
        if t < W - 1:
            lin.step()
        elif t == W - 1:  # hand-over at epoch W: the warmed-up rate, fresh plateau logic
            for g, lr in zip(ob.param_groups, peak):
                g["lr"] = lr
            plateau = L.ReduceLROnPlateau(ob, **kw)
        else:
            plateau.step(metrics[t])
        got.append(sa.get_last_lr())
        want.append([g["lr"] for g in ob.param_groups])
    torch.testing.assert_close(got, want)
    assert got[W] == peak and got[-1][0] < 0.5 * got[W][0]  # it did reduce
    assert sa.lr_at(2) == pytest.approx(peak[0] * (s + (1 - s) * 2 / W))
    with pytest.raises(TypeError, match="no closed form"):
        sa.lr_at(W + 1)
    with pytest.raises(TypeError, match="metric"):
        sa.step()
    if phase == 1:
        np.testing.assert_allclose(
            S.lr_curve(
                lambda o: S.LinearWarmup(o, W, S.ReduceOnPlateau(o, **kw), s),
                N + 1,
                0.5,
                metrics=metrics,
            ),
            [g[0] for g in got],
            rtol=1e-15,
        )


@pytest.mark.parametrize("s", [0.5, 0.1, 1.0 / 3, 1.0])
@pytest.mark.parametrize("kind", ["torch", "sgdbook"])
def test_warmup_in_a_second_phase_starts_from_the_current_rate(kind, s):
    """The audit's case: after StepDecay took the rate from 1 to 1/8, LinearLR(0.5) gives
    1/16 .. 1/8 (not 1/2 .. 1)."""
    oa, ob = make_optimizer(kind, lrs=(1.0, 0.2)), make_optimizer(lrs=(1.0, 0.2))
    first_phase(oa, ob)
    assert [g["lr"] for g in oa.param_groups] == [0.125, 0.025]
    sa, sb = S.LinearWarmup(oa, 4, start_factor=s), L.LinearLR(ob, s, 1.0, 4)
    for t in range(10):
        la, lb = [g["lr"] for g in oa.param_groups], [g["lr"] for g in ob.param_groups]
        assert sa.get_last_lr() == la
        torch.testing.assert_close(la, lb, msg=lambda m: f"epoch {t}: {m}")
        assert sa.lr_at(t) == pytest.approx(la[0], rel=1e-12)
        assert sa.lr_at(t, group=1) == pytest.approx(la[1], rel=1e-12)
        oa.step()
        ob.step()
        sa.step()
        sb.step()
    assert la == pytest.approx([0.125, 0.025], rel=1e-12)
    if s == 0.5:
        assert sa.lr_at(0) == 0.0625


@pytest.mark.parametrize("kind", ["torch", "sgdbook"])
@pytest.mark.parametrize(
    "ours_after,theirs_after",
    [
        (lambda o: S.StepDecay(o, 3, 0.5), lambda o: L.StepLR(o, 3, 0.5)),
        (lambda o: S.ExponentialDecay(o, 0.9), lambda o: L.ExponentialLR(o, 0.9)),
    ],
    ids=["step", "exponential"],
)
def test_warmup_then_schedule_in_a_second_phase(kind, ours_after, theirs_after):
    """Warm up to the current rate, then the next schedule continues from it (torch: LinearLR,
    then the torch schedule created at the hand-over)."""
    W, s = 4, 0.25
    oa, ob = make_optimizer(kind), make_optimizer()
    first_phase(oa, ob)
    peak = [g["lr"] for g in ob.param_groups]
    sa = S.LinearWarmup(oa, W, after=ours_after(oa), start_factor=s)
    sb = L.LinearLR(ob, s, 1.0, W)
    for t in range(25):
        la, lb = [g["lr"] for g in oa.param_groups], [g["lr"] for g in ob.param_groups]
        torch.testing.assert_close(la, lb, msg=lambda m: f"epoch {t}: {m}")
        assert sa.lr_at(t) == pytest.approx(la[0], rel=1e-12)
        oa.step()
        ob.step()
        sa.step()
        if t == W - 1:  # hand-over at epoch W
            for g, lr in zip(ob.param_groups, peak):
                g["lr"] = lr
            sb = theirs_after(ob)
        else:
            sb.step()
    assert max(sa.lr_at(t) for t in range(25)) == pytest.approx(peak[0])


@pytest.mark.parametrize("kind", ["torch", "sgdbook"])
@pytest.mark.parametrize("min_lr", [0.0, 0.004])
def test_reduce_on_plateau_with_a_group_added_later(kind, min_lr):
    """torch extends min_lrs with the scalar min_lr for groups added after creation."""
    oa, ob = make_optimizer(kind), make_optimizer()
    kw = dict(patience=1, factor=0.5, min_lr=min_lr)
    sa, sb = S.ReduceOnPlateau(oa, **kw), L.ReduceLROnPlateau(ob, **kw)
    for opt in (oa, ob):
        opt.add_param_group({"params": [torch.zeros(3, requires_grad=True)], "lr": 0.02})
    for t in range(12):
        oa.step()
        ob.step()
        sa.step(1.0)
        sb.step(1.0)
        la, lb = [g["lr"] for g in oa.param_groups], [g["lr"] for g in ob.param_groups]
        assert sa.get_last_lr() == la and len(la) == 3
        torch.testing.assert_close(la, lb, msg=lambda m: f"epoch {t}: {m}")
    assert sa.min_lrs == sb.min_lrs == [min_lr] * 3
    assert la[2] == pytest.approx(max(min_lr, 0.02 * 0.5**5))  # 5 reductions in 12 epochs


@pytest.mark.parametrize("kind", ["torch", "sgdbook"])
def test_reduce_on_plateau_with_min_lr_list_and_a_group_added_later_raises(kind):
    oa, ob = make_optimizer(kind), make_optimizer()
    sa = S.ReduceOnPlateau(oa, patience=0, min_lr=[0.0, 0.0])
    sb = L.ReduceLROnPlateau(ob, patience=0, min_lr=[0.0, 0.0])
    for opt in (oa, ob):
        opt.add_param_group({"params": [torch.zeros(3, requires_grad=True)], "lr": 0.02})
    for sched in (sa, sb):
        sched.step(1.0)
        with pytest.raises(RuntimeError, match="min_lr"):
            sched.step(1.0)


def test_reduce_on_plateau_fills_a_tensor_lr_in_place_as_torch():
    opts = [
        torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=torch.tensor(0.5))
        for _ in range(2)
    ]
    tensors = [o.param_groups[0]["lr"] for o in opts]
    sa = S.ReduceOnPlateau(opts[0], patience=0, factor=0.5)
    sb = L.ReduceLROnPlateau(opts[1], patience=0, factor=0.5)
    for _ in range(4):
        for o, sched in zip(opts, (sa, sb)):
            o.step()
            sched.step(1.0)
        for o, t in zip(opts, tensors):
            assert o.param_groups[0]["lr"] is t
        torch.testing.assert_close(tensors[0], tensors[1])
        torch.testing.assert_close(sa.get_last_lr(), sb.get_last_lr())
    assert float(tensors[0]) == 0.5 * 0.5**3
    assert sa.get_last_lr()[0] is not tensors[0]  # a copy, as torch's
    assert sa.base_lrs == [0.5]


ALL = [c[1] for c in CASES + WARMUP_CASES] + [lambda o: S.ReduceOnPlateau(o, patience=1)]


@pytest.mark.parametrize("make", ALL)
def test_state_dict_round_trip(make):
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.85, 0.86, 0.87, 0.88, 0.89] * 3
    needs_metric = isinstance(make(make_optimizer()), S.MetricSchedule)

    def advance(sched, opt, start, n):
        for t in range(start, start + n):
            opt.step()
            sched.step(metrics[t]) if needs_metric else sched.step()

    o_full = make_optimizer()
    full = make(o_full)
    advance(full, o_full, 0, 20)

    o_a = make_optimizer()
    a = make(o_a)
    advance(a, o_a, 0, 9)
    saved_sched = copy.deepcopy(a.state_dict())
    saved_opt = copy.deepcopy(o_a.state_dict())
    o_b = make_optimizer()
    b = make(o_b)
    o_b.load_state_dict(saved_opt)
    b.load_state_dict(saved_sched)
    advance(b, o_b, 9, 11)
    assert b.get_last_lr() == full.get_last_lr()
    assert [g["lr"] for g in o_b.param_groups] == [g["lr"] for g in o_full.param_groups]


def test_usable_with_sgdbook_optimizer_in_training():
    x = torch.tensor([3.0, -2.0], requires_grad=True)
    opt = so.SGD([x], lr=0.1, momentum=0.9)
    sched = S.CosineAnnealing(opt, T_max=10)
    y = x.detach().clone().requires_grad_(True)
    opt_t = torch.optim.SGD([y], lr=0.1, momentum=0.9)
    sched_t = L.CosineAnnealingLR(opt_t, T_max=10)
    for _ in range(10):
        for o, s, p in ((opt, sched, x), (opt_t, sched_t, y)):
            o.zero_grad()
            (p**2).sum().backward()
            o.step()
            s.step()
        torch.testing.assert_close(x, y)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-15)


BAD = [
    (lambda o: S.InverseTimeDecay(o, k=-1), "k", "-1"),
    (lambda o: S.InverseTimeDecay(o, k=math.inf), "k", "inf"),
    (lambda o: S.StepDecay(o, 0), "step_size", "0"),
    (lambda o: S.StepDecay(o, 3, gamma=0), "gamma", "0"),
    (lambda o: S.StepDecay(o, 3, gamma=-0.5), "gamma", "-0.5"),
    (lambda o: S.MultiStepDecay(o, [3, 0]), r"milestones\[1\]", "0"),
    (lambda o: S.MultiStepDecay(o, []), "milestones", "empty"),
    (lambda o: S.ExponentialDecay(o, 0.0), "gamma", "0.0"),
    (lambda o: S.ExponentialDecay(o, math.nan), "gamma", "nan"),
    (lambda o: S.CosineAnnealing(o, 0), "T_max", "0"),
    (lambda o: S.CosineAnnealing(o, 10, eta_min=-1), "eta_min", "-1"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 0), "T_0", "0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 5, T_mult=0), "T_mult", "0"),
    (lambda o: S.LinearWarmup(o, 0), "warmup_steps", "0"),
    (lambda o: S.LinearWarmup(o, 5, start_factor=1.5), "start_factor", "1.5"),
    (lambda o: S.ReduceOnPlateau(o, mode="avg"), "mode", "avg"),
    (lambda o: S.ReduceOnPlateau(o, factor=1.0), "factor", "1.0"),
    (lambda o: S.ReduceOnPlateau(o, factor=0), "factor", "0"),
    (lambda o: S.ReduceOnPlateau(o, patience=-1), "patience", "-1"),
    (lambda o: S.ReduceOnPlateau(o, threshold_mode="pct"), "threshold_mode", "pct"),
    (lambda o: S.ReduceOnPlateau(o, min_lr=[0.1]), "min_lr", "1"),
    (lambda o: S.ReduceOnPlateau(o, cooldown=-2), "cooldown", "-2"),
]


@pytest.mark.parametrize("make,name,value", BAD)
def test_bad_arguments_raise_value_error_naming_them(make, name, value):
    with pytest.raises(ValueError, match=name) as info:
        make(make_optimizer())
    assert value in str(info.value)


def test_bad_types():
    with pytest.raises(TypeError, match="optimizer"):
        S.StepDecay([torch.zeros(1)], 3)
    with pytest.raises(TypeError, match="integer"):
        S.StepDecay(make_optimizer(), 2.5)
    o = make_optimizer()
    with pytest.raises(TypeError, match="after"):
        S.LinearWarmup(o, 3, after=S.LinearWarmup(o, 2))
    with pytest.raises(TypeError, match="after"):
        S.LinearWarmup(o, 3, after=L.StepLR(o, 3))
    with pytest.raises(ValueError, match="same optimizer"):
        S.LinearWarmup(o, 3, after=S.StepDecay(make_optimizer(), 3))
    assert not hasattr(S.ReduceOnPlateau(o), "lr_at")  # metric-driven: no closed form
    with pytest.raises(ValueError, match="epoch"):
        S.StepDecay(make_optimizer(), 3).lr_at(-1)
    with pytest.raises(ValueError, match="metrics"):
        S.lr_curve(lambda o: S.ReduceOnPlateau(o), 10, metrics=[1.0])


def test_warmup_composes_with_any_metric_schedule():
    """A new metric-driven schedule needs nothing from LinearWarmup: the protocol suffices."""

    class HalveOnIncrease(S.MetricSchedule):
        def __init__(self, optimizer):
            self.previous = math.inf
            super().__init__(optimizer)

        def step(self, metrics):
            self.last_epoch += 1
            if float(metrics) > self.previous:
                for group in self.optimizer.param_groups:
                    self._set_lr(group, group["lr"] / 2)
            self.previous = float(metrics)
            self._record_lrs()

        def restart(self):
            self.previous = math.inf
            super().restart()

    o = make_optimizer()
    peak = [g["lr"] for g in o.param_groups]
    sched = S.LinearWarmup(o, 2, after=HalveOnIncrease(o), start_factor=0.5)
    assert isinstance(sched.after, S.LRSchedule) and not isinstance(sched.after, S.Schedule)
    rates = [sched.get_last_lr()]
    for m in [5.0, 4.0, 3.0, 3.5, 3.0]:
        sched.step(m)
        rates.append(sched.get_last_lr())
    assert rates[0] == [0.5 * p for p in peak]
    assert rates[2] == peak and rates[3] == peak  # handed over, then one improvement
    assert rates[4] == [p / 2 for p in peak] and rates[5] == [p / 2 for p in peak]
    with pytest.raises(TypeError, match="no closed form"):
        sched.lr_at(3)
    assert sched.lr_at(1) == pytest.approx(0.75 * peak[0])
