"""Page post-processing: lean, accessible pages, each asset once, polished apparatus.

* Nothing that reaches out, nothing heavy: sphinx-thebe's scripts and styles are dropped (they
  would fetch thebe from unpkg.com); Font Awesome's 1.5 MB icon script is not loaded (the
  theme's stylesheet draws the same icons with the bundled woff2 font, subset by ``fonts.py``);
  the search index is loaded only by the search page.
* Each script and stylesheet is linked once (extensions whose setup runs twice add theirs twice).
* The KaTeX stylesheet is linked only from pages that contain math.
* Font stylesheets are late: KaTeX's ``@font-face`` rules and the CJK web font's are linked with
  ``media="print"`` (fetched without blocking anything, applied to nothing) and switched to
  ``all`` by the head script after the first contentful paint, with a ``<noscript>`` copy for
  readers without JavaScript. Fonts that layout asks for before the first paint hold that paint back
  on a phone; these arrive just after it (KaTeX's formulas and the CJK placeholder keep their
  metrics, so little or nothing moves: tests/test_browser.py).
* Accessibility: the primary sidebar is a landmark; bibliography entries are list items.
* Apparatus: sphinx-proof's English "Proof." becomes 证明, TeX math in BibTeX fields is
  rendered, duplicate element ids (sphinx-proof, sphinx-exercise) get a suffix.

Every HTML file written by this build is recorded in the site state (``common.SiteState``), so
work after the build touches only those files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

from .common import site_state
from .fonts import FONT_CSS, HEAD_SCRIPT_KEY
from .katex import KATEX_CSS, KATEX_FONTS_CSS

_FONTAWESOME_TAG = re.compile(
    r'\s*<script[^>]*src="[^"]*scripts/fontawesome\.js[^"]*"[^>]*></script>'
)
_SEARCH_TAGS = re.compile(
    r'\s*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)"'
    r"></script>"
)
_CHARSET = '<meta charset="utf-8" />'
_THEBE_CONFIG = re.compile(r'\s*<script type="text/x-thebe-config">.*?</script>', re.S)
#: Applies the late stylesheets (``late_stylesheet``) once the browser has reported the first
#: contentful paint. Not at the load event: on a fast connection it can come before the first
#: paint, whose fonts would then hold that paint back. A browser that reports no paint timing
#: applies them at load; one that never reports the paint (a page loaded in a background tab),
#: 3 s after load.
LATE_JS = (
    "(function(){var d=0;function go(){if(d)return;d=1;"
    "var l=document.querySelectorAll('link[data-sgd-late]');"
    "for(var i=0;i<l.length;i++)l[i].media='all'}"
    "var p=window.PerformanceObserver&&PerformanceObserver.supportedEntryTypes&&"
    "PerformanceObserver.supportedEntryTypes.indexOf('paint')>=0;"
    "if(p)try{new PerformanceObserver(function(t,o){var e=t.getEntries();"
    "for(var i=0;i<e.length;i++)if(e[i].name==='first-contentful-paint'){o.disconnect();"
    "setTimeout(go,0)}}).observe({type:'paint',buffered:true})}catch(e){p=0}"
    "addEventListener('load',function(){setTimeout(go,p?3000:0)})})()"
)
_FONT_CSS_TAG = re.compile(
    r'<link rel="stylesheet"(?: type="text/css")? href="([^"]*_static/'
    + re.escape(FONT_CSS)
    + r')" />'
)


def late_stylesheet(href: str) -> str:
    """A stylesheet fetched without blocking the first paint and applied after it by
    ``LATE_JS`` (at once for readers without JavaScript)."""
    return (
        f'<link rel="stylesheet" href="{href}" media="print" data-sgd-late="" />'
        f'<noscript><link rel="stylesheet" href="{href}" /></noscript>'
    )


# Stylesheets that extensions write only after the pages (myst-nb, sphinx-proof, sphinx-exercise
# and fonts.py, at build-finished). Sphinx appends ``?v=<checksum>`` to a link only when the file
# is already in the output folder, so a clean build links them bare and a rebuild with a
# checksum of the previous build's copy: always bare, every build writes the same page.
_LATE_ASSET_VERSION = re.compile(
    r'(href="[^"]*_static/(?:mystnb\.[0-9a-f]+\.css|proof\.css|exercise\.css|sgdbook-fonts\.css))'
    r'\?v=[0-9a-f]+"'
)


def postprocess(html_text: str, pagename: str, context: dict[str, Any]) -> str:
    html_text = _FONTAWESOME_TAG.sub("", html_text)
    html_text = _THEBE_CONFIG.sub("", html_text)
    html_text = _LATE_ASSET_VERSION.sub(r'\1"', html_text)
    html_text = _FONT_CSS_TAG.sub(lambda m: late_stylesheet(m.group(1)), html_text, count=1)
    if pagename != "search":
        # pydata-sphinx-theme loads the whole search index on every page for search-as-you-type,
        # which this book does not use (the search box opens search.html).
        html_text = _SEARCH_TAGS.sub("", html_text)
    # Accessibility (axe-core): the primary sidebar (book title, chapters) is a landmark; docutils
    # marks bibliography entries with a deprecated role inside a role="list".
    html_text = html_text.replace(
        '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">',
        '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar" role="complementary"'
        ' aria-label="全书目录">',
        1,
    )
    html_text = html_text.replace('role="doc-biblioentry"', 'role="listitem"')
    if 'class="katex' in html_text and "katex.min.css" not in html_text:
        href = context["pathto"](KATEX_CSS, 1)
        fonts_href = context["pathto"](KATEX_FONTS_CSS, 1)
        html_text = html_text.replace(
            "</head>",
            f'  <link rel="stylesheet" href="{href}" />\n  {late_stylesheet(fonts_href)}\n</head>',
            1,
        )
    late = 'data-sgd-late=""' in html_text.split("</head>", 1)[0]
    head_script = (LATE_JS + ";" if late else "") + (context.get(HEAD_SCRIPT_KEY) or "")
    if head_script and _CHARSET in html_text:
        # after the charset (which must stay in the first 1024 bytes), before the stylesheets
        # (which would hold an inline script back until they have loaded)
        html_text = html_text.replace(
            _CHARSET, f"{_CHARSET}\n    <script>{head_script}</script>", 1
        )
    return html_text


def _wrap_templates(app: Sphinx) -> None:
    if app.builder.format != "html" or not hasattr(app.builder, "templates"):
        return
    templates = app.builder.templates
    if getattr(templates, "_sgdbook_wrapped", False):
        return
    original = templates.render

    def render(template: str, context: dict[str, Any]) -> str:
        output = original(template, context)
        if template.endswith("page.html") or template in {
            "search.html",
            "genindex.html",
            "py-modindex.html",
            "domainindex.html",
        }:
            output = postprocess(output, context.get("pagename", ""), context)
        return output

    templates.render = render
    templates._sgdbook_wrapped = True


def _asset_key(asset: Any) -> tuple[str, str]:
    return (
        str(getattr(asset, "filename", asset) or ""),
        str(getattr(asset, "attributes", {}).get("body", "")),
    )


def unique(assets: list) -> list:
    """The assets in order, each once (extensions whose setup runs twice add theirs twice)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for asset in assets:
        key = _asset_key(asset)
        if key not in seen:
            seen.add(key)
            kept.append(asset)
    return kept


