"""How a document evaluates item text: its scope, ``-> unit``, conversion and rendering.

An :class:`Evaluator` holds one document's options and :class:`~mlsysim.book.scope.Scope`.
:meth:`Evaluator.evaluate` splits ``expr -> unit``, compiles (cached by text), runs under the
language's budget and converts; every error comes back as a
:class:`~mlsysim.book.outcomes.Located` with its column in the text. The digits a value was
written with (a literal, a binding, a registry value) travel along, so rendering never
re-rounds silently. :class:`Recorder` is what item code (statements, claims, tables) needs
from its document.
"""

from __future__ import annotations

import ast
import math
from functools import lru_cache
from typing import Any, Protocol

from mlsysim.book.failures import Failure, FailureKind
from mlsysim.book.lang import Compiled, Trace, View, compile_expression, split_conversion, unwrap
from mlsysim.book.lang.qualified import qualified_names
from mlsysim.book.lang.values import describe
from mlsysim.book.options import Options
from mlsysim.book.outcomes import Evaluated, Located
from mlsysim.book.scope import Scope
from mlsysim.core.exceptions import LimitError, MlsysimError, NapkinError, NapkinSyntaxError
from mlsysim.viz.rendered import Rendered

__all__ = ["Evaluator", "Recorder", "headline", "trace_cites", "written_digits"]

#: Significant digits of a computed value quoted in a message.
_MESSAGE_DIGITS = 4
_PERCENT_UNITS = ("%", "percent")
_MULTIPLIER_UNITS = ("×", "x", "times")


@lru_cache(maxsize=4096)
def _front(text: str) -> tuple[Compiled, str | None, int, dict[str, tuple[str, str]]]:
    """``expr -> unit`` split and compiled (cached by text), with the ``chapter::name``
    references it holds (placeholder name -> (chapter, name)); raises Located."""
    try:
        body, unit, unit_col = split_conversion(text)
        body, refs = qualified_names(body)
        return compile_expression(body), unit, unit_col or 0, refs
    except MlsysimError as exc:
        raise Located(exc, getattr(exc, "column", None) or 0) from None


