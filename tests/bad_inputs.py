"""Bad and edge-case arguments for every public name of sgdbook (read by tests/test_bad_inputs.py).

:data:`ENTRIES` maps ``"module.name"`` (``"optim.SGD"``, ``"schedules.StepDecay.load_state_dict"``
for a method) to one of:

* :class:`Call`: a valid call (``fn`` and a factory of keyword arguments, small and fast) and,
  for each argument, a hypothesis strategy of values that must be refused with a ``ValueError``
  or ``TypeError`` whose message names the argument (``token`` when the message uses another
  word, e.g. a nested name ``betas[0]``);
* :class:`Documented`: a name with nothing to refuse, and what the test checks instead
  (constants; result containers that the library builds itself; functions without arguments).

Every public name (each module's ``__all__``) has an entry; ``test_every_public_name_has_an_entry``
fails otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from hypothesis import strategies as st

nan, inf = math.nan, math.inf

# ------------------------------------------------------------------ strategies of bad values
NOT_NUMBER = st.sampled_from([None, "1", [1.0], True, (1.0,), b"1"])
NONFINITE = st.sampled_from([nan, inf, -inf])
_finite = dict(allow_nan=False, allow_infinity=False)
REAL = st.one_of(NOT_NUMBER, NONFINITE)
POS = st.one_of(REAL, st.floats(max_value=0, **_finite))
NONNEG = st.one_of(REAL, st.floats(max_value=0, exclude_max=True, **_finite))
PROB = st.one_of(REAL, st.floats(max_value=0, exclude_max=True, **_finite),
                 st.floats(min_value=1, **_finite))
CLOSED01 = st.one_of(REAL, st.floats(max_value=0, exclude_max=True, **_finite),
                     st.floats(min_value=1, exclude_min=True, **_finite))
OPEN01 = st.one_of(REAL, st.floats(max_value=0, **_finite), st.floats(min_value=1, **_finite))
BOOL = st.sampled_from([0, 1, None, "yes", 1.0, np.float64(1.0)])
CALLABLE = st.sampled_from([None, 1, "f", [1], 2.5])
NON_INT = st.sampled_from([1.5, 2.0, None, "3", True, [1], nan])


def INT(minimum: int | None = None, maximum: int | None = None) -> st.SearchStrategy:
    """Values an integer argument ``minimum <= v <= maximum`` must refuse."""
    parts = [NON_INT]
    if minimum is not None:
        parts.append(st.integers(max_value=minimum - 1, min_value=minimum - 10**6))
    if maximum is not None:
        parts.append(st.integers(min_value=maximum + 1, max_value=maximum + 10**6))
    return st.one_of(*parts)


SEED = st.one_of(INT(0), st.just(2**64))
VECTOR = st.sampled_from([[], [nan], [1.0, inf], [[1.0, 2.0], [3.0, 4.0]], "abc", [1j, 2.0], None,
                          np.array([1 + 2j])])
SEQ = st.sampled_from([[], None, 3, "abc"])


def CHOICE(*bad: Any) -> st.SearchStrategy:
    return st.sampled_from([None, 1, "nonsense", "", *bad])


def TENSOR(rows: int = 4, cols: int | None = 2, dtype=torch.float32) -> st.SearchStrategy:
    """Tensors a ``(rows, cols)`` (or ``(rows,)``) real floating tensor argument must refuse."""
    shape = (rows,) if cols is None else (rows, cols)
    wrong_rank = torch.ones(rows, cols, 1, dtype=dtype) if cols else torch.ones(rows, 2, dtype=dtype)
    bad_vals = torch.ones(shape, dtype=dtype)
    bad_vals.view(-1)[0] = nan
    return st.sampled_from([
        None, np.ones(shape), "X", wrong_rank, torch.ones((0,) + shape[1:], dtype=dtype),
        bad_vals, torch.ones(shape, dtype=torch.complex64), torch.ones(shape, dtype=torch.int64),
    ])


OPTIMIZER = st.sampled_from([None, 1, "sgd", [torch.zeros(1)]])
DTYPE = st.sampled_from([None, "float32", torch.int64, float, 1])
DEVICE = st.sampled_from([1, 2.5, [0], object()])


# ------------------------------------------------------------------ entries
@dataclass
class Call:
    """A valid call ``fn(**kwargs())`` and the bad values of each argument."""

    fn: Callable[..., Any]
    kwargs: Callable[[], dict[str, Any]]
    bad: dict[str, Any]
    token: dict[str, str] = field(default_factory=dict)
    #: Run the valid call once in the tests (off for calls that start processes or take long).
    check_valid: bool = True


@dataclass
class Documented:
    """A name with nothing to refuse; ``check`` (if given) is called and must return True."""

    reason: str
    check: Callable[[], bool] | None = None


# ---------------------------------------------------------------- small shared fixtures
def _quadratic():
    from sgdbook.objectives import Quadratic
    return Quadratic(np.diag([1.0, 4.0]), np.array([1.0, 0.0]))


def _param():
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.ones(3)
    return p


def _opt(lr: float = 0.1):
    from sgdbook.optim import SGD
    return SGD([_param()], lr=lr, momentum=0.5)


def _reg(n=12, d=3, dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g, dtype=dtype)
    return X, X @ torch.ones(d, dtype=dtype) + 0.1 * torch.randn(n, generator=g, dtype=dtype)


def _linreg_data(n=30):
    from sgdbook.linreg import synthetic_regression
    return synthetic_regression(n)


def _shifted():
    from sgdbook.stochastic import ShiftedSquares
    return ShiftedSquares(np.array([-1.0, 0.0, 2.0]))


def _diag_sum():
    from sgdbook.sgd_theory import random_sum
    return random_sum(5, d=2, seed=0)


_DIGITS: list[Any] = []


def _digits():
    if not _DIGITS:
        from sgdbook.training import load_digits_data
        _DIGITS.append(load_digits_data(device=torch.device("cpu")))
    return _DIGITS[0]


def _module(name: str):
    import importlib
    return importlib.import_module(f"sgdbook.{name}")


def M(name: str):
    """``sgdbook.<module>.<attr>`` from ``"module.attr"``, imported lazily."""
    mod, _, attr = name.rpartition(".")
    return getattr(_module(mod), attr)


def _lazy(name: str) -> Callable[..., Any]:
    return lambda *a, **k: M(name)(*a, **k)


def result(reason: str = "a result container the library fills in; not built from user input"):
    return Documented(reason)


def constant(name: str, predicate: Callable[[Any], bool] = lambda v: v is not None):
    return Documented("a constant", lambda: predicate(M(name)))


def noargs(name: str):
    return Documented("takes no arguments; the test calls it", lambda: (M(name)(), True)[1])


def C(name: str, kwargs: Callable[[], dict[str, Any]], bad: dict[str, Any], **kw) -> Call:
    return Call(_lazy(name), kwargs, bad, **kw)


_FIN = lambda v: isinstance(v, float) and math.isfinite(v)  # noqa: E731

ENTRIES: dict[str, Call | Documented] = {}


def add(name: str, entry: Call | Documented) -> None:
    assert name not in ENTRIES, name
    ENTRIES[name] = entry


# ================================================================= toolkit
for _n in ("real", "positive", "nonnegative", "unit_interval", "probability", "open_unit_interval"):
    add(f"validation.{_n}", C(f"validation.{_n}", lambda: dict(name="x", value=0.5),
                              {"value": REAL}, token={"value": "x"}))
add("validation.integer", C("validation.integer", lambda: dict(name="n", value=3, minimum=1),
                            {"value": INT(1)}, token={"value": "n"}))
add("validation.positive_int", C("validation.positive_int", lambda: dict(name="n", value=3),
                                 {"value": INT(1)}, token={"value": "n"}))
add("validation.seed", C("validation.seed", lambda: dict(name="seed", value=3), {"value": SEED},
                         token={"value": "seed"}))
add("validation.boolean", C("validation.boolean", lambda: dict(name="flag", value=True),
                            {"value": BOOL}, token={"value": "flag"}))
add("validation.optional_boolean", C("validation.optional_boolean", lambda: dict(name="flag", value=None),
                                     {"value": st.sampled_from([0, 1, "yes", 1.0])}, token={"value": "flag"}))
add("validation.vector", C("validation.vector", lambda: dict(name="x", value=[1.0, 2.0]),
                           {"value": VECTOR}, token={"value": "x"}))
add("validation.square_matrix", C("validation.square_matrix", lambda: dict(name="A", value=np.eye(2)),
                                  {"value": st.sampled_from([np.ones((2, 3)), [], "A", np.eye(2) * 1j,
                                                             np.full((2, 2), nan)])}, token={"value": "A"}))
add("validation.learning_rate", C("validation.learning_rate", lambda: dict(name="lr", value=0.1),
                                  {"value": NONNEG}, token={"value": "lr"}))
add("validation.betas", C("validation.betas", lambda: dict(name="betas", value=(0.9, 0.99)),
                          {"value": st.sampled_from([(0.9,), (1.0, 0.5), (0.5, -0.1), None, "ab", (nan, 0.5)])},
                          token={"value": "betas"}))
add("validation.torch_optimizer", C("validation.torch_optimizer", lambda: dict(name="opt", value=_opt()),
                                    {"value": OPTIMIZER}, token={"value": "opt"}))
add("validation.choice", C("validation.choice", lambda: dict(name="mode", value="a", options=("a", "b")),
                           {"value": CHOICE(True)}, token={"value": "mode"}))
add("validation.callable_", C("validation.callable_", lambda: dict(name="fn", value=print),
                              {"value": CALLABLE}, token={"value": "fn"}))
add("validation.non_empty", C("validation.non_empty", lambda: dict(name="seeds", value=[1]),
                              {"value": SEQ}, token={"value": "seeds"}))
add("validation.array", C("validation.array", lambda: dict(name="a", value=[[1.0]]),
                          {"value": st.sampled_from([[], [nan], "a", [1j], None])}, token={"value": "a"}))
add("validation.real_array", C("validation.real_array", lambda: dict(name="a", value=[1.0], minimum=0.0),
                               {"value": st.sampled_from([[], [nan], "a", [1j], None, [-1.0]])},
                               token={"value": "a"}))
add("validation.tensor", C("validation.tensor", lambda: dict(name="X", value=torch.ones(4, 2), ndim=2),
                           {"value": TENSOR()}, token={"value": "X"}))
add("validation.same_length", C("validation.same_length",
                                lambda: dict(name_a="X", a=[1, 2], name_b="y", b=[1, 2]),
                                {"b": st.sampled_from([[1], [1, 2, 3], []])}, token={"b": "y"}))
add("validation.same_shape", C("validation.same_shape",
                               lambda: dict(name_a="g", a=np.ones(3), name_b="p", b=np.ones(3)),
                               {"b": st.sampled_from([np.ones(1), np.ones((3, 1)), np.ones(4)])},
                               token={"b": "p"}))

add("divergence.DIVERGENCE_THRESHOLD", constant("divergence.DIVERGENCE_THRESHOLD", _FIN))
add("divergence.DivergenceError", Documented(
    "an exception class; both ArithmeticError and RuntimeError",
    lambda: issubclass(M("divergence.DivergenceError"), (ArithmeticError,))
    and issubclass(M("divergence.DivergenceError"), RuntimeError)))
add("divergence.blown_up", Documented(
    "a predicate defined on every array: True for inf/nan/huge entries, False otherwise",
    lambda: M("divergence.blown_up")([nan]) and M("divergence.blown_up")([1e13])
    and not M("divergence.blown_up")([1.0]) and not M("divergence.blown_up")([])))
add("divergence.check", Documented(
    "raises DivergenceError (not ValueError) on a blown-up value, naming quantity, step, bound",
    lambda: _raises_divergence(lambda: M("divergence.check")("x", [inf], 3), "x", "step 3")))
add("divergence.check_series", Documented(
    "raises DivergenceError at the first blown-up row",
    lambda: _raises_divergence(lambda: M("divergence.check_series")("f", [1.0, 2.0, 1e13]), "f", "step 2")))
add("divergence.first_divergent_step", Documented(
    "index of the first blown-up row, None if none",
    lambda: M("divergence.first_divergent_step")([[1.0], [nan]]) == 1
    and M("divergence.first_divergent_step")([1.0]) is None))
add("divergence.divergence_message", Documented(
    "formats a message; any step and iterate",
    lambda: "发散" in M("divergence.divergence_message")(3, [inf])))
add("divergence.on_divergence", C("divergence.on_divergence", lambda: dict(value="raise"),
                                  {"value": CHOICE("RAISE", "warn")}, token={"value": "on_divergence"}))


def _raises_divergence(fn, *words) -> bool:
    from sgdbook.divergence import DivergenceError
    try:
        fn()
    except DivergenceError as exc:
        return all(w in str(exc) for w in words)
    return False


add("seeding.seed_everything", C("seeding.seed_everything", lambda: dict(seed=0), {"seed": SEED}))
add("seeding.rng", C("seeding.rng", lambda: dict(seed=0), {"seed": SEED}))

add("device.get_device", noargs("device.get_device"))
add("device.cpu_model", noargs("device.cpu_model"))
add("device.describe_device", C("device.describe_device", lambda: dict(device=torch.device("cpu")),
                                {"device": DEVICE}))
add("device.synchronize", C("device.synchronize", lambda: dict(device=torch.device("cpu")),
                            {"device": DEVICE}))

add("plotting.use_book_style", C("plotting.use_book_style", lambda: dict(inline_format="svg"),
                                 {"inline_format": CHOICE("gif")}))
add("plotting.CJK_FONT_FILE", constant("plotting.CJK_FONT_FILE"))
add("plotting.CJK_FONT_NAME", constant("plotting.CJK_FONT_NAME"))
add("plotting.PALETTE", constant("plotting.PALETTE", lambda v: len(v) > 0))

_noop = lambda: None  # noqa: E731
add("timing.TimingResult", result())
add("timing.measure", C("timing.measure", lambda: dict(fn=_noop, repeats=2, number=1, warmup=0),
                        {"fn": CALLABLE, "repeats": INT(1), "number": INT(1), "warmup": INT(0),
                         "device": DEVICE}))
add("timing.measure_for", C("timing.measure_for",
                            lambda: dict(fn=_noop, min_time=1e-3, min_rounds=2, max_rounds=5, warmup_time=0.0),
                            {"fn": CALLABLE, "min_time": NONNEG, "round_time": NONNEG,
                             "min_rounds": INT(1), "max_rounds": INT(1), "warmup_time": NONNEG,
                             "min_warmup": INT(0), "device": DEVICE}))
def _enter(name):
    def run(**kwargs):
        with M(name)(**kwargs):
            pass
    return run


add("timing.intra_op_threads", Call(_enter("timing.intra_op_threads"), lambda: dict(threads=1),
                                    {"threads": INT(1)}))
add("timing.gflops", C("timing.gflops", lambda: dict(flops=1e9, seconds=1.0),
                       {"flops": NONNEG, "seconds": POS}))
add("timing.matmul_flops", C("timing.matmul_flops", lambda: dict(m=2, k=3, n=4),
                             {"m": INT(1), "k": INT(1), "n": INT(1)}))

add("datasets.DatasetError", Documented("an exception class",
                                        lambda: issubclass(M("datasets.DatasetError"), Exception)))
add("datasets.Dataset", result())
add("datasets.diabetes_dir", noargs("datasets.diabetes_dir"))
add("datasets.load_diabetes", C("datasets.load_diabetes", lambda: dict(),
                                {"data_dir": st.sampled_from([1, 2.5, [1]])}))
add("datasets.array_sha256", C("datasets.array_sha256", lambda: dict(a=np.ones(3)),
                               {"a": st.sampled_from([None, "a", [1, 2], 3])}))
add("datasets.standardize", C("datasets.standardize", lambda: dict(X=np.arange(6.0).reshape(3, 2),
                                                                   y=np.arange(3.0)),
                              {"X": st.sampled_from([np.ones(3), np.ones((0, 2)), np.full((3, 2), nan), "X",
                                                     np.ones((3, 2)) * 1j]),
                               "y": st.sampled_from([np.ones(4), np.full(3, nan), "y", np.ones((3, 2))])}))


# ================================================================= algorithms: optim
def _opt_entry(cls: str, hyper: dict[str, Any], extra: dict[str, Any] | None = None, **base):
    bad = {"params": st.sampled_from([[], torch.zeros(3), [torch.zeros(3, dtype=torch.int64)],
                                      [{"params": []}], None, 3])}
    bad.update(hyper)
    bad.update({"foreach": st.sampled_from([0, 1, "yes"]), "maximize": BOOL, "check_finite": BOOL})
    if extra:
        bad.update(extra)
    return C(f"optim.{cls}", lambda: dict(params=[_param()], **base), bad)


add("optim.SGD", _opt_entry("SGD", {"lr": NONNEG, "momentum": NONNEG, "dampening": CLOSED01,
                                   "weight_decay": NONNEG, "nesterov": BOOL}, lr=0.1))
add("optim.EMAMomentum", _opt_entry("EMAMomentum", {"lr": NONNEG, "beta": PROB, "weight_decay": NONNEG},
                                    lr=0.1))
add("optim.Adagrad", _opt_entry("Adagrad", {"lr": NONNEG, "lr_decay": NONNEG, "weight_decay": NONNEG,
                                           "initial_accumulator_value": NONNEG, "eps": POS}))
add("optim.RMSprop", _opt_entry("RMSprop", {"lr": NONNEG, "alpha": PROB, "eps": POS,
                                           "weight_decay": NONNEG, "momentum": NONNEG, "centered": BOOL}))
_ADAM = {"lr": NONNEG, "betas": st.sampled_from([(0.9,), (1.0, 0.9), (0.9, -0.1), None, (nan, 0.9)]),
         "eps": POS, "weight_decay": NONNEG}
add("optim.Adam", _opt_entry("Adam", _ADAM | {"amsgrad": BOOL}, {"betas": _ADAM["betas"]}))
add("optim.AdamW", _opt_entry("AdamW", _ADAM | {"amsgrad": BOOL}))
add("optim.NAdam", _opt_entry("NAdam", _ADAM | {"momentum_decay": NONNEG, "decoupled_weight_decay": BOOL}))
add("optim.RAdam", _opt_entry("RAdam", _ADAM | {"decoupled_weight_decay": BOOL}))


def _update_entry(name: str, hyper: dict[str, Any]):
    bad = {"param": st.sampled_from([None, np.zeros(3), torch.zeros(3, dtype=torch.int64)]),
           "grad": st.sampled_from([None, torch.ones(1), torch.ones(3, dtype=torch.float64), np.ones(3),
                                    torch.ones(3, 1)]),
           "state": st.sampled_from([None, [], "state"])}
    bad.update(hyper)
    return C(f"optim.{name}", lambda: dict(param=torch.zeros(3), grad=torch.ones(3), state={}, lr=0.1), bad)


add("optim.sgd_update", _update_entry("sgd_update", {"lr": NONNEG, "momentum": NONNEG, "dampening": CLOSED01,
                                                     "nesterov": BOOL, "weight_decay": NONNEG}))
add("optim.ema_momentum_update", _update_entry("ema_momentum_update", {"lr": NONNEG, "beta": PROB,
                                                                       "weight_decay": NONNEG}))
add("optim.adagrad_update", _update_entry("adagrad_update", {"lr": NONNEG, "lr_decay": NONNEG, "eps": POS,
                                                             "weight_decay": NONNEG,
                                                             "initial_accumulator_value": NONNEG}))
add("optim.rmsprop_update", _update_entry("rmsprop_update", {"lr": NONNEG, "alpha": PROB, "eps": POS,
                                                             "weight_decay": NONNEG, "momentum": NONNEG,
                                                             "centered": BOOL}))
_ADAM_U = {"lr": NONNEG, "beta1": PROB, "beta2": PROB, "eps": POS, "weight_decay": NONNEG,
           "decoupled_weight_decay": BOOL}
add("optim.adam_update", _update_entry("adam_update", _ADAM_U | {"amsgrad": BOOL}))
add("optim.nadam_update", _update_entry("nadam_update", _ADAM_U | {"momentum_decay": NONNEG}))
add("optim.radam_update", _update_entry("radam_update", _ADAM_U))
add("optim.radam_rho", C("optim.radam_rho", lambda: dict(step=3, beta2=0.99), {"step": INT(1), "beta2": PROB}))
add("optim.radam_rectification", C("optim.radam_rectification", lambda: dict(step=10, beta2=0.99),
                                   {"step": INT(1), "beta2": PROB}))
add("optim.BookOptimizer", Documented(
    "an abstract base class; its subclasses' entries check the arguments it validates",
    lambda: issubclass(M("optim.SGD"), M("optim.BookOptimizer"))))
add("optim.DivergenceError", Documented("the exception of sgdbook.divergence, re-exported",
                                        lambda: M("optim.DivergenceError") is M("divergence.DivergenceError")))
add("optim.assert_finite", C("optim.assert_finite", lambda: dict(optimizer=_opt(), step=1),
                             {"optimizer": OPTIMIZER, "step": st.sampled_from([-1, 1.5, "1"])}))
add("optim.params_finite", C("optim.params_finite", lambda: dict(optimizer=_opt()), {"optimizer": OPTIMIZER}))
add("optim.run_optimizer", C("optim.run_optimizer",
                             lambda: dict(make_optimizer=lambda p: M("optim.SGD")(p, lr=0.1),
                                          objective=_quadratic(), x0=[1.0, 1.0], steps=3),
                             {"make_optimizer": CALLABLE, "objective": st.sampled_from([None, 1, "f"]),
                              "x0": VECTOR, "steps": INT(0), "grad": st.sampled_from([1, "g"])}))


def _step_with(key: str, value: Any):
    def run(**kwargs):
        opt = kwargs["optimizer"]
        opt.param_groups[0][key] = kwargs["value"]
        opt.step()
    return run


for _cls, _key, _bad in [("SGD", "lr", NONNEG), ("SGD", "momentum", NONNEG), ("Adam", "betas", _ADAM["betas"]),
                         ("Adam", "eps", POS), ("RMSprop", "alpha", PROB), ("Adagrad", "lr_decay", NONNEG)]:
    add(f"optim.{_cls}.step[{_key}]", Call(
        _step_with(_key, None), (lambda c=_cls, k=_key: dict(
            optimizer=M(f"optim.{c}")([_param()], lr=0.1),
            value=M(f"optim.{c}")([_param()], lr=0.1).param_groups[0][k])),
        {"value": _bad}, token={"value": _key}))


# ================================================================= algorithms: schedules
def _sched(cls: str, bad: dict[str, Any], **kw):
    b = {"optimizer": OPTIMIZER}
    b.update(bad)
    return C(f"schedules.{cls}", lambda: dict(optimizer=_opt(), **kw), b)


add("schedules.LRSchedule", Documented("an abstract base class; concrete schedules have entries",
                                       lambda: issubclass(M("schedules.StepDecay"), M("schedules.LRSchedule"))))
add("schedules.Schedule", Documented("an abstract base class", lambda: True))
add("schedules.MetricSchedule", Documented("an abstract base class", lambda: True))
add("schedules.InverseTimeDecay", _sched("InverseTimeDecay", {"k": NONNEG}, k=0.1))
add("schedules.StepDecay", _sched("StepDecay", {"step_size": INT(1), "gamma": POS}, step_size=2))
add("schedules.MultiStepDecay", _sched("MultiStepDecay", {"milestones": st.sampled_from([[0], [-1], [1.5], None, 3,
                                                                                       ["a"]]),
                                                          "gamma": POS}, milestones=[2]))
add("schedules.ExponentialDecay", _sched("ExponentialDecay", {"gamma": POS}, gamma=0.9))
add("schedules.CosineAnnealing", _sched("CosineAnnealing", {"T_max": INT(1), "eta_min": NONNEG}, T_max=5))
add("schedules.CosineAnnealingWarmRestarts", _sched("CosineAnnealingWarmRestarts",
                                                    {"T_0": INT(1), "T_mult": INT(1), "eta_min": NONNEG}, T_0=3))
add("schedules.LinearWarmup", _sched("LinearWarmup", {"warmup_steps": INT(0), "after": st.sampled_from([1, "x"]),
                                                      "start_factor": st.sampled_from([-0.5, 1.5, nan, None])},
                                     warmup_steps=3))
add("schedules.ReduceOnPlateau", _sched("ReduceOnPlateau", {
    "mode": CHOICE("MIN"), "factor": OPEN01, "patience": INT(0), "threshold": NONNEG,
    "threshold_mode": CHOICE("ABS"), "cooldown": INT(0),
    "min_lr": st.sampled_from([-1.0, nan, "0", [0.0, 0.0], [-1.0]]), "eps": NONNEG}))
add("schedules.lr_curve", C("schedules.lr_curve",
                            lambda: dict(make_schedule=lambda o: M("schedules.StepDecay")(o, 2), epochs=4),
                            {"make_schedule": CALLABLE, "epochs": INT(1), "lr": NONNEG,
                             "metrics": st.sampled_from([[1.0], "abc", [nan] * 4])}))
add("schedules.OneCycle", _sched("OneCycle", {"max_lr": POS, "total_steps": INT(1), "pct_start": OPEN01,
                                              "anneal_strategy": CHOICE("COS"), "cycle_momentum": BOOL,
                                              "base_momentum": NONNEG, "max_momentum": NONNEG,
                                              "div_factor": POS, "final_div_factor": POS},
                                 max_lr=1.0, total_steps=10))
add("schedules.WarmupStableDecay", _sched("WarmupStableDecay", {
    "warmup_steps": INT(0), "stable_steps": INT(0), "decay_steps": INT(1),
    "start_factor": st.sampled_from([-0.5, 1.5, nan, None]), "eta_min": NONNEG, "decay": CHOICE("LINEAR")},
    warmup_steps=1, stable_steps=1, decay_steps=2))


def _load_state(cls: str, key: str, **kw):
    def run(**kwargs):
        sch = M(f"schedules.{cls}")(_opt(), **kw)
        state = sch.state_dict()
        state[key] = kwargs["value"]
        sch.load_state_dict(state)
    return run


for _cls, _key, _bad, _kw in [("StepDecay", "gamma", POS, dict(step_size=2)),
                              ("ExponentialDecay", "gamma", POS, dict(gamma=0.9)),
                              ("CosineAnnealing", "T_max", INT(1), dict(T_max=4)),
                              ("StepDecay", "last_epoch", INT(0), dict(step_size=2)),
                              ("OneCycle", "pct_start", OPEN01, dict(max_lr=1.0, total_steps=10))]:
    add(f"schedules.{_cls}.load_state_dict[{_key}]", Call(_load_state(_cls, _key, **_kw),
                                                          lambda: dict(value=0.5 if _key == "pct_start" else 2),
                                                          {"value": _bad}, token={"value": _key}))


# ================================================================= algorithms: gd, ema, objectives
add("gd.Trajectory", result())
add("gd.DIVERGENCE_THRESHOLD", constant("gd.DIVERGENCE_THRESHOLD", _FIN))
add("gd.divergence_message", Documented("re-exported from sgdbook.divergence",
                                        lambda: M("gd.divergence_message") is M("divergence.divergence_message")))
add("gd.gradient_descent", C("gd.gradient_descent", lambda: dict(objective=_quadratic(), x0=[1.0, 1.0], lr=0.1,
                                                                 steps=3),
                             {"objective": st.sampled_from([None, 1, "f"]), "x0": VECTOR, "lr": POS,
                              "steps": INT(0), "grad_tol": st.one_of(NONFINITE, st.floats(max_value=0, **_finite), st.just("1"))}))
for _n in ("effective_window", "mean_age", "variance_ratio", "equivalent_boxcar", "window_summary"):
    add(f"ema.{_n}", C(f"ema.{_n}", lambda: dict(beta=0.9), {"beta": OPEN01}))
add("ema.ema", C("ema.ema", lambda: dict(series=[1.0, 2.0], beta=0.9),
                 {"series": VECTOR, "beta": PROB, "bias_correction": BOOL}))
add("ema.ema_weights", C("ema.ema_weights", lambda: dict(beta=0.9, t=5), {"beta": PROB, "t": INT(1)}))
add("ema.mass_in_last", C("ema.mass_in_last", lambda: dict(beta=0.9, n=5), {"beta": OPEN01, "n": INT(0)}))
add("ema.WindowSummary", result())
add("ema.noisy_series", C("ema.noisy_series", lambda: dict(n=5, seed=0), {"n": INT(1), "seed": SEED,
                                                                         "noise": NONNEG}))
add("ema.ema_correction_fed_back", C("ema.ema_correction_fed_back", lambda: dict(series=[1.0, 2.0], beta=0.9),
                                     {"series": VECTOR, "beta": OPEN01}))
add("objectives.Objective", Documented("a typing Protocol (value and grad)", lambda: True))
add("objectives.Quadratic", C("objectives.Quadratic", lambda: dict(A=np.eye(2), b=[1.0, 0.0]),
                              {"A": st.sampled_from([np.ones((2, 3)), np.eye(2) * 1j, [[1.0, 2.0], [0.0, 1.0]],
                                                     np.full((2, 2), nan), "A", None]),
                               "b": st.sampled_from([[1.0], [nan, 1.0], [1j, 0.0], "b"]), "c": REAL}))
add("objectives.FunctionObjective", C("objectives.FunctionObjective",
                                      lambda: dict(f=lambda x: float(x @ x), df=lambda x: 2 * x),
                                      {"f": CALLABLE, "df": CALLABLE, "name": st.sampled_from([1, None])}))
add("objectives.square", noargs("objectives.square"))
add("objectives.ill_conditioned_2d", C("objectives.ill_conditioned_2d", lambda: dict(a=0.1, b=2.0),
                                       {"a": POS, "b": POS}))

# ================================================================= algorithms: landscapes, agreement
add("landscapes.grid_values", C("landscapes.grid_values",
                                lambda: dict(objective=_quadratic(), xlim=(-1, 1), ylim=(-1, 1), n=5),
                                {"objective": st.sampled_from([None, 1]), "xlim": st.sampled_from([(1, -1), (0, nan), None, (1,)]),
                                 "ylim": st.sampled_from([(1, 1), (0, inf), "ab"]), "n": INT(2)}))
add("landscapes.contour_levels", C("landscapes.contour_levels", lambda: dict(Z=np.arange(9.0).reshape(3, 3)),
                                   {"Z": st.sampled_from([[], np.full((2, 2), nan), "Z", None]), "count": INT(1),
                                    "quantile": st.sampled_from([0.0, -0.1, 1.5, nan, None])}))


def _axes():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    plt.close(fig)
    return ax


add("landscapes.plot_contour_with_paths", C("landscapes.plot_contour_with_paths",
                                            lambda: dict(ax=_axes(), objective=_quadratic(), xlim=(-1, 1),
                                                         ylim=(-1, 1), n=5),
                                            {"ax": st.sampled_from([None, 1]), "xlim": st.sampled_from([(1, -1), None]),
                                             "n": INT(2), "markersize": POS, "equal_aspect": BOOL,
                                             "paths": st.sampled_from([[np.ones(3)], {"a": np.ones((2, 3))}, 5])}))
add("landscapes.TiltedDoubleWell", C("landscapes.TiltedDoubleWell", lambda: dict(),
                                     {"tilt": REAL, "curvature": POS}))
add("landscapes.CriticalPoint", result())
add("landscapes.LogisticLoss", C("landscapes.LogisticLoss",
                                 lambda: dict(X=np.array([[1.0, 0.0], [0.0, 1.0]]), y=np.array([-1.0, 1.0])),
                                 {"X": st.sampled_from([np.ones(2), np.full((2, 2), nan), np.ones((0, 2)), "X"]),
                                  "y": st.sampled_from([np.array([0.0, 2.0]), np.ones(3), np.array([nan, 1.0])]),
                                  "reg": NONNEG}))
add("landscapes.two_gaussians", C("landscapes.two_gaussians", lambda: dict(n_per_class=3),
                                  {"n_per_class": INT(1), "seed": SEED, "separation": REAL, "std": POS}))
add("landscapes.saddle", noargs("landscapes.saddle"))
add("landscapes.plateau", noargs("landscapes.plateau"))
add("landscapes.escape_step", C("landscapes.escape_step", lambda: dict(losses=[3.0, 1.0], level=2.0),
                                {"losses": st.sampled_from(["ab", None, [[1.0]], [1j]]), "level": REAL}))
add("agreement.test_problem", C("agreement.test_problem", lambda: dict(shapes=((2, 2), (3,))),
                                {"shapes": st.sampled_from([(), ((0, 2),), ((-1,),), "ab", ((1.5,),)]),
                                 "seed": SEED, "dtype": DTYPE}))
add("agreement.step_differences", C("agreement.step_differences",
                                    lambda: dict(make_a=lambda p: M("optim.SGD")(p, lr=0.1),
                                                 make_b=lambda p: torch.optim.SGD(p, lr=0.1), steps=2),
                                    {"make_a": CALLABLE, "make_b": CALLABLE, "steps": INT(1), "seed": SEED,
                                     "dtype": DTYPE, "schedule": st.sampled_from([1, "s"])}))
