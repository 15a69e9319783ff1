"""``mlsysim serve MODEL SYSTEM --prompt P --output O [--rate R | --concurrency N]``: serving.

Continuous batching at a request rate (or a closed loop of N requests in flight, or — with
neither — the saturated engine): capacity, TTFT, TPOT, token-gap and latency percentiles, the
SLO (``--slo-ttft``, ``--slo-tpot`` at ``--slo-percentile``) and the binding wall with its
explanation. ``--json`` prints the versioned schema of ``mlsysim schema serve``. Exit codes
(``mlsysim.cli.exits``): 0 ok, 2 usage or data errors, 3 the model does not fit, the rate is
at or above the capacity, or the SLO is missed.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlsysim.cli.generate_cmd import common_arguments, shared_keywords, system_of
from mlsysim.cli.run_cmd import parse_quantity

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common_arguments(parser)
    load = parser.add_mutually_exclusive_group()
    load.add_argument("--rate", default=None, help="requests per second, e.g. '10 req/s'")
    load.add_argument("--concurrency", type=int, default=None, help="requests kept in flight")
    parser.add_argument("--replicas", type=int, default=None, help="replicas (default: fill)")
    parser.add_argument("--scheduler", choices=["chunked", "prefill_first"], default="chunked")
    parser.add_argument("--max-batch", type=int, default=None, help="sequences per iteration")
    parser.add_argument("--max-tokens", type=int, default=None, help="tokens per iteration")
    parser.add_argument("--block-size", type=int, default=None, help="KV block (tokens)")
    parser.add_argument("--memory-utilization", type=float, default=None)
    parser.add_argument("--kv-fraction", type=float, default=None)
    parser.add_argument("--share", type=float, default=None, help="a co-located tenant's share")
    parser.add_argument("--slo-ttft", default=None, help="e.g. '2 s'")
    parser.add_argument("--slo-tpot", default=None, help="e.g. '200 ms'")
    parser.add_argument("--slo-percentile", type=float, default=None, help="default 0.99")


def _rate(text: str) -> Any:
    q = parse_quantity(text)
    if isinstance(q, float):  # a bare number on the command line: requests per second
        from mlsysim.core.units import Q_

        return Q_(q, "request/s")
    return q


def run(args: argparse.Namespace) -> int:
    from mlsysim.cli.errors import report_error
    from mlsysim.cli.exits import EXIT_INFEASIBLE, EXIT_OK, EXIT_USAGE
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.solvers.serving.serve import serve

    kw = shared_keywords(args)
    kw["scheduler"] = args.scheduler
    for name in (
        "replicas",
        "concurrency",
        "max_batch",
        "max_tokens",
        "block_size",
        "memory_utilization",
        "kv_fraction",
        "share",
        "slo_percentile",
    ):
        value = getattr(args, name)
        if value is not None:
            kw[name] = value
    if args.rate is not None:
        kw["rate"] = _rate(args.rate)
    for name in ("slo_ttft", "slo_tpot"):
        value = getattr(args, name)
        if value is not None:
            kw[name] = parse_quantity(value)
    try:
        r = serve(args.model, system_of(args), **kw)
    except MlsysimError as exc:
        return report_error(args, "serve", exc, EXIT_USAGE)
    code = EXIT_OK
    if not r.feasible or (r.rate_rps is not None and not r.stable) or r.slo_met is False:
        code = EXIT_INFEASIBLE
    if args.json:
        print(json.dumps(r.to_dict(), indent=2, ensure_ascii=False))
        return code
    print(str(r))
    if r.stable:
        for name, p in (
            ("TTFT", r.ttft_percentiles),
            ("TPOT", r.tpot_percentiles),
            ("ITL", r.itl_percentiles),
        ):
            assert p is not None
            print(
                f"  {name:<5} p50 {p.p50_s * 1e3:.4g} ms  p90 {p.p90_s * 1e3:.4g} ms  "
                f"p99 {p.p99_s * 1e3:.4g} ms"
            )
    print("  " + r.explanation)
    return code
