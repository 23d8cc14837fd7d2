"""sgdbook.optim.averaging.AveragedModel against torch.optim.swa_utils.AveragedModel."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim import swa_utils

from sgdbook.optim.averaging import AveragedModel


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))


@pytest.mark.parametrize("decay", [None, 0.9])
def test_matches_torch_over_a_training_run(decay):
    model = _net()
    ours = AveragedModel(model, decay=decay)
    kw = {} if decay is None else dict(multi_avg_fn=swa_utils.get_ema_multi_avg_fn(decay))
    theirs = swa_utils.AveragedModel(model, **kw)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    X, y = torch.randn(64, 5, generator=g), torch.randint(0, 3, (64,), generator=g)
    for _ in range(25):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
        ours.update_parameters(model)
        theirs.update_parameters(model)
        for a, b in zip(ours.parameters(), theirs.module.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert int(ours.n_averaged) == int(theirs.n_averaged) == 25
    torch.testing.assert_close(ours(X), theirs(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("use_buffers", [False, True])
def test_batchnorm_buffers_match_torch(use_buffers):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.BatchNorm1d(7), nn.ReLU(), nn.Linear(7, 3))
    ours = AveragedModel(model, use_buffers=use_buffers)
    theirs = swa_utils.AveragedModel(model, use_buffers=use_buffers)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    g = torch.Generator().manual_seed(2)
    X, y = torch.randn(64, 5, generator=g), torch.randint(0, 3, (64,), generator=g)
    for _ in range(10):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
        ours.update_parameters(model)
        theirs.update_parameters(model)
        for a, b in zip(ours.module.parameters(), theirs.module.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
        for a, b in zip(ours.module.buffers(), theirs.module.buffers()):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    bn_avg, bn_now = ours.module[1].running_mean, model[1].running_mean
    # averaged buffers differ from the current ones; copied buffers equal them
    assert torch.equal(bn_avg, bn_now) != use_buffers
    ours.eval()
    theirs.eval()
    torch.testing.assert_close(ours(X), theirs(X), rtol=1e-6, atol=1e-6)


def test_arithmetic_mean_is_exact_mean_of_the_weights():
    model = _net()
    avg = AveragedModel(model)
    seen = []
    with torch.no_grad():
        for k in range(6):
            for p in model.parameters():
                p.add_(0.1 * (k + 1))
            seen.append([p.clone() for p in model.parameters()])
            avg.update_parameters(model)
    for i, p in enumerate(avg.module.parameters()):
        torch.testing.assert_close(p, torch.stack([s[i] for s in seen]).mean(0))
    # the averaged copy is not the trained model
    assert not torch.equal(next(avg.module.parameters()), next(model.parameters()))


def test_bad_arguments():
    with pytest.raises(TypeError, match="model"):
        AveragedModel("net")
    with pytest.raises(ValueError, match="decay"):
        AveragedModel(_net(), decay=1.0)
    with pytest.raises(TypeError, match="use_buffers"):
        AveragedModel(_net(), use_buffers=1)
    with pytest.raises(ValueError, match="same parameters"):
        AveragedModel(_net()).update_parameters(nn.Linear(5, 3))
