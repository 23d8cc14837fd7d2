"""sgdbook.optim against torch.optim: same numbers at every step, both code paths."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sgdbook.optim as so
from sgdbook.problems import objectives
from sgdbook.theory import gd

SHAPES = [(3,), (2, 4), (), (5, 1, 2)]
DTYPES = [torch.float32, torch.float64]


def make_problem(shapes, dtype, seed):
    """Random smooth non-convex objective sum_i sum(a_i p^2 / 2 + b_i p + c_i sin(3 p)), a start.

    Returns ``(x0, loss)``; ``loss(params)`` is a differentiable torch scalar. The tests that
    run many steps use :func:`set_grads` instead (the same gradient, without autograd's cost).
    """
    g = torch.Generator().manual_seed(seed)
    coefs = [
        (
            torch.rand(s, generator=g, dtype=dtype) * 2 + 0.1,
            torch.randn(s, generator=g, dtype=dtype),
            torch.randn(s, generator=g, dtype=dtype),
        )
        for s in shapes
    ]
    x0 = [torch.randn(s, generator=g, dtype=dtype) for s in shapes]

    def loss(params):
        return sum(
            (a * p * p / 2 + b * p + c * torch.sin(3 * p)).sum()
            for (a, b, c), p in zip(coefs, params)
        )

    loss.coefs = coefs
    return x0, loss


def set_grads(loss, params):
    """Write the exact gradient a p + b + 3 c cos(3 p) of ``loss`` into ``p.grad``."""
    with torch.no_grad():
        for (a, b, c), p in zip(loss.coefs, params):
            p.grad = a * p + b + 3 * c * torch.cos(3 * p)


def run_side_by_side(
    make_ours,
    make_theirs,
    *,
    shapes=SHAPES,
    dtype=torch.float64,
    steps=30,
    seed=0,
    groups=None,
    rtol=None,
    atol=None,
):
    """Step both optimizers on the same problem; assert_close on every parameter after each step."""
    x0, loss = make_problem(shapes, dtype, seed)
    ours = [p.clone().requires_grad_(True) for p in x0]
    theirs = [p.clone().requires_grad_(True) for p in x0]
    wrap = (
        (lambda ps: ps)
        if groups is None
        else (lambda ps: [dict(g, params=ps[i:j]) for (i, j), g in groups])
    )
    opt_a, opt_b = make_ours(wrap(ours)), make_theirs(wrap(theirs))
    for step in range(steps):
        for opt, params in ((opt_a, ours), (opt_b, theirs)):
            opt.zero_grad()
            set_grads(loss, params)
            opt.step()
        for i, (p, q) in enumerate(zip(ours, theirs)):
            torch.testing.assert_close(
                p,
                q,
                rtol=rtol,
                atol=atol,
                equal_nan=True,
                msg=lambda m: f"step {step}, tensor {i}: {m}",
            )
    return opt_a, opt_b, ours, theirs


# (name, sgdbook factory, torch factory) with torch's argument names on both sides
CASES = [
    ("sgd", lambda p, **k: so.SGD(p, lr=0.05, **k), lambda p: torch.optim.SGD(p, lr=0.05)),
    ("sgd-default-lr", lambda p, **k: so.SGD(p, **k), lambda p: torch.optim.SGD(p)),
    (
        "sgd-lr0",
        lambda p, **k: so.SGD(p, lr=0.0, momentum=0.9, **k),
        lambda p: torch.optim.SGD(p, lr=0.0, momentum=0.9),
    ),
    (
        "momentum",
        lambda p, **k: so.SGD(p, lr=0.05, momentum=0.9, **k),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    (
        "momentum-dampening-wd",
        lambda p, **k: so.SGD(p, 0.05, 0.8, 0.3, weight_decay=0.1, **k),
        lambda p: torch.optim.SGD(p, 0.05, 0.8, 0.3, weight_decay=0.1),
    ),
    (
        "nesterov",
        lambda p, **k: so.SGD(p, lr=0.05, momentum=0.9, nesterov=True, **k),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    ),
    (
        "nesterov-wd",
        lambda p, **k: so.SGD(p, 0.02, 0.5, nesterov=True, weight_decay=0.5, **k),
        lambda p: torch.optim.SGD(p, 0.02, 0.5, nesterov=True, weight_decay=0.5),
    ),
    ("adagrad", lambda p, **k: so.Adagrad(p, **k), lambda p: torch.optim.Adagrad(p)),
    (
        "adagrad-all",
        lambda p, **k: so.Adagrad(p, 0.3, 0.05, 0.1, 0.5, 1e-6, **k),
        lambda p: torch.optim.Adagrad(p, 0.3, 0.05, 0.1, 0.5, 1e-6),
    ),
    ("rmsprop", lambda p, **k: so.RMSprop(p, **k), lambda p: torch.optim.RMSprop(p)),
    (
        "rmsprop-alpha0",
        lambda p, **k: so.RMSprop(p, lr=1e-3, alpha=0.0, **k),
        lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.0),
    ),
    (
        "rmsprop-centered",
        lambda p, **k: so.RMSprop(p, centered=True, **k),
        lambda p: torch.optim.RMSprop(p, centered=True),
    ),
    (
        "rmsprop-momentum",
        lambda p, **k: so.RMSprop(p, lr=1e-3, momentum=0.9, **k),
        lambda p: torch.optim.RMSprop(p, lr=1e-3, momentum=0.9),
    ),
    (
        "rmsprop-all",
        lambda p, **k: so.RMSprop(p, 1e-3, 0.9, 1e-6, 0.1, 0.5, True, **k),
        lambda p: torch.optim.RMSprop(p, 1e-3, 0.9, 1e-6, 0.1, 0.5, True),
    ),
    ("adam", lambda p, **k: so.Adam(p, **k), lambda p: torch.optim.Adam(p)),
    ("adam-lr", lambda p, **k: so.Adam(p, lr=0.05, **k), lambda p: torch.optim.Adam(p, lr=0.05)),
    (
        "adam-beta1-0",
        lambda p, **k: so.Adam(p, lr=0.01, betas=(0.0, 0.999), **k),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.0, 0.999)),
    ),
    (
        "adam-beta2-0",
        lambda p, **k: so.Adam(p, lr=0.01, betas=(0.5, 0.0), eps=1e-3, **k),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.5, 0.0), eps=1e-3),
    ),
    (
        "adam-amsgrad-wd",
        lambda p, **k: so.Adam(p, 0.01, weight_decay=0.1, amsgrad=True, **k),
        lambda p: torch.optim.Adam(p, 0.01, weight_decay=0.1, amsgrad=True),
    ),
    ("adamw", lambda p, **k: so.AdamW(p, **k), lambda p: torch.optim.AdamW(p)),
    (
        "adamw-strong",
        lambda p, **k: so.AdamW(p, 0.05, (0.8, 0.99), 1e-6, 0.5, **k),
        lambda p: torch.optim.AdamW(p, 0.05, (0.8, 0.99), 1e-6, 0.5),
    ),
    (
        "adamw-amsgrad",
        lambda p, **k: so.AdamW(p, 0.01, amsgrad=True, **k),
        lambda p: torch.optim.AdamW(p, 0.01, amsgrad=True),
    ),
    (
        "sgd-maximize",
        lambda p, **k: so.SGD(p, 0.01, 0.9, nesterov=True, weight_decay=0.1, maximize=True, **k),
        lambda p: torch.optim.SGD(p, 0.01, 0.9, nesterov=True, weight_decay=0.1, maximize=True),
    ),
    (
        "adagrad-maximize",
        lambda p, **k: so.Adagrad(p, 0.1, weight_decay=0.1, maximize=True, **k),
        lambda p: torch.optim.Adagrad(p, 0.1, weight_decay=0.1, maximize=True),
    ),
    (
        "rmsprop-maximize",
        lambda p, **k: so.RMSprop(p, 1e-3, momentum=0.5, centered=True, maximize=True, **k),
        lambda p: torch.optim.RMSprop(p, 1e-3, momentum=0.5, centered=True, maximize=True),
    ),
    (
        "adam-maximize",
        lambda p, **k: so.Adam(p, 0.01, weight_decay=0.1, maximize=True, **k),
        lambda p: torch.optim.Adam(p, 0.01, weight_decay=0.1, maximize=True),
    ),
    (
        "adamw-tensor-lr",
        lambda p, **k: so.AdamW(p, torch.tensor(0.01), maximize=False, **k),
        lambda p: torch.optim.AdamW(p, 0.01),
    ),
    (
        "adamw-wd0",
        lambda p, **k: so.AdamW(p, 0.01, weight_decay=0.0, **k),
        lambda p: torch.optim.AdamW(p, 0.01, weight_decay=0.0),
    ),
]


@pytest.mark.parametrize("foreach", [False, True], ids=["single", "foreach"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,ours,theirs", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_every_step(name, ours, theirs, dtype, foreach):
    run_side_by_side(lambda p: ours(p, foreach=foreach), theirs, dtype=dtype, steps=30)


@pytest.mark.parametrize("name,ours,theirs", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_foreach_implementation(name, ours, theirs):
    # torch's own multi-tensor implementation, against our multi-tensor path
    def theirs_foreach(p):
        opt = theirs(p)
        for g in opt.param_groups:
            g["foreach"] = True
        return opt

    run_side_by_side(lambda p: ours(p, foreach=True), theirs_foreach, dtype=torch.float32)


@pytest.mark.parametrize("name,ours,theirs", CASES, ids=[c[0] for c in CASES])
def test_single_tensor_problem(name, ours, theirs):
    run_side_by_side(ours, theirs, shapes=[(7,)], steps=20, seed=3)


def test_single_and_foreach_paths_agree_bitwise_on_cpu():
    for name, ours, _ in CASES:
        pa, pb = run_side_by_side(
            lambda p: ours(p, foreach=True),
            lambda p: ours(p, foreach=False),
            dtype=torch.float32,
            steps=10,
        )[2:]
        for p, q in zip(pa, pb):
            assert torch.equal(p, q), name


def test_default_path_is_the_per_tensor_loop_on_cpu(monkeypatch):
    calls = []
    monkeypatch.setattr(so.Adam, "_foreach_update", lambda *a: calls.append("foreach"))
    monkeypatch.setattr(so.Adam, "_update", lambda *a: calls.append("single"))
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    for p in params:
        p.grad = torch.ones_like(p)
    so.Adam(params).step()
    so.Adam(params, foreach=True).step()
    assert calls == ["single", "single", "foreach"]


@pytest.mark.parametrize("foreach", [False, True])
def test_param_groups_with_different_hyperparameters(foreach):
    groups = [
        ((0, 2), dict(lr=0.01, betas=(0.8, 0.9))),
        ((2, 4), dict(weight_decay=0.2, amsgrad=True)),
    ]
    run_side_by_side(
        lambda p: so.Adam(p, lr=0.03, foreach=foreach),
        lambda p: torch.optim.Adam(p, lr=0.03),
        groups=groups,
    )
    groups = [((0, 1), dict(lr=0.01, momentum=0.0)), ((1, 4), dict(nesterov=True))]
    run_side_by_side(
        lambda p: so.SGD(p, lr=0.03, momentum=0.9, foreach=foreach),
        lambda p: torch.optim.SGD(p, lr=0.03, momentum=0.9),
        groups=groups,
    )
    groups = [((0, 3), dict(centered=True)), ((3, 4), dict(momentum=0.3, alpha=0.5))]
    run_side_by_side(
        lambda p: so.RMSprop(p, lr=0.003, foreach=foreach),
        lambda p: torch.optim.RMSprop(p, lr=0.003),
        groups=groups,
    )


def test_mixed_dtypes_in_one_group_with_foreach():
    x32 = torch.randn(4, dtype=torch.float32)
    x64 = torch.randn(3, 2, dtype=torch.float64)
    pa = [x32.clone().requires_grad_(), x64.clone().requires_grad_()]
    pb = [x32.clone().requires_grad_(), x64.clone().requires_grad_()]
    oa, ob = so.Adam(pa, lr=0.1, foreach=True), torch.optim.Adam(pb, lr=0.1)
    for _ in range(10):
        for opt, ps in ((oa, pa), (ob, pb)):
            opt.zero_grad()
            sum((p**3).sum() for p in ps).backward()
            opt.step()
        for p, q in zip(pa, pb):
            torch.testing.assert_close(p, q)


# -- the EMA form of momentum --------------------------------------------------------------


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("beta,wd", [(0.9, 0.0), (0.5, 0.1), (0.0, 0.0), (0.99, 0.01)])
def test_ema_momentum_equals_torch_sgd_with_rescaled_lr(beta, wd, dtype, foreach):
    """EMAMomentum(lr, beta) == torch SGD(lr * (1 - beta), momentum=beta): see its docstring.

    The two forms are equal in exact arithmetic but round differently (v versus
    (1 - beta) u), so on this non-convex problem float32 gets a slightly looser tolerance.
    """
    lr = 0.1
    tol = {} if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-5)
    run_side_by_side(
        lambda p: so.EMAMomentum(p, lr=lr, beta=beta, weight_decay=wd, foreach=foreach),
        lambda p: torch.optim.SGD(p, lr=lr * (1 - beta), momentum=beta, weight_decay=wd),
        dtype=dtype,
        steps=50,
        **tol,
    )


def test_ema_velocity_is_the_average_of_gradients():
    # v_t = (1-beta) sum_k beta^(t-k) g_k with a constant gradient tends to g
    x = torch.zeros(2, requires_grad=True)
    opt = so.EMAMomentum([x], lr=0.0, beta=0.5)
    for _ in range(60):
        x.grad = torch.tensor([1.0, -2.0])
        opt.step()
    torch.testing.assert_close(opt.state[x]["velocity"], torch.tensor([1.0, -2.0]))


def test_ema_and_torch_form_differ_without_rescaling():
    """With the same lr, torch's buffer (u_1 = g) steps 1/(1-beta) times farther than v_1."""
    x0, loss = make_problem(SHAPES, torch.float64, 0)
    moves = []
    for make in (
        lambda p: so.EMAMomentum(p, lr=0.01, beta=0.9),
        lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    ):
        ps = [p.clone().requires_grad_() for p in x0]
        opt = make(ps)
        set_grads(loss, ps)
        opt.step()
        moves.append(torch.cat([(p - q).detach().reshape(-1) for p, q in zip(ps, x0)]))
    torch.testing.assert_close(moves[0], (1 - 0.9) * moves[1])
    assert moves[1].abs().max() > 5 * moves[0].abs().max()


# -- property-based comparisons ------------------------------------------------------------

unit = st.floats(0.0, 0.999)
shapes_st = st.lists(
    st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), min_size=1, max_size=4
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shapes=shapes_st,
    lr=st.floats(1e-4, 0.5),
    b1=unit,
    b2=unit,
    eps=st.floats(1e-10, 1e-2),
    wd=st.floats(0.0, 0.5),
    amsgrad=st.booleans(),
    decoupled=st.booleans(),
    foreach=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_adam_family_property(shapes, lr, b1, b2, eps, wd, amsgrad, decoupled, foreach, seed):
    ours, theirs = (so.AdamW, torch.optim.AdamW) if decoupled else (so.Adam, torch.optim.Adam)
    kw = dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, amsgrad=amsgrad)
    run_side_by_side(
        lambda p: ours(p, foreach=foreach, **kw),
        lambda p: theirs(p, **kw),
        shapes=shapes,
        steps=15,
        seed=seed,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shapes=shapes_st,
    lr=st.floats(1e-4, 0.2),
    mu=st.floats(0.0, 0.99),
    damp=st.floats(0.0, 1.0),
    nesterov=st.booleans(),
    wd=st.floats(0.0, 0.5),
    foreach=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_sgd_property(shapes, lr, mu, damp, nesterov, wd, foreach, seed):
    if nesterov:
        damp, mu = 0.0, max(mu, 0.1)
    kw = dict(lr=lr, momentum=mu, dampening=damp, nesterov=nesterov, weight_decay=wd)
    run_side_by_side(
        lambda p: so.SGD(p, foreach=foreach, **kw),
        lambda p: torch.optim.SGD(p, **kw),
        shapes=shapes,
        steps=15,
        seed=seed,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shapes=shapes_st,
    lr=st.floats(1e-4, 0.05),
    alpha=unit,
    eps=st.floats(1e-10, 1e-2),
    wd=st.floats(0.0, 0.5),
    mu=st.floats(0.0, 0.9),
    centered=st.booleans(),
    foreach=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_rmsprop_property(shapes, lr, alpha, eps, wd, mu, centered, foreach, seed):
    kw = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=mu, centered=centered)
    run_side_by_side(
        lambda p: so.RMSprop(p, foreach=foreach, **kw),
        lambda p: torch.optim.RMSprop(p, **kw),
        shapes=shapes,
        steps=15,
        seed=seed,
    )


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shapes=shapes_st,
    lr=st.floats(1e-4, 0.5),
    lr_decay=st.floats(0.0, 0.5),
    wd=st.floats(0.0, 0.5),
    acc=st.floats(0.0, 1.0),
    eps=st.floats(1e-10, 1e-2),
    foreach=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_adagrad_property(shapes, lr, lr_decay, wd, acc, eps, foreach, seed):
    kw = dict(lr=lr, lr_decay=lr_decay, weight_decay=wd, initial_accumulator_value=acc, eps=eps)
    run_side_by_side(
        lambda p: so.Adagrad(p, foreach=foreach, **kw),
        lambda p: torch.optim.Adagrad(p, **kw),
        shapes=shapes,
        steps=15,
        seed=seed,
    )


# -- optimizer API: state_dict, closures, zero_grad, skipped params ------------------------

OPTS = [
    c
    for c in CASES
    if c[0] in ("momentum", "nesterov", "adagrad-all", "rmsprop-all", "adam-amsgrad-wd", "adamw")
]


@pytest.mark.parametrize("name,ours,theirs", OPTS, ids=[c[0] for c in OPTS])
def test_state_dict_round_trip_continues_identically(name, ours, theirs):
    x0, loss = make_problem(SHAPES, torch.float64, 1)

    def steps(opt, params, n):
        for _ in range(n):
            opt.zero_grad()
            set_grads(loss, params)
            opt.step()

    full = [p.clone().requires_grad_() for p in x0]
    opt_full = ours(full)
    steps(opt_full, full, 10)

    part = [p.clone().requires_grad_() for p in x0]
    opt_part = ours(part)
    steps(opt_part, part, 5)
    saved = copy.deepcopy(opt_part.state_dict())
    resumed = [p.detach().clone().requires_grad_() for p in part]
    opt_resumed = ours(resumed)
    opt_resumed.load_state_dict(saved)
    steps(opt_resumed, resumed, 5)
    for p, q in zip(full, resumed):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("name,ours,theirs", OPTS, ids=[c[0] for c in OPTS])
def test_state_dict_interchange_with_torch(name, ours, theirs):
    """torch -> sgdbook and sgdbook -> torch checkpoints continue as torch would."""
    x0, loss = make_problem(SHAPES, torch.float32, 2)

    def steps(opt, params, n):
        for _ in range(n):
            opt.zero_grad()
            set_grads(loss, params)
            opt.step()

    ref = [p.clone().requires_grad_() for p in x0]
    opt_ref = theirs(ref)
    steps(opt_ref, ref, 4)
    sd = copy.deepcopy(opt_ref.state_dict())
    steps(opt_ref, ref, 4)
    for make in (ours, theirs):
        start = [p.clone().requires_grad_() for p in x0]
        warm = theirs(start)
        steps(warm, start, 4)
        mid = [p.detach().clone().requires_grad_() for p in start]
        opt = make(mid)
        opt.load_state_dict(copy.deepcopy(sd))
        steps(opt, mid, 4)
        for p, q in zip(ref, mid):
            torch.testing.assert_close(p, q)
    # and back: an sgdbook checkpoint loads into torch
    start = [p.clone().requires_grad_() for p in x0]
    mine = ours(start)
    steps(mine, start, 4)
    mid = [p.detach().clone().requires_grad_() for p in start]
    opt = theirs(mid)
    opt.load_state_dict(copy.deepcopy(mine.state_dict()))
    steps(opt, mid, 4)
    for p, q in zip(ref, mid):
        torch.testing.assert_close(p, q)


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    for make in (lambda p: so.Adam(p, lr=0.1), lambda p: torch.optim.Adam(p, lr=0.1)):
        x = torch.tensor([1.0, -2.0], requires_grad=True)
        opt = make([x])

        def closure():
            opt.zero_grad()
            loss = (x**2).sum()
            loss.backward()
            return loss

        with torch.no_grad():
            losses = [float(opt.step(closure)) for _ in range(3)]
        assert losses[0] == 5.0 and losses[2] < losses[0]


def test_zero_grad_and_params_without_grad_are_skipped():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(3, requires_grad=True)
    opt = so.Adam([a, b], lr=0.1, foreach=True)
    a.grad = torch.ones(2)
    opt.step()
    assert torch.equal(b, torch.ones(3)) and b not in opt.state
    assert not torch.equal(a, torch.ones(2)) and opt.state[a]["step"] == 1
    opt.zero_grad()
    assert a.grad is None
    assert opt.step() is None  # nothing to do


def test_optimizers_are_torch_optimizers_with_torch_defaults():
    x = [torch.zeros(1, requires_grad=True)]
    expected = {
        so.SGD: dict(lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
        so.Adagrad: dict(
            lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10
        ),
        so.RMSprop: dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False),
        so.Adam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False),
        so.AdamW: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False),
    }
    for cls, defaults in expected.items():
        opt = cls(x)
        assert isinstance(opt, torch.optim.Optimizer)
        for k, v in defaults.items():
            assert opt.param_groups[0][k] == v, (cls, k)
    for cls in expected:
        assert cls(x).param_groups[0]["maximize"] is False
    ema = so.EMAMomentum(x, lr=0.1)
    assert ema.param_groups[0]["beta"] == 0.9


