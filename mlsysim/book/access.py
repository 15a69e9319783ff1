"""Compiler rules for names, attribute access, subscripts and calls, with provenance tracking.

Only public fields of registry entries, formula results and quantities (``magnitude``) are
readable; subscripts work on registries (``Hardware["H100 SXM"]``) and on tables inside an
entry; only whitelisted callables (:class:`~mlsysim.book.trace.Fn`) and public methods of
entries and results (:class:`~mlsysim.book.trace.Method`) may be called. Every registry read
and formula call is recorded in the :class:`~mlsysim.book.trace.Trace` with its citation.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from mlsysim.book.compiler import CompilerBase, Run, attempt, locate, make_quantity
from mlsysim.book.limits import MAX_ARGS
from mlsysim.book.trace import Env, Fn, Method, Trace, View, kind_of, unwrap
from mlsysim.core.exceptions import LimitError, MlsysimError, NapkinError

__all__ = ["AccessRules"]


class AccessRules(CompilerBase):
    """``c_<Node>`` rules for names (and quantity literals), attributes, subscripts, calls."""

    def c_Name(self, node: ast.Name) -> Run:
        lit = self.literal(node)
        col = self.col(node)
        src = self.prep.source
        if lit is not None:
            q = make_quantity(lit, col, src)
            return lambda env, tr: q
        if node.id.startswith("_"):
            raise self.refuse(node, f"the name {node.id!r}")
        name = node.id

        def run(env: Env, tr: Trace) -> Any:
            try:
                return env(name)
            except MlsysimError as exc:
                raise locate(exc, col, src) from None

        return run

    def c_Attribute(self, node: ast.Attribute) -> Run:
        if node.attr.startswith("_"):
            err = self.refuse(node, f"the attribute {node.attr!r}")
            err.column = self.attr_col(node)
            raise err
        base = self.compile(node.value)
        attr = node.attr
        col = self.attr_col(node)
        src = self.prep.source
        label = ast.get_source_segment(self.prep.code, node) or attr

        def run(env: Env, tr: Trace) -> Any:
            return attempt(_getattr, col, src, base(env, tr), attr, tr, label)

        return run

    def c_Subscript(self, node: ast.Subscript) -> Run:
        base = self.compile(node.value)
        index = self.compile(node.slice)
        col = self.col(node)
        src = self.prep.source

        def run(env: Env, tr: Trace) -> Any:
            obj, key = base(env, tr), unwrap(index(env, tr))
            return attempt(_getitem, col, src, obj, key, tr)

        return run

    def c_Call(self, node: ast.Call) -> Run:
        func = self.compile(node.func)
        args = [self.compile(a) for a in node.args]
        kwargs: list[tuple[str, Run]] = []
        for kw in node.keywords:
            if kw.arg is None:
                raise self.refuse(kw.value, "'**' unpacking")
            kwargs.append((kw.arg, self.compile(kw.value)))
        if len(args) + len(kwargs) > MAX_ARGS:
            raise LimitError(
                "too many arguments",
                column=self.col(node),
                expression=self.prep.source,
                why=f"the limit is {MAX_ARGS}",
            )
        col = self.col(node)
        src = self.prep.source
        label = ast.get_source_segment(self.prep.code, node) or "call"

        def run(env: Env, tr: Trace) -> Any:
            f = func(env, tr)
            a = [a_(env, tr) for a_ in args]
            k = {n: v(env, tr) for n, v in kwargs}
            return attempt(_call, col, src, f, a, k, tr, label)

        return run


# -- attribute access ----------------------------------------------------------------------
@lru_cache(maxsize=256)
def _public_names(cls: Any) -> frozenset[str]:
    """Attributes of a pydantic model or dataclass the napkin language may read."""
    from pydantic import BaseModel

    names: set[str] = set()
    if issubclass(cls, BaseModel):
        names |= set(cls.model_fields)
        stop: tuple[type, ...] = (BaseModel, object)
    else:
        if dataclasses.is_dataclass(cls):
            names |= {f.name for f in dataclasses.fields(cls)}
        stop = (object,)
    for klass in cls.__mro__:
        if klass in stop:
            break
        if klass.__module__.startswith(("pydantic", "builtins")):
            continue
        names |= {n for n in vars(klass) if not n.startswith("_")}
    return frozenset(n for n in names if not n.startswith(("_", "model_")))


def _getattr(obj: Any, attr: str, tr: Trace, label: str) -> Any:
    if type(obj) is not View:
        try:
            obj = _as_view(obj, attr, label)
        except _Found as found:
            return found.value
    inner = obj.obj
    allowed = _public_names(type(inner))  # type: ignore[arg-type]
    if attr not in allowed:
        delegate = getattr(inner, "__dict__", {}).get("transformer")
        if delegate is None or attr not in _public_names(type(delegate)):  # type: ignore[arg-type]
            from mlsysim.core.exceptions import UnknownNameError

            names = sorted(allowed)
            raise UnknownNameError(
                f"field of {obj.label or type(inner).__name__}",
                attr,
                names,
                fix="fields: " + ", ".join(names[:20]),
            )
    value = getattr(inner, attr)
    path = f"{obj.path}.{attr}" if obj.path else attr
    if value is None:  # an optional registry field the source does not give
        owner = obj.label or getattr(obj.root, "id", None) or type(inner).__name__
        raise NapkinError(
            f"{owner}.{attr} is not given",
            why="its registry entry has no value for this optional field (the source states none)",
            fix="use a figure the entry has, or add this one, with its source, in a data file",
        )
    return _wrap_value(value, obj.root, path, label, tr)


def _as_view(obj: Any, attr: str, label: str) -> Any:
    """A registry, quantity or result reached without a View; raises for anything else."""
    base_model, spec_cls, registry_cls, quantity_cls = _classes()
    if isinstance(obj, registry_cls):
        entry = obj[attr]
        raise _Found(View(entry, entry, "", attr) if isinstance(entry, spec_cls) else entry)
    if isinstance(obj, quantity_cls):
        if attr == "magnitude":
            raise _Found(obj.magnitude)
        raise NapkinError(
            f"a quantity has no readable attribute {attr!r}",
            why="only `.magnitude` is readable on a quantity",
            fix="convert with `-> unit` instead",
        )
    if isinstance(obj, spec_cls | base_model) or dataclasses.is_dataclass(obj):
        return View(obj, obj if isinstance(obj, spec_cls) else None, "", label.rpartition(".")[0])
    raise NapkinError(f"{kind_of(obj)} has no readable attribute {attr!r}")


class _Found(Exception):
    """Carries a value reached directly (a registry entry, a magnitude) out of _as_view."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


