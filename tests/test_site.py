"""The built site, read from disk: self-contained pages, math rendered at build time, the book's
apparatus (numbered proofs, exercises, API reference with offline intersphinx links, downloads,
build note) and the Chinese search index.

Runs on the real book (``built_book``) and on the sample book of tests/site_fixtures.py, which
holds one of everything a chapter may contain. The same site is driven in Chromium by
tests/test_browser.py.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import zlib
from pathlib import Path

import nbformat
import pytest
from conftest import BOOK, REPO, run_build
from site_fixtures import (
    ISSUE_TERMS,
    NB_HEADER,
    _write_sample_book,
    is_external,
    page_text,
    parse,
    sample_book,  # noqa: F401  (fixture)
    search_index,
    search_terms,
    site,  # noqa: F401  (fixture)
)

sys.path.insert(0, str(BOOK / "_ext"))
from sgdbook_site import api, common, fonts, footer, katex, pages, search, speed
from sgdbook_site import figures as site_figures

pytestmark = pytest.mark.book

URL_ATTRS = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "embed": "src",
    "object": "data",
    "track": "src",
}
LINK_RELS = {
    "stylesheet",
    "preload",
    "icon",
    "modulepreload",
    "manifest",
    "prefetch",
    "apple-touch-icon",
    "shortcut icon",
}


def html_pages(html: Path) -> list[Path]:
    return sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)


def toc_pages(site) -> list[tuple[str, Path]]:
    _, html, docs = site
    return [(d, html / f"{d}.html") for d in docs]


def article_text(path: Path) -> str:
    """Text of the page's article (what Sphinx indexes), math annotations excluded."""
    raw = path.read_text(encoding="utf-8")
    start, end = raw.find('<article class="bd-article"'), raw.rfind("</article>")
    from site_fixtures import Page

    page = Page()
    page.feed(raw[start:end] if start >= 0 else raw)
    return "".join(page.text)


# --------------------------------------------------------------------------------------------
# Self-contained and lean
# --------------------------------------------------------------------------------------------
def test_pages_reference_no_other_host(site):
    name, html, _ = site
    problems = []
    for page in html_pages(html):
        for tag, attrs in parse(page).elements:
            url = attrs.get(URL_ATTRS.get(tag, ""), "") if tag in URL_ATTRS else ""
            if tag == "link" and LINK_RELS & set(
                [*attrs.get("rel", "").split(), attrs.get("rel", "")]
            ):
                url = attrs.get("href", "")
            if url and is_external(url):
                problems.append(f"{page.relative_to(html)}: <{tag}> loads {url}")
        raw = page.read_text(encoding="utf-8")
        for marker in (
            "mathjax@",
            "tex-mml-chtml",
            "unpkg.com",
            "cdn.jsdelivr",
            "cdnjs",
            "googletagmanager",
            "google-analytics",
            "plausible.io",
            "fonts.googleapis",
            "require.min.js",
        ):
            if marker in raw.lower():
                problems.append(f"{page.relative_to(html)}: mentions {marker}")
    for css in (html / "_static").rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
            if is_external(url):
                problems.append(f"{css.relative_to(html)}: url({url})")
    assert not problems, f"[{name}] third-party resources:\n" + "\n".join(problems)


def test_pages_load_no_heavy_or_unused_scripts(site):
    """No 1.5 MB icon script, no thebe, and the search index only on the search page."""
    name, html, _ = site
    problems = []
    for page in html_pages(html):
        scripts = [a.get("src", "") for a in parse(page).all("script") if a.get("src")]
        for src in scripts:
            if "fontawesome.js" in src or "thebe" in src:
                problems.append(f"{page.relative_to(html)}: loads {src}")
            if "searchindex.js" in src and page.name != "search.html":
                problems.append(f"{page.relative_to(html)}: loads the search index ({src})")
    assert not problems, f"[{name}]\n" + "\n".join(problems)
    assert "searchindex.js" in (html / "search.html").read_text(encoding="utf-8")


def test_figures_have_their_size_and_load_lazily(site):
    """Every SVG <img> reserves its box (width/height of the file) and loads lazily, once each
    script and stylesheet is linked once."""
    name, html, _ = site
    problems, figures = [], 0
    for page in html_pages(html):
        parsed = parse(page)
        for img in parsed.all("img"):
            src = img.get("src", "")
            if not src.endswith(".svg"):
                continue
            figures += 1
            where = f"{page.relative_to(html)}: <img src={src}>"
            size = site_figures.svg_size(page.parent / src)
            if size is None or (img.get("width"), img.get("height")) != tuple(map(str, size)):
                problems.append(
                    f"{where}: width/height {img.get('width')}x{img.get('height')}, "
                    f"the file is {size}"
                )
            if img.get("loading") != "lazy" or img.get("decoding") != "async":
                problems.append(f"{where}: not loading=lazy decoding=async")
        scripts = [a["src"] for a in parsed.all("script") if a.get("src")]
        if len(scripts) != len(set(scripts)):
            problems.append(f"{page.relative_to(html)}: a script is linked twice")
    assert not problems, f"[{name}]\n" + "\n".join(problems)
    assert figures, f"[{name}] no SVG figure found: the check is vacuous"


