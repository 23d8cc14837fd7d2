"""sgdbook.divergence: one mechanism, used wherever iterates can blow up (issue 20)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from sgdbook import divergence, optim
from sgdbook.divergence import DivergenceError
from sgdbook.problems import minibatch, stochastic, training
from sgdbook.problems.objectives import Quadratic
from sgdbook.systems import data_parallel, parallel
from sgdbook.theory import bounds, gd, heavy_ball, noise_floor


def test_one_exception_one_threshold():
    assert optim.DivergenceError is DivergenceError
    assert gd.DIVERGENCE_THRESHOLD == divergence.DIVERGENCE_THRESHOLD
    assert gd.divergence_message is divergence.divergence_message
    assert issubclass(DivergenceError, ArithmeticError)
    assert issubclass(DivergenceError, RuntimeError)  # code written for the first version
    assert not issubclass(DivergenceError, ValueError)


def test_check_names_quantity_step_and_bound():
    divergence.check("x", [1.0, -2.0], 3)
    with pytest.raises(
        DivergenceError, match=r"x diverged at step 7: max \|x\| = 2e\+12 exceeds the bound 1e\+12"
    ) as err:
        divergence.check("x", [1.0, -2e12], 7)
    assert (err.value.step, err.value.quantity, err.value.bound) == (7, "x", 1e12)
    with pytest.raises(DivergenceError, match="not finite"):
        divergence.check("loss", math.nan, 1)
    assert divergence.first_divergent_step([[0.0], [1.0], [math.inf], [1.0]]) == 2
    with pytest.raises(DivergenceError, match="step 12"):
        divergence.check_series("f", [1.0, 1e13], offset=11)
    assert divergence.blown_up([math.nan]) and not divergence.blown_up([])


def _q():
    return Quadratic(np.diag([1.0, 4.0]), np.array([1.0, 0.0]))


def test_exact_quadratic_iterates_raise_or_return():
    q = _q()
    ok = bounds.quadratic_exact_iterates(q, [1.0, 1.0], 0.4, 50)
    assert np.all(np.isfinite(ok))
    with pytest.raises(DivergenceError, match="x_k diverged at step"):
        bounds.quadratic_exact_iterates(q, [1.0, 1.0], 0.6, 200)  # 0.6 * 4 > 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = bounds.quadratic_exact_iterates(q, [1.0, 1.0], 0.6, 3000, on_divergence="return")
    assert out.shape == (3001, 2) and divergence.blown_up(out)
    with pytest.raises(DivergenceError, match="f\\(x_k\\) - f\\* diverged"):
        bounds.quadratic_exact_gap(q, [1.0, 1.0], 0.6, 200)
    with pytest.raises(ValueError, match="on_divergence"):
        bounds.quadratic_exact_gap(q, [1.0, 1.0], 0.1, 2, on_divergence="warn")


def test_nesterov_iterations_report_divergence():
    q = _q()
    thetas, _ = heavy_ball.nesterov_sutskever(q, [1.0, 1.0], 0.1, 0.5, 30)
    assert np.all(np.isfinite(thetas))
    with pytest.raises(DivergenceError, match="theta diverged at step"):
        heavy_ball.nesterov_sutskever(q, [1.0, 1.0], 1.5, 0.5, 500)
    thetas, _ = heavy_ball.nesterov_sutskever(q, [1.0, 1.0], 1.5, 0.5, 30, on_divergence="return")
    assert len(thetas) == 31
    with pytest.raises(DivergenceError, match="x diverged at step"):
        heavy_ball.accelerated_gradient(lambda x: q.grad(x), [1.0, 1.0], 1.5, 500)
    with pytest.raises(ValueError, match="grad"):
        heavy_ball.accelerated_gradient(lambda x: np.ones(1), [1.0, 1.0], 0.1, 3)


def test_statistics_raise_instead_of_averaging_inf():
    with pytest.raises(DivergenceError, match="theta diverged at step"):
        stochastic.basin_statistics([0, 1], lr=100.0, steps=500)
    sq = stochastic.ShiftedSquares(np.array([-1.0, 0.0, 2.0]))
    with pytest.raises(DivergenceError, match="x - x\\* diverged"):
        stochastic.noise_ball(sq, 2.5, steps=400, burn_in=10, chains=4)
    with pytest.raises(DivergenceError, match="excess loss diverged at step"):
        noise_floor.simulate(1.0, 0.5, np.full(200, 3.0), 1.0, chains=4)
    with pytest.raises(DivergenceError, match="excess loss"):
        noise_floor.simulate_averaged(1.0, 0.5, np.full(200, 3.0), 1.0, chains=4)


def test_trainers_raise_on_blow_up():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 3, generator=g, dtype=torch.float64)
    y = X @ torch.ones(3, dtype=torch.float64)
    with pytest.raises(DivergenceError, match="loss diverged"):
        minibatch.train_least_squares(X, y, batch_size=4, lr=50.0, epochs=5, seed=0)
    with pytest.raises(DivergenceError, match="w diverged at step"):
        parallel.large_batch_sgd(X.numpy(), y.numpy(), batch_size=8, lr=50.0, steps=200, seed=0)
    batches = data_parallel.global_batches(40, world_size=1, micro_batch=8, epochs=20)
    with pytest.raises(DivergenceError):
        data_parallel.large_batch_training(X.numpy(), y.numpy(), batches, hidden=4, lr=1e3, seed=0)


def test_convergent_runs_unchanged():
    """The checks only read the iterates: a convergent run gives the same numbers as the loop."""
    q = _q()
    x, prev = np.array([1.0, 1.0]), np.array([1.0, 1.0])
    ref = [x.copy()]
    for k in range(20):
        b = (k - 1) / (k + 2)
        yk = x + b * (x - prev)
        prev, x = x, yk - 0.2 * q.grad(yk)
        ref.append(x.copy())
    assert np.array_equal(
        heavy_ball.accelerated_gradient(q.grad, [1.0, 1.0], 0.2, 20), np.array(ref)
    )


def test_optimizer_checks_hyper_parameters_at_step_time():
    p = torch.ones(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    before = p.detach().clone()
    opt.param_groups[0]["lr"] = math.nan
    with pytest.raises(ValueError, match=r"param_groups\[0\].*lr must be finite, got nan"):
        opt.step()
    assert torch.equal(p.detach(), before)  # nothing was updated
    opt.param_groups[0]["lr"] = 0.1
    opt.param_groups[0]["betas"] = (0.9, 1.0)
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        opt.step()


def test_update_function_refuses_broadcasting():
    with pytest.raises(ValueError, match="grad must have param's shape"):
        optim.sgd_update(torch.zeros(3), torch.ones(1), {}, lr=0.1)


def test_make_mlp_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    model = training.make_mlp(hidden=4, seed=7, device="cpu")
    assert torch.equal(torch.rand(3), expected)
    torch.manual_seed(7)  # the weights are those of a global reseed, as before
    ref = torch.nn.Sequential(torch.nn.Linear(64, 4), torch.nn.ReLU(), torch.nn.Linear(4, 10))
    for a, b in zip(model.parameters(), ref.parameters()):
        assert torch.equal(a, b)


def test_steps_for_linear_rate_tiny_ratio_is_fast_and_exact():
    k = bounds.steps_for_linear_rate(1.0, 1e-14, 1.0, 1e-3)
    assert abs(k - math.log(1e3) / -math.log1p(-1e-14)) <= 1
    k12 = bounds.steps_for_linear_rate(1.0, 1e-12, 1.0, 1e-3)
    assert abs(k12 - math.log(1e3) / 1e-12) < 10
    with pytest.raises(ValueError, match="mu/L"):
        bounds.steps_for_linear_rate(1.0, 5e-324, 1.0, 1e-3)
