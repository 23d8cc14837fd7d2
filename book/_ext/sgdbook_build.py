"""Local Sphinx extension that makes the book build strict, fast and its execution cache honest.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``. It does five things (the design is
explained for contributors in ``docs/build.md``; where each piece lives: ``docs/extensions.md``):

1. **Strict build.** Every Sphinx warning (an unresolved reference, a cell's stray stderr, a
   bad directive) is counted; when the build finishes with any, it raises, so
   ``jupyter-book build book`` exits non-zero after printing all of them. No ``-W`` flag is
   needed, so a contributor's plain command is as strict as CI.
2. **Cache that notices library changes.** jupyter-cache keys an executed notebook by its code
   cells only. Here each chapter also gets a *dependency fingerprint*
   (book/_ext/sgdbook_fingerprint.py: the sgdbook modules its code imports, transitively, the
   package's data files, the library lock, the installed torch build, the device kind). The
   fingerprint is stored twice: in the jupyter-cache record the chapter's execution produced (so
   a cached execution is used only when its code hash *and* its fingerprint match), and in the
   Sphinx environment next to the page's doctree (so a page whose fingerprint changed is read
   again even though its source file did not change). An edit to prose changes neither hash: the
   page is re-read from the cache, nothing executes.
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

The extension's per-build state is one :class:`BuildState` (see :func:`state`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
import traceback
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from tempfile import TemporaryDirectory
from types import SimpleNamespace
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import SphinxError
from sphinx.util import logging

_EXT_DIR = str(Path(__file__).resolve().parent)
if _EXT_DIR not in sys.path:  # loaded by file path (the tests) rather than from book/_ext
    sys.path.insert(0, _EXT_DIR)
from sgdbook_fingerprint import (  # noqa: E402
    FileMemo,
    Fingerprinter,
    dependencies,
    device_kind,
)

logger = logging.getLogger(__name__)

BOOK_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BOOK_DIR.parent
#: Key under which the fingerprint is stored in a jupyter-cache record's ``data``.
FINGERPRINT_KEY = "sgdbook_fingerprint"
#: Environment variable: number of notebooks executed at once (default: the usable cores, or 1
#: on a GPU).
JOBS_ENV = "SGDBOOK_BUILD_JOBS"
#: File in the cache folder with each chapter's last execution time (to start the longest first).
TIMES_FILE = "sgdbook_execution_times.json"
#: File in the doctree folder remembering each source file's hash and imports (by size, mtime).
MEMO_FILE = "sgdbook_file_memo.json"


class StrictBuildError(SphinxError):
    category = "Strict build"


class NotebookExecutionError(SphinxError):
    category = "Notebook execution failed"


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


# What a page could use to make the strict build lenient for itself: cell tags that let a cell
# raise, hide its stderr or skip execution, and page-level overrides (front matter ``mystnb:``)
# of the execution settings in _config.yml. The build refuses them, naming the page.
FORBIDDEN_TAGS = frozenset({"raises-exception", "remove-stderr", "skip-execution"})
FORBIDDEN_OVERRIDES = frozenset(
    {
        "execution_mode",
        "execution_allow_errors",
        "execution_raise_on_error",
        "execution_excludepatterns",
        "output_stderr",
    }
)


def leniency(notebook, metadata_key: str = "mystnb") -> list[str]:
    """What in a notebook would loosen the strict build (empty when nothing does)."""
    found = []
    overrides = notebook.metadata.get(metadata_key) or {}
    for key in sorted(set(overrides) & FORBIDDEN_OVERRIDES):
        found.append(f"front matter {metadata_key}.{key}")
    for index, cell in enumerate(notebook.cells):
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        for tag in sorted(tags & FORBIDDEN_TAGS):
            found.append(f"cell {index + 1}: tag {tag!r}")
        for key in sorted(
            set(cell.get("metadata", {}).get(metadata_key, {}) or {}) & FORBIDDEN_OVERRIDES
        ):
            found.append(f"cell {index + 1}: {metadata_key}.{key}")
    return found


def _refuse_leniency(page: _Page) -> None:
    found = leniency(page.notebook, page.nb_config.metadata_key)
    if found:
        raise StrictBuildError(
            f"{page.path}: the build is strict for every page, and this page loosens it: "
            + "; ".join(found)
            + " (remove them; see docs/build.md)"
        )


def _code_of(page: _Page) -> str:
    return "\x00".join(c.source for c in page.notebook.cells if c.cell_type == "code")


def _executed_by_cache(page: _Page) -> bool:
    """Whether myst-nb takes this page's outputs from jupyter-cache (cache mode, not excluded)."""
    cfg = page.nb_config
    if cfg.execution_mode != "cache":
        return False
    posix = PurePosixPath(page.path.as_posix())
    return not any(posix.match(p) for p in (cfg.execution_excludepatterns or ()))


