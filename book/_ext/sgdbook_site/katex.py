"""Math at build time: every formula rendered to HTML + MathML by the ``katex`` npm package.

Formulas (MyST ``$...$``, ``$$...$$``, amsmath environments, math in proofs, exercises and
notebook outputs) are rendered by ``node_modules/katex`` through one Node.js process per build
(book/_ext/katex_server.js). No math JavaScript reaches the reader; the KaTeX stylesheet and its
woff2 fonts are copied to ``_static/katex/`` and linked only from pages that contain math, its
``@font-face`` rules in a stylesheet applied after the first paint (``split_stylesheet``; see
``pages.py``). A formula KaTeX cannot parse is a build warning naming the page (fatal: the build
is strict).

Rendered formulas are kept between builds in ``book/_build/.sgdbook_site/katex-<key>.json``,
one entry per (TeX, display mode); the file's key is the hash of the katex version, the macros
and katex_server.js, so changing any of them starts an empty cache. A cached parse error is
reported again, as a warning, on every page that is written with it.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

from .common import REPO_ROOT, SiteError, cache_dir, read_json, site_state, write_json

logger = logging.getLogger(__name__)

KATEX_DIR = REPO_ROOT / "node_modules" / "katex"
KATEX_SERVER = Path(__file__).resolve().parent.parent / "katex_server.js"
KATEX_CSS = "_static/katex/katex.min.css"
#: KaTeX's ``@font-face`` rules, taken out of its stylesheet: linked as a late stylesheet
#: (``pages.late_stylesheet``), so the fonts are fetched after the first paint.
KATEX_FONTS_CSS = "_static/katex/katex-fonts.css"
_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")

# Macros available in every formula of the book (KaTeX syntax).
DEFAULT_MACROS = {
    r"\R": r"\mathbb{R}",
    r"\E": r"\mathbb{E}",
    r"\Var": r"\operatorname{Var}",
    r"\argmin": r"\operatorname*{arg\,min}",
    r"\argmax": r"\operatorname*{arg\,max}",
    r"\norm": r"\left\lVert #1 \right\rVert",
}


def katex_version(katex_dir: Path = KATEX_DIR) -> str:
    try:
        return json.loads((katex_dir / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return "missing"


def cache_key(
    macros: dict[str, str], katex_dir: Path = KATEX_DIR, server: Path = KATEX_SERVER
) -> str:
    """What a rendered formula depends on besides its TeX and display mode."""
    try:
        script = server.read_bytes()
    except OSError:
        script = b""
    digest = hashlib.sha256()
    digest.update(json.dumps([katex_version(katex_dir), sorted(macros.items())]).encode())
    digest.update(hashlib.sha256(script).digest())
    return digest.hexdigest()[:16]


class KatexRenderer:
    """One long-lived ``node katex_server.js`` process, started on the first formula that is
    not in the cache; renders are remembered for the build and, with ``cache_folder``, between
    builds (one JSON file per :func:`cache_key`)."""

    def __init__(
        self,
        macros: dict[str, str] | None = None,
        cache_folder: Path | None = None,
        katex_dir: Path = KATEX_DIR,
    ) -> None:
        self.macros = dict(macros or {})
        self.katex_dir = katex_dir
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.rendered = 0  # formulas sent to node by this process (the rest came from a cache)
        self.cache_file = (
            None
            if cache_folder is None
            else cache_folder / f"katex-{cache_key(self.macros, katex_dir)}.json"
        )
        self._cache: dict[str, list] = {}
        self._dirty = False
        if self.cache_file is not None:
            data = read_json(self.cache_file, {})
            self._cache = data if isinstance(data, dict) else {}

    def _start(self) -> subprocess.Popen:
        node = shutil.which("node")
        if node is None:
            raise SiteError(
                "Node.js (`node`) is needed to render the book's math; install it "
                "and run `npm ci` (tools/setup-env.sh does both)"
            )
        if not (self.katex_dir / "package.json").is_file():
            raise SiteError(f"the katex npm package is missing ({self.katex_dir}); run `npm ci`")
        proc = subprocess.Popen(
            [node, str(KATEX_SERVER), str(self.katex_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        atexit.register(self.close)
        return proc

    def close(self) -> None:
        """Stop node and save the cache (if anything was added)."""
        if self._proc is not None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None
        if self._dirty and self.cache_file is not None:
            # old caches (another katex version or other macros) are of no further use
            for old in self.cache_file.parent.glob("katex-*.json"):
                if old != self.cache_file:
                    old.unlink(missing_ok=True)
            write_json(self.cache_file, self._cache)
            self._dirty = False

    def render(self, tex: str, display: bool) -> tuple[str | None, str | None]:
        """(html, None) or (None, error message)."""
        key = ("D" if display else "I") + tex
        with self._lock:
            if key not in self._cache:
                if self._proc is None or self._proc.poll() is not None:
                    self._proc = self._start()
                request = {"tex": tex, "display": display, "macros": self.macros}
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
                line = self._proc.stdout.readline()
                if not line:
                    raise SiteError("the KaTeX renderer (node) exited unexpectedly")
                reply = json.loads(line)
                self._cache[key] = [reply.get("html"), reply.get("error")]
                self.rendered += 1
                self._dirty = True
            html, error = self._cache[key]
            return html, error


def renderer(app: Sphinx) -> KatexRenderer:
    st = site_state(app)
    if st.katex is None:
        macros = {**DEFAULT_MACROS, **(app.config.sgdbook_katex_macros or {})}
        st.katex = KatexRenderer(macros, cache_folder=cache_dir(app))
    return st.katex


# amsmath environments are numbered by Sphinx (the eqno span), never by KaTeX, and KaTeX has no
# \label: use the starred forms and drop labels.
_NUMBERED_ENV = re.compile(r"\\(begin|end)\{(equation|align|gather|alignat|multline|flalign)\}")
_LABEL = re.compile(r"\\label\{[^}]*\}")


def prepare(tex: str) -> str:
    tex = _NUMBERED_ENV.sub(lambda m: f"\\{m.group(1)}{{{m.group(2)}*}}", tex)
    return _LABEL.sub("", tex).strip()


def _katex(self, node: nodes.Element, tex: str, display: bool) -> str:
    rendered, error = renderer(self.builder.app).render(prepare(tex), display)
    if error is not None:
        logger.warning("KaTeX cannot render %r: %s", tex, error, location=node)
        return f'<span class="katex-error">{self.encode(tex)}</span>'
    return rendered


def html_visit_math(self, node: nodes.math) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_katex(self, node, node.astext(), display=False))
    self.body.append("</span>")
    raise nodes.SkipNode


def html_visit_displaymath(self, node: nodes.math_block) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node.get("number"):
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    tex = node.astext()
    if not node.get("nowrap"):
        # Sphinx's conventions (``.. math::`` in docstrings and reST): blank-line-separated parts
        # are separate equations, and a part with line breaks is aligned at its & marks
        # (MathJax gets \begin{split}, which KaTeX lacks: aligned is the same layout).
        parts = [p.strip() for p in tex.split("\n\n") if p.strip()]
        parts = [
            r"\begin{aligned}" + p + r"\end{aligned}"
            if "\\\\" in p and not p.lstrip().startswith("\\begin")
            else p
            for p in parts
        ]
        tex = (
            parts[0]
            if len(parts) == 1
            else r"\begin{gathered}" + r"\\".join(parts) + r"\end{gathered}"
        )
    # The formula box scrolls on narrow screens: keyboard users must be able to reach it.
    rendered = _katex(self, node, tex, display=True)
    self.body.append(
        rendered.replace(
            '<span class="katex-display">', '<span class="katex-display" tabindex="0">', 1
        )
    )
    self.body.append("</div>\n")
    raise nodes.SkipNode


def split_stylesheet(css: str) -> tuple[str, str]:
    """KaTeX's stylesheet as (its rules without the ``@font-face`` rules, those rules), with
    woff2 sources only (every browser the book targets reads them).

    Fonts that layout asks for before the first paint hold that paint back: with KaTeX's fonts
    in its render-blocking stylesheet, Lighthouse's phone preset measured the first paint of a
    chapter about 0.7 s later (docs/site.md). Applied after the first contentful paint, the
    fonts arrive a moment later and little moves: until then formulas are set with fallback
    metrics (a line holding a formula comes out about 1 px taller, a formula's width differs and
    may re-break its line); tests/test_browser.py holds what moves on a phone's first screen
    below Lighthouse's CLS target."""
    css = re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)
    return _FONT_FACE.sub("", css), "\n".join(_FONT_FACE.findall(css)) + "\n"


