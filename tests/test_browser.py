"""The built site read in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright, the site served on localhost, every other host blocked.

For the real book (``built_book``) and the sample book (tests/site_fixtures.py): every page of
the table of contents loads without console errors or failed requests, requests nothing from
another host, shows every formula rendered and every image loaded with alt text, has no
broken internal link or anchor, fits a 375 px phone screen without horizontal scrolling; the
search finds each compound term on the pages that contain it; solutions stay hidden until
clicked; the download buttons serve the chapter's notebook and MyST source. Failures name the
page and the element.

The transfer size of each page (cold cache) is written to
``book/_build/site-report/page-sizes.json`` for docs/site.md.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest
from site_fixtures import (
    ISSUE_TERMS,
    parse,
    sample_book,  # noqa: F401  (fixture)
    serve,
    site,  # noqa: F401  (fixture)
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
from sgdbook_site import fonts

pytestmark = [pytest.mark.browser, pytest.mark.book]


PHONE_WIDTH = 375


@pytest.fixture(scope="session")
def served(site):
    name, html, docs = site
    base, server = serve(html)
    yield name, html, docs, base
    server.shutdown()


class PageLog:
    """Console errors, failed requests and transferred bytes of one page load."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.sizes: dict[str, int] = {}
        self.gzip: dict[str, int] = {}
        self.pending: set = set()
        self.page = page
        page.on("request", lambda r: self.pending.add(r))
        page.on("requestfailed", lambda r: self.pending.discard(r))
        page.on("requestfinished", lambda r: self.pending.discard(r))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", self._response)
        page.on("requestfinished", self._finished)

    def _response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")

    def _finished(self, request) -> None:
        try:
            sizes = request.sizes()
        except Exception:  # the page navigated away
            return
        kind = request.resource_type
        self.sizes[kind] = (
            self.sizes.get(kind, 0) + sizes["responseBodySize"] + sizes["responseHeadersSize"]
        )
        # What a compressing web server (GitHub Pages, nginx gzip) would send for the same files.
        try:
            body = request.response().body()
        except Exception:
            return
        if kind not in ("font", "image") or request.url.split("?")[0].endswith(".svg"):
            body = gzip.compress(body, compresslevel=6)
        self.gzip[kind] = self.gzip.get(kind, 0) + len(body)

    def settle(self, quiet_ms: int = 500, limit_s: float = 120.0) -> None:
        """Wait until no request of this page has been pending for ``quiet_ms``.

        Chromium's own ``networkidle`` event was seen never to fire for the 2 MB API page although
        every request had finished; this waits on the requests themselves instead.
        """
        deadline = time.monotonic() + limit_s
        quiet_since = None
        while time.monotonic() < deadline:
            if self.pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
                return
            self.page.wait_for_timeout(50)
        urls = sorted(r.url for r in self.pending)
        raise AssertionError(
            f"{self.page.url}: requests still pending after {limit_s:.0f} s: {urls}"
        )


def open_page(context, url: str, width: int = 1280):
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    log = PageLog(page)
    page.goto(url, wait_until="load")
    log.settle()
    return page, log


# --------------------------------------------------------------------------------------------
# In-page checks (JavaScript); each returns a list of "element: problem" strings
# --------------------------------------------------------------------------------------------
JS_DESCRIBE = """
window.__describe = (el) => {
  const parts = [];
  for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
    let s = e.tagName.toLowerCase();
    if (e.id) { s += '#' + e.id; parts.unshift(s); break; }
    if (e.classList.length) s += '.' + [...e.classList].slice(0, 2).join('.');
    parts.unshift(s);
  }
  return parts.join(' > ');
};
"""

