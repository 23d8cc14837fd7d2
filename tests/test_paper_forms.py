"""Tests of sgdbook.optim.paper_forms: the papers' update rules against torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sgdbook.optim import agreement, paper_forms


def _torch_path(make, grad, x0, steps):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make([x])
    out = [x.detach().numpy().copy()]
    for _ in range(steps):
        x.grad = torch.as_tensor(grad(x.detach().numpy().copy()))
        opt.step()
        out.append(x.detach().numpy().copy())
    return np.array(out)


def _grad(x):  # badly scaled gradients: coordinates differ by 1e4
    return np.array([1e-4, 1.0, 30.0]) * np.tanh(x - np.array([1.0, -2.0, 0.5]))


X0 = [0.3, 0.7, -1.2]


def test_torch_adam_is_algorithm_1():
    ours = paper_forms.adam_paper(_grad, X0, 200, alpha=0.01)
    theirs = _torch_path(lambda p: torch.optim.Adam(p, lr=0.01), _grad, X0, 200)
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-12)


def test_eps_hat_variant_differs_when_gradients_are_tiny():
    a = paper_forms.adam_paper(_grad, X0, 50, alpha=0.01, eps=1e-4)
    b = paper_forms.adam_paper(_grad, X0, 50, alpha=0.01, eps=1e-4, eps_hat=True)
    assert np.abs(a - b)[:, 0].max() > 1e-3  # the 1e-4-scaled coordinate differs
    assert np.abs(a - b)[:, 2].max() < 1e-4  # the large one hardly does


def test_torch_rmsprop_is_not_keras_form():
    theirs = _torch_path(
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-7), _grad, X0, 50
    )
    keras = paper_forms.rmsprop_keras(_grad, X0, 50, lr=0.01, rho=0.9, eps=1e-7)
    assert np.abs(theirs - keras)[:, 0].max() > 1e-2


def test_torch_adamw_is_algorithm_2_with_lr_times_weight_decay():
    ours = paper_forms.adamw_paper(_grad, X0, 100, alpha=0.01, lam=0.01 * 0.1)
    theirs = _torch_path(lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1), _grad, X0, 100)
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-12)


def test_steady_step():
    g = np.array([1e-6, 1.0])
    out = paper_forms.rmsprop_steady_step(g, 0.1, 1e-8, inside=False)
    inside = paper_forms.rmsprop_steady_step(g, 0.1, 1e-7, inside=True)
    assert out[0] == pytest.approx(0.1 * 1e-6 / (1e-6 + 1e-8))
    assert inside[0] < 0.01 and inside[1] == pytest.approx(0.1, rel=1e-6)


def test_lr_in_buffer_momentum_matches_torch_only_for_a_constant_rate():
    from sgdbook.optim import EMAMomentum
    from sgdbook.optim.schedules import ExponentialDecay

    decay = lambda o: ExponentialDecay(o, 0.97)
    make = lambda p: paper_forms.LrInBufferMomentum(p, lr=0.05, momentum=0.9)
    torch_sgd = lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)
    const = agreement.step_differences(make, torch_sgd, steps=60, dtype=torch.float64)
    sched = agreement.step_differences(
        make, torch_sgd, steps=60, dtype=torch.float64, schedule=decay, schedule_b=decay
    )
    assert const.max() < 1e-10
    assert sched[0] < 1e-12 and sched.max() > 1e-2  # the first step agrees, later ones do not
    # the EMA form and torch's, both with the rate outside the buffer, agree under the schedule
    ema = agreement.step_differences(
        lambda p: EMAMomentum(p, lr=0.5, beta=0.9),
        torch_sgd,
        steps=60,
        dtype=torch.float64,
        schedule=decay,
        schedule_b=decay,
    )
    assert ema.max() < 1e-10


def test_lr_in_buffer_momentum_update_by_hand():
    x = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = paper_forms.LrInBufferMomentum([x], lr=0.1, momentum=0.5)
    grads = [torch.tensor([1.0, 2.0]), torch.tensor([-3.0, 0.5])]
    v = torch.zeros(2, dtype=torch.float64)
    expected = x.detach().clone()
    for k, g in enumerate(grads):
        lr = 0.1 if k == 0 else 0.02
        opt.param_groups[0]["lr"] = lr
        x.grad = g.double()
        opt.step()
        v = 0.5 * v - lr * g.double()
        expected = expected + v
        torch.testing.assert_close(x.detach(), expected)
    y = torch.zeros(1, requires_grad=True)
    before = y.detach().clone()
    paper_forms.LrInBufferMomentum([y], lr=0.1).step()  # no gradient: untouched
    assert torch.equal(y.detach(), before)
    with pytest.raises(ValueError, match="lr"):
        paper_forms.LrInBufferMomentum([y], lr=0.0)
    with pytest.raises(ValueError, match="momentum"):
        paper_forms.LrInBufferMomentum([y], lr=0.1, momentum=1.0)


def test_decay_under_noise_adam_l2_vs_adamw():
    from sgdbook.optim import Adam, AdamW

    sig = [0.01, 1.0]
    l2 = paper_forms.decay_under_noise(lambda p: Adam(p, lr=0.01, weight_decay=0.1), sig, steps=300)
    dec = paper_forms.decay_under_noise(
        lambda p: AdamW(p, lr=0.01, weight_decay=0.1), sig, steps=300
    )
    # AdamW: both shrink like (1 - lr*wd)^t in the mean
    np.testing.assert_allclose(dec[-1], (1 - 0.001) ** 300, rtol=0.03)
    # Adam + L2: the low-noise weight is driven to ~0, the noisy one barely decays
    assert abs(l2[-1, 0]) < 0.1 and l2[-1, 1] > 0.6


def test_l2_equals_sgdw_only_without_momentum():
    grad = lambda x: np.array([1.0, 10.0]) * np.sin(x)
    l2, w = paper_forms.sgd_weight_decay_forms(grad, [1.0, 2.0], 50, lr=0.05, momentum=0.0, wd=0.5)
    np.testing.assert_allclose(l2, w, rtol=1e-12, atol=1e-14)
    l2, w = paper_forms.sgd_weight_decay_forms(grad, [1.0, 2.0], 50, lr=0.05, momentum=0.9, wd=0.5)
    assert np.abs(l2 - w).max() > 1e-2
