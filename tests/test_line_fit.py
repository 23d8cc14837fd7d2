import numpy as np
import pytest
import torch

from sgdbook.problems import line_fit
from sgdbook.theory import stepsize


@pytest.fixture(scope="module")
def data():
    return line_fit.tutorial_data(42)


def test_data_is_the_tutorials(data):
    X, Y = data
    assert X.shape == (100, 1) and X.dtype == torch.float32
    assert torch.all(X[1:] > X[:-1])
    assert float(X[0]) == -5.0
    torch.manual_seed(42)
    expected = -5 * torch.arange(-5, 5, 0.1).view(-1, 1) + 0.4 * torch.randn(100, 1)
    assert torch.equal(Y, expected)


def test_batch_gd_matches_torch_sgd_optimizer(data):
    X, Y = data
    run = line_fit.batch_gd(X, Y, 0.1, 20)
    w = torch.tensor(-10.0, requires_grad=True)
    b = torch.tensor(-20.0, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.1)
    for k in range(20):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(w * X + b, Y)
        assert float(loss.detach()) == pytest.approx(run.losses[k], rel=1e-5)
        loss.backward()
        opt.step()
        assert float(w.detach()) == pytest.approx(run.w[k + 1], rel=1e-5)
    assert run.diverged_at is None


def test_per_example_matches_numpy_with_doubled_step(data):
    # torch's mean((wx+b-y)^2) has no 1/2: its step eta is stepsize's step 2*eta on (1/2)(.)^2
    X, Y = data
    x = X.numpy().astype(float).ravel()
    reg = stepsize.RegressionData(
        np.column_stack([x, np.ones_like(x)]),
        Y.numpy().astype(float).ravel(),
        np.array([-5.0, 0.0]),
    )
    run = line_fit.per_example(X, Y, 0.02, 3)
    ref = stepsize.per_example_sgd(reg, 0.04, 3, "sorted", w0=[-10.0, -20.0])
    wstar = reg.minimizer()
    dist = np.hypot(run.w - wstar[0], run.b - wstar[1])
    assert np.allclose(dist, ref.distances, rtol=1e-3, atol=1e-3)


def test_sorted_sgd_at_tutorial_step_is_stopped_by_the_threshold(data):
    X, Y = data
    run = line_fit.per_example(X, Y, 0.1, 20)
    assert run.diverged_at is not None
    assert np.all(np.isfinite(run.w))
    assert "发散" in run.status() and "更新" in run.status()


def test_adam_stays_bounded_and_shuffle_is_seeded(data):
    X, Y = data
    adam = line_fit.per_example(X, Y, 0.1, 5, optimizer="adam")
    assert adam.diverged_at is None
    a = line_fit.per_example(X, Y, 0.01, 2, order="shuffle", seed=3)
    b = line_fit.per_example(X, Y, 0.01, 2, order="shuffle", seed=3)
    c = line_fit.per_example(X, Y, 0.01, 2, order="shuffle", seed=4)
    assert np.array_equal(a.w, b.w) and not np.array_equal(a.w, c.w)


def test_curvatures_hessian_and_epoch_factor(data):
    X, _ = data
    x = X.numpy().astype(float).ravel()
    curv = line_fit.per_example_curvatures(X)
    for xi, c in zip(x[::17], curv[::17]):
        h = 2 * np.array([[xi * xi, xi], [xi, 1.0]])
        assert np.linalg.eigvalsh(h)[-1] == pytest.approx(c)
    H = line_fit.full_batch_hessian(X)
    assert np.allclose(H, sum(2 * np.outer([xi, 1], [xi, 1]) for xi in x) / len(x))
    # below the per-example bound every factor is non-expansive, so the epoch product is too
    eta = 0.9 / (1 + np.max(x * x))
    assert line_fit.cyclic_epoch_factor(X, eta) < 1
    assert line_fit.epoch_transient_gain(X, eta) <= 1 + 1e-12
    # above it, the first (expansive) examples amplify: at least the first factor's norm
    assert line_fit.epoch_transient_gain(X, 0.1) >= abs(1 - 0.1 * curv[0]) - 1e-9


