import numpy as np
import pytest
import torch
from torch import nn

from sgdbook.problems import training
from sgdbook.theory import sharpness


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
            out[name] = flat[i : i + k].reshape(s)
            i += k
        return sharpness.squared_loss(torch.func.functional_call(model, out, (X,)), y)

    H2 = torch.autograd.functional.hessian(loss_of, flat0)
    assert torch.allclose(H, H2, atol=1e-9)


def test_lanczos_matches_eigvalsh():
    model, loss_fn = _tiny()
    H = sharpness.dense_hessian(loss_fn, model)
    eigs = torch.linalg.eigvalsh(H)
    lam, v, used = sharpness.top_hessian_eigenvalue(loss_fn, model, iters=200, tol=1e-10)
    assert lam == pytest.approx(float(eigs[-1]), rel=1e-9)  # the largest algebraic eigenvalue
    assert float(torch.linalg.vector_norm(H @ v - lam * v)) <= 1e-8 * abs(lam)
    assert used > 1


def test_power_iteration_matches_eigvalsh():
    model, loss_fn = _tiny()
    H = sharpness.dense_hessian(loss_fn, model)
    eigs = torch.linalg.eigvalsh(H)
    top = eigs[torch.argmax(eigs.abs())]
    lam, v, used = sharpness.top_hessian_eigenvalue(
        loss_fn, model, iters=20000, tol=1e-6, method="power"
    )
    assert lam == pytest.approx(float(top), rel=1e-6)
    # the stopping rule is the residual of the pair returned
    assert float(torch.linalg.vector_norm(H @ v - lam * v)) <= 1e-6 * abs(lam) * (1 + 1e-9)
    assert used > 1


@pytest.mark.parametrize("method", ["lanczos", "power"])
@pytest.mark.parametrize("tol", [1e-2, 1e-3, 1e-4])
def test_residual_rule_bounds_the_error(method, tol):
    # for a symmetric matrix some eigenvalue lies within ||Hv - theta v|| of theta: the relative
    # error against the dense eigen-decomposition is at most tol, from every random start
    model, loss_fn = _tiny()
    H = sharpness.dense_hessian(loss_fn, model)
    eigs = torch.linalg.eigvalsh(H)
    top = float(eigs[-1]) if method == "lanczos" else float(eigs[torch.argmax(eigs.abs())])
    for seed in range(3):
        lam, v, _ = sharpness.top_hessian_eigenvalue(
            loss_fn, model, iters=100000, tol=tol, method=method, seed=seed
        )
        residual = float(torch.linalg.vector_norm(H @ v - lam * v))
        assert residual <= tol * abs(lam) * (1 + 1e-6)
        assert abs(lam - top) <= tol * abs(lam)


def _clustered_quadratic(n=60, top=10.0, second=9.9):
    # 1/2 theta' D theta with two close top eigenvalues: the power iteration converges at the
    # rate 0.99 per product
    d = torch.linspace(0.1, 5.0, n, dtype=torch.float64)
    d[-2], d[-1] = second, top
    theta = torch.ones(n, dtype=torch.float64, requires_grad=True)
    return theta, (lambda: 0.5 * (d * theta * theta).sum())


def test_lanczos_needs_far_fewer_products_than_power_on_close_eigenvalues():
    theta, loss_fn = _clustered_quadratic()
    lam_p, _, used_p = sharpness.top_hessian_eigenvalue(
        loss_fn, [theta], iters=100000, tol=1e-6, method="power"
    )
    lam_l, _, used_l = sharpness.top_hessian_eigenvalue(loss_fn, [theta], iters=200, tol=1e-6)
    assert lam_p == pytest.approx(10.0, rel=1e-6)
    assert lam_l == pytest.approx(10.0, rel=1e-6)
    assert used_p > 200  # the power iteration converges at the rate 0.99 per product
    assert 5 * used_l < used_p


def test_warm_start_needs_fewer_products():
    model, loss_fn = _tiny()
    for method in ("lanczos", "power"):
        lam, v, used = sharpness.top_hessian_eigenvalue(
            loss_fn, model, iters=20000, tol=1e-8, method=method
        )
        lam2, _, used2 = sharpness.top_hessian_eigenvalue(
            loss_fn, model, iters=20000, tol=1e-8, v0=v, method=method
        )
        assert lam2 == pytest.approx(lam, rel=1e-7)
        assert used2 < used


def test_gd_with_sharpness_matches_dense_hessian_at_the_edge(digits):
    # a small MLP trained at a step that drives its sharpness to 2/lr: the recorded sharpness at
    # every measurement equals the top eigenvalue of the dense Hessian at those parameters
    lr, steps, every, n = 1.0, 120, 60, 100
    run = sharpness.gd_with_sharpness(digits, lr, steps, every=every, n_train=n, hidden=4)
    assert not run.diverged
    assert np.all(run.residuals <= 1e-3 * (1 + 1e-6))
    # it starts above 2/lr and is pushed down to about 2/lr: the regime of the chapter's figure
    assert run.sharpness[0] > 2 / lr and np.all(np.abs(run.sharpness[1:] - 2 / lr) < 0.2 * 2 / lr)
    model = training.make_mlp(hidden=4, seed=0, device="cpu")
    params = list(model.parameters())
    X, y = digits.X_train[:n], digits.y_train[:n]

    def loss_fn():
        return sharpness.squared_loss(model(X), y)

    for k in range(steps + 1):
        if k % every == 0:
            H = sharpness.dense_hessian(loss_fn, params).double()
            top = float(torch.linalg.eigvalsh(H)[-1])
            j = list(run.at).index(k)
            assert run.sharpness[j] == pytest.approx(top, rel=1e-3)
        if k == steps:
            break
        grads = torch.autograd.grad(loss_fn(), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g


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
    with pytest.raises(ValueError, match="method"):
        sharpness.top_hessian_eigenvalue(loss_fn, model, method="qr")
    with pytest.raises(ValueError, match="min_iters"):
        sharpness.top_hessian_eigenvalue(loss_fn, model, iters=5, min_iters=6)


@pytest.fixture(scope="module")
def digits():
    return training.load_digits_data(device="cpu")


def test_gd_with_sharpness_records_and_matches_torch_sgd(digits):
    run = sharpness.gd_with_sharpness(digits, 0.1, 5, every=2, n_train=100, max_products=5)
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
    assert float(sharpness.squared_loss(model(X), y).detach()) == pytest.approx(
        run.losses[5], rel=1e-5
    )


def test_gd_with_sharpness_reports_divergence(digits):
    run = sharpness.gd_with_sharpness(digits, 50.0, 200, every=100, n_train=100, max_products=3)
    assert run.diverged
    assert run.status().startswith("发散")


def test_gd_with_sharpness_bad_arguments(digits):
    with pytest.raises(ValueError, match="n_train"):
        sharpness.gd_with_sharpness(digits, 0.1, 5, n_train=10**6)
    with pytest.raises(ValueError, match="lr"):
        sharpness.gd_with_sharpness(digits, -0.1, 5)
