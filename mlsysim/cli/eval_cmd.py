"""``mlsysim eval "EXPR"``: evaluate one napkin expression and print it (or its JSON).

Exit 0 on success; 1 when the expression fails, with a located message on stderr
(``<eval>:1:COL: error[mlsysim.error]: …``) and, under ``--json``, an error object (schema
``mlsysim.error/1``) holding the failure. JSON keys (schema :data:`EVAL_SCHEMA`, described by
:func:`eval_json_schema`): ``schema``, ``expression``, ``value`` (a number in ``unit``: the
unit asked for with ``--unit`` or ``-> unit`` when there is one; a boolean or text for such
values), ``unit``, ``text``, ``latex``, ``markdown``, ``html``, ``math``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["EVAL_SCHEMA", "add_arguments", "eval_json_schema", "run"]

EVAL_SCHEMA = "mlsysim.eval/1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", help='napkin expression, e.g. "80 GB / 3.35 TB/s -> ms"')
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.add_argument("--unit", help="display unit (like `-> UNIT`)")
    parser.add_argument("--sig-figs", type=int, dest="sig_figs", help="significant figures")
    parser.add_argument(
        "--style",
        choices=["percent", "multiplier", "scientific", "engineering", "plain"],
        help="number style",
    )
    parser.add_argument("--siunitx", action="store_true", help="LaTeX as siunitx \\qty")


def _asked_unit(args: argparse.Namespace) -> str | None:
    """The unit the author asked for (``--unit`` or ``-> unit``), if it is a unit."""
    from mlsysim.book.lang import split_conversion
    from mlsysim.core.exceptions import MlsysimError

    unit = args.unit
    if unit is None:
        try:
            unit = split_conversion(args.expression)[1]
        except MlsysimError:
            return None
    if unit is None or unit.strip() in ("auto", "%", "percent", "×", "x", "times"):
        return None
    return unit


def _value_and_unit(value: Any, asked: str | None = None) -> tuple[Any, str]:
    """``value`` as a JSON number and the unit it is in: the asked unit when one was asked."""
    from mlsysim.core.units import ureg
    from mlsysim.viz.units_fmt import ascii_unit

    if isinstance(value, ureg.Quantity) and asked is not None:
        return float(value.magnitude), ascii_unit(value.units)
    if isinstance(value, ureg.Quantity):
        q = value
        names = list(q.units._units)
        dims = [str(ureg.get_dimensionality(n)) for n in names]
        if len(set(dims)) != len(dims) or q.dimensionless:
            q = q.to_reduced_units()
        if len(q.units._units) > 1:  # compound: drop prefixes (TFLOP/TB -> FLOP/B), as shown
            plain = ureg.Unit("")
            for name, exp in q.units._units.items():
                plain *= ureg.Unit(ureg.parse_unit_name(name)[0][1]) ** exp
            q = q.to(plain)
        if q.dimensionless:
            return float(q.to("").magnitude), ""
        return float(q.magnitude), ascii_unit(q.units)
    if isinstance(value, bool):
        return value, ""
    if isinstance(value, int | float):
        return float(value), ""
    return str(value), ""


def run(args: argparse.Namespace) -> int:
    from mlsysim.book.document import Document
    from mlsysim.book.options import Options
    from mlsysim.cli.errors import error_document, report_error
    from mlsysim.cli.exits import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
    from mlsysim.core.exceptions import MlsysimError

    try:
        options = Options(siunitx=bool(args.siunitx))
        doc = Document("<eval>", options)
        result = doc.inline(
            args.expression, 1, unit=args.unit, sig_figs=args.sig_figs, style=args.style, column=1
        )
    except MlsysimError as exc:
        return report_error(args, "eval", exc, EXIT_USAGE)
    if not result.ok or result.rendered is None:
        f = result.failure
        if f is not None:
            print(f.headline(), file=sys.stderr)
            print(f"    {args.expression}", file=sys.stderr)
            if f.column:
                print("    " + " " * (f.column - 1) + "^", file=sys.stderr)
            if f.hint:
                print(f"    {f.hint}", file=sys.stderr)
            if args.json:
                why, _, fix = (f.hint or "").partition("How to fix: ")
                err = MlsysimError(f.message, where=f.location(), why=why.rstrip(". "), fix=fix)
                doc_json = error_document("eval", err, EXIT_FAILURES, kind="failures")
                doc_json["failure"] = f.to_dict()
                print(json.dumps(doc_json, indent=2, ensure_ascii=False))
        return EXIT_FAILURES
    r = result.rendered
    if args.json:
        value, unit = _value_and_unit(result.value, _asked_unit(args))
        out = {"schema": EVAL_SCHEMA, "expression": args.expression, "value": value, "unit": unit}
        print(json.dumps({**out, **r.to_dict()}, ensure_ascii=False))
    else:
        print(r.text)
    return EXIT_OK


def eval_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``mlsysim eval --json``."""
    from mlsysim.viz.rendered import Rendered

    text = {"type": "string"}
    props: dict[str, Any] = {
        "schema": {"const": EVAL_SCHEMA},
        "expression": text,
        "value": {"type": ["number", "boolean", "string"]},
        "unit": text,
    }
    for key, sample in Rendered("", "", "", "").to_dict().items():  # every rendered form
        props[key] = {"type": "boolean"} if isinstance(sample, bool) else text
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/eval-1.json",
        "title": "mlsysim eval --json",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
