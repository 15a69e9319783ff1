#!/usr/bin/env bash
# The lowest Sphinx and MyST the extension declares (pyproject.toml: sphinx>=7, myst-parser>=3):
# a second virtual environment (.venv-sphinx-lowest, reused while pyproject.toml is unchanged)
# with sphinx==7.0.* and myst-parser==3.0.*, then the sample book with -W and the broken twin
# with -j 1 and -j 2 through scripts/build_sphinx_books.sh (exact file:line list).
# Run by scripts/test.sh; about 30 s the first time, 5 s after.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="$ROOT/.venv-sphinx-lowest"
PY=${PYTHON:-python3}
stamp="$VENV/.mlsysim-installed"
# the sample book's extras (plots need matplotlib, citations sphinxcontrib-bibtex): a change
# of this script's install line reinstalls too
digest=$(cat pyproject.toml "$0" | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "==> installing mlsysim with the lowest supported Sphinx (7.0) and MyST (3.0)"
  "$VENV/bin/python" -m pip install --quiet -e ".[plot,bibtex]" "sphinx==7.0.*" "myst-parser==3.0.*"
  echo "$digest" >"$stamp"
fi
"$VENV/bin/python" -c 'import sphinx, myst_parser; print(f"==> Sphinx {sphinx.__version__}, myst-parser {myst_parser.__version__}")'
BIN="$VENV/bin" OUT="$ROOT/build/sphinx-lowest" bash scripts/build_sphinx_books.sh