def _filter_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Drop sphinx-thebe's scripts and styles (thebe would load from unpkg.com) and duplicates."""
    if "script_files" in context:
        context["script_files"] = unique(
            [
                s
                for s in context["script_files"]
                if "thebe" not in str(getattr(s, "filename", "") or "")
                and "THEBE_JS_URL" not in str(getattr(s, "attributes", {}).get("body", ""))
            ]
        )
    if "css_files" in context:
        context["css_files"] = unique(
            [c for c in context["css_files"] if "thebe" not in str(getattr(c, "filename", c))]
        )


def _record_written(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if app.builder.format == "html":
        site_state(app).written.add(Path(app.builder.get_outfilename(pagename)))
        site_state(app).written_pages.add(pagename)


# --------------------------------------------------------------------------------------------
# Apparatus polish (doctrees): Chinese proof label, math in citations, unique element ids
# --------------------------------------------------------------------------------------------
_INLINE_DOLLAR = re.compile(r"\$([^$\n]+?)\$")


def _polish_doctree(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    # sphinx-proof prefixes every proof with the English "Proof. ": make it 证明.
    for admonition in doctree.findall(nodes.admonition):
        if "proof" not in admonition["classes"] or admonition["classes"][1:2] != ["proof"]:
            continue
        for text in admonition.findall(nodes.Text):
            if text.astext().startswith("Proof. "):
                parent = text.parent
                index = parent.index(text)
                parent.remove(text)
                parent.insert(index, nodes.Text("\u3000" + text.astext()[len("Proof. ") :]))
                parent.insert(index, nodes.strong("", "证明"))
            break
    # BibTeX fields may hold TeX math ({$O(1/k^2)$}); pybtex leaves it as text: render it.
    for container in list(doctree.findall(nodes.citation)) + list(doctree.findall(nodes.footnote)):
        for text in list(container.findall(nodes.Text)):
            if "$" not in text.astext() or isinstance(text.parent, (nodes.math, nodes.literal)):
                continue
            pieces = _INLINE_DOLLAR.split(text.astext())
            if len(pieces) == 1:
                continue
            new = [nodes.math(p, p) if i % 2 else nodes.Text(p) for i, p in enumerate(pieces) if p]
            text.parent.replace(text, new)
    # sphinx-proof and sphinx-exercise give every box the same ids ("proof", "proof-content",
    # "solution-content"): duplicate ids on a page break anchors and accessibility checks.
    # (HTML only: the PDF's single doctree holds every page, and LaTeX labels need the real ids.)
    if app.builder.format != "html":
        return
    seen: set[str] = set()
    for node in doctree.findall(nodes.Element):
        ids = node.get("ids") or []
        for i, ident in enumerate(ids):
            if ident in seen:
                n = 2
                while f"{ident}-{n}" in seen:
                    n += 1
                ids[i] = f"{ident}-{n}"
            seen.add(ids[i])


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _wrap_templates)
    app.connect("doctree-resolved", _polish_doctree)
    app.connect("html-page-context", _filter_assets, priority=900)
    app.connect("html-page-context", _record_written)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
