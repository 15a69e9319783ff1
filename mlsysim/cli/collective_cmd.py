"""``mlsysim collective OP SIZE SYSTEM [--devices N] [--algorithm A] [--json]``.

Times one collective (``all_reduce``, ``all_gather``, ``reduce_scatter``, ``all_to_all``,
``broadcast``, ``send_recv``) of ``SIZE`` (e.g. ``1GB``, ``"256 MB"``) on a node or cluster:
achievable time, algorithm and bus bandwidth (nccl-tests' definitions) and the line-rate
bound. Exit codes: 0 ok, 2 usage problems. ``--json`` follows ``mlsysim schema --kind
collective``.
"""

from __future__ import annotations

import argparse
import json

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_USAGE

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mlsysim.systems.collectives import OPS  # (imported only for this command)

    parser.add_argument("op", choices=list(OPS))
    parser.add_argument("size", help="message size with a unit, e.g. 1GB or '256 MB'")
    parser.add_argument("system", help="node or cluster id, e.g. DGX_H100, H100_1024")
    parser.add_argument("--devices", type=int, default=None, help="ranks (default: all)")
    parser.add_argument("--algorithm", default="auto", help="ring, tree, hierarchical, nvls, …")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.systems.collectives import collective

    try:
        r = collective(args.op, args.size, args.system, args.devices, args.algorithm)
    except MlsysimError as exc:
        return report_error(args, "collective", exc, EXIT_USAGE)
    if args.json:
        print(json.dumps(r.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(str(r))
        for note in r.notes:
            print(f"  note: {note}")
    return 0
