"""The PDF edition (``make pdf``, book/_ext/sgdbook_pdf.py): its pieces, then the PDF itself.

The ``pdf``-marked tests build the whole book with XeLaTeX once (a few minutes) and read the PDF
with poppler's ``pdffonts``/``pdftotext``: fonts embedded, Chinese chapter titles numbered as on
the site, theorems and solutions present, no unresolved reference ("??") left.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXT = REPO / "book" / "_ext"
LATEX = REPO / "book" / "_build" / "latex"


def _load(name: str):
    # as Sphinx loads a local extension: book/_ext on sys.path (for sgdbook_site)
    if str(EXT) not in sys.path:
        sys.path.insert(0, str(EXT))
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", EXT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pdf_ext():
    return _load("sgdbook_pdf")


# ---------------------------------------------------------------------------------------------
# The pieces (no TeX needed)
# ---------------------------------------------------------------------------------------------
def test_latex_macros_are_the_katex_macros(pdf_ext):
    # one macro table for the HTML (KaTeX) and the PDF (LaTeX): the same names, the same arity
    site = EXT / "sgdbook_site"
    source = (
        "\n".join(p.read_text("utf-8") for p in sorted(site.glob("*.py")))
        if site.is_dir()
        else (EXT / "sgdbook_site.py").read_text("utf-8")
    )
    katex = dict(re.findall(r'r"(\\\w+)":\s*r"([^"]*)"', source))
    latex = dict(
        re.findall(
            r"\\providecommand\{(\\\w+)\}(?:\[\d\])?\{(.*)\}\s*$", pdf_ext.LATEX_MACROS, re.M
        )
    )
    assert set(katex) == set(latex) and katex
    for name, body in katex.items():
        assert ("#1" in body) == ("#1" in latex[name]), name


def test_log_failures_find_what_spoils_a_pdf(pdf_ext):
    log = "\n".join(
        [
            "Missing character: There is no 左 (U+5DE6) in font Latin Modern Roman 10 Regular/OT:script=latn;!",
            "LaTeX Warning: Reference `sgd:thm-x' on page 3 undefined on input line 12.",
            "LaTeX Warning: Citation `bottou2018' on page 4 undefined on input line 40.",
            "LaTeX Warning: There were undefined references.",
            "LaTeX Font Warning: Font shape `TU/NotoSerifCJKSC(0)/m/it' undefined",  # substituted: fine
            "Overfull \\hbox (1.2pt too wide) in paragraph at lines 10--11",  # cosmetic: fine
        ]
    )
    found = pdf_ext.log_failures(log)
    assert len(found) == 4 and "左" in found[0] and "bottou2018" in found[2]
    assert pdf_ext.log_failures("Output written on sgdbook.pdf (358 pages).") == []


def test_check_pdf_refuses_a_missing_pdf_and_a_dirty_log(pdf_ext, tmp_path):
    (tmp_path / "book.tex").write_text("x")
    (tmp_path / "book.log").write_text("Output written on book.pdf.\n")
    with pytest.raises(pdf_ext.PdfError, match="no PDF"):
        pdf_ext.check_pdf(tmp_path)
    (tmp_path / "book.pdf").write_bytes(b"%PDF-1.5")
    assert pdf_ext.check_pdf(tmp_path) == tmp_path / "book.pdf"
    (tmp_path / "book.log").write_text("Missing character: There is no β (U+03B2) in font X!\n")
    with pytest.raises(pdf_ext.PdfError, match="U\\+03B2"):
        pdf_ext.check_pdf(tmp_path)
    assert pdf_ext.main(["check", str(tmp_path)]) == 1
    assert pdf_ext.main(["nonsense"]) == 2


def test_root_page_sections_become_unnumbered_headings(pdf_ext):
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    doc = new_document("t", get_default_settings(Parser))
    outer = nodes.section(ids=["preface"])
    outer += nodes.title("", "前言")
    inner = nodes.section(ids=["contents"])
    inner += nodes.title("", "本书内容")
    deeper = nodes.section(ids=["notation"])
    deeper += nodes.title("", "记号")
    deeper += nodes.paragraph("", "x")
    inner += deeper
    outer += inner
    doc += outer
    pdf_ext._flatten_sections(inner)
    rubrics = list(doc.findall(nodes.rubric))
    assert [r.astext() for r in rubrics] == ["本书内容", "记号"]
    assert rubrics[0]["ids"] == ["contents"] and len(list(doc.findall(nodes.section))) == 1
    assert doc.next_node(nodes.paragraph).astext() == "x"


def test_pasted_numbers_become_math_in_the_pdf():
    typography = _load("sgdbook_typography")
    assert typography.latex_number("-1.2e-07") == r"-1.2\times 10^{-7}"
    assert typography.latex_number("3.0e+04") == r"3.0\times 10^{4}"
    assert typography.latex_number("1.5e+00") == "1.5"
    assert typography.latex_number("12%") == r"12\%"
    assert typography.latex_number("12,345") == "12{,}345"
    assert typography.latex_number("SGD") is None


# ---------------------------------------------------------------------------------------------
# The PDF itself
# ---------------------------------------------------------------------------------------------
def _chapter_titles() -> list[str]:
    toc = (REPO / "_toc.yml").read_text("utf-8")
    titles = []
    for name in re.findall(r"- file: (\S+)", toc):
        text = (REPO / "book" / f"{name}.md").read_text("utf-8")
        titles.append(re.search(r"^# (.+)$", text, re.M).group(1).strip())
    return titles


@pytest.fixture(scope="module")
def built_pdf() -> Path:
    missing = [
        t
        for t in ("xelatex", "latexmk", "rsvg-convert", "pdffonts", "pdftotext")
        if not shutil.which(t)
    ]
    if missing:
        pytest.fail(
            f"the PDF tests need {', '.join(missing)} (SGDBOOK_PDF=1 bash tools/setup-env.sh)"
        )
    venv = Path(sys.executable).parent.parent
    result = subprocess.run(
        ["make", "pdf", f"VENV={venv}"], cwd=REPO, capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.fail(
            f"make pdf failed (exit {result.returncode}):\n"
            f"{result.stdout[-15000:]}\n{result.stderr[-5000:]}"
        )
    pdf = LATEX / "sgdbook.pdf"
    assert pdf.is_file() and f"PDF: {pdf}" in result.stdout
    return pdf


@pytest.fixture(scope="module")
def pdf_text(built_pdf) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(built_pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.pdf
def test_every_font_is_embedded_and_chinese_has_cjk_fonts(built_pdf):
    out = subprocess.run(
        ["pdffonts", str(built_pdf)], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows and all(row[-5] == "yes" for row in rows), out  # the "emb" column
    names = " ".join(row[0] for row in rows)
    assert "NotoSerifCJK" in names and "NotoSansCJK" in names, names


@pytest.mark.pdf
def test_page_count_is_sane(built_pdf):
    info = subprocess.run(
        ["pdfinfo", str(built_pdf)], capture_output=True, text=True, check=True
    ).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 150 <= pages <= 2000, pages


@pytest.mark.pdf
def test_chapters_numbered_as_on_the_site_and_appendices_lettered(pdf_text):
    titles = _chapter_titles()
    chapters, appendices = titles[:6], titles[6:]
    assert re.search(r"^\s*前言\s+\d+\s*$", pdf_text, re.M), (
        "the preface is unnumbered front matter"
    )
    for number, title in enumerate(chapters, start=1):
        assert re.search(rf"^\s*{number} {re.escape(title)}\s", pdf_text, re.M), title
    for letter, title in zip("ABC", appendices):
        assert re.search(rf"^\s*{letter} {re.escape(title)}\s", pdf_text, re.M), title


@pytest.mark.pdf
def test_theorems_exercises_and_solutions_are_in_the_pdf(pdf_text):
    assert len(re.findall(r"定理 \d+\.\d+", pdf_text)) >= 20
    # the boxes are named in Chinese (sphinx-proof writes English names into LaTeX); English
    # names elsewhere ("Theorem 4.6 of Bottou et al." in a docstring) are citations, not boxes
    english = re.compile(
        r"^\s*(?:(?:Theorem|Definition|Lemma|Algorithm|Remark|Corollary)\s+\d+(?:\.\d+)*\s*(?:\(|$)|Proof\b)",
        re.M,
    )
    assert not english.findall(pdf_text) and "Proof Index" not in pdf_text
    assert len(re.findall(r"练习 \d+\.\d+", pdf_text)) >= 20
    assert pdf_text.count("解答") >= 20  # solutions printed, not folded away


@pytest.mark.pdf
def test_no_unresolved_reference_or_escape_code(pdf_text):
    assert "??" not in pdf_text
    assert "\x1b[" not in pdf_text