# --------------------------------------------------------------------------------------------
# The extension's state during one build
# --------------------------------------------------------------------------------------------
@dataclass
class BuildState:
    """What one build computed once and later events reuse (dropped when the build finishes)."""

    #: Current fingerprint of every notebook page of the project.
    fingerprints: dict[str, str] = field(default_factory=dict)
    #: Pages already read (as myst-nb would) while finding their imports.
    pages: dict[str, _Page | None] = field(default_factory=dict)
    #: ``cpu`` or ``cuda``.
    kind: str = "cpu"
    #: Whether the fingerprints above have been computed for this build.
    ready: bool = False
    #: Whether this build read or removed any document (set while Sphinx reads).
    env_changed: bool = False
    #: Title and table of contents of each page about to be read, as they were before.
    headings: dict[str, str] = field(default_factory=dict)
    #: Whether the pages read kept their headings and the book its pages (then no other page
    #: needs writing for them: :func:`_write_only_what_changed`).
    headings_kept: bool = False
    #: The pages this build reads.
    read_docs: list[str] = field(default_factory=list)
    #: The figure and section numbers of each page about to be read, as they were before.
    numbers: dict[str, tuple] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[Sphinx, BuildState] = weakref.WeakKeyDictionary()


def state(app: Sphinx) -> BuildState:
    """The one :class:`BuildState` of ``app``'s current build."""
    if app not in _STATES:
        _STATES[app] = BuildState()
    return _STATES[app]


# --------------------------------------------------------------------------------------------
# Fingerprints of the project's pages
# --------------------------------------------------------------------------------------------
def _fingerprints(app: Sphinx, env) -> dict[str, str]:
    """Current fingerprints of every notebook page of the project (computed once per build).

    What a page imports is remembered in the environment with the file's size and mtime, and
    each library file's hash and imports in the doctree folder (:data:`MEMO_FILE`), so a rebuild
    reads only the pages and parses only the library files that changed.
    """
    st = state(app)
    if st.ready:
        return st.fingerprints
    memo = FileMemo(Path(app.doctreedir) / MEMO_FILE)
    fingerprint = Fingerprinter(memo)
    sources = env.__dict__.setdefault("sgdbook_sources", {})
    for docname in sorted(env.found_docs):
        try:
            stat = Path(env.doc2path(docname)).stat()
        except OSError:
            continue
        key = (stat.st_mtime_ns, stat.st_size)
        if docname not in sources or sources[docname][0] != key:
            page = st.pages[docname] = _read_page(env, docname)
            sources[docname] = (key, None if page is None else dependencies(_code_of(page)))
        deps = sources[docname][1]
        if deps is not None:
            st.fingerprints[docname] = fingerprint(deps)
    memo.save()
    st.kind, st.ready = fingerprint.kind, True
    return st.fingerprints


def _outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages whose doctree was made with another fingerprint than today's: read them again."""
    fps = _fingerprints(app, env)
    seen = getattr(env, "sgdbook_fingerprints", {})
    stale = sorted(
        d for d, fp in fps.items() if seen.get(d) != fp and d not in added and d not in changed
    )
    if stale:
        logger.info("[sgdbook] library, lock or device changed under: %s", ", ".join(stale))
    return stale


# --------------------------------------------------------------------------------------------
# Executing one notebook (in a worker process)
# --------------------------------------------------------------------------------------------
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
                result = single_nb_execution(
                    notebook,
                    cwd=os.path.abspath(where),
                    timeout=timeout,
                    allow_errors=allow_errors,
                    meta_override=True,
                )
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


def _execution_args(page: _Page) -> tuple:
    cfg = page.nb_config
    return (
        page.notebook,
        str(page.path.parent),
        bool(cfg.execution_in_temp),
        cfg.execution_timeout,
        bool(cfg.execution_allow_errors),
    )


