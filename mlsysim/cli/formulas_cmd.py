"""``mlsysim formulas [NAME] [--json]``: the formula reference.

Without a name: one line per formula (its signature and what it computes), grouped by domain;
``--domain`` keeps one. With a name: the formula's signature, each argument's dimension,
default and example value, the result's dimension, the LaTeX of its symbolic form, its
citation with the sources' titles and links, and its example evaluated. ``--json`` prints
``{"schema": "mlsysim.formulas/1", "count", "formulas": [...]}`` (every formula, examples
evaluated, when no name is given; :func:`formulas_json_schema`). Exit 0, or 2 for an unknown
formula (with did-you-mean).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_OK, EXIT_USAGE

__all__ = ["FORMULAS_SCHEMA", "add_arguments", "formulas_json_schema", "run"]

FORMULAS_SCHEMA = "mlsysim.formulas/1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="one formula (e.g. ridge_point)")
    parser.add_argument("--json", action="store_true", help="print the reference as JSON")
    parser.add_argument("--domain", help="only the formulas of one domain (e.g. performance)")


def run(args: argparse.Namespace) -> int:
    from mlsysim.book.reference.formulas import formula_info, formula_names, formula_reference
    from mlsysim.core.exceptions import MlsysimError, UnknownNameError

    names = formula_names()
    if args.domain:
        domains = sorted({formula_info(n).domain for n in names})
        if args.domain not in domains:
            err = UnknownNameError("domain", args.domain, domains)
            return report_error(args, "formulas", err, EXIT_USAGE)
        names = [n for n in names if formula_info(n).domain == args.domain]
    try:
        if args.name:
            refs = [formula_reference(args.name)]
        elif args.json:
            refs = [formula_reference(n) for n in names]
        else:
            refs = []
    except MlsysimError as exc:
        return report_error(args, "formulas", exc, EXIT_USAGE)
    if args.json:
        doc = {
            "schema": FORMULAS_SCHEMA,
            "count": len(refs),
            "formulas": [r.to_dict() for r in refs],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return EXIT_OK
    if refs:
        print(refs[0].text())
        return EXIT_OK
    domain = None
    for n in sorted(names, key=lambda n: (formula_info(n).domain, n)):
        info = formula_info(n)
        if info.domain != domain:
            print(("\n" if domain else "") + f"{info.domain}:")
            domain = info.domain
        print(f"  {info.signature()}")
    print(f"\n{len(names)} formulas; `mlsysim formulas NAME` shows one in full")
    return EXIT_OK


def formulas_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``mlsysim formulas --json``."""
    text = {"type": "string"}
    optional = {"type": ["string", "null"]}
    parameter = {
        "type": "object",
        "properties": {"name": text, "dimension": text, "default": optional, "example": optional},
        "required": ["name", "dimension", "default", "example"],
        "additionalProperties": False,
    }
    source = {
        "type": "object",
        "properties": {"id": text, "text": text, "url": optional},
        "required": ["id", "text", "url"],
        "additionalProperties": False,
    }
    formula = {
        "type": "object",
        "properties": {
            "name": text,
            "domain": text,
            "summary": text,
            "signature": text,
            "parameters": {"type": "array", "items": parameter},
            "result": {
                "type": "object",
                "properties": {"dimension": text, "unit": text},
                "required": ["dimension", "unit"],
            },
            "latex": text,
            "citation": text,
            "sources": {"type": "array", "items": source, "minItems": 1},
            "example": {
                "type": "object",
                "properties": {
                    "expression": text,
                    "text": text,
                    "latex": text,
                    "fields": {"type": "object", "additionalProperties": text},
                },
                "required": ["expression", "text", "latex", "fields"],
            },
        },
        "required": [
            "name",
            "domain",
            "summary",
            "signature",
            "parameters",
            "result",
            "latex",
            "citation",
            "sources",
            "example",
        ],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/formulas-1.json",
        "title": "mlsysim formulas --json",
        "type": "object",
        "properties": {
            "schema": {"const": FORMULAS_SCHEMA},
            "count": {"type": "integer", "minimum": 0},
            "formulas": {"type": "array", "items": formula},
        },
        "required": ["schema", "count", "formulas"],
        "additionalProperties": False,
    }
