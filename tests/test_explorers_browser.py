"""The explorers (issue #17) in headless Chromium, on the real book built strictly.

For each explorer: it starts (fallback hidden, a status line, drawings), every slider moves by
keyboard and by mouse and changes the printed value, the status and the drawing, the reset
button restores the defaults, the setting is mirrored in the URL and read back from it, the box
fits a 375 px screen in light and dark mode, nothing is requested from another host and the
console stays clean. Known settings are checked against sgdbook: x_10 = 10 * 0.6^10 for step
0.2 on x^2 from 10, sgdbook's divergence sentence for a step above 2/L, the distance after k
steps on the chapter-1 quadratic. The pages that hold no explorer load none of its files, and
the explorer files add at most 30 kB (gzip) to a page; the weights are written to
``book/_build/site-report/explorers.json`` for docs/site.md.

Uses test_browser.py's Chromium fixture and site_fixtures.serve.
"""

from __future__ import annotations

import gzip
import json
import re
from urllib.parse import urljoin

import numpy as np
import pytest
from conftest import toc_docnames
from site_fixtures import parse, serve
from test_browser import PHONE_WIDTH, REPORT, open_page

from sgdbook.problems import objectives
from sgdbook.theory import gd

pytestmark = [pytest.mark.browser, pytest.mark.book]

ASSETS = (
    "_static/explorers/sgdx-core.js",
    "_static/explorers/sgdx.js",
    "_static/explorers/sgdx.css",
)
PAGES = {
    "gradient-descent": ["gd-quadratic"],
    "learning-rate": ["lr-threshold"],
    "sgd": ["sgd-basins"],
    "minibatch": ["minibatch-noise"],
    "momentum-adam": ["momentum", "adam"],
    "lr-decay": ["schedules"],
}
GZIP_LIMIT = 30_000


@pytest.fixture(scope="module")
def book(built_book):
    base, server = serve(built_book)
    yield built_book, base
    server.shutdown()


def test_assets_only_on_pages_with_an_explorer(built_book):
    weights = {}
    for doc in toc_docnames():
        page = parse(built_book / f"{doc}.html")
        kinds = [
            a["data-explorer"] for t, a in page.elements if t == "div" and "data-explorer" in a
        ]
        linked = sorted(
            {
                a.get("src") or a.get("href")
                for t, a in page.elements
                if (t == "script" and "explorers/" in a.get("src", ""))
                or (t == "link" and "explorers/" in a.get("href", ""))
            }
        )
        assert kinds == PAGES.get(doc, []), f"{doc}: explorers {kinds}"
        if kinds:
            raw = (built_book / f"{doc}.html").read_text(encoding="utf-8")
            assert raw.count('<div class="sgdx-fallback"><p>此处是一个交互演示') == len(kinds), (
                f"{doc}: every explorer needs its static fallback"
            )
            assert [u.split("?")[0] for u in linked] == sorted(ASSETS), f"{doc}: links {linked}"
            size = sum(
                len(gzip.compress((built_book / a).read_bytes(), compresslevel=6)) for a in ASSETS
            )
            weights[doc] = {
                "explorers": kinds,
                "gzip_bytes": size,
                "raw_bytes": sum((built_book / a).stat().st_size for a in ASSETS),
            }
            assert size <= GZIP_LIMIT, f"{doc}: explorer files weigh {size} B gzip > {GZIP_LIMIT}"
        else:
            assert not linked, f"{doc} holds no explorer but links {linked}"
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / "explorers.json").write_text(json.dumps(weights, indent=1), encoding="utf-8")


JS_BUILD_ALL = """async () => {
  // explorers are built when they come near the viewport: bring each one there
  for (const root of document.querySelectorAll('.sgdx[data-explorer]')) {
    root.scrollIntoView();
    for (let i = 0; i < 600 && !root.querySelector('.sgdx-app'); i++) {
      await new Promise((ok) => requestAnimationFrame(ok));
    }
  }
  window.scrollTo(0, 0);
  return [...document.querySelectorAll('.sgdx[data-explorer]')].every((r) => r.querySelector('.sgdx-app'));
}"""


