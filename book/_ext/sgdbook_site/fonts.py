"""Fonts: a Chinese web font for readers without one, and only the icons the site draws.

* **CJK.** ``_static/fonts/sgdbook-cjk.woff2`` is the bundled Noto Sans SC (sgdbook/fonts),
  subset to the characters of the site's pages and UI strings, with ``_static/sgdbook-fonts.css``.
  The stylesheet names the common system CJK fonts first, so most readers never download it.
  Until it has arrived, Chinese text is drawn with a placeholder font of the same metrics, added
  by a script first in every page's head (``make_cjk_placeholder``, ``placeholder_script``), so
  the swap moves nothing (no layout shift on phones).
* **Font Awesome.** The theme's 156 kB ``fa-solid-900.woff2`` is replaced by the few glyphs the
  pages and the theme's CSS use; its ``.ttf`` copies and the 1.5 MB icon script are removed, and
  so are the theme stylesheet's ~1,900 ``.fa-NAME:before`` rules of the icons no page uses
  (86 kB of the 397 kB ``pydata-sphinx-theme.css``, render-blocking on every page).

Both are done after the build. Which characters and icons each page uses is remembered by the
page file's size and mtime (``book/_build/.sgdbook_site/page-scan.json``), so a rebuild reads
only the pages it wrote; a subset is made again only when its character or icon set, or the
source font, changed (the Font Awesome subset is kept in the same folder, keyed by both).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from .common import PACKAGE_DIR, PageScanCache, cache_dir, html_pages, site_state

logger = logging.getLogger(__name__)

CJK_FONT_SOURCE = PACKAGE_DIR / "fonts" / "NotoSansSC-GB2312.otf"
FONT_CSS = "sgdbook-fonts.css"
CJK_FAMILY = "SGD Noto Sans SC"
#: The placeholder drawn while the web font loads (named after it in sgdbook.css's stack).
PLACEHOLDER_FAMILY = "SGD CJK Placeholder"
CJK_RANGE = "U+2E80-9FFF,U+F900-FAFF,U+FE30-FE4F,U+FF00-FFEF"
#: Tables left out of the CJK subset. GPOS holds the font's punctuation trimming (halt, palt),
#: which Chromium applies to pairs such as "）。" (text-spacing-trim): text set in the web font
#: came out narrower than in the placeholder, lines broke differently and the page moved when
#: the font arrived. Without it both have exactly the same advances; punctuation stays full-width
#: (the mainland convention).
CJK_DROPPED_TABLES = ("GPOS",)
#: The page context key of the inline script that adds the placeholder (``pages.postprocess``).
HEAD_SCRIPT_KEY = "sgdbook_font_head_script"
_CJK_CHAR = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)
#: Bump when what is scanned from a page changes (the page-scan cache is then ignored).
SCAN_VERSION = 1


# Chromium keeps showing boxes for some text it shaped before the web font arrived (seen with
# headless Chromium 14x on a machine without CJK fonts). When the book's font loads, a change
# of font-kerning (part of the font description) makes it shape all text again. Readers with a
# system CJK font never load the web font, so for them this does nothing.
FONT_FIX_JS = (
    "(function(){if(!document.fonts)return;function fix(){document.fonts.forEach(function(f){"
    "if(f.family.indexOf('SGD Noto Sans SC')>=0&&f.status==='loaded')"
    "document.documentElement.classList.add('sgd-cjk-webfont')})}"
    "document.fonts.addEventListener('loadingdone',fix);document.fonts.ready.then(fix)})()"
)


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


def _fonttools_version() -> str:
    import fontTools

    return getattr(fontTools, "version", "unknown")


# --------------------------------------------------------------------------------------------
# What the pages use
# --------------------------------------------------------------------------------------------
def page_cjk_chars(text: str) -> str:
    """The CJK characters of one page's text (tags, scripts and styles left out)."""
    return "".join(sorted(set(_CJK_CHAR.findall(html.unescape(_TAGS.sub(" ", text))))))


def page_icons(text: str) -> list[str]:
    """The Font Awesome icon names (``fa-xxx`` classes of solid icons) one page uses."""
    used: set[str] = set()
    for match in re.finditer(r'class="([^"]*)"', text):
        classes = match.group(1).split()
        if {"fa", "fas", "fa-solid"} & set(classes):
            used.update(c[3:] for c in classes if c.startswith("fa-"))
    return sorted(used)


