#!/usr/bin/env bash
# mlsysim's own documentation (docs/), built with mlsysim_sphinx itself: warnings and broken
# cross-references are errors (-W -n), and so is any failed napkin math on its pages. The
# reference pages and the CLI's help are generated into docs/_generated/ (ignored by git).
# Output: build/docs/html/index.html. tests/test_docs_site.py runs the same build.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m sphinx -W -n -q -b html docs build/docs/html "$@"
echo "documentation: build/docs/html/index.html"
