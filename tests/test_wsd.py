"""sgdbook.optim.schedules.WarmupStableDecay against torch (LambdaLR and a SequentialLR composition)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

import sgdbook.optim.schedules as sch


@pytest.mark.parametrize("decay", ["linear", "sqrt", "cos"])
def test_equals_lambda_lr_bit_for_bit(decay):
    kw = dict(
        warmup_steps=7, stable_steps=20, decay_steps=13, start_factor=0.1, eta_min=1e-3, decay=decay
    )
    probe = sch.WarmupStableDecay(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3), **kw
    )
    ours = sch.lr_curve(lambda o: sch.WarmupStableDecay(o, **kw), 50, 0.3)
    theirs = sch.lr_curve(
        lambda o: lr_scheduler.LambdaLR(o, lambda t: probe.lr_at(t) / 0.3), 50, 0.3
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)


def test_linear_wsd_equals_sequential_lr_composition():
    W, S, D, lr = 10, 30, 20, 0.5
    ours = sch.lr_curve(
        lambda o: sch.WarmupStableDecay(o, W, S, D, start_factor=0.1), W + S + D, lr
    )
    theirs = sch.lr_curve(
        lambda o: lr_scheduler.SequentialLR(
            o,
            [
                lr_scheduler.LinearLR(o, 0.1, 1.0, W),
                lr_scheduler.ConstantLR(o, 1.0, total_iters=0),
                lr_scheduler.LinearLR(o, 1.0, 0.0, D),
            ],
            milestones=[W, W + S],
        ),
        W + S + D,
        lr,
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert ours[W] == lr and ours[W + S - 1] == lr and ours[-1] == pytest.approx(lr / D)


def test_shape_of_the_three_phases():
    c = sch.lr_curve(lambda o: sch.WarmupStableDecay(o, 5, 10, 5, eta_min=0.01), 25, 1.0)
    assert c[0] == 0.0 and np.all(np.diff(c[:6]) > 0)
    assert np.all(c[5:15] == 1.0) and np.all(np.diff(c[15:21]) < 0)
    assert np.all(c[20:] == 0.01)


@pytest.mark.parametrize(
    "kw, name",
    [
        (dict(warmup_steps=-1, stable_steps=1, decay_steps=1), "warmup_steps"),
        (dict(warmup_steps=1, stable_steps=1, decay_steps=0), "decay_steps"),
        (dict(warmup_steps=1, stable_steps=1, decay_steps=1, decay="exp"), "decay"),
        (dict(warmup_steps=1, stable_steps=1, decay_steps=1, eta_min=-1), "eta_min"),
    ],
)
def test_bad_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        sch.WarmupStableDecay(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), **kw)
