"""The napkin evaluator: a whitelist compiler from :mod:`ast` to closures, with resource limits.

An expression is parsed once (cached by its text) and *compiled*: every AST node is checked
against the whitelist and turned into a small Python closure, so re-evaluating the same text
costs a few function calls. Nothing is ever passed to ``eval``/``exec``.

Allowed: numbers, strings (short), booleans, quantity literals, names, ``+ - * / // % **``,
unary ``- + not``, comparisons, ``and``/``or``, ``a if c else b``, tuples/lists, attribute
access on registry entries, formula results and quantities (``magnitude`` only), subscripts on
registry tables and results, and calls to whitelisted callables (formulas, math helpers,
``solve``, registry methods such as ``peak_flops``) with keyword arguments. Everything else —
lambdas, comprehensions, f-strings, starred arguments, walrus, ``_`` names — is refused with
the column of the offending construct.

Limits (:class:`~mlsysim.core.exceptions.LimitError`): expression length, AST size and depth,
exponents, magnitudes and string length, each checked before the costly operation runs.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mlsysim.book.fastq import binop, compare
from mlsysim.book.lang import Literal, Prepared, parse_expression
from mlsysim.core.exceptions import LimitError, MlsysimError, NapkinError, NapkinSyntaxError

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_MAGNITUDE",
    "MAX_NODES",
    "MAX_STRING",
    "Compiled",
    "Fn",
    "Method",
    "Trace",
    "View",
    "compile_expression",
    "unwrap",
]

#: AST size limits: node count and nesting depth of one expression.
MAX_NODES = 400
MAX_DEPTH = 40
#: Largest |exponent| of ``**`` (numbers); quantities with units allow :data:`MAX_UNIT_EXPONENT`.
MAX_EXPONENT = 1000
MAX_UNIT_EXPONENT = 12
#: Largest |magnitude| of any intermediate value.
MAX_MAGNITUDE = 1e300
#: Longest string constant (characters).
MAX_STRING = 200
#: Most positional plus keyword arguments in one call.
MAX_ARGS = 24

Env = Callable[[str], Any]


@dataclass
class Trace:
    """What an evaluation touched: registry reads, formula calls and document names.

    ``reads`` are (label, value, citation id or None); ``calls`` are (label, result,
    FormulaInfo or None, arguments); ``names`` are the document bindings used.
    """

    reads: list[tuple[str, Any, str | None]] = field(default_factory=list)
    calls: list[tuple[str, Any, Any, dict[str, Any]]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    specs: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Fn:
    """A whitelisted callable in scope: a formula, a math helper or ``solve``."""

    fn: Callable[..., Any]
    name: str
    kind: str  # "formula" | "helper" | "solver"

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"


@dataclass(frozen=True, slots=True)
class Method:
    """A public method of a registry entry or result, bound and labelled for provenance."""

    fn: Callable[..., Any]
    label: str
    root: Any  # the registry Spec it belongs to, or None for results


@dataclass(frozen=True, slots=True)
class View:
    """A registry entry, one of its sub-tables, or a result, with the path that reached it."""

    obj: Any
    root: Any  # the registry Spec, or None for computed results
    path: str  # dotted field path inside root ("" for the entry itself)
    label: str  # how the author wrote it, e.g. "H100.memory"

    def __str__(self) -> str:
        return str(self.obj)


def unwrap(value: Any) -> Any:
    """The plain object behind a :class:`View` (what formulas and hosts receive)."""
    return value.obj if isinstance(value, View) else value


@dataclass(frozen=True, slots=True)
class Compiled:
    """A checked, compiled expression: call ``run(env, trace)`` to evaluate it.

    ``digits`` is the number of significant digits as written when the whole expression is a
    literal number or quantity (``3.0 ms`` → 2), else None.
    """

    source: str
    run: Callable[[Env, Trace], Any]
    digits: int | None
    node: ast.expr
    prepared: Prepared


def compile_expression(text: str) -> Compiled:
    """Parse and compile ``text`` (no ``->``); cached by text. Raises NapkinSyntaxError."""
    return _compile_cached(text)


@lru_cache(maxsize=4096)
def _compile_cached(text: str) -> Compiled:
    node, prep = parse_expression(text)
    _check_size(node, text)
    comp = _Compiler(prep)
    fn = comp.compile(node)
    return Compiled(text, fn, comp.literal_digits(node), node, prep)


def _check_size(node: ast.AST, text: str) -> None:
    count = 0
    stack: list[tuple[ast.AST, int]] = [(node, 1)]
    while stack:
        cur, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            what = "too many parts" if count > MAX_NODES else "nested too deeply"
            raise LimitError(
                f"expression has {what}",
                column=0,
                expression=text,
                why=f"limits are {MAX_NODES} nodes and depth {MAX_DEPTH}",
                fix="split it into named steps in a napkin block",
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(cur))


_BINOPS: dict[type, tuple[Callable[[Any, Any], Any], str]] = {
    ast.Add: (operator.add, "+"),
    ast.Sub: (operator.sub, "-"),
    ast.Mult: (operator.mul, "*"),
    ast.Div: (operator.truediv, "/"),
    ast.FloorDiv: (operator.floordiv, "//"),
    ast.Mod: (operator.mod, "%"),
}
_FAST = ("+", "-", "*", "/")
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_NOT_ALLOWED = {
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.NamedExpr: "':=' (walrus)",
    ast.Starred: "'*' unpacking",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.Slice: "a slice",
}


class _Compiler:
    """Turns a whitelisted AST into closures; every refusal carries the node's column."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        lines = prep.code.split("\n")
        self._lines = lines
        self._starts = [0]
        for ln in lines[:-1]:
            self._starts.append(self._starts[-1] + len(ln) + 1)

    # -- locations --------------------------------------------------------------------
    def col(self, node: ast.AST) -> int:
        """0-based character offset of ``node`` in the expression text."""
        lineno = max(getattr(node, "lineno", 1), 1)
        byte_col = getattr(node, "col_offset", 0)
        idx = min(lineno, len(self._lines)) - 1
        line = self._lines[idx].encode("utf-8")
        return self._starts[idx] + len(line[:byte_col].decode("utf-8", "ignore"))

    def refuse(self, node: ast.AST, what: str, fix: str = "") -> NapkinSyntaxError:
        return NapkinSyntaxError(
            f"{what} is not allowed in napkin expressions",
            column=self.col(node),
            expression=self.prep.source,
            why="napkin math is a small safe subset of Python expressions",
            fix=fix or "use numbers, units, names, arithmetic and calls to formulas",
        )

    def literal_digits(self, node: ast.expr) -> int | None:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            node = node.operand
        if isinstance(node, ast.Name):
            lit = self._literal(node)
            return _sig_digits(lit.number) if lit else None
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            seg = ast.get_source_segment(self.prep.code, node) or ""
            return _sig_digits(seg) if seg else None
        return None

    def _literal(self, node: ast.Name) -> Literal | None:
        return self.prep.literals.get((node.lineno, node.col_offset))

    # -- dispatch ---------------------------------------------------------------------
    def compile(self, node: ast.AST) -> Callable[[Env, Trace], Any]:
        for bad, label in _NOT_ALLOWED.items():
            if isinstance(node, bad):
                raise self.refuse(node, label)
        method = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            raise self.refuse(node, f"'{type(node).__name__}'")
        fn: Callable[[Env, Trace], Any] = method(node)
        return fn

    def c_Constant(self, node: ast.Constant) -> Callable[[Env, Trace], Any]:
        value = node.value
        if type(value) not in (int, float, bool, str):
            raise self.refuse(node, f"a {type(value).__name__} constant")
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise LimitError(
                "string is too long",
                column=self.col(node),
                expression=self.prep.source,
                why=f"strings are limited to {MAX_STRING} characters",
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            _check_magnitude(value, self.col(node), self.prep.source)
        return lambda env, tr: value

    def c_Name(self, node: ast.Name) -> Callable[[Env, Trace], Any]:
        lit = self._literal(node)
        col = self.col(node)
        src = self.prep.source
        if lit is not None:
            q = _make_quantity(lit, col, src)
            return lambda env, tr: q
        if node.id.startswith("_"):
            raise self.refuse(node, f"the name {node.id!r}")
        name = node.id

        def run(env: Env, tr: Trace) -> Any:
            try:
                return env(name)
            except MlsysimError as exc:
                raise _locate(exc, col, src) from None

        return run

    def end_col(self, node: ast.AST) -> int:
        """0-based offset just after ``node`` in the expression text."""
        end_line: int = getattr(node, "end_lineno", None) or getattr(node, "lineno", 1) or 1
        end_col = int(getattr(node, "end_col_offset", None) or 0)
        idx = min(end_line, len(self._lines)) - 1
        raw = self._lines[idx].encode("utf-8")[:end_col].decode("utf-8", "ignore")
        return self._starts[idx] + len(raw)

    def op_col(self, left: ast.AST) -> int:
        """0-based offset of the binary operator that follows ``left``."""
        code = self.prep.code
        i = self.end_col(left)
        while i < len(code) and code[i] in " \t\n)\\":
            i += 1
        return min(i, max(len(code) - 1, 0))

    def attr_col(self, node: ast.Attribute) -> int:
        """0-based offset of the attribute *name* (``x.name``) in the expression text."""
        end_line = getattr(node, "end_lineno", None) or node.lineno
        end_col = getattr(node, "end_col_offset", None)
        if end_col is None:
            return self.col(node)
        idx = min(end_line, len(self._lines)) - 1
        raw = self._lines[idx].encode("utf-8")[:end_col].decode("utf-8", "ignore")
        return self._starts[idx] + len(raw) - len(node.attr)

    def c_Attribute(self, node: ast.Attribute) -> Callable[[Env, Trace], Any]:
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
            obj = base(env, tr)
            try:
                return _getattr(obj, attr, tr, label)
            except _Found as found:
                return found.value
            except MlsysimError as exc:
                raise _locate(exc, col, src) from None
            except Exception as exc:
                raise _wrap(exc, col, src) from None

        return run

    def c_Subscript(self, node: ast.Subscript) -> Callable[[Env, Trace], Any]:
        base = self.compile(node.value)
        index = self.compile(node.slice)
        col = self.col(node)
        src = self.prep.source

        def run(env: Env, tr: Trace) -> Any:
            obj, key = base(env, tr), unwrap(index(env, tr))
            try:
                return _getitem(obj, key, tr)
            except MlsysimError as exc:
                raise _locate(exc, col, src) from None
            except Exception as exc:
                raise _wrap(exc, col, src) from None

        return run

    def c_Call(self, node: ast.Call) -> Callable[[Env, Trace], Any]:
        func = self.compile(node.func)
        args = [self.compile(a) for a in node.args]
        kwargs: list[tuple[str, Callable[[Env, Trace], Any]]] = []
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
            try:
                return _call(f, a, k, tr, label, src)
            except MlsysimError as exc:
                raise _locate(exc, col, src) from None
            except Exception as exc:
                raise _wrap(exc, col, src) from None

        return run

    def c_BinOp(self, node: ast.BinOp) -> Callable[[Env, Trace], Any]:
        left, right = self.compile(node.left), self.compile(node.right)
        col, src = self.col(node.right), self.prep.source
        opcol = self.op_col(node.left)
        if isinstance(node.op, ast.Pow):

            def run_pow(env: Env, tr: Trace) -> Any:
                a, b = unwrap(left(env, tr)), unwrap(right(env, tr))
                return _power(a, b, opcol, src)

            return run_pow
        entry = _BINOPS.get(type(node.op))
        if entry is None:
            raise self.refuse(node, f"the operator {type(node.op).__name__}")
        op, sym = entry

        def run(env: Env, tr: Trace) -> Any:
            a, b = unwrap(left(env, tr)), unwrap(right(env, tr))
            if isinstance(a, str) or isinstance(b, str):
                raise NapkinError(
                    f"text cannot be used with '{sym}'",
                    column=opcol,
                    expression=src,
                    fix="arithmetic works on numbers and quantities",
                )
            try:
                out = binop(sym, a, b, op) if sym in _FAST else op(a, b)
            except ZeroDivisionError:
                raise NapkinError(
                    "division by zero",
                    column=col,
                    expression=src,
                    why="the divisor evaluates to zero",
                    fix="check the value of the divisor",
                ) from None
            except MlsysimError as exc:
                raise _locate(exc, opcol, src) from None
            except Exception as exc:
                raise _wrap(exc, opcol, src) from None
            return _checked(out, opcol, src)

        return run

    def c_UnaryOp(self, node: ast.UnaryOp) -> Callable[[Env, Trace], Any]:
        inner = self.compile(node.operand)
        col, src = self.col(node), self.prep.source
        if isinstance(node.op, ast.Not):
            return lambda env, tr: not _truth(unwrap(inner(env, tr)), col, src)
        if isinstance(node.op, ast.USub | ast.UAdd):
            neg = isinstance(node.op, ast.USub)

            def run(env: Env, tr: Trace) -> Any:
                v = unwrap(inner(env, tr))
                if isinstance(v, str) or not _is_numeric(v):
                    raise NapkinError(f"cannot negate {_kind(v)}", column=col, expression=src)
                return -v if neg else +v

            return run
        raise self.refuse(
            node,
            "the '~' operator",
            fix="claims use '~' only at the top level of a claim: `300 FLOP/B ~ ridge`",
        )

    def c_BoolOp(self, node: ast.BoolOp) -> Callable[[Env, Trace], Any]:
        parts = [self.compile(v) for v in node.values]
        col, src = self.col(node), self.prep.source
        is_and = isinstance(node.op, ast.And)

        def run(env: Env, tr: Trace) -> Any:
            result: Any = None
            for p in parts:
                result = unwrap(p(env, tr))
                truth = _truth(result, col, src)
                if truth != is_and:
                    return result
            return result

        return run

    def c_Compare(self, node: ast.Compare) -> Callable[[Env, Trace], Any]:
        first = self.compile(node.left)
        rest = []
        for op, comp in zip(node.ops, node.comparators, strict=True):
            fn = _CMPOPS.get(type(op))
            if fn is None:
                raise self.refuse(node, f"the comparison {type(op).__name__}")
            rest.append((fn, self.compile(comp)))
        col, src = self.col(node), self.prep.source

        def run(env: Env, tr: Trace) -> Any:
            a = unwrap(first(env, tr))
            for fn, comp in rest:
                b = unwrap(comp(env, tr))
                try:
                    ok = compare(fn, a, b)
                except MlsysimError as exc:
                    raise _locate(exc, col, src) from None
                except Exception as exc:
                    raise _wrap(exc, col, src) from None
                if not _truth(ok, col, src):
                    return False
                a = b
            return True

        return run

    def c_IfExp(self, node: ast.IfExp) -> Callable[[Env, Trace], Any]:
        test, body, orelse = (
            self.compile(node.test),
            self.compile(node.body),
            self.compile(node.orelse),
        )
        col, src = self.col(node), self.prep.source
        return lambda env, tr: (
            body(env, tr) if _truth(unwrap(test(env, tr)), col, src) else orelse(env, tr)
        )

    def c_Tuple(self, node: ast.Tuple) -> Callable[[Env, Trace], Any]:
        items = [self.compile(e) for e in node.elts]
        return lambda env, tr: tuple(i(env, tr) for i in items)

    c_List = c_Tuple


# -- values ---------------------------------------------------------------------------------
def _sig_digits(number: str) -> int:
    """Significant digits of a number as written (``3.0`` → 2, ``300`` → 3, ``1e9`` → 1)."""
    mant = number.replace("_", "").lstrip("+-").split("e")[0].split("E")[0]
    digits = mant.replace(".", "").lstrip("0")
    return max(len(digits), 1)


@lru_cache(maxsize=1024)
def _unit_of(unit: str) -> Any:
    from mlsysim.core.units import ureg

    return ureg.parse_units(unit.replace("^", "**").replace("·", "*"))


def _make_quantity(lit: Literal, col: int, src: str) -> Any:
    from mlsysim.core.units import ureg

    text = lit.number.replace("_", "")
    try:
        mag: int | float = int(text) if text.isdigit() else float(text)
    except ValueError:
        raise NapkinSyntaxError(
            f"cannot read the number {lit.number!r}", column=col, expression=src
        ) from None
    _check_magnitude(mag, col, src)
    return ureg.Quantity(mag, _unit_of(lit.unit))


def _is_numeric(v: Any) -> bool:
    from mlsysim.core.units import ureg

    return (isinstance(v, int | float) and not isinstance(v, bool)) or isinstance(v, ureg.Quantity)


def _kind(v: Any) -> str:
    v = unwrap(v)
    if isinstance(v, str):
        return "text"
    return f"a {type(v).__name__}"


def _check_magnitude(x: Any, col: int, src: str) -> None:
    if isinstance(x, bool):
        return
    if isinstance(x, int):
        if x.bit_length() > 1000 or abs(x) > MAX_MAGNITUDE:
            raise LimitError(
                "number is too large",
                column=col,
                expression=src,
                why=f"magnitudes are limited to {MAX_MAGNITUDE:g}",
            )
        return
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            raise NapkinError(
                f"result is not a finite number ({x})",
                column=col,
                expression=src,
                why="an operation overflowed or was undefined",
                fix="check for division by a tiny value or a log of zero",
            )
        if abs(x) > MAX_MAGNITUDE:
            raise LimitError(
                "number is too large",
                column=col,
                expression=src,
                why=f"magnitudes are limited to {MAX_MAGNITUDE:g}",
            )


def _checked(out: Any, col: int, src: str) -> Any:
    mag = getattr(out, "_magnitude", out)
    if isinstance(mag, int | float):
        _check_magnitude(mag, col, src)
    return out


def _power(a: Any, b: Any, col: int, src: str) -> Any:
    from mlsysim.core.units import ureg

    if isinstance(b, ureg.Quantity):
        if not b.dimensionless:
            raise NapkinError(
                "an exponent must be a plain number",
                column=col,
                expression=src,
                why=f"the exponent has units ({b.units:~P})",
            )
        b = b.to("").magnitude
    if not _is_numeric(a) or not isinstance(b, int | float) or isinstance(b, bool):
        raise NapkinError("'**' needs numbers", column=col, expression=src)
    limit = (
        MAX_UNIT_EXPONENT if isinstance(a, ureg.Quantity) and not a.dimensionless else MAX_EXPONENT
    )
    if abs(b) > limit:
        raise LimitError(
            f"exponent {b:g} is too large",
            column=col,
            expression=src,
            why=f"exponents are limited to ±{limit}",
            fix="use a smaller exponent or scientific notation (1e9)",
        )
    try:
        if isinstance(a, int) and isinstance(b, int) and b >= 0:
            if a.bit_length() * b > 1000:
                raise OverflowError
            out = a**b
        elif isinstance(a, int | float):
            out = float(a) ** b
        else:
            out = a**b
    except ZeroDivisionError:
        raise NapkinError("zero raised to a negative power", column=col, expression=src) from None
    except OverflowError:
        raise LimitError(
            "result of '**' is too large",
            column=col,
            expression=src,
            why=f"magnitudes are limited to {MAX_MAGNITUDE:g}",
        ) from None
    if isinstance(out, complex):
        raise NapkinError(
            "a negative number raised to a fractional power",
            column=col,
            expression=src,
            why="the result would be complex",
        )
    return _checked(out, col, src)


def _truth(value: Any, col: int, src: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    raise NapkinError(
        f"{_kind(value)} cannot be used as true/false",
        column=col,
        expression=src,
        fix="compare it with something, e.g. `x > 1 ms`",
    )


# -- attribute access, subscripts and calls ----------------------------------------------------
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
        obj = _as_view(obj, attr, label)
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
    raise NapkinError(f"{_kind(obj)} has no readable attribute {attr!r}")


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


def _getitem(obj: Any, key: Any, tr: Trace) -> Any:
    from mlsysim.core.registry import Registry

    if isinstance(obj, Registry):
        if not isinstance(key, str):
            raise NapkinError('registry names are text, e.g. Hardware["H100 SXM"]')
        spec = obj[key]
        return View(spec, spec, "", spec.id)
    if isinstance(obj, View) and isinstance(obj.obj, dict | tuple | list):
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise NapkinError(f"cannot index with {_kind(key)}")
        container: Any = obj.obj
        try:
            value = container[key]
        except (KeyError, IndexError):
            from mlsysim.core.exceptions import UnknownNameError

            keys = [str(k) for k in obj.obj] if isinstance(obj.obj, dict) else []
            raise UnknownNameError(f"entry of {obj.label}", str(key), keys) from None
        path = f"{obj.path}.{key}" if obj.path else str(key)
        return _wrap_value(value, obj.root, path, f"{obj.label}[{key!r}]", tr)
    raise NapkinError(f"{_kind(obj)} cannot be indexed")


def _call(f: Any, args: list[Any], kwargs: dict[str, Any], tr: Trace, label: str, src: str) -> Any:
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
        f"{_kind(f)} cannot be called",
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


# -- errors ---------------------------------------------------------------------------------
def _locate(exc: MlsysimError, col: int, src: str) -> MlsysimError:
    """Attach a column (0-based in the expression) unless an inner node already did."""
    if getattr(exc, "column", None) is None:
        exc.column = col  # type: ignore[attr-defined]
    if not getattr(exc, "expression", ""):
        exc.expression = src  # type: ignore[attr-defined]
    return exc


def _wrap(exc: BaseException, col: int, src: str) -> NapkinError:
    """A non-mlsysim exception from an operation, as a located NapkinError."""
    if isinstance(exc, ZeroDivisionError):
        return NapkinError(
            "division by zero", column=col, expression=src, fix="check the value of the divisor"
        )
    if isinstance(exc, RecursionError | OverflowError | MemoryError):
        return LimitError(
            "computation is too large", column=col, expression=src, why=type(exc).__name__
        )
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return NapkinError(
        f"cannot evaluate: {text}",
        column=col,
        expression=src,
        why=type(exc).__name__,
        fix="check the argument types and units at this position",
    )
