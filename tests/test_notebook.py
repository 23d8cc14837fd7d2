"""sgdbook.notebook.glue in a real Jupyter kernel: myst-nb's glue output in the book's build, a
plain ``name = value`` line where myst-nb is not installed (a reader's downloaded notebook)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from sgdbook import notebook

PREFIX = "application/papermill.record/"


def _run(*cells: str) -> list[list[dict]]:
    """Execute code cells in a fresh kernel; the outputs of each cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return [cell.outputs for cell in nb.cells]


GLUE_CELL = """\
from IPython.display import Markdown
from sgdbook.notebook import glue
glue("ch0_rate", 0.125, display=False)
glue("ch0_word", Markdown("**更少**"), display=False)
glue("ch0_text", "反而更少", display=False)
glue("ch0_shown", 7)
"""

HIDE_MYST_NB = "import sys; sys.modules['myst_nb'] = None  # as if myst-nb were not installed"


@pytest.fixture(scope="module")
def outputs() -> dict[str, list[dict]]:
    with_myst = _run(GLUE_CELL)[0]
    without = _run(HIDE_MYST_NB, GLUE_CELL)[1]
    reference = _run(
        GLUE_CELL.replace("from sgdbook.notebook import glue", "from myst_nb import glue")
    )[0]
    return {"with": with_myst, "without": without, "myst_nb": reference}


def test_with_myst_nb_glue_is_myst_nbs(outputs):
    assert outputs["with"] == outputs["myst_nb"]
    hidden = [o for o in outputs["with"] if o["metadata"].get("scrapbook", {}).get("mime_prefix")]
    assert [o["metadata"]["scrapbook"]["name"] for o in hidden] == [
        "ch0_rate",
        "ch0_word",
        "ch0_text",
    ]
    assert all(set(o["data"]) <= {PREFIX + "text/plain", PREFIX + "text/markdown"} for o in hidden)


def test_without_myst_nb_the_values_are_shown_plainly(outputs):
    got = [(o["output_type"], dict(o["data"])) for o in outputs["without"]]
    assert got == [
        ("display_data", {"text/plain": "ch0_rate = 0.125"}),
        ("display_data", {"text/plain": "ch0_word = **更少**"}),
        ("display_data", {"text/plain": "ch0_text = '反而更少'"}),
        ("display_data", {"text/plain": "7"}),  # display=True: the value itself
    ]
    assert not any("scrapbook" in o.get("metadata", {}) for o in outputs["without"])


def test_plain_text_prefers_markdown():
    assert notebook.plain_text({"text/plain": "<Markdown>", "text/markdown": "**x**"}) == "**x**"
    assert notebook.plain_text({"text/plain": ["1.", "5"]}) == "1.5"
    assert notebook.plain_text({}) == ""


def test_without_ipython_the_line_is_printed(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_ipython(name, *args, **kwargs):
        if name.startswith("IPython"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(notebook, "_myst_nb_glue", lambda: None)
    monkeypatch.setattr(builtins, "__import__", no_ipython)
    notebook.glue("ch0_rate", 0.125, display=False)
    notebook.glue("ch0_shown", 7)
    assert capsys.readouterr().out == "ch0_rate = 0.125\n7\n"
