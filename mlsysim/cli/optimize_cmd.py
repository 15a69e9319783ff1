"""``mlsysim optimize {parallelism,serving,placement} …``: search configurations.

* ``parallelism MODEL SYSTEM --devices N --batch B --seq-len S`` — the fastest training plan
  that fits (``--fix tp=8 --fix recompute=full`` fixes keywords; ``--exhaustive`` solves every
  candidate that fits);
* ``serving MODEL HARDWARE… --slo "50 ms" (--qps Q | --tokens-per-day T) --duration D
  --region R [--objective cost|carbon|…]`` — hardware, precision, tp and batch;
* ``placement MODEL SYSTEM… [--regions R …] --tokens T --devices N --batch B --seq-len S
  [--objective cost|time|carbon|…]`` — hardware and region of a training run.

Prints the winner, what binds it and what the runner-up trades, and the top ``--top``
candidates; ``--pareto cost,time`` adds the frontier. ``--json`` prints the versioned schema
of ``mlsysim schema --kind optimize`` (with the frontier under ``"pareto"``), ``--csv`` one
row per candidate. A progress bar (``rich``, when installed) is drawn on stderr for long
searches when stderr is a terminal, never with ``--json`` or ``--csv``.
Exit codes: 0 a configuration was found, 3 none is feasible, 2 usage or data errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_INFEASIBLE, EXIT_OK, EXIT_USAGE, help_text
from mlsysim.cli.run_cmd import parse_quantity

__all__ = ["add_arguments", "parse_value", "progress_bar", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    fmt = argparse.RawDescriptionHelpFormatter
    par = kinds.add_parser(
        "parallelism",
        help="the fastest training plan that fits",
        epilog=help_text(),
        formatter_class=fmt,
    )
    par.add_argument("model")
    par.add_argument("system", help="node or cluster id, e.g. DGX_A100")
    par.add_argument("--devices", type=int, required=True)
    par.add_argument("--batch", type=int, required=True, help="global batch in sequences")
    par.add_argument("--seq-len", type=int, required=True)
    par.add_argument("--precision", default=None)
    par.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fix a keyword of the step (tp=8, sp=true, recompute=full, attention=unfused); "
        "repeat for several",
    )
    par.add_argument("--exhaustive", action="store_true", help="solve every candidate that fits")

    srv = kinds.add_parser(
        "serving",
        help="hardware, precision, tp and batch for an SLO",
        epilog=help_text(),
        formatter_class=fmt,
    )
    srv.add_argument("model")
    srv.add_argument("hardware", nargs="+", help="device, node or cluster ids")
    demand = srv.add_mutually_exclusive_group(required=True)
    demand.add_argument("--qps", default=None)
    demand.add_argument("--tokens-per-day", default=None)
    srv.add_argument("--slo", required=True, help="time per output token, e.g. '50 ms'")
    srv.add_argument("--ttft-slo", default=None, help="prefill time of one request, e.g. '1 s'")
    srv.add_argument("--duration", default="30 day")
    srv.add_argument("--region", required=True)
    srv.add_argument("--objective", default="cost")
    srv.add_argument("--precisions", default=None, help="comma-separated, e.g. bf16,fp8")
    srv.add_argument("--tp", default=None, help="comma-separated degrees, e.g. 1,2,4,8")
    srv.add_argument("--prompt", type=int, default=512)
    srv.add_argument("--output", type=int, default=256)

    plc = kinds.add_parser(
        "placement",
        help="hardware and region for a training run",
        epilog=help_text(),
        formatter_class=fmt,
    )
    plc.add_argument("model")
    plc.add_argument("systems", nargs="+", help="node or cluster ids")
    plc.add_argument("--regions", nargs="+", default=None, help="grid ids (default: every grid)")
    plc.add_argument("--tokens", required=True)
    plc.add_argument("--devices", type=int, default=None)
    plc.add_argument("--batch", type=int, required=True)
    plc.add_argument("--seq-len", type=int, required=True)
    plc.add_argument("--precision", default=None)
    plc.add_argument("--objective", default="cost")

    for p in (par, srv, plc):
        p.add_argument("--top", type=int, default=5, help="candidates listed (default 5)")
        p.add_argument("--pareto", default=None, metavar="A,B[,C]", help="also a frontier")
        out = p.add_mutually_exclusive_group()
        out.add_argument("--json", action="store_true", help="print the search as JSON")
        out.add_argument("--csv", action="store_true", help="print one row per candidate")


def parse_value(text: str) -> Any:
    """A command-line value: true/false, an int, a float, else the text."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _fixed(pairs: list[str]) -> dict[str, Any]:
    from mlsysim.core.exceptions import ConfigError

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(
                f"--fix takes KEY=VALUE, got {pair!r}",
                where="mlsysim optimize",
                fix="e.g. --fix tp=8 --fix recompute=full",
            )
        if "," in value:
            out[key] = tuple(parse_value(v) for v in value.split(","))
        else:
            out[key] = parse_value(value)
    return out


