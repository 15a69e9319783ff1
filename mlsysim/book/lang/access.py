"""Compiler rules for names, attribute access, subscripts and calls, with provenance tracking.

What may be read or called is decided by :mod:`~mlsysim.book.lang.allow`; every registry read
and model call is recorded in the :class:`~mlsysim.book.lang.values.Trace` with its citation,
and every call is charged to the evaluation's step budget.
"""

from __future__ import annotations

import ast
import dataclasses
from functools import lru_cache
from typing import Any

from mlsysim.book.lang.allow import (
    call_help,
    check_function_args,
    check_method_args,
    method_params,
    parameter_names,
    readable_names,
    result_view,
)
from mlsysim.book.lang.limits import MAX_ARGS
from mlsysim.book.lang.located import Compiling, Run, attempt, locate, wrap_error
from mlsysim.book.lang.values import Env, Fn, Method, Trace, View, describe, unwrap
from mlsysim.core.exceptions import (
    DimensionError,
    FormulaDomainError,
    LimitError,
    MlsysimError,
    NapkinError,
    UnknownNameError,
)

__all__ = ["RULES"]

#: Steps charged per call (see :data:`~mlsysim.book.lang.limits.MAX_STEPS`).
_COST = {"helper": 1, "formula": 10, "function": 100, "method": 5}


def c_name(c: Compiling, node: ast.Name) -> Run:
    lit = c.literal(node)
    col, src = c.col(node), c.prep.source
    if lit is not None:
        q = _quantity(lit.factors, lit.number, col, src)
        return lambda env, tr: q
    if node.id.startswith("_"):
        raise c.refuse(node, f"the name {node.id!r}")
    name = node.id

    def run(env: Env, tr: Trace) -> Any:
        try:
            return env(name)
        except MlsysimError as exc:
            raise locate(exc, col, src) from None

    return run


def _quantity(factors: tuple[tuple[str, int], ...], number: str, col: int, src: str) -> Any:
    """The Quantity of a literal (its unit read by mlsysim's unit grammar)."""
    from mlsysim.book.lang.limits import check_magnitude
    from mlsysim.core.unit_text import UnitText
    from mlsysim.core.units import unit_of, ureg

    text = number.replace("_", "")
    mag: int | float = int(text) if text.isdigit() else float(text)
    check_magnitude(mag, col, src)
    try:
        unit = unit_of(UnitText(factors), src)
    except MlsysimError as exc:
        raise locate(exc, col, src) from None
    return ureg.Quantity(mag, unit)


def c_attribute(c: Compiling, node: ast.Attribute) -> Run:
    if node.attr.startswith("_"):
        err = c.refuse(node, f"the attribute {node.attr!r}")
        err.column = c.attr_col(node)
        raise err
    base = c.compile(node.value)
    attr = node.attr
    col, src = c.attr_col(node), c.prep.source
    label = c.segment(node) or attr

    def run(env: Env, tr: Trace) -> Any:
        return attempt(_getattr, col, src, base(env, tr), attr, tr, label)

    return run


def c_subscript(c: Compiling, node: ast.Subscript) -> Run:
    base = c.compile(node.value)
    index = c.compile(node.slice)
    col, src = c.col(node), c.prep.source

    def run(env: Env, tr: Trace) -> Any:
        obj, key = base(env, tr), unwrap(index(env, tr))
        return attempt(_getitem, col, src, obj, key, tr)

    return run


def c_call(c: Compiling, node: ast.Call) -> Run:
    func = c.compile(node.func)
    args = [c.compile(a) for a in node.args]
    kwargs: list[tuple[str, Run]] = []
    for kw in node.keywords:
        if kw.arg is None:
            raise c.refuse(kw.value, "'**' unpacking")
        kwargs.append((kw.arg, c.compile(kw.value)))
    col, src = c.col(node), c.prep.source
    if len(args) + len(kwargs) > MAX_ARGS:
        raise LimitError(
            "too many arguments", column=col, expression=src, why=f"the limit is {MAX_ARGS}"
        )
    label = c.segment(node) or "call"
    # an error about one argument points at it (``n=8 GB``), not at the call
    places = ([c.col(a) for a in node.args], {str(kw.arg): c.col(kw) for kw in node.keywords})

    def run(env: Env, tr: Trace) -> Any:
        f = func(env, tr)
        a = [a_(env, tr) for a_ in args]
        k = {n: v(env, tr) for n, v in kwargs}
        try:
            return _call(f, a, k, tr, label)
        except MlsysimError as exc:
            raise locate(exc, _argument_col(exc, f, places, col), src) from None
        except Exception as exc:
            raise wrap_error(exc, col, src) from None

    return run


def _argument_col(
    exc: MlsysimError, f: Any, places: tuple[list[int], dict[str, int]], col: int
) -> int:
    """Where the argument an error is about is written (its keyword, or its position in the
    call), else the call's column ``col``."""
    name = getattr(exc, "argument", None)
    if name is None and isinstance(exc, DimensionError) and exc.operation == "use":
        name = exc.right  # DimensionError.for_argument: the argument's name
    if not isinstance(name, str):
        return col
    positional, keywords = places
    if name in keywords:
        return keywords[name]
    names = parameter_names(f) if isinstance(f, Fn) else []
    if name in names and names.index(name) < len(positional):
        return positional[names.index(name)]
    return col


# -- attribute access ----------------------------------------------------------------------
@lru_cache(maxsize=1)
def _classes() -> tuple[Any, Any, Any, Any]:
    from pydantic import BaseModel

    from mlsysim.core.registry import Registry
    from mlsysim.core.types import Spec
    from mlsysim.core.units import ureg

    return BaseModel, Spec, Registry, ureg.Quantity


