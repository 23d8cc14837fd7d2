"""Chinese typography of the book's prose: no ASCII double quotes next to Chinese text.

In Chinese prose the quotation marks are “ and ”; an ASCII ``"`` there renders as two closing
quotes with the book's fonts. This test scans the prose of every chapter and appendix (outside
code cells, math and inline code; captions and alt text of figures are prose and are checked)
and fails on an ASCII ``"`` whose neighbouring character is Chinese (a CJK ideograph or CJK
punctuation).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
PAGES = sorted(BOOK.glob("*.md")) + sorted((BOOK / "appendix").glob("*.md"))

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_FIGURE_TEXT = re.compile(r"^:\s*(alt|caption):\s*(.*)$")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, prose) of a MyST page: code cells and fenced code removed, except figure
    captions and alt text in a code cell's options; math and inline code blanked out."""
    lines = text.split("\n")
    out: list[tuple[int, str]] = []
    i = 0
    if lines and lines[0].strip() == "---":  # front matter
        i = lines.index("---", 1) + 1 if "---" in lines[1:] else 0
    fence = None  # the opening fence of a code block we are in
    prose_fences: list[str] = []  # open directives whose body is prose
    for n in range(i, len(lines)):
        line = lines[n]
        stripped = line.strip()
        m = re.match(r"^(`{3,}|~{3,})(.*)$", stripped)
        if (
            fence is None
            and m
            and not m.group(2).strip()
            and prose_fences
            and m.group(1) == prose_fences[-1]
        ):
            prose_fences.pop()  # the end of a prose directive
            continue
        if fence is None and m:
            info = m.group(2).strip()
            # directives with prose inside ({prf:...}, {exercise}, {note}, ...) stay prose;
            # code cells, {math} blocks and plain code blocks do not
            if not info.startswith("{") or info.startswith(("{code-cell}", "{math}", "{code}")):
                fence = m.group(1)
            else:
                prose_fences.append(m.group(1))
            continue
        if fence is not None:
            if stripped.startswith(fence) and stripped.strip("`~") == "":
                fence = None
                continue
            fig = re.match(r"^:\s+(alt|caption):\s*(.*)$", line)
            if fig:
                out.append((n + 1, fig.group(2)))
            continue
        out.append((n + 1, line))
    text = "\n".join(kept for _, kept in out)
    # blank out display math (may span lines), inline math and inline code, keeping line numbers
    text = _DISPLAY_MATH.sub(lambda mm: "\n" * mm.group(0).count("\n"), text)
    cleaned = []
    for (num, _), line in zip(out, text.split("\n")):
        line = _INLINE_CODE.sub(" ", line)
        line = _INLINE_MATH.sub(" ", line)
        cleaned.append((num, line))
    return cleaned


def ascii_quotes_next_to_chinese(text: str) -> list[tuple[int, str]]:
    """(line number, excerpt) of every ASCII ``"`` with a Chinese neighbour in the prose of ``text``."""
    found = []
    for num, line in prose_lines(text):
        for m in re.finditer('"', line):
            before = line[: m.start()].rstrip()[-1:]
            after = line[m.end() :].lstrip()[:1]
            if _CJK.match(before or " ") or _CJK.match(after or " "):
                found.append((num, line[max(0, m.start() - 12) : m.end() + 12]))
    return found


def test_detector_on_examples():
    assert ascii_quotes_next_to_chinese('这是"窗口"的意思') != []
    assert ascii_quotes_next_to_chinese("这是“窗口”的意思") == []
    assert ascii_quotes_next_to_chinese('代码 `print("中文")` 与数学 $"a"$ 不算') == []
    assert ascii_quotes_next_to_chinese('```{code-cell} ipython3\nprint("中文")\n```\n') == []
    assert (
        ascii_quotes_next_to_chinese(
            '```{code-cell} ipython3\n:mystnb:\n:  figure:\n:    caption: 得到"满步长"\nx = 1\n```\n'
        )
        != []
    )
    assert ascii_quotes_next_to_chinese('````{prf:lemma} 引理\n它的"窗口"\n````\n') != []
    assert ascii_quotes_next_to_chinese('English "quotes" are fine.') == []
    assert ascii_quotes_next_to_chinese('````{prf:lemma} 引理\n正文\n````\n\n之后的"窗口"') != []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(BOOK)))
def test_no_ascii_double_quotes_in_chinese_prose(page):
    found = ascii_quotes_next_to_chinese(page.read_text(encoding="utf-8"))
    assert not found, f"{page.name}: ASCII double quotes in Chinese prose (use “ ”):\n" + "\n".join(
        f"  line {n}: …{s}…" for n, s in found
    )


