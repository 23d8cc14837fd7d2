import numpy as np
import pytest
import torch
from torch import nn

from sgdbook import sharpness, training


def _tiny_data():
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(20, 4, dtype=torch.float64, generator=gen)
    y = torch.randint(0, 3, (20,), generator=gen)
    return X, y


def _tiny():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    X, y = _tiny_data()
    return model, (lambda: sharpness.squared_loss(model(X), y))


def test_hvp_matches_dense_hessian_from_autograd():
    model, loss_fn = _tiny()
    params = list(model.parameters())
    H = sharpness.dense_hessian(loss_fn, params)
    n = H.shape[0]
    assert torch.allclose(H, H.T, atol=1e-10)
    v = torch.randn(n, dtype=torch.float64)
    assert torch.allclose(sharpness.hessian_vector_product(loss_fn, model, v), H @ v, atol=1e-10)
    # against torch.autograd.functional.hessian on the flattened parameters
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in params]
    flat0 = torch.cat([p.detach().reshape(-1) for p in params])
    X, y = _tiny_data()

    def loss_of(flat):
        out, i = {}, 0
        for name, s in zip(names, shapes):
            k = int(np.prod(s))
            out[name] = flat[i:i + k].reshape(s)
            i += k
        return sharpness.squared_loss(torch.func.functional_call(model, out, (X,)), y)

    H2 = torch.autograd.functional.hessian(loss_of, flat0)
    assert torch.allclose(H, H2, atol=1e-9)


def test_power_iteration_matches_eigvalsh():
    model, loss_fn = _tiny()
    H = sharpness.dense_hessian(loss_fn, model)
    eigs = torch.linalg.eigvalsh(H)
    top = eigs[torch.argmax(eigs.abs())]
    lam, v, used = sharpness.top_hessian_eigenvalue(loss_fn, model, iters=2000, tol=1e-12)
    assert lam == pytest.approx(float(top), rel=1e-6)
    assert torch.allclose(H @ v, lam * v, atol=1e-4 * abs(lam))
    assert used > 1


def test_warm_start_needs_fewer_products():
    model, loss_fn = _tiny()
    lam, v, used = sharpness.top_hessian_eigenvalue(loss_fn, model, iters=2000, tol=1e-10)
    lam2, _, used2 = sharpness.top_hessian_eigenvalue(loss_fn, model, iters=2000, tol=1e-10, v0=v)
    assert lam2 == pytest.approx(lam, rel=1e-8)
    assert used2 < used


def test_squared_loss_value_and_errors():
    logits = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    labels = torch.tensor([0, 1])
    assert float(sharpness.squared_loss(logits, labels)) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="labels"):
        sharpness.squared_loss(logits, torch.tensor([0, 2]))
    with pytest.raises(ValueError):
        sharpness.squared_loss(logits, torch.tensor([0]))


def test_bad_arguments():
    model, loss_fn = _tiny()
    n = sum(p.numel() for p in model.parameters())
    with pytest.raises(ValueError, match="shape"):
        sharpness.hessian_vector_product(loss_fn, model, torch.ones(n + 1))
    with pytest.raises(TypeError, match="v must"):
        sharpness.hessian_vector_product(loss_fn, model, np.ones(n))
    with pytest.raises(ValueError, match="v0"):
        sharpness.top_hessian_eigenvalue(loss_fn, model, v0=torch.zeros(n))
    with pytest.raises(ValueError, match="iters"):
        sharpness.top_hessian_eigenvalue(loss_fn, model, iters=0)
    with pytest.raises(ValueError, match="empty"):
        sharpness.dense_hessian(loss_fn, [])


@pytest.fixture(scope="module")
def digits():
    return training.load_digits_data(device="cpu")


def test_gd_with_sharpness_records_and_matches_torch_sgd(digits):
    run = sharpness.gd_with_sharpness(digits, 0.1, 5, every=2, n_train=100, power_iters=5)
    assert list(run.at) == [0, 2, 4, 5]
    assert len(run.losses) == 6 and not run.diverged
    # the same 5 steps with torch.optim.SGD
    model = training.make_mlp(hidden=32, seed=0, device="cpu")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    X, y = digits.X_train[:100], digits.y_train[:100]
    for k in range(5):
        opt.zero_grad()
        loss = sharpness.squared_loss(model(X), y)
        assert float(loss.detach()) == pytest.approx(run.losses[k], rel=1e-5)
        loss.backward()
        opt.step()
    assert float(sharpness.squared_loss(model(X), y).detach()) == pytest.approx(run.losses[5], rel=1e-5)


def test_gd_with_sharpness_reports_divergence(digits):
    run = sharpness.gd_with_sharpness(digits, 50.0, 200, every=100, n_train=100, power_iters=3)
    assert run.diverged
    assert run.status().startswith("发散")


def test_gd_with_sharpness_bad_arguments(digits):
    with pytest.raises(ValueError, match="n_train"):
        sharpness.gd_with_sharpness(digits, 0.1, 5, n_train=10**6)
    with pytest.raises(ValueError, match="lr"):
        sharpness.gd_with_sharpness(digits, -0.1, 5)
