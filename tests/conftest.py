"""Shared fixtures: the strict build of the whole book, done once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

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


# --------------------------------------------------------------------------------------------
# One headless Chromium for every browser test module (playwright's sync API can run only once
# per process, so the fixture lives here and not in a test module that others import from)
# --------------------------------------------------------------------------------------------
CHROMIUM = os.environ.get("SGDBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# --------------------------------------------------------------------------------------------
# Browser and server
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium():
    """A persistent Chromium context with an empty profile, and the list of blocked requests."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's chromium "
            "(SGDBOOK_TEST=1 bash tools/setup-env.sh does it)",
            pytrace=False,
        )
    profile = tempfile.mkdtemp(prefix="sgdbook-chromium-")
    with playwright_sync.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
            locale="zh-CN",
            service_workers="block",
        )
        blocked: list[str] = []

        def gate(route):
            url = urlsplit(route.request.url)
            if url.scheme == "file" or url.hostname in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        # Routing every request also disables the HTTP cache: each load transfers everything,
        # so the measured sizes are those of a first visit.
        context.route("**/*", gate)
        # Chapters hold hundreds of build-time-rendered formulas (1-2 MB of HTML before gzip); on
        # a loaded 2-core machine a load can exceed playwright's 30 s default without anything
        # being wrong. A genuinely hanging page still fails, after two minutes.
        context.set_default_timeout(120_000)
        context.set_default_navigation_timeout(120_000)
        context.blocked = blocked  # type: ignore[attr-defined]
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)
