#!/usr/bin/env bash
# Render the sample Quarto book's chapters with real pandoc 3 (pypandoc-binary) and the
# mlsysim Lua filter, as Quarto would (Quarto itself cannot be installed offline; the
# `quarto` Lua APIs come from tests/quarto_shim): each chapter from its own folder with the
# project directory set. Then render the broken twin as Quarto does, in chapter order, and
# assert that the render stops at its first chapter, which lists exactly the file:line list of
# book_fixtures/quarto-broken/EXPECTED_FAILURES.txt (the whole project is checked there).
#
#   scripts/render_quarto_books.sh          # HTML into build/quarto/html/
#   scripts/render_quarto_books.sh --pdf    # also LaTeX + PDF (pdflatex) into build/quarto/pdf/
#
# Environment: MLSYSIM_PYTHON (default .venv/bin/python), PANDOC (default: pypandoc's binary),
# OUT (default build/quarto). The notebook chapter (engine: jupyter) needs Quarto's Jupyter
# engine; tests/test_quarto_notebook.py executes it with nbclient instead.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MLSYSIM_PYTHON="${MLSYSIM_PYTHON:-$ROOT/.venv/bin/python}"
PANDOC="${PANDOC:-$("$MLSYSIM_PYTHON" -c 'import pypandoc; print(pypandoc.get_pandoc_path())')}"
OUT="${OUT:-$ROOT/build/quarto}"
FILTER="$ROOT/tests/quarto_shim/with_shim.lua"
BOOK="$ROOT/book_fixtures/quarto"
BROKEN="$ROOT/book_fixtures/quarto-broken"
CHAPTERS=(index.qmd chapters/roofline.qmd chapters/serving.qmd chapters/scale.qmd chapters/simulations.qmd)
PDF=0
case "${1:-}" in
  --pdf) PDF=1 ;;
  "") ;;
  *) echo "usage: $0 [--pdf]" >&2; exit 2 ;;
esac

mkdir -p "$OUT/html" "$OUT/pdf"
# the engine's cache goes to the project root: keep it out of the fixtures
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp -rL "$BOOK" "$WORK/book"
cp -rL "$BROKEN" "$WORK/broken"

render() {  # render <book dir> <chapter> <pandoc args...>: as `quarto render` runs a chapter
  local dir="$1" chapter="$2"
  shift 2
  local folder rel
  folder="$(dirname "$dir/$chapter")"
  rel="$(realpath --relative-to="$folder" "$dir")"
  # Quarto runs pandoc in the chapter's own folder, with the project directory in
  # QUARTO_PROJECT_DIR (quarto.project.directory) and the project metadata (`mlsysim:`)
  # the filter, then citeproc (as Quarto orders them); the bibliography is found relative to
  # the project, as Quarto resolves it
  (cd "$folder" && QUARTO_PROJECT_DIR="$dir" "$PANDOC" -f markdown -L "$FILTER" --citeproc \
    --resource-path=".:$rel" --standalone \
    --metadata-file="$rel/_quarto.yml" --metadata pagetitle="$(basename "$chapter" .qmd)" \
    "$(basename "$chapter")" "$@")
}

echo "== sample book: HTML"
for chapter in "${CHAPTERS[@]}"; do
  name="$(basename "$chapter" .qmd)"
  render "$WORK/book" "$chapter" --mathjax --to html5 --output "$OUT/html/$name.html"
  echo "  $chapter -> $OUT/html/$name.html"
done

if [[ $PDF == 1 ]]; then
  echo "== sample book: LaTeX + PDF"
  command -v pdflatex >/dev/null || { echo "pdflatex not found (apt install texlive-latex-extra)" >&2; exit 1; }
  for chapter in "${CHAPTERS[@]}"; do
    name="$(basename "$chapter" .qmd)"
    render "$WORK/book" "$chapter" --to latex --output "$OUT/pdf/$name.tex"
    (cd "$OUT/pdf" && pdflatex -interaction=nonstopmode -halt-on-error "$name.tex" >"$name.pdflatex.log") \
      || { echo "pdflatex failed on $name.tex; see $OUT/pdf/$name.pdflatex.log" >&2; exit 1; }
    echo "  $chapter -> $OUT/pdf/$name.pdf"
  done
fi

echo "== broken twin: the render stops at its first chapter, which lists every failure of the book"
actual="$WORK/actual.txt"
stopped=""
for chapter in index.qmd chapters/roofline.qmd chapters/serving.qmd chapters/simulations.qmd; do
  if ! render "$WORK/broken" "$chapter" --to html5 --output /dev/null 2>"$WORK/stderr.txt"; then
    stopped="$chapter"
    break
  fi
done
cat "$WORK/stderr.txt"
if [[ "$stopped" != index.qmd ]]; then
  echo "FAIL: the broken twin's render did not stop at its first chapter (stopped: '$stopped')" >&2
  exit 1
fi
grep -oE '^[^ :]+:[0-9]+(:[0-9]+)?: error\[' "$WORK/stderr.txt" | cut -d: -f1,2 >"$actual" || true
if ! diff <(grep -vE '^(#|$)' "$BROKEN/EXPECTED_FAILURES.txt") "$actual"; then
  echo "FAIL: the broken twin's failures differ from EXPECTED_FAILURES.txt (diff above)" >&2
  exit 1
fi
if [[ -n "$(find "$WORK/broken" "$WORK/book" -mindepth 2 -name .mlsysim-cache)" ]]; then
  echo "FAIL: an engine cache was made outside the project root" >&2
  exit 1
fi
echo "OK: sample book rendered; the broken twin stopped at index.qmd listing the $(wc -l <"$actual") expected failures"
