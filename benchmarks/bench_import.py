"""Cold import cost of mlsysim next to an empty interpreter and pint, measured in the same run.

Each snippet runs in a fresh interpreter ``REPEAT`` times (after one warm-up run that writes
the bytecode cache, as an installed package has it: ``_env.bench_env``); we print the median
wall time, the ratios against an empty interpreter and against ``import pint`` measured in the
same run, and the peak resident memory of each process. Targets: ``import mlsysim`` ≤ 40 ms
(process wall time, interpreter start included); mlsysim with its unit registry adds ≤ 0.25 s
over pint (the project we replace takes ~5 s); ``import mlsysim`` < 80 MB resident.

    .venv/bin/python benchmarks/bench_import.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from _env import bench_env

REPEAT = 7

SNIPPETS = {
    "python (empty)": "pass",
    "import pint": "import pint",
    "import mlsysim": "import mlsysim",
    "import mlsysim + units (pint)": "import mlsysim; mlsysim.Q_",
    "mlsysim + first registry access": "import mlsysim; mlsysim.Hardware.H100",
}

_RSS = (
    "; import resource, sys;"
    " sys.stdout.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"
)


def measure(code: str) -> tuple[float, float]:
    """Median wall seconds and peak RSS (MB) of ``python -c code`` over REPEAT fresh runs."""
    env = bench_env()
    cmd = [sys.executable, "-c", code + _RSS]
    subprocess.run(cmd, check=True, capture_output=True, env=env)  # warm the bytecode cache
    times, rss = [], []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        times.append(time.perf_counter() - t0)
        rss.append(int(out.strip().splitlines()[-1]) / 1024)
    return statistics.median(times), statistics.median(rss)


def main() -> None:
    results = {name: measure(code) for name, code in SNIPPETS.items()}
    pint_t = results["import pint"][0]
    empty_t = results["python (empty)"][0]
    print(f"{'snippet':34} {'median':>9} {'vs empty':>9} {'vs pint':>9} {'peak RSS':>9}")
    for name, (t, mb) in results.items():
        print(
            f"{name:34} {t * 1e3:7.1f} ms {t / empty_t:8.2f}× {(t - pint_t) * 1e3:+7.0f} ms "
            f"{mb:6.1f} MB"
        )
    bare = results["import mlsysim"][0]
    print(
        f"\nimport mlsysim: {bare * 1e3:.1f} ms = {bare / empty_t:.2f}× an empty interpreter "
        f"(+{(bare - empty_t) * 1e3:.1f} ms) in this run (target ≤ 40 ms: "
        f"{'met' if bare <= 0.040 else 'NOT met'})"
    )
    added = results["import mlsysim + units (pint)"][0] - pint_t
    print(
        f"\nmlsysim with its unit registry adds {added:.3f} s over pint (target ≤ 0.25 s; "
        "the replaced project: ~5 s); a bare `import mlsysim` loads no pint at all"
    )
    print(f"import mlsysim peak RSS {results['import mlsysim'][1]:.1f} MB (target < 80 MB)")


if __name__ == "__main__":
    main()
