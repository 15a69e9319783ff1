"""``mlsysim sim APPLICATION PERSONA [--region R] [--days D] [--json]``: a simulation's ledger.

Evaluates ``ResourceSimulation`` (or ``--simulation NAME``, a built-in or a lab registered by a
file or module given with ``--load``) for an application and a persona, and prints the ledger:
each figure with its value or why it is unknown, the persona's constraints, assumptions and
warnings. ``--explain`` adds every derivation; ``--json`` prints the ledger in the versioned
schema of ``mlsysim schema --kind ledger``. Exit codes: 0 ok, 2 usage or data errors (an
unknown name, a pair that does not apply: the message says why).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_USAGE

__all__ = ["add_arguments", "load_labs", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("application", help="application id, e.g. Doorbell")
    parser.add_argument("persona", help="persona id, e.g. TinyPioneer")
    parser.add_argument("--simulation", default="ResourceSimulation", help="simulation name")
    parser.add_argument(
        "--load",
        action="append",
        default=[],
        metavar="FILE_OR_MODULE",
        help="import a Python file or module that defines simulations (repeatable)",
    )
    parser.add_argument("--region", default=None, help="grid id (default: the persona's)")
    parser.add_argument("--days", type=float, default=None, help="days evaluated (default 365)")
    parser.add_argument("--hardware", default=None, help="hardware id to deploy on")
    parser.add_argument("--precision", default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--fleet-size", type=int, default=None, help="units of the scale")
    parser.add_argument("--datacenter", default=None)
    parser.add_argument("--part", default=None, help="training, serving or both (cloud)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other choice, e.g. a lab's own ('battery=10 Wh'; repeatable)",
    )
    parser.add_argument("--explain", action="store_true", help="print every derivation")
    parser.add_argument("--json", action="store_true", help="print the ledger as JSON")


def load_labs(paths: list[str]) -> None:
    """Import each file (``lab.py``) or module (``pkg.labs``) so its simulations register."""
    for item in paths:
        path = Path(item)
        if path.suffix == ".py":
            if not path.is_file():
                from mlsysim.core.exceptions import ConfigError

                raise ConfigError(
                    f"--load {item}: no such file", fix="give a Python file or a module name"
                )
            spec = importlib.util.spec_from_file_location(f"mlsysim_lab_{path.stem}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            importlib.import_module(item)


def run(args: argparse.Namespace) -> int:
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.sim.simulations import simulation

    choices: dict[str, Any] = {
        "region": args.region,
        "duration_days": args.days,
        "hardware": args.hardware,
        "precision": args.precision,
        "batch": args.batch,
        "fleet_size": args.fleet_size,
        "datacenter": args.datacenter,
        "part": args.part,
    }
    try:
        choices.update(_pairs(args.set))
        load_labs(args.load)
        sim = simulation(args.simulation, args.application, args.persona)
        ledger = sim.evaluate({k: v for k, v in choices.items() if v is not None})
    except MlsysimError as exc:
        return report_error(args, "sim", exc, EXIT_USAGE)
    if args.json:
        print(json.dumps(ledger.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(summary(ledger))
    if args.explain:
        print()
        print(ledger.derivation())
    return 0


def _pairs(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs: a number, a quantity (``10 Wh``) or text."""
    from mlsysim.cli.run_cmd import parse_quantity
    from mlsysim.core.exceptions import ConfigError, MlsysimError

    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r} is not KEY=VALUE", fix="e.g. --set battery='10 Wh'")
        value: Any = text.strip()
        # not a number or quantity: text (pint's unknown-unit error is an AttributeError)
        with contextlib.suppress(MlsysimError, ValueError, AttributeError, TypeError):
            value = parse_quantity(value)
        out[key.strip()] = value
    return out


def summary(ledger: Any) -> str:
    """The ledger in a few lines: each section's figures, the constraints, the caveats."""
    from mlsysim.cli.run_cmd import quantity_text

    def value_text(fig: Any) -> str:
        return "unknown" if fig.value is None else quantity_text(fig.value, fig.unit)

    c = ledger.choices
    head = (
        f"{ledger.simulation}: {ledger.application} for {ledger.persona} "
        f"({c['region']}, {c['duration_days']:g} days)"
    )
    lines = [head]
    for name, section in ledger.sections.items():
        lines.append(f"  [{name}]")
        for key, fig in section.figures.items():
            text = value_text(fig) if fig.known else f"unknown: {fig.missing}"
            lines.append(f"    {key:<22}{text}")
    lines.append("  [constraints]")
    for key, fig in ledger.constraints.figures.items():
        limit, ok = ledger.constraints.limits[key]
        verdict = {True: "met", False: "VIOLATED", None: "undecided"}[ok]
        lines.append(f"    {key:<22}{value_text(fig):<18} limit {value_text(limit):<14} {verdict}")
    lines += [f"  assumption: {a}" for a in ledger.assumptions]
    lines += [f"  warning: {w}" for w in ledger.warnings]
    return "\n".join(lines)
