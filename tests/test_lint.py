"""The code passes ruff (lint and format check), configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["sgdbook", "book/_ext", "tests", "benchmarks", "tools"]


def _ruff() -> list[str]:
    venv_ruff = Path(sys.executable).with_name("ruff")
    if venv_ruff.is_file():
        return [str(venv_ruff)]
    found = shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed (it is pinned in requirements/lock.txt)")
    return [found]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff(command):
    out = subprocess.run(_ruff() + command + PATHS, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
