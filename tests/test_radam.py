"""sgdbook.optim.RAdam against torch.optim.RAdam: bit for bit at every step, both code paths."""

from __future__ import annotations

import itertools

import pytest
import torch

import sgdbook.optim as so

SHAPES = [(3,), (2, 4), (), (5, 1, 2)]


def _problem(dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    coefs = [
        (
            torch.rand(s, generator=g, dtype=dtype) * 2 + 0.1,
            torch.randn(s, generator=g, dtype=dtype),
            torch.randn(s, generator=g, dtype=dtype),
        )
        for s in SHAPES
    ]
    x0 = [torch.randn(s, generator=g, dtype=dtype) for s in SHAPES]
    return x0, coefs


def _grads(coefs, params):
    with torch.no_grad():
        for (a, b, c), p in zip(coefs, params):
            p.grad = a * p + b + 3 * c * torch.cos(3 * p)


def _side_by_side(make_ours, make_theirs, dtype, steps=60):
    x0, coefs = _problem(dtype)
    ours = [p.clone() for p in x0]
    theirs = [p.clone() for p in x0]
    a, b = make_ours(ours), make_theirs(theirs)
    for step in range(steps):
        for opt, ps in ((a, ours), (b, theirs)):
            opt.zero_grad()
            _grads(coefs, ps)
            opt.step()
        for p, q in zip(ours, theirs):
            assert torch.equal(p, q), f"step {step}: max diff {(p - q).abs().max()}"
    return ours


KWARGS = [
    dict(),
    dict(weight_decay=0.1),
    dict(weight_decay=0.1, decoupled_weight_decay=True),
    dict(betas=(0.8, 0.9), eps=1e-6),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("kw", KWARGS)
def test_matches_torch_bit_for_bit(kw, foreach, dtype):
    _side_by_side(
        lambda p: so.RAdam(p, lr=0.01, foreach=foreach, **kw),
        lambda p: torch.optim.RAdam(p, lr=0.01, foreach=False, **kw),
        dtype,
    )


def test_defaults_are_torchs():
    p = [torch.zeros(2)]
    ours, theirs = so.RAdam(p).defaults, torch.optim.RAdam(p).defaults
    for key in ours:
        if key in theirs and key not in ("foreach", "maximize"):
            assert ours[key] == theirs[key], key


def test_maximize_and_param_groups_match_torch():
    x0, coefs = _problem(torch.float64)
    ours = [p.clone() for p in x0]
    theirs = [p.clone() for p in x0]
    groups = lambda ps: [
        dict(params=ps[:2], lr=0.02),
        dict(params=ps[2:], lr=0.005, weight_decay=0.1),
    ]
    a = so.RAdam(groups(ours), maximize=True)
    b = torch.optim.RAdam(groups(theirs), maximize=True)
    for _ in range(20):
        for opt, ps in ((a, ours), (b, theirs)):
            opt.zero_grad()
            _grads(coefs, ps)
            opt.step()
    for p, q in zip(ours, theirs):
        assert torch.equal(p, q)


@pytest.mark.parametrize(
    "kw, exc",
    [
        (dict(lr=-1.0), ValueError),
        (dict(betas=(1.0, 0.9)), ValueError),
        (dict(eps=0.0), ValueError),
        (dict(weight_decay=-0.1), ValueError),
        (dict(decoupled_weight_decay=1), TypeError),
    ],
)
def test_bad_arguments(kw, exc):
    name = next(iter(kw)).split("[")[0]
    with pytest.raises(exc, match=name.replace("betas", "betas")):
        so.RAdam([torch.zeros(2)], **kw)


def test_empty_params_refused():
    with pytest.raises(ValueError, match="params"):
        so.RAdam([])


def test_rho_and_rectification():
    import math

    from sgdbook.optim.radam import radam_rectification, radam_rho

    # rho_t <= 5 for the first steps with beta2 = 0.999: SGD-with-momentum steps there
    first = min(t for t in range(1, 100) if radam_rho(t) > 5)
    assert first == 6
    assert math.isnan(radam_rectification(5))
    r = [radam_rectification(t) for t in (6, 100, 10_000, 1_000_000)]
    assert all(0 < a < b for a, b in itertools.pairwise(r)) and 0.999 < r[-1] <= 1
    with pytest.raises(ValueError, match="step"):
        radam_rho(0)


def test_first_steps_are_momentum_steps():
    """While rho_t <= 5, x moves by lr * m_hat (no division by sqrt(v))."""
    p = torch.tensor([1.0], dtype=torch.float64)
    opt = so.RAdam([p], lr=0.1)
    p.grad = torch.tensor([1e-3], dtype=torch.float64)
    opt.step()
    assert torch.allclose(p, torch.tensor([1.0 - 0.1 * 1e-3], dtype=torch.float64))