def copy_assets(outdir: Path, katex_dir: Path = KATEX_DIR) -> None:
    """KaTeX's stylesheet, its ``@font-face`` rules in a second one, and its woff2 fonts; files
    already in place are left alone."""
    target = outdir / "_static" / "katex"
    (target / "fonts").mkdir(parents=True, exist_ok=True)
    rules, faces = split_stylesheet(
        (katex_dir / "dist" / "katex.min.css").read_text(encoding="utf-8")
    )
    for name, css in (("katex.min.css", rules), ("katex-fonts.css", faces)):
        css_file = target / name
        if not css_file.is_file() or css_file.read_text(encoding="utf-8") != css:
            css_file.write_text(css, encoding="utf-8")
    for font in sorted((katex_dir / "dist" / "fonts").glob("*.woff2")):
        dest = target / "fonts" / font.name
        if not dest.is_file() or dest.stat().st_size != font.stat().st_size:
            shutil.copyfile(font, dest)


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    st = site_state(app)
    if st.katex is not None:
        if st.katex.rendered:
            logger.info(
                "[sgdbook] KaTeX rendered %d formula(s) not in its cache", st.katex.rendered
            )
        st.katex.close()
    if exception is None and app.builder.format == "html":
        copy_assets(Path(app.outdir))


def setup(app: Sphinx) -> dict:
    app.add_config_value("sgdbook_katex_macros", {}, "html", [dict])
    app.add_html_math_renderer(
        "sgdbook_katex", (html_visit_math, None), (html_visit_displaymath, None)
    )
    app.connect("build-finished", _build_finished)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": False}
