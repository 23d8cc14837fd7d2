"""The build's execution cache: what an edit re-executes, counted, on small temporary books.

Each test makes a miniature copy of the repository layout in a temporary directory: ``book/``
with three chapters and the real ``book/_ext/sgdbook_build.py`` (with the module it imports,
``sgdbook_fingerprint.py``), a stand-in ``sgdbook`` package
and ``requirements/lock.txt``. Every chapter's first cell appends its name to a counter file, so
a test counts exactly which chapters a build executed. The builds are real ``jupyter-book build``
runs (a few seconds each: the chapters only print).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXT_DIR = REPO / "book" / "_ext"
EXTENSION = EXT_DIR / "sgdbook_build.py"
#: What the build extension needs next to it in a book's _ext/.
EXTENSION_FILES = (EXTENSION, EXT_DIR / "sgdbook_fingerprint.py")
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"

CONFIG = """\
title: cache test
author: test
only_build_toc_files: true
exclude_patterns: [_build]
execute:
  execute_notebooks: cache
  timeout: 60
  allow_errors: false
  raise_on_error: true
  show_tb: true
  stderr_output: warn
  run_in_temp: false
sphinx:
  local_extensions:
    sgdbook_build: _ext/
  config:
    nitpicky: true
"""

TOC = """\
format: jb-book
root: index
chapters:
  - file: cha
  - file: chb
  - file: chc