# --------------------------------------------------------------------------------------------
# Pre-execution, step by step
# --------------------------------------------------------------------------------------------
def _pages_to_check(app: Sphinx, env, docnames: list[str]) -> list[_Page]:
    """Step 1: the notebook pages about to be read that myst-nb takes from jupyter-cache; each
    one's current fingerprint is recorded in the environment next to its doctree."""
    st = state(app)
    fps = _fingerprints(app, env)
    recorded = env.__dict__.setdefault("sgdbook_fingerprints", {})
    pages = []
    for docname in docnames:
        if docname not in fps:
            continue
        recorded[docname] = fps[docname]
        page = st.pages[docname] if docname in st.pages else _read_page(env, docname)
        if page is not None:
            _refuse_leniency(page)
        if page is not None and _executed_by_cache(page):
            pages.append(page)
    return pages


def _stale_pages(cache, pages: list[_Page], fps: dict[str, str]) -> list[_Page]:
    """Step 2: the pages without a cached execution of the same code *and* fingerprint, one per
    distinct code and fingerprint; a cached record with another fingerprint is removed."""
    todo: dict[str, _Page] = {}
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
    return list(todo.values())


def _longest_first(pages: list[_Page], times: dict[str, float]) -> list[_Page]:
    """Step 3: by the last recorded execution time, unknown ones first (the shortest total)."""
    return sorted(pages, key=lambda page: -times.get(page.docname, float("inf")))


def _run(pages: list[_Page], jobs: int, finish: Callable[[_Page, Any], None]) -> None:
    """Step 4: execute ``pages``, ``jobs`` at a time; ``finish(page, outcome)`` for each."""
    if jobs == 1:
        for page in pages:
            finish(page, _execute_one(*_execution_args(page)))
        return
    import multiprocessing

    # fork on Linux (cheap; nothing heavy such as torch is imported in this process yet),
    # spawn elsewhere (macOS libraries do not survive a fork)
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(_execute_one, *_execution_args(page)): page for page in pages}
        for future in as_completed(futures):
            finish(futures[future], future.result())


def _store(cache, page: _Page, notebook, seconds: float, fp: str, kind: str) -> None:
    """Step 5: put a successful execution in jupyter-cache, with its fingerprint."""
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    stage = (
        cache.add_nb_to_project(str(page.path), read_data=page.read_fmt)
        if page.read_fmt
        else cache.add_nb_to_project(str(page.path))
    )
    NbProjectRecord.remove_tracebacks([stage.pk], cache.db)
    cache.cache_notebook_bundle(
        CacheBundleIn(
            notebook,
            stage.uri,
            data={"execution_seconds": seconds, FINGERPRINT_KEY: fp, "sgdbook_device": kind},
        ),
        check_validity=False,
        overwrite=True,
    )


def _report_failures(app: Sphinx, env, failures: list[tuple[_Page, str, str]]) -> None:
    """Step 6: save each failure's traceback, forget its fingerprint (so the page is read, and
    executed, again next time) and stop the build listing them all."""
    reports = []
    for page, error, exc_string in failures:
        report = Path(app.outdir) / "reports" / f"{page.docname}.err.log"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(exc_string, encoding="utf-8")
        reports.append(f"{page.path} ({error}; traceback saved in {report}):\n{exc_string}")
        env.sgdbook_fingerprints.pop(page.docname, None)
    raise NotebookExecutionError(
        f"{len(failures)} notebook(s) raised while executing:\n\n" + "\n\n".join(reports)
    )