def site_cjk_chars(outdir: Path, extra: str = "", scan: PageScanCache | None = None) -> str:
    chars: set[str] = set()
    for page in html_pages(outdir):
        chars.update(
            scan.get(page, page_cjk_chars)
            if scan
            else page_cjk_chars(page.read_text(encoding="utf-8", errors="replace"))
        )
    # Text that scripts insert: Sphinx's translated UI strings (search results), toggle hints.
    for script in ("translations.js", "togglebutton.js", "documentation_options.js"):
        path = outdir / "_static" / script
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
            chars.update(_CJK_CHAR.findall(text))
    chars.update(_CJK_CHAR.findall(extra))
    chars.update("，。：；！？（）、“”‘’《》【】—…")  # typed into the search box
    return "".join(sorted(chars))


FA_SOLID = Path("vendor") / "fontawesome" / "webfonts" / "fa-solid-900.woff2"
# Icons that theme scripts switch to at run time (not in the HTML).
FA_SCRIPT_ICONS = {
    "compress",
    "expand",
    "xmark",
    "chevron-down",
    "chevron-up",
    "list",
    "check",
    "copy",
    "moon",
    "sun",
    "circle-half-stroke",
}


def theme_css_source() -> Path:
    """The theme's own ``pydata-sphinx-theme.css`` (the build's copy has unused rules removed)."""
    return fa_source().parents[3] / "styles" / "pydata-sphinx-theme.css"


def fa_used_icons(outdir: Path, scan: PageScanCache | None = None) -> set[str]:
    """The Font Awesome icon names the pages use, and those theme scripts switch to."""
    used = set(FA_SCRIPT_ICONS)
    for page in sorted(outdir.rglob("*.html")):
        used.update(
            scan.get(page, page_icons) if scan else page_icons(page.read_text(encoding="utf-8"))
        )
    return used


def fa_codepoints(outdir: Path, scan: PageScanCache | None = None) -> set[int]:
    """Codepoints of the solid Font Awesome glyphs the pages and the theme's CSS use."""
    css_file = theme_css_source()
    # the theme's stylesheet is large and its glyph table slow to parse: parsed once per version
    glyph, icon_vars = (
        scan.get(css_file, theme_glyphs)
        if scan
        else theme_glyphs(css_file.read_text(encoding="utf-8"))
    )
    used = fa_used_icons(outdir, scan)
    codepoints = {
        ord(v[-1]) if not v.startswith("\\") else int(v[1:], 16)
        for k, v in glyph.items()
        if k in used
    }
    for var, value in icon_vars:
        if var in ("github", "gitlab"):  # brand icons live in fa-brands-400, not subset
            continue
        codepoints.add(int(value[1:], 16) if value.startswith("\\") else ord(value[-1]))
    return codepoints


# One rule of the icon table: ``}.fa-a:before,.fa-b:before{content:"\f00d"}``.
_FA_RULE = re.compile(r'(?<=\})((?:\.fa-[a-z0-9-]+:before,?)+)\{content:"(?:\\[0-9a-f]+|[^"]+)"\}')
_FA_NAME = re.compile(r"\.fa-([a-z0-9-]+):before")


def purge_icon_rules(css: str, used: set[str]) -> str:
    """The theme stylesheet without the ``.fa-NAME:before`` rules of icons nobody uses."""
    return _FA_RULE.sub(
        lambda m: m.group(0) if used & set(_FA_NAME.findall(m.group(1))) else "", css
    )


def theme_glyphs(css: str) -> tuple[dict[str, str], list[list[str]]]:
    """The theme stylesheet's ``.fa-NAME:before{content:...}`` table and ``--pst-icon-*``
    variables."""
    glyph = {}
    for selectors, content in re.findall(r"([^{}]+)\{content:\"(\\[0-9a-f]+|[^\"]+)\"\}", css):
        for name in re.findall(r"\.fa-([a-z0-9-]+):before", selectors):
            glyph[name] = content
    icon_vars = [list(m) for m in re.findall(r"--pst-icon-([a-z-]+):\"(\\[0-9a-f]+|[^\"]+)\"", css)]
    return glyph, icon_vars


