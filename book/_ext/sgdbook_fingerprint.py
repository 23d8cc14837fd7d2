"""Dependency fingerprints of the book's chapters (plain Python: no Sphinx needed).

Used by the ``sgdbook_build`` extension (book/_ext/sgdbook_build.py; design in docs/build.md).
jupyter-cache keys an executed notebook by its code cells only; a chapter's *fingerprint* adds
everything else its outputs depend on: the hash of every ``sgdbook`` module its code cells import
(transitively, parent packages and the package's data files included), of the library lock, of
the installed torch build and of the device kind (``cpu`` or ``cuda``).

What each source file imports and its hash are remembered by file size and modification time
(:class:`FileMemo`, saved in the build folder), so a rebuild parses and hashes only the files
that changed.
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
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = "sgdbook"
PACKAGE_DIR = REPO_ROOT / PACKAGE
LOCK_FILE = REPO_ROOT / "requirements" / "lock.txt"

_IMPORT_RE = re.compile(rf"^\s*(?:from|import)\s+({PACKAGE}(?:\.[\w.]+)?)", re.MULTILINE)
_MAGIC_RE = re.compile(r"^\s*[%!].*$", re.MULTILINE)


# --------------------------------------------------------------------------------------------
# Device kind (decided without importing torch in the Sphinx process)
# --------------------------------------------------------------------------------------------
def torch_build() -> str:
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
    if "+cpu" in torch_build() or os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return "cpu"
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "cpu"
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return "cpu"
    return "cuda" if out.returncode == 0 and "GPU" in out.stdout else "cpu"


# --------------------------------------------------------------------------------------------
# Imports of the package's modules and of chapters' code
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


class FileMemo:
    """Each file's sha256 and (for package modules) imports, keyed by its size and mtime.

    Loaded from and saved to a JSON file (in the build folder) so that a rebuild neither hashes
    nor parses a file that did not change. Without a path it lives for one process only.
    """

    VERSION = 1

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._entries: dict[str, dict] = {}
        self._dirty = False
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("version") == self.VERSION:
                    self._entries = data["files"]
            except (OSError, ValueError, KeyError, TypeError):
                pass

    def _entry(self, path: Path) -> dict:
        stat = path.stat()
        key = [stat.st_mtime_ns, stat.st_size]
        entry = self._entries.get(str(path))
        if entry is None or entry.get("stat") != key:
            entry = self._entries[str(path)] = {"stat": key}
            self._dirty = True
        return entry

    def sha256(self, path: Path) -> str:
        entry = self._entry(path)
        if "sha256" not in entry:
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            self._dirty = True
        return entry["sha256"]

    def imports(self, path: Path, module: str) -> set[str]:
        entry = self._entry(path)
        cached = entry.get("imports", {}).get(module)
        if cached is None:
            cached = sorted(_imports_of(path, module))
            entry.setdefault("imports", {})[module] = cached
            self._dirty = True
        return set(cached)

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(
                json.dumps({"version": self.VERSION, "files": self._entries}), encoding="utf-8"
            )
            tmp.replace(self.path)
            self._dirty = False
        except OSError:
            pass


def module_closure(roots: set[str], memo: FileMemo | None = None) -> dict[str, Path]:
    """All sgdbook modules reachable from ``roots``, with every parent package included."""
    memo = memo or FileMemo()
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
        todo.extend(memo.imports(path, module))
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


def data_files() -> list[Path]:
    """Non-Python files shipped in the package (data, fonts): chapters may read any of them."""
    return sorted(
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    )


# --------------------------------------------------------------------------------------------
# Fingerprints
# --------------------------------------------------------------------------------------------
class Fingerprinter:
    """Computes chapters' dependency fingerprints, hashing and parsing each file at most once
    (per build, or across builds with a saved :class:`FileMemo`)."""

    def __init__(self, memo: FileMemo | None = None) -> None:
        self.kind = device_kind()
        self.memo = memo or FileMemo()
        base = hashlib.sha256()
        base.update(LOCK_FILE.read_bytes() if LOCK_FILE.is_file() else b"no-lock")
        base.update(f"\0device={self.kind}\0torch={torch_build()}\0".encode())
        self._base = base.hexdigest()
        self._data: str | None = None

    def _data_hash(self) -> str:
        if self._data is None:
            digest = hashlib.sha256()
            for path in data_files():
                rel = path.relative_to(PACKAGE_DIR).as_posix()
                digest.update(f"{rel}\0{self.memo.sha256(path)}\0".encode())
            self._data = digest.hexdigest()
        return self._data

    def __call__(self, deps: tuple[str, ...]) -> str:
        """Fingerprint of a chapter whose code imports ``deps`` (see :func:`dependencies`)."""
        digest = hashlib.sha256(self._base.encode())
        modules = (
            all_modules()
            if deps == ("*",)
            else module_closure(set(deps), self.memo)
            if deps
            else {}
        )
        for name, path in sorted(modules.items()):
            digest.update(f"{name}\0{self.memo.sha256(path)}\0".encode())
        if modules:
            digest.update(self._data_hash().encode())
        return digest.hexdigest()


__all__ = [
    "FileMemo",
    "Fingerprinter",
    "all_modules",
    "data_files",
    "dependencies",
    "device_kind",
    "imported_modules",
    "module_closure",
    "torch_build",
]
