"""Tests of sgdbook.plotting: the book's figure style."""

from __future__ import annotations

import warnings

import pytest


def test_book_style_renders_chinese_without_missing_glyphs(tmp_path):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from sgdbook.plotting import use_book_style

    use_book_style()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing" is a UserWarning
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, -1], label=r"$\eta = 0.1$ 发散")
        ax.set_xlabel(r"迭代次数 $k$（对数坐标）")
        ax.set_title("梯度下降：−2")
        ax.legend()
        for ext in ("png", "svg"):
            fig.savefig(tmp_path / f"f.{ext}")
        plt.close(fig)
    with pytest.raises(ValueError, match="inline_format"):
        use_book_style("jpeg")


def test_with_minus_uses_the_real_minus_sign():
    from sgdbook.plotting import with_minus

    assert with_minus(-0.51234, ".3f") == "\u2212" + "0.512"
    assert with_minus(0.25, "+.2f") == "+0.25"
    assert with_minus(-1.5e-7, ".1e") == "\u2212" + "1.5e\u221207"
    assert "-" not in with_minus(-3, "d" if False else ".0f")
    with pytest.raises(TypeError, match="value"):
        with_minus("1", ".1f")
    with pytest.raises(TypeError, match="spec"):
        with_minus(1.0, 3)
