"""Tests of the package map in sgdbook/__init__.py (MODULE_GROUPS) and of the module docstrings."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import sgdbook

PACKAGE = Path(sgdbook.__file__).resolve().parent
BOOK = PACKAGE.parent / "book"


def public_modules() -> set[str]:
    """Every non-underscore ``.py`` file or package directly under sgdbook/."""
    found = set()
    for path in PACKAGE.iterdir():
        if path.name.startswith("_"):
            continue
        if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").is_file()):
            found.add(path.stem)
    return found


def test_every_public_module_is_in_exactly_one_group():
    listed = Counter(name for _, names in sgdbook.MODULE_GROUPS for name in names)
    assert [n for n, k in listed.items() if k > 1] == []  # no module in two groups
    assert set(listed) == public_modules()  # none missing, none that does not exist


def test_group_titles_are_chinese_and_distinct():
    titles = [title for title, _ in sgdbook.MODULE_GROUPS]
    assert len(set(titles)) == len(titles)
    assert all(re.search(r"[\u4e00-\u9fff]", t) for t in titles)


def test_importing_sgdbook_stays_cheap():
    code = "import sys, sgdbook; sgdbook.MODULE_GROUPS; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


CHAPTERS = {
    "gradient-descent": 1,
    "learning-rate": 2,
    "sgd": 3,
    "minibatch": 4,
    "momentum-adam": 5,
    "lr-decay": 6,
}


def test_experiment_modules_name_their_chapter():
    """The first line of each chapter experiment's docstring: ``Chapter N (:doc:`/name`): ...``."""
    ((_, experiments),) = [g for g in sgdbook.MODULE_GROUPS if g[0] == "各章的实验"]
    for name in experiments:
        doc = ast.get_docstring(ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8")))
        m = re.match(r"Chapter (\d) \(:doc:`/([a-z-]+)`\): \S", doc or "")
        assert m, f"{name}: {doc.splitlines()[0] if doc else doc!r}"
        number, docname = int(m.group(1)), m.group(2)
        assert (BOOK / f"{docname}.md").is_file() and CHAPTERS[docname] == number, name
        # the chapter really imports it
        text = (BOOK / f"{docname}.md").read_text(encoding="utf-8")
        assert re.search(rf"sgdbook\.{name}\b|from sgdbook import [^\n]*\b{name}\b", text), name


def test_chapters_print_library_code_whole():
    # A chapter that cuts library source at a marker or an exact indentation breaks when the
    # library is reformatted: the code a chapter shows is a function, printed whole.
    book = Path(__file__).resolve().parents[1] / "book"
    bad = []
    for page in sorted(book.glob("*.md")):
        for n, line in enumerate(page.read_text(encoding="utf-8").split("\n"), start=1):
            if "getsource(" in line and not re.fullmatch(
                r"\s*print\(inspect\.getsource\([\w.]+\)\)(\s*#.*)?", line
            ):
                bad.append(f"{page.name}:{n}: {line.strip()}")
    assert not bad, bad
