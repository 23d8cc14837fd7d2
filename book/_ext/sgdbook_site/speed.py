"""Phones: less to wait for before the first paint, less work while the page loads.

Measured with Lighthouse's phone preset (``benchmarks/bench_site.py``; docs/site.md):

* **Scripts do not block the first paint.** Sphinx and its extensions link their scripts in the
  page head without ``defer`` (doctools, the copy button, the toggle button, sphinx-design's tabs,
  the book theme, the translations): each one stopped the HTML parser until it had arrived.
  They are deferred, which keeps their order and runs them after parsing, before
  ``DOMContentLoaded`` (what they wait for). ``documentation_options.js`` stays synchronous:
  inline scripts of the page assign to its ``DOCUMENTATION_OPTIONS`` while the page is parsed.
  The search page is left alone (its template's search scripts run in place and need doctools).
* **The theme measures only what is on screen.** pydata-sphinx-theme makes every code block,
  output and table that scrolls focusable (``tabIndex``) by measuring each one at load, and
  again after every change of the page (copy buttons, explorers): on a chapter that laid out all
  the sections ``content-visibility: auto`` skips (about 0.6 s of forced layout at the phone's
  CPU speed). The same rule now runs per element through an ``IntersectionObserver``, when the
  element comes near the viewport, before a reader can reach it by scrolling or tabbing.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Head scripts that must run in place (inline scripts after them use what they define).
SYNC_SCRIPTS = ("documentation_options.js",)

THEME_JS = Path("_static") / "scripts" / "pydata-sphinx-theme.js"
# pydata-sphinx-theme 0.16's minified "make scrollable boxes focusable" helper
THEME_TABINDEX = (
    "const e=()=>{document.querySelectorAll("
    '["pre",".nboutput > .output_area",".cell_output > .output",".jp-RenderedHTMLCommon",'
    '".pst-scrollable-table-container"].join(", ")).forEach(e=>{e.tabIndex=e.scrollWidth>'
    "e.clientWidth||e.scrollHeight>e.clientHeight?0:-1})}"
)
# The same rule, applied to each box when it comes within a screen's height of the viewport.
LAZY_TABINDEX = (
    "const e=()=>{const o=window.sgdTabIndexObserver||(window.sgdTabIndexObserver="
    "new IntersectionObserver(s=>s.forEach(x=>{if(x.isIntersecting){const e=x.target;"
    "e.tabIndex=e.scrollWidth>e.clientWidth||e.scrollHeight>e.clientHeight?0:-1}}),"
    '{rootMargin:"100% 0px"}));document.querySelectorAll('
    '["pre",".nboutput > .output_area",".cell_output > .output",".jp-RenderedHTMLCommon",'
    '".pst-scrollable-table-container"].join(", ")).forEach(e=>{o.unobserve(e);o.observe(e)})}'
)


def defer_scripts(scripts: list) -> list:
    """The page's scripts, those with a file and no ``async``/``defer`` now deferred."""
    from sphinx.builders.html._assets import _JavaScript

    out = []
    for script in scripts:
        filename = str(getattr(script, "filename", "") or "")
        attributes = dict(getattr(script, "attributes", {}))
        if (
            isinstance(script, _JavaScript)
            and filename
            and "://" not in filename
            and not filename.endswith(SYNC_SCRIPTS)
            and not {"async", "defer"} & set(attributes)
            and attributes.get("type", "text/javascript") in ("text/javascript", "")
        ):
            attributes["defer"] = "defer"
            script = _JavaScript(script.filename, priority=script.priority, **attributes)
        out.append(script)
    return out


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    # The search page's template links searchtools.js and the index itself, synchronously, and
    # they use what doctools.js defines: that page keeps its scripts as they are.
    if "script_files" in context and pagename != "search":
        context["script_files"] = defer_scripts(context["script_files"])


def lazy_theme_tabindex(outdir: Path) -> bool:
    """Patch the copied theme script; whether it was changed (False: already patched)."""
    path = outdir / THEME_JS
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    if LAZY_TABINDEX in text:
        return False
    if text.count(THEME_TABINDEX) != 1:
        logger.warning(
            "%s: the theme's scroll-box helper was not found (pydata-sphinx-theme upgraded?); "
            "update THEME_TABINDEX in %s",
            path,
            __file__,
        )
        return False
    path.write_text(text.replace(THEME_TABINDEX, LAZY_TABINDEX), encoding="utf-8")
    return True


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        lazy_theme_tabindex(Path(app.outdir))


def setup(app: Sphinx) -> dict:
    # after pages._filter_assets (900), which drops thebe's scripts and duplicates
    app.connect("html-page-context", _page_context, priority=950)
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}
