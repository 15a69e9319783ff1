"""``mlsysim generate MODEL SYSTEM --prompt P --output O [--batch B]``: one batch, prompt to end.

Prints the time to first token, time per output token, end-to-end latency and tokens/s (with
their ideal bounds), the memory per device and why the decode steps are bound. ``SYSTEM`` is a
device, or a node or cluster with ``--tp`` devices per replica; ``--mig 1g.10gb`` runs on a MIG
slice of the device. ``--json`` prints the versioned schema of ``mlsysim schema --kind
generate``. Exit codes (``mlsysim.cli.exits``): 0 ok, 2 usage or data errors, 3 the batch does
not fit.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_arguments", "common_arguments", "run", "system_of"]


def common_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments generate and serve share: model, system, lengths, precision, TP, draft."""
    parser.add_argument("model", help="model id, e.g. Llama2_7B")
    parser.add_argument("system", help="device, node or cluster id, e.g. H100, DGX_H100")
    parser.add_argument("--prompt", type=int, required=True, help="prompt tokens (mean)")
    parser.add_argument("--output", type=int, required=True, help="output tokens (mean)")
    parser.add_argument("--precision", default=None, help="weights: bf16 (default), fp8, int4 …")
    parser.add_argument("--kv-cache", default=None, help="KV-cache format (default: activations)")
    parser.add_argument("--tp", type=int, default=1, help="devices per replica (a node)")
    parser.add_argument("--mig", default=None, help="a MIG profile of the device, e.g. 1g.10gb")
    parser.add_argument("--offload", default=None, help="offload tier id, e.g. Host_PCIe5")
    parser.add_argument("--draft", default=None, help="draft model id (speculative decoding)")
    parser.add_argument("--acceptance", type=float, default=None, help="draft acceptance rate")
    parser.add_argument("--draft-tokens", type=int, default=4, help="tokens drafted per round")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common_arguments(parser)
    parser.add_argument("--batch", type=int, default=1, help="prompts generated together")
    parser.add_argument("--samples", type=int, default=1, help="best-of-n chains per prompt")
    parser.add_argument("--steps", type=int, default=1, help="reasoning rounds of --output")
    parser.add_argument("--step-prompt", type=int, default=0, help="tokens appended per round")


def system_of(args: argparse.Namespace) -> Any:
    """The system, or its MIG slice."""
    if args.mig is None:
        return args.system
    from mlsysim.hardware.partitions import mig

    return mig(args.system, args.mig)


def shared_keywords(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords generate and serve take alike."""
    kw: dict[str, Any] = {
        "prompt": args.prompt,
        "output": args.output,
        "precision": args.precision,
        "tp": args.tp,
        "offload": args.offload,
    }
    if args.kv_cache is not None:
        kw["kv_cache"] = args.kv_cache
    if args.draft is not None or args.acceptance is not None:
        kw.update(draft=args.draft, acceptance=args.acceptance, draft_tokens=args.draft_tokens)
    return kw


def run(args: argparse.Namespace) -> int:
    from mlsysim.cli.errors import report_error
    from mlsysim.cli.exits import EXIT_INFEASIBLE, EXIT_OK, EXIT_USAGE
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.solvers.serving.generation import generate

    try:
        r = generate(
            args.model,
            system_of(args),
            batch=args.batch,
            samples=args.samples,
            steps=args.steps,
            step_prompt=args.step_prompt,
            **shared_keywords(args),
        )
    except MlsysimError as exc:
        return report_error(args, "generate", exc, EXIT_USAGE)
    code = EXIT_OK if r.feasible else EXIT_INFEASIBLE
    if args.json:
        print(json.dumps(r.to_dict(), indent=2, ensure_ascii=False))
        return code
    print(str(r))
    if r.feasible:
        d = r.to_dict()
        for key in ("ttft", "tpot", "latency", "throughput"):
            fig, bound = d[key], d.get(f"{key}_bound")
            if fig is None:
                continue
            extra = f" (bound {bound['value']:.4g} {bound['unit']})" if bound else ""
            print(f"  {key:<11}{fig['value']:.4g} {fig['unit']}{extra}")
    print("  " + r.explanation)
    return code
