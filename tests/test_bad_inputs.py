"""Property-based bad-input suite (issue 20): every public name refuses bad arguments clearly.

For each :class:`bad_inputs.Call` entry and each of its arguments, hypothesis draws bad values
(``max_examples`` kept small so the whole suite runs in about a minute) and substitutes them
into an otherwise valid call. The call must raise ``ValueError`` or ``TypeError`` whose message
names the argument, within :data:`TIME_LIMIT` seconds (a ``SIGALRM`` interrupts a hang), and
must not print to stderr nor emit a warning (no LAPACK message, no numpy overflow warning).
The valid call itself is run once so that a broken base call cannot make the suite pass.
``SGDBOOK_BAD_INPUT_EXAMPLES`` overrides the number of examples per argument.
"""

from __future__ import annotations

import importlib
import os
import signal
import warnings
from contextlib import contextmanager

import pytest
from bad_inputs import ENTRIES, PENDING, Call, Documented
from hypothesis import HealthCheck, given, settings

import sgdbook

TIME_LIMIT = 20.0
EXAMPLES = int(os.environ.get("SGDBOOK_BAD_INPUT_EXAMPLES", "6"))


@contextmanager
def time_limit(seconds: float):
    """Raise ``TimeoutError`` in the main thread if the block runs longer than ``seconds``."""

    def on_alarm(signum, frame):
        raise TimeoutError(f"call did not return within {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def public_names() -> list[str]:
    """``module.name`` for every name in every public module's ``__all__``."""
    names = []
    for _, modules in sgdbook.MODULE_GROUPS:
        for mod in modules:
            module = importlib.import_module(f"sgdbook.{mod}")
            names += [f"{mod}.{n}" for n in getattr(module, "__all__", [])]
    return names


def test_every_public_name_has_an_entry():
    missing = [n for n in public_names() if n not in ENTRIES and n not in PENDING]
    assert not missing, f"public names without an entry in tests/bad_inputs.py: {missing}"


def test_pending_names_are_public_and_have_no_entry():
    names = set(public_names())
    assert not [n for n in PENDING if n not in names or n in ENTRIES]


def test_no_entry_for_a_name_that_does_not_exist():
    names = set(public_names())
    modules = {m for _, group in sgdbook.MODULE_GROUPS for m in group}
    stale = [k for k in ENTRIES if k.rpartition(".")[0] in modules and k not in names]
    assert not stale, f"entries for names that are not public (any more): {stale}"


CALLS = sorted(k for k, e in ENTRIES.items() if isinstance(e, Call))
CASES = [(k, arg) for k in CALLS for arg in ENTRIES[k].bad]
DOCUMENTED = sorted(k for k, e in ENTRIES.items() if isinstance(e, Documented) and e.check)


@pytest.mark.parametrize("key", [k for k in CALLS if ENTRIES[k].check_valid])
def test_valid_call_works(key):
    entry = ENTRIES[key]
    with time_limit(TIME_LIMIT), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        entry.fn(**entry.kwargs())


@pytest.mark.parametrize("key", DOCUMENTED)
def test_documented_result(key):
    with time_limit(TIME_LIMIT):
        assert ENTRIES[key].check(), ENTRIES[key].reason


@pytest.mark.parametrize("key,arg", CASES, ids=[f"{k}:{a}" for k, a in CASES])
def test_bad_argument_is_refused(key, arg, capfd):
    entry = ENTRIES[key]
    token = entry.token.get(arg, arg)

    # The hypothesis test is built per case (not stacked on the parametrised test): one
    # settings object each, and the whole suite stays in one process-wide budget.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=entry.bad[arg])
    def check(value):
        kwargs = entry.kwargs()
        kwargs[arg] = value
        with time_limit(TIME_LIMIT), warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                entry.fn(**kwargs)
            except (ValueError, TypeError) as exc:
                assert token in str(exc), (
                    f"{key}({arg}={value!r}) raised {type(exc).__name__} without naming {token!r}: {exc}"
                )
            else:
                pytest.fail(f"{key} accepted {arg}={value!r} silently")
        err = capfd.readouterr().err
        assert not err.strip(), f"{key}({arg}={value!r}) printed to stderr: {err[:300]}"

    check()
