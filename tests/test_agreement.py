"""Tests of sgdbook.optim.agreement: the step-by-step comparison harness of two optimizers."""

from __future__ import annotations

import torch

from sgdbook.optim import agreement


def test_agreement_zero_for_identical_and_positive_for_different():
    same = agreement.step_differences(
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        steps=30,
    )
    assert same.max() == 0.0
    diff = agreement.step_differences(
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8),
        steps=30,
    )
    assert diff[-1] > 1e-3


def test_agreement_detects_dampening_first_step_quirk():
    # torch ignores dampening at the first step (buffer = g), so SGD(momentum=b, dampening=b)
    # is not the EMA form; lr * (1 - b) with dampening 0 is.
    from sgdbook.optim import EMAMomentum

    good = agreement.step_differences(
        lambda p: EMAMomentum(p, lr=0.5, beta=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        steps=50,
        dtype=torch.float64,
    )
    bad = agreement.step_differences(
        lambda p: EMAMomentum(p, lr=0.5, beta=0.9),
        lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9, dampening=0.9),
        steps=50,
        dtype=torch.float64,
    )
    assert good.max() < 1e-10 and bad.max() > 1e-3
