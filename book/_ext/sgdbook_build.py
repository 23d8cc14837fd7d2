"""Local Sphinx extension that makes the book build strict, fast and its execution cache honest.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``. It does four things (the design is
explained for contributors in ``docs/build.md``):

1. **Strict build.** Every Sphinx warning (an unresolved reference, a cell's stray stderr, a
   bad directive) is counted; when the build finishes with any, it raises, so
   ``jupyter-book build book`` exits non-zero after printing all of them. No ``-W`` flag is
   needed, so a contributor's plain command is as strict as CI.
2. **Cache that notices library changes.** jupyter-cache keys an executed notebook by its code
   cells only. Here each chapter also gets a *dependency fingerprint*: the hash of every
   ``sgdbook`` module its code cells import (transitively, parent packages and the package's
   data files included), of the library lock, of the installed torch build and of the device
   kind (``cpu`` or ``cuda``). The fingerprint is stored twice: in the jupyter-cache record the
   chapter's execution produced (so a cached execution is used only when its code hash *and*
   its fingerprint match), and in the Sphinx environment next to the page's doctree (so a page
   whose fingerprint changed is read again even though its source file did not change). An
   edit to prose changes neither hash: the page is re-read from the cache, nothing executes.
3. **Parallel execution.** Just before Sphinx reads the pages it has to read, every notebook
   page whose valid cached execution is missing is executed, several at a time (one process per
   core; ``SGDBOOK_BUILD_JOBS`` overrides; one at a time when a GPU is used), with myst-nb's own
   reader, timeout, working directory and kernel, and stored in the cache. myst-nb then finds
   every page in the cache. A notebook that fails stops the build with its traceback.
4. **Static files follow their edits.** Sphinx copies ``_static`` only when some page is
   rebuilt; an edit to ``book/_static/sgdbook.css`` alone left the old copy in the HTML. After
   every HTML build, each changed plain file of ``html_static_path`` is copied again.
5. **Paths.** Resolves the jieba user dictionary for the Chinese search index relative to the
   book, not to the directory the command was started from.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from tempfile import TemporaryDirectory
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import SphinxError
from sphinx.util import logging

logger = logging.getLogger(__name__)

BOOK_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BOOK_DIR.parent
PACKAGE = "sgdbook"
PACKAGE_DIR = REPO_ROOT / PACKAGE
LOCK_FILE = REPO_ROOT / "requirements" / "lock.txt"
#: Key under which the fingerprint is stored in a jupyter-cache record's ``data``.
FINGERPRINT_KEY = "sgdbook_fingerprint"
#: Environment variable: number of notebooks executed at once (default: the usable cores, or 1
#: on a GPU).
JOBS_ENV = "SGDBOOK_BUILD_JOBS"
#: File in the cache folder with each chapter's last execution time (to start the longest first).
TIMES_FILE = "sgdbook_execution_times.json"

_IMPORT_RE = re.compile(rf"^\s*(?:from|import)\s+({PACKAGE}(?:\.[\w.]+)?)", re.MULTILINE)
_MAGIC_RE = re.compile(r"^\s*[%!].*$", re.MULTILINE)


class StrictBuildError(SphinxError):
    category = "Strict build"


class NotebookExecutionError(SphinxError):
    category = "Notebook execution failed"


# --------------------------------------------------------------------------------------------
# Device kind and number of workers (decided without importing torch in the Sphinx process)
# --------------------------------------------------------------------------------------------
def _torch_build() -> str:
    """The installed torch distribution's version, e.g. ``2.13.0+cpu`` (no import of torch)."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def device_kind() -> str:
    """``cuda`` or ``cpu``: where the chapters' tensors will live, by ``sgdbook.device``'s rule.

    ``SGDBOOK_DEVICE`` and ``SGDBOOK_REQUIRE_CUDA`` decide as in :mod:`sgdbook.device`; otherwise
    a CPU-only torch build, a hidden GPU (``CUDA_VISIBLE_DEVICES`` empty or ``-1``) or no
    ``nvidia-smi`` listing a GPU means ``cpu``. torch is not imported (it would cost seconds on
    every rebuild).
    """
    wanted = os.environ.get("SGDBOOK_DEVICE", "").strip().lower()
    if wanted in ("cpu", "cuda"):
        return wanted
    if os.environ.get("SGDBOOK_REQUIRE_CUDA", "") == "1":
        return "cuda"
    if "+cpu" in _torch_build() or os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return "cpu"
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "cpu"
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return "cpu"
    return "cuda" if out.returncode == 0 and "GPU" in out.stdout else "cpu"


