"""training.train_run and schedule_pairs: sgdbook's schedules drive the digits MLP exactly as torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sgdbook.optim as so
import sgdbook.optim.paper_forms as pf
import sgdbook.optim.schedules as sch
import sgdbook.problems.training as tr
from sgdbook.optim import agreement


@pytest.fixture(scope="module")
def data():
    return tr.load_digits_data(device="cpu")


@pytest.mark.parametrize("name", [n for n in tr.schedule_pairs(3) if n != "常数"])
def test_each_schedule_matches_torch_on_the_mlp(data, name):
    ours, theirs = tr.schedule_pairs(3)[name]
    a = tr.train_run(
        lambda m: so.SGD(m.parameters(), lr=0.2, momentum=0.9), data, epochs=3, make_schedule=ours
    )
    b = tr.train_run(
        lambda m: torch.optim.SGD(m.parameters(), lr=0.2, momentum=0.9),
        data,
        epochs=3,
        make_schedule=theirs,
    )
    assert len(a.lrs) == 3 * 9
    np.testing.assert_allclose(a.lrs, b.lrs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.train_loss, b.train_loss, rtol=1e-5)
    assert a.test_acc == pytest.approx(b.test_acc, abs=1 / 360 + 1e-9)


def test_schedule_order_and_granularity(data):
    ours = tr.schedule_pairs(2)["余弦"][0]
    it = tr.train_run(lambda m: so.SGD(m.parameters(), lr=0.2), data, epochs=2, make_schedule=ours)
    first = tr.train_run(
        lambda m: so.SGD(m.parameters(), lr=0.2),
        data,
        epochs=2,
        make_schedule=ours,
        schedule_first=True,
    )
    ep = tr.train_run(
        lambda m: so.SGD(m.parameters(), lr=0.2),
        data,
        epochs=2,
        make_schedule=ours,
        schedule_every="epoch",
    )
    assert it.lrs[0] == 0.2 and first.lrs[0] < 0.2  # stepping first skips the first rate
    np.testing.assert_allclose(first.lrs[:-1], it.lrs[1:])
    assert (
        np.all(ep.lrs[:9] == 0.2) and ep.lrs[-1] > 0.19
    )  # per-epoch stepping of an iteration schedule


def test_clipping_bounds_the_applied_gradient_and_records_the_raw_norm(data):
    r = tr.train_run(lambda m: so.SGD(m.parameters(), lr=0.1), data, epochs=1, clip_norm=1e-3)
    free = tr.train_run(lambda m: so.SGD(m.parameters(), lr=0.1), data, epochs=1)
    assert r.grad_norms[0] == pytest.approx(free.grad_norms[0])
    assert r.train_loss[0] > free.train_loss[0]


def test_weight_average_and_validation(data):
    r = tr.train_run(
        lambda m: so.SGD(m.parameters(), lr=0.2, momentum=0.9), data, epochs=3, average_from=1
    )
    assert 0 < r.averaged_test_acc <= 1
    with pytest.raises(ValueError, match="average_from"):
        tr.train_run(lambda m: so.SGD(m.parameters(), lr=0.2), data, epochs=2, average_from=2)
    with pytest.raises(ValueError, match="schedule_every"):
        tr.train_run(
            lambda m: so.SGD(m.parameters(), lr=0.2), data, epochs=1, schedule_every="batch"
        )
    with pytest.raises(ValueError, match="clip_norm"):
        tr.train_run(lambda m: so.SGD(m.parameters(), lr=0.2), data, epochs=1, clip_norm=0.0)


def test_no_decay_groups_leave_biases_alone():
    model = tr.make_mlp(seed=0)
    groups = tr.no_decay_groups(model, 0.1)
    assert all(p.ndim == 2 for p in groups[0]["params"]) and all(
        p.ndim == 1 for p in groups[1]["params"]
    )
    assert groups[1]["weight_decay"] == 0.0
    bias = [p.clone() for p in groups[1]["params"]]
    opt = so.AdamW(groups, lr=0.1)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for b, p in zip(bias, groups[1]["params"]):
        assert torch.equal(b, p)
    with pytest.raises(ValueError, match="weight_decay"):
        tr.no_decay_groups(model, -1.0)


def test_goyal_momentum_correction_makes_lr_in_buffer_equal_torch_under_a_schedule():
    warm = lambda o: sch.LinearWarmup(o, 20, start_factor=0.1)
    diffs = [
        agreement.step_differences(
            lambda p: pf.LrInBufferMomentum(p, lr=0.05, momentum=0.9, momentum_correction=c),
            lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
            steps=60,
            dtype=torch.float64,
            schedule=warm,
            schedule_b=warm,
        ).max()
        for c in (False, True)
    ]
    assert diffs[0] > 1e-2 and diffs[1] < 1e-10


def test_diverged_epoch_is_the_first_epoch_without_a_finite_loss(data):
    ok = tr.train_run(lambda m: so.SGD(m.parameters(), lr=0.1), data, epochs=2, seed=0)
    assert not ok.diverged and ok.diverged_epoch is None
    bad = tr.train_run(
        lambda m: so.SGD(m.parameters(), lr=3.0), data, epochs=15, batch_size=128, seed=2
    )
    assert bad.diverged
    e = bad.diverged_epoch
    assert np.all(np.isfinite(bad.train_loss[: e - 1])) and np.all(
        np.isnan(bad.train_loss[e - 1 :])
    )


def test_layer_norm_network_and_final_parameters(data):
    plain = tr.make_mlp(seed=3)
    normed = tr.make_mlp(seed=3, norm=True)
    assert isinstance(normed[1], torch.nn.LayerNorm) and len(normed) == len(plain) + 1
    # the linear layers get the same initial weights with or without the norm
    torch.testing.assert_close(plain[0].weight, normed[0].weight)
    torch.testing.assert_close(plain[2].weight, normed[3].weight)
    with pytest.raises(TypeError, match="norm"):
        tr.make_mlp(norm=1)
    r = tr.train_run(
        lambda m: so.AdamW(m.parameters(), lr=0.01, weight_decay=0.5), data, epochs=1, norm=True
    )
    assert set(r.final_parameters) == {
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "3.weight",
        "3.bias",
    }
    norm = np.sqrt(
        sum(float((v.astype(np.float64) ** 2).sum()) for v in r.final_parameters.values())
    )
    assert norm == pytest.approx(r.weight_norm, rel=1e-5)


def test_optimizer_group_drives_muon_and_adamw_like_two_separate_optimizers(data):
    def run(grouped):
        torch.manual_seed(0)
        m = tr.make_mlp(seed=0)
        mats = [p for p in m.parameters() if p.ndim == 2]
        rest = [p for p in m.parameters() if p.ndim != 2]
        a, b = torch.optim.Muon(mats, lr=0.02), torch.optim.AdamW(rest, lr=0.01)
        opt = tr.OptimizerGroup(a, b) if grouped else None
        for _ in range(5):
            if grouped:
                opt.zero_grad()
            else:
                a.zero_grad()
                b.zero_grad()
            torch.nn.functional.cross_entropy(m(data.X_train), data.y_train).backward()
            if grouped:
                opt.step()
            else:
                a.step()
                b.step()
        return [p.detach().clone() for p in m.parameters()], (opt.param_groups if grouped else None)

    ours, groups = run(True)
    ref, _ = run(False)
    for x, y in zip(ours, ref):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert [g["lr"] for g in groups] == [0.02, 0.01]
    with pytest.raises(ValueError, match="optimizers"):
        tr.OptimizerGroup()
    with pytest.raises(TypeError, match="optimizers"):
        tr.OptimizerGroup("adam")
