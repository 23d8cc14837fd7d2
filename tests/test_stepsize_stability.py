import numpy as np
import pytest

from sgdbook.theory import stepsize


@pytest.fixture(scope="module")
def data():
    return stepsize.per_example_regression(n=60, d=3, noise=0.1, seed=0)


def test_lyapunov_exponent_in_one_dimension_is_the_mean_log_factor():
    # d = 1: the product is a product of scalars, so the estimate is exact for sorted order
    X = np.array([[1.0], [2.0], [3.0]])
    d1 = stepsize.RegressionData(X, X[:, 0], np.array([1.0]))
    eta = 0.3
    exact = np.mean(np.log(np.abs(1 - eta * X[:, 0] ** 2)))
    est = stepsize.lyapunov_exponent(d1, eta, 300, [0], order="sorted")
    assert est[0] == pytest.approx(exact, rel=1e-12)


def test_lyapunov_is_below_half_log_mean_square_factor(data):
    for eta in (0.05, 0.08, 0.12):
        ly = stepsize.lyapunov_exponent(data, eta, 4000, range(3))
        assert np.all(ly <= 0.5 * np.log(stepsize.mean_square_factor(data, eta)) + 0.02)


def test_divergence_updates_agrees_with_per_example_sgd(data):
    big = stepsize.divergence_updates(data, 0.2, 5, [0, 1], order="sorted")
    run = stepsize.per_example_sgd(data, 0.2, 5, "sorted")
    assert big[0] == run.diverged_at == big[1]
    small = stepsize.divergence_updates(data, 0.01, 5, [0, 1])
    assert np.all(np.isinf(small))


def test_bad_arguments(data):
    with pytest.raises(ValueError, match="order"):
        stepsize.lyapunov_exponent(data, 0.1, 10, [0], order="cyclic")
    with pytest.raises(ValueError, match="seeds"):
        stepsize.divergence_updates(data, 0.1, 1, [])
    with pytest.raises(ValueError, match="lr"):
        stepsize.lyapunov_exponent(data, 0.0, 10, [0])
    with pytest.raises(ValueError, match="updates"):
        stepsize.lyapunov_exponent(data, 0.1, 0, [0])


def test_divergence_updates_starts_at_w0(data):
    # the same blow-up update as per_example_sgd from the same start, and a bad start is checked
    w0 = np.full(data.X.shape[1], 3.0)
    got = stepsize.divergence_updates(data, 0.2, 5, [0], order="sorted", w0=w0)
    run = stepsize.per_example_sgd(data, 0.2, 5, "sorted", w0=w0)
    assert run.diverged_at is not None and got[0] == run.diverged_at
    with pytest.raises(ValueError):
        stepsize.divergence_updates(data, 0.2, 5, [0], w0=np.ones(data.X.shape[1] + 1))
