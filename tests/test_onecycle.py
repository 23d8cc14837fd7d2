"""sgdbook.optim.schedules.OneCycle against torch's OneCycleLR: rates and momenta at every iteration."""

from __future__ import annotations

import pytest
import torch
from torch.optim import lr_scheduler

import sgdbook.optim as so
import sgdbook.optim.schedules as sch


def _pair(kw, make_opt=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)):
    a, b = (
        make_opt([torch.zeros(1, requires_grad=True)]),
        make_opt([torch.zeros(1, requires_grad=True)]),
    )
    return a, b, sch.OneCycle(a, **kw), lr_scheduler.OneCycleLR(b, **kw)


@pytest.mark.parametrize(
    "kw",
    [
        dict(max_lr=0.5, total_steps=100),
        dict(max_lr=1.0, total_steps=37, pct_start=0.25, anneal_strategy="linear"),
        dict(
            max_lr=0.2,
            total_steps=50,
            div_factor=10.0,
            final_div_factor=100.0,
            base_momentum=0.8,
            max_momentum=0.9,
        ),
    ],
)
def test_rates_and_momenta_equal_torch(kw):
    a, b, ours, theirs = _pair(kw)
    for t in range(kw["total_steps"]):
        assert a.param_groups[0]["lr"] == b.param_groups[0]["lr"], t
        assert a.param_groups[0]["momentum"] == b.param_groups[0]["momentum"], t
        assert ours.lr_at(t) == b.param_groups[0]["lr"]
        if t < kw["total_steps"] - 1:
            a.step()
            b.step()
            ours.step()
            theirs.step()


def test_betas_cycled_for_adam_and_sgdbook_optimizer():
    mk = lambda p: so.Adam(p, lr=0.1)
    a = mk([torch.zeros(1, requires_grad=True)])
    b = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1)
    ours, theirs = sch.OneCycle(a, 0.3, 20), lr_scheduler.OneCycleLR(b, 0.3, 20)
    for _ in range(19):
        ours.step()
        b.step()
        theirs.step()
        assert a.param_groups[0]["betas"] == b.param_groups[0]["betas"]
        assert a.param_groups[0]["lr"] == b.param_groups[0]["lr"]


def test_plain_sgd_gets_momentum_as_in_torch_unless_disabled():
    a = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sch.OneCycle(a, 0.5, 10)
    assert a.param_groups[0]["momentum"] == 0.95
    b = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sch.OneCycle(b, 0.5, 10, cycle_momentum=False)
    assert b.param_groups[0]["momentum"] == 0


def test_stepping_past_total_steps_raises_like_torch():
    a, b, ours, theirs = _pair(dict(max_lr=0.5, total_steps=5))
    for _ in range(4):  # steps 1..4 of 5 (the constructor set step 0): both fine
        a.step()
        b.step()
        ours.step()
        theirs.step()

    # from here on a call moves past step total_steps - 1: both must raise, and on the same call
    def first_raising_call(sched):
        for call in range(1, 4):
            try:
                sched.step()
            except ValueError as e:
                return call, str(e)
        return None, ""

    ours_call, ours_msg = first_raising_call(ours)
    theirs_call, _ = first_raising_call(theirs)
    assert ours_call is not None and ours_call == theirs_call
    assert "total_steps" in ours_msg


@pytest.mark.parametrize(
    "kw, exc, name",
    [
        (dict(max_lr=0.0, total_steps=5), ValueError, "max_lr"),
        (dict(max_lr=0.1, total_steps=1), ValueError, "total_steps"),
        (dict(max_lr=0.1, total_steps=5, pct_start=0.0), ValueError, "pct_start"),
        (dict(max_lr=0.1, total_steps=5, anneal_strategy="x"), ValueError, "anneal"),
        (dict(max_lr=0.1, total_steps=5, cycle_momentum=1), TypeError, "cycle"),
    ],
)
def test_bad_arguments(kw, exc, name):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(exc, match=name):
        sch.OneCycle(opt, **kw)
