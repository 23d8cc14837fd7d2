"""Tests of sgdbook.theory.sgd_theory: the constants, the bounds on cases with known answers, the runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sgdbook.problems import stochastic as st
from sgdbook.theory import sgd_theory as th


def shifted(a=0.5, n=20, seed=0):
    c = np.random.default_rng(seed).normal(size=n)
    return th.DiagonalQuadraticSum(np.full(n, a), c), c


class TestConstants:
    def test_shared_curvature_has_mg_one_and_m_equal_noise(self):
        # f_i = a/2 (x - c_i)^2: E g^2 = grad^2 + a^2 var(c), so M_G = 1 and M = a^2 var(c) exactly
        p, c = shifted()
        assert p.min_MG == pytest.approx(1.0)
        assert p.second_moment_M(1.0) == pytest.approx(0.25 * np.var(c))
        assert p.sigma2 == pytest.approx(0.25 * np.var(c))
        assert p.L == p.mu == p.L_max == 0.5
        assert p.minimizer[0] == pytest.approx(c.mean())

    def test_second_moment_bound_holds_and_is_tight(self):
        p = th.random_sum(30, d=3, kappa=5, seed=2)
        M_G = 1.7 * p.min_MG
        M = p.second_moment_M(M_G)
        X = np.random.default_rng(1).normal(size=(4000, 3)) * 5
        G = np.stack([p.component_grad(X, np.full(len(X), i)) for i in range(p.n)])
        Eg2 = np.mean(np.sum(G**2, axis=-1), axis=0)
        slack = M + M_G * np.sum(p.grad(X) ** 2, axis=-1) - Eg2
        assert slack.min() >= -1e-9
        # tight: at the maximising point of each coordinate the slack is zero
        A, B, _C = (
            np.mean(p.h**2, 0),
            np.mean(p.h**2 * (p.c - p.minimizer), 0),
            np.mean(p.h**2 * (p.c - p.minimizer) ** 2, 0),
        )
        u = -B / (M_G * p.hbar**2 - A)
        x = p.minimizer + u
        Eg2x = np.mean(np.sum(p.component_grad(np.tile(x, (p.n, 1)), np.arange(p.n)) ** 2, -1))
        assert Eg2x == pytest.approx(M + M_G * np.sum(p.grad(x) ** 2), rel=1e-10)

    def test_values_and_gradients(self):
        p = th.random_sum(7, d=2, seed=3)
        x = np.array([0.3, -1.2])
        f = np.mean([0.5 * np.sum(p.h[i] * (x - p.c[i]) ** 2) for i in range(p.n)])
        assert p.value(x) == pytest.approx(f)
        assert p.excess(x) == pytest.approx(f - p.fstar)
        assert np.allclose(p.grad(x), np.mean(p.h * (x - p.c), axis=0))

    def test_interpolation_has_no_noise(self):
        p = th.random_sum(10, d=2, seed=4, interpolate=True)
        assert p.sigma2 == 0 and p.second_moment_M(p.min_MG) == 0
        assert np.allclose(p.minimizer, 0)

    def test_constants_for_step(self):
        p = th.random_sum(10, d=2, seed=4)
        M, M_G = p.constants_for_step(0.2)
        assert M_G == pytest.approx(1 / (0.2 * p.L)) and M == pytest.approx(p.second_moment_M(M_G))
        with pytest.raises(ValueError, match="lr must be"):
            p.constants_for_step(10.0)

    def test_sin_example_constants(self):
        L, M, M_G = th.sin_example_constants(2.0)
        assert (L, M, M_G) == (1.2, 8.0, 3.0)
        t = np.linspace(-60, 60, 200001)
        Eg2 = 0.5 * ((2 * np.cos(t)) ** 2 + (0.4 * t) ** 2)
        for M_V in (1.5, 2.0, 4.5):
            L, M, M_G = th.sin_example_constants(M_V)
            assert np.all(Eg2 <= M + M_G * (np.cos(t) + 0.2 * t) ** 2 + 1e-12)
        assert np.max(np.abs(-np.sin(t) + 0.2)) <= 1.2

    def test_validation(self):
        with pytest.raises(ValueError, match="h must be > 0"):
            th.DiagonalQuadraticSum([[0.0]], [[1.0]])
        with pytest.raises(ValueError, match="same shape"):
            th.DiagonalQuadraticSum(np.ones((3, 2)), np.ones((3, 1)))
        with pytest.raises(ValueError, match="finite"):
            th.DiagonalQuadraticSum([1.0, 2.0], [0.0, np.nan])
        p = th.random_sum(5, d=2, seed=0)
        with pytest.raises(ValueError, match="M_G must be"):
            p.second_moment_M(0.5 * p.min_MG)
        with pytest.raises(TypeError, match="n must be an integer"):
            th.random_sum(5.0)
        with pytest.raises(ValueError, match="kappa"):
            th.random_sum(5, kappa=0.5)


def test_values_and_gradients_validate():
    p = th.random_sum(5, d=2, seed=0)
    X = np.array([[1.0, 2.0], [0.0, -1.0]])
    assert np.allclose(p.value(X), [p.value(x) for x in X])
    assert np.allclose(p.excess(X), p.value(X) - p.fstar)
    assert np.allclose(
        p.component_grad(X, np.array([0, 3])), [p.h[0] * (X[0] - p.c[0]), p.h[3] * (X[1] - p.c[3])]
    )
    assert np.allclose(p.component_grad(X[0], 2), p.h[2] * (X[0] - p.c[2]))
    for method in (p.value, p.excess, p.grad):
        with pytest.raises(TypeError, match="X"):
            method("a")
        with pytest.raises(ValueError, match="X must have length 2"):
            method([1.0, 2.0, 3.0])
        with pytest.raises(ValueError, match="X must have points of length 2"):
            method(np.ones((3, 4)))
        with pytest.raises(ValueError, match="X must be finite"):
            method([[np.inf, 0.0]])
    with pytest.raises(ValueError, match=r"idx must be in 0 \.\. 4"):
        p.component_grad(X, np.array([0, 5]))
    with pytest.raises(ValueError, match="idx must be in"):
        p.component_grad(X, np.array([-1, 0]))
    with pytest.raises(TypeError, match="idx must hold integers"):
        p.component_grad(X, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="idx must have shape"):
        p.component_grad(X, np.array([0, 1, 2]))


class TestExactRecursion:
    def test_expected_excess_matches_noise_ball_formula(self):
        # shared curvature: E e_k^2 = q^{2k} e0^2 + (1 - q^{2k}) V_inf (theorem thm-noise-ball)
        p, c = shifted(a=1.0, n=30)
        sq = st.ShiftedSquares(c, a=1.0)
        eta, e0 = 0.2, 2.0 - c.mean()
        ex = p.expected_excess([2.0], np.full(50, eta))
        q, V = 1 - eta, st.noise_ball_theory(sq, eta)
        k = np.arange(51)
        assert np.allclose(ex, 0.5 * (q ** (2 * k) * e0**2 + (1 - q ** (2 * k)) * V))

    def test_expected_excess_matches_monte_carlo(self):
        p = th.random_sum(20, d=2, kappa=5, seed=5)
        x0 = np.array([2.0, -1.0])
        run = th.sgd_chains(p, x0, 0.3, 200, chains=4000, seed=0, every=50)
        ex = p.expected_excess(x0, np.full(200, 0.3))[run.steps]
        assert np.allclose(run.excess, ex, rtol=0.08)

    def test_ex_ch3_3_one_over_k_is_the_sample_mean(self):
        p, c = shifted(a=0.5, n=40)
        ex = p.expected_excess([3.0], 1 / (0.5 * (np.arange(100) + 1.0)))
        assert 2 * ex[100] / 0.5 == pytest.approx(np.var(c) / 100)


class TestBounds:
    def test_fixed_step_bound_formula_and_validity(self):
        p = th.random_sum(40, d=2, kappa=10, seed=1)
        x0, eta = np.array([3.0, 3.0]), 0.2
        M, M_G = p.constants_for_step(eta)
        k = np.arange(501)
        b = th.fixed_step_bound(k, eta, p.L, p.mu, M, M_G, p.excess(x0))
        assert b[0] == pytest.approx(p.excess(x0))
        assert b[-1] == pytest.approx(eta * p.L * M / (2 * p.mu), rel=1e-3)
        assert np.all(p.expected_excess(x0, np.full(500, eta)) <= b + 1e-12)
        with pytest.raises(ValueError, match="lr must be"):
            th.fixed_step_bound(k, 1.0, 1.0, 0.5, 1.0, 2.0, 1.0)

    def test_diminishing_step_bound(self):
        # nu takes the larger of the two terms
        b = th.diminishing_step_bound(
            0, beta=2.0, gamma=4.0, L=1.0, mu=1.0, M=1.0, M_G=2.0, gap0=10.0
        )
        assert b == pytest.approx(10.0)
        b = th.diminishing_step_bound(
            6, beta=2.0, gamma=4.0, L=1.0, mu=1.0, M=1.0, M_G=2.0, gap0=0.1
        )
        assert b == pytest.approx(2.0 / 10)  # beta^2 L M / (2 (beta mu - 1)) = 2
        p = th.random_sum(40, d=2, kappa=10, seed=1)
        x0 = np.array([3.0, 3.0])
        M_G = 2 * p.min_MG
        beta = 2 / p.mu
        gamma = beta * p.L * M_G
        lrs = beta / (gamma + np.arange(3000))
        bound = th.diminishing_step_bound(
            np.arange(3001), beta, gamma, p.L, p.mu, p.second_moment_M(M_G), M_G, p.excess(x0)
        )
        assert np.all(p.expected_excess(x0, lrs) <= bound)
        with pytest.raises(ValueError, match="beta must be"):
            th.diminishing_step_bound(0, 0.5, 4.0, 1.0, 1.0, 1.0, 1.0, 1.0)
        with pytest.raises(ValueError, match="beta/gamma"):
            th.diminishing_step_bound(0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)

    def test_nonconvex_bound(self):
        assert th.nonconvex_bound(4, 0.1, 1.0, 2.0, 5.0, 3.0) == pytest.approx(
            0.1 * 2 + 2 * 3 / (4 * 0.1)
        )
        L, M, M_G = th.sin_example_constants(1 / (0.15 * 1.2) - 1)
        gn = th.sin_grad_norms(range(200), lr=0.15, steps=500)
        f = lambda t: np.sin(t) + 0.1 * t * t
        left = st.nonconvex_example()
        from sgdbook.theory import gd

        fmin = left.value(gd.gradient_descent(left, [0.0], 0.1, 2000).x)
        bound = th.nonconvex_bound(np.arange(1, 501), 0.15, L, M, M_G, f(5.0) - fmin)
        assert np.all(np.cumsum(gn) / np.arange(1, 501) <= bound)
        with pytest.raises(ValueError, match="K must be"):
            th.nonconvex_bound(0, 0.1, 1.0, 1.0, 1.0, 1.0)

    def test_interpolation_bound_and_run(self):
        p = th.random_sum(30, d=2, kappa=10, seed=6, interpolate=True)
        eta = 1 / p.L_max
        run = th.sgd_chains(p, [1.0, 1.0], eta, 200, chains=50, seed=0, every=10)
        assert np.all(
            run.dist2 <= th.interpolation_bound(run.steps, eta, p.mu, p.L_max, 2.0) + 1e-15
        )
        with pytest.raises(ValueError, match="lr must be"):
            th.interpolation_bound(1, 2 * eta, p.mu, p.L_max, 1.0)

    def test_svrg_rate_known_value(self):
        # eta = 0.1/L, m = 50 kappa gives alpha = 1/4 + 1/4 (Johnson & Zhang's example)
        assert th.svrg_rate(0.1, 500, 1.0, 0.1) == pytest.approx(0.5)
        with pytest.raises(ValueError, match="lr must be"):
            th.svrg_rate(0.6, 10, 1.0, 0.1)

    def test_robbins_monro_envelope_brackets_the_product(self):
        for t in (0.1, 0.3, 0.5):
            k = np.arange(1, 5001)
            prod = np.cumprod(1 - t / np.arange(1, 5001))
            lo, hi = th.robbins_monro_envelope(k, t / 0.2, 0.2, 1.0)
            assert np.all(lo <= prod) and np.all(prod <= hi)
        with pytest.raises(ValueError, match="c\\*mu"):
            th.robbins_monro_envelope(1, 3.0, 0.2, 1.0)

    def test_averaging_identity_and_bounds(self):
        # the identity bar e_k = Xi_k / k + (e0 - e_k)/(eta a k) holds path by path
        p, c = shifted(a=0.5, n=25)
        eta, k = 0.7, 300
        rng = np.random.default_rng(3)
        idx = rng.integers(25, size=k)
        x, xs = 4.0, []
        for i in idx:
            xs.append(x)
            x = x - eta * 0.5 * (x - c[i])
        e = np.array(xs) - c.mean()
        xi = c[idx] - c.mean()
        assert e.mean() == pytest.approx(xi.sum() / k + (e[0] - (x - c.mean())) / (eta * 0.5 * k))
        run = th.sgd_chains(p, [4.0], eta, 2000, chains=3000, seed=1, every=500, average=True)
        lo, hi = th.averaging_bounds(run.steps[1:], eta, 0.5, np.var(c), 4.0 - c.mean())
        assert np.all(run.avg_dist2[1:] <= hi * 1.1) and np.all(run.avg_dist2[1:] >= lo * 0.9)

    def test_chain_average_per_chain(self):
        # x_avg is each chain's running average, drawn as the recorded mean says
        p, c = shifted(a=0.5, n=25)
        run = th.sgd_chains(p, [4.0], 0.7, 300, chains=7, seed=2, every=100, average=True)
        rng = np.random.default_rng(2)
        X, S = np.full((7, 1), 4.0), np.zeros((7, 1))
        for _ in range(300):
            S += X
            X = X - 0.7 * 0.5 * (X - c[rng.integers(25, size=7)][:, None])
        assert np.allclose(run.x_avg, S / 300) and np.allclose(run.x, X)
        assert run.avg_dist2[-1] == pytest.approx(np.mean((S / 300 - c.mean()) ** 2))
        assert th.sgd_chains(p, [4.0], 0.7, 10, chains=3, seed=2).x_avg is None

    def test_work_counts(self):
        assert th.gd_work(100, 10.0, 1.0, math.e**2, 1.0) == 100 * 20
        beta, gamma = 2.0, 4.0
        w = th.sgd_work(beta, gamma, 1.0, 1.0, 1.0, 2.0, 0.1, 0.01)
        assert w == math.ceil(2.0 / 0.01 - gamma)


class TestRuns:
    def test_sgd_chains_first_step_by_hand(self):
        p = th.random_sum(5, d=2, seed=7)
        run = th.sgd_chains(p, [1.0, 2.0], 0.1, 1, chains=3, seed=9)
        idx = np.random.default_rng(9).integers(5, size=3)
        X = np.tile([1.0, 2.0], (3, 1))
        X1 = X - 0.1 * p.h[idx] * (X - p.c[idx])
        assert np.allclose(run.x, X1)
        assert run.excess[-1] == pytest.approx(p.excess(X1).mean())

    def test_sgd_chains_equals_torch_sgd(self):
        torch = pytest.importorskip("torch")
        p = th.random_sum(6, d=2, seed=8)
        run = th.sgd_chains(p, [1.0, -1.0], 0.3, 25, chains=1, seed=4)
        idx = np.random.default_rng(4).integers(6, size=25)
        w = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.3)
        h, c = torch.tensor(p.h), torch.tensor(p.c)
        for i in idx:
            opt.zero_grad()
            (0.5 * torch.sum(h[i] * (w - c[i]) ** 2)).backward()
            opt.step()
        assert np.allclose(run.x[0], w.detach().numpy())

    def test_divergence_is_reported(self):
        p = th.random_sum(5, d=1, seed=0)
        run = th.sgd_chains(p, [1.0], 50.0, 1000, chains=4, seed=0)
        assert run.diverged and len(run.steps) < 1001 and "发散" in run.status()
        g = th.gd_run(p, [1.0], 50.0, 1000)
        assert g.diverged and "发散" in g.status()

    def test_stop_below(self):
        p = th.random_sum(5, d=2, seed=0, interpolate=True)
        run = th.sgd_chains(p, [1.0, 1.0], 0.5, 10_000, chains=10, seed=0, stop_below=1e-6)
        assert run.excess[-1] <= 1e-6 < run.excess[-2]

    def test_gd_run_counts_n_per_step(self):
        p = th.random_sum(13, d=2, seed=0)
        g = th.gd_run(p, [1.0, 1.0], 1 / p.L, 10)
        assert np.array_equal(g.evals, 13 * np.arange(11))
        assert np.all(np.diff(g.excess) <= 0)

    def test_svrg_linear_and_costs(self):
        p = th.random_sum(200, d=2, kappa=5, seed=1)
        L, mu = p.L_max, p.mu
        eta, m = 0.1 / L, math.ceil(50 * L / mu)
        run = th.svrg_chains(p, [3.0, 3.0], eta, m, 5, chains=20, seed=0)
        alpha = th.svrg_rate(eta, m, L, mu)
        assert np.all(run.excess[1:] <= p.excess([3.0, 3.0]) * alpha ** run.steps[1:])
        assert np.array_equal(run.evals, (200 + 2 * m) * np.arange(6))
        with pytest.raises(ValueError, match="snapshot"):
            th.svrg_chains(p, [3.0, 3.0], eta, m, 1, snapshot="first")

    def test_svrg_one_inner_step_by_hand(self):
        p = th.random_sum(4, d=2, seed=2)
        run = th.svrg_chains(p, [1.0, 0.0], 0.05, 1, 1, chains=2, seed=3, snapshot="last")
        idx = np.random.default_rng(3).integers(4, size=2)
        W = np.tile([1.0, 0.0], (2, 1))
        X = W - 0.05 * (p.h[idx] * (W - p.c[idx]) - p.h[idx] * (W - p.c[idx]) + p.grad(W))
        assert np.allclose(run.x, X)

    def test_svrg_two_inner_steps_by_hand(self):
        # m = 2: the second inner step is taken at x != snapshot, so the correction
        # grad f_i(x) - grad f_i(snapshot) is not zero; every gradient written out from f_i
        p = th.random_sum(4, d=2, seed=2)
        x0, lr, chains = np.array([1.0, -0.5]), 0.05, 3

        def comp_grad(i, x):  # f_i(x) = 1/2 sum_j h_ij (x_j - c_ij)^2
            return np.array([p.h[i, j] * (x[j] - p.c[i, j]) for j in range(2)])

        full = np.mean([comp_grad(i, x0) for i in range(4)], axis=0)
        for snapshot in ("last", "random"):
            run = th.svrg_chains(p, x0, lr, 2, 1, chains=chains, seed=3, snapshot=snapshot)
            rng = np.random.default_rng(3)
            i1, i2 = rng.integers(4, size=chains), rng.integers(4, size=chains)
            iterates = []
            for r in range(chains):
                x1 = x0 - lr * (comp_grad(i1[r], x0) - comp_grad(i1[r], x0) + full)
                correction = comp_grad(i2[r], x1) - comp_grad(i2[r], x0)
                assert np.linalg.norm(correction) > 1e-4
                x2 = x1 - lr * (comp_grad(i2[r], x1) - comp_grad(i2[r], x0) + full)
                iterates.append((x0, x1, x2))
            if snapshot == "last":
                want = [it[2] for it in iterates]
            else:  # the snapshot is x_t for t drawn after the inner loop from {0, 1}
                t = rng.integers(2, size=chains)
                want = [iterates[r][t[r]] for r in range(chains)]
            assert np.allclose(run.x, want, rtol=0, atol=1e-14)

    def test_sin_grad_norms_matches_sgd(self):
        prob = st.nonconvex_example()
        gn = th.sin_grad_norms([6], lr=0.15, steps=50)
        run = st.sgd(prob, [5.0], 0.15, 50, seed=6)
        assert np.allclose(gn, (np.cos(run.xs[:50, 0]) + 0.2 * run.xs[:50, 0]) ** 2)

    def test_validation(self):
        p = th.random_sum(5, d=2, seed=0)
        with pytest.raises(ValueError, match="x0 must have length 2"):
            th.sgd_chains(p, [1.0], 0.1, 10)
        with pytest.raises(ValueError, match="lrs must be"):
            th.sgd_chains(p, [1.0, 1.0], np.ones(3), 10)
        with pytest.raises(ValueError, match="chains must be"):
            th.sgd_chains(p, [1.0, 1.0], 0.1, 10, chains=0)
        with pytest.raises(ValueError, match="seeds must not be empty"):
            th.sin_grad_norms([])