def test_svg_size_reads_points_and_pixels(tmp_path):
    svg = tmp_path / "f.svg"
    svg.write_text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
        'width="595.62pt" height="262.912pt" viewBox="0 0 595.62 262.912"></svg>'
    )
    assert site_figures.svg_size(svg) == (794, 351)
    svg.write_text('<svg width="300" height="200px"></svg>')
    assert site_figures.svg_size(svg) == (300, 200)
    assert site_figures.svg_size(tmp_path / "missing.svg") is None
    html = '<p><img alt="a" src="f.svg" /></p><img src="x.png" />'
    assert site_figures.size_images(html, tmp_path) == (
        '<p><img alt="a" src="f.svg" width="300" height="200" loading="lazy" decoding="async" />'
        '</p><img src="x.png" />'
    )


def test_theme_stylesheet_draws_every_icon_the_pages_use(site):
    """fontawesome.js is not loaded: each icon class must have a glyph in the theme's CSS."""
    name, html, _ = site
    css = (html / "_static" / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8")
    defined = set(re.findall(r"\.fa-([a-z0-9-]+):before", css))
    used = set()
    for page in html_pages(html):
        for _, attrs in parse(page).elements:
            classes = attrs.get("class", "").split()
            if {"fa", "fas", "fa-solid", "fab", "fa-brands"} & set(classes):
                used.update(
                    c[3:]
                    for c in classes
                    if c.startswith("fa-")
                    and c not in ("fa-solid", "fa-lg", "fa-regular", "fa-brands")
                )
    assert used, f"[{name}] no icons found: the check would be vacuous"
    assert used <= defined, f"[{name}] icons without a glyph: {sorted(used - defined)}"
    # The bundled icon font is subset to the glyphs in use: every one of them must be kept.
    from fontTools.ttLib import TTFont

    font = html / "_static" / fonts.FA_SOLID
    cmap = TTFont(str(font)).getBestCmap()
    missing = sorted(hex(c) for c in fonts.fa_codepoints(html) if c not in cmap)
    assert not missing, f"[{name}] icon glyphs missing from {font.name}: {missing}"
    assert font.stat().st_size < 30_000, f"[{name}] {font.name} is not subset"


def _font_faces(css: str) -> dict[str, dict[str, str]]:
    """``@font-face`` rules by family: their descriptors."""
    faces = {}
    for body in re.findall(r"@font-face\{([^}]*)\}", css):
        props = dict(
            (k.strip(), v.strip())
            for k, v in (d.split(":", 1) for d in re.split(r";(?![^(]*\))", body) if ":" in d)
        )
        faces[props["font-family"].strip('"')] = props
    return faces


def test_cjk_placeholder_has_the_web_fonts_metrics(site):
    """While the CJK web font loads, text is set in a placeholder with the same em, advances and
    vertical metrics, so its arrival moves nothing. The placeholder is added by a script first in
    every page's head (before any stylesheet, after the charset); both faces carry the same
    metric overrides, which are the fonts' own metrics."""
    import base64
    import io

    from fontTools.ttLib import TTFont

    name, html, _ = site
    pages = html_pages(html)
    scripts = set()
    for page in pages:
        head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
        found = re.search(r'<meta charset="utf-8" />\s*<script>(.*?)</script>', head, re.S)
        assert found, f"[{name}] {page.relative_to(html)}: no placeholder script after the charset"
        assert head.index(found.group(0)) < head.index('rel="stylesheet"')
        assert head.index('<meta charset="utf-8" />') < 1024
        scripts.add(found.group(1))
    assert len(scripts) == 1, f"[{name}] pages carry different placeholder scripts"
    script = scripts.pop()
    assert fonts.PLACEHOLDER_FAMILY in script
    data = base64.b64decode(re.search(r'atob\("([^"]+)"\)', script).group(1))
    ph = dict(re.findall(r'(\w+):"([^"]*)"', re.search(r"\{unicodeRange:[^}]*\}", script).group(0)))
    css = (html / "_static" / fonts.FONT_CSS).read_text(encoding="utf-8")
    web = _font_faces(css)[fonts.CJK_FAMILY]
    web_file = html / "_static" / re.search(r"url\(([^)?]+)", web["src"]).group(1)
    web_font = TTFont(str(web_file))
    ph_font = TTFont(io.BytesIO(data))
    source = TTFont(str(fonts.CJK_FONT_SOURCE), lazy=True)
    ascent, descent, gap = fonts.vertical_metrics(source)
    assert ascent > 1 and descent > 0.2  # Noto's tall CJK metrics, not a Latin font's
    assert (
        fonts.vertical_metrics(web_font)
        == fonts.vertical_metrics(ph_font)
        == (ascent, descent, gap)
    )
    for key, value in (("ascent", ascent), ("descent", descent), ("line-gap", gap)):
        assert web[f"{key}-override"] == f"{100 * value:g}%", f"[{name}] {key} of {web}"
        camel = key.replace("-g", "G") + "Override"
        assert ph[camel] == f"{100 * value:g}%", f"[{name}] {key} of the placeholder"
    assert web["unicode-range"] == ph["unicodeRange"] == fonts.CJK_RANGE
    assert ph["display"] == "block" and web["font-display"] == "swap"
    # every character of the web font is in the placeholder, exactly as wide, on the same em
    assert ph_font["head"].unitsPerEm == web_font["head"].unitsPerEm
    web_cmap, ph_cmap = web_font.getBestCmap(), ph_font.getBestCmap()
    cjk = [c for c in web_cmap if fonts._CJK_CHAR.match(chr(c))]
    assert len(cjk) > (100 if name == "book" else 5)
    assert all(c in ph_cmap for c in cjk), f"[{name}] characters missing from the placeholder"
    widths = [
        (chr(c), web_font["hmtx"][web_cmap[c]][0], ph_font["hmtx"][ph_cmap[c]][0]) for c in cjk
    ]
    assert [w for w in widths if w[1] != w[2]] == [], f"[{name}] advances differ"
    assert len(data) < 1500, f"[{name}] the placeholder is not small ({len(data)} bytes)"
    # the stack names the placeholder right after the web font
    stack = (html / "_static" / "sgdbook.css").read_text(encoding="utf-8")
    assert f'"{fonts.CJK_FAMILY}", "{fonts.PLACEHOLDER_FAMILY}"' in stack


def test_theme_stylesheet_keeps_only_the_icon_rules_in_use(site):
    name, html, _ = site
    css = (html / "_static" / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8")
    original = fonts.theme_css_source().read_text(encoding="utf-8")
    rules = fonts._FA_RULE.findall(css)
    assert 0 < len(rules) < 100 < len(fonts._FA_RULE.findall(original)), f"[{name}] {len(rules)}"
    assert len(css) < len(original) - 60_000
    # only those rules went: the rest of the stylesheet is the theme's, byte for byte
    assert fonts._FA_RULE.sub("", css) == fonts._FA_RULE.sub("", original)


def test_head_scripts_do_not_block_the_first_paint(site):
    """Every script file in a page's head is deferred, but documentation_options.js (whose
    object inline scripts of the page use while it is parsed); the theme's own are too. (The
    search page, not in the table of contents, keeps its scripts: its template's search scripts
    run in place and use doctools.js.)"""
    name, html, _ = site
    problems = []
    n_deferred = 0
    pages = [p for p in html_pages(html) if p.name != "search.html"]
    for page in pages:
        head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
        for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", head):
            src = re.search(r'src="([^"]+)"', tag).group(1)
            deferred = re.search(r"\b(defer|async)\b", tag) is not None
            if src.split("?")[0].endswith(speed.SYNC_SCRIPTS):
                if deferred:
                    problems.append(f"{page.relative_to(html)}: {src} must run in place")
            elif not deferred:
                problems.append(f"{page.relative_to(html)}: {src} blocks the parser")
            n_deferred += deferred
    assert n_deferred > 5 * len(pages), f"[{name}] the check is vacuous"
    search = (html / "search.html").read_text(encoding="utf-8").split("</head>", 1)[0]
    assert 'defer="defer" src="_static/doctools.js' not in search, name
    assert not problems, f"[{name}]\n" + "\n".join(problems)


def test_theme_script_measures_scroll_boxes_near_the_viewport(site):
    name, html, _ = site
    script = (html / speed.THEME_JS).read_text(encoding="utf-8")
    assert speed.LAZY_TABINDEX in script and speed.THEME_TABINDEX not in script, name


def test_theme_script_patch_fails_loudly_when_the_theme_changes(tmp_path):
    target = tmp_path / speed.THEME_JS
    target.parent.mkdir(parents=True)
    target.write_text("function I(){" + speed.THEME_TABINDEX + "}", encoding="utf-8")
    assert speed.lazy_theme_tabindex(tmp_path)
    assert not speed.lazy_theme_tabindex(tmp_path)  # already patched: unchanged
    assert target.read_text(encoding="utf-8") == "function I(){" + speed.LAZY_TABINDEX + "}"
    target.write_text("function I(){/* another version */}", encoding="utf-8")
    assert not speed.lazy_theme_tabindex(tmp_path)  # and a warning (an error in -W builds)


# --------------------------------------------------------------------------------------------
# Math
# --------------------------------------------------------------------------------------------
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\begin\{|(?<![\w$])\$[^$\s][^$]{0,200}?\$(?!\w)")


def test_math_rendered_at_build_time(site):
    name, html, _docs = site
    problems = []
    pages_with_math = 0
    for page in html_pages(html):
        parsed = parse(page)
        raw = page.read_text(encoding="utf-8")
        n_math = sum(
            1
            for a in (parsed.all("span") + parsed.all("div"))
            if "math" in a.get("class", "").split()
        )
        n_katex = raw.count('<span class="katex">') + raw.count('<span class="katex-display">')
        if n_math:
            pages_with_math += 1
            if n_katex < n_math:
                problems.append(
                    f"{page.relative_to(html)}: {n_math} .math elements, "
                    f"{n_katex} rendered by KaTeX"
                )
            if "katex/katex.min.css" not in raw:
                problems.append(f"{page.relative_to(html)}: math without the KaTeX stylesheet")
            head = raw.split("</head>", 1)[0]
            late = re.search(r'<link [^>]*href="[^"]*katex/katex-fonts\.css"[^>]*>', head)
            if not late or 'media="print"' not in late.group(0) or "data-sgd-late" not in head:
                problems.append(f"{page.relative_to(html)}: KaTeX's fonts not linked late")
            elif pages.LATE_JS not in head.split("<link", 1)[0]:
                problems.append(f"{page.relative_to(html)}: no script applies the late fonts")
        elif "katex.min.css" in raw:
            problems.append(f"{page.relative_to(html)}: KaTeX stylesheet on a page without math")
        if "katex-error" in raw:
            problems.append(f"{page.relative_to(html)}: a formula KaTeX could not parse")
        text = "".join(parsed.prose)
        for match in RAW_TEX.finditer(text):
            problems.append(f"{page.relative_to(html)}: raw TeX in the text: {match.group(0)!r}")
    assert not problems, f"[{name}]\n" + "\n".join(problems)
    if name == "sample":
        assert pages_with_math, "the sample book has math: the check is vacuous"
    assert (html / "_static" / "katex" / "katex.min.css").is_file()
    fonts = list((html / "_static" / "katex" / "fonts").glob("*.woff2"))
    css = (html / "_static" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    faces = (html / "_static" / "katex" / "katex-fonts.css").read_text(encoding="utf-8")
    assert "@font-face" not in css and ".katex" in css
    urls = re.findall(r"url\((fonts/[^)]+)\)", faces)
    assert len(urls) == faces.count("@font-face") >= 15, len(urls)
    for font in urls:
        assert (html / "_static" / "katex" / font).is_file(), f"KaTeX font {font} missing"
    assert fonts and ".ttf" not in faces and ".woff)" not in faces


def test_sample_math_kinds(sample_book):
    """Inline, numbered display, aligned, amsmath and macro formulas all render, numbered once."""
    raw = (sample_book / "sample.html").read_text(encoding="utf-8")
    assert 'id="equation-eq-sample-quadratic"' in raw
    assert '<span class="eqno">(1.1)' in raw and '<span class="eqno">(1.2)' in raw
    assert 'href="#equation-eq-sample-quadratic"' in raw
    annotations = re.findall(
        r'<annotation encoding="application/x-tex">(.*?)</annotation>', raw, re.S
    )
    joined = "\n".join(annotations)
    assert r"\R^d" in joined and r"\argmin" in joined and r"\begin{aligned}" in joined
    assert "\\begin{align*}" in joined, "amsmath environments must reach KaTeX in starred form"
    assert "\\label" not in joined
    assert 'class="eqn-num"' not in raw, (
        "KaTeX numbered an equation: Sphinx's eqno is the only number"
    )


def test_bad_tex_fails_the_build_naming_the_page(tmp_path):
    book = _write_sample_book(tmp_path / "repo")
    (book / "sample.md").write_text(
        NB_HEADER + "\n# 坏公式\n\n公式 $\\frac{1$。\n", encoding="utf-8"
    )
    result = run_build(book, "--all", cwd=book.parent, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "KaTeX cannot render" in output and "sample" in output, output[-5000:]


# --------------------------------------------------------------------------------------------
# Apparatus
# --------------------------------------------------------------------------------------------
def test_no_duplicate_ids(site):
    name, html, _ = site
    problems = []
    for page in html_pages(html):
        ids = [a["id"] for _, a in parse(page).elements if a.get("id")]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            problems.append(f"{page.relative_to(html)}: duplicate ids {dupes}")
    assert not problems, f"[{name}]\n" + "\n".join(problems)


def test_sample_proofs_exercises_and_references(sample_book):
    page = sample_book / "sample.html"
    raw = page.read_text(encoding="utf-8")
    text = page_text(page)
    for label in ("定义 1.1", "定理 1.1", "算法 1.1", "练习 1.1", "图 1.1"):
        assert label in text, f"sample.html: no {label!r}"
    assert "Proof." not in text and "证明" in text
    for target in (
        "def-sample-smooth",
        "thm-sample-gd",
        "alg-sample-sgd",
        "ex-sample-1",
        "fig-sample-loss",
    ):
        assert f'id="{target}"' in raw, f"sample.html: no anchor {target}"
        assert f'href="#{target}"' in raw, f"sample.html: nothing links to {target}"
    assert re.search(r'<div class="solution dropdown[^"]*"', raw), "solution is not a dropdown"
    assert re.search(r'<a[^>]+href="#id\d+"[^>]*>RM51</a>|RM51', raw), "no citation link"
    assert "Robbins" in text and "Monro" in text, "the cited work is not in the bibliography"
    assert "收敛因子为 0.50" in text, "glue did not insert the computed number"
    assert re.search(r'href="#term-[^"]+"', raw), "the {term} role did not link to the glossary"


def test_api_reference_covers_every_public_module(built_book):
    raw = (built_book / "appendix" / "api.html").read_text(encoding="utf-8")
    modules = api.public_modules()
    assert "sgdbook.theory.gd" in modules and not any(
        m.split(".")[-1].startswith("_") for m in modules
    )
    missing = [m for m in modules if f'id="module-{m}"' not in raw]
    assert not missing, f"api.html has no section for {missing}"
    assert api.API_MARKER not in raw


def test_api_reference_links_to_external_docs(built_book):
    raw = (built_book / "appendix" / "api.html").read_text(encoding="utf-8")
    for prefix in (
        "https://docs.python.org/3/",
        "https://numpy.org/doc/stable/",
        "https://pytorch.org/docs/stable/",
    ):
        assert f'href="{prefix}' in raw, f"api.html has no link into {prefix}"


def _inventory(name: str) -> dict[str, str]:
    raw = (BOOK / "_ext" / "inventories" / f"{name}.inv").read_bytes()
    body = zlib.decompress(raw.split(b"\n", 4)[4]).decode()
    entries = {}
    for line in body.splitlines():
        obj, _role, _prio, uri, _disp = line.split(" ", 4)
        entries[obj] = uri.replace("$", obj) if uri.endswith("$") else uri
    return entries


@pytest.mark.parametrize(
    "inventory, name, url",
    [
        ("torch", "torch.optim.SGD", "generated/torch.optim.SGD.html#torch.optim.SGD"),
        ("torch", "torch.Tensor", "tensors.html#torch.Tensor"),
        ("torch", "torch.optim.optimizer.Optimizer", "optim.html#torch.optim.Optimizer"),
        (
            "torch",
            "torch.optim.lr_scheduler.StepLR",
            "generated/torch.optim.lr_scheduler.StepLR.html#torch.optim.lr_scheduler.StepLR",
        ),
        ("torch", "torch.utils.data.DataLoader", "data.html#torch.utils.data.DataLoader"),
        ("numpy", "numpy.ndarray", "reference/generated/numpy.ndarray.html#numpy.ndarray"),
        (
            "numpy",
            "numpy.random.Generator",
            "reference/random/generator.html#numpy.random.Generator",
        ),
        ("numpy", "numpy.typing.ArrayLike", "reference/typing.html#numpy.typing.ArrayLike"),
        (
            "python",
            "collections.abc.Callable",
            "library/collections.abc.html#collections.abc.Callable",
        ),
        ("python", "float", "library/functions.html#float"),
        (
            "matplotlib",
            "matplotlib.axes.Axes",
            "api/_as_gen/matplotlib.axes.Axes.html#matplotlib.axes.Axes",
        ),
    ],
)
def test_shipped_inventories_point_at_the_real_docs(inventory, name, url):
    assert _inventory(inventory).get(name) == url


def test_intersphinx_uses_only_shipped_inventories():
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    mapping = config["sphinx"]["config"]["intersphinx_mapping"]
    assert {"python", "numpy", "torch", "matplotlib"} <= set(mapping)
    for name, (url, inventory) in mapping.items():
        assert url.startswith("https://"), name
        assert inventory and not is_external(inventory), f"{name}: inventory must be local"
        assert (BOOK / inventory).is_file(), f"{name}: {inventory} missing"
    assert "nitpick_ignore_regex" not in config["sphinx"]["config"]


def test_notebook_and_source_downloads(site):
    name, html, _docs = site
    source_dir = html.parent.parent
    notebooks = 0
    problems = []
    for doc, page in toc_pages(site):
        raw = page.read_text(encoding="utf-8")
        source = source_dir / f"{doc}.md"
        md_link = f'href="{"../" * doc.count("/")}_sources/{doc}.md"'
        if md_link not in raw:
            problems.append(f"{doc}.html: no download link for the .md source")
        served = html / "_sources" / f"{doc}.md"
        if not served.is_file() or served.read_bytes() != source.read_bytes():
            problems.append(f"_sources/{doc}.md differs from book/{doc}.md")
        text = source.read_text(encoding="utf-8")
        if "kernelspec" not in text[:1000]:
            continue
        notebooks += 1
        ipynb = html / "_sources" / f"{doc}.ipynb"
        if f'_sources/{doc}.ipynb"' not in raw or not ipynb.is_file():
            problems.append(f"{doc}.html: no .ipynb download")
            continue
        notebook = nbformat.reads(ipynb.read_text(encoding="utf-8"), as_version=4)
        nbformat.validate(notebook)
        code = [c.source.strip() for c in notebook.cells if c.cell_type == "code"]
        if len(code) != text.count("```{code-cell}"):
            problems.append(
                f"_sources/{doc}.ipynb: {len(code)} code cells, the source has "
                f"{text.count('```{code-cell}')}"
            )
        problems += [
            f"_sources/{doc}.ipynb: a code cell not in the source: {c[:60]!r}"
            for c in code
            if c not in text
        ]
    assert not problems, f"[{name}]\n" + "\n".join(problems)
    assert notebooks, f"[{name}] no notebook page: the check is vacuous"


def test_sample_notebook_download_keeps_outputs(sample_book):
    notebook = json.loads((sample_book / "_sources" / "sample.ipynb").read_text(encoding="utf-8"))
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs), "figure output missing"


def test_every_page_names_device_torch_and_commit(site):
    name, html, _ = site
    commit = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    import importlib.metadata

    torch_version = importlib.metadata.version("torch")
    problems = []
    for page in html_pages(html):
        text = page_text(page)
        note = re.search(
            r"本书由 (.+?) 构建，提交 ([0-9a-f]{7,40}(?:-dirty)?)，"
            r"构建日期 (\d{4}-\d{2}-\d{2})。",
            text,
        )
        if not note:
            problems.append(f"{page.relative_to(html)}: no build note")
            continue
        device, built_from, built_on = note.groups()
        if abs((datetime.date.fromisoformat(built_on) - datetime.date.today()).days) > 1:
            problems.append(f"{page.relative_to(html)}: build date {built_on} is not today")
        if f"torch {torch_version}" not in device or not ("cpu (" in device or "cuda (" in device):
            problems.append(f"{page.relative_to(html)}: build note {device!r}")
        if not built_from.startswith(commit[:7]):
            problems.append(f"{page.relative_to(html)}: commit {built_from} is not HEAD {commit}")
    assert not problems, f"[{name}]\n" + "\n".join(problems)


def test_device_description_is_cached(tmp_path, monkeypatch):
    cache = tmp_path / "device.json"
    first = footer.device_description(cache)
    assert "torch" in first and cache.is_file()
    monkeypatch.setattr("sgdbook.device.describe_device", lambda: pytest.fail("not cached"))
    assert footer.device_description(cache) == first


# --------------------------------------------------------------------------------------------
# Chinese search
# --------------------------------------------------------------------------------------------
def indexed_docs(index: dict, term: str) -> set[str]:
    found: set[str] = set()
    for table in ("terms", "titleterms"):
        hits = index[table].get(term, [])
        hits = hits if isinstance(hits, list) else [hits]
        found.update(index["docnames"][i] for i in hits)
    return found


def test_search_index_holds_compound_terms(site):
    name, html, _docs = site
    index = search_index(html)
    problems = []
    texts = {d: article_text(page) for d, page in toc_pages(site)}  # parse each page once
    for term in search_terms():
        expected = {d for d, text in texts.items() if term in text}
        found = indexed_docs(index, term)
        if not expected <= found:
            problems.append(
                f"{term}: pages containing it but not indexed under it: {sorted(expected - found)}"
            )
        if term in ISSUE_TERMS and not expected:
            problems.append(f"{term}: no page of the {name} contains it")
    assert not problems, f"[{name}]\n" + "\n".join(problems)


def test_search_splitter_keeps_compound_terms():
    from sphinx.search import languages

    language = search.SearchChineseTerms({"dict": str(BOOK / "_ext" / "search_dict.txt")})
    words = language.split("本章比较小批量随机梯度下降与动量法。")
    for term in ("小批量随机梯度下降", "随机梯度下降", "梯度下降", "小批量", "动量法"):
        assert term in words, f"{term} not an index term: {words}"
    assert language.js_splitter_code == "", "the default JS splitter keeps CJK runs whole"
    assert languages["zh"] is search.SearchChineseTerms or isinstance(languages["zh"], str)


def test_search_stemmer_is_sphinx_rule_whatever_was_fed():
    """Sphinx's rule on the words it has seen as Latin tokens; the same stem on every build.

    Sphinx keeps ``eps`` unstemmed only once it has seen ``eps`` as a whole Latin token, so an
    incremental build (the edited page fed alone) indexed a word differently from a clean one.
    Ours decides by the word itself: a fresh splitter that was fed nothing stems as one fed the
    whole text, and a Latin piece (``eps`` out of ``eps_0``) is kept like a whole token.
    """
    from sphinx.search.zh import SearchChinese

    options = {"dict": str(BOOK / "_ext" / "search_dict.txt")}
    ours, fresh, theirs = (
        search.SearchChineseTerms(options),
        search.SearchChineseTerms(options),
        SearchChinese(options),
    )
    text = "Adam 与 AdamW、SGD running running ran 的 gradients 和 eps 以及 lr_decay 梯度"
    for language in (ours, theirs):
        language.split(text)
    words = ["Adam", "AdamW", "SGD", "running", "ran", "gradients", "eps", "lr_decay", "梯度"]
    for word in [*words, "ing", "unseen"]:
        assert ours.stem(word) == theirs.stem(word) == fresh.stem(word), word
    unfed = SearchChinese(options)
    unfed.latin_terms = []  # Sphinx's list is a class attribute, shared by every instance
    assert unfed.stem("eps") == "ep", "Sphinx: not seen as a token, stemmed"
    assert fresh.stem("eps") == "eps", "ours: kept, whether or not it was fed"
    assert fresh.stem("梯度下") == "梯度下"


def test_search_bar_text_is_chinese(site):
    name, html, _ = site
    raw = (html / "index.html").read_text(encoding="utf-8")
    assert "搜索本书" in raw, f"[{name}] the search bar text is not the configured Chinese one"


def test_api_page_source_is_generated():
    text = (BOOK / "appendix" / "api.md").read_text(encoding="utf-8")
    assert api.API_MARKER in text
    generated = api.api_sections(["sgdbook.theory.gd", "sgdbook.extra"])
    assert ".. automodule:: sgdbook.extra" in generated and "## `sgdbook.theory.gd`" in generated


def test_public_modules_skip_private_ones(tmp_path, monkeypatch):
    package = tmp_path / "sgdbook"
    (package / "sub").mkdir(parents=True)
    for rel in (
        "__init__.py",
        "_validate.py",
        "gd.py",
        "sub/__init__.py",
        "sub/x.py",
        "sub/_hidden.py",
    ):
        (package / rel).write_text("", encoding="utf-8")
    monkeypatch.setattr(common, "PACKAGE_DIR", package)
    assert api.public_modules() == ["sgdbook.gd", "sgdbook.sub", "sgdbook.sub.x"]


def test_katex_prepare_strips_numbering_and_labels():
    tex = "\\begin{align}\na &= b \\label{eq:x}\\\\\nc &= d\n\\end{align}"
    prepared = katex.prepare(tex)
    assert "\\begin{align*}" in prepared and "\\end{align*}" in prepared
    assert "\\label" not in prepared
    renderer = katex.KatexRenderer(katex.DEFAULT_MACROS)
    html, error = renderer.render(prepared, True)
    assert error is None and 'class="katex-display"' in html
    html, error = renderer.render("\\frac{1", False)
    assert html is None and "KaTeX parse error" in error
    renderer.close()


def test_config_loads_the_site_extension():
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    assert "sgdbook_site" in config["sphinx"]["local_extensions"]
    assert config["sphinx"]["config"]["html_math_renderer"] == "sgdbook_katex"


# --------------------------------------------------------------------------------------------
# Caches that make rebuilds fast (book/_build/.sgdbook_site): same output as without them
# --------------------------------------------------------------------------------------------
FORMULAS = [
    ("\\frac{a}{b} + \\R^n", False),
    ("\\norm{x}^2 \\le \\E[X]", True),
    ("\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}", True),
]


def test_katex_cache_gives_the_uncached_render_without_node(tmp_path):
    uncached = katex.KatexRenderer(katex.DEFAULT_MACROS)
    expected = [uncached.render(tex, display) for tex, display in FORMULAS]
    expected.append(uncached.render("\\frac{1", False))
    uncached.close()
    first = katex.KatexRenderer(katex.DEFAULT_MACROS, cache_folder=tmp_path)
    assert [first.render(t, d) for t, d in FORMULAS] + [first.render("\\frac{1", False)] == expected
    first.close()
    assert first.rendered == len(FORMULAS) + 1 and first.cache_file.is_file()
    second = katex.KatexRenderer(katex.DEFAULT_MACROS, cache_folder=tmp_path)
    assert [second.render(t, d) for t, d in FORMULAS] + [
        second.render("\\frac{1", False)
    ] == expected
    # nothing was sent to node (not even started); the parse error is remembered, so the page
    # that has it is still a (fatal) warning when it is written again
    assert second.rendered == 0 and second._proc is None
    assert expected[-1][0] is None and "KaTeX parse error" in expected[-1][1]
    # the display mode is part of an entry's key
    assert second.render(FORMULAS[0][0], True) != expected[0]
    second.close()


def test_katex_cache_is_invalidated_by_macros_version_and_server(tmp_path):
    base = katex.cache_key(katex.DEFAULT_MACROS)
    other_macros = {**katex.DEFAULT_MACROS, "\\R": "\\mathbf{R}"}
    assert katex.cache_key(other_macros) != base
    fake = tmp_path / "katex"
    fake.mkdir()
    (fake / "package.json").write_text('{"version": "0.0.1"}', encoding="utf-8")
    assert katex.katex_version(fake) == "0.0.1"
    assert katex.cache_key(katex.DEFAULT_MACROS, katex_dir=fake) != base
    server = tmp_path / "server.js"
    server.write_text(katex.KATEX_SERVER.read_text(encoding="utf-8") + "\n// changed\n")
    assert katex.cache_key(katex.DEFAULT_MACROS, server=server) != base
    # other macros render the same TeX differently, from a separate cache file
    cached = katex.KatexRenderer(katex.DEFAULT_MACROS, cache_folder=tmp_path)
    html_default = cached.render("\\R", False)[0]
    cached.close()
    changed = katex.KatexRenderer(other_macros, cache_folder=tmp_path)
    assert changed.cache_file != cached.cache_file
    assert changed.render("\\R", False)[0] != html_default and changed.rendered == 1
    changed.close()
    assert not cached.cache_file.exists()  # the stale cache is removed when the new one is saved


def _mini_site(root: Path, text: str) -> Path:
    outdir = root / "html"
    (outdir / "_static" / "styles").mkdir(parents=True, exist_ok=True)
    (outdir / "index.html").write_text(
        f'<html><body><p>{text}</p><i class="fa-solid fa-download"></i></body></html>',
        encoding="utf-8",
    )
    theme = fonts.fa_source().parents[3] / "styles" / "pydata-sphinx-theme.css"
    (outdir / "_static" / "styles" / "pydata-sphinx-theme.css").write_bytes(theme.read_bytes())
    target = outdir / "_static" / fonts.FA_SOLID
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(fonts.fa_source().read_bytes())  # as Sphinx copies it
    return outdir


def test_cjk_font_subset_is_cached_by_character_set(tmp_path):
    outdir = _mini_site(tmp_path / "a", "梯度下降")
    scan = common.PageScanCache(tmp_path / "cjk.json")
    assert fonts.write_cjk_font(outdir, scan=scan)  # subset made
    font = outdir / "_static" / "fonts" / "sgdbook-cjk.woff2"
    made = font.read_bytes()
    assert not fonts.write_cjk_font(outdir, scan=scan)  # same characters: not made again
    # identical to a subset made without any cache, in a fresh folder
    fresh = _mini_site(tmp_path / "b", "梯度下降")
    fonts.write_cjk_font(fresh)
    assert (fresh / "_static" / "fonts" / "sgdbook-cjk.woff2").read_bytes() == made
    assert (fresh / "_static" / fonts.FONT_CSS).read_text() == (
        outdir / "_static" / fonts.FONT_CSS
    ).read_text()
    # a new character is a new subset
    (outdir / "index.html").write_text("<p>梯度下降与动量法</p>", encoding="utf-8")
    assert fonts.write_cjk_font(outdir, scan=scan)
    assert font.read_bytes() != made


def test_page_scan_reads_only_changed_pages(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<p>学习率</p>", encoding="utf-8")
    calls = []

    def compute(text):
        calls.append(text)
        return fonts.page_cjk_chars(text)

    scan = common.PageScanCache(tmp_path / "scan.json")
    assert scan.get(page, compute) == "习学率"
    scan.save(keep=[page])
    again = common.PageScanCache(tmp_path / "scan.json")
    assert again.get(page, compute) == "习学率" and len(calls) == 1
    page.write_text("<p>学习率衰减</p>", encoding="utf-8")
    assert again.get(page, compute) == "习减学率衰" and len(calls) == 2


def test_fontawesome_subset_is_cached_by_icons(tmp_path):
    outdir = _mini_site(tmp_path / "a", "")
    cache = tmp_path / "cache"
    scan = common.PageScanCache(tmp_path / "scan.json")
    assert fonts.subset_fontawesome(outdir, cache, scan)
    target = outdir / "_static" / fonts.FA_SOLID
    subset = target.read_bytes()
    assert len(subset) < len(fonts.fa_source().read_bytes()) / 4
    target.write_bytes(fonts.fa_source().read_bytes())  # Sphinx copies the full font again
    assert not fonts.subset_fontawesome(outdir, cache, scan)  # the cached subset is put back
    assert target.read_bytes() == subset
    fresh = _mini_site(tmp_path / "b", "")
    fonts.subset_fontawesome(fresh)  # no cache at all
    assert (fresh / "_static" / fonts.FA_SOLID).read_bytes() == subset
    # a page with another icon: another subset
    (outdir / "index.html").write_text('<i class="fa-solid fa-bug"></i>', encoding="utf-8")
    target.write_bytes(fonts.fa_source().read_bytes())
    assert fonts.subset_fontawesome(outdir, cache, scan)
    assert target.read_bytes() != subset


def test_build_note_of_pages_not_written_is_brought_up_to_date(tmp_path):
    old = '<p class="sgdbook-build-note">本书由 <code>cpu</code> 构建，提交 <code>abc</code>，构建日期 2026-01-01。</p>'
    new = old.replace("abc", "def-dirty").replace("2026-01-01", "2026-01-02")
    pages = [tmp_path / "a.html", tmp_path / "b.html"]
    pages[0].write_text(f"<footer>{old}</footer>", encoding="utf-8")
    pages[1].write_text(f"<footer>{new}</footer>", encoding="utf-8")
    assert footer.update_notes(pages, new) == [pages[0]]
    assert pages[0].read_text(encoding="utf-8") == f"<footer>{new}</footer>"


def test_search_index_keeps_no_term_without_pages(tmp_path):
    from sphinx.search import js_index

    index = tmp_path / "searchindex.js"
    data = {"terms": {"梯度": [1, 2], "追加": [], "x": 0}, "titleterms": {"旧": []}}
    index.write_text(js_index.dumps(data), encoding="utf-8")
    assert search.drop_empty_terms(index)
    assert js_index.loads(index.read_text(encoding="utf-8")) == {
        "terms": {"梯度": [1, 2], "x": 0},
        "titleterms": {},
    }
    assert not search.drop_empty_terms(index)


def test_font_stylesheets_are_applied_after_the_first_paint():
    from sgdbook_site import pages

    head = (
        '<head><meta charset="utf-8" />\n<link rel="stylesheet" href="_static/sgdbook.css" />'
        '<link rel="stylesheet" type="text/css" href="../_static/sgdbook-fonts.css" />'
        '</head><body><span class="katex">x</span></body>'
    )
    out = pages.postprocess(head, "x", {"pathto": lambda name, *a: "../" + name})
    assert out.count('data-sgd-late=""') == 2  # the CJK font's and KaTeX's
    for href in ("../_static/sgdbook-fonts.css", "../_static/katex/katex-fonts.css"):
        assert pages.late_stylesheet(href) in out
    assert '<link rel="stylesheet" href="../_static/katex/katex.min.css" />' in out
    # the script that applies them is the first thing after the charset
    assert out.index(pages.LATE_JS) < out.index("<link")
    plain = pages.postprocess(
        '<head><meta charset="utf-8" /></head><body>no math</body>', "x", {"pathto": str}
    )
    assert pages.LATE_JS not in plain and "katex" not in plain


def test_katex_stylesheet_split_keeps_every_rule():
    from sgdbook_site import katex

    source = (katex.KATEX_DIR / "dist" / "katex.min.css").read_text(encoding="utf-8")
    rules, faces = katex.split_stylesheet(source)
    assert "@font-face" not in rules and faces.count("@font-face") == source.count("@font-face")
    assert len(rules) + len(faces) > 0.6 * len(source)
    assert "woff2" in faces and ".woff)" not in faces and ".ttf" not in faces
    # nothing but the faces (and their woff/ttf sources) left the stylesheet
    assert katex._FONT_FACE.sub("", source) == rules


def test_late_stylesheets_are_linked_without_a_stale_checksum():
    from sgdbook_site import pages

    head = (
        '<link rel="stylesheet" href="_static/proof.css?v=8c6b312c" />'
        '<link rel="stylesheet" href="_static/sgdbook.css?v=12345678" />'
        '<link rel="stylesheet" href="../_static/sgdbook-fonts.css?v=2ceb3241" /></head>'
    )
    out = pages.postprocess(head, "x", {"pathto": lambda *a: ""})
    assert 'href="_static/proof.css"' in out and 'href="../_static/sgdbook-fonts.css"' in out
    assert "sgdbook.css?v=12345678" in out  # copied before the pages: Sphinx's checksum is right


def test_search_index_entries_of_pages_not_written_are_kept():
    # Sphinx reloads terms but not index entries from the previous searchindex.js: after a
    # rebuild that wrote only page "b", page "a"'s entries come back, ordered as a clean build
    previous = {
        "docnames": ["a", "b", "old"],
        "indexentries": {"adam": [[0, "x", False], [1, "y", True]], "gone": [[2, "z", False]]},
    }
    data = {"docnames": ["a", "b"], "indexentries": {"adam": [[1, "y2", True]]}}
    assert search.restore_index_entries(data, previous, fed={"b"})
    assert data["indexentries"] == {"adam": [[0, "x", False], [1, "y2", True]]}
    assert not search.restore_index_entries(data, previous, fed={"b"})
