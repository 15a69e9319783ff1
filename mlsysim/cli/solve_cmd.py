"""``mlsysim solve MODEL HARDWARE --phase …``: one workload on one device.

Exit codes: 0 the workload fits (a latency is given), 3 it does not fit (memory capacity
binds; the report says by how much), 2 usage problems (unknown model/hardware/precision,
bad numbers). ``--json`` prints the result in the versioned schema of ``mlsysim schema``.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["EXIT_FEASIBLE", "EXIT_INFEASIBLE", "EXIT_USAGE", "add_arguments", "run"]

EXIT_FEASIBLE = 0
EXIT_USAGE = 2
EXIT_INFEASIBLE = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mlsysim.core.constants import OPTIMIZERS, RECOMPUTE_POLICIES

    parser.add_argument("model", help="model registry id or alias, e.g. Llama2_7B")
    parser.add_argument("hardware", help="hardware registry id or alias, e.g. A100")
    parser.add_argument(
        "--phase", required=True, choices=["prefill", "decode", "training", "inference"]
    )
    parser.add_argument("--batch", type=int, default=1, help="sequences or samples per step")
    parser.add_argument(
        "--seq-len",
        type=int,
        default=None,
        help="prompt length (prefill), cached context (decode) or training "
        "sequence length; default 512 capped at the model's maximum",
    )
    parser.add_argument(
        "--precision",
        default=None,
        help="weight format: bf16 (default; fp16 where the device has no bf16), fp8, int8, int4, …",
    )
    parser.add_argument("--kv-cache", default=None, help="KV-cache format (default: activations)")
    parser.add_argument("--sparsity", choices=["dense", "2:4"], default=None)
    parser.add_argument("--recompute", choices=list(RECOMPUTE_POLICIES), default=None)
    parser.add_argument(
        "--optimizer",
        choices=list(OPTIMIZERS),
        default=None,
        help="optimizer state kept in training (default adam)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="treat an infeasible workload as an error (exit 3 with the reason)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the sourced derivation after the summary"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from mlsysim.core.exceptions import InfeasibleError, MlsysimError
    from mlsysim.solvers.single_node import solve

    options = {
        k: v
        for k, v in (
            ("kv_cache", args.kv_cache),
            ("sparsity", args.sparsity),
            ("recompute", args.recompute),
            ("optimizer", args.optimizer),
        )
        if v is not None
    }
    try:
        result = solve(
            args.model,
            args.hardware,
            phase=args.phase,
            batch=args.batch,
            seq_len=args.seq_len,
            precision=args.precision,
            strict=args.strict,
            **options,
        )
    except InfeasibleError as exc:
        print(f"mlsysim solve: infeasible: {exc}", file=sys.stderr)
        return EXIT_INFEASIBLE
    except MlsysimError as exc:
        print(f"mlsysim solve: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(_summary(result))
        if args.explain:
            from mlsysim.solvers.explainers import trace_text

            print()
            print(trace_text(result))
    return EXIT_FEASIBLE if result.feasible else EXIT_INFEASIBLE


def _summary(r: object) -> str:
    from mlsysim.solvers.results import SolveResult

    assert isinstance(r, SolveResult)
    m = r.memory
    head = f"{r.model} on {r.hardware}: {r.phase}, batch {r.batch}"
    if r.seq_len is not None:
        head += f", seq_len {r.seq_len}"
    head += f", {r.weights_precision} weights ({r.precision} math)"
    lines = [head]
    if r.feasible:
        lines += [
            f"  latency         {r.latency_s * 1e3:.4g} ms "
            f"(ideal bound {r.latency_bound_s * 1e3:.4g} ms)",
            f"  throughput      {r.units_per_step / r.latency_s:.4g} {r.unit}/s "
            f"(bound {r.units_per_step / r.latency_bound_s:.4g} {r.unit}/s)",
            f"  MFU / HFU       {r.mfu * 100:.3g} % / {r.hfu * 100:.3g} % "
            "(model FLOPs; with recomputation)",
        ]
        if r.power_w is not None:
            lines.append(
                f"  energy          {r.power_w * r.latency_s:.4g} J per step at {r.power_w:.4g} W"
            )
    lines += [
        f"  work            {r.flops_total:.4g} FLOP, {r.bytes_total * 1e-9:.4g} GB moved, "
        f"{r.intensity_fpb:.3g} FLOP/B (ridge {r.ridge_fpb:.3g} FLOP/B)",
        f"  memory          {m.total_bytes * 1e-9:.4g} GB of {m.capacity_bytes * 1e-9:.4g} GB "
        f"(weights {m.weights_bytes * 1e-9:.4g} GB, KV {m.kv_cache_bytes * 1e-9:.4g} GB, "
        f"activations {m.activations_bytes * 1e-9:.4g} GB, gradients "
        f"{m.gradients_bytes * 1e-9:.4g} GB, optimizer {m.optimizer_bytes * 1e-9:.4g} GB)",
        f"  feasible        {'yes' if r.feasible else 'no'}",
        f"  binding wall    {r.binding_wall}",
        f"  why             {r.explanation}",
    ]
    lines += [f"  note            {n}" for n in r.notes]
    return "\n".join(lines)
