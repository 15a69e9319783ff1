"""Benchmark: ``mlsysim.sweep`` against a loop of ``solve()`` calls measured in the same run.

* single device — Llama-2-7B decode on an A100 over batch 1…1000 × seq_len 1…1000 (1M
  points): target ≤ 1 s (issue 16). Baseline: a warm ``solve()`` loop over a sample of the
  same points, scaled to the grid (a full loop would take about a minute);
* many structures — 8 models × 6 devices × 4 precisions × 64 batches × 16 sequence lengths,
  the per-structure overhead (routing, plan resolution) included;
* cluster configurations — Llama-2-70B training on 8 DGX A100s over tp × pp × zero ×
  recompute × micro-batch × batch (576): target ≥ 100k configurations/s, in CPU time (best
  of rounds), against the same configurations solved one by one and a single-device solve
  measured in the same rounds, and as a same-run ratio: bench_solver's plain float baseline,
  timed in the same rounds, scales the target set on the reference machine (where that
  baseline took 96 µs) to this one; and a larger grid, GPT-530B on 2,520 A100s over tp × pp ×
  zero × recompute × micro-batch × sp × batch (2,688). Every round is a *fresh* sweep:
  :func:`mlsysim.core.cache.clear_all` empties every derived cache first (plans, shards,
  static shares, lowering frames, collective groups — and so every collective's price, which
  is cached per group object), so nothing a round computes was kept from another; the
  sweep's own sharing lives only inside one call. The warm figure (caches kept between
  rounds, as a notebook re-running a sweep sees) is printed beside it;
* memory — the peak traced allocation of ``sweep_chunks`` over the 1M grid (nothing kept)
  against ``sweep`` keeping two columns and keeping all of them.

Timings are the best of ``--repeat`` runs.

    .venv/bin/python benchmarks/bench_sweep.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib
import time
import timeit
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from bench_solver import REFERENCE_FLOAT_US, plain_float_decode
from sweep_columns import LARGE, SMALL  # the two cluster grids, stated once

import mlsysim

SINGLE_TARGET_S = 1.0
ISSUE_LOOP_S = 24.0  # the issue: "a loop of solve() calls covers 1M points in 24 s"
CLUSTER_TARGET_PER_S = 100_000


def _best(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def _loop_per_point(points: list[dict[str, Any]], fixed: dict[str, Any]) -> float:
    t0 = time.perf_counter()
    for p in points:
        mlsysim.solve(**fixed, **p)
    return (time.perf_counter() - t0) / len(points)


def _points(grid: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The grid's fixed keywords and its configurations, one keyword dict each."""
    axes = {k: v for k, v in grid.items() if isinstance(v, list)}
    points: list[dict[str, Any]] = [{}]
    for name, values in axes.items():
        points = [{**p, name: v} for p in points for v in values]
    return {k: v for k, v in grid.items() if k not in axes}, points


