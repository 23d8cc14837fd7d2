"""The PDF edition: what the LaTeX builder needs beyond Sphinx's defaults (``make pdf``).

Active only for the LaTeX builder (``jupyter-book build book --builder pdflatex``); the HTML
build is untouched. It

- sets the fonts for XeLaTeX: Noto Serif/Sans CJK SC for Chinese (Debian's ``fonts-noto-cjk``),
  Latin Modern for Latin text (TeX Live), DejaVu Sans Mono for code (``fonts-dejavu-core``: it has
  the Greek letters and math symbols that code comments and outputs use);
- defines the book's math macros (the same table the HTML's KaTeX uses) as LaTeX commands;
- has myst-nb take each figure's SVG output (the book's figures are SVG) and converts it to a
  vector PDF with ``rsvg-convert`` (Debian's ``librsvg2-bin``);
- keeps the build strict after Sphinx is done: once ``latexmk`` has run, the XeLaTeX log is read,
  and a missing glyph, an undefined reference or citation, or a missing PDF fails the build with
  the offending lines.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import ClassVar

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import SphinxError
from sphinx.transforms.post_transforms.images import ImageConverter
from sphinx.util import logging

from sgdbook_site.downloads import add_download_button

logger = logging.getLogger(__name__)

# The math macros of every formula of the book, in LaTeX (the KaTeX table of the HTML build is
# sgdbook_site's DEFAULT_MACROS; tests/test_pdf.py checks that the two define the same names).
LATEX_MACROS = r"""
\providecommand{\R}{\mathbb{R}}
\providecommand{\E}{\mathbb{E}}
\providecommand{\Var}{\operatorname{Var}}
\providecommand{\argmin}{\operatorname*{arg\,min}}
\providecommand{\argmax}{\operatorname*{arg\,max}}
\providecommand{\norm}[1]{\left\lVert #1 \right\rVert}
"""

FONTS = r"""
\setmainfont{Latin Modern Roman}
\setsansfont{Latin Modern Sans}
\setmonofont{DejaVu Sans Mono}[Scale=MatchLowercase]
\setCJKmainfont{Noto Serif CJK SC}[BoldFont={Noto Serif CJK SC Bold}]
\setCJKsansfont{Noto Sans CJK SC}[BoldFont={Noto Sans CJK SC Bold}]
\setCJKmonofont{Noto Sans Mono CJK SC}
\xeCJKsetup{CJKecglue={\hskip 0.25em plus 0.08em minus 0.05em}}
% Greek letters and math symbols typed in prose (outside formulas) are drawn by the CJK font,
% which has them; Latin Modern has neither
\xeCJKDeclareCharClass{CJK}{"0391 -> "03C9, "2190 -> "21FF, "2200 -> "22FF}
"""

PREAMBLE = r"""
\usepackage{amsmath,amssymb}
\usepackage{mathtools}
% long formulas and code may not run into the margin silently
\sloppy
"""

# The LaTeX log's lines that make the PDF wrong: they fail the build.
_LOG_FAILURES = [
    re.compile(r"^Missing character: There is no .*$", re.M),
    re.compile(r"^LaTeX Warning: (?:Reference|Citation|Hyper reference) .* undefined.*$", re.M),
    re.compile(r"^LaTeX Warning: There were undefined references\.$", re.M),
]


class PdfError(SphinxError):
    category = "sgdbook pdf"


class SvgToPdf(ImageConverter):
    """Convert the book's SVG figures to vector PDF for XeLaTeX with rsvg-convert."""

    conversion_rules: ClassVar[list[tuple[str, str]]] = [("image/svg+xml", "application/pdf")]
    default_priority = 200

    def is_available(self) -> bool:
        return shutil.which("rsvg-convert") is not None

    def convert(self, _from: str, _to: str) -> bool:
        result = subprocess.run(
            ["rsvg-convert", "-f", "pdf", "-o", _to, _from], capture_output=True, text=True
        )
        if result.returncode != 0:
            raise PdfError(f"rsvg-convert could not convert {_from}: {result.stderr.strip()}")
        return True


def log_failures(log: str) -> list[str]:
    """The lines of a XeLaTeX log that make the PDF wrong (missing glyphs, undefined refs)."""
    found: list[str] = []
    for pattern in _LOG_FAILURES:
        found.extend(m.group(0) for m in pattern.finditer(log))
    return found


def _configure(app: Sphinx, config) -> None:
    elements = dict(config.latex_elements or {})
    elements.setdefault("fontpkg", FONTS)
    elements["preamble"] = PREAMBLE + LATEX_MACROS + elements.get("preamble", "")
    elements.setdefault("papersize", "a4paper")
    elements.setdefault("pointsize", "11pt")
    elements.setdefault("figure_align", "H")
    elements.setdefault("extraclassoptions", "openany,oneside")
    # no general index: the glossary appendix is the book's index of terms
    elements["makeindex"] = ""
    elements["printindex"] = ""
    config.latex_use_xindy = False
    config.latex_domain_indices = False  # sphinx-proof's English "Proof Index" page
    config.latex_elements = elements
    config.latex_engine = "xelatex"
    # the figures are SVG outputs: the LaTeX builder takes them (converted by SvgToPdf)
    overrides = list(config.nb_mime_priority_overrides or [])
    overrides.append(("latex", "image/svg+xml", 5))
    config.nb_mime_priority_overrides = overrides


def _builder_inited(app: Sphinx) -> None:
    if app.builder.name != "latex":
        return
    missing = [
        tool for tool in ("xelatex", "latexmk", "rsvg-convert") if shutil.which(tool) is None
    ]
    if missing:
        raise PdfError(
            "the PDF needs "
            + ", ".join(missing)
            + " (Debian: texlive-xetex texlive-lang-chinese latexmk librsvg2-bin; "
            "`make pdf` installs them)"
        )


def _raw(tex: str) -> nodes.raw:
    return nodes.raw(tex, tex, format="latex")


def _flatten_sections(section: nodes.section) -> None:
    """Turn a section and its subsections into unnumbered headings (rubrics) in place."""
    for sub in list(section.children):
        if isinstance(sub, nodes.section):
            _flatten_sections(sub)
    title = section.next_node(nodes.title)
    heading = nodes.rubric(title.astext(), "", *title.children, ids=list(section["ids"]))
    title.parent.remove(title)
    section.replace_self([heading, *section.children])


def _latex_structure(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """The book's shape in the PDF (the LaTeX builder resolves one doctree holding every page).

    The preface (the root page) is unnumbered front matter, so chapter 1 is 梯度下降 as on the
    site; the appendix pages are lettered (\\appendix); raw HTML (widgets, icons) is dropped.
    """
    if app.builder.name != "latex":
        return
    for node in list(doctree.findall(nodes.raw)):
        if "html" in node.get("format", "").split():
            node.parent.remove(node)
    if docname != app.config.root_doc:
        return
    from sphinx import addnodes

    top = doctree.next_node(nodes.section)
    if top is None:
        return
    title = top.next_node(nodes.title)
    for child in list(top.children):
        if isinstance(child, nodes.section) and child.next_node(addnodes.start_of_file) is None:
            _flatten_sections(child)
    preface = title.astext()
    top.insert(
        top.index(title) + 1,
        _raw(
            "\\chapter*{%s}\\addcontentsline{toc}{chapter}{%s}\\markboth{%s}{%s}\n"
            % ((preface,) * 4)
        ),
    )
    for start in doctree.findall(addnodes.start_of_file):
        if start["docname"].startswith("appendix/"):
            start.parent.insert(start.parent.index(start), _raw("\\appendix\n"))
            break


def check_pdf(outdir: Path) -> Path:
    """After latexmk: the PDF exists and its log has no missing glyph or undefined reference."""
    tex = sorted(p for p in outdir.glob("*.tex") if (outdir / (p.stem + ".log")).is_file())
    if not tex:
        raise PdfError(f"no LaTeX run found in {outdir}")
    logs = [outdir / (p.stem + ".log") for p in tex]
    pdfs = [outdir / (p.stem + ".pdf") for p in tex if (outdir / (p.stem + ".pdf")).is_file()]
    if len(pdfs) != len(tex):
        raise PdfError(f"no PDF was written in {outdir}")
    problems = []
    for log in logs:
        problems += [
            f"{log.name}: {line}" for line in log_failures(log.read_text("utf-8", "replace"))
        ]
    if problems:
        raise PdfError("the PDF is not clean:\n  " + "\n  ".join(problems[:40]))
    return pdfs[0]


def main(argv: list[str] | None = None) -> int:
    """``python book/_ext/sgdbook_pdf.py check DIR``: run after latexmk (``make pdf`` does)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "check":
        print("usage: sgdbook_pdf.py check <latex output folder>", file=sys.stderr)
        return 2
    try:
        pdf = check_pdf(Path(args[1]))
    except PdfError as exc:
        print(f"PDF check failed: {exc}", file=sys.stderr)
        return 1
    print(f"PDF: {pdf.resolve()}")
    return 0


def _depart_proof_latex(numbered: bool):
    """sphinx-proof's LaTeX departs, with the box's name translated as in the HTML (定理, 证明).

    sphinx-proof 0.4 writes ``realtype.title()`` untranslated into LaTeX ("Theorem 2.2") while
    its HTML goes through its message catalogue; this is its code with the translation added.
    """
    from sphinx_proof import nodes as proof

    def depart(self, node) -> None:
        name = proof._(node.attributes.get("realtype", "").title())
        if numbered:
            name += " " + proof.get_node_number(self, node, node.attributes.get("countertype", ""))
        index = proof.list_rindex(self.body, proof.latex_admonition_start) + 2
        self.body.insert(index, name)
        self.body.append(proof.latex_admonition_end)

    return depart


def _translate_proofs(app: Sphinx) -> None:
    from sphinx_proof import nodes as proof

    depart = _depart_proof_latex(numbered=True)
    for node_class in set(proof.NODE_TYPES.values()):
        app.registry.add_translation_handlers(
            node_class, latex=(proof.visit_enumerable_node, depart)
        )
    app.registry.add_translation_handlers(
        proof.unenumerable_node,
        latex=(proof.visit_unenumerable_node, _depart_proof_latex(numbered=False)),
    )


PDF_NAME = "sgdbook.pdf"


def _book_pdf(app: Sphinx) -> Path:
    """Where ``make pdf`` leaves the PDF (next to the HTML output, in book/_build/latex)."""
    return Path(app.outdir).parent / "latex" / PDF_NAME


def _link_pdf(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Every page's download menu offers the whole book's PDF, when ``make pdf`` has built it."""
    if app.builder.format != "html" or not _book_pdf(app).is_file():
        return
    add_download_button(
        context,
        path=PDF_NAME,
        text="全书 PDF",
        tooltip="下载全书的 PDF 版（XeLaTeX 排版）",
        icon="fas fa-file-pdf",
        label="download-book-pdf-button",
    )


def _copy_pdf(app: Sphinx, exception) -> None:
    if exception is None and app.builder.format == "html" and _book_pdf(app).is_file():
        shutil.copy2(_book_pdf(app), Path(app.outdir) / PDF_NAME)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _link_pdf, priority=502)  # after the theme's buttons (501)
    app.connect("build-finished", _copy_pdf)
    app.setup_extension("sphinx_proof")
    _translate_proofs(app)
    app.connect("config-inited", _configure, priority=900)
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-resolved", _latex_structure)
    app.add_post_transform(SvgToPdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


if __name__ == "__main__":
    raise SystemExit(main())
