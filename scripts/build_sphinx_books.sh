#!/usr/bin/env bash
# Build the Sphinx/MyST sample book with the mlsysim_sphinx extension, then build its broken
# twin and assert that it fails with exactly the file:line list of
# book_fixtures/sphinx-broken/EXPECTED_FAILURES.txt (also with parallel reading, -j 2).
#
#   scripts/build_sphinx_books.sh          # HTML into build/sphinx/html/
#   scripts/build_sphinx_books.sh --pdf    # also LaTeX + PDF (sphinx-build -M latexpdf, TeX Live)
#
# Environment: OUT (default build/sphinx); BIN (default .venv/bin: the executables used, e.g.
# another virtual environment with the lowest supported Sphinx, scripts/test_sphinx_lowest.sh).
# The sample book is built with -W: a warning (a config value of an unexpected type, say)
# fails it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/.venv/bin}"
# the extension lives in sphinx_ext/ (also on the path through the editable install)
export PYTHONPATH="$ROOT/sphinx_ext${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:-$ROOT/build/sphinx}"
BOOK="$ROOT/book_fixtures/sphinx"
BROKEN="$ROOT/book_fixtures/sphinx-broken"
PDF=0
case "${1:-}" in
  --pdf) PDF=1 ;;
  "") ;;
  *) echo "usage: $0 [--pdf]" >&2; exit 2 ;;
esac

echo "== sample book: HTML -> $OUT/html"
"$BIN/sphinx-build" -q -E -W -b html -d "$OUT/doctrees-html" "$BOOK" "$OUT/html"

if [ "$PDF" = 1 ]; then
  if ! command -v pdflatex >/dev/null || ! command -v latexmk >/dev/null; then
    echo "pdflatex/latexmk not found: install TeX Live with scripts/setup.sh --tex" >&2
    exit 1
  fi
  echo "== sample book: PDF -> $OUT/latex/latex/napkin-book.pdf"
  "$BIN/sphinx-build" -M latexpdf "$BOOK" "$OUT/latex" -q -E >"$OUT/latexpdf.log" 2>&1 || {
    tail -40 "$OUT/latexpdf.log" >&2
    echo "LaTeX build failed (full log: $OUT/latexpdf.log)" >&2
    exit 1
  }
  test -s "$OUT/latex/latex/napkin-book.pdf"
fi

expected="$(grep -v '^\s*#' "$BROKEN/EXPECTED_FAILURES.txt" | sed '/^\s*$/d' | sort)"
for jobs in 1 2; do
  echo "== broken twin (-j $jobs): must fail with the expected file:line list"
  log="$OUT/broken-j$jobs.log"
  set +e
  "$BIN/sphinx-build" -q -N -E -j "$jobs" -b html -d "$OUT/doctrees-broken-$jobs" \
    "$BROKEN" "$OUT/broken-html-$jobs" 2>"$log"
  status=$?
  set -e
  if [ "$status" = 0 ]; then
    echo "FAIL: the broken book built successfully (exit 0)" >&2
    exit 1
  fi
  # the summary printed at build-finished: "  file:line[:col]: error[mlsysim.kind]: …" (-N: no
  # colour codes, whatever the runner sets)
  got="$(sed -nE 's/^  ([^ :]+):([0-9]+)(:[0-9]+)?: error\[mlsysim\.[a-z]+\].*/\1:\2/p' "$log" | sort)"
  if [ "$got" != "$expected" ]; then
    echo "FAIL: reported failures differ from EXPECTED_FAILURES.txt" >&2
    diff <(echo "$expected") <(echo "$got") >&2 || true
    cat "$log" >&2
    exit 1
  fi
  echo "  exit $status, $(echo "$got" | wc -l) failures at the expected lines"
done
echo "== Sphinx books OK"