def _getattr(obj: Any, attr: str, tr: Trace, label: str) -> Any:
    base_model, spec_cls, registry_cls, quantity_cls = _classes()
    if type(obj) is not View:
        if isinstance(obj, registry_cls):
            entry = obj[attr]
            return View(entry, entry, "", attr) if isinstance(entry, spec_cls) else entry
        if isinstance(obj, quantity_cls):
            if attr == "magnitude":
                return obj.magnitude
            raise NapkinError(
                f"a quantity has no readable attribute {attr!r}",
                why="only `.magnitude` is readable on a quantity",
                fix="convert with `-> unit` instead",
            )
        if isinstance(obj, base_model) or dataclasses.is_dataclass(obj):
            root = obj if isinstance(obj, spec_cls) else None
            obj = View(obj, root, "", label.rpartition(".")[0])
        else:
            raise NapkinError(f"{describe(obj)} has no readable attribute {attr!r}")
    inner = obj.obj
    if isinstance(inner, dict | tuple | list):
        raise NapkinError(
            f"{describe(obj)} has no attribute {attr!r}",
            fix=f'read its entries with [...], e.g. {obj.label}["{attr}"]',
        )
    allowed = readable_names(type(inner))  # type: ignore[arg-type]
    if attr not in allowed:
        delegate = getattr(inner, "__dict__", {}).get("transformer")
        if delegate is None or attr not in readable_names(type(delegate)):  # type: ignore[arg-type]
            names = sorted(allowed)
            raise UnknownNameError(
                f"field of {obj.label or describe(obj)}",
                attr,
                names,
                fix="readable here: " + ", ".join(names[:24]),
            )
    value = getattr(inner, attr)
    path = f"{obj.path}.{attr}" if obj.path else attr
    if value is None:  # an optional registry field the source does not give
        owner = obj.label or getattr(obj.root, "id", None) or "the entry"
        raise NapkinError(
            f"{owner}.{attr} is not given",
            why="its registry entry has no value for this optional field (the source states none)",
            fix="use a figure the entry has, or add this one, with its source, in a data file",
        )
    if callable(value) and not isinstance(value, type | quantity_cls):
        return Method(value, label, obj.root, attr)
    return _wrap_value(value, obj.root, path, label, tr)


def _wrap_value(value: Any, root: Any, path: str, label: str, tr: Trace) -> Any:
    base_model, _, _, quantity_cls = _classes()
    if type(value) is not quantity_cls and (
        isinstance(value, base_model | dict | tuple | list) or dataclasses.is_dataclass(value)
    ):
        return View(value, root, path, label)
    if root is not None:
        tr.reads.append((label, value, root.source_of(path)))
    return value


# -- subscripts and calls --------------------------------------------------------------------
def _getitem(obj: Any, key: Any, tr: Trace) -> Any:
    _, _spec_cls, registry_cls, _ = _classes()
    if isinstance(obj, registry_cls):
        if not isinstance(key, str):
            raise NapkinError('registry names are text, e.g. Hardware["H100 SXM"]')
        spec = obj[key]
        return View(spec, spec, "", spec.id)
    if isinstance(obj, View) and isinstance(obj.obj, dict | tuple | list):
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise NapkinError(f"cannot index with {describe(key)}")
        container: Any = obj.obj
        try:
            value = container[key]
        except (KeyError, IndexError, TypeError):
            keys = [str(k) for k in obj.obj] if isinstance(obj.obj, dict) else []
            raise UnknownNameError(f"entry of {obj.label}", str(key), keys) from None
        path = f"{obj.path}.{key}" if obj.path else str(key)
        return _wrap_value(value, obj.root, path, f"{obj.label}[{key!r}]", tr)
    raise NapkinError(f"{describe(obj)} cannot be indexed")


def _call(f: Any, args: list[Any], kwargs: dict[str, Any], tr: Trace, label: str) -> Any:
    if isinstance(f, Fn):
        tr.charge(_COST.get(f.kind, 10))
        if f.kind == "helper":
            return f.fn(*[unwrap(a) for a in args], **{k: unwrap(v) for k, v in kwargs.items()})
        plain = [unwrap(a) for a in args]
        kw = {k: unwrap(v) for k, v in kwargs.items()}
        bound = check_function_args(f, plain, kw)
        try:
            result = f.fn(*plain, **kw)
        except (DimensionError, FormulaDomainError, UnknownNameError) as exc:
            if f.kind == "formula":  # a wrong argument: show how the formula is called
                exc.fix = "; ".join(p for p in (exc.fix, call_help(f)) if p)
            raise
        tr.calls.append((label, result, getattr(f.fn, "formula", None), bound))
        tr.specs.extend(v for v in (*plain, *kw.values()) if isinstance(v, _classes()[1]))
        return result_view(result, label)
    if isinstance(f, Method):
        tr.charge(_COST["method"])
        owner = getattr(f.fn, "__self__", None)
        params = method_params(type(owner), f.name) if owner is not None else None  # type: ignore[arg-type]
        if params is None:
            raise NapkinError(f"{label} cannot be called")
        result = f.fn(**check_method_args(f, params, args, kwargs))
        if f.root is not None:
            tr.reads.append((label, result, f.root.source))
        return result_view(result, label)
    raise NapkinError(
        f"{describe(f)} cannot be called",
        why="only formulas, math helpers, model functions and listed methods are callable",
        fix="check the name before '('",
    )


#: AST node type -> compiler rule.
RULES = {
    ast.Name: c_name,
    ast.Attribute: c_attribute,
    ast.Subscript: c_subscript,
    ast.Call: c_call,
}