JS_MATH = (
    JS_DESCRIBE
    + r"""
(() => {
  const problems = [];
  for (const el of document.querySelectorAll('.math')) {
    if (!el.querySelector('.katex')) problems.push(__describe(el) + ': formula not rendered');
  }
  for (const el of document.querySelectorAll('.katex-error')) {
    problems.push(__describe(el) + ': KaTeX error ' + el.textContent.slice(0, 60));
  }
  const skip = 'script, style, pre, code, textarea, .katex, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = /\$\$|\\\(|\\\[|\\begin\{|(^|[^\w$])\$[^$\s][^$]{0,200}?\$(?!\w)/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(skip)) continue;
    const m = n.textContent.match(raw);
    if (m) problems.push(__describe(n.parentElement) + ': raw TeX ' + JSON.stringify(m[0]));
  }
  // the late font stylesheets have been applied, and KaTeX's fonts loaded where formulas are shown
  for (const link of document.querySelectorAll('link[data-sgd-late]')) {
    if (link.media !== 'all') problems.push('late stylesheet not applied: ' + link.getAttribute('href'));
  }
  const loaded = (family) => [...document.fonts].some(
    (f) => f.family.replace(/"/g, '') === family && f.status === 'loaded');
  const onScreen = [...document.querySelectorAll('.katex')].some((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.top < innerHeight && r.bottom > 0;
  });
  if (onScreen && !loaded('KaTeX_Main')) problems.push('formula on screen but KaTeX_Main not loaded');
  return problems;
})()
"""
)

JS_IMAGES = (
    JS_DESCRIBE
    + """
(async () => {
  const problems = [];
  const images = [...document.querySelectorAll('img')];
  for (const img of images) {
    img.loading = 'eager';
    if (!img.complete) {
      await new Promise((ok) => { img.addEventListener('load', ok); img.addEventListener('error', ok);
                                  setTimeout(ok, 5000); });
    }
    const what = __describe(img) + ' [' + img.getAttribute('src') + ']';
    if (!img.naturalWidth) problems.push(what + ': did not load');
    if (!(img.getAttribute('alt') || '').trim()) problems.push(what + ': no alt text');
  }
  return [problems, images.length];
})()
"""
)

JS_LINKS = """
[...document.querySelectorAll('a[href]')].map((a) => [a.href, a.getAttribute('href'),
  window.__describe ? __describe(a) : a.outerHTML.slice(0, 80)])
"""

JS_SKIPPED_SECTIONS = """
[...document.querySelectorAll('.bd-article > section > section')]
  .filter((s) => getComputedStyle(s).contentVisibility === 'auto').length
"""

JS_OVERFLOW = """
(width) => {
  // Sections off screen are skipped by content-visibility (book/_static/sgdbook.css) and clip
  // what overflows them, which would hide content wider than the phone: lay out everything.
  const all = document.createElement('style');
  all.textContent = '* { content-visibility: visible !important; }';
  document.head.append(all);
  const doc = document.scrollingElement;
  if (doc.scrollWidth <= width) return [];
  const problems = ['page scrolls sideways: scrollWidth ' + doc.scrollWidth + ' > ' + width];
  const scrolls = (e) => { const o = getComputedStyle(e).overflowX; return o === 'auto' || o === 'scroll' || o === 'hidden'; };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    let inside = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (scrolls(p)) { inside = true; break; }
    }
    if (!inside) problems.push(__describe(el) + ' reaches x=' + Math.round(r.right));
    if (problems.length > 8) break;
  }
  return problems;
}
"""


# --------------------------------------------------------------------------------------------
# Every page
# --------------------------------------------------------------------------------------------
REPORT = Path(__file__).resolve().parent.parent / "book" / "_build" / "site-report"


