"""``mlsysim batch``: the Quarto filter's protocol — one JSON request on stdin, one JSON
response on stdout (see :mod:`mlsysim.book.batch`).

Exit 0 whenever the request was well-formed (failures are in the response; the filter
decides), 2 for a malformed request and 4 for an internal error (the response then holds
``error``; a traceback goes to stderr), as :mod:`mlsysim.cli.exits` says for every command.
The command always answers with JSON, so the filter can tell "mlsysim is not installed"
(Python exits 1) from anything else.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument("--input", "-i", help="read the request from this file instead of stdin")


def run(args: argparse.Namespace) -> int:
    from mlsysim.book.batch import error_response, process_cached
    from mlsysim.cli.exits import EXIT_INTERNAL
    from mlsysim.core.exceptions import ConfigError, MlsysimError

    try:
        if args.input:
            with open(args.input, encoding="utf-8") as fh:
                raw = fh.read()
        else:
            raw = sys.stdin.read()
        try:
            request = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(
                "malformed batch request: not JSON",
                why=str(exc),
                fix="send one JSON object on stdin",
            ) from None
        response = process_cached(request, use_cache=not args.no_cache)
    except OSError as exc:
        err = ConfigError("cannot read the batch request", why=str(exc))
        print(json.dumps(error_response(err)))
        print(f"mlsysim batch: error: {err}", file=sys.stderr)
        return 2
    except MlsysimError as exc:
        print(json.dumps(error_response(exc)))
        print(f"mlsysim batch: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: answer anyway, so the filter says what happened
        import traceback

        traceback.print_exc()
        internal = MlsysimError(f"{type(exc).__name__}: {exc}"[:300])
        print(json.dumps(error_response(internal)))
        return EXIT_INTERNAL
    print(json.dumps(response, ensure_ascii=False))
    return 0
