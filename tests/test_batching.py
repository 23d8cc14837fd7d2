"""Tests of sgdbook.systems.batching and sgdbook.problems.minibatch."""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pytest
import torch

from sgdbook.problems import minibatch
from sgdbook.systems import batching


def _data(n=10, d=3):
    X = torch.arange(n * d, dtype=torch.float32).reshape(n, d)
    y = torch.arange(n, dtype=torch.float32)
    return X, y


class TestBatchIterator:
    def test_epoch_is_a_permutation_and_rows_stay_aligned(self):
        X, y = _data(10)
        batches = list(batching.BatchIterator(X, y, batch_size=3, seed=1))
        assert [len(b[0]) for b in batches] == [3, 3, 3, 1]
        ys = torch.cat([b[1] for b in batches])
        assert sorted(ys.tolist()) == list(range(10))
        assert ys.tolist() != list(range(10))  # shuffled (this seed)
        for xb, yb in batches:
            torch.testing.assert_close(xb, X[yb.long()])

    def test_drop_last(self):
        X, y = _data(10)
        it = batching.BatchIterator(X, y, batch_size=3, drop_last=True, seed=0)
        assert len(it) == 3
        batches = list(it)
        assert [len(b[0]) for b in batches] == [3, 3, 3]
        assert len(set(torch.cat([b[1] for b in batches]).tolist())) == 9

    def test_len_and_large_batch(self):
        X, y = _data(10)
        assert len(batching.BatchIterator(X, y, batch_size=3)) == 4
        assert [len(b[0]) for b in batching.BatchIterator(X, y, batch_size=50)] == [10]

    def test_seeded_and_epochs_differ(self):
        X, y = _data(20)
        a = batching.BatchIterator(X, y, batch_size=4, seed=7)
        b = batching.BatchIterator(X, y, batch_size=4, seed=7)
        e1a, e1b = [t[1].tolist() for t in a], [t[1].tolist() for t in b]
        assert e1a == e1b
        e2a = [t[1].tolist() for t in a]
        assert e2a != e1a  # a new permutation each epoch
        c = batching.BatchIterator(X, y, batch_size=4, seed=8)
        assert [t[1].tolist() for t in c] != e1a

    def test_unseeded_follows_torch_global_seed(self):
        X, y = _data(20)
        torch.manual_seed(3)
        a = [t[1].tolist() for t in batching.BatchIterator(X, y, batch_size=5)]
        torch.manual_seed(3)
        b = [t[1].tolist() for t in batching.BatchIterator(X, y, batch_size=5)]
        assert a == b

    def test_no_shuffle_keeps_order(self):
        X, y = _data(7)
        ys = [t[1].tolist() for t in batching.BatchIterator(X, y, batch_size=3, shuffle=False)]
        assert ys == [[0, 1, 2], [3, 4, 5], [6]]

    def test_single_tensor(self):
        (b,) = next(iter(batching.BatchIterator(torch.arange(4), batch_size=4, seed=0)))
        assert sorted(b.tolist()) == [0, 1, 2, 3]

    @pytest.mark.parametrize(
        "bs,exc",
        [(0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError), ("3", TypeError)],
    )
    def test_rejects_bad_batch_size(self, bs, exc):
        X, y = _data()
        with pytest.raises(exc, match="batch_size"):
            batching.BatchIterator(X, y, batch_size=bs)

    def test_rejects_bad_tensors(self):
        X, y = _data()
        with pytest.raises(ValueError, match="same first dimension"):
            batching.BatchIterator(X, y[:5], batch_size=2)
        with pytest.raises(ValueError, match="no examples"):
            batching.BatchIterator(X[:0], y[:0], batch_size=2)
        with pytest.raises(ValueError, match="at least one tensor"):
            batching.BatchIterator(batch_size=2)
        with pytest.raises(TypeError, match=r"torch\.Tensor"):
            batching.BatchIterator(X.numpy(), batch_size=2)
        with pytest.raises(ValueError, match="scalar"):
            batching.BatchIterator(torch.tensor(1.0), batch_size=1)
        with pytest.raises(ValueError, match="no batch at all"):
            batching.BatchIterator(X, y, batch_size=11, drop_last=True)

    def test_seed_range(self):
        X, y = _data()
        largest = 2**63 - 1  # the largest seed torch.Generator.manual_seed accepts
        a = [t[1].tolist() for t in batching.BatchIterator(X, y, batch_size=3, seed=largest)]
        b = [t[1].tolist() for t in batching.BatchIterator(X, y, batch_size=3, seed=largest)]
        assert a == b and sorted(itertools.chain.from_iterable(a)) == list(range(10))
        for bad in (2**63, 2**64, -1):
            with pytest.raises(ValueError, match="seed must be"):
                batching.BatchIterator(X, y, batch_size=3, seed=bad)
            with pytest.raises(ValueError, match="seed must be"):
                batching.dataloader(X, y, batch_size=3, seed=bad)
        with pytest.raises(TypeError, match="seed"):
            batching.BatchIterator(X, y, batch_size=3, seed=1.0)

    def test_same_batches_as_counts_of_dataloader(self):
        X, y = _data(10)
        dl = batching.dataloader(X, y, batch_size=4, seed=0)
        assert [len(b[0]) for b in dl] == [4, 4, 2]
        with pytest.raises(ValueError, match="same first dimension"):
            batching.dataloader(X, y[:3], batch_size=2)

    def test_throughput_positive_and_kind_checked(self):
        X, y = _data(50)
        for kind in ("sgdbook", "dataloader"):
            assert batching.loader_throughput(X, y, batch_size=10, kind=kind, repeats=1) > 0
        with pytest.raises(ValueError, match="kind"):
            batching.loader_throughput(X, y, batch_size=10, kind="fast")