def test_every_page_in_a_browser(chromium, served):
    """Loads, console, requests, formulas, images, link targets; page sizes recorded."""
    name, html, docs, base = served
    blocked_before = len(chromium.blocked)
    problems: list[str] = []
    links: dict[str, list[tuple[str, str]]] = {}
    sizes = {}
    n_images = 0
    for doc in docs:
        page, log = open_page(chromium, urljoin(base, f"{doc}.html"))
        where = f"{doc}.html"
        problems += [f"{where}: console error: {e}" for e in log.errors]
        problems += [f"{where}: failed request: {f}" for f in log.failed]
        problems += [f"{where}: {p}" for p in page.evaluate(JS_MATH)]
        image_problems, count = page.evaluate(JS_IMAGES)
        n_images += count
        problems += [f"{where}: {p}" for p in image_problems]
        links[doc] = [(href, what) for href, _raw, what in page.evaluate(JS_LINKS)]
        log.settle()
        sizes[doc] = {
            "bytes": dict(log.sizes, total=sum(log.sizes.values())),
            "gzip": dict(log.gzip, total=sum(log.gzip.values())),
        }
        page.close()
    blocked = chromium.blocked[blocked_before:]
    problems += [f"request to another host (blocked): {u}" for u in blocked]
    problems += _broken_links(html, base, links)
    assert not problems, f"[{name}] problems found in the browser:\n" + "\n".join(problems)
    if name == "sample":
        assert n_images, "the sample book has a figure: the image check is vacuous"
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / f"page-sizes-{name}.json").write_text(json.dumps(sizes, indent=1), encoding="utf-8")


