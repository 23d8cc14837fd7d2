"""The book as built: a strict build of the working tree, and checks of the HTML it produced.

Also checks, on tiny books that reuse the real configuration, that the build really is strict:
a cell that raises, an unresolved reference and stray stderr each make it fail.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import BOOK, REPO, run_build, toc_docnames

pytestmark = pytest.mark.book

CHAPTERS = [d for d in toc_docnames() if d != "index" and not d.startswith("appendix/")]

NB_HEADER = textwrap.dedent("""\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
        format_version: 0.13
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---
    """)


class _Collect(HTMLParser):
    """Collect the <html lang>, every <img> and the text outside <script>/<style>."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.images: list[dict[str, str | None]] = []
        self.classes: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "img":
            self.images.append(attrs)
        if attrs.get("class"):
            self.classes.append(attrs["class"])
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(path: Path) -> _Collect:
    collector = _Collect()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


# --------------------------------------------------------------------------------------------
# The real book
# --------------------------------------------------------------------------------------------
def test_every_toc_page_is_built(built_book):
    missing = [d for d in toc_docnames() if not (built_book / f"{d}.html").is_file()]
    assert not missing, f"pages in _toc.yml without HTML: {missing}"


@pytest.mark.parametrize("docname", toc_docnames())
def test_page_language_is_simplified_chinese(built_book, docname):
    page = parse(built_book / f"{docname}.html")
    assert page.lang == "zh-CN", f"{docname}.html: <html lang={page.lang!r}>"
    text = "".join(page.text)
    assert "搜索" in text or "搜索" in (built_book / f"{docname}.html").read_text(
        encoding="utf-8"
    ), f"{docname}.html: no Chinese theme strings (search box)"


@pytest.mark.parametrize("docname", toc_docnames())
def test_no_cell_error_or_stderr_output(built_book, docname):
    html = (built_book / f"{docname}.html").read_text(encoding="utf-8")
    for marker in ("output traceback", "output stderr", "Traceback (most recent call last)"):
        assert marker not in html, f"{docname}.html contains a cell error output ({marker!r})"


@pytest.mark.parametrize("docname", toc_docnames())
def test_every_image_exists_and_has_alt_text(built_book, docname):
    page_file = built_book / f"{docname}.html"
    for img in parse(page_file).images:
        src = img.get("src") or ""
        assert src, f"{docname}.html: <img> without src"
        if src.startswith("data:"):
            continue
        assert not re.match(r"^[a-z]+://", src), f"{docname}.html: image from another host: {src}"
        target = (page_file.parent / src.split("#")[0].split("?")[0]).resolve()
        assert target.is_file(), f"{docname}.html: image {src} does not exist"
        if "logo" not in (img.get("class") or ""):
            assert (img.get("alt") or "").strip(), f"{docname}.html: image {src} has no alt text"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapters_have_figures(built_book, docname):
    images = [
        i
        for i in parse(built_book / f"{docname}.html").images
        if "logo" not in (i.get("class") or "")
    ]
    assert images, f"{docname}.html has no figure"


def _search_index(html: Path) -> dict:
    raw = (html / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(raw[raw.index("(") + 1 : raw.rindex(")")])


def _docs_for(index: dict, term: str) -> set[str]:
    found: set[str] = set()
    for table in ("terms", "titleterms"):
        hits = index[table].get(term, [])
        hits = hits if isinstance(hits, list) else [hits]
        found.update(index["docnames"][i] for i in hits)
    return found


@pytest.mark.parametrize(
    "term", ["学习率", "梯度下降", "随机梯度下降", "小批量", "动量法", "学习率衰减"]
)
def test_search_index_finds_chinese_terms(built_book, term):
    index = _search_index(built_book)
    found = _docs_for(index, term)
    expected = {
        d
        for d in toc_docnames()
        if term in (BOOK / f"{d}.md").read_text(encoding="utf-8").split("---", 2)[-1]
    }
    assert found, f"searching {term!r} finds no page"
    assert expected <= found, f"searching {term!r} misses pages that contain it: {expected - found}"


# --------------------------------------------------------------------------------------------
# Strictness, on tiny books with the real configuration and extensions
# --------------------------------------------------------------------------------------------
def _tiny_book(tmp_path: Path, page: str) -> Path:
    """A copy of the repository's layout with a two-page book: the preface and ``page``."""
    root = tmp_path / "repo"
    book = root / "book"
    book.mkdir(parents=True)
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: index\nchapters:\n  - file: page\n", encoding="utf-8"
    )
    for name in ("_config.yml", "_toc.yml"):
        (book / name).symlink_to(Path("..") / name)
    for item in BOOK.iterdir():
        if item.name.startswith("_") and item.name not in ("_build", "_config.yml", "_toc.yml"):
            (book / item.name).symlink_to(item)
    for item in BOOK.glob("*.bib"):
        (book / item.name).symlink_to(item)
    for name in ("sgdbook", "requirements", "node_modules"):
        if (REPO / name).exists():
            (root / name).symlink_to(REPO / name)
    (book / "index.md").write_text("(preface)=\n# 前言\n\n测试用的小书。\n", encoding="utf-8")
    (book / "page.md").write_text(NB_HEADER + "\n" + textwrap.dedent(page), encoding="utf-8")
    return book


GOOD_PAGE = """\
    (good)=
    # 正常的一页

    见 {ref}`preface`。

    ```{code-cell} ipython3
    print(1 + 1)
    ```
    """


def test_tiny_book_builds(tmp_path):
    book = _tiny_book(tmp_path, GOOD_PAGE)
    result = run_build(book, cwd=book.parent, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert (book / "_build" / "html" / "page.html").is_file()


@pytest.mark.parametrize(
    "page, message",
    [
        ("# 坏单元格\n\n```{code-cell} ipython3\n1 / 0\n```\n", "ZeroDivisionError"),
        (
            "# 坏引用\n\n见 {ref}`no-such-label`。\n\n```{code-cell} ipython3\nprint(1)\n```\n",
            "no-such-label",
        ),
        (
            "# 杂散 stderr\n\n```{code-cell} ipython3\nimport sys\nprint('oops', file=sys.stderr)\n```\n",
            "stderr",
        ),
    ],
    ids=["cell-error", "broken-reference", "stray-stderr"],
)
def test_strict_build_fails(tmp_path, page, message):
    book = _tiny_book(tmp_path, page)
    result = run_build(book, cwd=book.parent, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"build passed although the page is broken:\n{output[-3000:]}"
    assert message in output, (
        f"the failure does not name the cause ({message!r}):\n{output[-5000:]}"
    )