"""

HEADER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

CHAPTERS = {
    # cha imports sgdbook.alpha, which imports sgdbook.base: a transitive dependency
    "cha": ("第一章", "from sgdbook.alpha import VALUE\nprint('alpha says', VALUE)"),
    # chb imports sgdbook.beta with the `from package import module` form
    "chb": ("第二章", "from sgdbook import beta\nprint('beta says', beta.VALUE)"),
    # chc imports nothing from sgdbook
    "chc": ("第三章", "print('gamma says', 3)"),
}

PACKAGE = {
    "__init__.py": '"""Stand-in sgdbook package for the cache tests."""\n',
    "base.py": "BASE = 10\n",
    "alpha.py": "from .base import BASE\n\nVALUE = BASE + 1\n",
    "beta.py": "VALUE = 20\n",
}


def chapter(name: str, title: str, code: str, prose: str = "正文。") -> str:
    counter = (
        "import os\n"
        "with open(os.environ['SGDBOOK_TEST_COUNTER'], 'a', encoding='utf-8') as fh:\n"
        f"    fh.write('{name}\\n')"
    )
    return (
        f"{HEADER}\n# {title}\n\n{prose}\n\n```{{code-cell}} ipython3\n{counter}\n```\n\n"
        f"```{{code-cell}} ipython3\n{code}\n```\n"
    )


class MiniBook:
    """A temporary repository with a three-chapter book, built with the real extension."""

    def __init__(self, root: Path):
        self.root = root
        self.book = root / "book"
        self.counter = root / "executions.txt"
        (self.book / "_ext").mkdir(parents=True)
        for path in EXTENSION_FILES:
            shutil.copy(path, self.book / "_ext" / path.name)
        (self.book / "_config.yml").write_text(CONFIG, encoding="utf-8")
        (self.book / "_toc.yml").write_text(TOC, encoding="utf-8")
        (self.book / "index.md").write_text("# 首页\n\n缓存测试。\n", encoding="utf-8")
        for name, (title, code) in CHAPTERS.items():
            self.write(f"book/{name}.md", chapter(name, title, code))
        for name, text in PACKAGE.items():
            self.write(f"sgdbook/{name}", text)
        self.write("requirements/lock.txt", "numpy==2.0.0\n")

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new), encoding="utf-8")

    def build(self, *args: str, expect_ok: bool = True, **env: str) -> tuple[list[str], str]:
        """Build; return the chapters executed by this build (sorted) and the build's output."""
        self.counter.write_text("", encoding="utf-8")
        environ = {
            **os.environ,
            "PYTHONPATH": str(self.root),
            "SGDBOOK_TEST_COUNTER": str(self.counter),
            "SGDBOOK_DEVICE": "cpu",
            "SGDBOOK_BUILD_JOBS": "3",
            **env,
        }
        environ.pop("SGDBOOK_REQUIRE_CUDA", None)
        proc = subprocess.run(
            [str(JUPYTER_BOOK), "build", "book", *args],
            cwd=self.root,
            env=environ,
            capture_output=True,
            text=True,
            timeout=600,
        )
        output = proc.stdout + proc.stderr
        if expect_ok:
            assert proc.returncode == 0, output
        else:
            assert proc.returncode != 0, output
        return sorted(self.counter.read_text(encoding="utf-8").split()), output

    def html(self, docname: str) -> str:
        return (self.book / "_build" / "html" / f"{docname}.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> MiniBook:
    """One mini book shared by the tests below, in file order (each builds it about once).

    Every test starts from, and leaves, a fully built and cached book and asserts only what its
    own edit executes, so the order only saves the cost of a clean build per test.
    """
    mini = MiniBook(tmp_path_factory.mktemp("cache") / "repo")
    executed, mini.clean_output = mini.build()
    assert executed == ["cha", "chb", "chc"], mini.clean_output
    assert "alpha says 11" in mini.html("cha") and "beta says 20" in mini.html("chb")
    return mini


def test_clean_build_executes_in_parallel_and_no_change_rebuild_does_nothing(book):
    # the clean build ran the three chapters in one pool of three workers
    assert "executing 3 notebook(s), 3 at a time (cpu)" in book.clean_output
    executed, output = book.build()
    assert executed == []
    assert "0 added, 0 changed, 0 removed" in output  # not even a page is read again


def test_prose_edit_executes_nothing(book):
    book.edit("book/cha.md", "正文。", "改过的正文。")
    executed, output = book.build()
    assert executed == []
    assert "改过的正文" in book.html("cha")
    assert "executing" not in output


def test_code_edit_executes_that_chapter_only(book):
    book.edit("book/chb.md", "print('beta says', beta.VALUE)", "print('beta now says', beta.VALUE)")
    executed, _ = book.build()
    assert executed == ["chb"]
    assert "beta now says 20" in book.html("chb")


def test_library_edit_executes_the_importing_chapters(book):
    # base.py is imported by alpha.py, which cha imports: cha only
    book.edit("sgdbook/base.py", "BASE = 10", "BASE = 100")
    executed, _ = book.build()
    assert executed == ["cha"]
    assert "alpha says 101" in book.html("cha")  # the page was read again, not only re-run
    # beta.py, imported with `from sgdbook import beta`: chb only
    book.edit("sgdbook/beta.py", "VALUE = 20", "VALUE = 21")
    executed, _ = book.build()
    assert executed == ["chb"]
    assert "says 21" in book.html("chb")
    # the package's __init__ is imported by every chapter that imports any of its modules
    book.write("sgdbook/__init__.py", PACKAGE["__init__.py"] + "EXTRA = 1\n")
    executed, _ = book.build()
    assert executed == ["cha", "chb"]


def test_new_module_and_data_files_count(book):
    # a chapter starts importing a new module (a code edit), then that module changes
    book.write("sgdbook/gamma.py", "G = 1\n")
    book.edit(
        "book/chc.md",
        "print('gamma says', 3)",
        "from sgdbook.gamma import G\nprint('gamma says', G)",
    )
    assert book.build()[0] == ["chc"]
    book.write("sgdbook/gamma.py", "G = 2\n")
    assert book.build()[0] == ["chc"]
    assert "gamma says 2" in book.html("chc")
    # a data file shipped in the package (a font, a data set) may be read by any importer
    book.write("sgdbook/data/points.csv", "1,2\n")
    assert book.build()[0] == ["cha", "chb", "chc"]


def test_restored_stale_cache_is_checked(book):
    # CI restores only book/_build/.jupyter_cache, possibly from an older commit: a chapter whose
    # library changed since must execute again even though its code cells did not change
    for path in (book.book / "_build").iterdir():
        if path.name != ".jupyter_cache":
            shutil.rmtree(path)
    book.edit("sgdbook/beta.py", "VALUE = 21", "VALUE = 22")
    executed, _ = book.build()
    assert executed == ["chb"]
    assert "says 22" in book.html("chb") and "alpha says 101" in book.html("cha")


def test_lock_change_executes_everything_longest_first(book):
    times = json.loads(
        (book.book / "_build" / ".jupyter_cache" / "sgdbook_execution_times.json").read_text()
    )
    assert set(times) == {"cha", "chb", "chc"}
    book.write("requirements/lock.txt", "numpy==2.0.1\n")
    executed, output = book.build()
    assert executed == ["cha", "chb", "chc"]
    # the chapters are started longest first, by their last recorded execution times
    order = re.search(r"executing 3 notebook\(s\), 3 at a time \(cpu\): (.*)", output).group(1)
    assert order.split(", ") == sorted(times, key=lambda d: -times[d])


def test_device_change_executes_everything(book):
    # CPU and GPU results never mix: the device kind is part of every chapter's fingerprint
    executed, output = book.build(SGDBOOK_DEVICE="cuda", SGDBOOK_BUILD_JOBS="")
    assert executed == ["cha", "chb", "chc"]
    assert "1 at a time (cuda)" in output  # one chapter at a time on a GPU
    executed, _ = book.build()  # and back to the CPU
    assert executed == ["cha", "chb", "chc"]


def test_static_file_edit_reaches_the_html_without_a_page_change(book):
    # Sphinx copies _static only when a page is written; the extension copies an edited file
    book.write("book/_static/extra.css", "p { color: #111; }\n")
    book.build()
    built = book.book / "_build" / "html" / "_static" / "extra.css"
    assert built.read_text(encoding="utf-8") == "p { color: #111; }\n"
    book.write("book/_static/extra.css", "p { color: #222; }\n")
    executed, output = book.build()
    assert executed == [] and "no targets are out of date" in output, output
    assert built.read_text(encoding="utf-8") == "p { color: #222; }\n", output
    (book.book / "_static" / "extra.css").unlink()


def test_a_warning_fails_every_build_until_fixed(book):
    # a cell writing to stderr is a warning (stderr_output: warn), and a warning fails the build;
    # rerunning without a change must fail again, not skip the unchanged page and pass
    original = (book.book / "chc.md").read_text(encoding="utf-8")
    (book.book / "chc.md").write_text(
        original
        + "\n```{code-cell} ipython3\nimport sys\nprint('deliberate stderr', file=sys.stderr)\n```\n",
        encoding="utf-8",
    )
    executed, output = book.build(expect_ok=False)
    warning = re.compile(r"chc\.md:\d+: WARNING: stderr was found in the cell outputs")
    assert executed == ["chc"] and warning.search(output) and "1 warning(s)" in output
    executed, output = book.build(expect_ok=False)
    assert executed == [] and warning.search(output)
    (book.book / "chc.md").write_text(original, encoding="utf-8")
    executed, _ = book.build()
    assert executed == []  # the previous code's execution is still in the cache


def test_cell_error_fails_the_build_and_is_not_cached(book):
    book.edit(
        "book/chb.md",
        "print('beta now says', beta.VALUE)",
        "raise ValueError('deliberate failure 42')",
    )
    executed, output = book.build(expect_ok=False)
    assert executed == ["chb"]
    assert "deliberate failure 42" in output and "chb.md" in output
    assert "Notebook execution failed" in output
    # a failed execution is not cached: the next build runs it again (and fails again)
    executed, _ = book.build(expect_ok=False)
    assert executed == ["chb"]
    book.edit("book/chb.md", "raise ValueError('deliberate failure 42')", "print('fixed')")
    executed, _ = book.build()
    assert executed == ["chb"]
    assert "fixed" in book.html("chb")


# ---------------------------------------------------------------------------------------------
# The extension's pure functions
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ext():
    spec = importlib.util.spec_from_file_location("sgdbook_build_under_test", EXTENSION)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)  # puts book/_ext on sys.path for sgdbook_fingerprint
    yield module
    del sys.modules[spec.name]


