"""A document's state and how it evaluates item text: scope lookup, ``-> unit``, rendering.

:class:`DocumentState` holds what a :class:`~mlsysim.book.document.Document` accumulates (its
scope, failures and count of checked items) and evaluates one item's text in that scope:
``expr -> unit`` is split, compiled (cached), run and converted; errors come back as
:class:`~mlsysim.book.outcomes.Located` with their column in the text. The digits a value was
written with (a literal, a binding, a registry value) travel along, so rendering never
re-rounds silently.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from mlsysim.book.evaluator import Compiled, Trace, View, compile_expression, unwrap
from mlsysim.book.failures import Failure
from mlsysim.book.lang import _UNIT, is_unit, split_conversion
from mlsysim.book.options import Options
from mlsysim.book.outcomes import Evaluated, Located
from mlsysim.book.scope import Scope
from mlsysim.core.exceptions import MlsysimError, NapkinError, NapkinSyntaxError
from mlsysim.viz.rendered import Rendered

__all__ = ["DocumentState", "headline", "written_digits"]

_UNIT_TEXT = re.compile(r"(?:1\s*/\s*)?" + _UNIT)
#: Significant digits of a computed value quoted in a message.
_MESSAGE_DIGITS = 4


class DocumentState:
    """One document's scope, failures and checked count, and evaluation of its item text.

    ``file`` names the source in failures; ``source`` (optional) is its text.
    """

    def __init__(self, file: str, options: Options | None = None, source: str | None = None):
        self.file = str(file)
        self.options = options or Options()
        self.source = source
        self.scope = Scope()
        self.failures: list[Failure] = []
        self.checked = 0

    def _evaluate(self, text: str, extra: dict[str, Any] | None = None) -> Evaluated:
        """Evaluate ``text`` (with optional ``-> unit``); raises Located on any error."""
        try:
            body, unit, unit_col = split_conversion(text)
            compiled = compile_expression(body)
        except MlsysimError as exc:
            raise Located(exc, getattr(exc, "column", None) or 0) from None
        tr = Trace()
        scope = self.scope
        lookup = scope.lookup
        if extra:

            def lookup(name: str) -> Any:
                return extra[name] if name in extra else scope.lookup(name)

        scope.used = tr.names
        try:
            value = compiled.run(lookup, tr)
        except MlsysimError as exc:
            raise Located(exc, getattr(exc, "column", None) or 0) from None
        except RecursionError:
            raise Located(NapkinError("expression is nested too deeply"), 0) from None
        digits = compiled.digits
        if digits is None:
            digits = self._raw_digits(compiled, value, tr)
        style = None
        if unit in ("%", "percent"):
            style, unit = "percent", None
        elif unit in ("×", "x", "times"):
            style, unit = "multiplier", None
        if unit is not None:
            try:
                self._convert(value, unit)
            except MlsysimError as exc:
                raise Located(exc, unit_col or 0) from None
        return Evaluated(value, digits, unit, style, tr, compiled)

    def _raw_digits(self, compiled: Compiled, value: Any, tr: Trace) -> int | None:
        """Digits as written of a raw registry value or a literal-bound name, else None."""
        node = compiled.node
        if isinstance(node, ast.Name) and tr.names == [node.id]:
            b = self.scope.bindings.get(node.id)
            return b.digits if b is not None else None
        if (
            isinstance(node, ast.Attribute | ast.Subscript | ast.Call)
            and not tr.calls
            and len(tr.reads) == 1
            and tr.reads[0][1] is value
        ):
            return written_digits(value)
        return None

    def _convert(self, value: Any, unit: str) -> Any:
        from mlsysim.core.units import convert, ureg
        from mlsysim.viz.units_fmt import parse_unit

        v = headline(value)  # a result object (Water, a run's energy part) converts its headline
        text = unit.strip()
        if text == "auto":
            return v
        if not (text in ("%", "auto") or (_UNIT_TEXT.fullmatch(text) and is_unit(text))):
            raise NapkinSyntaxError(
                f"cannot read the unit {text!r}",
                column=0,
                expression=text,
                fix="write a unit after '->', e.g. `-> ms`, `-> TB/s`, `-> %`",
            )
        try:
            target = parse_unit(text)
        except MlsysimError:
            raise
        except Exception as exc:
            raise NapkinSyntaxError(f"cannot read the unit {text!r}", why=str(exc)) from None
        return convert(v if isinstance(v, ureg.Quantity) else ureg.Quantity(v), target)

    def _render_opts(
        self, ev: Evaluated, unit: str | None, sig_figs: int | None, style: str | None
    ) -> dict[str, Any]:
        return {
            "unit": unit or ev.unit,
            "sig_figs": sig_figs,
            "style": style or ev.style,
            "given_digits": ev.digits if sig_figs is None else None,
            "siunitx": self.options.siunitx,
            "thousands": self.options.thousands,
            "default_sig_figs": self.options.sig_figs,
        }

    def _render(
        self, ev: Evaluated, *, unit: str | None, sig_figs: int | None, style: str | None
    ) -> Rendered:
        from mlsysim.viz.format import render_value

        try:
            return render_value(headline(ev.value), **self._render_opts(ev, unit, sig_figs, style))
        except MlsysimError as exc:
            raise Located(exc, 0) from None

    def _text(self, value: Any, like: Any = None, digits: int | None = None) -> str:
        """Short text of a value for messages (in the unit of ``like`` when given)."""
        from mlsysim.core.units import ureg
        from mlsysim.viz.format import render_value

        v = headline(value)
        figs = None if digits else _MESSAGE_DIGITS
        try:
            if (
                isinstance(like, ureg.Quantity)
                and isinstance(v, ureg.Quantity)
                and not like.dimensionless
            ):
                return render_value(
                    v, unit=f"{like.units:~}", sig_figs=figs, given_digits=digits
                ).text
            return render_value(v, sig_figs=figs, given_digits=digits).text
        except Exception:
            return str(v)


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

    given = as_written(value)
    if given is not None:
        return given
    mag = getattr(value, "magnitude", value)
    if isinstance(mag, bool):
        return None
    if isinstance(mag, int):  # "2039 GB/s" read as an integer: its digits as written
        from mlsysim.viz.format import significant_digits

        return significant_digits(str(mag))
    if isinstance(mag, float) and mag == mag and abs(mag) != float("inf"):
        from mlsysim.viz.format import significant_digits

        text = repr(mag)
        return significant_digits(text[:-2] if text.endswith(".0") else text)
    return None
