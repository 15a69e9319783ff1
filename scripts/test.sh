#!/usr/bin/env bash
# Command 2 of the README: set everything up and run the whole test suite
# (lint, types, import contract, pytest with warnings as errors, including the PDF builds and
# the offline pages loaded in headless Chromium, whose screenshots land in build/offline/).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tex --browser || exit 1

status=0
echo "==> ruff"
.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check mlsysim sphinx_ext tests benchmarks || status=1
echo "==> mypy"
.venv/bin/mypy || status=1
echo "==> import contract (data flows one way)"
.venv/bin/lint-imports || status=1
echo "==> pytest (and, beside it, ${MLSYSIM_FUZZ_SECONDS:-60} s of fuzzing on the other core)"
fuzz_log="$(mktemp)"
MLSYSIM_FUZZ_SECONDS="${MLSYSIM_FUZZ_SECONDS:-60}" .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/test_fuzz.py -k for_a_while >"$fuzz_log" 2>&1 &
fuzz_pid=$!
.venv/bin/python -m pytest "$@"
rc=$?
if wait "$fuzz_pid"; then
  grep -E "^fuzz:" "$fuzz_log" || true
else
  cat "$fuzz_log" >&2
  echo "the long fuzzing run failed (above)" >&2
  status=1
fi
rm -f "$fuzz_log"
echo "==> the lowest supported Sphinx (7.0) and MyST (3.0)"
bash scripts/test_sphinx_lowest.sh || status=1
if [ "$rc" = 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  rc=1
fi
[ "$rc" = 0 ] || status=1
exit $status
