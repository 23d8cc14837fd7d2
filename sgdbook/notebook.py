"""Numbers computed in a chapter and pasted into its prose: :func:`glue`.

The chapters call ``glue("name", value, display=False)`` and the prose pastes the value with
``{glue:text}`name:.3f```. While the book builds, myst-nb is installed and :func:`glue` is
myst-nb's own ``glue``: the value goes into the cell's output, where the prose finds it.

A chapter's notebook downloaded from the site runs where myst-nb is not installed (the reader's
environment has the ``sgdbook`` wheel and the site's ``sgdbook-requirements.txt``). There
:func:`glue` shows the value plainly below the cell, one line ``name = value`` per call, so the
reader can match each pasted number of the prose with the code that computes it; myst-nb's
outputs would be invisible there (or a "no renderer" notice). The site's downloaded notebooks
carry their build-time outputs in the same plain form (``book/_ext/sgdbook_site/downloads.py``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["glue", "plain_text"]

#: A glue name: what myst-nb's ``{glue:text}`name:format``` role can refer to (the colon
#: separates the format, and a page, ``page::name``).
_NAME = re.compile(r"[^\s:`]+\Z")


@functools.cache
def _myst_nb_glue() -> Any:
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return None
    return myst_glue


def plain_text(bundle: dict[str, Any]) -> str:
    """How :func:`glue` shows a value without myst-nb, from the value's display bundle.

    Markdown (an ``IPython.display.Markdown`` value) is shown as its text; anything else as
    IPython's ``text/plain`` representation (a string with its quotes, a float with all digits).

    Args:
        bundle: a display bundle, MIME type to data (what ``IPython.core.formatters.
            format_display_data`` returns first, or a notebook output's ``data``).

    Raises:
        TypeError: ``bundle`` is not a dict.
    """
    if not isinstance(bundle, dict):
        raise TypeError(f"bundle must be a dict of MIME type to data, got {type(bundle).__name__}")
    text = bundle.get("text/markdown", bundle.get("text/plain", ""))
    return "".join(text) if isinstance(text, list) else str(text)


def glue(name: str, value: Any, display: bool = True) -> None:
    """Record ``value`` under ``name`` for the prose (myst-nb's ``glue``), or show it plainly.

    Args:
        name: the name the prose uses (``{glue:text}`name```): not empty, without spaces, colons
            or backticks.
        value: any object; what is pasted is how Jupyter displays it.
        display: also show the value below the cell in the book (myst-nb's ``display``).

    Without myst-nb, ``display=False`` shows the line ``name = value`` (see
    :func:`plain_text`) and ``display=True`` shows the value itself, as Jupyter would. Outside
    IPython the line is printed.

    Raises:
        TypeError: ``name`` is not a string, or ``display`` is not a bool.
        ValueError: ``name`` is not a valid glue name.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r} of type {type(name).__name__}")
    if not _NAME.match(name):
        raise ValueError(
            f"name must be non-empty, without spaces, colons or backticks, got {name!r}"
        )
    from . import validation  # here: the site's build imports plain_text without numpy

    display = validation.boolean("display", display)
    myst_glue = _myst_nb_glue()
    if myst_glue is not None:
        myst_glue(name, value, display)
        return
    try:
        from IPython.core.formatters import format_display_data
        from IPython.display import display as ipy_display
    except ImportError:
        print(value if display else f"{name} = {value!r}")
        return
    if display:
        ipy_display(value)
    else:
        bundle, _ = format_display_data(value)
        ipy_display({"text/plain": f"{name} = {plain_text(bundle)}"}, raw=True)
