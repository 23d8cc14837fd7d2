"""Tests of sgdbook.problems.objectives: the quadratic test functions and their constants."""

from __future__ import annotations

import numpy as np
import pytest

from sgdbook.problems import objectives


class TestQuadratic:
    def test_gradient_matches_finite_differences(self):
        rng = np.random.default_rng(0)
        M = rng.normal(size=(4, 4))
        q = objectives.Quadratic(M @ M.T + np.eye(4), b=rng.normal(size=4), c=1.5)
        x = rng.normal(size=4)
        h = 1e-6
        fd = np.array([(q.value(x + h * e) - q.value(x - h * e)) / (2 * h) for e in np.eye(4)])
        np.testing.assert_allclose(q.grad(x), fd, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(q.grad(q.minimizer()), 0, atol=1e-10)

    def test_constants(self):
        q = objectives.ill_conditioned_2d()
        assert (q.mu, q.L, q.condition_number) == pytest.approx((0.2, 4.0, 20.0))
        # indefinite A: L bounds |eigenvalues| of the Hessian, so it is 5 here, not 1
        saddle = objectives.Quadratic(np.diag([-5.0, 1.0]))
        assert saddle.L == 5.0 and saddle.condition_number == float("inf")

    def test_rejects_non_symmetric(self):
        with pytest.raises(ValueError, match="symmetric"):
            objectives.Quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]))

    def test_no_minimizer_when_indefinite(self):
        with pytest.raises(ValueError, match="not positive definite"):
            objectives.Quadratic(np.diag([1.0, -1.0])).minimizer()
