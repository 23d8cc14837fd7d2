"""Lighthouse audit of the built site: performance, accessibility and best practices per page.

Run from the repository root after a build (``make book``):

    .venv/bin/python benchmarks/bench_site.py                     # every chapter, phone + desktop
    .venv/bin/python benchmarks/bench_site.py --pages gradient-descent --presets mobile

It serves ``book/_build/html`` on 127.0.0.1 **with gzip**, as GitHub Pages and nginx send it
(Python's ``http.server`` does not compress, which would triple the transfer and make every
number meaningless), and runs Lighthouse (``npx --yes lighthouse@VERSION``: the npm registry
provides it on first use; it is not a project dependency) with Debian's ``/usr/bin/chromium``
(``SGDBOOK_CHROMIUM`` overrides). ``mobile`` is Lighthouse's default phone emulation (slow 4G,
4x CPU slowdown); ``desktop`` its desktop preset. ``--fonts`` chooses what the browser has:
``none``, the fonts of this machine (no CJK font: the page falls back to the book's 240 kB
Chinese web font, which arrives late and re-flows the text), and ``system``, a reader's
machine with a Chinese system font (the bundled Noto Sans SC is offered to Chromium through
a private fontconfig file, so nothing is installed). It prints one row per page, preset and
font setting:
the three category scores, First and Largest Contentful Paint, Total Blocking Time,
Cumulative Layout Shift, and the bytes transferred. Scores vary from run to run by a few
points and with the machine's load: report the machine with them. Always exits 0 when
Lighthouse ran (a measurement, not a test).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HTML = REPO / "book" / "_build" / "html"
LIGHTHOUSE = "lighthouse@13.5.0"
CHAPTERS = [
    "index",
    "gradient-descent",
    "learning-rate",
    "sgd",
    "minibatch",
    "momentum-adam",
    "lr-decay",
    "appendix/api",
]
COMPRESSIBLE = (".html", ".css", ".js", ".svg", ".json", ".txt", ".map", ".inv")
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --no-first-run --disable-sync"
)


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, text types gzip-compressed (Content-Encoding: gzip)."""

    def log_message(self, *args) -> None:  # quiet
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            return super().send_head()
        data = path.read_bytes()
        compress = path.suffix in COMPRESSIBLE
        if compress:
            data = gzip.compress(data, 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        if compress:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        return io.BytesIO(data)


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(GzipHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def fontconfig_with_cjk(tmp: Path) -> Path:
    """A fontconfig file: the system's configuration plus the book's Noto Sans SC."""
    fonts = tmp / "fonts"
    fonts.mkdir(exist_ok=True)
    for font in (REPO / "sgdbook" / "fonts").glob("*.otf"):
        shutil.copyfile(font, fonts / font.name)
    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{fonts}</dir>\n  <cachedir>{tmp / 'fc-cache'}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def audit(url: str, preset: str, chromium: str, out: Path, env: dict[str, str]) -> dict:
    npx = shutil.which("npx")
    if not npx:
        sys.exit("npx (Node.js) is needed to run Lighthouse")
    cmd = [
        npx,
        "--yes",
        LIGHTHOUSE,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=performance,accessibility,best-practices",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if preset == "desktop":
        cmd.append("--preset=desktop")
    result = subprocess.run(
        cmd,
        env=os.environ | env | {"CHROME_PATH": chromium},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0 or not out.is_file():
        sys.exit(f"lighthouse failed on {url} ({preset}):\n{result.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def row(page: str, preset: str, fonts: str, report: dict) -> str:
    cats = report["categories"]
    audits = report["audits"]

    def ms(key: str) -> str:
        return f"{audits[key]['numericValue'] / 1000:.1f} s"

    kib = audits["total-byte-weight"]["numericValue"] / 1024
    return (
        f"| {page} | {preset} | {fonts} | {round(100 * cats['performance']['score'])} | "
        f"{round(100 * cats['accessibility']['score'])} | "
        f"{round(100 * cats['best-practices']['score'])} | "
        f"{ms('first-contentful-paint')} | {ms('largest-contentful-paint')} | "
        f"{audits['total-blocking-time']['numericValue']:.0f} ms | "
        f"{audits['cumulative-layout-shift']['numericValue']:.3f} | {kib:.0f} KiB |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", nargs="+", default=CHAPTERS)
    parser.add_argument(
        "--presets", nargs="+", default=["mobile", "desktop"], choices=["mobile", "desktop"]
    )
    parser.add_argument(
        "--fonts", nargs="+", default=["none", "system"], choices=["none", "system"]
    )
    args = parser.parse_args()
    if not (HTML / "index.html").is_file():
        sys.exit(f"{HTML} has no built site: run `make book` first")
    chromium = os.environ.get("SGDBOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    server, base = serve(HTML)
    print(f"{LIGHTHOUSE} on {base} (gzip), chromium {chromium}")
    print(
        "| Page | Preset | CJK font | Performance | Accessibility | Best practices | FCP | LCP "
        "| TBT | CLS | Transfer |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        envs = {"none": {}, "system": {"FONTCONFIG_FILE": str(fontconfig_with_cjk(Path(tmp)))}}
        for page in args.pages:
            for preset in args.presets:
                for fonts in args.fonts:
                    out = Path(tmp) / f"{page.replace('/', '_')}-{preset}-{fonts}.json"
                    report = audit(f"{base}{page}.html", preset, chromium, out, envs[fonts])
                    print(
                        row(page, preset, "web font" if fonts == "none" else "system", report),
                        flush=True,
                    )
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
