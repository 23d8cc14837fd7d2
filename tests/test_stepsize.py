"""Tests of sgdbook.theory.stepsize: thresholds, rate theory on quadratics, backtracking line search."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sgdbook.problems import objectives
from sgdbook.theory import gd, stepsize


def _random_quadratic(rng, d):
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = rng.uniform(0.1, 5.0, size=d)
    A = Q @ np.diag(lam) @ Q.T
    return objectives.Quadratic(0.5 * (A + A.T), b=rng.normal(size=d))


class TestThreshold:
    def test_square_threshold_is_exact(self):
        f = objectives.square()
        assert stepsize.stability_threshold(f.eigenvalues) == pytest.approx(1.0)
        # at eta = 1 the iterate flips sign forever with |x_k| = 10
        t = gd.gradient_descent(f, 10.0, 1.0, 500)
        np.testing.assert_array_equal(np.abs(t.xs[:, 0]), 10.0)
        assert not t.diverged
        # slightly below converges, slightly above diverges
        assert abs(gd.gradient_descent(f, 10.0, 0.999, 50_000).x[0]) < 1e-6
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert gd.gradient_descent(f, 10.0, 1.001, 50_000).diverged

    def test_bisection_finds_one(self):
        f = objectives.square()

        def stable(lr):
            t = gd.gradient_descent(f, 10.0, lr, 2000)
            return not t.diverged and abs(t.x[0]) <= 10.0

        eta = stepsize.bisect_threshold(stable, 0.5, 1.5, iters=30)
        assert eta == pytest.approx(1.0, abs=1e-6)

    def test_bisection_validates_bracket(self):
        with pytest.raises(ValueError, match="bracket"):
            stepsize.bisect_threshold(lambda lr: True, 0.5, 1.5)
        with pytest.raises(ValueError, match="lo must be < hi"):
            stepsize.bisect_threshold(lambda lr: lr < 1, 1.5, 0.5)


class TestRateTheory:
    def test_optimal_step_minimises_contraction(self):
        lam = np.array([0.2, 1.0, 4.0])
        eta = stepsize.optimal_step(lam)
        rho = stepsize.contraction_factor(lam, eta)
        assert rho == pytest.approx(stepsize.optimal_rate(lam)) == pytest.approx(19 / 21)
        grid = np.linspace(0.01, 0.49, 500)
        assert min(stepsize.contraction_factor(lam, e) for e in grid) >= rho - 1e-12

    @pytest.mark.parametrize("seed", range(5))
    def test_measured_counts_within_theory_sandwich(self, seed):
        rng = np.random.default_rng(seed)
        q = _random_quadratic(rng, 4)
        x0 = q.minimizer() + rng.normal(size=4)
        lrs = np.linspace(0.05, 1.2, 40) * stepsize.stability_threshold(q.eigenvalues)
        tol = 1e-6
        pred = stepsize.predicted_iterations(q.eigenvalues, lrs, tol)
        meas = stepsize.iterations_to_tolerance(q, x0, lrs, tol, max_steps=20_000)
        stable = lrs < stepsize.stability_threshold(q.eigenvalues)
        assert np.all(np.isinf(meas[~stable])) and np.all(np.isinf(pred[~stable]))
        assert np.all(meas[stable] <= pred[stable])
        # lower side: the slowest mode carries a fraction of ||e0|| and decays exactly at rho
        lam, V = np.linalg.eigh(q.A)
        c = V.T @ (x0 - q.minimizer())
        for eta, m, p in zip(lrs[stable], meas[stable], pred[stable]):
            factors = np.abs(1 - eta * lam)
            share = np.max(np.abs(c)[factors == factors.max()]) / np.linalg.norm(c)
            assert m >= p - np.log(share) / np.log(factors.max()) - 1

    def test_iterations_agree_with_gd_runner(self):
        q = objectives.ill_conditioned_2d()
        x0 = np.array([1.0, 1.0])
        (k,) = stepsize.iterations_to_tolerance(q, x0, [0.3], 1e-4)
        t = gd.gradient_descent(q, x0, 0.3, int(k))
        norms = np.linalg.norm(t.xs, axis=1)
        assert norms[-1] <= 1e-4 * norms[0] < norms[-2]

    def test_validation(self):
        with pytest.raises(ValueError, match="eigenvalues must be > 0"):
            stepsize.stability_threshold([1.0, 0.0])
        with pytest.raises(ValueError, match="tol must be < 1"):
            stepsize.predicted_iterations([1.0], [0.1], 2.0)
        with pytest.raises(ValueError, match="lrs must be > 0"):
            stepsize.predicted_iterations([1.0], [0.1, -0.1], 0.1)
        with pytest.raises(ValueError, match="differ from the minimiser"):
            stepsize.iterations_to_tolerance(objectives.square(), [0.0], [0.1], 0.1)


class TestBacktracking:
    @pytest.mark.parametrize("c", [1e-4, 0.5])
    def test_armijo_holds_and_step_bound(self, c):
        q = objectives.ill_conditioned_2d()
        r = stepsize.backtracking_gd(q, [5.0, 1.0], 100, eta0=10.0, beta=0.5, c=c)
        for k, eta in enumerate(r.steps):
            assert r.losses[k + 1] <= r.losses[k] - c * eta * r.grad_norms[k] ** 2 + 1e-15
        assert r.steps.min() >= stepsize.armijo_lower_bound(q.L, 10.0, 0.5, c)

    def test_non_quadratic_bound(self):
        # f(x) = sum log cosh(x_i * s_i): L = max s_i^2
        s = np.array([0.5, 3.0])
        f = objectives.FunctionObjective(
            lambda x: float(np.sum(np.log(np.cosh(s * x)))), lambda x: s * np.tanh(s * x)
        )
        r = stepsize.backtracking_gd(f, [4.0, -2.0], 60, eta0=5.0, beta=0.7, c=0.3)
        assert r.steps.min() >= stepsize.armijo_lower_bound(9.0, 5.0, 0.7, 0.3)
        assert np.all(np.diff(r.losses) < 0)

    def test_first_trial_accepted_when_small(self):
        eta, n = stepsize.armijo_step(objectives.square(), [3.0], eta0=0.1)
        assert (eta, n) == (0.1, 1)

    def test_validation(self):
        with pytest.raises(ValueError, match="beta"):
            stepsize.armijo_step(objectives.square(), [1.0], beta=1.0)
        with pytest.raises(ValueError, match="beta and c"):
            stepsize.armijo_step(objectives.square(), [1.0], c=0.0)


class TestPerExample:
    def test_full_batch_stable_per_example_diverges(self):
        data = stepsize.per_example_regression()
        lam = np.linalg.eigvalsh(data.hessian())
        assert 0.1 < 2 / lam.max()
        t = gd.gradient_descent(data, np.zeros(3), 0.1, 500)
        assert not t.diverged and np.linalg.norm(t.x - data.minimizer()) < 1e-8
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for order in ("replacement", "shuffle"):
                assert stepsize.per_example_sgd(data, 0.1, 50, order).diverged_at is not None

    def test_bound_makes_each_update_nonexpansive(self):
        data = stepsize.per_example_regression()
        eta = 2 / data.per_example_curvatures().max()
        for x in data.X:
            M = np.eye(3) - eta * np.outer(x, x)
            assert np.linalg.norm(M, 2) <= 1 + 1e-12
        run = stepsize.per_example_sgd(data, 0.9 * eta, 50, "replacement")
        assert run.diverged_at is None and run.distances[-1] < 1.0

    def test_reproducible_and_validated(self):
        data = stepsize.per_example_regression(n=20)
        a = stepsize.per_example_sgd(data, 0.01, 3, "shuffle", seed=4)
        b = stepsize.per_example_sgd(data, 0.01, 3, "shuffle", seed=4)
        np.testing.assert_array_equal(a.distances, b.distances)
        with pytest.raises(ValueError, match="order"):
            stepsize.per_example_sgd(data, 0.01, 3, "random")
        with pytest.raises(ValueError, match="noise"):
            stepsize.per_example_regression(noise=-1.0)


class TestEpochEndMSD:
    def test_matches_the_runs_it_summarises(self):
        data = stepsize.per_example_regression(n=20)
        got = stepsize.epoch_end_msd(data, 0.01, 6, "shuffle", seeds=[3, 4], burn_in=2)
        for value, seed in zip(got, [3, 4]):
            d = stepsize.per_example_sgd(data, 0.01, 6, "shuffle", seed=seed).distances
            assert value == pytest.approx(np.mean(d[[40, 60, 80, 100, 120]] ** 2), rel=1e-12)

    def test_divergence_is_inf_and_arguments_are_checked(self):
        data = stepsize.per_example_regression(n=20)
        assert np.all(np.isinf(stepsize.epoch_end_msd(data, 0.5, 3, "replacement", [0])))
        with pytest.raises(ValueError, match="seeds"):
            stepsize.epoch_end_msd(data, 0.01, 3, "shuffle", [])
        with pytest.raises(ValueError, match="burn_in"):
            stepsize.epoch_end_msd(data, 0.01, 3, "shuffle", [0], burn_in=4)


class TestMeanSquare:
    def test_operator_matches_direct_average(self):
        data = stepsize.per_example_regression(n=30, d=2, seed=3)
        eta = 0.05
        rng = np.random.default_rng(0)
        B = rng.normal(size=(2, 2))
        P = B @ B.T
        Ms = [np.eye(2) - eta * np.outer(x, x) for x in data.X]
        direct = sum(M @ P @ M for M in Ms) / data.n
        T = sum(np.kron(M, M) for M in Ms) / data.n
        np.testing.assert_allclose(T @ P.reshape(-1), direct.reshape(-1), rtol=1e-12)
        assert stepsize.mean_square_factor(data, eta) == pytest.approx(
            np.max(np.abs(np.linalg.eigvals(T)))
        )

    def test_factor_orders_the_thresholds(self):
        data = stepsize.per_example_regression()
        # below the per-example bound every map is non-expansive, so the factor is <= 1
        assert stepsize.mean_square_factor(data, 2 / data.per_example_curvatures().max()) < 1
        assert stepsize.mean_square_factor(data, 0.1) > 1
        # one example: the factor is (1 - eta ||x||^2)^2, the square of the 1-D GD factor
        one = stepsize.RegressionData(np.array([[3.0]]), np.array([0.0]), np.array([0.0]))
        assert stepsize.mean_square_factor(one, 0.1) == pytest.approx((1 - 0.9) ** 2)

    def test_iterations_at_exact_threshold_never_converge(self):
        q = objectives.ill_conditioned_2d()
        (k,) = stepsize.iterations_to_tolerance(q, [1.0, 1.0], [0.5], 1e-3, max_steps=2000)
        assert np.isinf(k)