@contextlib.contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A ``progress(done, total)`` callback drawing a rich bar on stderr, or None when
    ``enabled`` is false, stderr is not a terminal, or rich is not installed."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    try:
        from rich.progress import Progress
    except ImportError:  # rich is optional (the `progress` extra)
        yield None
        return
    with Progress(transient=True, console=None, redirect_stdout=False) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _search(args: argparse.Namespace, progress: Callable[[int, int], None] | None) -> Any:
    q = parse_quantity
    if args.kind == "parallelism":
        from mlsysim.solvers.optimize.parallel import optimize_parallelism

        return optimize_parallelism(
            args.model,
            args.system,
            devices=args.devices,
            batch=args.batch,
            seq_len=args.seq_len,
            precision=args.precision,
            exhaustive=args.exhaustive,
            progress=progress,
            **_fixed(args.fix),
        )
    if args.kind == "serving":
        from mlsysim.solvers.optimize.serving import optimize_serving

        demand: dict[str, Any] = {
            "slo": q(args.slo),
            "duration": q(args.duration),
            "region": args.region,
            "prompt": args.prompt,
            "output": args.output,
        }
        if args.qps is not None:
            demand["qps"] = q(args.qps)
        else:
            demand["tokens_per_day"] = q(args.tokens_per_day)
        return optimize_serving(
            args.model,
            list(args.hardware),
            objective=args.objective,
            precisions=args.precisions.split(",") if args.precisions else None,
            tp=[int(t) for t in args.tp.split(",")] if args.tp else None,
            ttft_slo=q(args.ttft_slo),
            progress=progress,
            **demand,
        )
    from mlsysim.solvers.optimize.placement import optimize_placement

    return optimize_placement(
        args.model,
        list(args.systems),
        regions=args.regions,
        tokens=q(args.tokens),
        devices=args.devices,
        batch=args.batch,
        seq_len=args.seq_len,
        precision=args.precision,
        objective=args.objective,
        progress=progress,
    )


def run(args: argparse.Namespace) -> int:
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.solvers.optimize.pareto import pareto

    try:
        with progress_bar(not (args.json or args.csv), f"optimize {args.kind}") as progress:
            search = _search(args, progress)
        front = pareto(search, *args.pareto.split(",")) if args.pareto else None
    except MlsysimError as exc:
        return report_error(args, "optimize", exc, EXIT_USAGE)
    code = EXIT_OK if search.feasible else EXIT_INFEASIBLE
    if args.json:
        data = search.to_dict(top=args.top)
        if front is not None:
            data["pareto"] = front.to_dict()
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return code
    if args.csv:
        sys.stdout.write(search.csv(top=args.top))
        return code
    print(search.explanation)
    if search.ranked:
        print(f"\ntop {min(args.top, len(search.ranked))}:")
        obj = search.metric(search.objective)
        for i, c in enumerate(search.ranked[: args.top], 1):
            v = c.values.get(obj.name)
            print(f"  {i}. {c.label}: {obj.text} {v:.4g} {obj.unit}".rstrip())
    if front is not None:
        print("\n" + front.explanation)
    return code
