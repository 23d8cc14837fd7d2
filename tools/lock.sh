#!/usr/bin/env bash
# Regenerate requirements/lock.txt from the current .venv after changing dependencies
# (pip install the new package into .venv first, check the book builds, then run this), and pin
# every file by its sha256 (tools/hash_lock.py; needs the package index). pip itself is pinned in
# requirements/pip.txt, which this also re-hashes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${SGDBOOK_VENV:-$root/.venv}
{
  echo "# Exact versions for CI and the book build (pip freeze --all of a working environment, pip"
  echo "# itself in requirements/pip.txt), each pinned by the sha256 of every file that may be"
  echo "# installed: PyPI's files for that version (torch: its CUDA builds) and the files pip picks"
  echo "# here (torch: the CPU build 2.13.0+cpu, which satisfies torch==2.13.0). pip installs it with"
  echo "# --require-hashes. Regenerate with tools/lock.sh."
  "$venv/bin/python" -m pip freeze --all --exclude-editable | grep -v -E '^(sgdbook|pip)==' \
    | sed -E 's/^(torch==[0-9.]+)\+cpu$/\1/'
} > "$root/requirements/lock.txt"
"$venv/bin/python" "$root/tools/hash_lock.py"