def test_bad_arguments(data):
    X, Y = data
    with pytest.raises(ValueError, match="order"):
        line_fit.per_example(X, Y, order="random")
    with pytest.raises(ValueError, match="optimizer"):
        line_fit.per_example(X, Y, optimizer="lbfgs")
    with pytest.raises(ValueError, match="shape"):
        line_fit.batch_gd(X.ravel(), Y.ravel())
    with pytest.raises(TypeError):
        line_fit.batch_gd(X.numpy(), Y.numpy())
    with pytest.raises(ValueError, match="lr"):
        line_fit.cyclic_epoch_factor(X, 0.0)
    with pytest.raises(ValueError, match="seed"):
        line_fit.tutorial_data(-1)


def test_sorted_epoch_map_matches_a_pass_of_updates(data):
    X, Y = data
    lr = 0.03
    wb = line_fit.least_squares(X, Y)
    x = X.numpy().astype(float).ravel()
    y = Y.numpy().astype(float).ravel()
    assert np.allclose(wb, np.polyfit(x, y, 1))
    P, c = line_fit.sorted_epoch_map(X, Y, lr)
    for e0 in (np.zeros(2), np.array([-5.0, -20.0]), np.array([1.0, 2.0])):
        w, b = wb + e0
        for xi, yi in zip(x, y):  # the tutorial's update on (w x + b - y)^2, in float64
            g = 2.0 * (w * xi + b - yi)
            w, b = w - lr * g * xi, b - lr * g
        assert np.allclose(np.array([w, b]) - wb, P @ e0 + c, atol=1e-9)
    assert np.isclose(np.max(np.abs(np.linalg.eigvals(P))), line_fit.cyclic_epoch_factor(X, lr))


def test_sorted_cycle_is_periodic_and_attracts_the_run(data):
    X, Y = data
    lr = 0.03
    cyc = line_fit.sorted_cycle(X, Y, lr)
    assert len(cyc) == len(X) + 1 and cyc[-1] == pytest.approx(cyc[0], rel=1e-9)
    # the float64 run from the tutorial's start ends its epochs at the cycle's start
    data64 = stepsize.RegressionData(
        np.column_stack([X.numpy().ravel(), np.ones(len(X))]).astype(float),
        Y.numpy().astype(float).ravel(),
        np.array([-5.0, 0.0]),
    )
    run = stepsize.per_example_sgd(data64, 2 * lr, 40, "sorted", w0=[-10.0, -20.0])
    last = run.distances[-len(X) - 1 :]
    assert np.allclose(last, cyc, rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="contract"):
        line_fit.sorted_cycle(X, Y, 0.5)


def test_shuffled_epoch_factors_are_seeded_and_match_products(data):
    X, _ = data
    f1 = line_fit.shuffled_epoch_factors(X, 0.1, 20, seed=3)
    f2 = line_fit.shuffled_epoch_factors(X, 0.1, 20, seed=3)
    assert np.array_equal(f1, f2) and f1.shape == (20,)
    # the identity permutation reproduces the sorted factor; a permutation's product by hand
    x = X.numpy().astype(float).ravel()
    perm = np.random.default_rng(3).permutation(len(x))
    Q = np.eye(2)
    for i in perm:
        a = np.array([x[i], 1.0])
        Q = (np.eye(2) - 0.2 * np.outer(a, a)) @ Q
    assert f1[0] == pytest.approx(np.max(np.abs(np.linalg.eigvals(Q))), rel=1e-9)
    with pytest.raises(ValueError, match="permutations"):
        line_fit.shuffled_epoch_factors(X, 0.1, 0)


