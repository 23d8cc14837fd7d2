"""A copy of the built site as it was before the interactive explorers: the "before" of a
Lighthouse comparison (docs/site.md, "Explorers: weight and Lighthouse before/after").

    .venv/bin/python benchmarks/strip_explorers.py /tmp/site-before   # from book/_build/html
    .venv/bin/python benchmarks/bench_site.py --html /tmp/site-before --presets mobile ...

Every page's ``<script>`` and ``<link>`` tags of ``_static/explorers/`` are removed, and so is
that folder; each explorer box (``<div class="sgdx" ...><div class="sgdx-fallback">``) becomes
two plain ``<div>`` s, so its static fallback (the sentence and the chapter's build-time figure)
stays in place, as a reader without JavaScript sees it. It prints, per page that had an
explorer, the explorer assets' bytes raw and gzip-compressed.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HTML = REPO / "book" / "_build" / "html"
ASSET_TAG = re.compile(
    r'\s*<(?:script|link)\b[^>]*(?:src|href)="(?P<url>[^"]*_static/explorers/[^"?]+)[^"]*"'
    r"[^>]*>(?:</script>)?"
)
BOX = re.compile(r'<div class="sgdx" [^>]*><div class="sgdx-fallback">')


def strip_page(text: str) -> tuple[str, list[str]]:
    """The page without explorer assets and boxes, and the asset URLs it linked."""
    urls = [m.group("url") for m in ASSET_TAG.finditer(text)]
    text = ASSET_TAG.sub("", text)
    text = BOX.sub("<div><div>", text)
    return text, urls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", type=Path, help="folder to write (replaced)")
    parser.add_argument("--html", type=Path, default=HTML, help="the built site")
    args = parser.parse_args()
    if not (args.html / "index.html").is_file():
        sys.exit(f"{args.html} has no built site: run `make book` first")
    if args.target.exists():
        shutil.rmtree(args.target)
    shutil.copytree(args.html, args.target)
    shutil.rmtree(args.target / "_static" / "explorers", ignore_errors=True)
    print("| Page | Explorer assets | raw | gzip |\n|---|---|---:|---:|")
    for page in sorted(args.target.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        stripped, urls = strip_page(text)
        if stripped == text:
            continue
        page.write_text(stripped, encoding="utf-8")
        if 'class="sgdx' in stripped:
            sys.exit(f"{page}: an explorer box is left")
        files = [args.html / page.relative_to(args.target).parent / u for u in urls]
        raw = sum(f.stat().st_size for f in files)
        packed = sum(len(gzip.compress(f.read_bytes(), 6)) for f in files)
        names = ", ".join(f.name for f in files)
        print(
            f"| {page.relative_to(args.target).with_suffix('')} | {names} | "
            f"{raw / 1000:.1f} kB | {packed / 1000:.1f} kB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