@pytest.fixture(scope="module")
def fp(ext):
    """The fingerprint module (plain Python), as the extension imported it."""
    return sys.modules["sgdbook_fingerprint"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "from sgdbook.theory import gd\nfrom sgdbook import plotting as p",
            {"sgdbook", "sgdbook.theory", "sgdbook.theory.gd", "sgdbook.plotting"},
        ),
        ("import sgdbook.device as dev\nimport numpy", {"sgdbook.device"}),
        (
            "%matplotlib inline\nfrom sgdbook.theory.gd import run",
            {"sgdbook.theory.gd", "sgdbook.theory.gd.run"},
        ),
        (
            "def f():\n    from sgdbook.problems.objectives import square\n",
            {"sgdbook.problems.objectives", "sgdbook.problems.objectives.square"},
        ),
        (
            "x = (\nfrom sgdbook.theory.gd import run",
            {"sgdbook.theory.gd"},
        ),  # unparsable: the regex fallback
        ("import numpy as np\nprint('sgdbook')", set()),
    ],
)
def test_imported_modules(fp, code, expected):
    assert fp.imported_modules(code) == expected


def test_real_package_closure_includes_parents_and_transitive_imports(fp):
    closure = fp.module_closure({"sgdbook.theory.gd"})
    assert {"sgdbook", "sgdbook.theory.gd"} <= set(closure)
    gd_imports = {
        m
        for m in fp._imports_of(closure["sgdbook.theory.gd"], "sgdbook.theory.gd")
        if m in fp.all_modules()
    }
    assert gd_imports and gd_imports <= set(closure)


