"""The offline edition (book/_ext/sgdbook_offline.py): the built site zipped, unpacked, and read
from disk (``file://``) in headless Chromium with every network request refused.

Each page of the table of contents must load from the unpacked copy with its formulas rendered,
its figures loaded and no request leaving the disk; the search page must find 梯度下降.
"""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import toc_docnames
from test_browser import JS_IMAGES, JS_MATH, PageLog

REPO = Path(__file__).resolve().parents[1]


def _offline():
    path = REPO / "book" / "_ext" / "sgdbook_offline.py"
    # as Sphinx loads a local extension: book/_ext on sys.path (for sgdbook_site)
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("sgdbook_offline_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_bundle_holds_the_site_without_build_by_products(tmp_path):
    offline = _offline()
    site = tmp_path / "html"
    (site / "_static").mkdir(parents=True)
    (site / "reports").mkdir()
    (site / "index.html").write_text("<p>首页</p>", "utf-8")
    (site / "_static" / "a.css").write_text("p{}")
    (site / "reports" / "ch.err.log").write_text("traceback")
    (site / ".buildinfo").write_text("x")
    (site / offline.BUNDLE_NAME).write_bytes(b"old")
    first = offline.write_bundle(site, tmp_path / "a.zip")
    with zipfile.ZipFile(first) as bundle:
        assert bundle.namelist() == ["sgdbook/_static/a.css", "sgdbook/index.html"]
        assert bundle.read("sgdbook/index.html").decode("utf-8") == "<p>首页</p>"
    # the same site gives the same bytes (sorted names, fixed timestamps)
    assert offline.write_bundle(site, tmp_path / "b.zip").read_bytes() == first.read_bytes()


def test_bundle_refuses_what_is_not_a_built_site(tmp_path):
    with pytest.raises(FileNotFoundError, match="site"):
        _offline().write_bundle(tmp_path, tmp_path / "x.zip")


@pytest.mark.parametrize("value, expected", [("", False), ("0", False), ("1", True)])
def test_bundle_switch(monkeypatch, value, expected):
    monkeypatch.setenv("SGDBOOK_OFFLINE_BUNDLE", value)
    assert _offline().enabled() is expected


def test_bundle_switch_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("SGDBOOK_OFFLINE_BUNDLE", "yes")
    with pytest.raises(ValueError, match="SGDBOOK_OFFLINE_BUNDLE"):
        _offline().enabled()


@pytest.mark.browser
@pytest.mark.book
def test_unpacked_bundle_reads_from_disk_with_the_network_closed(built_book, chromium, tmp_path):
    bundle = _offline().write_bundle(built_book, tmp_path / "sgdbook-offline.zip")
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "unpacked")
    root = tmp_path / "unpacked" / "sgdbook"
    refused: list[str] = []

    def refuse(route):
        refused.append(route.request.url)
        route.abort()

    chromium.route("http://*/**", refuse)
    chromium.route("https://*/**", refuse)
    problems = []
    try:
        for docname in ["index", *toc_docnames(), "search"]:
            page = chromium.new_page()
            log = PageLog(page)
            page.goto((root / f"{docname}.html").as_uri(), wait_until="load")
            log.settle()
            problems += [f"{docname}: {p}" for p in page.evaluate(JS_MATH)]
            problems += [f"{docname}: {p}" for p in page.evaluate(JS_IMAGES)[0]]
            log.settle()
            problems += [f"{docname}: console error: {e}" for e in log.errors]
            problems += [f"{docname}: failed request: {f}" for f in log.failed]
            page.close()
        page = chromium.new_page()
        page.goto((root / "search.html").as_uri() + "?q=梯度下降", wait_until="load")
        page.wait_for_selector("#search-results ul.search li a", timeout=20000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.length")
        page.close()
        assert hits >= 3, f"offline search for 梯度下降 found {hits} page(s)"
    finally:
        chromium.unroute("http://*/**")
        chromium.unroute("https://*/**")
    assert not refused, f"the offline copy asked the network for {refused[:10]}"
    assert not problems, "\n".join(problems[:40])
