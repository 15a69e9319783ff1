#!/usr/bin/env bash
# Mutation testing of the physics (local only, not part of CI: it takes 10-15 minutes on two
# cores). Mutates mlsysim/core/formulas, the single-node solver and the lowering with mutmut
# (installed into .venv on demand), runs the physics tests against every mutant in a copy of
# the repository, and prints the kill rate per module.
#
#   bash scripts/mutation.sh            # everything
#   bash scripts/mutation.sh sharded    # only modules whose path contains "sharded"
#   bash scripts/mutation.sh mlsysim/workload/lowering/shard.py   # exactly that module
#
# Only files git tracks are copied: `git add` a new test file before a run counts it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
[ -x .venv/bin/mutmut ] || .venv/bin/pip install -q mutmut
work=$(mktemp -d)
git ls-files | tar -cf - -T - | tar -xf - -C "$work"
only='"mlsysim/core/formulas/*", "mlsysim/solvers/single_node/solver.py", "mlsysim/workload/lowering/*"'
if [ $# -gt 0 ] && [ -f "$1" ]; then only="\"$1\""
elif [ $# -gt 0 ]; then only="\"mlsysim/**/*$1*.py\""; fi
tests=$(cd "$work" && ls tests/test_formulas_*.py tests/test_formula_latex.py tests/test_viz_derivation.py \
  tests/test_solver_*.py tests/test_explainers.py tests/test_models_cnn.py tests/test_walls.py \
  tests/test_cli_solve.py tests/test_distributed_*.py tests/test_collectives_*.py tests/test_run_*.py \
  tests/test_moe_*.py tests/test_recompute_*.py \
  2>/dev/null | sed 's/.*/"&"/' | paste -sd, -)
cat >> "$work/pyproject.toml" <<EOF

[tool.mutmut]
source_paths = ["mlsysim"]
only_mutate = [$only]
pytest_add_cli_args_test_selection = [$tests]
pytest_add_cli_args = ["-m", "not slow", "-p", "no:cacheprovider", "-x", "-q"]
also_copy = ["README.md", "docs", "book_fixtures", "benchmarks", "quarto_ext", "sphinx_ext", "scripts"]
EOF
cd "$work"
"$repo/.venv/bin/mutmut" run --max-children 2 > "$work/run.log" 2>&1 || true
"$repo/.venv/bin/mutmut" results --all true 2>/dev/null | "$repo/.venv/bin/python" -c '
import collections, re, sys
by = collections.defaultdict(collections.Counter)
for line in sys.stdin:
    if ": " in line:
        name, status = line.strip().split(": ")
        by[re.sub(r"\.x[_ǁ].*", "", name)][status] += 1
grand = collections.Counter()
for module, c in sorted(by.items()):
    grand.update(c)
    killed, n, left = c["killed"] + c["timeout"], sum(c.values()), c["survived"]
    print(f"{module:48s} {killed:5d}/{n:5d} {100 * killed / n:5.1f} %  survived {left}")
killed, n = grand["killed"] + grand["timeout"], sum(grand.values())
label = "total"
print(f"{label:48s} {killed:5d}/{n:5d} {100 * killed / n:5.1f} %")
'
echo "mutants and the log: $work (mutmut show <name> there to read a survivor)"
