"""Tests of sgdbook.problems.stochastic: finite sums, SGD sampling, noise ball, logistic regression."""

from __future__ import annotations

import numpy as np
import pytest

from sgdbook.problems import stochastic as st


class TestFiniteSum:
    def test_nonconvex_average(self):
        p = st.nonconvex_example()
        for t in (-2.0, 0.3, 5.0):
            assert p.value([t]) == pytest.approx(np.sin(t) + 0.1 * t * t)
            assert p.grad([t])[0] == pytest.approx(np.cos(t) + 0.2 * t)
        t = st.NONCONVEX_LOCAL_MAX
        assert np.cos(t) + 0.2 * t == pytest.approx(0, abs=1e-12) and -np.sin(t) + 0.2 < 0

    def test_unbiased_within_clt_tolerance(self):
        p = st.nonconvex_example()
        mean, var = st.gradient_noise(p, [2.0])
        s = st.sample_gradients(p, [2.0], 20_000, seed=6)
        assert abs(s.mean() - mean[0]) < 4 * np.sqrt(var / 20_000)
        assert s.var() == pytest.approx(var, rel=0.05)
        g1, g2 = 2 * np.cos(2.0), 0.8
        assert var == pytest.approx((g1 * g1 + g2 * g2) / 2 - ((g1 + g2) / 2) ** 2)

    def test_validation(self):
        with pytest.raises(ValueError, match="as many"):
            st.FiniteSum([lambda x: 0.0], [])
        with pytest.raises(ValueError, match="i must be < n"):
            st.nonconvex_example().component_grad([0.0], 2)


class TestSampling:
    def test_with_replacement_equals_one_draw_per_step(self):
        r1 = np.random.default_rng(6)
        one_by_one = [r1.integers(2) for _ in range(2000)]
        idx = st.draw_indices(2, 2000, np.random.default_rng(6))
        np.testing.assert_array_equal(idx, one_by_one)

    def test_shuffle_visits_each_once_per_epoch(self):
        idx = st.draw_indices(7, 21, np.random.default_rng(0), "shuffle")
        for e in range(3):
            assert sorted(idx[7 * e : 7 * e + 7]) == list(range(7))
        with pytest.raises(ValueError, match="sampling"):
            st.draw_indices(7, 3, np.random.default_rng(0), "bootstrap")

    def test_sgd_matches_hand_loop_and_is_reproducible(self):
        p = st.nonconvex_example()
        run = st.sgd(p, [5.0], 0.15, 2000, seed=6)
        rng = np.random.default_rng(6)
        t = 5.0
        for _ in range(2000):
            i = rng.integers(2)
            t -= 0.15 * (2 * np.cos(t) if i == 0 else 0.4 * t)
        assert run.x[0] == t
        np.testing.assert_array_equal(run.xs, st.sgd(p, [5.0], 0.15, 2000, seed=6).xs)
        final, lowest = st.basin_statistics([5, 6, 7])
        assert final[1] == t and lowest[1] == run.xs.min()

    def test_sgd_divergence_reported(self):
        p = st.ShiftedSquares(np.array([0.0, 1.0])).as_finite_sum()
        run = st.sgd(p, [1.0], 5.0, 1000, seed=0)
        assert run.diverged and len(run.xs) < 1000 and "发散" in run.status()

    def test_wilson(self):
        lo, hi = st.wilson_interval(50, 100)
        assert lo < 0.5 < hi and hi - lo == pytest.approx(0.192, abs=0.002)
        assert st.wilson_interval(0, 10)[0] == 0.0
        with pytest.raises(ValueError, match="successes"):
            st.wilson_interval(11, 10)


class TestNoiseBall:
    def test_measured_matches_theory(self):
        q = st.ShiftedSquares(np.random.default_rng(0).normal(size=30), a=2.0)
        for lr in (0.02, 0.2):
            assert st.noise_ball(q, lr, chains=400) == pytest.approx(
                st.noise_ball_theory(q, lr), rel=0.1
            )

    def test_reshuffle_theory(self):
        q = st.ShiftedSquares(np.random.default_rng(1).normal(size=20))
        for lr in (0.05, 0.3):
            meas = st.epoch_end_errors(q, lr, 40, "shuffle", chains=2000)[10:].mean()
            assert meas == pytest.approx(st.reshuffle_theory(q, lr), rel=0.1)
        # shuffling is much better for small steps
        assert st.reshuffle_theory(q, 0.01) < 0.1 * st.noise_ball_theory(q, 0.01)

    def test_validation(self):
        q = st.ShiftedSquares([0.0, 1.0])
        with pytest.raises(ValueError, match="lr must be < 2/a"):
            st.noise_ball_theory(q, 2.0)
        with pytest.raises(ValueError, match="burn_in"):
            st.noise_ball(q, 0.1, steps=10, burn_in=10)


class TestLogistic:
    def test_data(self):
        X, y = st.two_gaussians(200, 10, seed=0)
        assert X.shape == (400, 2) and y.shape == (400,)
        X2, y2 = st.two_gaussians(200, 0, seed=0)
        np.testing.assert_array_equal(X, X2)
        assert np.sum(y != y2) == 10

    def test_training_reproducible_and_matches_torch_optim(self):
        import torch

        Xtr, ytr = st.two_gaussians(20, 2, seed=0)
        Xte, yte = st.two_gaussians(10, 1, seed=1)
        h1 = st.train_logistic(Xtr, ytr, Xte, yte, batch_size=8, epochs=3, device="cpu")
        h2 = st.train_logistic(Xtr, ytr, Xte, yte, batch_size=8, epochs=3, device="cpu")
        np.testing.assert_array_equal(h1.loss, h2.loss)
        assert h1.updates == 15 and len(h1.test_acc) == 4
        # the same loop with torch.optim.SGD
        gen = torch.Generator().manual_seed(0)
        a = torch.tensor([-1.0, -1.0], requires_grad=True)
        b = torch.tensor(0.0, requires_grad=True)
        opt = torch.optim.SGD([a, b], lr=0.02)
        X, y = torch.as_tensor(Xtr), torch.as_tensor(ytr)
        for _ in range(3):
            perm = torch.randperm(40, generator=gen)
            for s in range(0, 40, 8):
                bt = perm[s : s + 8]
                opt.zero_grad()
                torch.nn.BCEWithLogitsLoss()(X[bt] @ a + b, y[bt]).backward()
                opt.step()
        np.testing.assert_allclose(h1.a, a.detach().numpy(), rtol=1e-6)
        assert h1.b == pytest.approx(b.item(), rel=1e-6)

    def test_full_batch_loss_decreases(self):
        Xtr, ytr = st.two_gaussians(50, 0, seed=0)
        h = st.train_logistic(Xtr, ytr, Xtr, ytr, batch_size=100, lr=0.1, epochs=20, device="cpu")
        assert np.all(np.diff(h.loss) < 0)

    def test_validation(self):
        X, y = st.two_gaussians(5, 0, seed=0)
        with pytest.raises(ValueError, match="batch_size"):
            st.train_logistic(X, y, X, y, batch_size=11, device="cpu")
        with pytest.raises(ValueError, match="flips"):
            st.two_gaussians(5, 11, seed=0)


def test_train_logistic_restores_thread_count():
    import torch

    before = torch.get_num_threads()
    X, y = st.two_gaussians(5, 0, seed=0)
    st.train_logistic(X, y, X, y, batch_size=5, epochs=1, device="cpu")
    assert torch.get_num_threads() == before
