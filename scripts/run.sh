#!/usr/bin/env bash
# Command 1 of the README: set everything up and run the main job — build the sample books in
# book_fixtures/ through both plugins (Sphinx/MyST to HTML, Quarto chapters through pandoc +
# the Lua filter to HTML), check that their broken twins fail at the expected lines, and run a
# short CLI demo; and build this documentation (docs/). Outputs land in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "==> Sphinx/MyST sample book"
bash scripts/build_sphinx_books.sh
echo "==> Quarto sample book (pandoc 3 + mlsysim.lua)"
bash scripts/render_quarto_books.sh
echo "==> this documentation (docs/, built with mlsysim_sphinx)"
bash scripts/build_docs.sh
echo "==> CLI demo"
bash scripts/cli_demo.sh
echo "==> done: open build/sphinx/html/index.html, build/quarto/html/ and build/docs/html/"
