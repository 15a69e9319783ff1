"""``mlsysim solve MODEL SYSTEM --phase …``: one workload on one device, a node or a cluster.

``SYSTEM`` is a device (``A100``), a node (``DGX_A100``) or a cluster (``SuperPOD_A100``);
``--devices``, ``--tp``, ``--pp``, ``--dp``, ``--cp``, ``--ep``, ``--sp``, ``--zero``,
``--microbatch``, ``--schedule``, ``--chunks`` and ``--overlap`` are ``mlsysim.solve``'s
keywords (a node or cluster, or any of them, selects the distributed solver).

Exit codes: 0 the workload fits (a latency is given), 3 it does not fit (memory capacity
binds; the report says by how much), 2 usage problems (unknown model/system/precision,
bad numbers, a parallel configuration that does not divide). ``--json`` prints the result in
the versioned schema of ``mlsysim schema`` (``--kind distributed`` for several devices).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_INFEASIBLE, EXIT_OK, EXIT_USAGE
from mlsysim.core.words import words

__all__ = ["EXIT_FEASIBLE", "EXIT_INFEASIBLE", "EXIT_USAGE", "add_arguments", "run"]

EXIT_FEASIBLE = EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mlsysim.core.constants import OPTIMIZERS, RECOMPUTE_POLICIES
    from mlsysim.execution.plan import ATTENTION_KERNELS

    parser.add_argument("model", help="model registry id or alias, e.g. Llama2_7B")
    parser.add_argument(
        "hardware", metavar="SYSTEM", help="device, node or cluster id, e.g. A100, DGX_A100"
    )
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
    parser.add_argument("--attention", choices=list(ATTENTION_KERNELS), default=None)
    parser.add_argument(
        "--dropout", action="store_true", help="dropout on the attention probabilities"
    )
    par = parser.add_argument_group("parallelism (mlsysim.solve keywords)")
    par.add_argument("--devices", type=int, default=None, help="accelerators (default: all)")
    for name, help_ in (
        ("tp", "tensor-parallel degree"),
        ("pp", "pipeline stages"),
        ("cp", "context-parallel degree"),
        ("ep", "expert-parallel degree"),
        ("microbatch", "micro-batch size in sequences"),
        ("chunks", "model chunks per device (interleaved schedule)"),
    ):
        par.add_argument(f"--{name}", type=int, default=None, help=help_)
    par.add_argument("--dp", type=int, default=None, help="data-parallel degree")
    par.add_argument("--sp", action="store_true", help="sequence parallelism (with --tp)")
    par.add_argument("--zero", type=int, choices=[0, 1, 2, 3], default=None, help="ZeRO stage")
    par.add_argument("--schedule", choices=["gpipe", "1f1b", "interleaved"], default=None)
    par.add_argument(
        "--overlap",
        default=None,
        help="true (default), false, or the fraction of tensor-parallel communication hidden",
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


def _overlap(text: str | None) -> object:
    if text is None:
        return None
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    try:
        return float(low)
    except ValueError:
        return text  # the solver says what is allowed


def run(args: argparse.Namespace) -> int:
    from mlsysim.core.exceptions import InfeasibleError, MlsysimError
    from mlsysim.solvers.api import solve

    options: dict[str, Any] = {
        k: v
        for k, v in (
            ("kv_cache", args.kv_cache),
            ("sparsity", args.sparsity),
            ("recompute", args.recompute),
            ("optimizer", args.optimizer),
            ("attention", args.attention),
            ("dropout", True if args.dropout else None),
            ("devices", args.devices),
            ("tp", args.tp),
            ("pp", args.pp),
            ("dp", args.dp),
            ("cp", args.cp),
            ("ep", args.ep),
            ("sp", True if args.sp else None),
            ("zero", args.zero),
            ("microbatch", args.microbatch),
            ("schedule", args.schedule),
            ("chunks", args.chunks),
            ("overlap", _overlap(args.overlap)),
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
        return report_error(args, "solve", exc, EXIT_INFEASIBLE, label="infeasible")
    except MlsysimError as exc:
        return report_error(args, "solve", exc, EXIT_USAGE)
    from mlsysim.solvers.distributed.results import DistributedResult

    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif isinstance(result, DistributedResult):
        print(_distributed_summary(result))
        if args.explain:
            print()
            print(result.explain())
    else:
        print(_summary(result))
        if args.explain:
            from mlsysim.solvers.single_node.explain import trace_text

            print()
            print(trace_text(result))
    return EXIT_FEASIBLE if result.feasible else EXIT_INFEASIBLE


def _summary(r: object) -> str:
    from mlsysim.solvers.single_node.results import SolveResult

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
            f"  throughput      {r.units_per_step / r.latency_s:.4g} {r.unit}s/s "
            f"(bound {r.units_per_step / r.latency_bound_s:.4g} {r.unit}s/s)",
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
        f"  binding wall    {words(r.binding_wall)} [{r.binding_wall}]",
        f"  why             {r.explanation}",
    ]
    lines += [f"  note            {n}" for n in r.notes]
    return "\n".join(lines)


def _distributed_summary(r: object) -> str:
    from mlsysim.solvers.distributed.results import DistributedResult

    assert isinstance(r, DistributedResult)
    m, c = r.memory, r.communication
    head = (
        f"{r.model} on {r.devices}x {r.hardware} ({r.system}, {r.nodes} node"
        f"{'s' if r.nodes != 1 else ''}): {r.phase}, batch {r.batch}, seq_len {r.seq_len}, "
        f"{r.weights_precision} weights ({r.precision} math)"
    )
    plan = (
        f"  parallelism     tp={r.tp} pp={r.pp} dp={r.dp} cp={r.cp} ep={r.ep} sp={r.sp} "
        f"zero={r.zero}; {r.microbatches} micro-batches of {r.microbatch}, {r.schedule}"
        + (f" x{r.chunks} chunks" if r.chunks > 1 else "")
    )
    lines = [head, plan]
    scale, unit = (1.0, "s") if r.phase == "training" else (1e3, "ms")
    if r.feasible:
        lines += [
            f"  step time       {r.step_time_s * scale:.4g} {unit} "
            f"(ideal bound {r.step_time_bound_s * scale:.4g} {unit})",
            f"  throughput      {r.tokens_per_step / r.step_time_s:.4g} tokens/s",
            f"  MFU / HFU       {r.mfu * 100:.3g} % / {r.hfu * 100:.3g} %",
            f"  bubble          {r.bubble_fraction * 100:.3g} % of the step",
            f"  communication   {c.total_s * 1e3:.4g} ms exposed (tp {c.tp_s * 1e3:.4g}, cp "
            f"{c.cp_s * 1e3:.4g}, ep {c.ep_s * 1e3:.4g}, pp {c.pp_s * 1e3:.4g}, dp "
            f"{c.dp_s * 1e3:.4g} ms), {c.overlapped_s * 1e3:.4g} ms overlapped",
        ]
    lines += [
        f"  memory/device   {m.total_bytes * 1e-9:.4g} GB of {m.capacity_bytes * 1e-9:.4g} GB "
        f"(weights {m.weights_bytes * 1e-9:.4g}, gradients {m.gradients_bytes * 1e-9:.4g}, "
        f"optimizer {m.optimizer_bytes * 1e-9:.4g}, activations "
        f"{m.activations_bytes * 1e-9:.4g}, KV {m.kv_cache_bytes * 1e-9:.4g} GB)",
        f"  feasible        {'yes' if r.feasible else 'no'}",
        f"  binding wall    {words(r.binding_wall)} [{r.binding_wall}]",
        f"  why             {r.explanation}",
    ]
    lines += [f"  note            {n}" for n in r.notes]
    return "\n".join(lines)
