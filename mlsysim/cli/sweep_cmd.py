"""``mlsysim sweep MODELS SYSTEMS --phase P [--batch B] [--seq-len S] …``: a grid of solves.

Every axis takes a comma-separated list; ``--batch`` and ``--seq-len`` also take inclusive
ranges ``A:B`` or ``A:B:STEP`` (``--batch 1:256 --seq-len 512,2048,8192``). ``--set KEY=V1,V2``
adds an axis over any other keyword of ``solve`` (``--set tp=1,2,4,8 --set devices=8``).
Prints how many points fit, the binding walls and the fastest feasible point; ``--json``
prints every point (schema ``mlsysim.sweep/1``, ``mlsysim schema sweep``), ``--csv`` one row
per point, streamed chunk by chunk (constant memory). ``--columns`` keeps only those result
columns. ``--invalid mark`` goes on past the points ``solve`` refuses, marking each in a
``refused`` column (its error's text) instead of failing with the first. A progress bar
(``rich``, when installed) is drawn on stderr once a sweep has run half a second, when stderr
is a terminal, never with ``--json`` or ``--csv``.
Exit codes: 0 some point is feasible, 3 none is, 2 usage or data errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_INFEASIBLE, EXIT_OK, EXIT_USAGE, help_text
from mlsysim.cli.optimize_cmd import parse_value, progress_bar

__all__ = ["add_arguments", "run"]

#: A sweep running at least this long gets a progress bar (on a terminal).
_LONG_S = 0.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = help_text()
    parser.add_argument("models", help="model ids, comma-separated (e.g. Llama2_7B,Llama3_8B)")
    parser.add_argument("systems", help="device, node or cluster ids, comma-separated")
    parser.add_argument("--phase", required=True, help="prefill, decode, training, inference")
    parser.add_argument("--batch", default=None, help="e.g. 1,8,64 or 1:256 or 1:1024:8")
    parser.add_argument("--seq-len", default=None, help="e.g. 512,2048 or 128:8192:128")
    parser.add_argument("--precision", default=None, help="comma-separated, e.g. bf16,fp8,int4")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="an axis over any other solve keyword (tp=1,2,4, devices=8, recompute=full); "
        "repeat for several",
    )
    parser.add_argument("--columns", default=None, help="result columns kept, comma-separated")
    parser.add_argument("--chunk", type=int, default=None, help="points per chunk")
    parser.add_argument(
        "--invalid",
        choices=("raise", "mark"),
        default="raise",
        help="at a point solve refuses: fail with its error (raise, the default) or mark it "
        "in a 'refused' column and go on (mark)",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print every point as JSON")
    out.add_argument("--csv", action="store_true", help="print one CSV row per point")


def _counts(text: str, flag: str) -> list[int]:
    from mlsysim.core.exceptions import ConfigError

    out: list[int] = []
    for part in text.split(","):
        bounds = part.strip().split(":")
        try:
            nums = [int(x) for x in bounds]
        except ValueError:
            raise ConfigError(
                f"{flag} takes whole numbers or ranges A:B[:STEP], got {part!r}",
                where=f"mlsysim sweep {flag}",
                fix=f"e.g. {flag} 1,8,64 or {flag} 1:256",
            ) from None
        if len(nums) == 1:
            out.append(nums[0])
        elif len(nums) in (2, 3) and (len(nums) == 2 or nums[2] > 0):
            step = nums[2] if len(nums) == 3 else 1
            out.extend(range(nums[0], nums[1] + 1, step))
        else:
            raise ConfigError(
                f"{flag} range {part!r} must be A:B or A:B:STEP with STEP ≥ 1",
                where=f"mlsysim sweep {flag}",
                fix=f"e.g. {flag} 1:1024:8",
            )
    return out


def _axes(args: argparse.Namespace) -> dict[str, Any]:
    from mlsysim.core.exceptions import ConfigError

    axes: dict[str, Any] = {
        "model": args.models.split(","),
        "system": args.systems.split(","),
        "phase": args.phase.split(","),
    }
    if args.precision:
        axes["precision"] = args.precision.split(",")
    for pair in args.set:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(
                f"--set takes KEY=V1,V2, got {pair!r}",
                where="mlsysim sweep",
                fix="e.g. --set tp=1,2,4,8",
            )
        axes[key.replace("-", "_")] = [parse_value(v) for v in value.split(",")]
    if args.batch is not None:
        axes["batch"] = _counts(args.batch, "--batch")
    if args.seq_len is not None:
        axes["seq_len"] = _counts(args.seq_len, "--seq-len")
    return axes


def run(args: argparse.Namespace) -> int:
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.solvers.sweeps.grid import DEFAULT_CHUNK, sweep, sweep_chunks

    options: dict[str, Any] = {"chunk": args.chunk or DEFAULT_CHUNK, "invalid": args.invalid}
    if args.columns:
        options["columns"] = args.columns.split(",")
    try:
        axes = _axes(args)
        if args.csv:
            feasible = 0
            for i, part in enumerate(sweep_chunks(**axes, **options)):
                sys.stdout.write(part.csv(header=i == 0))
                feasible += int(part["feasible"].sum()) if "feasible" in part else 1
            return EXIT_OK if feasible else EXIT_INFEASIBLE
        with progress_bar(not args.json, "sweep") as bar:
            s = sweep(**axes, **options, progress=_long(bar))
    except MlsysimError as exc:
        return report_error(args, "sweep", exc, EXIT_USAGE)
    ok = bool(s["feasible"].any()) if "feasible" in s else len(s) > 0
    code = EXIT_OK if ok else EXIT_INFEASIBLE
    if args.json:
        print(json.dumps(s.to_dict(), ensure_ascii=False, allow_nan=False))
        return code
    print(_summary(s, axes))
    return code


def _long(bar: Any, after_s: float = _LONG_S) -> Any:
    """A progress callback that draws on ``bar`` once the sweep has run ``after_s`` seconds
    (a short sweep never flashes a bar), or None without a bar."""
    if bar is None:
        return None
    start = time.monotonic()

    def update(done: int, total: int) -> None:
        if time.monotonic() - start >= after_s:
            bar(done, total)

    return update


def _summary(s: Any, axes: dict[str, Any]) -> str:
    from collections import Counter

    sizes = [f"{len(v)} {k}" for k, v in axes.items() if isinstance(v, list) and len(v) > 1]
    lines = [f"sweep: {len(s)} points" + (f" ({' × '.join(sizes)})" if sizes else "")]
    if "feasible" in s:
        fits = s["feasible"]
        lines.append(f"feasible: {int(fits.sum())} of {len(s)}")
    if "refused" in s:
        why = Counter(str(r) for r in s["refused"] if r)
        if why:
            first, n = why.most_common(1)[0]
            lines.append(
                f"refused: {sum(why.values())} of {len(s)} ({len(why)} reason(s); "
                f"the commonest, {n} point(s): {first})"
            )
    if "binding_wall" in s:
        walls = Counter(str(w) for w in s["binding_wall"])
        lines.append("binding walls: " + ", ".join(f"{w} {n}" for w, n in walls.most_common()))
    if "latency_s" in s and "feasible" in s and s["feasible"].any():
        import numpy as np

        lat = np.where(s["feasible"], s["latency_s"], np.inf)
        i = int(np.argmin(lat))
        row = s.row(i)
        where = ", ".join(f"{k}={row[k]}" for k in axes if k in row)
        lines.append(f"fastest feasible: latency {row['latency_s'] * 1e3:.4g} ms at {where}")
        if "throughput" in s:
            row = s.row(int(np.nanargmax(s["throughput"])))
            where = ", ".join(f"{k}={row[k]}" for k in axes if k in row)
            lines.append(f"highest throughput: {row['throughput']:.4g}/s at {where}")
    return "\n".join(lines)