def _pre_execute(app: Sphinx, env, docnames: list[str]) -> None:
    """Execute, in parallel, the notebook pages about to be read that have no valid cached run."""
    pages = _pages_to_check(app, env, docnames)
    if not pages:
        return
    from jupyter_cache import get_cache

    cache = get_cache(env.mystnb_config.execution_cache_path or ".jupyter_cache")
    fps, kind = state(app).fingerprints, state(app).kind
    todo = _stale_pages(cache, pages, fps)
    if not todo:
        return
    times_file = Path(cache.path) / TIMES_FILE
    try:
        times = json.loads(times_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        times = {}
    todo = _longest_first(todo, times)
    jobs = min(build_jobs(kind), len(todo))
    logger.info(
        "[sgdbook] executing %d notebook(s), %d at a time (%s): %s",
        len(todo),
        jobs,
        kind,
        ", ".join(p.docname for p in todo),
    )
    failures: list[tuple[_Page, str, str]] = []
    started = time.perf_counter()

    def finish(page: _Page, outcome) -> None:
        notebook, seconds, error, exc_string = outcome
        if error is not None:
            failures.append((page, error, exc_string or ""))
            logger.info("[sgdbook] FAILED %s after %.1f s (%s)", page.docname, seconds, error)
            return
        _store(cache, page, notebook, seconds, fps[page.docname], kind)
        times[page.docname] = round(seconds, 2)
        logger.info("[sgdbook] executed %s in %.1f s", page.docname, seconds)

    _run(todo, jobs, finish)
    logger.info(
        "[sgdbook] executed %d notebook(s) in %.1f s", len(todo), time.perf_counter() - started
    )
    with suppress(OSError):
        times_file.write_text(json.dumps(times, indent=1, sort_keys=True), encoding="utf-8")
    if failures:
        _report_failures(app, env, failures)


def _purge(app: Sphinx, env, docname: str) -> None:
    state(app).env_changed = True
    getattr(env, "sgdbook_skeletons", {}).pop(docname, None)
    getattr(env, "sgdbook_xrefs", {}).pop(docname, None)
    # keep the fingerprint recorded by _pre_execute for a page that is about to be read again;
    # drop it for a page that no longer exists
    if docname not in env.found_docs:
        getattr(env, "sgdbook_fingerprints", {}).pop(docname, None)
        getattr(env, "sgdbook_sources", {}).pop(docname, None)


def _merge(app: Sphinx, env, docnames, other) -> None:
    for name in ("sgdbook_fingerprints", "sgdbook_sources", "sgdbook_skeletons", "sgdbook_xrefs"):
        setattr(env, name, {**getattr(env, name, {}), **getattr(other, name, {})})


# --------------------------------------------------------------------------------------------
# Work Sphinx repeats after reading even when it read nothing
# --------------------------------------------------------------------------------------------
def _headings(env, docname: str) -> str:
    title, toc = env.titles.get(docname), env.tocs.get(docname)
    return f"{title.astext() if title else ''}\0{toc.astext() if toc else ''}"


def _note_read(app: Sphinx, env, docnames: list[str]) -> None:
    """Last ``env-before-read-docs`` handler: whether any document is about to be read, and
    the headings of those already known (see :func:`_rewrite_on_new_headings`)."""
    if docnames:
        state(app).env_changed = True
    state(app).read_docs = list(docnames)
    state(app).headings = {d: _headings(env, d) for d in docnames if d in env.all_docs}
    state(app).numbers = {d: _numbers(env, d) for d in docnames if d in env.all_docs}


def _numbers(env, docname: str) -> tuple:
    return env.toc_fignumbers.get(docname), env.toc_secnumbers.get(docname)


def _rewrite_on_new_headings(app: Sphinx, env) -> list[str]:
    """Every page, when a page read again has another title or table of contents.

    Each page's sidebar and previous/next links show the other pages' titles, but Sphinx
    writes again only the page read and the pages whose toctree lists it; a clean build would
    show the new title everywhere. A prose edit that keeps the headings writes only its page.
    """
    st = state(app)
    before = st.headings
    found = set(env.found_docs)
    same_pages = getattr(env, "sgdbook_found_docs", None) == found
    env.sgdbook_found_docs = found
    if any(_headings(env, d) != old for d, old in before.items()):
        logger.info("[sgdbook] a title or section heading changed: every page is written")
        return sorted(env.found_docs)
    st.headings_kept = same_pages and set(before) == set(st.read_docs)
    return []


def _write_only_what_changed(app: Sphinx) -> None:
    """Write only the pages read, when their headings and the book's pages are unchanged.

    Sphinx also writes the front page on every build, and every page whose toctree lists a page
    it read, because those show the page's title and sections. When they are what they were
    (:func:`_rewrite_on_new_headings` compares them) and no page was added or removed, those
    pages would be written byte for byte as before; skipping them saves about half a second
    of every prose edit.
    """
    builder = app.builder
    if builder.format != "html" or getattr(builder.write, "__wrapped__", None) is not None:
        return
    original = builder.write

    def write(build_docnames, updated_docnames, method="update"):
        if method != "update" or not state(app).headings_kept or build_docnames is None:
            return original(build_docnames, updated_docnames, method)
        needed = set(build_docnames) | set(updated_docnames)
        prepare, serial, parallel = (
            builder.prepare_writing,
            builder._write_serial,
            builder._write_parallel,
        )
        # prepare_writing too: the search index drops the entries of the pages it is given,
        # expecting them to be fed again as they are written
        builder.prepare_writing = lambda docnames: prepare({d for d in docnames if d in needed})
        builder._write_serial = lambda docnames: serial([d for d in docnames if d in needed])
        builder._write_parallel = lambda docnames, nproc: parallel(
            [d for d in docnames if d in needed], nproc
        )
        try:
            return original(build_docnames, updated_docnames, method)
        finally:  # the class's methods again
            del builder.prepare_writing, builder._write_serial, builder._write_parallel

    write.__wrapped__ = original  # type: ignore[attr-defined]
    builder.write = write


def _targets(app: Sphinx, env) -> set[tuple[str, str, str]]:
    """Every cross-reference target of the book: labels, equations, theorems, terms, objects."""
    found = set()
    for domain in env.domains.values():
        with suppress(Exception):  # a domain without objects
            found.update((domain.name, name, kind) for name, _, kind, *_ in domain.get_objects())
    found.update(("std", name, "label") for name in env.domaindata.get("std", {}).get("labels", {}))
    return found


def _rewrite_on_removed_targets(app: Sphinx, env) -> list[str]:
    """Every page, when a page read again no longer defines a target it defined before.

    Sphinx resolves a page's references only when it writes the page, and it writes only the
    pages it read: a reference on an unchanged page to a label that was just removed would stay
    a dangling link in an incremental build. Writing every page resolves every reference again,
    so the missing label is reported (a warning, hence an error) as in a clean build.
    """
    now = _targets(app, env)
    before = getattr(env, "sgdbook_targets", None)
    env.sgdbook_targets = now
    if before is not None and before - now:
        lost = sorted(name for _, name, _ in before - now)
        logger.info("[sgdbook] targets removed (%s): every page is written", ", ".join(lost[:5]))
        return sorted(env.found_docs)
    return []


def _when_env_changed(app: Sphinx, handler: Callable, default: Any) -> Callable:
    def wrapped(app_: Sphinx, env, *args):
        if not state(app_).env_changed:
            return default
        return handler(app_, env, *args)

    wrapped.__wrapped__ = handler  # type: ignore[attr-defined]
    return wrapped


def _skip_unneeded_recomputation(app: Sphinx) -> None:
    """Skip two whole-book recomputations when the build read and removed no document.

    After reading, Sphinx's toctree collector numbers every figure of the book again by
    unpickling every page's doctree (``env-get-updated``), and sphinxcontrib-bibtex formats
    every citation again (``env-updated``), even when no page was read: together most of a
    no-change rebuild. Both only recompute what the saved environment already holds (the
    figure numbers and citations of the same doctrees), so with nothing read they are skipped;
    as soon as one page is read or removed both run as before.
    """
    from sphinx.environment.collectors.toctree import TocTreeCollector

    listeners = app.events.listeners
    for event, default in (("env-get-updated", []), ("env-updated", None)):
        for i, listener in enumerate(listeners.get(event, [])):
            handler = listener.handler
            if getattr(handler, "__wrapped__", None) is not None:
                continue
            owner = getattr(handler, "__self__", None)
            if event == "env-get-updated" and isinstance(owner, TocTreeCollector):
                listeners[event][i] = listener._replace(
                    handler=_when_env_changed(app, _on_skeletons(handler), default)
                )
            elif (
                event == "env-updated"
                and getattr(handler, "__module__", "") == "sphinxcontrib.bibtex"
            ):
                listeners[event][i] = listener._replace(
                    handler=_when_env_changed(app, handler, default)
                )


def _figtype(env, node) -> str | None:
    """Sphinx's ``assign_figure_numbers.get_figtype`` (the same rule, Sphinx 7.4)."""
    for domain in env.domains.values():
        figtype = domain.get_enumerable_node_type(node)
        if domain.name == "std" and not domain.get_numfig_title(node):
            continue  # an uncaptioned node
        if figtype:
            return figtype
    return None


def _enumerable_classes(env) -> set[type] | None:
    """The node classes :func:`_figtype` can number, or None when a domain decides otherwise.

    Every domain but ``std`` looks a node's class up in its ``enumerable_nodes``; ``std`` adds
    sections (handled before) and containers holding a literal block. Testing the class first
    spares the domain loop for the tens of thousands of other nodes of a chapter.
    """
    from sphinx.domains import Domain
    from sphinx.domains.std import StandardDomain

    classes: set[type] = set()
    for domain in env.domains.values():
        method = type(domain).get_enumerable_node_type
        if method not in (Domain.get_enumerable_node_type, StandardDomain.get_enumerable_node_type):
            return None
        classes.update(domain.enumerable_nodes)
    return classes


def skeleton(env, node):
    """What Sphinx's figure numbering reads of a doctree, in the same order: sections (their
    ids), toctrees (their entries) and numbered nodes with ids (whole captions, titles and
    literal blocks, so that they are recognised as before); every other element is replaced by
    its children's skeletons. Walking it assigns the same numbers as walking the doctree."""
    from docutils import nodes
    from sphinx import addnodes

    candidates = _enumerable_classes(env)

    def children(element) -> list:
        kept = []
        for child in element.children:
            kept.extend(parts(child))
        return kept

    def parts(child) -> list:
        if isinstance(child, (nodes.section, addnodes.toctree)):
            copy = child.copy()
            copy.extend(children(child))
            return [copy]
        if not isinstance(child, nodes.Element):
            return []
        if (
            candidates is not None
            and child.__class__ not in candidates
            and not isinstance(child, nodes.container)  # std: a container with a literal block
        ):
            return children(child)
        figtype = _figtype(env, child)
        if not (figtype and child["ids"]):
            return children(child)
        copy = child.copy()
        for sub in child.children:
            if isinstance(sub, (nodes.caption, nodes.title, nodes.literal_block)):
                copy.append(sub.deepcopy())
            else:
                copy.extend(parts(sub))
        return [copy] if _figtype(env, copy) == figtype else [child.deepcopy()]

    root = nodes.Element()
    root.extend(children(node))
    for element in root.findall(nodes.Node):
        element.document = None  # a copy still points to the whole document: not pickled
    return root


def _doctree_key(env, docname: str) -> tuple[int, int] | None:
    """The modification time and size of a page's pickled doctree (None: not written yet)."""
    try:
        stat = Path(env.doctreedir, docname + ".doctree").stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _on_skeletons(handler: Callable) -> Callable:
    """Run the toctree collector's numbering with :func:`skeleton` doctrees.

    Numbering figures unpickles every page's whole doctree on every build that reads a page
    (seconds for this book); the skeletons are a few kB each, kept in the environment and made
    again only for a page whose doctree file changed.
    """
    import pickle

    def wrapped(app: Sphinx, env, *args):
        saved = env.__dict__.setdefault("sgdbook_skeletons", {})
        full = env.get_doctree

        def get_doctree(docname: str):
            key = _doctree_key(env, docname)
            if key is None:
                return full(docname)
            if docname not in saved or saved[docname][0] != key:
                saved[docname] = (
                    key,
                    pickle.dumps(skeleton(env, full(docname)), pickle.HIGHEST_PROTOCOL),
                )
            return pickle.loads(saved[docname][1])

        env.get_doctree = get_doctree
        try:
            renumbered = handler(app, env, *args)
        finally:
            del env.get_doctree  # the class's method again
        # a page read again lost its numbers when it was purged: Sphinx counts it as renumbered;
        # a page read for the first time has no citing page that was resolved against it
        st = state(app)
        before, read = st.numbers, set(st.read_docs)
        changed = {
            d
            for d in renumbered
            if (before[d] != _numbers(env, d) if d in before else d not in read)
        }
        return sorted(set(renumbered) | _citing_pages(env, changed))

    return wrapped


def _note_xrefs(app: Sphinx, doctree) -> None:
    """Remember the targets a page refers to (see :func:`_citing_pages`)."""
    from sphinx import addnodes

    targets = {
        node["reftarget"]
        for node in doctree.findall(addnodes.pending_xref)
        if node.get("reftarget")
    }
    app.env.__dict__.setdefault("sgdbook_xrefs", {})[app.env.docname] = sorted(targets)


def _target_pages(env) -> dict[str, set[str]]:
    """Each cross-reference target's name (as written and lower-cased) and its pages."""
    pages: dict[str, set[str]] = {}

    def note(name: str, docname: str) -> None:
        for key in {name, name.lower()}:
            pages.setdefault(key, set()).add(docname)

    for domain in env.domains.values():
        with suppress(Exception):  # a domain without objects
            for name, _, _, docname, *_ in domain.get_objects():
                note(name, docname)
    # sphinx-proof and sphinx-exercise keep their targets outside get_objects
    for registry in ("proof_list", "sphinx_exercise_registry"):
        for name, entry in (getattr(env, registry, None) or {}).items():
            if isinstance(entry, dict) and entry.get("docname"):
                note(name, entry["docname"])
    return pages


def _citing_pages(env, renumbered: set[str]) -> set[str]:
    """The pages that refer to a target on a page whose figure, table, equation, theorem or
    exercise numbers changed.

    Sphinx writes again the pages whose own numbers changed, not the pages citing them: after
    a table was inserted before a cited one, a chapter's ``表 1`` would still stand where a
    clean build writes ``表 2``. Any reference into a renumbered page counts (a section's or a
    figure's label, an equation, a theorem), which may write a page more than needed, never
    less.
    """
    if not renumbered:
        return set()
    pages = _target_pages(env)
    citing = set()
    for docname, targets in getattr(env, "sgdbook_xrefs", {}).items():
        if any(pages.get(target, set()) & renumbered for target in targets):
            citing.add(docname)
    if citing - renumbered:
        logger.info(
            "[sgdbook] numbers changed on %s: written again with the pages citing them (%s)",
            ", ".join(sorted(renumbered)),
            ", ".join(sorted(citing - renumbered)),
        )
    return citing


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


def _forget_state(app: Sphinx, exception: Exception | None) -> None:
    _STATES.pop(app, None)


def _detach_exercise_copies(app: Sphinx, env) -> None:
    """Keep sphinx-exercise's registry from carrying whole doctrees into the environment.

    sphinx-exercise keeps each exercise node (a deep copy, which docutils still points to its
    page's document) and each solution node (the node itself, with its parents) in
    ``env.sphinx_exercise_registry``, so pickling the environment pickled the whole doctree of
    every page with exercises as well: three fifths of a 4.9 MB ``environment.pickle``, read
    and written again by every rebuild. Its post transforms only read the registered nodes'
    classes, titles and text (a solution's title is resolved on the registered node itself),
    never their document or parents; a page not read in this build already gets such a
    detached copy from the pickle, so every page is now treated alike.
    """
    from docutils import nodes

    for entry in getattr(env, "sphinx_exercise_registry", {}).values():
        node = entry.get("node")
        if not isinstance(node, nodes.Element):
            continue
        if node.parent is not None:  # a node of the page's doctree: registered as a copy
            node = entry["node"] = node.deepcopy()
        for element in node.findall(nodes.Node):
            element.document = None


_NUMREF_DOCTREES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _skeleton_ids(env, docname: str, key: tuple) -> dict:
    """The ids of the numbered nodes (and sections) of a page's current :func:`skeleton`."""
    import pickle

    from docutils import nodes

    saved = getattr(env, "sgdbook_skeletons", {}).get(docname)
    if saved is None or saved[0] != key:
        return {}
    ids = {}
    for element in pickle.loads(saved[1]).findall(nodes.Element):
        for id_ in element["ids"]:
            ids.setdefault(id_, element)
    return ids


def _numref_reads_each_doctree_once() -> None:
    """Let ``:numref:`` unpickle each target page's doctree once per build, not once per reference.

    Sphinx's ``StandardDomain._resolve_numref_xref`` looks the target up with
    ``env.get_doctree(docname)``, which unpickles that page's whole doctree on every call: a
    chapter citing figures and sections of the large chapters spent most of a second of its
    prose-edit rebuild there. It only reads the target node (its ids, its type, for a code
    block its literal block) to find its number. A numbered node is looked up in the page's
    :func:`skeleton` (kept for figure numbering, a few kB; it holds a copy of every numbered
    node with its ids); any other target in the whole doctree, loaded once per page. Both are
    used only while they match the page's doctree file (size, mtime).
    """
    from sphinx.domains.std import StandardDomain

    original = StandardDomain._resolve_numref_xref
    if getattr(original, "sgdbook", False):
        return

    def resolve(self, env, fromdocname, builder, typ, target, node, contnode):
        full = env.get_doctree
        memo = _NUMREF_DOCTREES.setdefault(env, {})
        labelid = (self.labels.get(target) or self.anonlabels.get(target) or ("", ""))[1]

        def get_doctree(docname: str):
            key = _doctree_key(env, docname)
            if key is None:
                return full(docname)
            if docname not in memo or memo[docname][0] != key:
                memo[docname] = (key, _skeleton_ids(env, docname, key), None)
            key_, ids, tree = memo[docname]
            if labelid in ids:  # a numbered node: its skeleton copy answers as the tree would
                return SimpleNamespace(ids=ids)
            if tree is None:
                tree = full(docname)
                memo[docname] = (key_, ids, tree)
            return tree

        env.get_doctree = get_doctree
        try:
            return original(self, env, fromdocname, builder, typ, target, node, contnode)
        finally:
            del env.get_doctree  # the class's method again

    resolve.sgdbook = True  # type: ignore[attr-defined]
    StandardDomain._resolve_numref_xref = resolve


def _entry_points_looked_up_once() -> None:
    """Remember pybtex's and sphinxcontrib-bibtex's entry-point lookups for the process.

    Both look their style and backend plugins up with ``importlib.metadata.entry_points``,
    which reads the metadata of every installed distribution, on every citation they format or
    resolve: a tenth to a fifth of a second of a chapter's rebuild. The installed distributions
    do not change while Sphinx runs; plugins registered at run time are still looked up first,
    as before, because only the entry-point scan is remembered.
    """
    import functools

    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    for module in (pybtex.plugin, sphinxcontrib.bibtex.plugin):
        lookup = module.entry_points
        if getattr(lookup, "sgdbook", False):
            continue

        @functools.cache
        def remembered(group: str, name: str | None, _lookup=lookup) -> tuple:
            if name is None:
                return tuple(_lookup(group=group))
            return tuple(_lookup(group=group, name=name))

        def entry_points(*, group: str, name: str | None = None, _remembered=remembered) -> tuple:
            return _remembered(group, name)

        entry_points.sgdbook = True  # type: ignore[attr-defined]
        module.entry_points = entry_points


def _deterministic_amsmath_labels() -> None:
    """Number unlabelled amsmath environments with ids made from the page and their position.

    myst-parser gives each numbered ``\\begin{align}`` without a label a random id
    (``uuid4``), so every build of a page would change its equations' anchors, and a page not
    written again would keep other ids than a clean build gives it. The ids here are the same
    on every build: ``<page>-amsmath-<n>`` for the n-th such environment of the page.
    """
    from myst_parser.mdit_to_docutils.sphinx_ import SphinxRenderer

    if getattr(SphinxRenderer._random_label, "sgdbook", False):
        return

    def _label(self) -> str:
        counts = self.document.__dict__.setdefault("sgdbook_amsmath", [0])
        counts[0] += 1
        page = re.sub(r"[^0-9A-Za-z]+", "-", self.sphinx_env.docname).strip("-")
        return f"{page}-amsmath-{counts[0]}"

    _label.sgdbook = True  # type: ignore[attr-defined]
    SphinxRenderer._random_label = _label


def setup(app: Sphinx) -> dict:
    _deterministic_amsmath_labels()
    _numref_reads_each_doctree_once()
    _entry_points_looked_up_once()
    app.connect("config-inited", _resolve_paths)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _pre_execute)
    app.connect("env-before-read-docs", _note_read, priority=999)
    app.connect("builder-inited", _skip_unneeded_recomputation)
    app.connect("builder-inited", _write_only_what_changed)
    app.connect("env-updated", _rewrite_on_new_headings)
    app.connect("env-updated", _rewrite_on_removed_targets)
    app.connect("env-updated", _detach_exercise_copies, priority=900)
    app.connect("doctree-read", _note_xrefs)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _forget_state)
    app.connect("build-finished", _refresh_static)
    app.connect("build-finished", _fail_on_warnings, priority=900)
    return {
        "version": "2.0",
        "env_version": 2,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }


__all__ = [
    "setup",
    "BuildState",
    "state",
    "build_jobs",
    "device_kind",
    "dependencies",
    "Fingerprinter",
    "leniency",
    "FORBIDDEN_TAGS",
    "FORBIDDEN_OVERRIDES",
]