def build_jobs(kind: str) -> int:
    """How many notebooks execute at once: ``SGDBOOK_BUILD_JOBS``, else 1 on a GPU, else cores."""
    raw = os.environ.get(JOBS_ENV, "").strip()
    if raw:
        try:
            jobs = int(raw)
        except ValueError:
            raise StrictBuildError(f"{JOBS_ENV} must be a positive integer, got {raw!r}") from None
        if jobs < 1:
            raise StrictBuildError(f"{JOBS_ENV} must be a positive integer, got {raw!r}")
        return jobs
    if kind == "cuda":
        return 1  # two chapters must not fight over one GPU's memory
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------
# Dependency fingerprints
# --------------------------------------------------------------------------------------------
def _module_file(module: str) -> Path | None:
    """Map a dotted sgdbook module name to its source file (package ``__init__`` included)."""
    parts = module.split(".")
    base = PACKAGE_DIR.parent.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _imports_in_tree(tree: ast.AST, package: str) -> set[str]:
    """sgdbook modules named by the imports of one parsed source (relative ones resolved)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".") if package else []
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def _imports_of(path: Path, module: str) -> set[str]:
    """sgdbook modules imported by one source file of the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return _imports_in_tree(tree, package)


def module_closure(roots: set[str]) -> dict[str, Path]:
    """All sgdbook modules reachable from ``roots``, with every parent package included."""
    seen: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        path = _module_file(module)
        if path is None:  # an attribute imported with ``from sgdbook.x import name``
            continue
        seen[module] = path
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        todo.extend(_imports_of(path, module))
    return seen


