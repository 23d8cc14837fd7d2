"""Figures: every SVG ``<img>`` gets its intrinsic width and height (no layout shift while it
loads), ``loading="lazy"`` and ``decoding="async"``. Done after the build (the images are copied
last), on the HTML files this build wrote only."""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx

from .common import site_state

_SVG_IMG = re.compile(r'<img (?![^>]*\bwidth=)([^>]*?\bsrc="([^"]+\.svg)"[^>]*?)\s*/?>')
_SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([0-9.]+)(pt|px)?"[^>]*?\bheight="([0-9.]+)(pt|px)?"')


def svg_size(path: Path) -> tuple[int, int] | None:
    """The CSS pixel size of an SVG file from its root ``width``/``height`` (pt or px)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    match = _SVG_SIZE.search(head)
    if not match:
        return None
    w, wu, h, hu = match.groups()
    return (
        round(float(w) * (4 / 3 if wu == "pt" else 1)),
        round(float(h) * (4 / 3 if hu == "pt" else 1)),
    )


def size_images(html_text: str, page_dir: Path) -> str:
    """Give every ``<img>`` of an SVG figure its width and height, ``loading="lazy"`` and
    ``decoding="async"``: the browser reserves the figure's box before the file arrives (no
    layout shift; the stylesheet still scales it to the column) and fetches figures below the
    fold only when the reader scrolls near them. Tags that already have a width are kept."""

    def add(match: re.Match) -> str:
        size = svg_size(page_dir / match.group(2))
        if size is None:
            return match.group(0)
        return (
            f'<img {match.group(1)} width="{size[0]}" height="{size[1]}" loading="lazy" '
            'decoding="async" />'
        )

    return _SVG_IMG.sub(add, html_text)


def size_figures(pages: list[Path]) -> None:
    for page in pages:
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        if ".svg" not in text:
            continue
        sized = size_images(text, page.parent)
        if sized != text:
            page.write_text(sized, encoding="utf-8")


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        size_figures(sorted(site_state(app).written))


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", _build_finished, priority=400)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
