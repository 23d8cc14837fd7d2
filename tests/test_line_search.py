import numpy as np
import pytest

from sgdbook.problems import objectives
from sgdbook.theory import line_search


def test_exact_line_search_minimises_along_the_gradient_and_obeys_kantorovich():
    q = objectives.ill_conditioned_2d()
    run = line_search.exact_line_search_gd(q, [10.0, 1.0], 30)
    fstar = q.min_value()
    for x, eta in zip(run.xs[:-1], run.steps):
        g = q.grad(x)
        phi = lambda t: q.value(x - t * g)
        assert phi(eta) <= min(phi(0.99 * eta), phi(1.01 * eta))
    gaps = run.losses - fstar
    ratio = gaps[1:] / gaps[:-1]
    bound = line_search.kantorovich_rate(q.condition_number)
    assert np.all(ratio <= bound + 1e-12)
    # in 2-D the start (kappa, 1) along the eigenvectors attains the bound exactly
    worst = line_search.exact_line_search_gd(q, [q.condition_number * 1.0, 1.0], 3)
    w = worst.losses - fstar
    assert w[1] / w[0] == pytest.approx(bound, rel=1e-9)


def test_kantorovich_rate_values_and_errors():
    assert line_search.kantorovich_rate(1.0) == 0.0
    assert line_search.kantorovich_rate(3.0) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="kappa"):
        line_search.kantorovich_rate(0.5)


def test_polyak_step_on_a_quadratic_is_half_the_exact_step_times_ratio():
    # with e = x - x*: Polyak = (e'Ae / 2) / e'A^2e, exact = e'A^2e / e'A^3e, so
    # Polyak / exact = (1/2) (e'Ae)(e'A^3e) / (e'A^2e)^2, and that ratio is >= 1 (Cauchy-Schwarz)
    q = objectives.ill_conditioned_2d()
    run = line_search.polyak_gd(q, [10.0, 1.0], 50, q.min_value())
    x0 = np.array([10.0, 1.0])
    g = q.grad(x0)
    assert run.steps[0] == pytest.approx((q.value(x0) - q.min_value()) / (g @ g))
    A = q.A
    for x, step in zip(run.xs[:10], run.steps[:10]):
        e = x - q.minimizer()
        m1, m2, m3 = e @ A @ e, e @ A @ A @ e, e @ A @ A @ A @ e
        exact = m2 / m3
        ratio = m1 * m3 / m2**2
        assert ratio >= 1 - 1e-12
        assert step == pytest.approx(0.5 * exact * ratio, rel=1e-10)
    assert run.losses[-1] - q.min_value() < 1e-6 * (run.losses[0] - q.min_value())
    assert np.all(
        np.diff(np.linalg.norm(run.xs - q.minimizer(), axis=1)) <= 1e-12
    )  # Fejér monotone


def test_barzilai_borwein_steps_are_secant_inverse_curvatures():
    q = objectives.ill_conditioned_2d()
    run = line_search.barzilai_borwein_gd(q, [10.0, 1.0], 40, eta0=0.1, grad_tol=1e-12)
    assert run.steps[0] == 0.1
    lam = q.eigenvalues
    assert np.all(run.steps[1:] >= 1 / lam.max() - 1e-12)
    assert np.all(run.steps[1:] <= 1 / lam.min() + 1e-12)
    s = run.xs[2] - run.xs[1]
    r = q.grad(run.xs[2]) - q.grad(run.xs[1])
    assert run.steps[2] == pytest.approx(s @ s / (s @ r))
    assert run.losses[-1] - q.min_value() < 1e-10


def test_divergence_is_reported():
    q = objectives.square()
    run = line_search.barzilai_borwein_gd(q, [1.0], 100, eta0=1e13)  # a first step far too long
    assert run.diverged and len(run.xs) == 2
    assert run.status().startswith("发散")


def test_bad_arguments():
    q = objectives.ill_conditioned_2d()
    with pytest.raises(TypeError, match="Quadratic"):
        line_search.exact_line_search_gd(
            objectives.FunctionObjective(q.value, q.grad), [1.0, 1.0], 3
        )
    with pytest.raises(ValueError, match="x0"):
        line_search.exact_line_search_gd(q, [1.0], 3)
    with pytest.raises(ValueError, match="eta0"):
        line_search.barzilai_borwein_gd(q, [1.0, 1.0], 3, eta0=0.0)
    with pytest.raises(TypeError, match="f_opt"):
        line_search.polyak_gd(q, [1.0, 1.0], 3, f_opt="0")
    with pytest.raises(ValueError, match="steps"):
        line_search.polyak_gd(q, [1.0, 1.0], -1, f_opt=0.0)
