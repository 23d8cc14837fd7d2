"""Interactive explorers for the chapters (issue #17): a slider moves, the algorithm runs again.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``. A chapter writes::

    ```{explorer} gd-quadratic
    Optional MyST text shown when JavaScript is off (e.g. a pointer to the static figure).
    ```

and gets ``<div class="sgdx" data-explorer="gd-quadratic">`` holding that fallback text. The
explorer itself is drawn in the reader's browser by small dependency-free scripts in
``book/_ext/explorers/``: ``sgdx-core.js`` (the numerics, the same update rules as sgdbook;
tests/test_explorers.py runs it in Node.js against sgdbook to 1e-12), ``sgdx.js`` (controls
and SVG drawings) and ``sgdx.css``. They are copied to ``_static/explorers/`` of the built site
and linked **only** from pages that hold an explorer (they are deliberately not under
``book/_static``, whose every ``*.js`` Jupyter Book links from every page). Nothing is loaded
from another host; the pages work from a downloaded copy (``file://``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "explorers"
SCRIPTS = ("sgdx-core.js", "sgdx.js")
STYLES = ("sgdx.css",)
#: The explorers sgdx.js knows, with the accessible name of each.
KINDS = {
    "gd-quadratic": "交互演示：二次函数上的梯度下降（步长与条件数）",
    "lr-threshold": "交互演示：步长跨过稳定性阈值 2/L",
    "sgd-basins": "交互演示：非凸函数上的梯度下降与 SGD",
    "minibatch-noise": "交互演示：小批量梯度的标准差与批量大小",
    "momentum": "交互演示：重球法与 Nesterov 动量",
    "adam": "交互演示：噪声梯度下的 Adam",
    "schedules": "交互演示：学习率计划与线性回归上的最终损失",
}
FALLBACK = "此处是一个交互演示，需要在浏览器中启用 JavaScript。"


class explorer(nodes.General, nodes.Element):
    """The explorer's box; its children are the static fallback."""


def visit_explorer_html(self, node: explorer) -> None:
    kind = node["kind"]
    self.body.append(
        f'<div class="sgdx" id="sgdx-{kind}" data-explorer="{kind}" role="group" '
        f'aria-label="{self.attval(KINDS[kind])}"><div class="sgdx-fallback">'
    )


def depart_explorer_html(self, node: explorer) -> None:
    self.body.append("</div></div>\n")


def _pass(self, node) -> None:  # other builders: the fallback text only
    pass


class ExplorerDirective(SphinxDirective):
    """``{explorer} KIND``: one interactive explorer; the body is the no-JavaScript fallback."""

    required_arguments = 1
    has_content = True
    option_spec: ClassVar[dict] = {
        "class": directives.class_option,
        # labels of the chapter's own build-time figures, shown (as images) when JavaScript is off
        "figure": directives.unchanged_required,
    }

    def run(self) -> list[nodes.Node]:
        kind = self.arguments[0].strip()
        if kind not in KINDS:
            raise self.error(f"unknown explorer {kind!r}; known: {', '.join(sorted(KINDS))}")
        docs = getattr(self.env, "sgdx_docs", None)
        if docs is None:
            docs = self.env.sgdx_docs = {}
        kinds = docs.setdefault(self.env.docname, [])
        if kind in kinds:
            raise self.error(
                f"explorer {kind!r} appears twice on this page (its id must be unique)"
            )
        kinds.append(kind)
        node = explorer(kind=kind, figures=self.options.get("figure", "").split())
        node += nodes.paragraph(text=FALLBACK)
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def _fallback_figures(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Copy the images of the figures named by ``:figure:`` into the explorer's fallback.

    The reader without JavaScript (and the search engine) sees the chapter's own build-time
    figure in the explorer's place; the script hides the fallback when it draws the explorer.
    """
    if app.builder.format != "html":
        return  # the PDF has the figure itself a few paragraphs away
    for box in doctree.findall(explorer):
        for label in box.get("figures", []):
            target = next(
                (n for n in doctree.findall(nodes.Element) if label in n.get("ids", [])), None
            )
            image = None if target is None else next(iter(target.findall(nodes.image)), None)
            if image is None:
                logger.warning(
                    "explorer %s: no figure with an image labelled %r on this page",
                    box["kind"],
                    label,
                    location=box,
                )
                continue
            copy = image.deepcopy()
            copy["ids"] = []
            box += nodes.paragraph("", "", copy)


def _purge(app: Sphinx, env, docname: str) -> None:
    getattr(env, "sgdx_docs", {}).pop(docname, None)


def _merge(app: Sphinx, env, docnames, other) -> None:
    if not hasattr(env, "sgdx_docs"):
        env.sgdx_docs = {}
    env.sgdx_docs.update(
        {d: k for d, k in getattr(other, "sgdx_docs", {}).items() if d in docnames}
    )


def _page_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Link the explorer scripts and styles from the pages that hold one, and only from those."""
    if pagename not in getattr(app.env, "sgdx_docs", {}):
        return
    for css in STYLES:
        app.add_css_file(f"explorers/{css}")
    for js in SCRIPTS:
        app.add_js_file(f"explorers/{js}", defer="defer")


def _copy_assets(app: Sphinx) -> None:
    """Copy the scripts and styles before any page is written.

    Sphinx appends ``?v=<checksum>`` to an asset's link only when the file is already in the
    output folder as the page is written; copied at the end, a clean build's pages would link
    the bare name and an incremental build's the checksummed one.
    """
    if app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "explorers"
    target.mkdir(parents=True, exist_ok=True)
    for name in (*SCRIPTS, *STYLES):
        shutil.copyfile(ASSETS / name, target / name)


def setup(app: Sphinx) -> dict:
    app.add_node(
        explorer,
        html=(visit_explorer_html, depart_explorer_html),
        latex=(_pass, _pass),
        text=(_pass, _pass),
        man=(_pass, _pass),
        texinfo=(_pass, _pass),
    )
    app.add_directive("explorer", ExplorerDirective)
    app.connect("doctree-resolved", _fallback_figures)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("html-page-context", _page_assets)
    app.connect("builder-inited", _copy_assets)
    return {
        "version": "1.0",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
        "env_version": 1,
    }
