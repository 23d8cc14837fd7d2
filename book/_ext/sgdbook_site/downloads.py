"""Downloads: each notebook chapter's download menu offers the chapter as ``.ipynb`` (executed
outputs included when the execution cache has them) next to its MyST ``.md``."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx


def notebook_with_outputs(app: Sphinx, nb_path: Path) -> bytes:
    """The executed notebook myst-nb wrote, with outputs merged in from the execution cache.

    Its cells get ids made from their position: jupytext gives each cell a random id every
    time the page is read, so two builds of the same chapter would offer different files.
    """
    import nbformat

    notebook = nbformat.reads(nb_path.read_text(encoding="utf-8"), as_version=4)
    cache_dir = Path(
        app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache"
    )
    has_outputs = any(c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    if not has_outputs and (cache_dir / "global.db").is_file():
        try:
            from jupyter_cache import get_cache

            _, notebook = get_cache(str(cache_dir)).merge_match_into_notebook(notebook)
        except Exception:  # no cached match: the notebook without outputs is still the chapter
            pass
    for i, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{i}"
    return nbformat.writes(notebook).encode("utf-8")


def _add_notebook_download(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    if doctree is None:
        return
    nb_path = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not nb_path.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(notebook_with_outputs(app, nb_path))
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _add_notebook_download, priority=400)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
