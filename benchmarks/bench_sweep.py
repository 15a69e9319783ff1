"""Benchmark: ``mlsysim.sweep`` against a loop of ``solve()`` calls measured in the same run.

* single device — Llama-2-7B decode on an A100 over batch 1…1000 × seq_len 1…1000 (1M
  points): target ≤ 1 s (issue 16). Baseline: a warm ``solve()`` loop over a sample of the
  same points, scaled to the grid (a full loop would take about a minute);
* many structures — 8 models × 6 devices × 4 precisions × 64 batches × 16 sequence lengths,
  the per-structure overhead (routing, plan resolution) included;
* cluster configurations — Llama-2-70B training on 8 DGX A100s over tp × pp × zero ×
  recompute × micro-batch × batch: target ≥ 100k configurations/s, in CPU time (best of
  rounds), against the same configurations solved one by one and a single-device solve
  measured in the same rounds;
* memory — the peak traced allocation of ``sweep_chunks`` over the 1M grid (nothing kept)
  against ``sweep`` keeping two columns and keeping all of them.

Timings are the best of ``--repeat`` runs.

    .venv/bin/python benchmarks/bench_sweep.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import timeit
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

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
    cluster = {
        "model": "Llama2_70B",
        "system": "DGX_A100",
        "phase": "training",
        "devices": 64,
        "tp": [1, 2, 4, 8],
        "pp": [1, 2, 4, 8],
        "zero": [0, 1, 3],
        "recompute": ["none", "selective", "full"],
        "microbatch": [1, 2],
        "batch": [256, 512],
        "seq_len": 4096,
    }
    configs = 4 * 4 * 3 * 3 * 2 * 2
    # the sweep and the single-device baseline in interleaved rounds (load moves both alike)
    t_cluster = base_solve = float("inf")
    mlsysim.sweep(**cluster)
    for _ in range(max(rep, 5)):  # CPU time: waiting for a core on a shared machine is not counted
        t0 = time.process_time()
        mlsysim.sweep(**cluster)
        t_cluster = min(t_cluster, time.process_time() - t0)
        t0 = time.process_time()
        for p in sample[:500]:
            mlsysim.solve(**fixed, **p)
        base_solve = min(base_solve, (time.process_time() - t0) / 500)
    per_cluster = t_cluster / configs
    rate = configs / t_cluster
    points = [
        {"tp": tp, "pp": pp, "zero": z, "recompute": rc, "microbatch": mb, "batch": b}
        for tp in cluster["tp"]
        for pp in cluster["pp"]
        for z in cluster["zero"]
        for rc in cluster["recompute"]
        for mb in cluster["microbatch"]
        for b in cluster["batch"]
    ]
    fixed_c = {k: v for k, v in cluster.items() if k not in points[0]}
    per_config_solve = float("inf")
    for _ in range(max(rep, 3)):
        t0 = time.process_time()
        for p in points:
            mlsysim.solve(**fixed_c, **p)
        per_config_solve = min(per_config_solve, (time.process_time() - t0) / len(points))
    print(f"\n{configs} cluster configurations (Llama-2-70B training, 64 A100s)")
    print(f"  sweep            {t_cluster:8.3f} s   ({rate:,.0f} configurations/s)")
    print(
        f"  solve() loop     {per_config_solve * configs:8.3f} s   "
        f"({per_config_solve * 1e6:.0f} µs per distributed solve)"
    )
    print(f"  ratio            {per_config_solve / per_cluster:8.1f}× faster than the loop")
    print(f"  baseline         {base_solve * 1e6:8.1f} µs per single-device solve (same rounds)")
    verdict = "met" if rate >= CLUSTER_TARGET_PER_S else "NOT met"
    print(
        f"  target ≥ {CLUSTER_TARGET_PER_S:,}/s (CPU time, best of rounds): {verdict} — "
        f"{per_cluster * 1e6:.1f} µs per configuration = {per_cluster / base_solve:.2f} "
        f"single-device solves; {CLUSTER_TARGET_PER_S / rate:.1f}× short"
    )

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
