"""Lighthouse audit of the built site: performance, accessibility and best practices per page.

Run from the repository root after a build (``make book``):

    .venv/bin/python benchmarks/bench_site.py                     # every chapter, phone + desktop
    .venv/bin/python benchmarks/bench_site.py --pages gradient-descent --presets mobile
    .venv/bin/python benchmarks/bench_site.py --presets mobile --repeat 3 --html /tmp/before book/_build/html \
        --save /tmp/lighthouse                       # before/after, alternating, medians


It serves ``book/_build/html`` on 127.0.0.1 **with gzip**, as GitHub Pages and nginx send it
(Python's ``http.server`` does not compress, which would triple the transfer and make every
number meaningless), and runs Lighthouse (``npx --yes lighthouse@VERSION``: the npm registry
provides it on first use; it is not a project dependency) with Debian's ``/usr/bin/chromium``
(``SGDBOOK_CHROMIUM`` overrides). ``mobile`` is Lighthouse's default phone emulation (slow 4G,
4x CPU slowdown); ``desktop`` its desktop preset. ``--fonts`` chooses what the browser has:
``none``, a browser with no CJK font at all (this machine's fonts, every font that covers
Chinese rejected by a private fontconfig file: the page falls back to the book's 240 kB
Chinese web font, which arrives late), and ``system``, a reader's
machine with a Chinese system font (the bundled Noto Sans SC is offered to Chromium through
a private fontconfig file, so nothing is installed). It prints one row per page, preset and
font setting:
the three category scores, First and Largest Contentful Paint, Total Blocking Time,
Cumulative Layout Shift, and the bytes transferred. Scores vary from run to run by a few
points and with the machine's load: report the machine with them. ``--repeat N`` audits each
page N times and prints the median of every column (the run with the median performance score
for the byte count) and the min-max of the performance score; ``--html DIR`` serves another
copy of the site, and ``--html BEFORE AFTER`` serves both and alternates their runs, so that a
before/after comparison (e.g. a copy with some assets stripped) sees the same machine load;
``--save DIR`` keeps every Lighthouse JSON report. The default pages are every page of the
table of contents (``_toc.yml``). Always exits 0 when Lighthouse ran (a measurement, not a
test).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import html
import http.server
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HTML = REPO / "book" / "_build" / "html"
LIGHTHOUSE = "lighthouse@13.5.0"


def toc_pages() -> list[str]:
    """Every page of the table of contents, in order (root first)."""
    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [
        chapter["file"] for part in toc.get("parts", []) for chapter in part.get("chapters", [])
    ]


CHAPTERS = toc_pages()
COMPRESSIBLE = (".html", ".css", ".js", ".svg", ".json", ".txt", ".map", ".inv")
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --no-first-run --disable-sync"
)


@functools.cache
def _body(path: Path, mtime: float, compress: bool) -> bytes:
    """A file's bytes as sent (gzip level 6 for text), compressed once like a static host's
    precompressed copy, so that compressing a 4 MB page does not sit inside every measurement."""
    data = path.read_bytes()
    return gzip.compress(data, 6) if compress else data


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, text types gzip-compressed (Content-Encoding: gzip), over HTTP/1.1 with
    keep-alive: the browser reuses its connections, as it does with any real host (GitHub Pages
    speaks HTTP/2, which multiplexes even more)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            return super().send_head()
        compress = path.suffix in COMPRESSIBLE
        data = _body(path, path.stat().st_mtime, compress)
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


def _fontconfig(tmp: Path, name: str, body: str) -> Path:
    conf = tmp / f"{name}.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"{body}  <cachedir>{tmp / ('fc-cache-' + name)}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def fontconfig_with_cjk(tmp: Path) -> Path:
    """A fontconfig file: the system's configuration plus the book's Noto Sans SC."""
    fonts = tmp / "fonts"
    fonts.mkdir(exist_ok=True)
    for font in (REPO / "sgdbook" / "fonts").glob("*.otf"):
        shutil.copyfile(font, fonts / font.name)
    return _fontconfig(tmp, "system", f"  <dir>{fonts}</dir>\n")


def system_cjk_fonts() -> list[str]:
    """The files of the installed fonts that cover Chinese (fontconfig's ``:lang=zh``)."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return []
    out = subprocess.run(
        [fc_list, ":lang=zh", "file"], capture_output=True, text=True, check=False
    ).stdout
    return sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})


