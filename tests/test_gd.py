"""Tests of sgdbook.theory.gd: the gradient-descent runner and its divergence reporting."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sgdbook.problems import objectives
from sgdbook.theory import gd


class TestGradientDescent:
    def test_closed_form_on_square(self):
        # x_k = x0 (1 - 2 eta)^k for f(x) = x^2
        t = gd.gradient_descent(objectives.square(), 10.0, 0.2, 10)
        np.testing.assert_allclose(t.xs[:, 0], 10.0 * 0.6 ** np.arange(11), rtol=1e-12)
        assert not t.diverged and t.steps == 10

    def test_divergence_is_reported_without_warnings(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            t = gd.gradient_descent(objectives.square(), 10.0, 1.1, 10_000)
        assert t.diverged
        assert t.steps < 200
        assert np.all(np.isfinite(t.xs))
        assert "发散" in t.status()

    def test_divergence_message_names_what_crossed_the_threshold(self):
        # f = x^2 from 10 with eta = 1.1: x_k = 10 (-1.2)^k, so f = x^2 crosses 1e12 at step 64
        # while |x| is only about 1e6
        t = gd.gradient_descent(objectives.square(), 10.0, 1.1, 10_000)
        assert t.steps == 64 and abs(t.x[0]) < 1e7
        assert "第 64 步后函数值" in t.status()
        assert "迭代值" in gd.divergence_message(3, np.array([1e13]))
        assert "迭代值出现 inf 或 nan" in gd.divergence_message(3, np.array([np.nan]))
        assert "函数值出现 inf 或 nan" in gd.divergence_message(3, np.array([1.0]), float("nan"))
        assert "函数值的量级" in gd.divergence_message(3, np.array([1.0]), 1e13)
        # a gradient-oracle run has no losses (nan): the iterate is what is reported
        assert "迭代值的量级" in gd.divergence_message(3, np.array([1e13]), float("nan"))

    def test_grad_tol_stops(self):
        t = gd.gradient_descent(
            objectives.ill_conditioned_2d(), [5.0, 2.0], 0.25, 10_000, grad_tol=1e-8
        )
        assert t.converged
        assert np.linalg.norm(objectives.ill_conditioned_2d().grad(t.x)) <= 1e-8

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"lr": -1.0}, "lr"),
            ({"lr": 0.0}, "lr"),
            ({"steps": -1}, "steps"),
            ({"x0": []}, "x0"),
            ({"grad_tol": 0.0}, "grad_tol"),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        args = {"objective": objectives.square(), "x0": 1.0, "lr": 0.1, "steps": 5} | kwargs
        with pytest.raises((ValueError, TypeError), match=match):
            gd.gradient_descent(**args)
