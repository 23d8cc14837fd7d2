"""Shared fixtures: the strict build of the whole book, done once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
HTML = BOOK / "_build" / "html"


def jupyter_book() -> list[str]:
    """The jupyter-book command of the running interpreter's environment."""
    exe = Path(sys.executable).with_name("jupyter-book")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "jupyter_book.cli.main"]


def run_build(
    book_dir: Path, *extra: str, cwd: Path | None = None, timeout: float = 1800
) -> subprocess.CompletedProcess:
    """Run ``jupyter-book build <book_dir>`` and capture its output (never raises on failure)."""
    env = os.environ | {"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [*jupyter_book(), "build", str(book_dir), *extra],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def toc_docnames() -> list[str]:
    """Every page of the table of contents, in order (root first)."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            names.append(chapter["file"])
    return names


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the whole book strictly from the working tree and return ``book/_build/html``.

    ``--all`` discards Sphinx's saved environment, so every page is read again and every
    warning is reported (an incremental build hides warnings of unchanged pages); executed
    notebooks are reused from the jupyter cache only where the chapter's code and the sgdbook
    sources it imports are unchanged (see book/_ext/sgdbook_build.py).
    """
    if os.environ.get("SGDBOOK_REUSE_HTML") == "1" and (HTML / "index.html").is_file():
        return HTML  # for iterating on the HTML checks only; CI never sets it
    if HTML.exists():
        shutil.rmtree(HTML)
    result = run_build(BOOK, "--all")
    if result.returncode != 0:
        pytest.fail(
            f"strict book build failed (exit {result.returncode}):\n"
            f"{result.stdout[-20000:]}\n{result.stderr[-20000:]}",
            pytrace=False,
        )
    return HTML
