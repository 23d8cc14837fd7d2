"""The offline edition: the built site as one zip that a reader unpacks and opens from disk.

The site needs no server and no other host (math is rendered at build time, the search index is
a script file, every asset is local), so a copy of ``book/_build/html`` works from ``file://``.
With ``SGDBOOK_OFFLINE_BUNDLE=1`` the HTML build writes that copy as ``sgdbook-offline.zip`` at
the site's root once every page is written, and every page's download menu links it (CI sets the
variable for the published site). Without the variable nothing changes, so a contributor's edit
loop pays nothing for it.

``python book/_ext/sgdbook_offline.py SITE ZIP`` writes the same zip from a built site.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from sphinx.application import Sphinx

from sgdbook_site.downloads import add_download_button

BUNDLE_NAME = "sgdbook-offline.zip"
TOP_FOLDER = "sgdbook"  # the zip unpacks into one folder, sgdbook/index.html
# build by-products a reader does not need: the execution reports of a failed build and
# Sphinx's incremental-build stamp
_SKIP_DIRS = {"reports"}
_SKIP_FILES = {".buildinfo", BUNDLE_NAME}


def enabled() -> bool:
    value = os.environ.get("SGDBOOK_OFFLINE_BUNDLE", "")
    if value not in ("", "0", "1"):
        raise ValueError(f"SGDBOOK_OFFLINE_BUNDLE must be 0 or 1, got {value!r}")
    return value == "1"


def write_bundle(site: Path, target: Path) -> Path:
    """Zip the built site ``site`` into ``target`` (files in sorted order, fixed timestamps)."""
    site, target = Path(site), Path(target)
    if not (site / "index.html").is_file():
        raise FileNotFoundError(f"site must be a built site with an index.html, got {site}")
    files = sorted(
        p
        for p in site.rglob("*")
        if p.is_file()
        and p.name not in _SKIP_FILES
        and not (set(p.relative_to(site).parts[:-1]) & _SKIP_DIRS)
    )
    tmp = target.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as bundle:
        for path in files:
            info = zipfile.ZipInfo(
                f"{TOP_FOLDER}/{path.relative_to(site).as_posix()}", date_time=(2026, 1, 1, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, path.read_bytes())
    tmp.replace(target)
    return target


def _link_bundle(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if app.builder.format != "html" or not enabled():
        return
    add_download_button(
        context,
        path=BUNDLE_NAME,
        text="离线网站 .zip",
        tooltip="下载整个网站，解压后打开 sgdbook/index.html 即可离线阅读",
        icon="fas fa-download",
        label="download-offline-site-button",
    )


def _write_bundle(app: Sphinx, exception) -> None:
    if exception is None and app.builder.format == "html" and enabled():
        write_bundle(Path(app.outdir), Path(app.outdir) / BUNDLE_NAME)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _link_bundle, priority=503)  # after the theme's buttons
    # late, after the other extensions have finished writing into the output folder
    app.connect("build-finished", _write_bundle, priority=990)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        raise SystemExit("usage: sgdbook_offline.py SITE ZIP")
    print(write_bundle(Path(sys.argv[1]), Path(sys.argv[2])))
