"""Local Sphinx extension for the reading experience of the book's HTML site.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``. Everything a reader's browser
loads comes from the site itself (the book is read from networks where CDNs are slow or
blocked), and pages stay lean. One module per concern, each a Sphinx extension with its own
``setup(app)`` (where each piece lives: docs/extensions.md):

========== ==================================================================================
katex      math rendered at build time by the katex npm package, cached between builds
pages      page post-processing (lean, accessible pages), asset de-duplication, apparatus
           polish (证明, math in citations, unique ids); records the pages each build writes
figures    SVG figures: intrinsic size, lazy loading
fonts      the CJK web font (with a placeholder of its metrics) and the Font Awesome icons,
           subset to what the site uses
speed      phones: head scripts deferred, the theme's scroll-box check only near the viewport
search     Chinese search: jieba plus every user-dictionary term
api        the API reference page, one section per public sgdbook module
footer     the build note (device, torch, commit, date) in every page's footer
downloads  each notebook chapter as ``.ipynb`` (with an install note) next to its ``.md``;
           the ``sgdbook`` wheel and pinned requirements; the download-menu helper
common     paths, the per-build state (``SiteState``) and the caches in ``book/_build``
========== ==================================================================================
"""

from __future__ import annotations

from sphinx.application import Sphinx

from .common import forget_state

CONCERNS = (
    "katex",
    "pages",
    "figures",
    "fonts",
    "speed",
    "search",
    "api",
    "footer",
    "downloads",
)


def _forget_state(app: Sphinx, exception: Exception | None) -> None:
    forget_state(app)


def setup(app: Sphinx) -> dict:
    for name in CONCERNS:
        app.setup_extension(f"{__name__}.{name}")
    app.connect("build-finished", _forget_state, priority=999)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
