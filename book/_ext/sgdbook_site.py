"""Local Sphinx extension for the reading experience of the book's HTML site.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``. Everything a reader's browser
loads comes from the site itself (the book is read from networks where CDNs are slow or
blocked), and pages stay lean:

1. **Math at build time.** Formulas (MyST ``$...$``, ``$$...$$``, amsmath environments, math in
   proofs, exercises and notebook outputs) are rendered to HTML + MathML by the ``katex`` npm
   package (``node_modules/katex``) through one Node.js process per build. No math JavaScript
   reaches the reader; the KaTeX stylesheet and its woff2 fonts are copied to
   ``_static/katex/`` and linked only from pages that contain math. A formula KaTeX cannot
   parse is a build warning naming the page (fatal: the build is strict).
2. **Nothing that reaches out, nothing heavy.** sphinx-thebe's scripts are dropped (they would
   fetch thebe from unpkg.com); Font Awesome's 1.5 MB icon script is not loaded (the theme's
   stylesheet already draws the same icons with the bundled 156 kB woff2 font); the search
   index is loaded only by the search page. A Chinese web font (subset of the bundled Noto Sans
   SC) is there for readers without a system CJK font.
3. **Downloads.** Each notebook chapter's download menu offers the chapter as ``.ipynb``
   (executed outputs included when the execution cache has them) next to its MyST ``.md``.
4. **Build note.** Every page's footer says which device (CPU model or GPU name), torch
   version and git commit built the book.
5. **API reference.** The page holding ``<!-- sgdbook-api-modules -->`` gets one section per
   public ``sgdbook`` module, found by walking the package, so a new module appears without
   editing the page.
6. **Figures.** Every SVG ``<img>`` gets its intrinsic width and height (no layout shift while
   it loads), ``loading="lazy"`` and ``decoding="async"``.
"""

from __future__ import annotations

import atexit
import datetime
import hashlib
import html
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import SphinxError
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

BOOK_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BOOK_DIR.parent
PACKAGE_DIR = REPO_ROOT / "sgdbook"
KATEX_DIR = REPO_ROOT / "node_modules" / "katex"
KATEX_SERVER = Path(__file__).resolve().parent / "katex_server.js"
API_MARKER = "<!-- sgdbook-api-modules -->"
KATEX_CSS = "_static/katex/katex.min.css"

# Macros available in every formula of the book (KaTeX syntax).
DEFAULT_MACROS = {
    r"\R": r"\mathbb{R}",
    r"\E": r"\mathbb{E}",
    r"\Var": r"\operatorname{Var}",
    r"\argmin": r"\operatorname*{arg\,min}",
    r"\argmax": r"\operatorname*{arg\,max}",
    r"\norm": r"\left\lVert #1 \right\rVert",
}

class SiteError(SphinxError):
    category = "sgdbook site"


# --------------------------------------------------------------------------------------------
# 1. KaTeX at build time
# --------------------------------------------------------------------------------------------
class KatexRenderer:
    """One long-lived ``node katex_server.js`` process; renders are cached per build."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, bool], tuple[str | None, str | None]] = {}
        self.macros: dict[str, str] = {}

    def _start(self) -> subprocess.Popen:
        node = shutil.which("node")
        if node is None:
            raise SiteError("Node.js (`node`) is needed to render the book's math; install it "
                            "and run `npm ci` (tools/setup-env.sh does both)")
        if not (KATEX_DIR / "package.json").is_file():
            raise SiteError(f"the katex npm package is missing ({KATEX_DIR}); run `npm ci`")
        proc = subprocess.Popen(
            [node, str(KATEX_SERVER), str(KATEX_DIR)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1,
        )
        atexit.register(self.close)
        return proc

    def close(self) -> None:
        if self._proc is not None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None

    def render(self, tex: str, display: bool) -> tuple[str | None, str | None]:
        """(html, None) or (None, error message)."""
        key = (tex, display)
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
                self._cache[key] = (reply.get("html"), reply.get("error"))
            return self._cache[key]


RENDERER = KatexRenderer()

# amsmath environments are numbered by Sphinx (the eqno span), never by KaTeX, and KaTeX has no
# \label: use the starred forms and drop labels.
_NUMBERED_ENV = re.compile(r"\\(begin|end)\{(equation|align|gather|alignat|multline|flalign)\}")
_LABEL = re.compile(r"\\label\{[^}]*\}")


def _prepare(tex: str) -> str:
    tex = _NUMBERED_ENV.sub(lambda m: f"\\{m.group(1)}{{{m.group(2)}*}}", tex)
    return _LABEL.sub("", tex).strip()


def _katex(self, node: nodes.Element, tex: str, display: bool) -> str:
    rendered, error = RENDERER.render(_prepare(tex), display)
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
        parts = [r"\begin{aligned}" + p + r"\end{aligned}"
                 if "\\\\" in p and not p.lstrip().startswith("\\begin") else p for p in parts]
        tex = parts[0] if len(parts) == 1 else \
            r"\begin{gathered}" + r"\\".join(parts) + r"\end{gathered}"
    # The formula box scrolls on narrow screens: keyboard users must be able to reach it.
    rendered = _katex(self, node, tex, display=True)
    self.body.append(rendered.replace('<span class="katex-display">',
                                      '<span class="katex-display" tabindex="0">', 1))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def _copy_katex_assets(outdir: Path) -> None:
    """KaTeX's stylesheet (woff2 fonts only: every browser the book targets reads them)."""
    target = outdir / "_static" / "katex"
    (target / "fonts").mkdir(parents=True, exist_ok=True)
    css = (KATEX_DIR / "dist" / "katex.min.css").read_text(encoding="utf-8")
    css = re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)
    (target / "katex.min.css").write_text(css, encoding="utf-8")
    for font in sorted((KATEX_DIR / "dist" / "fonts").glob("*.woff2")):
        dest = target / "fonts" / font.name
        if not dest.is_file() or dest.stat().st_size != font.stat().st_size:
            shutil.copyfile(font, dest)


