"""``mlsysim fleet MODEL HARDWARE (--qps Q | --tokens-per-day T) --slo S --duration D --region R``.

Sizes a serving fleet and prints its devices, energy, carbon, water and cost per million
tokens; ``--json`` prints the versioned schema of ``mlsysim schema --kind fleet``.
Exit codes: 0 ok, 2 usage or data errors, 3 the SLO cannot be met on one device.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_INFEASIBLE, EXIT_USAGE
from mlsysim.cli.run_cmd import parse_quantity, quantity_text

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model id, e.g. Llama2_7B")
    parser.add_argument("hardware", help="device id, e.g. H100")
    demand = parser.add_mutually_exclusive_group(required=True)
    demand.add_argument("--qps", default=None, help="requests per second")
    demand.add_argument("--tokens-per-day", default=None, help="output tokens per day")
    parser.add_argument("--slo", required=True, help="time per output token, e.g. '50 ms'")
    parser.add_argument("--duration", required=True, help="how long the fleet runs, '30 day'")
    parser.add_argument("--region", required=True, help="grid id")
    parser.add_argument("--datacenter", default=None)
    parser.add_argument("--prompt", type=int, default=512)
    parser.add_argument("--output", type=int, default=256)
    parser.add_argument("--precision", default=None)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from mlsysim.core.exceptions import InfeasibleError, MlsysimError
    from mlsysim.solvers.run.fleet import serving_fleet

    q = parse_quantity
    kwargs: dict[str, Any] = {
        "slo": q(args.slo),
        "duration": q(args.duration),
        "region": args.region,
        "datacenter": args.datacenter,
        "prompt": args.prompt,
        "output": args.output,
        "precision": args.precision,
    }
    if args.qps is not None:
        kwargs["qps"] = q(args.qps)
    else:
        kwargs["tokens_per_day"] = q(args.tokens_per_day)
    try:
        f = serving_fleet(args.model, args.hardware, **kwargs)
    except InfeasibleError as exc:
        return report_error(args, "fleet", exc, EXIT_INFEASIBLE, label="infeasible")
    except MlsysimError as exc:
        return report_error(args, "fleet", exc, EXIT_USAGE)
    if args.json:
        print(json.dumps(f.to_dict(), indent=2, ensure_ascii=False))
        return 0
    d = f.to_dict()
    print(f"{f.model} on {f.devices} × {f.hardware} for {d['duration']['value']:.4g} days")
    for key, fig in d["per_million_tokens"].items():
        value = (
            "unknown: " + fig["missing"]
            if fig["value"] is None
            else quantity_text(fig["value"], fig["unit"])
        )
        print(f"  {key + ' / Mtok':<18}{value}")
    print("  " + f.explanation.replace("\n", "\n  "))
    return 0