def _broken_links(html: Path, base: str, links: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Internal links must reach an existing file, and an existing id when they name one."""
    problems = []
    for doc, anchors in links.items():
        for href, what in anchors:
            if not href.startswith(base):
                continue  # external links are not requests; they are not followed
            parts = urlsplit(href)
            rel = unquote(parts.path[len(urlsplit(base).path) :]) or "index.html"
            target = html / rel
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{doc}.html: {what} links to missing {rel}")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                ids = {a.get("id") for _, a in parse(target).elements} | {
                    a.get("name") for _, a in parse(target).elements
                }
                if fragment not in ids:
                    problems.append(f"{doc}.html: {what} links to {rel}#{fragment}: no such anchor")
    return problems


def test_phone_width_without_horizontal_scrolling(chromium, served):
    name, _html, docs, base = served
    problems = []
    for doc in docs:
        page, log = open_page(chromium, urljoin(base, f"{doc}.html"), width=PHONE_WIDTH)
        page.evaluate(JS_DESCRIBE)
        skipped = page.evaluate(JS_SKIPPED_SECTIONS)
        if name == "book" and doc != "index" and "/" not in doc and not skipped:
            problems.append(
                f"{doc}.html: no section has content-visibility: auto "
                "(the browser lays out the whole chapter at once)"
            )
        problems += [
            f"{doc}.html @ {PHONE_WIDTH}px: {p}" for p in page.evaluate(JS_OVERFLOW, PHONE_WIDTH)
        ]
        problems += [f"{doc}.html @ {PHONE_WIDTH}px: console error: {e}" for e in log.errors]
        page.close()
    assert not problems, f"[{name}]\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------
def _article_text(path: Path) -> str:
    from test_site import article_text

    return article_text(path)


def test_search_finds_each_compound_term(chromium, served):
    name, html, docs, base = served
    problems = []
    page = chromium.new_page()
    log = PageLog(page)
    texts = {d: _article_text(html / f"{d}.html") for d in docs}  # parse each page once
    # The issue's compound terms (and 学习率) through the real search page; every other
    # dictionary term is checked against the index itself in test_site.py, much faster.
    for term in [*ISSUE_TERMS, "学习率"]:
        expected = {d for d, text in texts.items() if term in text}
        if not expected and term not in ISSUE_TERMS:
            continue
        page.goto(urljoin(base, f"search.html?q={term}"))
        page.wait_for_selector("#search-results .search-summary", timeout=20000)
        page.wait_for_function(
            "() => !document.querySelector('#search-results h2')?.textContent.includes('…')"
            " && !document.querySelector('#search-progress')?.textContent",
            timeout=20000,
        )
        hrefs = page.eval_on_selector_all(
            "#search-results ul.search li a", "els => els.map(a => a.getAttribute('href'))"
        )
        found = {h.split("?")[0].split("#")[0].removesuffix(".html") for h in hrefs}
        if not expected:
            problems.append(f"search {term!r}: no page of the {name} contains it")
        elif not expected <= found:
            problems.append(
                f"search {term!r}: results {sorted(found)} miss {sorted(expected - found)}"
            )
    problems += [f"search.html: console error: {e}" for e in log.errors]
    page.close()
    assert not problems, f"[{name}]\n" + "\n".join(problems)


def test_search_bar_shows_chinese_text(chromium, served):
    name, _html, _docs, base = served
    page, _ = open_page(chromium, urljoin(base, "index.html"))
    page.keyboard.press("Control+K")
    field = page.locator("input[name=q]:visible").first
    field.wait_for(timeout=5000)
    assert field.get_attribute("placeholder") == "搜索本书……", (
        f"[{name}] search field placeholder {field.get_attribute('placeholder')!r}"
    )
    page.close()


# --------------------------------------------------------------------------------------------
# Solutions, downloads, dark mode
# --------------------------------------------------------------------------------------------
def test_solutions_hidden_until_clicked(chromium, served):
    name, html, docs, base = served
    problems = []
    n_solutions = 0
    for doc in docs:
        if 'class="solution' not in (html / f"{doc}.html").read_text(encoding="utf-8"):
            continue
        page, _ = open_page(chromium, urljoin(base, f"{doc}.html"))
        solutions = page.locator("div.solution")
        for i in range(solutions.count()):
            n_solutions += 1
            box = solutions.nth(i)
            body = box.locator(":scope > :not(.admonition-title)").first
            ident = box.get_attribute("id")
            if body.is_visible():
                problems.append(f"{doc}.html: solution #{ident} is visible before a click")
                continue
            box.locator(".admonition-title").first.click()
            page.wait_for_timeout(200)
            if not body.is_visible():
                problems.append(f"{doc}.html: solution #{ident} stays hidden after a click")
        page.close()
    assert not problems, f"[{name}]\n" + "\n".join(problems)
    if name == "sample":
        assert n_solutions, "the sample book has a solution: the check is vacuous"


def test_download_buttons_serve_the_chapter(chromium, served):
    name, html, docs, base = served
    source_dir = html.parent.parent
    problems = []
    n_notebooks = 0
    for doc in docs:
        page, _ = open_page(chromium, urljoin(base, f"{doc}.html"))
        page.locator(".dropdown-download-buttons button").first.click()
        source_link = page.locator("a.btn-download-source-button")
        if not source_link.is_visible():
            problems.append(f"{doc}.html: the download menu has no visible source (.md) item")
            page.close()
            continue
        response = page.request.get(urljoin(page.url, source_link.get_attribute("href")))
        source = (source_dir / f"{doc}.md").read_bytes()
        if response.status != 200 or response.body() != source:
            problems.append(
                f"{doc}.html: .md download differs from the source (HTTP {response.status})"
            )
        if b"kernelspec" in source[:1000]:
            n_notebooks += 1
            link = page.locator("a.btn-download-notebook-button")
            if not link.is_visible():
                problems.append(f"{doc}.html: no visible .ipynb download item")
            else:
                response = page.request.get(urljoin(page.url, link.get_attribute("href")))
                try:
                    notebook = nbformat.reads(response.text(), as_version=4)
                    nbformat.validate(notebook)
                except Exception as exc:
                    problems.append(f"{doc}.html: .ipynb download is not a notebook: {exc}")
                else:
                    if response.status != 200 or not any(
                        c.cell_type == "code" for c in notebook.cells
                    ):
                        problems.append(f"{doc}.html: .ipynb download has no code cell")
        page.close()
    assert not problems, f"[{name}]\n" + "\n".join(problems)
    assert n_notebooks, f"[{name}] no notebook chapter: the check is vacuous"


def test_figures_on_white_in_dark_mode(chromium, served):
    name, html, docs, base = served
    problems = []
    for doc in docs:
        if "<img" not in (html / f"{doc}.html").read_text(encoding="utf-8"):
            continue
        page = chromium.new_page()
        log = PageLog(page)
        page.emulate_media(color_scheme="dark")
        page.goto(urljoin(base, f"{doc}.html"))
        log.settle()
        theme = page.evaluate("document.documentElement.dataset.theme")
        if theme != "dark":
            problems.append(f"{doc}.html: dark preference gives theme {theme!r}")
        for src, bg in page.eval_on_selector_all(
            "article img",
            "els => els.map(i => [i.getAttribute('src'), getComputedStyle(i).backgroundColor])",
        ):
            if bg not in ("rgb(255, 255, 255)", "rgba(255, 255, 255, 1)"):
                problems.append(f"{doc}.html: image {src} on {bg} in dark mode")
        page.close()
    assert not problems, f"[{name}]\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Accessibility audit (axe-core, the engine of Lighthouse's and browsers' accessibility audits)
# --------------------------------------------------------------------------------------------
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
# wcag22aa: target-size (24 x 24 px or spaced apart), which Lighthouse's audit also runs
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# Scroll the page through, one screen at a time, as a reader does: the theme gives scrolling code
# blocks, outputs and tables their tabindex as they come near the viewport (sgdbook_site/speed.py).
JS_SCROLL_THROUGH = """
async () => {
  const frame = () => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  for (let y = 0; y < document.scrollingElement.scrollHeight; y += innerHeight) {
    scrollTo(0, y);
    await frame();
  }
  scrollTo(0, 0);
  await frame();
}
"""


@pytest.mark.parametrize("width", [1280, PHONE_WIDTH], ids=["desktop", "phone"])
def test_accessibility_audit(chromium, served, width):
    name, _html, docs, base = served
    if not AXE.is_file():
        pytest.fail(f"{AXE} missing: run `npm ci`", pytrace=False)
    problems = []
    for doc in [*docs, "search"]:
        page, _ = open_page(chromium, urljoin(base, f"{doc}.html"), width=width)
        page.evaluate(JS_SCROLL_THROUGH)
        page.add_script_tag(path=str(AXE))
        # KaTeX's visual layer (.katex-html) is aria-hidden; assistive technology reads the MathML
        # next to it, which stays audited. Skipping its thousands of spans halves the audit.
        result = page.evaluate(
            "(tags) => axe.run({exclude: [['.katex-html']]}, "
            "{runOnly: {type: 'tag', values: tags}})",
            AXE_TAGS,
        )
        for violation in result["violations"]:
            for node in violation["nodes"][:3]:
                problems.append(
                    f"{doc}.html: {violation['id']} ({violation['impact']}) at "
                    f"{' '.join(map(str, node['target']))}: {violation['help']}"
                )
        page.close()
    assert not problems, f"[{name}] accessibility violations at {width}px:\n" + "\n".join(problems)


JS_TARGETS = (
    JS_DESCRIBE
    + """
() => [...document.querySelectorAll('dl.py dt.sig a.reference, dl.py dl.field-list a.reference')].filter((a) => a.getClientRects().length)
  .map((a) => { const r = a.getBoundingClientRect();
                return [__describe(a) + ' ' + a.textContent.trim(), r.width, r.height]; })
"""
)


@pytest.mark.parametrize("width", [1280, PHONE_WIDTH], ids=["desktop", "phone"])
def test_api_type_links_are_big_enough_to_tap(chromium, served, width):
    """The API page's links in signatures and parameter lists (``bool``, ``numpy.ndarray``) are
    at least 24 x 24 px (WCAG 2.2 target size; Lighthouse's ``target-size`` audit)."""
    name, _html, docs, base = served
    pages = [d for d in docs if d.endswith("api")]
    if not pages:
        pytest.skip(f"the {name} has no API page")
    page, _ = open_page(chromium, urljoin(base, f"{pages[0]}.html"), width=width)
    targets = page.evaluate(JS_TARGETS)
    assert len(targets) > 50, f"[{name}] only {len(targets)} type links: the check is vacuous"
    small = [t for t in targets if t[1] < 24 or t[2] < 24]
    assert not small, f"[{name}] links smaller than 24 px at {width}px: {small[:10]}"
    page.close()


JS_LAYOUT = """
() => [...document.querySelectorAll('.bd-article h1, .bd-article h2, .bd-article p, '
                                     + '.bd-article li, .bd-footer-content p')]
  .slice(0, 400).map((e) => { const r = e.getBoundingClientRect();
                              return [r.x, r.y, r.width, r.height].map((v) => Math.round(v * 10) / 10); })
"""
JS_TWO_FRAMES = "() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))"
JS_FACES = """
() => Object.fromEntries([...document.fonts].filter((f) => f.family.startsWith('"SGD') ||
                                                           f.family.startsWith('SGD'))
                        .map((f) => [f.family.replace(/"/g, ''), f.status]))
"""


JS_FORMULA_ON_SCREEN = """
() => [...document.querySelectorAll('.katex')].some((el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.top < innerHeight && r.bottom > 0;
})
"""


def test_katex_fonts_arrive_after_the_first_paint(chromium, served):
    """KaTeX's fonts no longer hold back the first paint on a phone: they are requested after it
    (their stylesheet is late, pages.LATE_JS). Until they arrive, formulas are laid out with
    fallback metrics; when they do, what moves on the first screen of a 375 px phone stays
    below Lighthouse's CLS target of 0.05 (worst case: the fonts held back until the page has
    settled)."""
    name, _html, docs, base = served
    shifts = (
        "window.__shifts = []; new PerformanceObserver((l) => window.__shifts.push("
        "...l.getEntries().filter((e) => !e.hadRecentInput).map((e) => e.value)))"
        ".observe({type: 'layout-shift', buffered: true});"
    )
    problems = []
    n_math = 0
    for doc in docs:
        page = chromium.new_page()
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
        held: list = []
        released: list[bool] = []

        def hold(route):  # (a one-argument handler: playwright passes the request to two)
            if released:  # fonts that layout asks for once the first ones have arrived
                route.continue_()
            else:
                held.append(route)

        page.route("**/katex/fonts/*", hold)
        page.add_init_script(shifts)
        page.goto(urljoin(base, f"{doc}.html"), wait_until="domcontentloaded")
        page.wait_for_function(
            "() => performance.getEntriesByName('first-contentful-paint').length > 0"
        )
        page.evaluate(JS_TWO_FRAMES)
        page.wait_for_timeout(300)
        page.evaluate(JS_TWO_FRAMES)
        if not page.evaluate(JS_FORMULA_ON_SCREEN):
            page.close()  # fonts are fetched when a formula is laid out: not on this screen
            continue
        n_math += 1
        if not held:
            problems.append(f"{doc}: no KaTeX font requested after the first paint")
            page.close()
            continue
        before = sum(page.evaluate("window.__shifts"))
        released.append(True)
        for route in held:
            route.continue_()
        page.wait_for_function(
            "() => [...document.fonts].some((f) => f.family.replace(/\"/g, '') === "
            "'KaTeX_Main' && f.status === 'loaded')"
        )
        page.evaluate("document.fonts.ready")
        page.evaluate(JS_TWO_FRAMES)
        moved = sum(page.evaluate("window.__shifts")) - before
        early = page.evaluate(
            "() => { const fcp = performance.getEntriesByName('first-contentful-paint')[0];"
            " return performance.getEntriesByType('resource')"
            ".filter((e) => e.name.includes('/katex/fonts/') && e.startTime < fcp.startTime)"
            ".map((e) => e.name.split('/').pop()); }"
        )
        if early:
            problems.append(f"{doc}: KaTeX fonts requested before the first paint: {early}")
        if moved >= 0.05:
            problems.append(f"{doc}: layout shift {moved:.3f} when KaTeX's fonts arrived")
        page.close()
    assert n_math, f"[{name}] no page with formulas: the check is vacuous"
    assert not problems, f"[{name}]\n" + "\n".join(problems)


def test_cjk_web_font_arrival_moves_no_text(chromium, served):
    """A reader without any Chinese font: until the book's web font arrives, Chinese text is set
    in the placeholder of the same metrics; when it arrives, the text does not move (before the
    placeholder, Lighthouse measured a layout shift (CLS) of up to 0.44 on a phone)."""
    name, _html, docs, base = served
    page = chromium.new_page()
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    held = []
    page.route("**/fonts/sgdbook-cjk.*", lambda route: held.append(route))

    def without_system_cjk(route):
        # this machine may have Noto CJK: keep only the book's own two faces in the stack
        response = route.fetch()
        css = re.sub(
            r"--sgd-cjk-fonts:[^;]*;",
            f'--sgd-cjk-fonts: "{fonts.CJK_FAMILY}", "{fonts.PLACEHOLDER_FAMILY}";',
            response.text(),
        )
        route.fulfill(response=response, body=css)

    page.route("**/_static/sgdbook.css*", without_system_cjk)
    shifts = "window.__shifts = []; new PerformanceObserver((l) => window.__shifts.push(...l.getEntries().map((e) => e.value))).observe({type: 'layout-shift', buffered: true});"
    page.add_init_script(shifts)
    # a chapter (pairs of punctuation such as "）。", inline formulas), the front page otherwise
    doc = docs[1] if len(docs) > 1 else docs[0]
    page.goto(urljoin(base, f"{doc}.html"), wait_until="domcontentloaded")
    page.wait_for_function(
        f"() => (({JS_FACES})())['{fonts.PLACEHOLDER_FAMILY}'] === 'loaded' && "
        f"(({JS_FACES})())['{fonts.CJK_FAMILY}'] === 'loading'"
    )
    # every other font (KaTeX's, the icons) has arrived, once layout has asked for them: only
    # the CJK web font can move text now
    page.evaluate(JS_TWO_FRAMES)
    page.wait_for_function(
        "() => [...document.fonts].every((f) => f.status !== 'loading' || "
        f"f.family.replace(/\"/g, '') === '{fonts.CJK_FAMILY}')"
    )
    page.evaluate(JS_TWO_FRAMES)
    assert held, f"[{name}] the web font was not requested: no text needs it?"
    before = page.evaluate(JS_LAYOUT)
    shifts_before = sum(page.evaluate("window.__shifts"))
    for route in held:
        route.continue_()
    page.wait_for_function(f"() => (({JS_FACES})())['{fonts.CJK_FAMILY}'] === 'loaded'")
    page.evaluate(JS_TWO_FRAMES)
    after = page.evaluate(JS_LAYOUT)
    shifts_after = sum(page.evaluate("window.__shifts"))
    page.close()
    assert len(before) >= 5, f"[{name}] nothing measured"
    # Nothing on the first screen moves at all. Below it, no element changes its width or
    # changes its height by more than a pixel: a line holding only a formula comes out 1 px
    # lower with the real font (its strut), which adds up down a table of formulas.
    moved = [
        (i, b, a)
        for i, (b, a) in enumerate(zip(before, after))
        if (b != a and b[1] < 800) or b[2] != a[2] or abs(b[3] - a[3]) > 1.05
    ]
    assert not moved, f"[{name}] elements moved when the web font arrived: {moved[:5]}"
    assert shifts_after - shifts_before < 0.001, (
        f"[{name}] layout shift {shifts_after - shifts_before}"
    )