class TestMinibatchMath:
    def setup_method(self):
        g = torch.Generator().manual_seed(0)
        self.X = minibatch.add_bias(torch.randn(50, 3, generator=g, dtype=torch.float64))
        self.w = torch.randn(4, generator=g, dtype=torch.float64)
        self.y = self.X @ self.w + 0.1 * torch.randn(50, generator=g, dtype=torch.float64)

    def test_gradients_consistent(self):
        G = minibatch.per_example_gradients(self.X, self.y, self.w)
        torch.testing.assert_close(G.mean(0), minibatch.full_gradient(self.X, self.y, self.w))
        w = self.w.clone().requires_grad_(True)
        loss = ((self.X @ w - self.y) ** 2).mean() / 2
        loss.backward()
        torch.testing.assert_close(w.grad, minibatch.full_gradient(self.X, self.y, self.w))
        assert minibatch.mse(self.X, self.y, self.w) == pytest.approx(float(loss.detach()))

    def test_optimal_loss_is_minimum(self):
        w, f = minibatch.optimal_loss(self.X, self.y)
        torch.testing.assert_close(
            minibatch.full_gradient(self.X, self.y, w),
            torch.zeros(4, dtype=torch.float64),
            atol=1e-10,
            rtol=0,
        )
        assert f <= minibatch.mse(self.X, self.y, self.w)
        assert f <= minibatch.mse(self.X, self.y, w + 0.01)

    def test_step_size_interpolates(self):
        L, Lmax = minibatch.smoothness(self.X)
        assert Lmax >= L
        assert minibatch.minibatch_step_size(L, Lmax, 50, 1) == pytest.approx(1 / Lmax)
        assert minibatch.minibatch_step_size(L, Lmax, 50, 50) == pytest.approx(1 / L)
        with pytest.raises(ValueError):
            minibatch.minibatch_step_size(L, Lmax, 50, 51)

    @pytest.mark.parametrize("replace", [True, False])
    def test_noise_matches_theory(self, replace):
        G = minibatch.per_example_gradients(self.X, self.y, self.w)
        bs = [1, 4, 16]
        measured = minibatch.gradient_noise(G, bs, 4000, replace=replace, seed=0)
        theory = minibatch.noise_theory(G, bs, replace=replace)
        np.testing.assert_allclose(measured, theory, rtol=0.06)
        if not replace:  # the whole population has no sampling error
            assert minibatch.gradient_noise(G, [50], 10, replace=False, seed=0)[0] < 1e-12
            assert minibatch.noise_theory(G, [50], replace=False)[0] == 0

    def test_loglog_slope(self):
        x = np.array([1.0, 2, 4, 8])
        assert minibatch.loglog_slope(x, 3 * x**-0.5) == pytest.approx(-0.5)
        with pytest.raises(ValueError, match="positive"):
            minibatch.loglog_slope([1, 2], [1, -1])

    def test_training_records_and_reproducible(self):
        L, Lmax = minibatch.smoothness(self.X)
        runs = [
            minibatch.train_least_squares(
                self.X,
                self.y,
                batch_size=5,
                epochs=3,
                seed=2,
                lr=minibatch.minibatch_step_size(L, Lmax, 50, 5),
            )
            for _ in range(2)
        ]
        a, b = runs
        np.testing.assert_array_equal(a.losses, b.losses)
        assert a.examples[0] == 0 and a.examples[-1] == 150
        assert a.iterations[-1] == 30
        assert np.all(np.diff(a.seconds) >= 0)
        assert a.losses[-1] < a.losses[0]
        gd = minibatch.train_least_squares(
            self.X, self.y, batch_size=50, epochs=200, lr=1 / L, seed=0
        )
        _, fstar = minibatch.optimal_loss(self.X, self.y)
        assert gd.losses[-1] - fstar < 1e-6 * max(1.0, fstar)
        assert np.all(np.diff(gd.losses) <= 1e-15)  # GD with step 1/L never increases the loss


