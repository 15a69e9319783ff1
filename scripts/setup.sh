#!/usr/bin/env bash
# Set up (or reuse) the project's virtual environment in .venv and install mlsysim editable
# with every extra the books, tests and benchmarks need. Idempotent: re-installs only when
# pyproject.toml changed. `--tex` also installs Debian TeX Live (for the PDF builds) if
# pdflatex is missing; `--browser` installs Debian Chromium (the offline-page test loads the
# built books headless) if it is missing. Nothing here downloads binaries outside the
# package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
want_tex=0
want_browser=0
for arg in "$@"; do
  case "$arg" in
    --tex) want_tex=1 ;;
    --browser) want_browser=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi

stamp=.venv/.mlsysim-installed
digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "==> installing mlsysim (editable) and its extras into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[sphinx,quarto,notebook,plot,progress,bibtex,dev]"
  echo "$digest" > "$stamp"
fi

# The JUnit schema Jenkins' xunit plugin publishes (junit-10.xsd), which the tests validate
# `mlsysim check --format junit` against. It ships in pytest's source distribution on PyPI
# (testing/example_scripts/); it is fetched with pip, never committed here.
junit_xsd=.venv/share/mlsysim-tests/junit-10.xsd
if [ ! -s "$junit_xsd" ]; then
  echo "==> fetching junit-10.xsd from pytest's source distribution (PyPI)"
  tmp=$(mktemp -d)
  pytest_version=$(.venv/bin/python -c "import pytest; print(pytest.__version__)")
  .venv/bin/python -m pip download --quiet --no-deps --no-binary :all: \
    "pytest==$pytest_version" -d "$tmp"
  tar -xzf "$tmp"/pytest-*.tar.gz -C "$tmp" --wildcards '*/testing/example_scripts/junit-10.xsd'
  mkdir -p "$(dirname "$junit_xsd")"
  cp "$tmp"/pytest-*/testing/example_scripts/junit-10.xsd "$junit_xsd"
  rm -rf "$tmp"
fi

if [ "$want_tex" = 1 ] && ! command -v pdflatex >/dev/null 2>&1; then
  echo "==> installing Debian TeX Live (pdflatex, siunitx, latexmk) for the PDF builds"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends \
    texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-science \
    texlive-fonts-recommended lmodern tex-gyre latexmk >/dev/null
fi

if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Debian Chromium (headless) for the offline-page test"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