def _cluster_grid(
    title: str,
    grid: dict[str, Any],
    sample: list[dict[str, Any]],
    fixed: dict[str, Any],
    rounds: int,
    base_solve: float | None = None,
) -> float:
    """Fresh and warm sweeps of ``grid`` against a ``solve()`` loop over the same
    configurations, a single-device solve and ``bench_solver``'s plain float baseline, in the
    same rounds (CPU time: waiting for a core on a shared machine is not counted). Returns
    the single-device solve's time."""
    from mlsysim.core.cache import clear_all

    fixed_c, points = _points(grid)
    configs = len(points)
    t_fresh = t_warm = single = float_base = float("inf")
    spec_model, spec_hw = mlsysim.Models.Llama2_7B, mlsysim.Hardware.A100
    mlsysim.sweep(**grid)
    for _ in range(rounds):  # interleaved: the machine's load moves every figure alike
        clear_all()  # a fresh sweep: no derived cache survives from the last round
        t0 = time.process_time()
        mlsysim.sweep(**grid)
        t_fresh = min(t_fresh, time.process_time() - t0)
        t0 = time.process_time()
        mlsysim.sweep(**grid)  # the same grid again, caches kept
        t_warm = min(t_warm, time.process_time() - t0)
        t0 = time.process_time()
        for p in sample[:500]:
            mlsysim.solve(**fixed, **p)
        single = min(single, (time.process_time() - t0) / 500)
        t0 = time.process_time()
        for _ in range(200):
            plain_float_decode(spec_model, spec_hw)
        float_base = min(float_base, (time.process_time() - t0) / 200)
    if base_solve is not None:
        single = min(single, base_solve)
    loop = points if configs <= 1000 else points[:: configs // 1000]
    per_solve = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for p in loop:
            mlsysim.solve(**fixed_c, **p)
        per_solve = min(per_solve, (time.process_time() - t0) / len(loop))
    rate, per = configs / t_fresh, t_fresh / configs
    # what one fresh sweep computes (the counts of the call's own sharing)
    ds = importlib.import_module("mlsysim.solvers.sweeps.distributed")
    clear_all()
    ds.blocked[0] = 0
    mlsysim.sweep(**grid)
    work = f"{ds.lowerings[0]} lowerings, {ds.priced[0]} collective sets priced"
    work += f", {ds.blocked[0]} of {configs // len(grid['batch'])} structures as one block"
    print(f"\n{configs:,} cluster configurations ({title})")
    print(f"  sweep, fresh     {t_fresh:8.3f} s   ({rate:,.0f} configurations/s; {work})")
    print(f"  sweep, warm      {t_warm:8.3f} s   ({configs / t_warm:,.0f} configurations/s)")
    print(
        f"  solve() loop     {per_solve * configs:8.3f} s   "
        f"({per_solve * 1e6:.0f} µs per distributed solve"
        + (f", {len(loop)} sampled)" if len(loop) < configs else ")")
    )
    print(f"  ratio            {per_solve / per:8.1f}× faster than the loop (fresh)")
    print(f"  baseline         {single * 1e6:8.1f} µs per single-device solve (same rounds)")

    def margin(target: float) -> str:
        if rate >= target:
            return f"met, {rate / target:.2f}× over"
        return f"NOT met, {target / rate:.2f}× short"

    # the issue's 100k/s was set on the reference machine: scaled to this one by the float
    # baseline of bench_solver, timed in the same rounds (96 µs there)
    slower = float_base * 1e6 / REFERENCE_FLOAT_US
    print(
        f"  target ≥ {CLUSTER_TARGET_PER_S:,}/s (CPU time, fresh, best of {rounds} rounds): "
        f"{margin(CLUSTER_TARGET_PER_S)} on this machine as it is; "
        f"{per * 1e6:.1f} µs per configuration = {per / single:.2f} single-device solves"
    )
    print(
        f"  same-run ratio   float baseline {float_base * 1e6:.1f} µs = {slower:.2f}× the "
        f"reference machine's {REFERENCE_FLOAT_US:.0f} µs, so the target here is "
        f"{CLUSTER_TARGET_PER_S / slower:,.0f}/s: {margin(CLUSTER_TARGET_PER_S / slower)}"
    )
    return single


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rep = args.repeat
    rng = np.random.default_rng(16)

    # -- 1M single-device points ---------------------------------------------------------
    fixed = {"model": "Llama2_7B", "system": "A100", "phase": "decode"}
    batch, seq = np.arange(1, 1001), np.arange(1, 1001)
    n = batch.size * seq.size
    t_sweep = _best(lambda: mlsysim.sweep(**fixed, batch=batch, seq_len=seq), rep)
    t_two = _best(
        lambda: mlsysim.sweep(**fixed, batch=batch, seq_len=seq, columns=["latency_s"]), rep
    )
    sample = [
        {"batch": int(b), "seq_len": int(s)}
        for b, s in zip(rng.integers(1, 1001, 4000), rng.integers(1, 1001, 4000), strict=True)
    ]
    per_solve = _loop_per_point(sample, fixed)
    t_loop = per_solve * n
    print("1M single-device points (Llama-2-7B decode, A100), every column")
    print(f"  sweep            {t_sweep:8.3f} s   ({n / t_sweep / 1e6:.2f} M points/s)")
    print(f"  sweep, 1 column  {t_two:8.3f} s")
    print(f"  solve() loop     {t_loop:8.1f} s   ({per_solve * 1e6:.1f} µs per solve, sampled)")
    print(f"  ratio            {t_loop / t_sweep:8.0f}× faster than the loop")
    # the issue states the target against its loop: 1M solves in 24 s, so ≤ 1 s is ≥ 24×
    need = ISSUE_LOOP_S / SINGLE_TARGET_S
    verdict = "met" if t_loop / t_sweep >= need else "NOT met"
    print(
        f"  target ≤ {SINGLE_TARGET_S:.0f} s ≙ ≥ {need:.0f}× the solve() loop: {verdict} as a "
        f"same-run ratio; {'met' if t_sweep <= SINGLE_TARGET_S else 'not met'} in wall time on "
        "this (shared) machine"
    )

    # -- many structures -------------------------------------------------------------------
    models = ["Llama2_7B", "Llama3_8B", "Llama2_13B", "Mixtral_8x7B", "BERT_Base",
              "Llama3_2_1B", "DeepSeekV3", "GPT_22B"]  # fmt: skip
    devices = ["A100", "H100", "H200", "MI300X", "L4", "B200"]
    grid = {
        "model": models,
        "system": devices,
        "phase": "prefill",
        "precision": ["fp16", "fp8", "int8", "int4"],
        "batch": np.arange(1, 65),
        "seq_len": np.arange(32, 544, 32),  # BERT-Base's context is 512
    }
    size = len(models) * len(devices) * 4 * 64 * 16
    try:
        t_many = _best(lambda: mlsysim.sweep(**grid), rep)
    except mlsysim.MlsysimError as exc:
        print(f"many structures: {exc}")
    else:
        print(f"\n{size} points over {len(models) * len(devices) * 4} structures")
        print(f"  sweep            {t_many:8.3f} s   ({size / t_many / 1e6:.2f} M points/s)")
        print(f"  solve() loop     {per_solve * size:8.1f} s   (same per-solve cost)")
        print(f"  ratio            {per_solve * size / t_many:8.0f}×")

    # -- cluster configurations ------------------------------------------------------------
    rounds = max(rep, 7)
    base_solve = _cluster_grid("Llama-2-70B training, 64 A100s", SMALL, sample, fixed, rounds)
    _cluster_grid("GPT-530B training, 2,520 A100s", LARGE, sample, fixed, rounds, base_solve)

    # -- memory ----------------------------------------------------------------------------
    def peak(fn: Callable[[], Any]) -> float:
        tracemalloc.start()
        fn()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top / 1e6

    def stream(n_batch: int) -> Callable[[], None]:
        def run() -> None:
            for part in mlsysim.sweep_chunks(**fixed, batch=np.arange(1, n_batch + 1), seq_len=seq):
                part["latency_s"].min()

        return run

    m_quarter = peak(stream(250))
    m_stream = peak(stream(1000))
    m_one = peak(lambda: mlsysim.sweep(**fixed, batch=batch, seq_len=seq, columns=["latency_s"]))
    m_all = peak(lambda: mlsysim.sweep(**fixed, batch=batch, seq_len=seq))
    print("\npeak traced memory over the 1M grid")
    print(f"  sweep_chunks     {m_stream:8.1f} MB   (a 250k grid: {m_quarter:.1f} MB — one chunk)")
    print(f"  sweep, 1 column  {m_one:8.1f} MB   (inputs + latency_s)")
    print(f"  sweep, all       {m_all:8.1f} MB")


if __name__ == "__main__":
    main()