# -- validation ----------------------------------------------------------------------------

P = [torch.zeros(2, requires_grad=True)]
BAD = [
    (lambda: so.SGD(P, lr=-0.1), "lr", "-0.1"),
    (lambda: so.SGD(P, lr=float("nan")), "lr", "nan"),
    (lambda: so.Adam(P, lr=float("inf")), "lr", "inf"),
    (lambda: so.SGD(P, lr=0.1, momentum=-0.5), "momentum", "-0.5"),
    (lambda: so.SGD(P, lr=0.1, nesterov=True), "nesterov", "momentum=0.0"),
    (
        lambda: so.SGD(P, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        "nesterov",
        "dampening=0.1",
    ),
    (lambda: so.SGD(P, lr=0.1, dampening=1.5), "dampening", "1.5"),
    (lambda: so.SGD(P, lr=0.1, weight_decay=-1), "weight_decay", "-1"),
    (lambda: so.EMAMomentum(P, lr=0.1, beta=1.0), "beta", "1.0"),
    (lambda: so.EMAMomentum(P, lr=0.1, beta=-0.1), "beta", "-0.1"),
    (lambda: so.Adam(P, betas=(1.0, 0.999)), r"betas\[0\]", "1.0"),
    (lambda: so.Adam(P, betas=(0.9, 1.2)), r"betas\[1\]", "1.2"),
    (lambda: so.AdamW(P, betas=(-0.1, 0.9)), r"betas\[0\]", "-0.1"),
    (lambda: so.Adam(P, betas=(0.9,)), "betas", r"\(0.9,\)"),
    (lambda: so.Adam(P, eps=0.0), "eps", "0.0"),
    (lambda: so.AdamW(P, eps=-1e-8), "eps", "-1e-08"),
    (lambda: so.Adam(P, weight_decay=-0.1), "weight_decay", "-0.1"),
    (lambda: so.RMSprop(P, alpha=1.0), "alpha", "1.0"),
    (lambda: so.RMSprop(P, eps=0), "eps", "0"),
    (lambda: so.RMSprop(P, momentum=-1), "momentum", "-1"),
    (lambda: so.Adagrad(P, lr_decay=-1), "lr_decay", "-1"),
    (lambda: so.Adagrad(P, initial_accumulator_value=-1), "initial_accumulator_value", "-1"),
    (lambda: so.Adagrad(P, eps=0), "eps", "0"),
    (lambda: so.SGD([], lr=0.1), "params", "empty"),
    (lambda: so.Adam(iter([])), "params", "empty"),
    (lambda: so.SGD([{"params": []}]), "params of parameter group 0", "empty"),
    (
        lambda: so.Adagrad([{"params": P}, {"params": [], "lr": 0.1}]),
        "params of parameter group 1",
        "empty",
    ),
]


@pytest.mark.parametrize("make,name,value", BAD)
def test_bad_arguments_raise_value_error_naming_them(make, name, value):
    with pytest.raises(ValueError, match=name) as info:
        make()
    assert value.replace("\\", "") in str(info.value) or name == "params"


def test_empty_parameter_group_is_refused_although_torch_accepts_it():
    torch.optim.SGD([{"params": []}], lr=0.1)  # torch 2.13 takes it (a documented difference)
    with pytest.raises(ValueError, match="params of parameter group 0 must not be empty"):
        so.SGD([{"params": []}], lr=0.1)
    opt = so.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="params of parameter group 1 must not be empty"):
        opt.add_param_group({"params": []})
    assert len(opt.param_groups) == 1


