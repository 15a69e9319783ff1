"""Calls per second of two hot formulas, Quantity path and float fast path, next to a
plain-Python arithmetic baseline measured in the same run.

Target: ≥ 20,000 Quantity-path calls/s (the project we replace: ~5,000/s).

    .venv/bin/python benchmarks/bench_formulas.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

import mlsysim
from mlsysim import Q_
from mlsysim.core.formulas import kv_cache_B, kv_cache_bytes, ring_allreduce, ring_allreduce_s

REPEAT = 5
TARGET = 20_000


def rate(fn: Callable[[], object], seconds: float = 0.3) -> float:
    """Best-of-REPEAT calls per second of ``fn`` (each trial runs ~``seconds``)."""
    n = 1
    while True:  # calibrate a batch size that runs long enough to time
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt > seconds / 10:
            break
        n *= 4
    batch = max(1, int(n * seconds / dt))
    best = 0.0
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        best = max(best, batch / (time.perf_counter() - t0))
    return best


def _baseline_ring(m: float, n: float, b: float, a: float) -> float:
    return 2 * (n - 1) / n * m / b + 2 * (n - 1) * a


def _baseline_kv(layers: int, kv_heads: int, head: int, s: float, b: float, beta: float) -> float:
    return 2 * layers * kv_heads * head * s * b * beta


def main() -> None:
    size, bw, alpha = Q_("1 GB"), Q_("450 GB/s"), Q_("5 us")
    model = mlsysim.Models.Llama2_7B
    cases = {
        "ring_allreduce   baseline (plain Python)": lambda: _baseline_ring(1e9, 8, 450e9, 5e-6),
        "ring_allreduce   float fast path": lambda: ring_allreduce_s(1e9, 8, 450e9, 5e-6),
        "ring_allreduce   Quantity path": lambda: ring_allreduce(
            size=size, n=8, bandwidth=bw, latency=alpha
        ),
        "kv_cache_bytes   baseline (plain Python)": lambda: _baseline_kv(32, 32, 128, 4096, 8, 2.0),
        "kv_cache_bytes   float fast path": lambda: kv_cache_B(32, 8192, 4096, 8, 2.0),
        "kv_cache_bytes   Quantity path": lambda: kv_cache_bytes(
            model=model, context=4096, batch=8, precision="fp16"
        ),
    }
    results = {name: rate(fn) for name, fn in cases.items()}
    print(f"{'case':42} {'calls/s':>14} {'slowdown':>11}")
    for name, r in results.items():
        base = results[name.split()[0] + "   baseline (plain Python)"]
        print(f"{name:42} {r:14,.0f} {base / r:10.1f}×")
    for formula in ("ring_allreduce", "kv_cache_bytes"):
        r = results[f"{formula}   Quantity path"]
        verdict = "meets" if r >= TARGET else "MISSES"
        print(
            f"{formula}: Quantity path {r:,.0f} calls/s {verdict} the {TARGET:,}/s target "
            f"({r / 5000:.1f}× the replaced project's ~5,000/s)"
        )


if __name__ == "__main__":
    main()