# --------------------------------------------------------------------------------------------
# Subsetting
# --------------------------------------------------------------------------------------------
def _subset(
    source: Path,
    target: Path,
    flavor: str,
    *,
    text: str | None = None,
    unicodes: list[int] | None = None,
    layout_features: list[str] | None = None,
    desubroutinize: bool = False,
    drop_tables: tuple[str, ...] = (),
) -> None:
    from fontTools import subset

    options = subset.Options()
    options.flavor = flavor
    options.layout_features = layout_features or []
    options.hinting = False
    if desubroutinize:
        options.desubroutinize = True
    options.drop_tables = [*options.drop_tables, *drop_tables]
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    if text is not None:
        subsetter.populate(text=text)
    else:
        subsetter.populate(unicodes=unicodes or [])
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(target), options)


def vertical_metrics(font) -> tuple[float, float, float]:
    """Ascent, descent and line gap of a fontTools ``TTFont`` in em, as browsers read them: the
    OS/2 typographic values when the font sets USE_TYPO_METRICS (fsSelection bit 7), else hhea's.
    """
    upm = font["head"].unitsPerEm
    os2 = font["OS/2"]
    if os2.fsSelection & (1 << 7):
        values = (os2.sTypoAscender, -os2.sTypoDescender, os2.sTypoLineGap)
    else:
        hhea = font["hhea"]
        values = (hhea.ascent, -hhea.descent, hhea.lineGap)
    return tuple(v / upm for v in values)


def metric_overrides(font) -> str:
    """``ascent-override``, ``descent-override`` and ``line-gap-override`` (percent of the em)
    of ``font``'s vertical metrics: given to both CJK faces, so they lay out lines alike in every
    browser whatever table it reads."""
    ascent, descent, gap = vertical_metrics(font)
    return (
        f"ascent-override:{100 * ascent:g}%;descent-override:{100 * descent:g}%;"
        f"line-gap-override:{100 * gap:g}%"
    )