class Evaluator:
    """One document's scope and options, and evaluation of its item text."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.scope = Scope()
        #: citation ids of every registry value and formula the document's values used, in
        #: first-use order (``mlsysim bib``), and those of the current item (hosts' cite keys)
        self.cites: dict[str, None] = {}
        self.item_cites: dict[str, None] = {}
        #: when a list, every evaluation adds the document bindings it read (an item's
        #: dependencies, for reusing its rendering)
        self.recording: list[str] | None = None

    def evaluate(self, text: str, extra: dict[str, Any] | None = None) -> Evaluated:
        """Evaluate ``text`` (with optional ``-> unit``); raises Located on any error."""
        compiled, unit, unit_col, refs = _front(text)
        tr = Trace()
        used = tr.names
        scope = self.scope
        if refs:
            plain = extra or {}

            def lookup(name: str) -> Any:
                ref = refs.get(name)
                if ref is not None:
                    return scope.lookup_qualified(ref[0], ref[1], used)
                return plain[name] if name in plain else scope.lookup(name, used)

        elif extra:

            def lookup(name: str) -> Any:
                return extra[name] if name in extra else scope.lookup(name, used)

        else:

            def lookup(name: str) -> Any:
                return scope.lookup(name, used)

        try:
            value = compiled.run(lookup, tr)
        except MlsysimError as exc:
            raise Located(exc, getattr(exc, "column", None) or 0) from None
        except RecursionError:
            raise Located(LimitError("expression is nested too deeply"), 0) from None
        if tr.reads or tr.calls or tr.specs or tr.names:
            for cid in trace_cites(tr, scope):
                self.cites[cid] = None
                self.item_cites[cid] = None
        digits = compiled.digits
        if digits is None:
            digits = self._raw_digits(compiled, value, tr, refs)
        style = None
        if unit in _PERCENT_UNITS:
            style, unit = "percent", None
        elif unit in _MULTIPLIER_UNITS:
            style, unit = "multiplier", None
        if unit is not None:
            try:
                self.convert(value, unit)
            except MlsysimError as exc:
                raise Located(exc, unit_col) from None
        if self.recording is not None:
            self.recording.extend(tr.names)
        return Evaluated(value, digits, unit, style, tr, compiled)

    def _raw_digits(
        self, compiled: Compiled, value: Any, tr: Trace, refs: dict[str, tuple[str, str]]
    ) -> int | None:
        """Digits as written of a raw registry value or a literal-bound name, else None."""
        node = compiled.node
        if isinstance(node, ast.Name) and len(tr.names) == 1:
            ref = refs.get(node.id)
            if tr.names[0] == node.id or (ref is not None and tr.names[0] == "::".join(ref)):
                b = self.scope.binding(tr.names[0])
                return b.digits if b is not None else None
        if (
            isinstance(node, ast.Attribute | ast.Subscript | ast.Call)
            and not tr.calls
            and len(tr.reads) == 1
            and tr.reads[0][1] is value
        ):
            return written_digits(value)
        return None

    def convert(self, value: Any, unit: str) -> Any:
        """``value`` in ``unit`` (a Quantity); MlsysimError when it has no such form."""
        from mlsysim.core.units import convert, unit_from_text, ureg

        v = headline(unwrap(value))
        text = unit.strip()
        if text == "auto":
            return v
        if isinstance(v, bool) or not isinstance(v, int | float | ureg.Quantity):
            raise NapkinError(
                f"{describe(v)} cannot be converted to {text}",
                fix="'-> unit' converts numbers and quantities",
            )
        try:
            target = unit_from_text("%" if text in _PERCENT_UNITS else text)
        except MlsysimError as exc:
            raise NapkinSyntaxError(
                f"cannot read the unit {text!r}",
                column=0,
                expression=text,
                why=exc.what,
                fix="write a unit after '->', e.g. `-> ms`, `-> TB/s`, `-> %`",
            ) from None
        out = convert(v if isinstance(v, ureg.Quantity) else ureg.Quantity(v), target)
        mag = out.magnitude
        if isinstance(mag, float) and not math.isfinite(mag):
            raise LimitError(
                f"the value is too large to show in {text}",
                why="converting it overflows a floating-point number",
                fix="convert to a larger unit",
            )
        return out

    def render_options(
        self, ev: Evaluated, unit: str | None, sig_figs: int | None, style: str | None
    ) -> dict[str, Any]:
        """Keyword arguments of :func:`mlsysim.viz.format.render_value` for ``ev``."""
        return {
            "unit": unit or ev.unit,
            "sig_figs": sig_figs,
            "style": style or ev.style,
            "given_digits": ev.digits if sig_figs is None else None,
            "siunitx": self.options.siunitx,
            "thousands": self.options.thousands,
            "default_sig_figs": self.options.sig_figs,
        }

    def render(
        self, ev: Evaluated, *, unit: str | None, sig_figs: int | None, style: str | None
    ) -> Rendered:
        """The rendering of ``ev``; raises Located."""
        from mlsysim.viz.format import render_value

        try:
            return render_value(
                headline(unwrap(ev.value)), **self.render_options(ev, unit, sig_figs, style)
            )
        except MlsysimError as exc:
            raise Located(exc, 0) from None

    def text(self, value: Any, like: Any = None, digits: int | None = None) -> str:
        """Short text of a value for messages (in the unit of ``like`` when given)."""
        from mlsysim.core.units import ureg
        from mlsysim.viz.format import render_value

        v = headline(unwrap(value))
        figs = None if digits else _MESSAGE_DIGITS
        try:
            if (
                isinstance(like, ureg.Quantity)
                and isinstance(v, ureg.Quantity)
                and not like.dimensionless
            ):
                return render_value(v, unit=like.units, sig_figs=figs, given_digits=digits).text
            return render_value(v, sig_figs=figs, given_digits=digits).text
        except MlsysimError:
            return describe(v)


def trace_cites(tr: Trace, scope: Scope | None = None) -> list[str]:
    """Citation ids of everything ``tr`` touched, the used bindings' own citations included."""
    ids: list[str] = []
    if scope is not None:
        for name in dict.fromkeys(tr.names):
            b = scope.binding(name)
            if b is not None:
                ids += list(b.cites)
    ids += [c for _, _, c in tr.reads if c]
    for _, _, info, _ in tr.calls:
        ids += list(getattr(info, "sources", ()) or ())
    ids += [s.source for s in tr.specs]
    return list(dict.fromkeys(ids))


def headline(value: Any) -> Any:
    """A result object's headline value (``.value``) for rendering; other values unchanged."""
    v = unwrap(value)
    if isinstance(value, View) and value.root is None and hasattr(v, "value"):
        return v.value
    return v


def written_digits(value: Any) -> int | None:
    """Significant digits of a registry float as stored (``989.4`` → 4, ``2039.0`` → 4).

    TOML values are parsed to floats, so ``"2039 GB/s"`` arrives as 2039.0: a trailing ``.0``
    is taken as not written (the data files write the digits a datasheet gives).
    """
    from mlsysim.core.units import written_digits as as_written
    from mlsysim.viz.format import significant_digits

    given = as_written(value)
    if given is not None:
        return given
    mag = getattr(value, "magnitude", value)
    if isinstance(mag, bool):
        return None
    if isinstance(mag, int):  # "2039 GB/s" read as an integer: its digits as written
        return significant_digits(str(mag))
    if isinstance(mag, float) and math.isfinite(mag):
        text = repr(mag)
        return significant_digits(text[:-2] if text.endswith(".0") else text)
    return None


class Recorder(Protocol):
    """What item code needs from its document: the evaluator, the count and the failures."""

    evaluator: Evaluator
    checked: int
    failures: list[Failure]

    def count(self, kind: str, text: str, line: int, column: int | None) -> None: ...

    def record(
        self,
        kind: FailureKind,
        error: MlsysimError,
        expression: str,
        line: int,
        column: int | None,
        offset: int | None,
        *,
        trace: Trace | None = None,
        value: str | None = None,
        expected: str | None = None,
    ) -> Failure: ...

    def record_located(
        self, loc: Located, text: str, line: int, column: int | None, shift: int = 0
    ) -> Failure: ...
