"""Benchmark: generate and serve after warm-up, against one decode solve in the same run.

A generation is a handful of solves (one prefill, ``segments`` decodes, memory probes) and a
served model a few dozen (the saturated iteration, the Little's-law bisection, the waits), so
both are reported as multiples of one warm ``mlsysim.solve`` decode measured in the same run,
and as milliseconds. A napkin evaluation may call them freely: each is a few milliseconds.
The loads vary per call (batch, rate) so the per-replica solve memo does not turn the loop
into cache hits; the solver's own plan caches stay warm, as in a book build.

    .venv/bin/python benchmarks/bench_serving.py [--number 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import itertools
import timeit

import mlsysim


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--number", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n = args.number
    batches = itertools.cycle(range(1, 64))
    rates = itertools.cycle([f"{r} req/s" for r in range(1, 30)])

    def solve() -> None:
        mlsysim.solve("Llama2_7B", "A100", phase="decode", batch=next(batches), seq_len=640)

    def generate() -> None:
        mlsysim.generate("Llama2_7B", "A100", prompt=512, output=256, batch=next(batches))

    def generate_tp() -> None:
        mlsysim.generate(
            "Llama2_70B", "DGX_H100", prompt=512, output=256, batch=next(batches), tp=4
        )

    def serve() -> None:
        mlsysim.serve("Llama3_8B", "H100", prompt=512, output=256, rate=next(rates))

    for fn in (solve, generate, generate_tp, serve):
        fn()  # warm: registry, units, plan caches
    best = {
        fn.__name__: min(timeit.repeat(fn, number=n, repeat=args.repeat)) / n
        for fn in (solve, generate, generate_tp, serve)
    }
    base = best["solve"]
    print(f"one decode solve (Llama-2-7B, A100): {base * 1e6:.1f} µs")
    for name, label in (
        ("generate", "generate, Llama-2-7B on A100, 512→256"),
        ("generate_tp", "generate, Llama-2-70B on DGX H100, tp=4"),
        ("serve", "serve at a rate, Llama-3-8B on H100"),
    ):
        t = best[name]
        print(f"{label:<44} {t * 1e3:7.2f} ms = {t / base:6.0f} × one solve")


if __name__ == "__main__":
    main()
