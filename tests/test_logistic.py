"""Tests of sgdbook.problems.logistic: the notebook's data and training loop."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sgdbook.problems import logistic as lg  # noqa: E402
from sgdbook.problems import stochastic as st  # noqa: E402


def test_data_drawn_as_the_notebook_draws_it():
    g = torch.Generator().manual_seed(42)
    X0 = torch.randn(200, 2, generator=g) * 0.9 + torch.tensor([-1.0, -1.0])
    X1 = torch.randn(200, 2, generator=g) * 0.9 + torch.tensor([1.0, 1.0])
    X = torch.cat([X0, X1])
    y = torch.cat([torch.zeros(200), torch.ones(200)])
    idx = torch.randperm(400, generator=g)[:10]
    y[idx] = 1 - y[idx]
    perm = torch.randperm(400, generator=g)
    Xd, yd = lg.notebook_data(200, 10, 42)
    assert torch.equal(Xd, X[perm]) and torch.equal(yd, y[perm])
    assert int((yd == 1).sum()) in range(190, 211)


def test_train_notebook_is_the_dataloader_loop():
    Xtr, ytr = lg.notebook_data(50, 2, 42)
    Xte, yte = lg.notebook_data(20, 1, 43)
    run = lg.train_notebook(Xtr, ytr, Xte, yte, batch_size=25, lr=0.1, epochs=3, loader_seed=6)
    a = torch.tensor([-1.0, -1.0], requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    opt = torch.optim.SGD([a, b], lr=0.1)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(Xtr, ytr),
        batch_size=25,
        shuffle=True,
        generator=torch.Generator().manual_seed(6),
    )
    for _ in range(3):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(xb @ a + b, yb).backward()
            opt.step()
    assert np.allclose(run.a, a.detach().numpy()) and run.b == pytest.approx(b.item())
    assert run.updates == 12 and run.updates_per_epoch == 4
    assert len(run.loss) == 4 and run.loss[-1] == pytest.approx(run.update_loss[-1])
    with torch.no_grad():
        assert run.loss[-1] == pytest.approx(loss_fn(Xtr @ a + b, ytr).item(), rel=1e-6)
    assert run.weight_norm[-1] == pytest.approx(float(np.linalg.norm(run.a)), rel=1e-6)


def test_full_batch_agrees_with_train_logistic():
    Xtr, ytr = lg.notebook_data(40, 2, 1)
    Xte, yte = lg.notebook_data(10, 1, 2)
    run = lg.train_notebook(Xtr, ytr, Xte, yte, batch_size=80, lr=0.05, epochs=20)
    ref = st.train_logistic(
        Xtr.numpy(),
        ytr.numpy(),
        Xte.numpy(),
        yte.numpy(),
        batch_size=80,
        lr=0.05,
        epochs=20,
        device="cpu",
    )
    assert np.allclose(run.a, ref.a, atol=1e-5) and np.allclose(run.loss, ref.loss, atol=1e-5)


def test_minimum_loss_is_stationary_and_below_training():
    Xtr, ytr = lg.notebook_data(100, 5, 42)
    f, a, b = lg.minimum_loss(Xtr.numpy(), ytr.numpy())
    w = torch.tensor(np.append(a, b), dtype=torch.float64, requires_grad=True)
    X = torch.tensor(Xtr.numpy(), dtype=torch.float64)
    y = torch.tensor(ytr.numpy(), dtype=torch.float64)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ w[:2] + w[2], y)
    loss.backward()
    assert loss.item() == pytest.approx(f) and w.grad.norm().item() < 1e-8
    run = lg.train_notebook(Xtr, ytr, Xtr, ytr, batch_size=200, lr=1.0, epochs=50)
    assert run.loss.min() >= f - 1e-6


def test_divergence_reported():
    Xtr, ytr = lg.notebook_data(20, 0, 0)
    run = lg.train_notebook(Xtr * 1e20, ytr, Xtr, ytr, batch_size=40, lr=1e10, epochs=5)
    assert run.diverged and "发散" in run.status()


def test_validation():
    Xtr, ytr = lg.notebook_data(10, 1, 0)
    with pytest.raises(ValueError, match="flips"):
        lg.notebook_data(10, 30, 0)
    with pytest.raises(ValueError, match="batch_size"):
        lg.train_notebook(Xtr, ytr, Xtr, ytr, batch_size=21)
    with pytest.raises(ValueError, match="X_train"):
        lg.train_notebook(Xtr[:, :1], ytr, Xtr, ytr, batch_size=5)
    with pytest.raises(ValueError, match="a0"):
        lg.train_notebook(Xtr, ytr, Xtr, ytr, batch_size=5, a0=(1.0,))
    with pytest.raises(ValueError, match="separable"):
        X = np.array([[-1.0, 0.0], [1.0, 0.0]])
        lg.minimum_loss(X, np.array([0.0, 1.0]))