def test_chapter_that_names_sgdbook_without_a_readable_import_depends_on_everything(fp):
    assert fp.dependencies("m = __import__('sgdbook.theory.gd')") == ("*",)
    assert fp.dependencies("import numpy") == ()
    assert fp.dependencies("from sgdbook.theory import gd") == (
        "sgdbook.theory",
        "sgdbook.theory.gd",
    )
    fingerprint = fp.Fingerprinter()
    everything, nothing = fingerprint(("*",)), fingerprint(())
    assert everything != nothing and re.fullmatch(r"[0-9a-f]{64}", nothing)
    assert fingerprint(("sgdbook.theory.gd",)) not in (everything, nothing)


@pytest.mark.parametrize(
    ("env", "kind", "jobs"),
    [
        ({"SGDBOOK_DEVICE": "cpu", "SGDBOOK_BUILD_JOBS": "5"}, "cpu", 5),
        ({"SGDBOOK_REQUIRE_CUDA": "1"}, "cuda", 1),
        ({"SGDBOOK_DEVICE": "cuda"}, "cuda", 1),
        ({"SGDBOOK_DEVICE": "cuda", "SGDBOOK_BUILD_JOBS": "2"}, "cuda", 2),
        ({"SGDBOOK_DEVICE": "cpu"}, "cpu", None),
    ],
)
def test_device_kind_and_jobs(ext, fp, monkeypatch, env, kind, jobs):
    for name in ("SGDBOOK_DEVICE", "SGDBOOK_REQUIRE_CUDA", "SGDBOOK_BUILD_JOBS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert fp.device_kind() == kind
    expected = jobs if jobs is not None else len(os.sched_getaffinity(0))
    assert ext.build_jobs(kind) == expected


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_bad_jobs_value_is_an_error(ext, monkeypatch, bad):
    monkeypatch.setenv("SGDBOOK_BUILD_JOBS", bad)
    with pytest.raises(ext.StrictBuildError, match="SGDBOOK_BUILD_JOBS"):
        ext.build_jobs("cpu")


def test_file_memo_is_reused_and_notices_changes(fp, tmp_path):
    # the memo saved by one build spares the next one hashing and parsing unchanged files, and a
    # changed file (size or mtime) is hashed and parsed again: the fingerprint follows the edit
    module = tmp_path / "mod.py"
    module.write_text("from sgdbook.theory import gd\n", encoding="utf-8")
    memo = fp.FileMemo(tmp_path / "memo.json")
    assert memo.imports(module, "sgdbook.mod") == {"sgdbook.theory", "sgdbook.theory.gd"}
    first = memo.sha256(module)
    memo.save()
    again = fp.FileMemo(tmp_path / "memo.json")
    entry = again._entries[str(module)]
    assert entry["sha256"] == first and entry["imports"]["sgdbook.mod"] == [
        "sgdbook.theory",
        "sgdbook.theory.gd",
    ]
    module.write_text("from sgdbook import plotting  # longer\n", encoding="utf-8")
    assert again.sha256(module) != first
    assert again.imports(module, "sgdbook.mod") == {"sgdbook", "sgdbook.plotting"}
    # with or without a memo, the same fingerprints
    assert fp.Fingerprinter(again)(("sgdbook.theory.gd",)) == fp.Fingerprinter()(
        ("sgdbook.theory.gd",)
    )


def test_build_state_is_one_object_per_application(ext):
    class App:  # any weak-referenceable object stands for the Sphinx application here
        pass

    app = App()
    state = ext.state(app)
    assert isinstance(state, ext.BuildState) and ext.state(app) is state
    assert not state.ready and state.fingerprints == {} and state.kind == "cpu"
    assert not [n for n in vars(app) if n.startswith("_sgdbook")]
    ext._forget_state(app, None)
    assert ext.state(app) is not state


class _Result:
    def __init__(self, nb):
        self.nb, self.time, self.err = nb, 0.1, None


@pytest.mark.parametrize(
    "failure, retried",
    [
        (RuntimeError("Kernel died before replying to kernel_info"), True),
        (OSError("zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:1')"), True),
        (ValueError("a broken notebook"), False),
    ],
)
def test_kernel_that_did_not_start_is_started_again(ext, monkeypatch, failure, retried):
    # kernels started at once in several worker processes can collide on a TCP port (seen in CI):
    # such a start is retried; any other failure is reported at once, never hidden
    import jupyter_cache.executors.utils as utils

    calls = []

    def flaky(notebook, **kwargs):
        calls.append(kwargs["cwd"])
        if len(calls) == 1:
            raise failure
        return _Result(notebook)

    monkeypatch.setattr(utils, "single_nb_execution", flaky)
    monkeypatch.setattr(ext.time, "sleep", lambda seconds: None)
    nb, _, error, report = ext._execute_one("the notebook", ".", False, 60, False)
    if retried:
        assert len(calls) == 2 and nb == "the notebook" and error is None and report is None
    else:
        assert len(calls) == 1 and error == "ValueError" and "a broken notebook" in report


def test_kernel_start_is_retried_a_bounded_number_of_times(ext, monkeypatch):
    import jupyter_cache.executors.utils as utils

    calls = []

    def dead(notebook, **kwargs):
        calls.append(1)
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(utils, "single_nb_execution", dead)
    monkeypatch.setattr(ext.time, "sleep", lambda seconds: None)
    _, _, error, report = ext._execute_one("nb", ".", False, 60, False)
    assert (
        len(calls) == ext.KERNEL_START_ATTEMPTS
        and error == "RuntimeError"
        and "kernel_info" in report
    )


# ---------------------------------------------------------------------------------------------
# No page can make the build lenient; an incremental build catches a removed label
# ---------------------------------------------------------------------------------------------
LENIENT = {
    "tag raises-exception": (
        "```{code-cell} ipython3\n:tags: [raises-exception]\nraise ValueError('x')\n```\n",
        "tag 'raises-exception'",
    ),
    "tag remove-stderr": (
        "```{code-cell} ipython3\n:tags: [remove-stderr]\nimport sys\nprint('e', file=sys.stderr)\n```\n",
        "tag 'remove-stderr'",
    ),
    "front matter allow_errors": ("", "front matter mystnb.execution_allow_errors"),
    "front matter stderr": ("", "front matter mystnb.output_stderr"),
}


@pytest.mark.parametrize("case", sorted(LENIENT))
def test_a_page_cannot_loosen_the_strict_build(tmp_path, case):
    mini = MiniBook(tmp_path / "repo")
    cell, message = LENIENT[case]
    text = chapter("chc", "第三章", "print('gamma says', 3)") + "\n" + cell
    if case == "front matter allow_errors":
        text = text.replace(
            "kernelspec:", "mystnb:\n  execution_allow_errors: true\nkernelspec:", 1
        )
    if case == "front matter stderr":
        text = text.replace("kernelspec:", "mystnb:\n  output_stderr: remove\nkernelspec:", 1)
    mini.write("book/chc.md", text)
    _, output = mini.build(expect_ok=False)
    assert "chc.md: the build is strict for every page, and this page loosens it" in output, output
    assert message in output, output


def test_leniency_finds_tags_and_overrides(ext):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["mystnb"] = {"execution_timeout": 300, "execution_mode": "off"}
    nb.cells = [
        nbformat.v4.new_code_cell("1", metadata={"tags": ["hide-input", "skip-execution"]}),
        nbformat.v4.new_markdown_cell("x"),
    ]
    assert ext.leniency(nb) == [
        "front matter mystnb.execution_mode",
        "cell 1: tag 'skip-execution'",
    ]
    nb.metadata["mystnb"] = {"execution_timeout": 300}  # a longer timeout loosens nothing
    nb.cells[0].metadata["tags"] = ["hide-input"]
    assert ext.leniency(nb) == []


def test_incremental_build_catches_a_label_removed_from_another_page(tmp_path):
    # Sphinx writes only the pages it read; a reference on an unchanged page to a label that was
    # just removed would stay a dangling link unless every page is written again
    mini = MiniBook(tmp_path / "repo")
    mini.edit("book/cha.md", "正文。", "(sec-alpha)=\n## 一节\n\n正文。")
    mini.edit("book/chb.md", "正文。", "见 {ref}`sec-alpha`。")
    mini.build()
    mini.edit("book/cha.md", "(sec-alpha)=\n", "")
    executed, output = mini.build(expect_ok=False)
    assert executed == [] and "targets removed (sec-alpha)" in output, output
    assert re.search(r"chb\.md:\d+: WARNING: undefined label: 'sec-alpha'", output), output