def _positional(cls):
    import inspect

    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [n for n, q in inspect.signature(cls).parameters.items() if q.kind in kinds]


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_positional_order_is_torchs(name):
    ours, theirs = _positional(getattr(so, name)), _positional(getattr(torch.optim, name))
    if name == "RMSprop":  # torch's 8th positional is capturable, which sgdbook does not offer
        assert ours == theirs[: len(ours)] and theirs[len(ours)] == "capturable"
    else:
        assert ours == theirs


def test_sgd_positional_call_binds_as_torch():
    x, y = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    ours, theirs = so.SGD([x], 0.1, 0.9, 0.0, 1e-4), torch.optim.SGD([y], 0.1, 0.9, 0.0, 1e-4)
    for key in ("lr", "momentum", "dampening", "weight_decay", "nesterov"):
        assert ours.param_groups[0][key] == theirs.param_groups[0][key], key
    args = (0.05, 0.9, 0.0, 0.1, True)  # lr, momentum, dampening, weight_decay, nesterov
    for foreach in (False, True):
        run_side_by_side(
            lambda p: so.SGD(p, *args, foreach=foreach), lambda p: torch.optim.SGD(p, *args)
        )


@pytest.mark.parametrize("foreach", [False, True])
def test_adagrad_positional_foreach_binds_as_torch(foreach):
    args = (0.3, 0.05, 0.1, 0.5, 1e-6, foreach)
    opt_a, opt_b = run_side_by_side(
        lambda p: so.Adagrad(p, *args), lambda p: torch.optim.Adagrad(p, *args)
    )[:2]
    assert opt_a.param_groups[0]["foreach"] is opt_b.param_groups[0]["foreach"] is foreach