# --------------------------------------------------------------------------------------------
# 2. Lean pages: icons, no thebe, search index only where searched
# --------------------------------------------------------------------------------------------
_FONTAWESOME_TAG = re.compile(r'\s*<script[^>]*src="[^"]*scripts/fontawesome\.js[^"]*"[^>]*></script>')
_SEARCH_TAGS = re.compile(
    r'\s*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)"'
    r'></script>')
_THEBE_CONFIG = re.compile(r'\s*<script type="text/x-thebe-config">.*?</script>', re.S)


def _postprocess(html_text: str, pagename: str, context: dict[str, Any]) -> str:
    html_text = _FONTAWESOME_TAG.sub("", html_text)
    html_text = _THEBE_CONFIG.sub("", html_text)
    if pagename != "search":
        # pydata-sphinx-theme loads the whole search index on every page for search-as-you-type,
        # which this book does not use (the search box opens search.html).
        html_text = _SEARCH_TAGS.sub("", html_text)
    # Accessibility (axe-core): the primary sidebar (book title, chapters) is a landmark; docutils
    # marks bibliography entries with a deprecated role inside a role="list".
    html_text = html_text.replace(
        '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">',
        '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar" role="complementary"'
        ' aria-label="全书目录">', 1)
    html_text = html_text.replace('role="doc-biblioentry"', 'role="listitem"')
    if 'class="katex' in html_text and "katex.min.css" not in html_text:
        href = context["pathto"](KATEX_CSS, 1)
        html_text = html_text.replace(
            "</head>", f'  <link rel="stylesheet" href="{href}" />\n</head>', 1)
    return html_text


def _wrap_templates(app: Sphinx) -> None:
    if app.builder.format != "html" or not hasattr(app.builder, "templates"):
        return
    templates = app.builder.templates
    if getattr(templates, "_sgdbook_wrapped", False):
        return
    original = templates.render

    def render(template: str, context: dict[str, Any]) -> str:
        output = original(template, context)
        if template.endswith("page.html") or template in {"search.html", "genindex.html",
                                                         "py-modindex.html", "domainindex.html"}:
            output = _postprocess(output, context.get("pagename", ""), context)
        return output

    templates.render = render
    templates._sgdbook_wrapped = True


def _asset_key(asset: Any) -> tuple[str, str]:
    return (str(getattr(asset, "filename", asset) or ""),
            str(getattr(asset, "attributes", {}).get("body", "")))


def _unique(assets: list) -> list:
    """The assets in order, each once (extensions whose setup runs twice add theirs twice)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for asset in assets:
        key = _asset_key(asset)
        if key not in seen:
            seen.add(key)
            kept.append(asset)
    return kept


def _filter_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Drop sphinx-thebe's scripts and styles (thebe would load from unpkg.com) and duplicates."""
    if "script_files" in context:
        context["script_files"] = _unique([
            s for s in context["script_files"]
            if "thebe" not in str(getattr(s, "filename", "") or "")
            and "THEBE_JS_URL" not in str(getattr(s, "attributes", {}).get("body", ""))
        ])
    if "css_files" in context:
        context["css_files"] = _unique([c for c in context["css_files"]
                                        if "thebe" not in str(getattr(c, "filename", c))])


