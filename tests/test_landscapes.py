"""Tests of sgdbook.problems.landscapes: gradients, critical points, grids and the contour helper."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sgdbook.problems import landscapes, objectives
from sgdbook.theory import gd


def finite_difference_grad(f, x, h=1e-6):
    return np.array([(f.value(x + h * e) - f.value(x - h * e)) / (2 * h) for e in np.eye(len(x))])


@pytest.fixture
def logistic():
    X, y = landscapes.two_gaussians(40, seed=2)
    return landscapes.LogisticLoss(X, y, reg=0.05)


class TestTiltedDoubleWell:
    @pytest.mark.parametrize("tilt", [0.0, 0.3, -0.2, 1.0])
    def test_gradient_and_hessian_match_finite_differences(self, tilt):
        f = landscapes.TiltedDoubleWell(tilt=tilt, curvature=1.7)
        rng = np.random.default_rng(0)
        for _ in range(10):
            x = rng.uniform(-2, 2, size=2)
            np.testing.assert_allclose(
                f.grad(x), finite_difference_grad(f, x), rtol=1e-6, atol=1e-7
            )
            h = 1e-5
            H = np.column_stack(
                [(f.grad(x + h * e) - f.grad(x - h * e)) / (2 * h) for e in np.eye(2)]
            )
            np.testing.assert_allclose(f.hessian(x), H, rtol=1e-6, atol=1e-6)

    def test_values_match_value(self):
        f = landscapes.TiltedDoubleWell()
        pts = np.random.default_rng(1).normal(size=(7, 2))
        np.testing.assert_allclose(f.values(pts), [f.value(p) for p in pts])

    def test_critical_points(self):
        f = landscapes.TiltedDoubleWell(tilt=0.3)
        cps = f.critical_points()
        assert [c.kind for c in cps] == ["全局极小点", "鞍点", "局部极小点"]
        for c in cps:
            np.testing.assert_allclose(f.grad(c.x), 0, atol=1e-14)
        assert cps[0].value < cps[2].value < cps[1].value
        saddle = cps[1]
        assert saddle.hessian_eigenvalues[0] < 0 < saddle.hessian_eigenvalues[1]

    def test_single_minimum_for_large_tilt(self):
        cps = landscapes.TiltedDoubleWell(tilt=1.0).critical_points()
        assert [c.kind for c in cps] == ["全局极小点"]

    def test_gd_reaches_the_basins(self):
        f = landscapes.TiltedDoubleWell()
        glob, saddle, local = f.critical_points()
        right = gd.gradient_descent(f, [1.8, 1.0], 0.1, 500)
        left = gd.gradient_descent(f, [-1.8, 1.0], 0.1, 500)
        np.testing.assert_allclose(right.x, local.x, atol=1e-6)
        np.testing.assert_allclose(left.x, glob.x, atol=1e-6)
        # on the saddle's stable line x1 = x_saddle the gradient has no x1 component
        stuck = gd.gradient_descent(f, [saddle.x[0], 1.5], 0.1, 500)
        np.testing.assert_allclose(stuck.x, saddle.x, atol=1e-6)

    def test_smoothness_on_sublevel_set(self):
        f = landscapes.TiltedDoubleWell(tilt=0.3, curvature=1.0)
        level = f.value([0.1, -1.6])
        R, L = f.smoothness_on_sublevel_set(level)
        # R is the edge of the sublevel set along x1, and L bounds the Hessian on the band
        assert f.value([R, 0.0]) == pytest.approx(level) or f.value([-R, 0.0]) == pytest.approx(
            level
        )
        grid = np.linspace(-3, 3, 2001)
        inside = grid[f.values(np.column_stack([grid, np.zeros_like(grid)])) <= level]
        assert np.max(np.abs(inside)) <= R + 1e-12
        band = np.linspace(-R, R, 501)
        assert max(np.abs(np.linalg.eigvalsh(f.hessian([b, 0.0]))).max() for b in band) <= L + 1e-12
        with pytest.raises(ValueError, match="level"):
            f.smoothness_on_sublevel_set(-10.0)

    def test_rejects(self):
        with pytest.raises(ValueError, match="curvature"):
            landscapes.TiltedDoubleWell(curvature=0.0)
        with pytest.raises(ValueError, match="length 2"):
            landscapes.TiltedDoubleWell().value([1.0, 2.0, 3.0])


class TestLogisticLoss:
    def test_gradient_and_hessian(self, logistic):
        rng = np.random.default_rng(3)
        for _ in range(5):
            w = rng.normal(size=2) * 3
            np.testing.assert_allclose(
                logistic.grad(w), finite_difference_grad(logistic, w), rtol=1e-6, atol=1e-8
            )
            h = 1e-5
            H = np.column_stack(
                [(logistic.grad(w + h * e) - logistic.grad(w - h * e)) / (2 * h) for e in np.eye(2)]
            )
            np.testing.assert_allclose(logistic.hessian(w), H, rtol=1e-5, atol=1e-8)

    def test_constants_bound_the_hessian(self, logistic):
        rng = np.random.default_rng(4)
        for _ in range(50):
            eig = np.linalg.eigvalsh(logistic.hessian(rng.normal(size=2) * 5))
            assert logistic.mu - 1e-12 <= eig[0] and eig[-1] <= logistic.L + 1e-12

    def test_minimizer(self, logistic):
        w = logistic.minimizer()
        np.testing.assert_allclose(logistic.grad(w), 0, atol=1e-12)
        assert logistic.min_value() <= logistic.value(w + 1e-3)

    def test_no_overflow_far_away(self, logistic):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            w = np.array([1e4, -1e4])
            assert np.isfinite(logistic.value(w)) and np.all(np.isfinite(logistic.grad(w)))

    def test_values_match_value(self, logistic):
        pts = np.random.default_rng(5).normal(size=(6, 2))
        np.testing.assert_allclose(logistic.values(pts), [logistic.value(p) for p in pts])

    def test_rejects(self):
        with pytest.raises(ValueError, match="labels"):
            landscapes.LogisticLoss(np.ones((3, 2)), np.array([0.0, 1.0, 1.0]))
        with pytest.raises(ValueError, match="length 3"):
            landscapes.LogisticLoss(np.ones((3, 2)), np.array([1.0, -1.0]))
        with pytest.raises(ValueError, match="reg"):
            landscapes.LogisticLoss(np.ones((2, 2)), np.array([1.0, -1.0]), reg=0.0)


class TestGrid:
    def test_grid_values_paths_agree(self):
        q = objectives.ill_conditioned_2d()
        _X, _Y, Z = landscapes.grid_values(q, (-2, 2), (-1, 1), n=5)
        assert Z.shape == (5, 5)
        assert Z[2, 2] == pytest.approx(0.0)
        assert Z[0, -1] == pytest.approx(q.value([2.0, -1.0]))
        f = landscapes.TiltedDoubleWell()
        _, _, Zf = landscapes.grid_values(f, (-2, 2), (-1, 1), n=4)
        slow = objectives.FunctionObjective(f.value, f.grad)
        _, _, Zs = landscapes.grid_values(slow, (-2, 2), (-1, 1), n=4)
        np.testing.assert_allclose(Zf, Zs)

    def test_bad_limits(self):
        with pytest.raises(ValueError, match="xlim"):
            landscapes.grid_values(objectives.ill_conditioned_2d(), (1, -1), (0, 1))
        with pytest.raises(TypeError, match="ylim"):
            landscapes.grid_values(objectives.ill_conditioned_2d(), (0, 1), 3)
        with pytest.raises(ValueError, match="two-dimensional"):
            landscapes.grid_values(objectives.square(), (0, 1), (0, 1))

    def test_contour_levels(self):
        Z = np.linspace(0, 10, 101)
        lv = landscapes.contour_levels(Z, 4, quantile=1.0)
        np.testing.assert_allclose(lv, [10 / 16, 10 / 4, 10 * 9 / 16, 10])
        with pytest.raises(ValueError, match="constant"):
            landscapes.contour_levels(np.ones(5))

    def test_plot_contour_with_paths(self):
        import matplotlib

        matplotlib.use("agg")
        import matplotlib.pyplot as plt

        q = objectives.ill_conditioned_2d()
        t = gd.gradient_descent(q, [-8.0, 2.0], 0.45, 20)
        fig, ax = plt.subplots()
        cs = landscapes.plot_contour_with_paths(
            ax, q, {"η=0.45": t.xs}, xlim=(-9, 9), ylim=(-3, 3), points={"最小点": [0, 0]}
        )
        assert len(cs.levels) == 12
        labels = [h.get_label() for h in ax.get_legend_handles_labels()[0]]
        assert labels == ["η=0.45", "最小点"]
        line = ax.get_lines()[0]
        np.testing.assert_allclose(line.get_xydata(), t.xs)
        with pytest.raises(ValueError, match="shape"):
            landscapes.plot_contour_with_paths(ax, q, [np.ones(3)], xlim=(-1, 1), ylim=(-1, 1))
        plt.close(fig)


# moved from the chapter-5 test file
def test_landscapes():
    s = landscapes.saddle()
    np.testing.assert_allclose(s.grad(np.array([0.0, 1.0])), 0.0)
    assert s.value(np.array([0.0, 1.0])) == pytest.approx(-0.25)
    p = landscapes.plateau()
    h = 1e-6
    x = np.array([2.0, -1.0])
    fd = [(p.value(x + h * e) - p.value(x - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(p.grad(x), fd, rtol=1e-6)
    assert landscapes.escape_step([3, 2, 1, 0.5], 1.0) == 2
    assert landscapes.escape_step([3, 2], 1.0) is None
    assert objectives.ill_conditioned_2d().condition_number == pytest.approx(20)


class TestLogCoshQuadratic:
    def test_gradient_and_hessian_agree_with_torch(self):
        torch = pytest.importorskip("torch")
        f = landscapes.LogCoshQuadratic(mu=0.2, L=4.0, delta=1.0)

        def loss(v):
            return 0.5 * (0.2 * v[0] ** 2 + 4.0 * v[1] ** 2) + 1.0 * (
                0.5 * v[0] ** 2 - torch.log(torch.cosh(v[0]))
            )

        for x in ([-8.0, 2.0], [0.3, -1.0], [0.0, 0.0], [5.0, 0.7]):
            xt = torch.tensor(x, dtype=torch.float64)
            assert f.value(x) == pytest.approx(float(loss(xt)), rel=1e-12, abs=1e-14)
            np.testing.assert_allclose(
                f.grad(x),
                torch.autograd.functional.jacobian(loss, xt).numpy(),
                rtol=1e-12,
                atol=1e-14,
            )
            np.testing.assert_allclose(
                f.hessian(x),
                torch.autograd.functional.hessian(loss, xt).numpy(),
                rtol=1e-10,
                atol=1e-12,
            )
            np.testing.assert_allclose(
                f.grad(x), finite_difference_grad(f, np.array(x)), rtol=1e-6, atol=1e-7
            )

    def test_constants_are_exact_and_attained(self):
        f = landscapes.LogCoshQuadratic(mu=0.2, L=4.0, delta=1.0)
        grid = np.linspace(-30, 30, 6001)
        curv = np.array([np.linalg.eigvalsh(f.hessian([t, 0.0])) for t in grid])
        assert curv.min() == pytest.approx(f.mu, abs=1e-15)  # attained at x1 = 0
        assert curv.max() == pytest.approx(f.L)  # the x2 direction
        assert np.all(curv[:, 0] >= f.mu) and np.all(curv[:, 0] <= f.mu + f.delta)
        assert curv[:, 0].max() == pytest.approx(f.mu + f.delta, rel=1e-12)  # approached far out
        # strong convexity and smoothness inequalities at random pairs
        rng = np.random.default_rng(0)
        for _ in range(200):
            x, y = rng.normal(scale=5, size=2), rng.normal(scale=5, size=2)
            lin = f.value(x) + f.grad(x) @ (y - x)
            assert f.value(y) >= lin + 0.5 * f.mu * np.sum((y - x) ** 2) - 1e-10
            assert f.value(y) <= lin + 0.5 * f.L * np.sum((y - x) ** 2) + 1e-10
        assert f.value(f.minimizer()) == f.min_value() == 0.0
        np.testing.assert_allclose(f.grad(f.minimizer()), 0.0)
        assert f.condition_number == pytest.approx(20)
        # no overflow far out: log cosh computed stably
        assert np.isfinite(f.value([800.0, 0.0]))

    def test_distance_rate_is_attained(self):
        from sgdbook.theory import bounds

        f = landscapes.LogCoshQuadratic()
        run = gd.gradient_descent(f, [-8.0, 2.0], 2 / (f.mu + f.L), 80)
        dist = np.linalg.norm(run.xs - f.minimizer(), axis=1)
        bnd = bounds.distance_bound(np.arange(81), f.L, f.mu, dist[0])
        assert bounds.bound_holds(dist, bnd)
        ratio = dist / bnd
        assert (
            ratio[-1] > 0.2 and abs(ratio[-1] - ratio[-2]) < 1e-6
        )  # the ratio settles: rate attained

    def test_rejects(self):
        with pytest.raises(ValueError, match="L must be >= mu \\+ delta"):
            landscapes.LogCoshQuadratic(mu=0.2, L=1.0, delta=1.0)
        with pytest.raises(ValueError, match="mu"):
            landscapes.LogCoshQuadratic(mu=0.0)
        with pytest.raises(ValueError, match="delta"):
            landscapes.LogCoshQuadratic(delta=-1.0)
        with pytest.raises(ValueError, match="length 2"):
            landscapes.LogCoshQuadratic().value([1.0, 2.0, 3.0])


def test_smoothness_on_sublevel_set_at_the_minimum_value():
    well = landscapes.TiltedDoubleWell(tilt=0.3)
    glob = min(well.critical_points(), key=lambda cp: cp.value)
    R, L = well.smoothness_on_sublevel_set(glob.value)  # a double root of the quartic
    assert R == pytest.approx(abs(glob.x[0]), rel=1e-6)
    assert L == pytest.approx(max(3 * R**2 - 1, 1.0))