def test_rmsprop_positional_call_past_centered_is_refused():
    torch.optim.RMSprop(P, 1e-2, 0.99, 1e-8, 0, 0, False, False)  # 8th = capturable in torch
    with pytest.raises(TypeError):
        so.RMSprop(P, 1e-2, 0.99, 1e-8, 0, 0, False, False)


@pytest.mark.parametrize("foreach", [False, True])
def test_adagrad_group_initial_accumulator_value_is_ignored_as_in_torch(foreach):
    """torch starts every sum from defaults["initial_accumulator_value"], not the group's."""
    groups = [((0, 2), dict(initial_accumulator_value=3.0)), ((2, 4), dict(lr=0.05))]
    opt_a, opt_b, pa, pb = run_side_by_side(
        lambda p: so.Adagrad(p, lr=0.1, initial_accumulator_value=0.5, foreach=foreach),
        lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.5),
        groups=groups,
    )
    assert opt_a.param_groups[0]["initial_accumulator_value"] == 3.0  # kept, validated, unused
    # a group added later also starts from the constructor's value; the same seed gives the
    # first len(SHAPES) tensors the coefficients run_side_by_side used
    _, loss = make_problem([*SHAPES, (3,), (2, 2)], torch.float64, 0)
    g = torch.Generator().manual_seed(7)
    new_x0 = [
        torch.randn(3, generator=g, dtype=torch.float64),
        torch.randn(2, 2, generator=g, dtype=torch.float64),
    ]
    for opt, params in ((opt_a, pa), (opt_b, pb)):
        new = [p.clone().requires_grad_() for p in new_x0]
        opt.add_param_group({"params": new, "initial_accumulator_value": 2.0})
        params.extend(new)
    for _ in range(5):
        for opt, params in ((opt_a, pa), (opt_b, pb)):
            opt.zero_grad()
            set_grads(loss, params)
            opt.step()
    for p, q in zip(pa, pb):
        torch.testing.assert_close(p, q)
        torch.testing.assert_close(opt_a.state[p]["sum"], opt_b.state[q]["sum"])


