"""Downloads: each notebook chapter's download menu offers the chapter as ``.ipynb`` (executed
outputs included when the execution cache has them) next to its MyST ``.md``."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx


def notebook_with_outputs(app: Sphinx, nb_path: Path) -> bytes:
    """The executed notebook myst-nb wrote, with outputs merged in from the execution cache."""
    content = nb_path.read_bytes()
    cache_dir = Path(
        app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache"
    )
    if not (cache_dir / "global.db").is_file():
        return content
    try:
        import nbformat
        from jupyter_cache import get_cache

        notebook = nbformat.reads(content.decode("utf-8"), as_version=4)
        if any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"):
            return content
        _, merged = get_cache(str(cache_dir)).merge_match_into_notebook(notebook)
        return nbformat.writes(merged).encode("utf-8")
    except Exception:  # no cached match: the notebook without outputs is still the chapter
        return content


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