# ---------------------------------------------------------------------------------------------
# Pasted numbers ({glue:text}): a real minus sign and ×10ⁿ in the rendered prose
# ---------------------------------------------------------------------------------------------
def _typography_extension():
    import importlib.util

    path = BOOK / "_ext" / "sgdbook_typography.py"
    spec = importlib.util.spec_from_file_location("sgdbook_typography_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-0.503", "\u22120.503"),
        ("0.50", "0.50"),
        ("+3", "+3"),
        ("1.2e-07", "1.2×10⁻⁷"),
        ("-6.2e-18", "\u22126.2×10⁻¹⁸"),
        ("1.18e+04", "1.18×10⁴"),
        ("2E10", "2×10¹⁰"),
        ("1.5e+00", "1.5"),
        ("-12%", "\u221212%"),
        ("12,345", "12,345"),
        ("nan", "nan"),
        ("-inf", "-inf"),
        ("3-5", "3-5"),
        ("SGD-1", "SGD-1"),
        ("x = -1", "x = -1"),
    ],
)
def test_pasted_number_is_typeset(text, expected):
    assert _typography_extension().typeset_number(text) == expected


def test_typeset_number_refuses_a_non_string():
    with pytest.raises(TypeError, match="text"):
        _typography_extension().typeset_number(-0.5)


@pytest.mark.book
def test_built_prose_has_no_hyphen_minus_or_e_notation_in_pasted_numbers(built_book):
    # every number pasted into the prose of the built book is typeset (see sgdbook_typography)
    bad = []
    for page in sorted(built_book.glob("*.html")):
        for text in re.findall(
            r'<span class="pasted-text">([^<]*)</span>', page.read_text("utf-8")
        ):
            if re.fullmatch(r"[+-]?[\d.,]+(?:[eE][+-]?\d+)?%?", text) and (
                "-" in text or "e" in text.lower()
            ):
                bad.append((page.name, text))
    assert not bad, bad[:20]


_TEX_ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)
_TEXT_COMMAND = re.compile(r"\\(?:text|textbf|textit|mbox|mathrm|operatorname\*?)\s*\{[^{}]*\}")
_CJK_IDEOGRAPH = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.mark.book
def test_no_chinese_prose_swallowed_by_math(built_book):
    # A `$$` that MyST does not close where the author meant turns the following Chinese prose
    # into a formula (KaTeX draws it with a fallback font, without spaces; the PDF loses it).
    # Chinese inside a formula is legitimate only within \text{…} and friends.
    bad = []
    for page in sorted(built_book.rglob("*.html")):
        for tex in _TEX_ANNOTATION.findall(page.read_text("utf-8")):
            if _CJK_IDEOGRAPH.search(_TEXT_COMMAND.sub("", tex)):
                bad.append((page.relative_to(built_book).as_posix(), tex.strip()[:60]))
    assert not bad, bad


# ---------------------------------------------------------------------------------------------
# One term per concept, one symbol for the optimum: the glossary and the notation table decide
# ---------------------------------------------------------------------------------------------
# variant -> the book's term (book/appendix/glossary.md) or symbol (the 记号 table of index.md)
TERMINOLOGY = {
    "洗牌": "随机重排",
    "吸引域": "吸引盆",
    "噪声平台": "噪声下限",
    "批大小": "批量大小",
    "局部最小点": "局部极小点",
    "全局最小点": "全局极小点",
    "局部最小值点": "局部极小点",
    r"x^\star": r"x^\ast",
    r"f^\star": r"f^\ast",
}
_VARIANT = {
    variant: re.compile(("(?<!量)" if variant == "批大小" else "") + re.escape(variant))
    for variant in TERMINOLOGY
}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(BOOK).as_posix())
def test_terminology_follows_the_glossary(page):
    text = page.read_text(encoding="utf-8")
    found = [
        (n + 1, variant, TERMINOLOGY[variant])
        for n, line in enumerate(text.split("\n"))
        for variant, pattern in _VARIANT.items()
        if pattern.search(line)
    ]
    assert not found, "use the book's term: " + "; ".join(
        f"line {n}: {v} → {t}" for n, v, t in found[:20]
    )


def test_terminology_targets_are_the_glossary_terms():
    glossary = (BOOK / "appendix" / "glossary.md").read_text(encoding="utf-8")
    terms = set(re.findall(r"^(\S[^\n]*)\n  \S", glossary, re.M))
    for target in ("随机重排", "吸引盆", "噪声下限", "批量大小"):
        assert target in terms, f"{target} is not a glossary term"
