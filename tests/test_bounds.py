"""Tests of sgdbook.theory.bounds: every bound holds on the runs it describes, and is not vacuous."""

from __future__ import annotations

import numpy as np
import pytest

from sgdbook.problems import objectives
from sgdbook.problems.landscapes import LogisticLoss, TiltedDoubleWell, two_gaussians
from sgdbook.theory import bounds, gd


def random_quadratic(rng: np.random.Generator, d: int, mu: float, L: float) -> objectives.Quadratic:
    """A random strongly convex quadratic with spectrum in [mu, L] (both attained)."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = np.sort(rng.uniform(mu, L, size=d))
    lam[0], lam[-1] = mu, L
    A = (Q * lam) @ Q.T
    return objectives.Quadratic(0.5 * (A + A.T), b=rng.normal(size=d), c=rng.normal())


@pytest.fixture(params=range(6))
def quad(request):
    rng = np.random.default_rng(100 + request.param)
    d = int(rng.integers(2, 8))
    mu = float(rng.uniform(0.01, 1.0))
    return random_quadratic(rng, d, mu, mu * float(rng.uniform(1.5, 200.0))), rng


class TestQuadraticExact:
    def test_exact_iterates_equal_gd(self, quad):
        q, rng = quad
        x0 = rng.normal(size=q.dim) * 3
        lr = 1.7 / q.L
        t = gd.gradient_descent(q, x0, lr, 60)
        exact = bounds.quadratic_exact_iterates(q, x0, lr, 60)
        np.testing.assert_allclose(t.xs, exact, rtol=1e-9, atol=1e-9)

    def test_exact_gap_equals_measured(self, quad):
        q, rng = quad
        x0 = rng.normal(size=q.dim)
        lr = 1.0 / q.L
        t = gd.gradient_descent(q, x0, lr, 40)
        gap = bounds.quadratic_exact_gap(q, x0, lr, 40)
        np.testing.assert_allclose(t.losses - q.min_value(), gap, rtol=1e-7, atol=1e-10)

    def test_contraction_on_square(self):
        assert bounds.quadratic_contraction([2.0], 0.2) == pytest.approx(0.6)
        assert bounds.quadratic_contraction([0.2, 4.0], 0.45) == pytest.approx(0.91)

    def test_rejects_non_quadratic(self):
        with pytest.raises(TypeError, match="Quadratic"):
            bounds.quadratic_exact_iterates(
                objectives.FunctionObjective(np.sum, np.sign), [1.0], 0.1, 3
            )

    def test_rejects_indefinite(self):
        with pytest.raises(ValueError, match="positive definite"):
            bounds.quadratic_exact_gap(
                objectives.Quadratic(np.diag([1.0, -1.0])), [1.0, 1.0], 0.1, 3
            )


class TestConvergenceBounds:
    def test_linear_rate_holds(self, quad):
        q, rng = quad
        x0 = rng.normal(size=q.dim) * 5
        for lr in (1.0 / q.L, 0.5 / q.L):
            t = gd.gradient_descent(q, x0, lr, 300)
            gap = t.losses - q.min_value()
            b = bounds.linear_rate_bound(np.arange(301), q.L, q.mu, gap[0], lr=lr)
            assert bounds.bound_holds(gap, b)

    def test_linear_rate_is_tight_in_one_step_for_worst_direction(self):
        # start along the eigenvector of mu: the gap shrinks by (1 - mu/L)^2 per step exactly,
        # and the bound (1 - mu/L) per step must lie above it
        q = objectives.ill_conditioned_2d()
        t = gd.gradient_descent(q, [1.0, 0.0], 1 / q.L, 5)
        ratios = t.losses[1:] / t.losses[:-1]
        np.testing.assert_allclose(ratios, (1 - q.mu / q.L) ** 2)

    def test_sublinear_holds(self, quad):
        q, rng = quad
        x0 = rng.normal(size=q.dim) * 5
        t = gd.gradient_descent(q, x0, 1 / q.L, 200)
        gap = t.losses[1:] - q.min_value()
        dist = np.linalg.norm(x0 - q.minimizer())
        assert bounds.bound_holds(gap, bounds.sublinear_bound(np.arange(1, 201), q.L, dist))

    def test_sublinear_holds_on_logistic(self):
        X, y = two_gaussians(30, seed=3)
        f = LogisticLoss(X, y, reg=1e-3)
        x0 = np.array([-5.0, 4.0])
        t = gd.gradient_descent(f, x0, 1 / f.L, 300)
        gap = t.losses - f.min_value()
        dist = np.linalg.norm(x0 - f.minimizer())
        assert bounds.bound_holds(gap[1:], bounds.sublinear_bound(np.arange(1, 301), f.L, dist))
        assert bounds.bound_holds(gap, bounds.linear_rate_bound(np.arange(301), f.L, f.mu, gap[0]))

    def test_values(self):
        assert bounds.sublinear_bound(4, 2.0, 3.0) == pytest.approx(2.0 * 9 / 8)
        assert bounds.sublinear_bound(4, 2.0, 3.0, lr=0.25) == pytest.approx(9 / 2)
        assert bounds.linear_rate_bound(2, 4.0, 1.0, 10.0) == pytest.approx(10 * 0.75**2)
        np.testing.assert_allclose(
            bounds.linear_rate_bound(np.arange(3), 4.0, 1.0, 1.0), [1, 0.75, 0.5625]
        )

    def test_step_size_beyond_one_over_L_rejected(self):
        with pytest.raises(ValueError, match="lr must be <= 1/L"):
            bounds.sublinear_bound(3, 2.0, 1.0, lr=0.6)
        with pytest.raises(ValueError, match="lr must be < 2/L"):
            bounds.linear_rate_bound(3, 2.0, 1.0, 1.0, lr=1.0)
        with pytest.raises(ValueError, match="lr must be <= 2/"):
            bounds.distance_bound(3, 2.0, 1.0, 1.0, lr=0.7)
        with pytest.raises(ValueError, match="mu must be <= L"):
            bounds.linear_rate_bound(3, 1.0, 2.0, 1.0)
        with pytest.raises(ValueError, match="k must be >= 1"):
            bounds.sublinear_bound(np.arange(3), 1.0, 1.0)
        with pytest.raises(TypeError, match="k must be an integer"):
            bounds.linear_rate_bound(1.5, 1.0, 1.0, 1.0)

    @pytest.mark.parametrize("kappa", [1.0, 2.0, 10.0, 333.0])
    def test_steps_for_linear_rate_is_the_smallest(self, kappa):
        k = bounds.steps_for_linear_rate(kappa, 1.0, 5.0, 1e-6)
        assert bounds.linear_rate_bound(k, kappa, 1.0, 5.0) <= 1e-6
        if k > 0:
            assert bounds.linear_rate_bound(k - 1, kappa, 1.0, 5.0) > 1e-6
        assert k <= np.ceil(kappa * np.log(5.0 / 1e-6))
        assert bounds.steps_for_linear_rate(kappa, 1.0, 1e-7, 1e-6) == 0


class TestDescentLemma:
    def test_upper_bound_on_logistic_along_gradient(self):
        X, y = two_gaussians(40, seed=0)
        f = LogisticLoss(X, y, reg=0.05)
        rng = np.random.default_rng(1)
        for _ in range(20):
            x = rng.normal(size=2) * 4
            g = f.grad(x)
            etas = np.linspace(0, 3 / f.L, 50)
            actual = np.array([f.value(x - e * g) for e in etas])
            upper = bounds.descent_lemma_upper(f.value(x), g, etas, f.L)
            assert bounds.bound_holds(actual, upper)
            assert upper[0] == pytest.approx(f.value(x))

    def test_exact_for_quadratic_along_top_eigenvector(self):
        # f = 0.1 x1^2 + 2 x2^2 at (0, 1): curvature along -grad is exactly L, bound is equality
        q = objectives.ill_conditioned_2d()
        x = np.array([0.0, 1.0])
        g = q.grad(x)
        for eta in (0.05, 0.25, 0.4):
            assert q.value(x - eta * g) == pytest.approx(
                bounds.descent_lemma_upper(q.value(x), g, eta, q.L)
            )

    def test_guaranteed_decrease(self):
        assert bounds.guaranteed_decrease(2.0, 0.5, 2.0) == pytest.approx(1.0)  # ||g||^2 / (2L)
        assert bounds.guaranteed_decrease(2.0, 1.0, 2.0) == pytest.approx(0.0)  # eta = 2/L
        assert bounds.guaranteed_decrease(2.0, 1.5, 2.0) < 0
        with pytest.raises(ValueError, match="grad_norm"):
            bounds.guaranteed_decrease(-1.0, 0.5, 2.0)

    def test_decrease_along_a_run(self, quad):
        q, rng = quad
        t = gd.gradient_descent(q, rng.normal(size=q.dim), 1.5 / q.L, 50)
        gn = bounds.gradient_norms(q, t.xs)
        decrease = t.losses[:-1] - t.losses[1:]
        assert bounds.bound_holds(bounds.guaranteed_decrease(gn[:-1], 1.5 / q.L, q.L), decrease)


class TestStopping:
    def test_gradient_certificates(self, quad):
        q, rng = quad
        t = gd.gradient_descent(q, rng.normal(size=q.dim) * 4, 1 / q.L, 200)
        gn = bounds.gradient_norms(q, t.xs)
        gap = t.losses - q.min_value()
        dist = np.linalg.norm(t.xs - q.minimizer(), axis=1)
        assert bounds.bound_holds(gap, bounds.gap_from_gradient(gn, q.mu))
        assert bounds.bound_holds(dist, bounds.distance_from_gradient(gn, q.mu))

    def test_gap_certificate_is_exact_along_mu_direction(self):
        q = objectives.ill_conditioned_2d()
        x = np.array([3.0, 0.0])
        assert q.value(x) == pytest.approx(
            bounds.gap_from_gradient(np.linalg.norm(q.grad(x)), q.mu)
        )

    def test_rejects(self):
        with pytest.raises(ValueError, match="mu"):
            bounds.gap_from_gradient(1.0, 0.0)
        with pytest.raises(ValueError, match="xs"):
            bounds.gradient_norms(objectives.square(), np.ones(3))


def test_bound_holds_detects_violation():
    assert bounds.bound_holds([1.0, 2.0], [1.0, 2.0])
    assert bounds.bound_holds([1e-17], [0.0])
    assert not bounds.bound_holds([1.0, 2.1], [1.0, 2.0])
    with pytest.raises(ValueError, match="broadcast"):
        bounds.bound_holds([1.0, 2.0], [1.0, 2.0, 3.0])


class TestStronglyConvexAnyStep:
    """The linear rate for every step below 2/L and Nesterov's 2/(mu + L) distance rate."""

    @pytest.fixture
    def logistic(self):
        X, y = two_gaussians(40, seed=5)
        return LogisticLoss(X, y, reg=0.03)

    def test_factor_values(self):
        assert bounds.linear_rate_factor(4.0, 1.0) == pytest.approx(0.75)  # 1 - 1/kappa
        assert bounds.linear_rate_factor(4.0, 1.0, 0.1) < 1 - 0.1 * 1.0  # below 1 - eta mu
        assert bounds.linear_rate_factor(4.0, 1.0, 0.45) == pytest.approx(1 - 2 * 0.45 * (1 - 0.9))
        assert bounds.distance_rate_factor(4.0, 1.0) == pytest.approx(3 / 5)  # (kappa-1)/(kappa+1)
        assert bounds.distance_rate_factor(4.0, 1.0, 2 / 5) == pytest.approx(3 / 5)
        assert bounds.distance_rate_factor(4.0, 1.0, 0.1) == pytest.approx(np.sqrt(1 - 0.2 * 4 / 5))

    @pytest.mark.parametrize("c", [0.3, 1.0, 1.5, 1.9, 1.99])
    def test_linear_rate_holds_on_logistic_for_every_step_below_2_over_L(self, logistic, c):
        f = logistic
        run = gd.gradient_descent(f, [-4.0, 3.0], c / f.L, 80)
        gap = run.losses - f.min_value()
        assert bounds.bound_holds(
            gap, bounds.linear_rate_bound(np.arange(81), f.L, f.mu, gap[0], lr=c / f.L)
        )

    @pytest.mark.parametrize("c", [1.5, 1.9])
    def test_linear_rate_holds_on_quadratics_beyond_1_over_L(self, quad, c):
        q, rng = quad
        run = gd.gradient_descent(q, rng.normal(size=q.dim) * 3, c / q.L, 200)
        gap = run.losses - q.min_value()
        assert bounds.bound_holds(
            gap, bounds.linear_rate_bound(np.arange(201), q.L, q.mu, gap[0], lr=c / q.L)
        )

    @pytest.mark.parametrize("frac", [0.25, 0.7, 1.0])
    def test_distance_rate_holds_on_logistic(self, logistic, frac):
        f = logistic
        lr = frac * 2 / (f.mu + f.L)
        run = gd.gradient_descent(f, [-4.0, 3.0], lr, 60)
        dist = np.linalg.norm(run.xs - f.minimizer(), axis=1)
        assert bounds.bound_holds(
            dist, bounds.distance_bound(np.arange(61), f.L, f.mu, dist[0], lr=lr)
        )
        # one step at a time as well (the proof is a one-step contraction)
        assert np.all(
            dist[1:] <= bounds.distance_rate_factor(f.L, f.mu, lr) * dist[:-1] * (1 + 1e-9) + 1e-14
        )

    def test_distance_rate_is_exact_on_a_quadratic_at_the_optimal_step(self):
        q = objectives.ill_conditioned_2d()
        for x0 in ([1.0, 0.0], [0.0, 1.0], [3.0, -2.0]):
            run = gd.gradient_descent(q, x0, 2 / (q.mu + q.L), 20)
            dist = np.linalg.norm(run.xs, axis=1)
            np.testing.assert_allclose(
                dist, bounds.distance_bound(np.arange(21), q.L, q.mu, dist[0]), rtol=1e-9
            )

    def test_distance_rate_on_random_quadratics(self, quad):
        q, rng = quad
        x0 = rng.normal(size=q.dim)
        run = gd.gradient_descent(q, x0, 2 / (q.mu + q.L), 100)
        dist = np.linalg.norm(run.xs - q.minimizer(), axis=1)
        assert bounds.bound_holds(dist, bounds.distance_bound(np.arange(101), q.L, q.mu, dist[0]))


