"""What the site extension's modules share: paths, the error type, the per-build state and the
caches kept in the build folder between builds (``book/_build/.sgdbook_site/``)."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import SphinxError

BOOK_DIR = Path(__file__).resolve().parent.parent.parent
REPO_ROOT = BOOK_DIR.parent
PACKAGE_DIR = REPO_ROOT / "sgdbook"
#: Folder (under ``book/_build``) of the caches kept between builds.
CACHE_FOLDER = ".sgdbook_site"


class SiteError(SphinxError):
    category = "sgdbook site"


@dataclass
class SiteState:
    """The site extension's state during one build (one object per Sphinx application)."""

    #: HTML files written by this build (pages, search page, indices).
    written: set[Path] = field(default_factory=set)
    #: Their page names.
    written_pages: set[str] = field(default_factory=set)
    #: The search index of the previous build (``searchindex.js``'s data), read before writing.
    previous_index: dict | None = None
    #: The KaTeX renderer (a ``katex.KatexRenderer``), started on the first formula.
    katex: Any = None
    #: The footer's build note (computed once per build).
    build_note: str | None = None
    #: Whether the font stylesheet and script were added (builder-inited may run twice).
    font_assets_added: bool = False
    #: The inline script that adds the CJK placeholder font (fonts.placeholder_script).
    font_head_script: str | None = None


_STATES: weakref.WeakKeyDictionary[Sphinx, SiteState] = weakref.WeakKeyDictionary()


def site_state(app: Sphinx) -> SiteState:
    if app not in _STATES:
        _STATES[app] = SiteState()
    return _STATES[app]


def forget_state(app: Sphinx) -> None:
    _STATES.pop(app, None)


def cache_dir(app: Sphinx) -> Path:
    """``book/_build/.sgdbook_site``: caches that only make rebuilds faster (safe to delete)."""
    return Path(app.outdir).parent / CACHE_FOLDER


def html_pages(outdir: Path) -> list[Path]:
    """The site's HTML pages (not the copied sources or static files)."""
    return sorted(
        p for p in outdir.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts
    )


def read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def write_json(path: Path, data: Any) -> None:
    """Write atomically (a build killed half-way leaves the old cache, never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


class PageScanCache:
    """A value computed from each built HTML page, remembered by the file's size and mtime.

    Used for what the fonts are subset to (the CJK characters and the icons of every page): a
    rebuild reads only the pages it wrote, not the whole site.
    """

    def __init__(self, path: Path, version: int = 1) -> None:
        self.path, self.version = path, version
        data = read_json(path, {})
        self._entries: dict[str, list] = (
            data.get("pages", {}) if data.get("version") == version else {}
        )
        self._dirty = False

    def get(self, page: Path, compute) -> Any:
        stat = page.stat()
        key = [stat.st_mtime_ns, stat.st_size]
        entry = self._entries.get(str(page))
        if entry is None or entry[0] != key:
            entry = self._entries[str(page)] = [
                key,
                compute(page.read_text(encoding="utf-8", errors="replace")),
            ]
            self._dirty = True
        return entry[1]

    def save(self, keep: list[Path]) -> None:
        alive = {str(p) for p in keep}
        if set(self._entries) - alive:
            self._entries = {k: v for k, v in self._entries.items() if k in alive}
            self._dirty = True
        if self._dirty:
            write_json(self.path, {"version": self.version, "pages": self._entries})
            self._dirty = False
