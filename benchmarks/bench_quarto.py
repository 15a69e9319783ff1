"""Benchmark: what the mlsysim filter adds to a pandoc render.

A generated 200-expression chapter is rendered to HTML by pandoc 3 without a filter (the
baseline) and with ``quarto_ext/_extensions/mlsysim/mlsysim.lua`` in the same run; the added
seconds are printed (target <= 0.6 s), cold (empty engine cache) and warm (cache hit), plus
the Lua adapter alone (the engine's reply replayed by a shell script), and the estimate for
one Python process per expression (single-expression render x 200).

    .venv/bin/python benchmarks/bench_quarto.py [--runs 3] [--expressions 200]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _env import bench_env

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent
FILTER = REPO / "quarto_ext" / "_extensions" / "mlsysim" / "mlsysim.lua"
TARGET_S = 0.6
_FORMS = [
    '`H100.memory.bandwidth * {k}`{{.napkin unit="TB/s"}}',
    '`ridge_point(H100, "bf16") * {k}`{{.napkin sig-figs="3"}}',
    '`amdahl(p=0.95, speedup={k} + 1)`{{.napkin style="multiplier"}}',
    '`Llama2_7B.params * 2 B/param / H100.memory.bandwidth * {k}`{{.napkin unit="ms"}}',
]


def _chapter(n: int) -> str:
    lines = ["# Generated chapter", ""]
    for i in range(n):
        form = _FORMS[i % len(_FORMS)]
        lines.append(f"Paragraph {i}: the value is {form.format(k=i + 1)}.")
        lines.append("")
    return "\n".join(lines)


def _pandoc() -> str:
    import pypandoc

    path: str = pypandoc.get_pandoc_path()
    return path


def _time(args: list[str], cwd: Path, env: dict[str, str], fresh_cache: bool) -> float:
    if fresh_cache:
        shutil.rmtree(cwd / ".mlsysim-cache", ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"render failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def _canned_engine(cwd: Path, env: dict[str, str], filtered: list[str]) -> Path:
    """An "interpreter" replaying the engine's reply for the chapter: isolates the Lua cost."""
    shutil.rmtree(cwd / ".mlsysim-cache", ignore_errors=True)
    _time(filtered, cwd, env, fresh_cache=False)
    (reply,) = (cwd / ".mlsysim-cache").glob("*.json")
    script = cwd / "canned-engine"
    script.write_text(f"#!/bin/sh\ncat >/dev/null\ncat '{reply}'\n")
    script.chmod(0o755)
    return script


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the added seconds; exit 0 (a benchmark, not a test)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--expressions", type=int, default=200)
    opts = parser.parse_args(argv)
    env = bench_env(MLSYSIM_PYTHON=sys.executable)
    pandoc = _pandoc()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "chapter.md").write_text(_chapter(opts.expressions))
        (cwd / "one.md").write_text(_chapter(1))
        # without highlighting: pandoc would otherwise spend ~1 s trying to highlight the 200
        # unfiltered `expr`{.napkin} spans, flattering the filter, which removes them
        base = [pandoc, "-f", "markdown", "-t", "html5", "--mathjax", "--syntax-highlighting=none"]
        plain = [*base, "chapter.md"]
        filtered = [*base, "-L", str(FILTER), "chapter.md"]
        single = [*base, "-L", str(FILTER), "one.md"]
        _time(filtered, cwd, env, fresh_cache=True)  # warm the OS file cache and .pyc files
        canned_env = {**env, "MLSYSIM_PYTHON": str(_canned_engine(cwd, env, filtered))}
        # round-robin, so load from other processes hits every variant alike
        runs: dict[str, list[float]] = {
            k: [] for k in ("base", "cold", "warm", "lua", "one", "one0")
        }
        for _ in range(opts.runs):
            runs["base"].append(_time(plain, cwd, env, False))
            runs["cold"].append(_time(filtered, cwd, env, True))
            runs["warm"].append(_time(filtered, cwd, env, False))
            runs["lua"].append(_time(filtered, cwd, canned_env, False))
            runs["one0"].append(_time([*base, "one.md"], cwd, env, False))
            runs["one"].append(_time(single, cwd, env, True))
        med = {k: statistics.median(v) for k, v in runs.items()}
        baseline, cold, warm, lua, one, one_base = (
            med[k] for k in ("base", "cold", "warm", "lua", "one", "one0")
        )
    n = opts.expressions
    print(f"chapter: {n} napkin expressions, median of {opts.runs} runs, pandoc {pandoc}")
    print(f"pandoc without filter:          {baseline:.3f} s")
    print(f"pandoc + mlsysim (cold cache):  {cold:.3f} s   added {cold - baseline:.3f} s")
    print(f"pandoc + mlsysim (warm cache):  {warm:.3f} s   added {warm - baseline:.3f} s")
    print(f"filter Lua alone (canned reply):  {lua:.3f} s   added {lua - baseline:.3f} s")
    per_call = one - one_base
    print(
        f"one process per expression (estimate {n} x {per_call:.3f} s): added {n * per_call:.1f} s"
    )
    verdict = "meets" if cold - baseline <= TARGET_S else "MISSES"
    print(f"target: filter adds <= {TARGET_S} s -> {verdict} (cold cache)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
