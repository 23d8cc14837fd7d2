"""The book's figure style: one call per chapter, ``use_book_style()``.

It registers the Chinese font shipped inside the package (a GB 2312 subset of Noto Sans CJK SC,
see ``sgdbook/fonts/README.md``) so that labels such as ``迭代次数`` render on any machine without
system fonts, sets a readable style (white background, so figures stay legible in the site's dark
theme too), and makes inline figures SVG (sharp on high-DPI screens) with no timestamp in them,
so two builds write byte-identical figures.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib import font_manager

__all__ = ["use_book_style", "with_minus", "CJK_FONT_FILE", "CJK_FONT_NAME", "PALETTE"]

CJK_FONT_FILE = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-GB2312.otf"
CJK_FONT_NAME = "Noto Sans CJK SC"

#: The Okabe–Ito colours, distinguishable with colour-blindness and on white and grey.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

_STYLE = {
    # The bundled font first: it also carries Latin, Greek and math operators, and mathtext
    # renders the plain text of a mixed label such as "迭代次数 $k$" with the *first* family.
    # DejaVu Sans second, for any glyph the subset lacks (matplotlib falls back glyph by glyph
    # only across the fonts named in font.family itself).
    "font.family": [CJK_FONT_NAME, "DejaVu Sans"],
    "axes.unicode_minus": True,  # DejaVu Sans has U+2212, the true minus sign
    "mathtext.fontset": "dejavusans",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.bbox": "tight",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.8,
    "svg.fonttype": "path",  # glyphs as outlines: the browser needs no font
    "svg.hashsalt": "sgdbook",  # stable element ids, hence reproducible files
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
}


def with_minus(value, spec: str) -> str:
    """``format(value, spec)`` with a real minus sign (U+2212) instead of the hyphen-minus.

    For numbers glued into prose or written into labels outside mathtext (``axes.unicode_minus``
    only covers tick labels).

    Raises:
        TypeError: ``value`` not a real number or ``spec`` not a string.
        ValueError: ``spec`` not a valid format specification for a float.
    """
    from . import validation as _validate

    if not isinstance(spec, str):
        raise TypeError(f"spec must be a str, got {type(spec).__name__}")
    value = _validate.real("value", value)
    return format(float(value), spec).replace("-", "\u2212")


def use_book_style(inline_format: str = "svg") -> None:
    """Apply the book's matplotlib style; every chapter calls this once, first.

    Args:
        inline_format: format of figures shown by Jupyter (``"svg"`` or ``"png"``).

    Raises:
        ValueError: ``inline_format`` is not ``"svg"`` or ``"png"``.
        FileNotFoundError: the bundled font file is missing (a broken installation).
    """
    if inline_format not in ("svg", "png"):
        raise ValueError(f"inline_format must be 'svg' or 'png', got {inline_format!r}")
    if not CJK_FONT_FILE.is_file():
        raise FileNotFoundError(f"bundled CJK font missing: {CJK_FONT_FILE}")
    if CJK_FONT_NAME not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(CJK_FONT_FILE))
    matplotlib.rcParams.update(_STYLE)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing inline to configure
        return
    if get_ipython() is not None:
        extra = {"metadata": {"Date": None}} if inline_format == "svg" else {"dpi": 200}
        set_matplotlib_formats(inline_format, **extra)
