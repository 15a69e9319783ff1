"""``mlsysim run MODEL SYSTEM --devices N (--tokens T | --duration D) --region R``: a training run.

Prints the run's wall time, reliability, energy, carbon, water and cost with the walls that
dominate it; ``--explain`` adds every figure's derivation, ``--json`` prints the result in the
versioned schema of ``mlsysim schema --kind run``. Exit codes: 0 ok, 2 usage or data errors.
Quantities are written with their unit: ``--duration "118 day"``, ``--power "400 W"``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_USAGE
from mlsysim.core.words import words

__all__ = ["add_arguments", "parse_quantity", "quantity_text", "run"]


def parse_quantity(text: str | None) -> Any:
    """A command-line quantity (``"118 day"``) or plain number, or None."""
    if text is None:
        return None
    from mlsysim.core.units import Q_

    try:
        return float(text)
    except ValueError:
        return Q_(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model id, e.g. Llama3_405B")
    parser.add_argument("system", help="device, node or cluster id, e.g. H100, DGX_H100")
    parser.add_argument("--devices", type=int, default=None, help="accelerators in the job")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--tokens", default=None, help="training tokens (predict the run)")
    mode.add_argument("--duration", default=None, help='reported wall time, e.g. "54 day"')
    parser.add_argument("--region", required=True, help="grid id, e.g. Quebec, Virginia")
    parser.add_argument("--datacenter", default=None, help="datacenter id (PUE, WUE)")
    parser.add_argument("--storage", default=None, help="storage id or bandwidth, e.g. '2 TB/s'")
    parser.add_argument("--reliability", default=None, help="failure study id")
    parser.add_argument("--checkpoint", default=None, help="interval ('30 min'), young or daly")
    parser.add_argument("--restart-time", default=None, help="time to restart, e.g. '10 min'")
    for name in ("pue", "carbon-intensity", "power", "overhead-power"):
        parser.add_argument(f"--{name}", default=None, help="override the data")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq-len", type=int, default=None)
    parser.add_argument("--tp", type=int, default=1)
    parser.add_argument("--pp", type=int, default=1)
    parser.add_argument("--pricing", default="on_demand")
    parser.add_argument("--explain", action="store_true", help="print every derivation")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.solvers.run.training import training_run

    q = parse_quantity
    checkpoint = args.checkpoint
    if checkpoint not in (None, "young", "daly"):
        checkpoint = q(checkpoint)
    kwargs: dict[str, Any] = {
        "devices": args.devices,
        "tokens": q(args.tokens),
        "duration": q(args.duration),
        "region": args.region,
        "datacenter": args.datacenter,
        "reliability": args.reliability,
        "checkpoint": checkpoint,
        "restart_time": q(args.restart_time),
        "pue": q(args.pue),
        "carbon_intensity": q(args.carbon_intensity),
        "power": q(args.power),
        "overhead_power": q(args.overhead_power),
        "batch": args.batch,
        "seq_len": args.seq_len,
        "pricing": args.pricing,
    }
    if args.storage is not None:
        kwargs["storage"] = args.storage if args.storage[:1].isalpha() else q(args.storage)
    if args.tp != 1:
        kwargs["tp"] = args.tp
    if args.pp != 1:
        kwargs["pp"] = args.pp
    try:
        result = training_run(args.model, args.system, **kwargs)
    except MlsysimError as exc:
        return report_error(args, "run", exc, EXIT_USAGE)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(summary(result))
    if args.explain:
        print()
        print(result.derivation())
    return 0


def _line(label: str, part: Any, key: str) -> str:
    f = part.figures[key]
    if f.value is None:
        return f"  {label:<22}unknown: {f.missing}"
    return f"  {label:<22}{quantity_text(f.value, f.unit)}"


def quantity_text(value: float, unit: str) -> str:
    """A figure as the book typesets it (``966 gCO₂e``, ``1.29 GWh``), for summaries."""
    from mlsysim.core.units import Q_
    from mlsysim.viz.format import render_value

    if not unit:
        return render_value(value).text
    if unit == "1/s":  # a rate of events (inferences, requests), not a frequency in Hz
        return f"{render_value(value).text} /s"
    return render_value(Q_(value, unit)).text


def summary(r: Any) -> str:
    """A short text summary of a run (also used by the fleet command's layout)."""
    lines = [str(r)]
    lines.append(_line("job MTBF", r.reliability, "mtbf"))
    lines.append(_line("interruptions", r.reliability, "interruptions"))
    lines.append(_line("goodput", r.reliability, "goodput"))
    lines.append(_line("checkpoint every", r.reliability.checkpoint_interval, "used"))
    lines.append(_line("energy", r.energy, "total"))
    for key in ("operational", "embodied", "total"):
        lines.append(_line(f"carbon {key}", r.carbon, key))
    lines.append(_line("water", r.water, "total"))
    lines.append(_line("cost (cloud)", r.cost, "cloud"))
    lines.append(_line("cost (owned)", r.cost, "owned"))
    lines += [f"  {words(w)}: {t}" for w, t in r.walls()]
    lines += [f"  warning: {w}" for w in r.warnings]
    return "\n".join(lines)