class TestNonconvexAndRay:
    def test_nonconvex_bound_on_the_double_well(self):
        well = TiltedDoubleWell(tilt=0.3)
        f_inf = min(cp.value for cp in well.critical_points())
        for x0 in ([1.8, 1.2], [-1.8, -1.2], [0.1, -1.6], [0.34, 1.6]):
            R, L = well.smoothness_on_sublevel_set(well.value(x0))
            run = gd.gradient_descent(well, x0, 1 / L, 200)
            assert np.max(np.abs(run.xs[:, 0])) <= R
            gn = bounds.gradient_norms(well, run.xs)
            best = np.minimum.accumulate(gn[:-1] ** 2)
            assert bounds.bound_holds(
                best, bounds.nonconvex_gradient_bound(np.arange(1, 201), L, run.losses[0] - f_inf)
            )

    def test_nonconvex_bound_values(self):
        assert bounds.nonconvex_gradient_bound(4, 2.0, 3.0) == pytest.approx(3.0)
        with pytest.raises(ValueError, match="k must be >= 1"):
            bounds.nonconvex_gradient_bound(0, 1.0, 1.0)

    def test_ray_minimizer_is_the_exact_line_search_on_a_quadratic(self, quad):
        q, rng = quad
        x = rng.normal(size=q.dim)
        g = q.grad(x)
        t = bounds.ray_minimizer(q, x, -g)
        assert t == pytest.approx(float(g @ g) / float(g @ q.A @ g), rel=1e-9)

    def test_ray_minimizer_on_logistic_beyond_2_over_L(self):
        X, y = two_gaussians(50, seed=1)
        f = LogisticLoss(X, y, reg=0.05)
        w = np.array([-4.0, 3.0])
        g = f.grad(w)
        t = bounds.ray_minimizer(f, w, -g)
        assert abs(float(f.grad(w - t * g) @ g)) < 1e-10
        assert t > 2 / f.L

    def test_ray_return_step_on_a_quadratic(self, quad):
        q, rng = quad
        x = rng.normal(size=q.dim)
        g = q.grad(x)
        t = bounds.ray_return_step(q, x, -g)
        assert t == pytest.approx(2 * float(g @ g) / float(g @ q.A @ g), rel=1e-9)
        assert t == pytest.approx(2 * bounds.ray_minimizer(q, x, -g), rel=1e-9)
        assert q.value(x - 0.999 * t * g) < q.value(x) < q.value(x - 1.001 * t * g)

    def test_ray_return_step_is_2_over_L_along_the_top_eigenvector(self, quad):
        q, _ = quad
        _lam, Q = np.linalg.eigh(q.A)
        x = q.minimizer() + Q[:, -1]
        assert bounds.ray_return_step(q, x, -q.grad(x)) == pytest.approx(2 / q.L, rel=1e-9)

    def test_ray_return_step_on_logistic(self):
        X, y = two_gaussians(50, seed=1)
        f = LogisticLoss(X, y, reg=0.05)
        w = np.array([-4.0, 3.0])
        g = f.grad(w)
        t = bounds.ray_return_step(f, w, -g)
        assert f.value(w - t * g) == pytest.approx(f.value(w), abs=1e-9)
        assert t > bounds.ray_minimizer(f, w, -g) > 2 / f.L
        ts = np.linspace(1e-6, 0.999 * t, 400)
        assert np.all(f.values(w - ts[:, None] * g) < f.value(w))

    def test_ray_return_step_rejects(self):
        q = objectives.ill_conditioned_2d()
        with pytest.raises(ValueError, match="descent direction"):
            bounds.ray_return_step(q, [1.0, 1.0], q.grad([1.0, 1.0]))
        lin = objectives.FunctionObjective(lambda x: -x[0], lambda x: np.array([-1.0]))
        with pytest.raises(ValueError, match="never comes back"):
            bounds.ray_return_step(lin, [0.0], [1.0])
        with pytest.raises(ValueError, match="tol"):
            bounds.ray_return_step(q, [1.0, 1.0], -q.grad([1.0, 1.0]), tol=0.0)

    def test_ray_minimizer_rejects(self):
        q = objectives.ill_conditioned_2d()
        with pytest.raises(ValueError, match="descent direction"):
            bounds.ray_minimizer(q, [1.0, 1.0], q.grad([1.0, 1.0]))
        lin = objectives.FunctionObjective(lambda x: -x[0], lambda x: np.array([-1.0]))
        with pytest.raises(ValueError, match="keeps decreasing"):
            bounds.ray_minimizer(lin, [0.0], [1.0])


def test_eigen_coordinates_equal_the_run(quad):
    q, rng = quad
    x0 = rng.normal(size=q.dim)
    lr = 1.3 / q.L
    run = gd.gradient_descent(q, x0, lr, 30)
    lam, c = bounds.quadratic_eigen_coordinates(q, x0, lr, 30)
    _, Q = np.linalg.eigh(q.A)
    np.testing.assert_allclose((run.xs - q.minimizer()) @ Q, c, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        (0.5 * lam * c**2).sum(axis=1), run.losses - q.min_value(), rtol=1e-7, atol=1e-10
    )