def test_epoch_drive_terms_sum_to_the_epoch_drive(data):
    X, Y = data
    for lr in (0.03, 0.1):
        terms = line_fit.epoch_drive_terms(X, Y, lr)
        _, c = line_fit.sorted_epoch_map(X, Y, lr)
        assert terms.shape == (len(X), 2)
        assert np.allclose(terms.sum(axis=0), c, rtol=1e-9, atol=1e-9 * np.linalg.norm(c))
    # the last example's residual is not multiplied by any later map
    x = X.numpy().astype(float).ravel()
    r = Y.numpy().astype(float).ravel() - np.column_stack(
        [x, np.ones_like(x)]
    ) @ line_fit.least_squares(X, Y)
    assert np.allclose(terms[-1], 2 * 0.1 * r[-1] * np.array([x[-1], 1.0]))


def test_unstopped_sorted_run_is_bounded_and_follows_the_epoch_map(data):
    X, Y = data
    stopped = line_fit.per_example(X, Y, lr=0.1, epochs=20)
    free = line_fit.per_example(X, Y, lr=0.1, epochs=20, stop=False)
    assert len(free.losses) == 20 and np.all(np.isfinite(free.losses))
    assert free.diverged_at == stopped.diverged_at  # the same crossing, reported, not stopped
    assert len(free.w) == 20 * len(X) + 1
    pred = line_fit.sorted_epoch_losses(X, Y, 0.1, 20)
    assert pred[0] == pytest.approx(free.losses[0], rel=1e-5)
    assert pred[1] == pytest.approx(free.losses[1], rel=1e-3)  # float32 rounding grows after that
    orbit = pred[-1]
    assert np.all(free.losses[1:] > orbit / 10) and np.all(free.losses[1:] < orbit * 10)
    # the fixed point of the map: the loss at e* is the limit
    P, c = line_fit.sorted_epoch_map(X, Y, 0.1)
    e_star = np.linalg.solve(np.eye(2) - P, c)
    A = np.column_stack([X.numpy().ravel(), np.ones(len(X))]).astype(float)
    y = Y.numpy().ravel().astype(float)
    wb = line_fit.least_squares(X, Y)
    assert orbit == pytest.approx(np.mean((A @ (wb + e_star) - y) ** 2), rel=1e-9)
    with pytest.raises(TypeError, match="stop"):
        line_fit.per_example(X, Y, lr=0.1, epochs=1, stop=1)


def test_sorted_edges_by_bisection(data):
    X, Y = data
    edge = line_fit.sorted_contraction_edge(X, 0.05, 0.12)
    assert (
        line_fit.cyclic_epoch_factor(X, edge - 1e-6)
        < 1
        < line_fit.cyclic_epoch_factor(X, edge + 1e-6)
    )
    orbit_edge = line_fit.sorted_orbit_edge(X, Y, 0.05, edge - 1e-6)
    assert orbit_edge < 0.1 < edge
    assert (
        line_fit.sorted_cycle(X, Y, orbit_edge - 1e-6).max()
        < 1e12
        < line_fit.sorted_cycle(X, Y, orbit_edge + 1e-6).max()
    )
    # a smaller threshold is reached at a smaller step
    assert line_fit.sorted_orbit_edge(X, Y, 0.05, edge - 1e-6, threshold=1e9) < orbit_edge
    with pytest.raises(ValueError, match="bracket"):
        line_fit.sorted_contraction_edge(X, 0.11, 0.12)
    with pytest.raises(ValueError, match="threshold"):
        line_fit.sorted_orbit_edge(X, Y, 0.05, 0.1, threshold=0.0)


def test_sorted_lyapunov_exponent_is_log_epoch_radius_over_n(data):
    X, Y = data
    x = X.numpy().astype(float).ravel()
    A = np.column_stack([x, np.ones_like(x)])
    reg = stepsize.RegressionData(A, Y.numpy().astype(float).ravel(), np.array([-5.0, 0.0]))
    for eta in (0.03, 0.1):
        exact = np.log(line_fit.cyclic_epoch_factor(X, eta)) / len(x)
        est = stepsize.lyapunov_exponent(reg, 2 * eta, 200 * len(x), [0, 1], order="sorted")
        assert est == pytest.approx(exact, abs=2e-4)