def test_torch_scheduler_drives_sgdbook_optimizer():
    x = torch.ones(2, requires_grad=True)
    opt = so.SGD([x], lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(5):
            x.grad = torch.ones(2)
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]


def test_bad_types():
    with pytest.raises(TypeError, match="nesterov"):
        so.SGD(P, lr=0.1, momentum=0.9, nesterov="yes")
    with pytest.raises(TypeError, match="single Tensor"):
        so.SGD(P[0], lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        so.SGD([torch.zeros(2, dtype=torch.int64)], lr=0.1)
    with pytest.raises(TypeError, match="foreach"):
        so.Adam(P, foreach="auto")


def test_add_param_group_is_validated_and_not_added_when_bad():
    opt = so.Adam([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=r"lr must be >= 0, got -1\.0"):
        opt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], "lr": -1.0})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.9, 0.999)


# -- divergence ----------------------------------------------------------------------------


def test_check_finite_raises_divergence_error_without_warnings():
    x = torch.tensor([10.0], requires_grad=True)
    opt = so.SGD([x], lr=1.1, check_finite=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            so.DivergenceError, match=r"after step \d+: parameter 0 of group 0"
        ) as info:
            for _ in range(10_000):
                opt.zero_grad()
                (x**2).sum().backward()
                opt.step()
    assert isinstance(info.value, RuntimeError)
    assert 100 < info.value.step < 10_000 and info.value.group == 0 and info.value.index == 0
    assert not so.params_finite(opt)