def _build_all(page):
    assert page.evaluate(JS_BUILD_ALL), "an explorer was not built when scrolled into view"


def _open(chromium, base, doc, query="", width=1280):
    blocked = len(chromium.blocked)
    page, log = open_page(chromium, urljoin(base, f"{doc}.html") + query, width=width)
    _build_all(page)
    return page, log, blocked


def _frames(page):
    """Wait two animation frames: the explorers recompute in the frame after an input event."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _status(page, kind):
    _frames(page)
    return page.locator(f"#sgdx-{kind}-status").text_content()


def _drawing(page, kind):
    _frames(page)
    return page.evaluate(
        "(k) => [...document.querySelectorAll('#sgdx-' + k + ' svg')]"
        ".map(s => s.innerHTML).join('|')",
        kind,
    )


def _check_clean(chromium, page, log, blocked, where):
    log.settle()
    assert not log.errors, f"{where}: console errors {log.errors}"
    assert not log.failed, f"{where}: failed requests {log.failed}"
    assert chromium.blocked[blocked:] == [], f"{where}: requests to another host"


def _state(page, kind):
    return _status(page, kind), _drawing(page, kind)


def _move_visible_sliders(page, root, kind, where):
    """Every visible slider, by keyboard, each compared with the state just before its key press."""
    sliders = root.locator("input[type=range]")
    moved = 0
    for i in range(sliders.count()):
        s = sliders.nth(i)
        if not s.is_visible():
            continue
        sid = s.get_attribute("id")
        label = root.locator(f"label[for='{sid}']").text_content()
        assert label.strip(), f"{where}: slider {sid} has no label"
        out = root.locator(f"output[for='{sid}']")
        before, value, state = out.text_content(), s.input_value(), _state(page, kind)
        s.focus()
        key = "ArrowLeft" if float(value) >= float(s.get_attribute("max")) else "ArrowRight"
        page.keyboard.press(key)
        assert s.input_value() != value, f"{where}: {label} did not move with {key}"
        assert out.text_content() != before, f"{where}: {label}: printed value unchanged"
        assert _state(page, kind) != state, (
            f"{where}: moving {label} changed neither the status nor the drawing"
        )
        assert f"{kind}.{sid.rsplit('-', 1)[1]}=" in page.evaluate("location.search"), (
            f"{where}: {label} not in the URL"
        )
        moved += 1
    return moved


@pytest.mark.parametrize("doc,kind", [(d, k) for d, ks in PAGES.items() for k in ks])
def test_every_slider_moves_the_explorer(chromium, book, doc, kind):
    _, base = book
    page, log, blocked = _open(chromium, base, doc)
    root = page.locator(f"#sgdx-{kind}")
    root.scroll_into_view_if_needed()
    assert root.locator(".sgdx-fallback").is_hidden()
    assert root.locator("svg polyline").count() > 0
    status0, drawing0 = _state(page, kind)
    assert status0.strip()
    assert root.locator("input[type=range]").count() >= 2
    assert _move_visible_sliders(page, root, kind, kind) >= 2
    reset = root.locator("button.sgdx-reset")
    # every option of every select (function, sampling, schedule kind), from the defaults; then
    # the sliders visible with that option (a schedule's own parameters appear only with it)
    selects = root.locator("select")
    for i in range(selects.count()):
        sel = selects.nth(i)
        sid = sel.get_attribute("id")
        for value in sel.locator("option").evaluate_all("os => os.map(o => o.value)"):
            reset.click()
            if value == sel.input_value():
                continue
            state = _state(page, kind)
            sel.select_option(value)
            where = f"{kind}, {sid} = {value}"
            assert _state(page, kind) != state, (
                f"{where}: choosing it changed neither the status nor the drawing"
            )
            assert f"{kind}.{sid.rsplit('-', 1)[1]}={value}" in page.evaluate("location.search"), (
                where
            )
            _move_visible_sliders(page, root, kind, where)
    reset.click()
    assert _state(page, kind) == (status0, drawing0), f"{kind}: reset"
    # the mouse: a click near the right end of the first slider
    s = root.locator("input[type=range]").nth(0)
    box = s.bounding_box()
    value, state = s.input_value(), _state(page, kind)
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    assert s.input_value() != value, f"{kind}: the mouse did not move the first slider"
    assert _state(page, kind) != state, (
        f"{kind}: the mouse moved the first slider but nothing changed"
    )
    reset.click()
    assert _state(page, kind) == (status0, drawing0), f"{kind}: reset"
    assert f"{kind}." not in page.evaluate("location.search"), f"{kind}: reset left the URL"
    _check_clean(chromium, page, log, blocked, kind)
    page.close()


SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _fmt(v: float, digits: int) -> str:
    """sgdx.js fmt(): ``digits`` significant digits, real minus sign, 1.2×10⁻³ outside [1e-3, 1e5)."""
    if v != 0 and not 1e-3 <= abs(v) < 1e5:
        mant, exp = f"{v:.{digits - 1}e}".split("e")
        mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
        return (mant + "×10" + str(int(exp)).translate(SUP)).replace("-", "−", 1)
    return repr(float(f"{v:.{digits}g}")).removesuffix(".0").replace("-", "−")


def test_step_size_threshold_known_values(chromium, book):
    _, base = book
    page, log, _blocked = _open(chromium, base, "learning-rate")
    status = _status(page, "lr-threshold")
    x10 = 10 * 0.6**10
    assert f"x₁₀ = {_fmt(x10, 6)}" in status, status
    eta = page.locator("#sgdx-lr-threshold-eta")
    eta.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")  # 0.2 -> 0.22 (step 0.005)
    assert eta.input_value() == "0.22"
    run = gd.gradient_descent(objectives.square(), 10.0, 0.22, 30)
    assert f"x₁₀ = {_fmt(run.xs[10, 0], 6)}" in _status(page, "lr-threshold")
    page.close()
    # a linked setting above 2/L: sgdbook's own divergence sentence, never an overflow
    for L, eta in [(2, 1.1), (8, 0.9)]:
        page, log, blocked2 = _open(
            chromium,
            base,
            "learning-rate",
            f"?lr-threshold.fn={L}&lr-threshold.eta={eta}&lr-threshold.steps=200",
        )
        run = gd.gradient_descent(objectives.Quadratic(np.array([[float(L)]])), 10.0, eta, 200)
        assert run.diverged
        status = _status(page, "lr-threshold")
        assert run.status() in status, status
        assert "Infinity" not in status and "NaN" not in status
        _check_clean(chromium, page, log, blocked2, f"divergent {L}, {eta}")
        page.close()


def test_quadratic_known_values(chromium, book):
    _, base = book
    for eta, kappa, steps in [(0.1, 20, 30), (0.45, 20, 30), (0.3, 5, 40)]:
        page, log, blocked = _open(
            chromium,
            base,
            "gradient-descent",
            f"?gd-quadratic.eta={eta}&gd-quadratic.kappa={kappa}&gd-quadratic.steps={steps}",
        )
        q = objectives.Quadratic(np.diag([4.0 / kappa, 4.0]))
        run = gd.gradient_descent(q, [-8.0, 2.0], eta, steps)
        dist = float(np.linalg.norm(run.x))
        rho = max(abs(1 - eta * 4.0 / kappa), abs(1 - eta * 4.0))
        status = _status(page, "gd-quadratic")
        assert f"‖x{str(steps).translate(SUB)} − x*‖ = {_fmt(dist, 4)}" in status, status
        assert f"ρ(η) = {_fmt(rho, 4)}" in status, status
        _check_clean(chromium, page, log, blocked, f"gd {eta} {kappa}")
        page.close()
    page, log, blocked = _open(
        chromium, base, "gradient-descent", "?gd-quadratic.eta=0.6&gd-quadratic.steps=100"
    )
    run = gd.gradient_descent(objectives.Quadratic(np.diag([0.2, 4.0])), [-8.0, 2.0], 0.6, 100)
    assert run.diverged and run.status() in _status(page, "gd-quadratic")
    page.close()


def test_explorers_are_built_only_near_the_viewport(chromium, book):
    """An explorer far below the first screen is not built at load (its static fallback stays,
    no work on the page's main thread); scrolled near, it is; a linked setting builds it at
    once."""
    _, base = book
    far_below = """() => [...document.querySelectorAll('.sgdx[data-explorer]')].filter(
        (r) => r.getBoundingClientRect().top > 3 * innerHeight).map((r) => [
        r.getAttribute('data-explorer'), !!r.querySelector('.sgdx-app'),
        !r.querySelector('.sgdx-fallback').hidden])"""
    checked = 0
    for doc in PAGES:
        page, _log = open_page(chromium, urljoin(base, f"{doc}.html"), width=PHONE_WIDTH)
        _frames(page)
        for kind, built, fallback_shown in page.evaluate(far_below):
            checked += 1
            assert not built and fallback_shown, f"{doc}: {kind} built far below the screen"
        assert page.evaluate(JS_BUILD_ALL), f"{doc}: an explorer was not built when scrolled near"
        page.close()
    assert checked, "no explorer far below a first screen: the check is vacuous"
    page, _log = open_page(
        chromium, urljoin(base, "momentum-adam.html?adam.lr=0.05"), width=PHONE_WIDTH
    )
    _frames(page)
    linked, other = page.evaluate(
        "() => ['adam', 'momentum'].map((k) => { const r = document.getElementById('sgdx-' + k);"
        " return [r.getBoundingClientRect().top, !!r.querySelector('.sgdx-app')]; })"
    )
    assert linked[1], f"a linked setting did not build its explorer at once ({linked})"
    assert other[0] > 3 * 900 and not other[1], f"the other explorer: {other}"
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_width_and_theme(chromium, book, scheme):
    _, base = book
    for doc, kinds in PAGES.items():
        page = chromium.new_page()
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
        page.goto(urljoin(base, f"{doc}.html"), wait_until="load")
        _build_all(page)
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        for kind in kinds:
            r = page.evaluate(
                """(k) => { const e = document.getElementById('sgdx-' + k);
              const b = e.getBoundingClientRect();
              const fg = getComputedStyle(e.querySelector('.sgdx-status')).color;
              const bg = getComputedStyle(e).backgroundColor;
              const line = getComputedStyle(e.querySelector('polyline')).stroke;
              return {right: b.right, sw: e.scrollWidth, cw: e.clientWidth, fg, bg, line}; }""",
                kind,
            )
            assert r["right"] <= PHONE_WIDTH + 1 and r["sw"] <= r["cw"] + 1, (
                f"{doc} {kind} @375px: {r}"
            )
            assert _contrast(r["fg"], r["bg"]) >= 4.5, f"{doc} {kind} ({scheme}): text contrast {r}"
            assert _contrast(r["line"], r["bg"]) >= 3, (
                f"{doc} {kind} ({scheme}): curve contrast {r}"
            )
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
        page.close()


def _rgb(css: str) -> tuple[float, ...]:
    vals = [float(v) for v in re.findall(r"[\d.]+", css)[:4]]
    if len(vals) == 4 and vals[3] == 0:
        return (1.0, 1.0, 1.0)  # transparent: treat as the page
    return tuple(v / 255 for v in vals[:3])


def _contrast(a: str, b: str) -> float:
    def lum(c):
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in _rgb(c)]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    la, lb = sorted((lum(a), lum(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_works_from_a_downloaded_copy(chromium, built_book):
    """file:// (a downloaded copy of the site): the explorers start and stay quiet."""
    page = chromium.new_page()
    errors, elsewhere = [], []

    def only_files(route):  # the page's own route wins over the context's localhost-only gate
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_files)
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((built_book / "learning-rate.html").as_uri(), wait_until="load")
    _build_all(page)
    page.locator("#sgdx-lr-threshold-eta").focus()
    page.keyboard.press("ArrowRight")
    assert "x₁₀" in _status(page, "lr-threshold")
    assert not errors, errors
    assert not elsewhere, elsewhere
    page.close()
