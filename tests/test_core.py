"""Tests of sgdbook's foundation: validation, objectives, the GD runner, device, seeding, style."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sgdbook import _validate, gd, objectives, seeding


class TestValidation:
    @pytest.mark.parametrize("bad", [0, -0.1, float("inf"), float("nan")])
    def test_positive_rejects(self, bad):
        with pytest.raises(ValueError, match="lr"):
            _validate.positive("lr", bad)

    @pytest.mark.parametrize("bad", ["0.1", None, True, [0.1]])
    def test_positive_rejects_non_numbers(self, bad):
        with pytest.raises(TypeError, match="lr must be a real number"):
            _validate.positive("lr", bad)

    def test_unit_interval(self):
        assert _validate.unit_interval("beta", 0.0) == 0.0
        with pytest.raises(ValueError, match=r"beta must be in \[0, 1\), got 1.0"):
            _validate.unit_interval("beta", 1.0)

    def test_integer(self):
        assert _validate.integer("steps", np.int64(3), minimum=0) == 3
        with pytest.raises(TypeError):
            _validate.integer("steps", 3.0)
        with pytest.raises(ValueError, match="steps must be >= 0, got -1"):
            _validate.integer("steps", -1, minimum=0)

    def test_vector(self):
        np.testing.assert_array_equal(_validate.vector("x0", 2), [2.0])
        with pytest.raises(ValueError, match="empty"):
            _validate.vector("x0", [])
        with pytest.raises(ValueError, match="length 2"):
            _validate.vector("x0", [1, 2, 3], dim=2)
        with pytest.raises(ValueError, match="finite"):
            _validate.vector("x0", [1, np.nan])


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
        t = gd.gradient_descent(objectives.ill_conditioned_2d(), [5.0, 2.0], 0.25, 10_000, grad_tol=1e-8)
        assert t.converged
        assert np.linalg.norm(objectives.ill_conditioned_2d().grad(t.x)) <= 1e-8

    @pytest.mark.parametrize("kwargs, match", [
        ({"lr": -1.0}, "lr"), ({"lr": 0.0}, "lr"), ({"steps": -1}, "steps"),
        ({"x0": []}, "x0"), ({"grad_tol": 0.0}, "grad_tol"),
    ])
    def test_bad_arguments(self, kwargs, match):
        args = {"objective": objectives.square(), "x0": 1.0, "lr": 0.1, "steps": 5} | kwargs
        with pytest.raises((ValueError, TypeError), match=match):
            gd.gradient_descent(**args)


def test_seeding_is_reproducible():
    import torch

    a = seeding.seed_everything(3).normal(size=3), torch.rand(2)
    b = seeding.seed_everything(3).normal(size=3), torch.rand(2)
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="seed"):
        seeding.seed_everything(-1)


def test_device_helper(monkeypatch):
    import torch

    from sgdbook import device

    monkeypatch.setenv("SGDBOOK_DEVICE", "cpu")
    assert device.get_device() == torch.device("cpu")
    assert "torch " + torch.__version__ in device.describe_device()
    monkeypatch.setenv("SGDBOOK_DEVICE", "tpu")
    with pytest.raises(ValueError, match="SGDBOOK_DEVICE"):
        device.get_device()
    monkeypatch.delenv("SGDBOOK_DEVICE")
    if not torch.cuda.is_available():
        monkeypatch.setenv("SGDBOOK_REQUIRE_CUDA", "1")
        with pytest.raises(RuntimeError, match="CUDA was required"):
            device.get_device()


def test_book_style_renders_chinese_without_missing_glyphs(tmp_path):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from sgdbook.plotting import use_book_style

    use_book_style()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing" is a UserWarning
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, -1], label=r"$\eta = 0.1$ 发散")
        ax.set_xlabel(r"迭代次数 $k$（对数坐标）")
        ax.set_title("梯度下降：−2")
        ax.legend()
        for ext in ("png", "svg"):
            fig.savefig(tmp_path / f"f.{ext}")
        plt.close(fig)
    with pytest.raises(ValueError, match="inline_format"):
        use_book_style("jpeg")