def fontconfig_without_cjk(tmp: Path) -> Path:
    """A fontconfig file: the system's configuration with every Chinese font rejected, so the
    browser has no CJK font at all (the PDF set-up installs Noto CJK on the build machine)."""
    globs = "".join(f"      <glob>{html.escape(f)}</glob>\n" for f in system_cjk_fonts())
    body = f"  <selectfont>\n    <rejectfont>\n{globs}    </rejectfont>\n  </selectfont>\n"
    return _fontconfig(tmp, "none", body if globs else "")


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


def measures(report: dict) -> dict[str, float]:
    """The numbers of one Lighthouse report that the table shows."""
    cats = report["categories"]
    audits = report["audits"]
    return {
        "performance": 100 * cats["performance"]["score"],
        "accessibility": 100 * cats["accessibility"]["score"],
        "best-practices": 100 * cats["best-practices"]["score"],
        "fcp": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "kib": audits["total-byte-weight"]["numericValue"] / 1024,
    }


def row(page: str, preset: str, fonts: str, reports: list[dict], site: str | None = None) -> str:
    """One table row: the median of each measure over the runs (and the performance range)."""
    runs = [measures(r) for r in reports]
    med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    perf = sorted(round(run["performance"]) for run in runs)
    spread = f" ({perf[0]}–{perf[-1]})" if len(runs) > 1 else ""
    first = f"| {site} " if site is not None else ""
    return (
        f"{first}| {page} | {preset} | {fonts} | {round(med['performance'])}{spread} | "
        f"{round(med['accessibility'])} | {round(med['best-practices'])} | "
        f"{med['fcp']:.1f} s | {med['lcp']:.1f} s | {med['tbt']:.0f} ms | "
        f"{med['cls']:.3f} | {med['kib']:.0f} KiB |"
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
    parser.add_argument(
        "--html",
        type=Path,
        nargs="+",
        default=[HTML],
        help="the site folder(s) to serve; with several, their runs alternate (a before/after "
        "comparison under the same machine load) and each row names its site",
    )
    parser.add_argument("--repeat", type=int, default=1, help="audits per page and setting")
    parser.add_argument("--save", type=Path, help="keep every Lighthouse JSON report here")
    args = parser.parse_args()
    sites = [site.resolve() for site in args.html]
    for site in sites:
        if not (site / "index.html").is_file():
            sys.exit(f"{site} has no built site: run `make book` first")
    labels = [site.name for site in sites] if len(sites) > 1 else [None]
    if len(set(labels)) != len(labels):
        labels = [str(site) for site in sites]
    chromium = os.environ.get("SGDBOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    servers = [serve(site) for site in sites]
    repeat = max(1, args.repeat)
    for site, (_, base) in zip(sites, servers):
        print(f"{LIGHTHOUSE} on {base} (gzip, HTTP/1.1) serving {site}, chromium {chromium}")
    print(f"median of {repeat} runs; Performance: median (min–max)" if repeat > 1 else "one run")
    if len(sites) > 1:
        print("runs alternate between the sites")
    site_col = "| Site " if len(sites) > 1 else ""
    print(
        f"{site_col}| Page | Preset | CJK font | Performance | Accessibility | Best practices | FCP "
        "| LCP | TBT | CLS | Transfer |"
    )
    print(
        ("|---" if len(sites) > 1 else "") + "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    with tempfile.TemporaryDirectory() as tmp:
        envs = {
            "none": {"FONTCONFIG_FILE": str(fontconfig_without_cjk(Path(tmp)))},
            "system": {"FONTCONFIG_FILE": str(fontconfig_with_cjk(Path(tmp)))},
        }
        keep = args.save or Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        for page in args.pages:
            for preset in args.presets:
                for fonts in args.fonts:
                    reports: list[list[dict]] = [[] for _ in sites]
                    for n in range(repeat):
                        for i, (_, base) in enumerate(servers):
                            tag = f"-site{i + 1}" if len(sites) > 1 else ""
                            name = f"{page.replace('/', '_')}-{preset}-{fonts}{tag}-{n + 1}.json"
                            reports[i].append(
                                audit(
                                    f"{base}{page}.html", preset, chromium, keep / name, envs[fonts]
                                )
                            )
                    for label, site_reports in zip(labels, reports):
                        font_label = "web font" if fonts == "none" else "system"
                        print(row(page, preset, font_label, site_reports, label), flush=True)
    for server, _ in servers:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
