"""Typography of the numbers that myst-nb's ``{glue:text}`` pastes into the prose.

Python formats ``-0.503`` with a hyphen-minus and ``1.2e-07`` in computer notation. In typeset
prose a negative number takes the minus sign U+2212 and a power of ten is written
``1.2×10⁻⁷``. This post-transform rewrites every pasted text that is exactly one number (an
optional sign, digits, an optional fraction and exponent, an optional ``%``) and leaves any other
pasted text (words, ranges, ``nan``) untouched. Code cells, their outputs and the notebooks are not
changed: only the rendered prose.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

MINUS = "\u2212"
TIMES = "\u00d7"
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_NUMBER = re.compile(r"^([+-]?)(\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE]([+-]?)(\d+))?(%?)$")


def latex_number(text: str) -> str | None:
    """The number as LaTeX math (for the PDF), or None if the text is not one number.

    >>> latex_number("-1.2e-07"), latex_number("0.50"), latex_number("12%")
    ('-1.2\\\\times 10^{-7}', '0.50', '12\\\\%')
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    match = _NUMBER.match(text.strip())
    if match is None:
        return None
    sign, mantissa, exp_sign, exponent, percent = match.groups()
    out = sign + mantissa.replace(",", "{,}")
    if exponent is not None and (exponent.lstrip("0") or "0") != "0":
        out += r"\times 10^{" + ("-" if exp_sign == "-" else "") + exponent.lstrip("0") + "}"
    return out + (r"\%" if percent else "")


def typeset_number(text: str) -> str:
    """The text as it should be printed in prose, if it is one number; otherwise unchanged.

    >>> typeset_number("-0.503"), typeset_number("1.2e-07"), typeset_number("3.0e+04")
    ('−0.503', '1.2×10⁻⁷', '3.0×10⁴')
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    match = _NUMBER.match(text.strip())
    if match is None:
        return text
    sign, mantissa, exp_sign, exponent, percent = match.groups()
    out = (MINUS if sign == "-" else sign) + mantissa
    if exponent is not None:
        power = exponent.lstrip("0") or "0"
        if power == "0":  # 1.5e+00 is 1.5
            return out + percent
        out += TIMES + "10" + ("⁻" if exp_sign == "-" else "") + power.translate(_SUPERSCRIPTS)
    return out + percent


class TypesetPastedNumbers(SphinxPostTransform):
    """Rewrite pasted numbers after myst-nb has resolved every glue reference (priority 5)."""

    default_priority = 900

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(nodes.inline)):
            if "pasted-text" not in node.get("classes", ()):
                continue
            if len(node.children) != 1 or not isinstance(node.children[0], nodes.Text):
                continue
            text = node.children[0].astext()
            if self.app.builder.format == "latex":
                # in the PDF the number is set as math: the minus and the exponent come from
                # the math font, which has them (the text fonts lack superscript digits)
                latex = latex_number(text)
                if latex is not None:
                    node.replace(node.children[0], nodes.math(latex, latex))
                continue
            typeset = typeset_number(text)
            if typeset != text:
                node.replace(node.children[0], nodes.Text(typeset))


def setup(app: Sphinx) -> dict:
    app.add_post_transform(TypesetPastedNumbers)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
