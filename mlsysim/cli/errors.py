"""Errors of a command: worded for a reader on stderr, and as JSON on stdout under ``--json``.

A command asked for JSON (``--json``, or ``--format json`` for ``mlsysim check``) answers with
JSON even when it fails: a usage error, an engine error or an internal error prints one
object of schema :data:`ERROR_SCHEMA` (``what``, ``where``, ``why``, ``fix``, the exit code),
so a CI step or an agent that parses stdout never gets an empty or half-written answer.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Sequence
from typing import Any

from mlsysim.cli.exits import EXIT_CODES

__all__ = [
    "ERROR_SCHEMA",
    "error_document",
    "error_json_schema",
    "json_requested",
    "report_error",
]

ERROR_SCHEMA = "mlsysim.error/1"


def json_requested(argv: Sequence[str] | Any) -> bool:
    """Whether a command line (a list of words, or parsed arguments) asks for JSON output."""
    if not isinstance(argv, Sequence) or isinstance(argv, str):
        return bool(getattr(argv, "json", False)) or getattr(argv, "format", None) == "json"
    words = list(argv)
    if "--" in words:
        words = words[: words.index("--")]
    if "--json" in words or "--format=json" in words:
        return True
    return any(a == "--format" and b == "json" for a, b in itertools.pairwise(words))


def error_document(
    command: str | None, error: BaseException | str, code: int, *, kind: str | None = None
) -> dict[str, Any]:
    """The JSON object of a failed command (schema :data:`ERROR_SCHEMA`)."""
    from mlsysim.core.exceptions import MlsysimError

    if isinstance(error, MlsysimError):
        parts = {"what": error.what, "where": error.where, "why": error.why, "fix": error.fix}
        message = error.message
    else:
        message = str(error)
        parts = {"what": message, "where": "", "why": "", "fix": ""}
    names = {c: n for c, n, _ in EXIT_CODES}
    return {
        "schema": ERROR_SCHEMA,
        "command": command,
        "exit_code": code,
        "kind": kind or names.get(code, "error"),
        "error": message,
        **parts,
    }


def report_error(
    args: Any,
    command: str,
    error: BaseException | str,
    code: int,
    *,
    label: str = "error",
) -> int:
    """Say what failed (stderr; JSON on stdout too when it was asked for) and return ``code``."""
    print(f"mlsysim {command}: {label}: {error}", file=sys.stderr)
    if json_requested(args):
        doc = error_document(command, error, code)
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    return code


def error_json_schema() -> dict[str, Any]:
    """JSON Schema of the error object every command prints under ``--json`` when it fails."""
    text = {"type": "string"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/error-1.json",
        "title": "mlsysim error (any command under --json)",
        "type": "object",
        "required": ["schema", "command", "exit_code", "kind", "error", "what", "where", "why"],
        "additionalProperties": False,
        "properties": {
            "schema": {"const": ERROR_SCHEMA},
            "command": {"type": ["string", "null"]},
            "exit_code": {"enum": [c for c, _, _ in EXIT_CODES if c]},
            "kind": {"type": "string"},
            "error": text,
            "what": text,
            "where": text,
            "why": text,
            "fix": text,
            "failure": {"type": "object"},
        },
    }
