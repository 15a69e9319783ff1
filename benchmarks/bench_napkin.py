"""Napkin engine speed, as ratios to baselines measured in the same run (not a timed test).

1. Evaluations per second after warm-up, of a three-operation expression on literals and of a
   repeated registry expression (target ≥ 15,000/s): the compiled path (compiled expression
   + scope, under the allow-list and budget) and the full ``inline`` path (evaluation +
   rendering), against pint's own ``(a / b).to("ms")`` on two quantities measured in the
   same run (the ratio is what to compare), and plain Python floats.
2. Cold ``mlsysim eval`` process time relative to ``python -c "import pint"`` (target ≤ 1.5×),
   median of several runs each.

Run: ``.venv/bin/python benchmarks/bench_napkin.py``
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from _env import bench_env

EXPR = "80 GB / 3.35 TB/s + 2 ms * 3"  # three operations on quantity literals
EXPR_REGISTRY = "H100.peak_flops('bf16') / H100.memory.bandwidth * 2 + 1 FLOP/B"
RUNS = 7


def _rate(fn: object, seconds: float = 1.0) -> float:
    call = fn
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            call()  # type: ignore[operator]
        n += 100
    return n / (time.perf_counter() - start)


def _float_baseline(a: float = 80e9, b: float = 3.35e12, c: float = 2e-3) -> float:
    return a / b + c * 3


def _pint_baseline() -> float:
    """pint's own quantity arithmetic and conversion: ``(a / b).to("ms")``, per second."""
    from mlsysim.core.units import ureg

    a, b = ureg.Quantity(80, "GB"), ureg.Quantity(3.35, "TB/s")

    def pint_op() -> None:
        (a / b).to("ms")

    return _rate(pint_op)


def bench_evaluations() -> None:
    from mlsysim.book import Document
    from mlsysim.book.lang import Trace, compile_expression
    from mlsysim.book.scope import Scope

    scope = Scope()
    pint_rate = _pint_baseline()
    print(f"pint (a / b).to('ms'):               {pint_rate:12,.0f} /s  (same-run baseline)")
    for expr in (EXPR, EXPR_REGISTRY):
        compiled = compile_expression(expr)
        compiled.run(scope.lookup, Trace())  # warm-up: parse, compile, load data

        def evaluate(c: object = compiled) -> None:
            c.run(scope.lookup, Trace())  # type: ignore[attr-defined]

        doc = Document("bench.md")
        doc.inline(expr, 1)

        def inline(d: Document = doc, e: str = expr) -> None:
            d.inline(e, 1)

        base = _rate(_float_baseline)
        ev = _rate(evaluate)
        full = _rate(inline)
        print(f"{expr!r}")
        print(
            f"  evaluate (compiled, cached AST): {ev:12,.0f} /s  (target >= 15,000 /s; "
            f"{ev / pint_rate:.2f}x pint)"
        )
        print(
            f"  inline (evaluate + render):      {full:12,.0f} /s  ({full / pint_rate:.2f}x pint)"
        )
        print(
            f"  baseline python float arithmetic:{base:12,.0f} /s  "
            f"(evaluate is {base / ev:,.0f}x slower)"
        )


def _cold(argv: list[str]) -> float:
    env = bench_env()
    subprocess.run(argv, check=True, capture_output=True, env=env)  # writes the .pyc files
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_cold_start() -> None:
    py = sys.executable
    pint_t = _cold([py, "-c", "import pint"])
    unit_t = _cold([py, "-m", "mlsysim", "eval", "80 GB / 3.35 TB/s -> ms"])
    reg_t = _cold([py, "-m", "mlsysim", "eval", "H100.memory.bandwidth"])
    print(f"cold `python -c 'import pint'`:            {pint_t * 1000:7.0f} ms")
    print(
        f"cold `mlsysim eval '80 GB / 3.35 TB/s -> ms'`: {unit_t * 1000:7.0f} ms  "
        f"({unit_t / pint_t:.2f}x pint; target <= 1.5x)"
    )
    print(
        f"cold `mlsysim eval 'H100.memory.bandwidth'`:   {reg_t * 1000:7.0f} ms  "
        f"({reg_t / pint_t:.2f}x pint; loads the data files)"
    )


if __name__ == "__main__":
    if "--cold" not in sys.argv[1:]:
        bench_evaluations()
    if "--eval" not in sys.argv[1:]:
        bench_cold_start()