def test_gather_in_pieces_matches_indexing(monkeypatch):
    monkeypatch.setattr(batching, "_CHUNK_ELEMENTS", 7)  # force several pieces
    X = torch.arange(60.0).reshape(20, 3)
    perm = torch.randperm(20, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(batching._gather(X, perm), X[perm])
    torch.testing.assert_close(batching._gather(X[:, 0], perm), X[perm, 0])
    it = batching.BatchIterator(X, X[:, 0], batch_size=6, seed=0)
    for xb, yb in it:
        torch.testing.assert_close(xb[:, 0], yb)


def test_docstring_examples_hold():
    # the module is not collected with --doctest-modules, so run its examples here
    failed, attempted = doctest.testmod(batching, verbose=False, report=False)
    assert attempted >= 2 and failed == 0


class TestChapter4Additions:
    def test_batch_sampler_loader_and_index_slices_cover_an_epoch(self):
        X, y = _data(10)
        for batches in (
            list(batching.batch_sampler_loader(X, y, batch_size=3, seed=0)),
            list(batching.tensor_sampler_loader(X, y, batch_size=3, seed=0)),
            list(
                batching.index_slices(
                    X, y, batch_size=3, generator=torch.Generator().manual_seed(0)
                )
            ),
        ):
            assert [len(b[1]) for b in batches] == [3, 3, 3, 1]
            ys = torch.cat([b[1] for b in batches])
            assert sorted(ys.tolist()) == list(range(10))
            for xb, yb in batches:
                torch.testing.assert_close(xb, X[yb.long()])

    def test_index_tensor_sampler_yields_tensors_of_one_permutation(self):
        s = batching.IndexTensorSampler(10, 4, torch.Generator().manual_seed(0))
        parts = list(s)
        assert len(s) == 3 and [len(p) for p in parts] == [4, 4, 2]
        assert all(isinstance(p, torch.Tensor) and p.dtype == torch.long for p in parts)
        assert sorted(torch.cat(parts).tolist()) == list(range(10))
        with pytest.raises(ValueError, match="batch_size"):
            batching.IndexTensorSampler(10, 0)
        with pytest.raises(TypeError, match="generator"):
            batching.IndexTensorSampler(10, 2, generator=0)

    def test_loader_timing_reports_every_epoch(self):
        X, y = _data(20)
        res = batching.loader_timing(X, y, batch_size=5, kind="tensorsampler", repeats=3)
        assert len(res.times) == 3 and res.median > 0

    @pytest.mark.parametrize("kind", batching.LOADERS)
    def test_every_loader_kind_is_measured(self, kind):
        X, y = _data(50)
        assert batching.loader_throughput(X, y, batch_size=7, kind=kind, repeats=1) > 0

    def test_unknown_kind(self):
        X, y = _data(5)
        with pytest.raises(ValueError, match="kind"):
            batching.loader_throughput(X, y, batch_size=2, kind="fast")

    def test_decaying_step_and_timed_training(self):
        X, y = minibatch.synthetic_regression(200, 3, seed=0)
        const = minibatch.train_least_squares(X, y, batch_size=1, lr=0.05, epochs=3, seed=1)
        decay = minibatch.train_least_squares(
            X, y, batch_size=1, lr=0.05, epochs=3, seed=1, decay_steps=200
        )
        assert not np.allclose(const.losses, decay.losses)
        # first update uses lr itself: the same after one step
        one_c = minibatch.train_least_squares(
            X, y, batch_size=1, lr=0.05, epochs=1, seed=1, record_every=1
        )
        one_d = minibatch.train_least_squares(
            X, y, batch_size=1, lr=0.05, epochs=1, seed=1, record_every=1, decay_steps=200
        )
        assert one_c.losses[1] == one_d.losses[1] and one_c.losses[2] != one_d.losses[2]
        tt = minibatch.timed_training(X, y, batch_size=10, lr=0.1, epochs=2, seeds=[1, 2, 3])
        assert len(tt.totals) == 3 and tt.median_seconds > 0
        xs, ts, bq = tt.binned(5, offset=0.0)
        assert len(xs) == len(ts) == bq.shape[1] <= 5 and np.all(np.diff(xs) > 0)
        assert np.all(bq[0] <= bq[2]) and np.all(np.diff(ts) >= 0)
        np.testing.assert_allclose(
            tt.binned(1)[2][1], np.median([r.losses[1:].mean() for r in tt.runs])
        )
        q = tt.loss_quantiles((0.0, 1.0))
        assert np.all(q[0] <= q[1]) and np.any(q[0] < q[1])
        np.testing.assert_array_equal(
            tt.runs[0].losses,
            minibatch.train_least_squares(X, y, batch_size=10, lr=0.1, epochs=2, seed=1).losses,
        )
        with pytest.raises(ValueError, match="seeds"):
            minibatch.timed_training(X, y, batch_size=10, lr=0.1, epochs=1, seeds=[])
        with pytest.raises(ValueError, match="decay_steps"):
            minibatch.train_least_squares(
                X, y, batch_size=1, lr=0.1, epochs=1, seed=0, decay_steps=0
            )

    def test_synthetic_condition_and_step_model(self):
        X, y = minibatch.synthetic_regression(5000, 4, condition=100.0, seed=0)
        ev = torch.linalg.eigvalsh(X.T @ X / 5000)
        assert 60 < float(ev[-1] / ev[0]) < 160
        with pytest.raises(ValueError, match="condition"):
            minibatch.synthetic_regression(10, 2, condition=0.5)
        st = minibatch.step_times_by_batch(X, y, [1, 16], min_time=0.01)
        assert st.bytes_per_example == 8 * 5 and len(st.seconds) == 2
        # two passes over the batch (forward X_B w, backward X_B^T r)
        np.testing.assert_allclose(
            st.floor_model(1e-5, 4e9), [1e-5 + 2 * 40 / 4e9, 1e-5 + 2 * 640 / 4e9]
        )
        assert st.flops_per_example == 16 and st.forward_per_example > 0
        np.testing.assert_allclose(
            st.two_pass_model(1e-5, [10]), [1e-5 + 20 * st.forward_per_example]
        )
        assert st.knee(1e-5, 1e-8) == pytest.approx(1e3)
        with pytest.raises(ValueError, match="batch_size"):
            minibatch.forward_time(X, y, 6000)
        with pytest.raises(ValueError, match="batch_size"):
            minibatch.step_time(X, y, 6000)

    def test_step_models_use_every_batch_size(self):
        b = (1, 4, 16)
        st = minibatch.StepTimes(
            batch_sizes=b,
            seconds=(10e-6, 12e-6, 30e-6),
            spreads=(0.0,) * 3,
            bytes_per_example=40,
            best=(9e-6, 6e-6, 29e-6),
            forward_seconds=(2e-6, 3e-6, 8e-6),
            backward_seconds=(3e-6, 5e-6, 13e-6),
        )
        np.testing.assert_allclose(st.measured_pass_model(10e-6), [10e-6, 12e-6, 22e-6])
        np.testing.assert_allclose(st.measured_pass_model(10e-6, passes=1), [10e-6, 11e-6, 16e-6])
        np.testing.assert_allclose(st.sum_model(10e-6), [10e-6, 13e-6, 26e-6])
        np.testing.assert_allclose(st.best_over_median(), [0.9, 0.5, 29 / 30])
        assert st.disturbed(0.8) == [4]
        with pytest.raises(ValueError, match="threshold"):
            st.disturbed(1.5)
        short = minibatch.StepTimes(
            batch_sizes=b, seconds=(1.0,) * 3, spreads=(0.0,) * 3, bytes_per_example=40
        )
        with pytest.raises(ValueError, match="forward_seconds"):
            short.measured_pass_model(1e-6)
        with pytest.raises(ValueError, match="backward_seconds"):
            short.sum_model(1e-6)

    def test_step_fit_keeps_a_negative_intercept(self):
        b = (1024, 4096, 16384)
        st = minibatch.StepTimes(
            batch_sizes=b,
            seconds=tuple(-5e-5 + 1e-7 * x for x in b),
            spreads=(0.0,) * 3,
            bytes_per_example=40,
        )
        c, s_ = st.fit(statistic="median")
        assert c == pytest.approx(-5e-5) and s_ == pytest.approx(1e-7)

    def test_step_times_measure_forward_and_backward_everywhere(self):
        X, y = minibatch.synthetic_regression(2000, 4, seed=0)
        st = minibatch.step_times_by_batch(X, y, [1, 16, 256], min_time=0.005, threads=1)
        assert len(st.forward_seconds) == len(st.backward_seconds) == 3
        assert all(t > 0 for t in st.forward_seconds + st.backward_seconds)
        assert st.forward_per_example == pytest.approx(
            max(st.forward_seconds[2] - st.forward_seconds[0], 1e-15) / 255
        )
        with pytest.raises(ValueError, match="distinct"):
            minibatch.step_times_by_batch(X, y, [16, 16], min_time=0.005)
        assert minibatch.backward_time(X, y, 8, min_time=0.005).median > 0

    def test_step_model_fit_recovers_an_exact_line(self):
        b = (1, 4, 16, 64, 256, 1024)
        st = minibatch.StepTimes(
            batch_sizes=b,
            seconds=tuple(2e-5 + 3e-8 * x for x in b),
            spreads=(0.0,) * 6,
            bytes_per_example=40,
        )
        c, s_ = st.fit()
        assert c == pytest.approx(2e-5) and s_ == pytest.approx(3e-8)
        assert st.fit(min_batch=64) == pytest.approx((2e-5, 3e-8))
        assert st.fit(statistic="median") == pytest.approx((2e-5, 3e-8))
        with pytest.raises(ValueError, match="statistic"):
            st.fit(statistic="mean")
        with pytest.raises(ValueError, match="min_batch"):
            st.fit(min_batch=1024)
        with pytest.raises(ValueError, match="forward_per_example"):
            st.two_pass_model(1e-5)


def test_add_bias_and_noise_theory_validate():
    with pytest.raises(TypeError, match="X"):
        minibatch.add_bias([[1.0]])
    with pytest.raises(TypeError, match="floating"):
        minibatch.add_bias(torch.ones(3, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="X"):
        minibatch.add_bias(torch.ones(3))
    G = torch.randn(5, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="batch_sizes"):
        minibatch.noise_theory(G, [6], replace=False)  # b > n without replacement
    with pytest.raises(ValueError, match="batch_sizes"):
        minibatch.noise_theory(G, [0], replace=True)
    with pytest.raises(TypeError, match="replace"):
        minibatch.noise_theory(G, [1], replace=1)
    with pytest.raises(ValueError, match="G"):
        minibatch.noise_theory(torch.ones(3), [1], replace=True)
    assert np.isfinite(minibatch.noise_theory(G, [6], replace=True)).all()


def test_loader_timing_with_min_time_and_one_thread():
    X = torch.randn(200, 3)
    y = torch.randn(200)
    res = batching.loader_timing(
        X, y, batch_size=10, kind="slicing", repeats=3, min_time=0.01, threads=1
    )
    assert len(res.times) >= 3 and sum(res.times) >= 0.01 * 0.5
    with pytest.raises(ValueError, match="min_time"):
        batching.loader_timing(X, y, batch_size=10, kind="sgdbook", min_time=0.0)
