#!/usr/bin/env python3
"""Print the page-weight table of docs/site.md from the browser test's measurement.

``tests/test_browser.py::test_every_page_in_a_browser`` loads every page of the table of
contents in headless Chromium with an empty cache and writes what each page transferred to
``book/_build/site-report/page-sizes-<site>.json``. This prints that file as the Markdown table
of docs/site.md (kB = 1000 bytes):

    .venv/bin/python tools/page_sizes.py [book|sample]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "book" / "_build" / "site-report"
COLUMNS = [
    ("document", "HTML"),
    ("stylesheet", "CSS"),
    ("script", "JS"),
    ("font", "Fonts"),
    ("image", "Images"),
]


def kb(n: int | None) -> str:
    return "–" if not n else f"{n / 1000:.1f} kB"


def main(site: str = "book") -> int:
    path = REPORT / f"page-sizes-{site}.json"
    if not path.is_file():
        print(
            f"{path} is missing: run `make test` (or pytest tests/test_browser.py) first",
            file=sys.stderr,
        )
        return 1
    sizes = json.loads(path.read_text(encoding="utf-8"))
    print("| Page | " + " | ".join(title for _, title in COLUMNS) + " | Total | Total, gzip |")
    print("|---|" + "---:|" * (len(COLUMNS) + 2))
    for page, measured in sizes.items():
        raw, gz = measured["bytes"], measured["gzip"]
        cells = [kb(raw.get(kind)) for kind, _ in COLUMNS]
        print(f"| {page} | " + " | ".join(cells) + f" | {kb(raw['total'])} | {kb(gz['total'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
