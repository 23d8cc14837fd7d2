"""Add sha256 hashes to every pin of requirements/lock.txt (and requirements/pip.txt).

pip then installs the lock with ``--require-hashes`` (tools/setup-env.sh), so no index can
substitute another file for a pinned version: a file whose hash is not listed is refused.

For each ``name==version`` the hashes are

* every file PyPI serves for that version (its simple index in JSON form, PEP 691), so the lock
  installs on any platform PyPI has wheels for (torch: PyPI's CUDA builds); and
* the files pip itself picks here (``pip download --no-deps``), which covers wheels from a local
  wheel folder or another configured index, such as torch's CPU build ``2.13.0+cpu``.

Usage: ``python tools/hash_lock.py [requirements/lock.txt ...]`` rewrites the files in place;
lines that are not pins (comments, blank lines) are kept as they are. Existing hashes are
dropped and recomputed. Needs network access to the package index.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILES = [REPO / "requirements" / "lock.txt", REPO / "requirements" / "pip.txt"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
INDEX = "https://pypi.org/simple/{name}/"


def normalise(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def file_version(filename: str, name: str) -> str | None:
    """The version in a wheel or sdist file name of project ``name`` (None if another project)."""
    stem = re.sub(r"\.(whl|tar\.gz|zip|tar\.bz2)$", "", filename)
    want = normalise(name)
    for i, char in enumerate(stem):
        if char == "-" and normalise(stem[:i]) == want:
            return stem[i + 1 :].split("-")[0]
    return None


def pypi_hashes(name: str, version: str) -> set[str]:
    request = urllib.request.Request(
        INDEX.format(name=normalise(name)),
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        data = json.load(response)
    found = set()
    for entry in data.get("files", []):
        got = file_version(entry["filename"], name)
        if got is not None and got.split("+")[0] == version and "sha256" in entry["hashes"]:
            if "+" in got:  # a local-version build on PyPI is not what the pin means
                continue
            found.add(entry["hashes"]["sha256"])
    return found


def local_hashes(pins: list[str]) -> dict[str, set[str]]:
    """sha256 of the files pip picks on this machine for each pin (by normalised name)."""
    result: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "req.txt"
        reqs.write_text("\n".join(pins) + "\n", encoding="utf-8")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--dest",
                tmp,
                "-r",
                str(reqs),
            ],
            check=True,
        )
        for path in Path(tmp).iterdir():
            if path.name == "req.txt":
                continue
            for pin in pins:
                name = PIN.match(pin).group(1)
                if file_version(path.name, name) is not None:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                    result.setdefault(normalise(name), set()).add(digest)
                    break
    return result


def rewrite(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    kept: list[str | tuple[str, str, str]] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("--hash=") or stripped == "\\":
            continue  # continuation lines of an earlier hashed pin
        m = PIN.match(stripped)
        if m:
            kept.append((m.group(1), m.group(2), stripped.split("\\")[0].strip()))
        else:
            kept.append(line)
    pins = [item[2] for item in kept if isinstance(item, tuple)]
    local = local_hashes(pins)
    out = []
    for item in kept:
        if not isinstance(item, tuple):
            out.append(item)
            continue
        name, version, pin = item
        hashes = pypi_hashes(name, version) | local.get(normalise(name), set())
        if not hashes:
            raise SystemExit(f"no file found for {pin}")
        out.append(pin + " \\")
        ordered = sorted(hashes)
        for i, digest in enumerate(ordered):
            out.append(f"    --hash=sha256:{digest}" + (" \\" if i < len(ordered) - 1 else ""))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(REPO)} ({len(pins)} pins)")


def main(argv: list[str]) -> None:
    files = [Path(a).resolve() for a in argv] or DEFAULT_FILES
    for path in files:
        rewrite(path)


if __name__ == "__main__":
    main(sys.argv[1:])
