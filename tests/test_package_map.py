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


def _reexported(package: Path) -> set[str]:
    """The submodules a package's ``__init__`` imports from (``from .sgd import SGD``)."""
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    return {
        node.module.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
    }


def public_modules() -> set[str]:
    """Every public module, dotted relative to sgdbook: the toolkit's ``.py`` files, a package
    that re-exports its submodules (then those go with it), and every other public submodule."""
    found = set()
    for path in PACKAGE.iterdir():
        if path.name.startswith("_"):
            continue
        if path.suffix == ".py":
            found.add(path.stem)
        elif path.is_dir() and (path / "__init__.py").is_file():
            reexported = _reexported(path)
            if reexported:
                found.add(path.name)
            for sub in path.glob("*.py"):
                if not sub.name.startswith("_") and sub.stem not in reexported:
                    found.add(f"{path.name}.{sub.stem}")
    return found


def test_the_top_level_holds_the_toolkit_and_four_subpackages():
    """The flat layout outgrew itself at 38 modules and was grouped (the developers' guide: about
    30 modules at most in one place); the toolkit stays at the top."""
    modules = [p.stem for p in PACKAGE.glob("*.py") if not p.name.startswith("_")]
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert packages == ["optim", "problems", "systems", "theory"], packages
    assert len(modules) <= 10, modules
    for package in packages:
        assert len(list((PACKAGE / package).glob("*.py"))) <= 30, package


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
    """A module whose docstring starts with ``Chapter N (:doc:`/name`): ...`` is imported there."""
    checked = 0
    for name in (m for _, modules in sgdbook.MODULE_GROUPS for m in modules):
        path = PACKAGE / (name.replace(".", "/") + ".py")
        if not path.is_file():
            path = PACKAGE / name.replace(".", "/") / "__init__.py"
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if not doc.startswith("Chapter"):
            continue
        m = re.match(r"Chapter (\d) \(:doc:`/([a-z-]+)`\): \S", doc)
        assert m, f"{name}: {doc.splitlines()[0]}"
        number, docname = int(m.group(1)), m.group(2)
        assert (BOOK / f"{docname}.md").is_file() and CHAPTERS[docname] == number, name
        # the chapter really imports it
        text = (BOOK / f"{docname}.md").read_text(encoding="utf-8")
        parent, _, leaf = name.rpartition(".")
        assert re.search(
            rf"sgdbook\.{re.escape(name)}\b|from sgdbook\.{re.escape(parent)} import [^\n]*\b{leaf}\b",
            text,
        ), name
        checked += 1
    assert checked >= 20, checked


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