# --------------------------------------------------------------------------------------------
# 3. Notebook downloads
# --------------------------------------------------------------------------------------------
def _notebook_with_outputs(app: Sphinx, nb_path: Path) -> bytes:
    """The executed notebook myst-nb wrote, with outputs merged in from the execution cache."""
    content = nb_path.read_bytes()
    cache_dir = Path(app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
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


def _add_notebook_download(app: Sphinx, pagename: str, templatename: str, context: dict,
                           doctree) -> None:
    if doctree is None:
        return
    nb_path = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not nb_path.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_notebook_with_outputs(app, nb_path))
    context["ipynb_source"] = f"{pagename}.ipynb"


# --------------------------------------------------------------------------------------------
# 4. Build note (device, torch, commit, date)
# --------------------------------------------------------------------------------------------
def git_commit() -> str:
    """Short commit of the working tree, with ``-dirty`` when tracked files have changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO_ROOT, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("GITHUB_SHA", "unknown")[:12] or "unknown"
    return commit + ("-dirty" if dirty else "")


def build_date() -> str:
    """The build's date (UTC, ISO format); ``SOURCE_DATE_EPOCH`` fixes it for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
            else datetime.datetime.now(datetime.timezone.utc))
    return when.date().isoformat()


def _device_key() -> str:
    """What the device description depends on, found without importing torch."""
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch_version = "none"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        cpu = next((l for l in cpuinfo.splitlines() if l.lower().startswith("model name")), "")
    except OSError:
        cpu = platform.processor()
    parts = [torch_version, cpu, str(os.cpu_count()), platform.node(),
             *(os.environ.get(v, "") for v in ("SGDBOOK_DEVICE", "SGDBOOK_REQUIRE_CUDA",
                                                "CUDA_VISIBLE_DEVICES")),
             *sorted(p.name for p in Path("/dev").glob("nvidia*"))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def device_description(cache_file: Path) -> str:
    """``sgdbook.device.describe_device()``, cached so a no-change rebuild skips importing torch."""
    key = _device_key()
    try:
        cached = json.loads(cache_file.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return cached["description"]
    except (OSError, ValueError, KeyError):
        pass
    import sys

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from sgdbook.device import describe_device  # imports torch

    description = describe_device()
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps({"key": key, "description": description}), encoding="utf-8")
    return description


def _set_build_note(app: Sphinx, config) -> None:
    if not config.sgdbook_build_note:
        return
    cache_file = Path(app.outdir).parent / ".sgdbook_device.json"
    note = (f'<p class="sgdbook-build-note">本书由 <code>{html.escape(device_description(cache_file))}'
            f'</code> 构建，提交 <code>{html.escape(git_commit())}</code>，'
            f'构建日期 {build_date()}。</p>')
    options = dict(config.html_theme_options or {})
    footer = options.get("extra_footer") or ""
    options["extra_footer"] = f"{footer}\n{note}" if footer else note
    config.html_theme_options = options


# --------------------------------------------------------------------------------------------
# 5. API reference: every public sgdbook module
# --------------------------------------------------------------------------------------------
def public_modules() -> list[str]:
    """Dotted names of every public module of sgdbook (no component starting with ``_``)."""
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if len(parts) == 1:
                continue  # the top-level package: only __version__
        if any(p.startswith("_") for p in parts) or "__pycache__" in parts:
            continue
        found.append(".".join(parts))
    return found


def api_sections(modules: list[str]) -> str:
    blocks = []
    for module in modules:
        blocks.append(f"## `{module}`\n\n```{{eval-rst}}\n.. automodule:: {module}\n"
                      f"   :members:\n   :show-inheritance:\n```\n")
    return "\n".join(blocks)


def _api_source(app: Sphinx, docname: str, source: list[str]) -> None:
    if API_MARKER in source[0]:
        source[0] = source[0].replace(API_MARKER, api_sections(public_modules()))
        app.env.sgdbook_api_modules = public_modules()  # type: ignore[attr-defined]
        app.env.sgdbook_api_doc = docname  # type: ignore[attr-defined]


def _api_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    doc = getattr(env, "sgdbook_api_doc", None)
    if doc and doc in env.all_docs and getattr(env, "sgdbook_api_modules", None) != public_modules():
        return [doc]
    return []


# --------------------------------------------------------------------------------------------
# 5b. Apparatus polish: Chinese proof label, unique element ids
# --------------------------------------------------------------------------------------------
_INLINE_DOLLAR = re.compile(r"\$([^$\n]+?)\$")


def _polish_doctree(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    # sphinx-proof prefixes every proof with the English "Proof. ": make it 证明.
    for admonition in doctree.findall(nodes.admonition):
        if "proof" not in admonition["classes"] or admonition["classes"][1:2] != ["proof"]:
            continue
        for text in admonition.findall(nodes.Text):
            if text.astext().startswith("Proof. "):
                parent = text.parent
                index = parent.index(text)
                parent.remove(text)
                parent.insert(index, nodes.Text("\u3000" + text.astext()[len("Proof. "):]))
                parent.insert(index, nodes.strong("", "证明"))
            break
    # BibTeX fields may hold TeX math ({$O(1/k^2)$}); pybtex leaves it as text: render it.
    for container in list(doctree.findall(nodes.citation)) + list(doctree.findall(nodes.footnote)):
        for text in list(container.findall(nodes.Text)):
            if "$" not in text.astext() or isinstance(text.parent, (nodes.math, nodes.literal)):
                continue
            pieces = _INLINE_DOLLAR.split(text.astext())
            if len(pieces) == 1:
                continue
            new = [nodes.math(p, p) if i % 2 else nodes.Text(p) for i, p in enumerate(pieces) if p]
            text.parent.replace(text, new)
    # sphinx-proof and sphinx-exercise give every box the same ids ("proof", "proof-content",
    # "solution-content"): duplicate ids on a page break anchors and accessibility checks.
    # (HTML only: the PDF's single doctree holds every page, and LaTeX labels need the real ids.)
    if app.builder.format != "html":
        return
    seen: set[str] = set()
    for node in doctree.findall(nodes.Element):
        ids = node.get("ids") or []
        for i, ident in enumerate(ids):
            if ident in seen:
                n = 2
                while f"{ident}-{n}" in seen:
                    n += 1
                ids[i] = f"{ident}-{n}"
            seen.add(ids[i])


# --------------------------------------------------------------------------------------------
# 6. Chinese search: every dictionary term in a page is an index term
# --------------------------------------------------------------------------------------------
from sphinx.search.zh import SearchChinese  # noqa: E402


class SearchChineseTerms(SearchChinese):
    """jieba's search-mode segmentation, plus every user-dictionary term found in the text.

    ``jieba.cut_for_search`` yields a compound term only where its segmentation of the
    sentence happens to produce it: 梯度下降 inside 随机梯度下降 is split into 2- and 3-character
    pieces, never into the 4-character term, so a page that only says 随机梯度下降 would be
    missing from the results for 梯度下降. Substring matching against the dictionary makes each
    listed term findable on every page that contains it. The query side needs nothing: Sphinx's
    default ``splitQuery`` keeps a run of CJK characters as one term.
    """

    dict_terms: tuple[str, ...] = ()

    class _Terms(set):
        """The Latin terms seen so far; Sphinx's ``SearchChinese`` keeps them in a list that
        grows with every page and is searched for every word, which made indexing the book
        quadratic (8 of a clean build's 25 s of rendering)."""

        def extend(self, terms) -> None:
            self.update(terms)

    def init(self, options: dict[str, str]) -> None:
        super().init(options)
        self.latin_terms = self._Terms()  # type: ignore[assignment]
        self._stems: dict[str, str] = {}
        path = options.get("dict")
        terms = []
        if path and os.path.isfile(path):
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    terms.append(line.split()[0])
        self.dict_terms = tuple(sorted(set(terms), key=len, reverse=True))

    def split(self, input: str) -> list[str]:
        words = super().split(input)
        words.extend(term for term in self.dict_terms if term in input)
        return words

    def stem(self, word: str) -> str:
        """``SearchChinese.stem`` (the same rule), with each word's stem computed once."""
        lower = word.lower()
        stemmed = self._stems.get(lower)
        if stemmed is None:
            stemmed = self._stems[lower] = self.stemmer.stemWord(lower)
        if word in self.latin_terms and len(word) >= 3 and len(stemmed) < 3:
            return lower
        return stemmed


# --------------------------------------------------------------------------------------------
# 7. A Chinese web font for readers without one (subset to the characters the site uses)
# --------------------------------------------------------------------------------------------
CJK_FONT_SOURCE = PACKAGE_DIR / "fonts" / "NotoSansSC-GB2312.otf"
FONT_CSS = "sgdbook-fonts.css"
_CJK_CHAR = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)


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


def _site_cjk_chars(outdir: Path, extra: str = "") -> str:
    chars: set[str] = set()
    for page in outdir.rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = _TAGS.sub(" ", page.read_text(encoding="utf-8", errors="replace"))
        chars.update(_CJK_CHAR.findall(html.unescape(text)))
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


def _write_cjk_font(outdir: Path, extra: str = "") -> None:
    """``_static/fonts/sgdbook-cjk.woff2`` + ``_static/sgdbook-fonts.css``.

    The stylesheet names the common system CJK fonts first (Windows, macOS, Linux, Android), so
    most readers use their own and never download this file: the browser fetches a web font
    only for characters no earlier family in the stack can draw. Readers with no Chinese font
    at all (a bare Linux box, a kiosk browser) get the book's own Noto Sans SC, subset to the
    characters the site uses.
    """
    static = outdir / "_static"
    chars = _site_cjk_chars(outdir, extra)
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
    if not (font_file.is_file() and stamp.is_file() and stamp.read_text() == digest + flavor):
        if not CJK_FONT_SOURCE.is_file():
            logger.warning("CJK font %s not found: readers without a Chinese font see boxes",
                           CJK_FONT_SOURCE)
            return
        from fontTools import subset

        options = subset.Options()
        options.flavor = flavor
        options.layout_features = ["*"]
        options.hinting = False
        options.desubroutinize = True
        font = subset.load_font(str(CJK_FONT_SOURCE), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        subset.save_font(font, str(font_file), options)
        stamp.write_text(digest + flavor)
    css = (
        "/* Generated by book/_ext/sgdbook_site.py. Noto Sans SC (SIL Open Font License 1.1,\n"
        "   sgdbook/fonts/OFL.txt), subset to the characters of this site. */\n"
        "@font-face{font-family:\"SGD Noto Sans SC\";font-style:normal;font-weight:400;"
        f"font-display:swap;src:url(fonts/{font_file.name}?v={digest}) format(\"{flavor}\");"
        "unicode-range:U+2E80-9FFF,U+F900-FAFF,U+FE30-FE4F,U+FF00-FFEF}\n"
    )
    (static / FONT_CSS).write_text(css, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# 8. Font Awesome: only the glyphs the site draws
# --------------------------------------------------------------------------------------------
FA_SOLID = Path("vendor") / "fontawesome" / "webfonts" / "fa-solid-900.woff2"
# Icons that theme scripts switch to at run time (not in the HTML).
FA_SCRIPT_ICONS = {"compress", "expand", "xmark", "chevron-down", "chevron-up", "list", "check",
                   "copy", "moon", "sun", "circle-half-stroke"}
_FA_CLASS = re.compile(r'class="[^"]*\bfa-(?:solid|regular|brands)?\b[^"]*"|class="[^"]*\bfas?\b[^"]*"')


def fa_codepoints(outdir: Path) -> set[int]:
    """Codepoints of the solid Font Awesome glyphs the pages and the theme's CSS use."""
    css = (outdir / "_static" / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8")
    glyph = {}
    for selectors, content in re.findall(r"([^{}]+)\{content:\"(\\[0-9a-f]+|[^\"]+)\"\}", css):
        for name in re.findall(r"\.fa-([a-z0-9-]+):before", selectors):
            glyph[name] = content
    used = set(FA_SCRIPT_ICONS)
    for page in outdir.rglob("*.html"):
        for match in re.finditer(r'class="([^"]*)"', page.read_text(encoding="utf-8")):
            classes = match.group(1).split()
            if {"fa", "fas", "fa-solid"} & set(classes):
                used.update(c[3:] for c in classes if c.startswith("fa-"))
    codepoints = {ord(v[-1]) if not v.startswith("\\") else int(v[1:], 16)
                  for k, v in glyph.items() if k in used}
    for var, value in re.findall(r"--pst-icon-([a-z-]+):\"(\\[0-9a-f]+|[^\"]+)\"", css):
        if var in ("github", "gitlab"):  # brand icons live in fa-brands-400, not subset
            continue
        codepoints.add(int(value[1:], 16) if value.startswith("\\") else ord(value[-1]))
    return codepoints


def _subset_fontawesome(app: Sphinx, outdir: Path) -> None:
    """Replace the copied 156 kB fa-solid-900.woff2 by the few glyphs the site uses."""
    import pydata_sphinx_theme

    source = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / \
        "static" / FA_SOLID
    target = outdir / "_static" / FA_SOLID
    if not source.is_file() or not target.is_file():
        return
    codepoints = fa_codepoints(outdir)
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = []
    options.hinting = False
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    subset.save_font(font, str(target), options)
    for ttf in (outdir / "_static" / "vendor" / "fontawesome" / "webfonts").glob("*.ttf"):
        ttf.unlink()  # every supported browser reads woff2; the CSS lists woff2 first
    for script in ("fontawesome.js", "fontawesome.js.map"):
        (outdir / "_static" / "scripts" / script).unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# 9. Figures: intrinsic size (no layout shift) and lazy loading
# --------------------------------------------------------------------------------------------
_SVG_IMG = re.compile(r'<img (?![^>]*\bwidth=)([^>]*?\bsrc="([^"]+\.svg)"[^>]*?)\s*/?>')
_SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([0-9.]+)(pt|px)?"[^>]*?\bheight="([0-9.]+)(pt|px)?"')


def svg_size(path: Path) -> tuple[int, int] | None:
    """The CSS pixel size of an SVG file from its root ``width``/``height`` (pt or px)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    match = _SVG_SIZE.search(head)
    if not match:
        return None
    w, wu, h, hu = match.groups()
    return (round(float(w) * (4 / 3 if wu == "pt" else 1)),
            round(float(h) * (4 / 3 if hu == "pt" else 1)))


def size_images(html_text: str, page_dir: Path) -> str:
    """Give every ``<img>`` of an SVG figure its width and height, ``loading="lazy"`` and
    ``decoding="async"``: the browser reserves the figure's box before the file arrives (no
    layout shift; the stylesheet still scales it to the column) and fetches figures below the
    fold only when the reader scrolls near them. Tags that already have a width are kept."""

    def add(match: re.Match) -> str:
        size = svg_size(page_dir / match.group(2))
        if size is None:
            return match.group(0)
        return (f'<img {match.group(1)} width="{size[0]}" height="{size[1]}" loading="lazy" '
                'decoding="async" />')

    return _SVG_IMG.sub(add, html_text)


def _size_figures(outdir: Path) -> None:
    for page in outdir.rglob("*.html"):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        if ".svg" not in text:
            continue
        sized = size_images(text, page.parent)
        if sized != text:
            page.write_text(sized, encoding="utf-8")


# --------------------------------------------------------------------------------------------
def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    _copy_katex_assets(outdir)
    _subset_fontawesome(app, outdir)
    _size_figures(outdir)
    _write_cjk_font(outdir, extra="".join(str(getattr(app.config, key, "")) for key in (
        "togglebutton_hint", "togglebutton_hint_hide", "html_title", "project")))
    RENDERER.close()


def _builder_inited(app: Sphinx) -> None:
    RENDERER.macros = {**DEFAULT_MACROS, **(app.config.sgdbook_katex_macros or {})}
    _wrap_templates(app)
    if app.builder.format == "html":
        if not getattr(app, "_sgdbook_assets_added", False):  # builder-inited may run twice
            app.add_css_file(FONT_CSS)  # book/_static/*.css are linked by Jupyter Book itself
            app.add_js_file(None, body=FONT_FIX_JS)
            app._sgdbook_assets_added = True  # type: ignore[attr-defined]


def setup(app: Sphinx) -> dict:
    app.add_config_value("sgdbook_katex_macros", {}, "html", [dict])
    app.add_config_value("sgdbook_build_note", True, "html", [bool])
    app.add_search_language(SearchChineseTerms)
    app.add_html_math_renderer("sgdbook_katex", (html_visit_math, None),
                               (html_visit_displaymath, None))
    app.connect("config-inited", _set_build_note)
    app.connect("builder-inited", _builder_inited)
    app.connect("source-read", _api_source)
    app.connect("env-get-outdated", _api_outdated)
    app.connect("doctree-resolved", _polish_doctree)
    app.connect("html-page-context", _filter_assets, priority=900)
    app.connect("html-page-context", _add_notebook_download, priority=400)
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}