def test_assert_finite_on_torch_optimizer_and_no_false_alarm_on_huge_values():
    big = torch.full((3,), 1e30)  # finite, even though its squared norm would overflow
    opt = torch.optim.SGD([big.requires_grad_(), torch.zeros(2, requires_grad=True)], lr=0.1)
    so.assert_finite(opt, step=1)
    assert so.params_finite(opt)
    with torch.no_grad():
        opt.param_groups[0]["params"][1][1] = float("nan")
    with pytest.raises(
        so.DivergenceError, match=r"after step 7: parameter 1 of group 0 \(shape \(2,\)\)"
    ):
        so.assert_finite(opt, step=7)


# -- run_optimizer -------------------------------------------------------------------------


def test_run_optimizer_plain_sgd_equals_gradient_descent():
    q = objectives.ill_conditioned_2d()
    ref = gd.gradient_descent(q, [3.0, 1.0], 0.2, 25)
    for make in (lambda p: so.SGD(p, lr=0.2), lambda p: torch.optim.SGD(p, lr=0.2)):
        run = so.run_optimizer(make, q, [3.0, 1.0], 25)
        np.testing.assert_allclose(run.xs, ref.xs, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(run.losses, ref.losses, rtol=1e-12, atol=1e-14)
        assert run.xs.shape == (26, 2) and run.losses.shape == (26,) and not run.diverged
        assert run.lr == 0.2


def test_run_optimizer_with_torch_function_matches_objective():
    q = objectives.ill_conditioned_2d()
    f = lambda x: 0.1 * x[0] ** 2 + 2 * x[1] ** 2
    a = so.run_optimizer(lambda p: so.Adam(p, lr=0.1), q, [3.0, 1.0], 50)
    b = so.run_optimizer(lambda p: so.Adam(p, lr=0.1), f, [3.0, 1.0], 50)
    np.testing.assert_allclose(a.xs, b.xs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-12, atol=1e-14)
    assert b.losses[-1] < 0.05 * b.losses[0]


def test_run_optimizer_with_gradient_oracle():
    calls = []

    def grad(x):
        calls.append(x.copy())
        return 2 * x

    run = so.run_optimizer(lambda p: so.SGD(p, lr=0.25), None, 4.0, 3, grad=grad)
    np.testing.assert_allclose(run.xs[:, 0], [4.0, 2.0, 1.0, 0.5])
    assert np.all(np.isnan(run.losses)) and len(calls) == 3
    # oracle for the steps, objective for the plotted losses
    run = so.run_optimizer(lambda p: so.SGD(p, lr=0.25), objectives.square(), 4.0, 3, grad=grad)
    np.testing.assert_allclose(run.losses, [16.0, 4.0, 1.0, 0.25])


def test_run_optimizer_stops_at_divergence_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = so.run_optimizer(lambda p: so.SGD(p, lr=1.1), objectives.square(), 10.0, 10_000)
        run_t = so.run_optimizer(
            lambda p: torch.optim.SGD(p, lr=1.1), lambda x: (x**2).sum(), 10.0, 10_000
        )
    for r in (run, run_t):
        assert r.diverged and r.steps < 200 and "发散" in r.status()
        assert len(r.losses) == len(r.xs)


def test_run_optimizer_validates():
    with pytest.raises(ValueError, match="steps"):
        so.run_optimizer(lambda p: so.SGD(p, lr=0.1), objectives.square(), 1.0, -1)
    with pytest.raises(TypeError, match="Optimizer"):
        so.run_optimizer(lambda p: None, objectives.square(), 1.0, 3)
    with pytest.raises(TypeError, match="grad"):
        so.run_optimizer(lambda p: so.SGD(p, lr=0.1), None, 1.0, 3)
    with pytest.raises(ValueError, match="x0"):
        so.run_optimizer(lambda p: so.SGD(p, lr=0.1), objectives.square(), [math.nan], 3)


def test_run_optimizer_reports_check_finite_divergence_like_torch():
    f = lambda x: x[0] ** 2 + x[1] ** 2
    runs = [
        so.run_optimizer(make, f, [1e10, 1e10], 20)
        for make in (
            lambda p: so.SGD(p, lr=1e308, check_finite=True),  # raises DivergenceError inside
            lambda p: so.SGD(p, lr=1e308),
            lambda p: torch.optim.SGD(p, lr=1e308),
        )
    ]
    for run in runs:
        assert run.diverged and run.steps == 1 and "发散" in run.status()
        assert len(run.losses) == len(run.xs) and run.losses[0] == 2e20
        np.testing.assert_array_equal(run.xs, runs[-1].xs)


def test_run_optimizer_stops_at_a_nan_loss_as_gradient_descent_does():
    """log(x1 - 5) is nan at (1, 1) while the iterate and the gradient stay finite."""
    obj = objectives.FunctionObjective(
        lambda x: np.log(x[0] - 5) + x[1] ** 2, lambda x: np.array([1 / (x[0] - 5), 2 * x[1]])
    )
    with np.errstate(invalid="ignore"):
        ref = gd.gradient_descent(obj, [1.0, 1.0], 0.1, 20)
    assert ref.diverged
    f = lambda x: torch.log(x[0] - 5) + x[1] ** 2
    for make in (lambda p: so.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)):
        for problem in (f, obj):
            run = so.run_optimizer(make, problem, [1.0, 1.0], 20)
            assert run.diverged and run.steps == ref.steps
            np.testing.assert_allclose(run.xs, ref.xs, rtol=1e-15)
            assert np.all(np.isfinite(run.xs)) and np.isnan(run.losses).all()
    # an inf loss stops the run too
    run = so.run_optimizer(
        lambda p: so.SGD(p, lr=0.1),
        lambda x: 1 / (x[0] - 1),
        [1.0, 0.0],
        5,
        grad=lambda x: np.ones(2),
    )
    assert run.diverged and run.steps == 1