def all_modules() -> dict[str, Path]:
    """Every module of the package (the fallback when a chapter's imports cannot be read)."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        found[".".join(parts)] = path
    return found


def imported_modules(code: str) -> set[str]:
    """sgdbook modules named by the import statements of a chapter's code cells.

    Each cell is parsed with :mod:`ast` (IPython magics dropped); a cell that does not parse is
    scanned with a regular expression instead.
    """
    found: set[str] = set()
    for cell in code.split("\x00"):
        try:
            found |= _imports_in_tree(ast.parse(_MAGIC_RE.sub("", cell)), "")
        except SyntaxError:
            found.update(_IMPORT_RE.findall(cell))
    return found


def data_files() -> list[Path]:
    """Non-Python files shipped in the package (data, fonts): chapters may read any of them."""
    return sorted(p for p in PACKAGE_DIR.rglob("*") if p.is_file() and p.suffix not in {".py", ".pyc"}
                  and "__pycache__" not in p.parts)


class Fingerprinter:
    """Computes chapters' dependency fingerprints, hashing each file at most once per build."""

    def __init__(self) -> None:
        self.kind = device_kind()
        self._file_hashes: dict[Path, str] = {}
        base = hashlib.sha256()
        base.update(LOCK_FILE.read_bytes() if LOCK_FILE.is_file() else b"no-lock")
        base.update(f"\0device={self.kind}\0torch={_torch_build()}\0".encode())
        self._base = base.hexdigest()
        self._data: str | None = None

    def _hash(self, path: Path) -> str:
        if path not in self._file_hashes:
            self._file_hashes[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._file_hashes[path]

    def _data_hash(self) -> str:
        if self._data is None:
            digest = hashlib.sha256()
            for path in data_files():
                digest.update(f"{path.relative_to(PACKAGE_DIR).as_posix()}\0{self._hash(path)}\0".encode())
            self._data = digest.hexdigest()
        return self._data

    def __call__(self, deps: tuple[str, ...]) -> str:
        """Fingerprint of a chapter whose code imports ``deps`` (see :func:`dependencies`)."""
        digest = hashlib.sha256(self._base.encode())
        modules = all_modules() if deps == ("*",) else module_closure(set(deps)) if deps else {}
        for name, path in sorted(modules.items()):
            digest.update(f"{name}\0{self._hash(path)}\0".encode())
        if modules:
            digest.update(self._data_hash().encode())
        return digest.hexdigest()


def dependencies(code: str) -> tuple[str, ...]:
    """The sgdbook modules a chapter's code imports, sorted; ``("*",)`` stands for all of them.

    A chapter that names the package without an import statement this module can read (e.g.
    ``importlib.import_module``) depends on every module: re-executing too much is safe,
    re-executing nothing is not.
    """
    roots = imported_modules(code)
    if roots:
        return tuple(sorted(roots))
    return ("*",) if re.search(rf"\b{PACKAGE}\b", code) else ()


# --------------------------------------------------------------------------------------------
# Reading notebooks the way myst-nb does
# --------------------------------------------------------------------------------------------
@dataclass
class _Page:
    docname: str
    path: Path
    notebook: Any  # nbformat.NotebookNode
    read_fmt: dict | None
    nb_config: Any  # myst_nb.core.config.NbParserConfig


def _read_page(env, docname: str) -> _Page | None:
    """Read a page as myst-nb's Sphinx parser would; ``None`` if it is not a notebook."""
    from myst_nb.core.nb_to_tokens import nb_node_to_dict
    from myst_nb.core.read import create_nb_reader

    path = Path(env.doc2path(docname))
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    nb_config = env.mystnb_config
    reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
    if reader is None:
        return None
    notebook = reader.read(text)
    kernel_name = notebook.metadata.get("kernelspec", {}).get("name", None)
    if kernel_name is not None and nb_config.kernel_rgx_aliases:
        for rgx, alias in nb_config.kernel_rgx_aliases.items():
            if re.fullmatch(rgx, kernel_name):
                notebook.metadata["kernelspec"]["name"] = alias
                break
    if nb_config.metadata_key in notebook.metadata:
        overrides = nb_node_to_dict(notebook.metadata[nb_config.metadata_key])
        overrides.pop("output_folder", None)
        with suppress(Exception):  # myst-nb reports a bad override itself when it reads the page
            nb_config = nb_config.copy(**overrides)
    return _Page(docname, path, notebook, reader.read_fmt, nb_config)


def _code_of(page: _Page) -> str:
    return "\x00".join(c.source for c in page.notebook.cells if c.cell_type == "code")


def _executed_by_cache(page: _Page) -> bool:
    """Whether myst-nb will take this page's outputs from jupyter-cache (cache mode, not excluded)."""
    cfg = page.nb_config
    if cfg.execution_mode != "cache":
        return False
    posix = PurePosixPath(page.path.as_posix())
    return not any(posix.match(p) for p in (cfg.execution_excludepatterns or ()))


# --------------------------------------------------------------------------------------------
# Sphinx events
# --------------------------------------------------------------------------------------------
def _fingerprints(app: Sphinx, env) -> dict[str, str]:
    """Current fingerprints of every notebook page of the project (computed once per build).

    What a page imports is remembered in the environment with the file's size and mtime, so a
    rebuild reads only the pages that changed.
    """
    if getattr(app, "_sgdbook_fps", None) is None:
        fingerprint = Fingerprinter()
        memo = env.__dict__.setdefault("sgdbook_sources", {})
        fps: dict[str, str] = {}
        pages: dict[str, _Page | None] = {}
        for docname in sorted(env.found_docs):
            try:
                stat = Path(env.doc2path(docname)).stat()
            except OSError:
                continue
            key = (stat.st_mtime_ns, stat.st_size)
            if docname not in memo or memo[docname][0] != key:
                page = pages[docname] = _read_page(env, docname)
                memo[docname] = (key, None if page is None else dependencies(_code_of(page)))
            deps = memo[docname][1]
            if deps is not None:
                fps[docname] = fingerprint(deps)
        app._sgdbook_fps = fps  # type: ignore[attr-defined]
        app._sgdbook_pages = pages  # type: ignore[attr-defined]
        app._sgdbook_kind = fingerprint.kind  # type: ignore[attr-defined]
    return app._sgdbook_fps  # type: ignore[attr-defined]


def _outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages whose doctree was made with another fingerprint than today's: read them again."""
    fps = _fingerprints(app, env)
    seen = getattr(env, "sgdbook_fingerprints", {})
    stale = sorted(d for d, fp in fps.items() if seen.get(d) != fp and d not in added and d not in changed)
    if stale:
        logger.info("[sgdbook] library, lock or device changed under: %s", ", ".join(stale))
    return stale


KERNEL_START_ATTEMPTS = 3
_KERNEL_START_FAILURES = ("Address already in use", "Kernel died before replying to kernel_info")


def _kernel_start_failed(report: str) -> bool:
    """Whether an execution failed because its kernel never started (not because of a cell)."""
    return any(marker in report for marker in _KERNEL_START_FAILURES)


def _execute_one(notebook, cwd: str | None, in_temp: bool, timeout, allow_errors: bool):
    """Execute one notebook exactly as myst-nb's cache client does (runs in a worker process)."""
    from jupyter_cache.executors.utils import single_nb_execution

    started = time.perf_counter()
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            context = TemporaryDirectory() if in_temp else nullcontext(cwd)
            with context as where:
                result = single_nb_execution(notebook, cwd=os.path.abspath(where), timeout=timeout,
                                             allow_errors=allow_errors, meta_override=True)
            break
        except Exception as exc:  # e.g. a kernel that did not start: report it like a cell error
            report = traceback.format_exc()
            # Kernels started at once in several processes can pick the same free TCP port
            # (jupyter_client chooses it before the kernel binds it): start such a kernel again.
            if attempt < KERNEL_START_ATTEMPTS and _kernel_start_failed(report):
                time.sleep(0.2 * attempt)
                continue
            return notebook, time.perf_counter() - started, type(exc).__name__, report
    if result.err is None:
        return result.nb, result.time, None, None
    # the cell's source and the kernel's traceback, without nbclient's own frames
    return result.nb, result.time, type(result.err).__name__, str(result.err)


def _pre_execute(app: Sphinx, env, docnames: list[str]) -> None:
    """Execute, in parallel, the notebook pages about to be read that have no valid cached run."""
    fps = _fingerprints(app, env)
    if not hasattr(env, "sgdbook_fingerprints"):
        env.sgdbook_fingerprints = {}
    pages = []
    for docname in docnames:
        if docname not in fps:
            continue
        env.sgdbook_fingerprints[docname] = fps[docname]
        pages_read = app._sgdbook_pages  # type: ignore[attr-defined]
        page = pages_read[docname] if docname in pages_read else _read_page(env, docname)
        if page is not None and _executed_by_cache(page):
            pages.append(page)
    if not pages:
        return

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    cache = get_cache(env.mystnb_config.execution_cache_path or ".jupyter_cache")
    todo: dict[str, _Page] = {}  # one execution per distinct code (jupyter-cache's hash)
    for page in pages:
        fp = fps[page.docname]
        record = None
        with suppress(KeyError):
            record = cache.match_cache_notebook(page.notebook)
        if record is not None and (record.data or {}).get(FINGERPRINT_KEY) == fp:
            continue
        if record is not None:
            cache.remove_cache(record.pk)
        _, hashkey = cache.create_hashed_notebook(page.notebook)
        todo.setdefault(f"{hashkey}:{fp}", page)
    if not todo:
        return

    kind = getattr(app, "_sgdbook_kind", "cpu")
    jobs = min(build_jobs(kind), len(todo))
    # longest first (by the last recorded run; unknown ones first): the shortest total time
    times_file = Path(cache.path) / TIMES_FILE
    try:
        times = json.loads(times_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        times = {}
    todo = dict(sorted(todo.items(), key=lambda kv: -times.get(kv[1].docname, float("inf"))))
    logger.info("[sgdbook] executing %d notebook(s), %d at a time (%s): %s", len(todo), jobs, kind,
                ", ".join(p.docname for p in todo.values()))
    failures: list[tuple[_Page, str, str]] = []
    started = time.perf_counter()

    def finish(page: _Page, outcome) -> None:
        notebook, seconds, error, exc_string = outcome
        if error is not None:
            failures.append((page, error, exc_string or ""))
            logger.info("[sgdbook] FAILED %s after %.1f s (%s)", page.docname, seconds, error)
            return
        stage = cache.add_nb_to_project(str(page.path), read_data=page.read_fmt) if page.read_fmt \
            else cache.add_nb_to_project(str(page.path))
        NbProjectRecord.remove_tracebacks([stage.pk], cache.db)
        cache.cache_notebook_bundle(
            CacheBundleIn(notebook, stage.uri,
                          data={"execution_seconds": seconds, FINGERPRINT_KEY: fps[page.docname],
                                "sgdbook_device": kind}),
            check_validity=False, overwrite=True)
        times[page.docname] = round(seconds, 2)
        logger.info("[sgdbook] executed %s in %.1f s", page.docname, seconds)

    def args(page: _Page) -> tuple:
        cfg = page.nb_config
        return (page.notebook, str(page.path.parent), bool(cfg.execution_in_temp),
                cfg.execution_timeout, bool(cfg.execution_allow_errors))

    if jobs == 1:
        for page in todo.values():
            finish(page, _execute_one(*args(page)))
    else:
        import multiprocessing

        # fork on Linux (cheap; nothing heavy such as torch is imported in this process yet),
        # spawn elsewhere (macOS libraries do not survive a fork)
        context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(_execute_one, *args(page)): page for page in todo.values()}
            for future in as_completed(futures):
                finish(futures[future], future.result())
    logger.info("[sgdbook] executed %d notebook(s) in %.1f s", len(todo), time.perf_counter() - started)
    with suppress(OSError):
        times_file.write_text(json.dumps(times, indent=1, sort_keys=True), encoding="utf-8")

    if failures:
        reports = []
        for page, error, exc_string in failures:
            report = Path(app.outdir) / "reports" / f"{page.docname}.err.log"
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(exc_string, encoding="utf-8")
            reports.append(f"{page.path} ({error}; traceback saved in {report}):\n{exc_string}")
        for page, _, _ in failures:  # read again (and so re-execute) next time
            env.sgdbook_fingerprints.pop(page.docname, None)
        raise NotebookExecutionError(
            f"{len(failures)} notebook(s) raised while executing:\n\n" + "\n\n".join(reports))


def _purge(app: Sphinx, env, docname: str) -> None:
    # keep the fingerprint recorded by _pre_execute for a page that is about to be read again;
    # drop it for a page that no longer exists
    if docname not in env.found_docs:
        getattr(env, "sgdbook_fingerprints", {}).pop(docname, None)
        getattr(env, "sgdbook_sources", {}).pop(docname, None)


def _merge(app: Sphinx, env, docnames, other) -> None:
    for name in ("sgdbook_fingerprints", "sgdbook_sources"):
        setattr(env, name, {**getattr(env, name, {}), **getattr(other, name, {})})


# --------------------------------------------------------------------------------------------
# Strictness and paths
# --------------------------------------------------------------------------------------------
def _resolve_paths(app: Sphinx, config) -> None:
    options = dict(config.html_search_options or {})
    if options.get("dict"):
        options["dict"] = str((Path(app.confdir) / options["dict"]).resolve())
        if not Path(options["dict"]).is_file():
            raise StrictBuildError(f"search dictionary not found: {options['dict']}")
    config.html_search_options = options


def _fail_on_warnings(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app._warncount:
        # Sphinx reports a page's warnings only when it reads or writes that page, so a plain
        # rerun would skip the unchanged broken page and pass. Dropping the saved environment
        # makes the next build read every page again (from the execution cache: nothing runs).
        from sphinx.application import ENV_PICKLE_FILENAME

        Path(app.doctreedir, ENV_PICKLE_FILENAME).unlink(missing_ok=True)
        raise StrictBuildError(
            f"the build emitted {app._warncount} warning(s), listed above; the book's build is "
            "strict (see book/_ext/sgdbook_build.py), fix them"
        )


def _refresh_static(app: Sphinx, exception: Exception | None) -> None:
    """Copy the plain files of html_static_path whose built copy is missing or differs."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir, "_static")
    for entry in app.config.html_static_path:
        source = Path(app.confdir, entry)
        if not source.is_dir():
            continue
        for path in source.rglob("*"):
            if not path.is_file() or path.name.endswith("_t"):  # templates: Sphinx renders them
                continue
            copy = target / path.relative_to(source)
            if not copy.is_file() or copy.read_bytes() != path.read_bytes():
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
                logger.info("[sgdbook] static file updated: %s", copy.relative_to(app.outdir))


def _forget_fingerprints(app: Sphinx, exception: Exception | None) -> None:
    app._sgdbook_fps = app._sgdbook_pages = None  # type: ignore[attr-defined]


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _resolve_paths)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _pre_execute)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _forget_fingerprints)
    app.connect("build-finished", _refresh_static)
    app.connect("build-finished", _fail_on_warnings, priority=900)
    return {"version": "2.0", "env_version": 2, "parallel_read_safe": True,
            "parallel_write_safe": True}


__all__ = ["setup", "device_kind", "build_jobs", "dependencies", "Fingerprinter", "module_closure"]