def make_cjk_placeholder(source: Path, flavor: str) -> bytes:
    """A tiny font (about 0.4 kB) with the web font's metrics: every codepoint of its
    ``unicode-range`` is a box as wide as the web font's glyph (one em where the font has none),
    on the same em, ascent, descent and line gap.

    Readers with no Chinese font see these boxes until the 240 kB web font has arrived (before,
    the browser drew its own "tofu", narrower than a Chinese character, and every line was set
    again when the font came: layout shift, CLS up to 0.44 in Lighthouse's phone preset). It
    depends on the source font only (not on the pages), so it is ready before any page is
    written; a format 13 ``cmap`` (ranges of codepoints onto one glyph) keeps it small.
    """
    import io

    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

    src = TTFont(str(source), lazy=True)
    upm = src["head"].unitsPerEm
    cmap = src.getBestCmap()
    hmtx = src["hmtx"]
    advance_of = {}
    for part in CJK_RANGE.split(","):
        first, last = (int(x, 16) for x in part[2:].split("-"))
        for cp in range(first, last + 1):
            advance_of[cp] = hmtx[cmap[cp]][0] if cp in cmap else upm
    order = [".notdef"] + [f"box{a}" for a in sorted(set(advance_of.values()))]
    glyphs, metrics = {}, {}
    for name in order:
        advance = upm if name == ".notdef" else int(name[3:])
        pen = TTGlyphPen(None)
        if advance >= upm // 4:
            # a hollow box, like the browser's own missing-glyph box: outer contour clockwise,
            # inner counter-clockwise (TrueType winding), 5 % of the em thick
            x0, x1 = round(0.1 * advance), round(0.9 * advance)
            y0, y1 = round(-0.07 * upm), round(0.8 * upm)
            t = round(0.05 * upm)
            for box in (
                [(x0, y0), (x0, y1), (x1, y1), (x1, y0)],
                [(x0 + t, y0 + t), (x1 - t, y0 + t), (x1 - t, y1 - t), (x0 + t, y1 - t)],
            ):
                pen.moveTo(box[0])
                for point in box[1:]:
                    pen.lineTo(point)
                pen.closePath()
        glyphs[name] = pen.glyph()
        metrics[name] = (advance, round(0.1 * advance))
    fb = FontBuilder(upm, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({})
    subtable = CmapSubtable.newSubtable(13)
    subtable.platformID, subtable.platEncID, subtable.language = 3, 10, 0
    subtable.cmap = {cp: f"box{a}" for cp, a in advance_of.items()}
    fb.font["cmap"].tables = [subtable]
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics(metrics)
    hhea, os2 = src["hhea"], src["OS/2"]
    fb.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent, lineGap=hhea.lineGap)
    fb.setupNameTable({"familyName": PLACEHOLDER_FAMILY, "styleName": "Regular"})
    fb.setupOS2(
        sTypoAscender=os2.sTypoAscender,
        sTypoDescender=os2.sTypoDescender,
        sTypoLineGap=os2.sTypoLineGap,
        usWinAscent=os2.usWinAscent,
        usWinDescent=os2.usWinDescent,
        fsSelection=os2.fsSelection,
    )
    fb.setupPost()
    # reproducible: the source font's timestamps, not the time of the build
    fb.updateHead(created=src["head"].created, modified=src["head"].modified)
    fb.font.recalcTimestamp = False
    fb.font.flavor = flavor
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def placeholder_script(source: Path = CJK_FONT_SOURCE) -> str:
    """The inline script, first in every page's head, that adds the placeholder font.

    A font given to ``FontFace`` as bytes is ready at once (a ``data:`` URL in a stylesheet is
    loaded like any other request: the first layout would still use the browser's tofu). It runs
    before the stylesheets, so no stylesheet delays it."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), lazy=True)
    ascent, descent, gap = vertical_metrics(font)
    data = base64.b64encode(make_cjk_placeholder(source, "woff2")).decode("ascii")
    descriptors = (
        f'{{unicodeRange:"{CJK_RANGE}",ascentOverride:"{100 * ascent:g}%",'
        f'descentOverride:"{100 * descent:g}%",lineGapOverride:"{100 * gap:g}%",display:"block"}}'
    )
    return (
        "(function(){if(!window.FontFace||!document.fonts)return;try{"
        f'var s=atob("{data}"),b=new Uint8Array(s.length);'
        "for(var i=0;i<s.length;i++)b[i]=s.charCodeAt(i);"
        f'document.fonts.add(new FontFace("{PLACEHOLDER_FAMILY}",b,{descriptors}))'
        "}catch(e){}})()"
    )


def write_cjk_font(outdir: Path, extra: str = "", scan: PageScanCache | None = None) -> bool:
    """``_static/fonts/sgdbook-cjk.woff2`` + ``_static/sgdbook-fonts.css``; whether the font
    was subset anew (it is not when the characters, the source font and fontTools are the ones
    of the existing file).

    The stylesheet names the common system CJK fonts first (Windows, macOS, Linux, Android), so
    most readers use their own and never download this file: the browser fetches a web font
    only for characters no earlier family in the stack can draw. Readers with no Chinese font
    at all (a bare Linux box, a kiosk browser) get the book's own Noto Sans SC, subset to the
    characters the site uses.
    """
    static = outdir / "_static"
    chars = site_cjk_chars(outdir, extra, scan)
    digest = hashlib.sha256(chars.encode()).hexdigest()[:12]
    font_dir = static / "fonts"
    font_dir.mkdir(parents=True, exist_ok=True)
    try:
        import brotli  # noqa: F401

        flavor = "woff2"
    except ImportError:
        flavor = "woff"
    font_file = font_dir / f"sgdbook-cjk.{flavor}"
    stamp = font_dir / "sgdbook-cjk.stamp"
    stamp_text = (
        f"{digest}{flavor} {_file_sha(CJK_FONT_SOURCE)[:16]} {_fonttools_version()} "
        f"-{'-'.join(CJK_DROPPED_TABLES)}"
    )
    made = False
    if not (font_file.is_file() and stamp.is_file() and stamp.read_text() == stamp_text):
        if not CJK_FONT_SOURCE.is_file():
            logger.warning(
                "CJK font %s not found: readers without a Chinese font see boxes", CJK_FONT_SOURCE
            )
            return False
        _subset(
            CJK_FONT_SOURCE,
            font_file,
            flavor,
            text=chars,
            layout_features=["*"],
            desubroutinize=True,
            drop_tables=CJK_DROPPED_TABLES,
        )
        stamp.write_text(stamp_text)
        made = True
    from fontTools.ttLib import TTFont

    overrides = metric_overrides(TTFont(str(font_file), lazy=True))
    css = (
        "/* Generated by book/_ext/sgdbook_site/fonts.py. Noto Sans SC (SIL Open Font License\n"
        "   1.1, sgdbook/fonts/OFL.txt), subset to the characters of this site; until it has\n"
        "   loaded, a placeholder with its metrics (added by a script in the page head) is\n"
        "   shown, so the swap moves no text. */\n"
        f'@font-face{{font-family:"{CJK_FAMILY}";font-style:normal;font-weight:400;'
        f'font-display:swap;src:url(fonts/{font_file.name}?v={digest}) format("{flavor}");'
        f"unicode-range:{CJK_RANGE};{overrides}}}\n"
    )
    css_file = static / FONT_CSS
    if not css_file.is_file() or css_file.read_text(encoding="utf-8") != css:
        css_file.write_text(css, encoding="utf-8")
    return made


def fa_source() -> Path:
    import pydata_sphinx_theme

    return (
        Path(pydata_sphinx_theme.__file__).parent
        / "theme"
        / "pydata_sphinx_theme"
        / "static"
        / FA_SOLID
    )


def subset_fontawesome(
    outdir: Path, cache: Path | None = None, scan: PageScanCache | None = None
) -> bool:
    """Replace the copied 156 kB fa-solid-900.woff2 by the few glyphs the site uses; whether
    the subset was made anew (not when ``cache`` holds one for the same glyphs and source)."""
    source = fa_source()
    target = outdir / "_static" / FA_SOLID
    if not source.is_file() or not target.is_file():
        return False
    codepoints = sorted(fa_codepoints(outdir, scan))
    key = hashlib.sha256(
        f"{codepoints}\0{_file_sha(source)}\0{_fonttools_version()}".encode()
    ).hexdigest()[:16]
    made = False
    if cache is None:
        _subset(source, target, "woff2", unicodes=codepoints)
        made = True
    else:
        cached = cache / f"fa-solid-{key}.woff2"
        if not cached.is_file():
            for old in cache.glob("fa-solid-*.woff2"):
                old.unlink()
            _subset(source, cached, "woff2", unicodes=codepoints)
            made = True
        if target.read_bytes() != cached.read_bytes():
            shutil.copyfile(cached, target)
    css_file = outdir / "_static" / "styles" / "pydata-sphinx-theme.css"
    if css_file.is_file():  # Sphinx copies the theme's file again on every build
        css = css_file.read_text(encoding="utf-8")
        purged = purge_icon_rules(css, fa_used_icons(outdir, scan))
        if purged != css:
            css_file.write_text(purged, encoding="utf-8")
    for ttf in (outdir / "_static" / "vendor" / "fontawesome" / "webfonts").glob("*.ttf"):
        ttf.unlink()  # every supported browser reads woff2; the CSS lists woff2 first
    for script in ("fontawesome.js", "fontawesome.js.map"):
        (outdir / "_static" / "scripts" / script).unlink(missing_ok=True)
    return made


# --------------------------------------------------------------------------------------------
def _builder_inited(app: Sphinx) -> None:
    st = site_state(app)
    if app.builder.format == "html" and st.font_head_script is None:
        st.font_head_script = placeholder_script() if CJK_FONT_SOURCE.is_file() else ""
    if app.builder.format == "html" and not st.font_assets_added:
        # builder-inited may run twice; book/_static/*.css are linked by Jupyter Book itself
        app.add_css_file(FONT_CSS)
        app.add_js_file(None, body=FONT_FIX_JS)
        st.font_assets_added = True


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    # pages.postprocess puts it first in the head
    context[HEAD_SCRIPT_KEY] = site_state(app).font_head_script or ""


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    folder = cache_dir(app)
    scan = PageScanCache(folder / "page-scan.json", version=SCAN_VERSION)
    cjk = PageScanCache(folder / "page-cjk.json", version=SCAN_VERSION)
    subset_fontawesome(outdir, folder, scan)
    write_cjk_font(
        outdir,
        extra="".join(
            str(getattr(app.config, key, ""))
            for key in ("togglebutton_hint", "togglebutton_hint_hide", "html_title", "project")
        ),
        scan=cjk,
    )
    scan.save(keep=[*outdir.rglob("*.html"), theme_css_source()])
    cjk.save(keep=html_pages(outdir))


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page_context)
    # after the pages' own post-build edits (figures, build notes: priority 400)
    app.connect("build-finished", _build_finished, priority=600)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