@pytest.mark.parametrize(
    "bad,exc,match",
    [
        (
            lambda x: np.ones((2, 2)),
            ValueError,
            r"grad\(x\) must return an array of shape \(4,\).*got shape \(2, 2\)",
        ),
        (lambda x: np.ones(3), ValueError, r"grad\(x\) .* shape \(4,\).*got shape \(3,\)"),
        (lambda x: 1.0, ValueError, r"grad\(x\) .* shape \(4,\).*got shape \(\)"),
        (lambda x: None, TypeError, r"grad\(x\) .* shape \(4,\), got None"),
        (lambda x: ["a", "b", "c", "d"], TypeError, r"grad\(x\) .*real numbers"),
    ],
)
def test_run_optimizer_validates_the_gradient_oracle(bad, exc, match):
    for make in (lambda p: so.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)):
        with pytest.raises(exc, match=match):
            so.run_optimizer(make, None, [1.0, 2.0, 3.0, 4.0], 3, grad=bad)

    class Objective:  # value/grad on arrays, with the bad gradient
        value = staticmethod(lambda x: float(np.sum(x**2)))
        grad = staticmethod(bad)

    obj = Objective()
    with pytest.raises(exc, match=match.replace("grad", "objective\\.grad", 1)):
        so.run_optimizer(lambda p: so.SGD(p, lr=0.1), obj, [1.0, 2.0, 3.0, 4.0], 3)


