"""Benchmark: one single-device LLM decode solve after warm-up, against baselines in the same run.

* ``mlsysim.solve`` — Llama-2-7B decode on an A100 (specs passed as objects and as ids, and
  with a new batch on every call, so that no solve can be answered from a previous one);
  target ≤ 30 µs per warm solve with spec objects (issue 10; 24 µs before the one-physics
  refactor), judged as the same-run ratio to the float baseline (:data:`TARGET_RATIO`).
* plain-Python baselines — the same per-layer roofline written the obvious way: a loop over
  every layer and operation doing the arithmetic on pint Quantities read from the registry
  specs (no float fast path, no caching), as a pint-based calculator would; and the same loop
  on floats (ideal bound only, no memory breakdown, efficiencies or result object).
* the project we replace takes 1.2–2.6 ms per solve (stated in the issue; not runnable here),
  so its ratio is printed against both ends of that range.

Timings are the best of ``--repeat`` rounds of ``--number`` calls, in this process's CPU time
(least disturbed by other processes on the machine).

    .venv/bin/python benchmarks/bench_solver.py [--number 2000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import itertools
import time
import timeit
from typing import Any

import mlsysim
from mlsysim import Q_, solve

REPLACED_MS = (1.2, 2.6)
#: The issue's ≤ 30 µs per warm solve as a ratio to the float baseline of the same run: that
#: baseline took 95–97 µs on the reference machine when the target was set, so 30 µs ≙ 0.31.
TARGET_RATIO = 0.31
#: The float baseline's time on that reference machine (µs): other benchmarks scale the issues'
#: absolute targets to the machine they run on by the float baseline measured in their run.
REFERENCE_FLOAT_US = 96.0


def plain_python_decode(model: Any, hw: Any, seq_len: int = 512, batch: int = 1) -> Any:
    """Per-layer decode roofline on Quantities, op by op (the naive baseline)."""
    a = model.transformer
    h, nh, nkv, d, f = a.hidden, a.heads, a.kv_heads, a.head_size, a.ffn
    bpe = Q_(2, "B")
    peak = hw.peak_flops("fp16")
    bw = hw.memory.bandwidth
    total = Q_(0.0, "s")
    for _layer in range(a.layers):
        shapes = [(h, (nh + 2 * nkv) * d), (nh * d, h), (h, 2 * f), (f, h)]
        for k, n in shapes:
            flops = Q_(2.0 * batch * k * n, "FLOP")
            nbytes = (k * n + batch * (k + n)) * bpe
            total += max((flops / peak).to("s"), (nbytes / bw).to("s"))
        kv = 2 * batch * (seq_len + 1) * nkv * d * bpe
        attn = Q_(4.0 * batch * nh * d * (seq_len + 1), "FLOP")
        total += max((attn / peak).to("s"), (kv / bw).to("s"))
    head = Q_(2.0 * batch * h * a.vocab, "FLOP")
    total += max((head / peak).to("s"), (h * a.vocab * bpe / bw).to("s"))
    return total.to("ms")


def plain_float_decode(model: Any, hw: Any, seq_len: int = 512, batch: int = 1) -> float:
    """The same per-layer loop on floats, converting the spec fields on every call (ms)."""
    a = model.transformer
    h, nh, nkv, d, f = a.hidden, a.heads, a.kv_heads, a.head_size, a.ffn
    peak = hw.peak_flops("fp16").to("FLOP/s").magnitude
    bw = hw.memory.bandwidth.to("B/s").magnitude
    total = 0.0
    for _layer in range(a.layers):
        for k, n in ((h, (nh + 2 * nkv) * d), (nh * d, h), (h, 2 * f), (f, h)):
            total += max(2.0 * batch * k * n / peak, 2.0 * (k * n + batch * (k + n)) / bw)
        kv = 2.0 * 2 * batch * (seq_len + 1) * nkv * d
        total += max(4.0 * batch * nh * d * (seq_len + 1) / peak, kv / bw)
    total += max(2.0 * batch * h * a.vocab / peak, 2.0 * h * a.vocab / bw)
    return total * 1e3


def _best_us(fn: Any, number: int, repeat: int) -> float:
    """Best per-call time of ``fn`` in µs, counting this process's CPU time only (another
    process sharing the core does not inflate it)."""
    for _ in range(50):
        fn()
    timer = timeit.Timer(fn, timer=time.process_time)
    return min(timer.repeat(number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    model, hw = mlsysim.Models.Llama2_7B, mlsysim.Hardware.A100

    r = solve(model, hw, phase="decode")
    naive = plain_python_decode(model, hw)
    print(
        f"check: mlsysim bound {r.latency_bound.to('ms'):.4g~P}, "
        f"plain-Python bound {naive:.4g~P}, achievable {r.latency.to('ms'):.4g~P}"
    )

    ours = _best_us(lambda: solve(model, hw, phase="decode"), args.number, args.repeat)
    batches = itertools.cycle(range(1, 257))  # a new batch on every call: no result reused
    ours_batch = _best_us(
        lambda: solve(model, hw, phase="decode", batch=next(batches)), args.number, args.repeat
    )
    ours_ids = _best_us(
        lambda: solve("Llama2_7B", "A100", phase="decode"), args.number, args.repeat
    )
    ours_latency = _best_us(
        lambda: solve(model, hw, phase="decode").latency, args.number, args.repeat
    )
    base = _best_us(lambda: plain_python_decode(model, hw), max(1, args.number // 40), args.repeat)
    base_f = _best_us(lambda: plain_float_decode(model, hw), args.number, args.repeat)
    ratio, ratio_batch, ratio_ids = ours / base_f, ours_batch / base_f, ours_ids / base_f

    def verdict(r: float) -> str:
        return "met" if r <= TARGET_RATIO else "NOT met"

    print(
        f"mlsysim.solve (spec objects)        {ours:8.1f} µs per solve = {ratio:.3f}× the "
        f"float baseline (target ≤ {TARGET_RATIO}: {verdict(ratio)})"
    )
    print(
        f"mlsysim.solve (batch 1…256 cycled)  {ours_batch:8.1f} µs per solve = "
        f"{ratio_batch:.3f}× (target ≤ {TARGET_RATIO}: {verdict(ratio_batch)})"
    )
    print(f"mlsysim.solve (registry ids)        {ours_ids:8.1f} µs per solve = {ratio_ids:.3f}×")
    print(f"mlsysim.solve + .latency Quantity   {ours_latency:8.1f} µs per solve")
    print(
        f"plain-Python baseline (pint)        {base:8.1f} µs per solve "
        f"→ mlsysim is {base / ours:.1f}× faster"
    )
    print(
        f"plain-Python baseline (floats)      {base_f:8.1f} µs per solve "
        f"→ mlsysim takes {ratio:.2f}× its time (and returns the full breakdown)"
    )
    print(
        f"same-run ratios: solve / float baseline {ratio:.3f}, with a new batch each call "
        f"{ratio_batch:.3f}, ids {ratio_ids:.3f} (target {TARGET_RATIO} ≙ 30 µs; here "
        f"{TARGET_RATIO * base_f:.1f} µs); ids / specs {ours_ids / ours:.2f}; "
        f"+ .latency Quantity / specs {ours_latency / ours:.2f}"
    )
    lo, hi = REPLACED_MS
    print(
        f"replaced project {lo}–{hi} ms per solve → mlsysim is "
        f"{lo * 1e3 / ours:.0f}–{hi * 1e3 / ours:.0f}× faster"
    )


if __name__ == "__main__":
    main()