@lru_cache(maxsize=1)
def _classes() -> tuple[Any, Any, Any, Any]:
    from pydantic import BaseModel

    from mlsysim.core.registry import Registry
    from mlsysim.core.types import Spec
    from mlsysim.core.units import ureg

    return BaseModel, Spec, Registry, ureg.Quantity


def _wrap_value(value: Any, root: Any, path: str, label: str, tr: Trace) -> Any:
    base_model, _, _, quantity_cls = _classes()
    if type(value) is not quantity_cls:
        if callable(value) and not isinstance(value, type):
            return Method(value, label, root)
        if isinstance(value, base_model | dict | tuple | list) or dataclasses.is_dataclass(value):
            return View(value, root, path, label)
    if root is not None:
        tr.reads.append((label, value, root.source_of(path)))
    return value


# -- subscripts and calls --------------------------------------------------------------------
def _getitem(obj: Any, key: Any, tr: Trace) -> Any:
    from mlsysim.core.registry import Registry

    if isinstance(obj, Registry):
        if not isinstance(key, str):
            raise NapkinError('registry names are text, e.g. Hardware["H100 SXM"]')
        spec = obj[key]
        return View(spec, spec, "", spec.id)
    if isinstance(obj, View) and isinstance(obj.obj, dict | tuple | list):
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise NapkinError(f"cannot index with {kind_of(key)}")
        container: Any = obj.obj
        try:
            value = container[key]
        except (KeyError, IndexError):
            from mlsysim.core.exceptions import UnknownNameError

            keys = [str(k) for k in obj.obj] if isinstance(obj.obj, dict) else []
            raise UnknownNameError(f"entry of {obj.label}", str(key), keys) from None
        path = f"{obj.path}.{key}" if obj.path else str(key)
        return _wrap_value(value, obj.root, path, f"{obj.label}[{key!r}]", tr)
    raise NapkinError(f"{kind_of(obj)} cannot be indexed")


def _call(f: Any, args: list[Any], kwargs: dict[str, Any], tr: Trace, label: str) -> Any:
    plain = [unwrap(a) for a in args]
    kw = {k: unwrap(v) for k, v in kwargs.items()}
    if isinstance(f, Fn):
        result = f.fn(*plain, **kw)
        info = getattr(f.fn, "formula", None)
        if f.kind != "helper":
            bound = _bind_args(f.fn, plain, kw)
            tr.calls.append((label, result, info, bound))
            tr.specs.extend(v for v in plain + list(kw.values()) if _is_spec(v))
        return _wrap_result(result, label)
    if isinstance(f, Method):
        result = f.fn(*plain, **kw)
        if f.root is not None:
            tr.reads.append((label, result, f.root.source))
        return _wrap_result(result, label)
    raise NapkinError(
        f"{kind_of(f)} cannot be called",
        why="only formulas, math helpers, solve and registry methods are callable",
        fix="check the name before '('",
    )


def _wrap_result(result: Any, label: str) -> Any:
    if _is_model(result) or dataclasses.is_dataclass(result):
        return View(result, None, "", label)
    return result


def _bind_args(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    import inspect

    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return {f"arg{i}": a for i, a in enumerate(args)} | kwargs
    bound.apply_defaults()
    return dict(bound.arguments)


def _is_spec(obj: Any) -> bool:
    return isinstance(obj, _classes()[1])


def _is_model(obj: Any) -> bool:
    return isinstance(obj, _classes()[0])