def test_run_optimizer_accepts_a_scalar_gradient_in_one_dimension():
    run = so.run_optimizer(lambda p: so.SGD(p, lr=0.25), None, 4.0, 3, grad=lambda x: 2 * x[0])
    np.testing.assert_allclose(run.xs[:, 0], [4.0, 2.0, 1.0, 0.5])


STATE_CASES = [
    (
        lambda p, f: so.SGD(p, lr=0.1, momentum=0.9, foreach=f),
        {"momentum_buffer"},
        {"momentum_buffer"},
    ),
    (lambda p, f: so.EMAMomentum(p, lr=0.1, foreach=f), {"velocity"}, {"velocity"}),
    (
        lambda p, f: so.Adam(p, amsgrad=True, foreach=f),
        {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
        {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    ),
    (
        lambda p, f: so.Adagrad(p, initial_accumulator_value=0.5, foreach=f),
        {"step", "sum"},
        {"sum"},
    ),
    (
        lambda p, f: so.RMSprop(p, momentum=0.5, centered=True, foreach=f),
        {"step", "square_avg", "momentum_buffer", "grad_avg"},
        {"square_avg", "momentum_buffer", "grad_avg"},
    ),
]


@pytest.mark.parametrize(("make", "keys", "tensors"), STATE_CASES)
def test_both_paths_create_the_same_state_and_torch_keys(make, keys, tensors):
    """One initialiser per optimizer: per-tensor and multi-tensor paths make identical state."""
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(3, 2, generator=gen), torch.randn(4, generator=gen)]
    states = []
    for foreach in (False, True):
        params = [torch.ones(3, 2, requires_grad=True), torch.ones(4, requires_grad=True)]
        opt = make(params, foreach)
        for _ in range(2):
            for p, g in zip(params, grads):
                p.grad = g.clone()
            opt.step()
        states.append([opt.state[p] for p in params])
    for per_tensor, multi in zip(*states):
        assert set(per_tensor) == set(multi) == keys
        for k in keys:
            if k in tensors:
                assert torch.equal(per_tensor[k], multi[k]), k
            else:
                assert per_tensor[k] == multi[k] == 2, k  # the step count, a Python int
