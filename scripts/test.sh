#!/usr/bin/env bash
# Command 2 of the README: set everything up and run the whole test suite
# (lint, types, import contract, pytest with warnings as errors, including the PDF builds).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tex || exit 1

status=0
echo "==> ruff"
.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check mlsysim sphinx_ext tests benchmarks || status=1
echo "==> mypy"
.venv/bin/mypy || status=1
echo "==> import contract (data flows one way)"
.venv/bin/lint-imports || status=1
echo "==> pytest"
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" = 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  rc=1
fi
[ "$rc" = 0 ] || status=1
exit $status
