"""Local Sphinx extension that makes the book build strict and its execution cache honest.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``. It does three things:

1. **Strict build.** Every Sphinx warning (an unresolved reference, a cell's stray stderr, a
   bad directive) is counted; when the build finishes with any, it raises, so
   ``jupyter-book build book`` exits non-zero after printing all of them. No ``-W`` flag is
   needed, so a contributor's plain command is as strict as CI.
2. **Cache that notices library changes.** jupyter-cache keys an executed notebook by its code
   cells only. Here each chapter also gets a *dependency fingerprint*: the hash of every
   ``sgdbook`` module it imports (transitively) and of the library lock. When a fingerprint
   changes, the chapter's cached execution is dropped and Sphinx is told to re-read the page,
   so it executes again. An edit to prose changes nothing here and re-executes nothing.
3. **Paths.** Resolves the jieba user dictionary for the Chinese search index relative to the
   book, not to the directory the command was started from.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import SphinxError
from sphinx.util import logging

logger = logging.getLogger(__name__)

BOOK_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BOOK_DIR.parent
PACKAGE_DIR = REPO_ROOT / "sgdbook"
LOCK_FILE = REPO_ROOT / "requirements" / "lock.txt"
DEPS_FILE_NAME = "sgdbook_deps.json"

_IMPORT_RE = re.compile(r"^\s*(?:from|import)\s+(sgdbook(?:\.[\w.]+)?)", re.MULTILINE)


class StrictBuildError(SphinxError):
    category = "Strict build"


# --------------------------------------------------------------------------------------------
# Dependency fingerprints
# --------------------------------------------------------------------------------------------
def _module_file(module: str) -> Path | None:
    """Map a dotted sgdbook module name to its source file (package ``__init__`` included)."""
    parts = module.split(".")
    base = REPO_ROOT.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _imports_of(path: Path, module: str) -> set[str]:
    """sgdbook modules imported by one source file (absolute and relative imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "sgdbook")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != "sgdbook":
                continue
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


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


def data_files() -> list[Path]:
    """Non-Python files shipped in the package (data, fonts): chapters may read any of them."""
    return sorted(p for p in PACKAGE_DIR.rglob("*") if p.is_file() and p.suffix not in {".py", ".pyc"}
                  and "__pycache__" not in p.parts)


def fingerprint(source: str) -> str:
    """Hash of everything a chapter's execution depends on besides its own code cells."""
    roots = set(_IMPORT_RE.findall(source))
    digest = hashlib.sha256()
    digest.update(LOCK_FILE.read_bytes() if LOCK_FILE.is_file() else b"no-lock")
    if roots:
        for name, path in sorted(module_closure(roots).items()):
            digest.update(name.encode())
            digest.update(path.read_bytes())
        for path in data_files():
            digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_dir(app: Sphinx) -> Path:
    configured = app.config.nb_execution_cache_path
    return Path(configured) if configured else Path(app.outdir).parent / ".jupyter_cache"


def _stale_docs(app: Sphinx) -> tuple[dict[str, str], set[str]]:
    """Current fingerprints of every notebook page, and the pages whose fingerprint changed."""
    deps_file = _cache_dir(app) / DEPS_FILE_NAME
    old = json.loads(deps_file.read_text()) if deps_file.is_file() else {}
    new: dict[str, str] = {}
    for path in sorted(Path(app.srcdir).rglob("*.md")):
        if "_build" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "kernelspec" not in text.split("---", 2)[1 if text.startswith("---") else 0][:4000]:
            continue  # not an executable notebook page
        docname = path.relative_to(app.srcdir).with_suffix("").as_posix()
        new[docname] = fingerprint(text)
    stale = {d for d, h in new.items() if old.get(d) not in (None, h)}
    return new, stale


def _invalidate(app: Sphinx) -> None:
    """Drop cached executions whose library dependencies changed; remember new fingerprints."""
    new, stale = _stale_docs(app)
    app.env.sgdbook_stale_docs = stale  # type: ignore[attr-defined]
    cache_dir = _cache_dir(app)
    if stale and (cache_dir / "global.db").is_file():
        from jupyter_cache import get_cache

        cache = get_cache(str(cache_dir))
        stale_paths = {str((Path(app.srcdir) / d).with_suffix(".md").resolve()) for d in stale}
        for record in cache.list_cache_records():
            if str(Path(record.uri).resolve()) in stale_paths:
                cache.remove_cache(record.pk)
        logger.info("[sgdbook] library changed under: %s (re-executing)", ", ".join(sorted(stale)))
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / DEPS_FILE_NAME).write_text(json.dumps(new, indent=1, sort_keys=True))


def _outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    return sorted(getattr(env, "sgdbook_stale_docs", set()) - set(added) - set(changed))


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
        raise StrictBuildError(
            f"the build emitted {app._warncount} warning(s), listed above; the book's build is "
            "strict (see book/_ext/sgdbook_build.py), fix them"
        )


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _resolve_paths)
    app.connect("builder-inited", _invalidate)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _fail_on_warnings, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
