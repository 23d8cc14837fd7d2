#!/usr/bin/env bash
# Regenerate requirements/lock.txt from the current .venv after changing dependencies
# (pip install the new package into .venv first, check the book builds, then run this).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${SGDBOOK_VENV:-$root/.venv}
{
  echo "# Exact versions for CI and the book build (pip freeze of a working environment; torch is the"
  echo "# CPU build here, 2.13.0+cpu, which satisfies torch==2.13.0). Regenerate with tools/lock.sh."
  "$venv/bin/python" -m pip freeze --exclude-editable | grep -v '^sgdbook' | sed -E 's/^(torch==[0-9.]+)\+cpu$/\1/'
} > "$root/requirements/lock.txt"
echo "wrote requirements/lock.txt"
