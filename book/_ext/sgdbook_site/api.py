"""API reference: the page holding ``<!-- sgdbook-api-modules -->`` (book/appendix/api.md) gets
one section per public ``sgdbook`` module, found by walking the package, so a new module appears
without editing the page; the page is read again when a module is added or removed."""

from __future__ import annotations

import ast

from sphinx.application import Sphinx

from . import common

API_MARKER = "<!-- sgdbook-api-modules -->"


def public_modules() -> list[str]:
    """Dotted names of every public module of sgdbook (no component starting with ``_``)."""
    package_dir = common.PACKAGE_DIR
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if len(parts) == 1:
                continue  # the top-level package: only __version__
        if any(p.startswith("_") for p in parts) or "__pycache__" in parts:
            continue
        found.append(".".join(parts))
    return sorted(found, key=_map_position)


def _module_groups() -> list[str]:
    """The modules of ``sgdbook.MODULE_GROUPS`` in order, read from the source (not imported:
    the build may run another copy of the package than the one it documents)."""
    tree = ast.parse((common.PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "MODULE_GROUPS":
            return ["sgdbook." + m for _, group in ast.literal_eval(node.value) for m in group]
    return []


def _map_position(module: str) -> tuple[int, str]:
    """The API page follows the package map: each listed module, with its package just before
    it and its unlisted submodules (``optim.adam``) after it; anything unlisted at the end."""
    for i, listed in enumerate(_module_groups()):
        if module == listed or module.startswith(listed + ".") or listed.startswith(module + "."):
            return i, module
    return 10**6, module


def api_sections(modules: list[str]) -> str:
    blocks = []
    for module in modules:
        blocks.append(
            f"## `{module}`\n\n```{{eval-rst}}\n.. automodule:: {module}\n"
            f"   :members:\n   :show-inheritance:\n```\n"
        )
    return "\n".join(blocks)


def _api_source(app: Sphinx, docname: str, source: list[str]) -> None:
    if API_MARKER in source[0]:
        modules = public_modules()
        source[0] = source[0].replace(API_MARKER, api_sections(modules))
        app.env.sgdbook_api_modules = modules  # type: ignore[attr-defined]
        app.env.sgdbook_api_doc = docname  # type: ignore[attr-defined]


def _api_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    doc = getattr(env, "sgdbook_api_doc", None)
    recorded = getattr(env, "sgdbook_api_modules", None)
    if doc and doc in env.all_docs and recorded != public_modules():
        return [doc]
    return []


def setup(app: Sphinx) -> dict:
    app.connect("source-read", _api_source)
    app.connect("env-get-outdated", _api_outdated)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
