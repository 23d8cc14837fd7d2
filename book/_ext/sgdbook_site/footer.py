"""Build note: every page's footer says which device (CPU model or GPU name), torch version and
git commit built the book, and when.

The note is not part of Sphinx's configuration (a configuration change makes Sphinx write every
page again, and the commit gains ``-dirty`` with the first edit): it is put into the footer of
each page as the page is written, and after the build the pages this build did not write get the
current note too, by replacing the one paragraph (no page is rendered again for it). Every page
then carries the same note a clean build would write.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from sphinx.application import Sphinx

from .common import REPO_ROOT, html_pages, site_state

_NOTE = re.compile(r'<p class="sgdbook-build-note">.*?</p>', re.S)


def git_commit() -> str:
    """Short commit of the working tree, with ``-dirty`` when tracked files have changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("GITHUB_SHA", "unknown")[:12] or "unknown"
    return commit + ("-dirty" if dirty else "")


def build_date() -> str:
    """The build's date (UTC, ISO format); ``SOURCE_DATE_EPOCH`` fixes it (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
        if epoch
        else datetime.datetime.now(datetime.timezone.utc)
    )
    return when.date().isoformat()


def _device_key() -> str:
    """What the device description depends on, found without importing torch."""
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch_version = "none"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        cpu = next(
            (line for line in cpuinfo.splitlines() if line.lower().startswith("model name")), ""
        )
    except OSError:
        cpu = platform.processor()
    parts = [
        torch_version,
        cpu,
        str(os.cpu_count()),
        platform.node(),
        *(
            os.environ.get(v, "")
            for v in ("SGDBOOK_DEVICE", "SGDBOOK_REQUIRE_CUDA", "CUDA_VISIBLE_DEVICES")
        ),
        *sorted(p.name for p in Path("/dev").glob("nvidia*")),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def device_description(cache_file: Path) -> str:
    """``sgdbook.device.describe_device()``, cached so a no-change rebuild skips importing torch."""
    key = _device_key()
    try:
        cached = json.loads(cache_file.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return cached["description"]
    except (OSError, ValueError, KeyError):
        pass
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from sgdbook.device import describe_device  # imports torch

    description = describe_device()
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps({"key": key, "description": description}), encoding="utf-8")
    return description


def build_note(app: Sphinx) -> str:
    cache_file = Path(app.outdir).parent / ".sgdbook_device.json"
    return (
        f'<p class="sgdbook-build-note">本书由 <code>'
        f"{html.escape(device_description(cache_file))}</code> 构建，提交 <code>"
        f"{html.escape(git_commit())}</code>，构建日期 {build_date()}。</p>"
    )


def _note(app: Sphinx) -> str:
    st = site_state(app)
    if st.build_note is None:
        st.build_note = build_note(app)
    return st.build_note


def _add_note(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if not app.config.sgdbook_build_note:
        return
    footer = context.get("theme_extra_footer") or ""
    note = _note(app)
    context["theme_extra_footer"] = f"{footer}\n{note}" if footer else note


def update_notes(pages: list[Path], note: str) -> list[Path]:
    """Replace the build note of each page that has another one; the pages changed."""
    changed = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        new = _NOTE.sub(lambda m: note, text, count=1)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html" or not app.config.sgdbook_build_note:
        return
    written = site_state(app).written
    update_notes([p for p in html_pages(Path(app.outdir)) if p not in written], _note(app))


def setup(app: Sphinx) -> dict:
    app.add_config_value("sgdbook_build_note", True, "html", [bool])
    app.connect("html-page-context", _add_note)
    app.connect("build-finished", _build_finished, priority=400)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
