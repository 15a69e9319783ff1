"""One document's napkin math: its scope, its items in source order, and its failures.

Hosts (Sphinx, the Quarto batch, ``mlsysim check``, notebooks) create one :class:`Document` per
source file and feed it items in document order: napkin blocks (:meth:`Document.block`),
inline expressions (:meth:`~Document.inline`), claims (:meth:`~Document.claim`), derivations
(:meth:`~Document.derivation`) and tables (:meth:`~Document.table`). Every item returns its
rendering and, when it fails, a located :class:`~mlsysim.book.failures.Failure`; the document
collects them all (never first-one-wins) in :attr:`Document.failures`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlsysim.book.claims import Tolerance, compare, parse_stated, parse_tolerance, render_stated
from mlsysim.book.evaluator import Compiled, Fn, Trace, View, compile_expression, unwrap
from mlsysim.book.failures import Failure, FailureKind
from mlsysim.book.lang import _UNIT, is_unit, split_claim, split_conversion, split_statements
from mlsysim.book.options import Options
from mlsysim.book.scope import Binding, Scope
from mlsysim.core.exceptions import MlsysimError, NapkinError, NapkinSyntaxError
from mlsysim.viz.rendered import Rendered

__all__ = ["BlockResult", "Document", "ItemResult", "TableResult", "error_rendering"]

_BIND = re.compile(r"^(?P<rebind>rebind\s+)?(?P<name>[^\W\d]\w*)\s*=(?!=)")
_CHECK = re.compile(r"^check\s*\(")
_UNIT_TEXT = re.compile(r"(?:1\s*/\s*)?" + _UNIT)


def error_rendering(message: str = "error") -> Rendered:
    """The placeholder a failed item renders as (``⟨error⟩``), so pages still build."""
    return Rendered(
        text=f"⟨{message}⟩",
        latex=r"\langle\text{" + message + r"}\rangle",
        html=f'<span class="mlsysim-error">⟨{message}⟩</span>',
        markdown=f"⟨{message}⟩",
        math=False,
    )


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of one inline expression, claim or derivation."""

    ok: bool
    rendered: Rendered | None
    failure: Failure | None = None
    value: Any = None


@dataclass(slots=True)
class BlockResult:
    """The outcome of a napkin block: rendered claims (file line, Rendered) and failures."""

    rendered: list[tuple[int, Rendered]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(slots=True)
class TableResult:
    """A ``napkin-table``: the rendered table (``viz.table.TableRendered``) and failures."""

    ok: bool
    rendered: Any
    failures: list[Failure] = field(default_factory=list)


@dataclass(slots=True)
class _Eval:
    value: Any
    digits: int | None
    unit: str | None
    style: str | None
    trace: Trace
    compiled: Compiled


class _Located(Exception):
    """An error together with the 0-based column in the item's text where it happened."""

    def __init__(self, error: MlsysimError, column: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.column = column


class Document:
    """The per-document scope and failure list.

    ``file`` names the source in failures; ``source`` (optional) is its text, pre-scanned so a
    name used before its binding says where it is bound later.
    """

    def __init__(self, file: str, options: Options | None = None, source: str | None = None):
        self.file = str(file)
        self.options = options or Options()
        self.source = source
        self.scope = Scope()
        self.failures: list[Failure] = []
        self.checked = 0
        if source is not None:
            self._prescan(source)

    # -- pre-scan ---------------------------------------------------------------------------
    def _prescan(self, source: str) -> None:
        from mlsysim.book.scan import scan_text

        try:
            items = scan_text(source, self.file)
        except MlsysimError:
            return  # the scan itself will be reported by whoever scans; bindings stay unknown
        for item in items:
            if item.kind == "block":
                self.declare(item.text, item.line)

    def declare(self, block_text: str, line: int) -> None:
        """Record the names a block binds (for use-before-bind messages)."""
        for st in split_statements(block_text):
            m = _BIND.match(st.text)
            if m and not m["rebind"]:
                self.scope.future.setdefault(m["name"], line + st.line)

    # -- items ------------------------------------------------------------------------------
    def inline(
        self,
        expr: str,
        line: int,
        *,
        unit: str | None = None,
        sig_figs: int | None = None,
        style: str | None = None,
        column: int | None = None,
    ) -> ItemResult:
        """Evaluate and render one expression (``{napkin}`…```); never raises."""
        self.checked += 1
        try:
            ev = self._evaluate(expr)
            rendered = self._render(ev, unit=unit, sig_figs=sig_figs, style=style)
        except _Located as loc:
            f = self._failure("error", loc.error, expr, line, column, loc.column)
            return ItemResult(False, error_rendering(), f)
        value = _headline(ev.value)
        if unit or ev.unit:
            value = self._convert(value, unit or ev.unit or "")
        return ItemResult(True, rendered, None, value)

    def claim(
        self,
        text: str,
        line: int,
        *,
        of: str | None = None,
        tolerance: Any = None,
        column: int | None = None,
    ) -> ItemResult:
        """Check the author's figure against a formula; renders the author's own text."""
        self.checked += 1
        return self._claim(text, line, of=of, tolerance=tolerance, column=column)

    def derivation(
        self,
        expr: str,
        line: int,
        *,
        unit: str | None = None,
        sig_figs: int | None = None,
        style: str | None = None,
        column: int | None = None,
    ) -> ItemResult:
        """``napkin-eq``: render a formula call as symbolic = substituted ≈ result."""
        self.checked += 1
        try:
            ev = self._evaluate(expr)
            call = _top_call(ev, expr)
            from mlsysim.viz.derivation import render_derivation

            opts = self._render_opts(ev, unit, sig_figs, style)
            try:
                rendered = render_derivation(call[2], call[3], _headline(unwrap(call[1])), **opts)
            except MlsysimError as exc:
                raise _Located(exc, 0) from None
        except _Located as loc:
            f = self._failure("error", loc.error, expr, line, column, loc.column)
            return ItemResult(False, error_rendering(), f)
        return ItemResult(True, rendered, None, _headline(ev.value))

    def table(
        self,
        rows: list[str],
        columns: list[Any],
        line: int,
        *,
        header: list[str] | None = None,
        units: Any = None,
        sig_figs: Any = None,
        styles: Any = None,
        caption: str = "",
        column: int | None = None,
    ) -> TableResult:
        """``napkin-table``: one row per expression in ``rows``, one column per expression in
        ``columns`` where the name ``row`` is the row's value (``row.memory.bandwidth``,
        ``ridge_point(row)``). ``columns`` items may be ``(label, expr)`` pairs."""
        from mlsysim.viz.table import render_table

        cols = [c if isinstance(c, tuple) else (str(c), str(c)) for c in columns]
        labels = header or ["", *(label for label, _ in cols)]
        failures: list[Failure] = []
        grid: list[list[Any]] = []
        digits: list[list[int | None]] = []
        sources: list[str] = []
        for r_text in rows:
            self.checked += 1
            row_vals: list[Any] = [r_text]
            row_digits: list[int | None] = [None]
            try:
                row_ev = self._evaluate(r_text)
            except _Located as loc:
                failures.append(self._failure("error", loc.error, r_text, line, column, loc.column))
                continue
            row_vals[0] = _label(row_ev.value, r_text)
            for _, c_text in cols:
                try:
                    ev = self._evaluate(c_text, extra={"row": row_ev.value})
                except _Located as loc:
                    failures.append(
                        self._failure("error", loc.error, c_text, line, column, loc.column)
                    )
                    row_vals.append("⟨error⟩")
                    row_digits.append(None)
                    continue
                row_vals.append(_headline(unwrap(ev.value)))
                row_digits.append(ev.digits)
                sources += [s for s in _sources(ev.trace, self.scope) if s not in sources]
            grid.append(row_vals)
            digits.append(row_digits)
        self.failures.extend(failures)
        try:
            table = render_table(
                labels,
                grid,
                units=units,
                sig_figs=sig_figs,
                styles=styles,
                given_digits=digits,
                sources=sources,
                caption=caption,
                siunitx=self.options.siunitx,
                thousands=self.options.thousands,
                default_sig_figs=self.options.sig_figs,
            )
        except MlsysimError as exc:
            f = self._failure("error", exc, "napkin-table", line, column, 0)
            return TableResult(False, None, [*failures, f])
        return TableResult(not failures, table, failures)

    def block(self, text: str, line: int, *, column: int | None = None) -> BlockResult:
        """Run a napkin block's statements in order; ``line`` is its first content line."""
        result = BlockResult()
        for st in split_statements(text):
            st_line = line + st.line
            st_col = (column or 1) + st.column
            before = len(self.failures)
            m = _BIND.match(st.text)
            if m:
                self._bind(m, st.text, st_line, st_col)
            elif _CHECK.match(st.text):
                self.checked += 1
                self._check(st.text, st_line, st_col)
            elif split_claim(st.text) is not None:
                self.checked += 1
                item = self._claim(st.text, st_line, of=None, tolerance=None, column=st_col)
                if item.rendered is not None:
                    result.rendered.append((st_line, item.rendered))
            else:
                self.checked += 1
                try:
                    self._evaluate(st.text)
                except _Located as loc:
                    self._failure("error", loc.error, st.text, st_line, st_col, loc.column)
            result.failures.extend(self.failures[before:])
        return result

    # -- statements ---------------------------------------------------------------------------
    def _bind(self, m: re.Match[str], text: str, line: int, col: int) -> None:
        name, rebind = m["name"], bool(m["rebind"])
        expr = text[m.end() :]
        offset = m.end() + (len(expr) - len(expr.lstrip()))
        self.checked += 1
        reserved = self.scope.reserved(name)
        old = self.scope.bindings.get(name)
        problem: NapkinError | None = None
        if reserved:
            problem = NapkinError(
                f"cannot bind {name!r}: it is {reserved}",
                fix="choose another name (e.g. with a suffix)",
            )
        elif old is not None and not rebind:
            problem = NapkinError(
                f"{name!r} is already bound at line {old.line}",
                why="napkin names are bound once, so every use means one value",
                fix=f"choose a new name, or write `rebind {name} = …` to rebind on purpose",
            )
        elif old is None and rebind:
            problem = NapkinError(
                f"nothing to rebind: {name!r} is not bound yet",
                fix=f"write `{name} = …` for a first binding",
            )
        if problem is not None:
            problem.column = 0
            self._failure("error", problem, text, line, col, 0)
            if old is None:
                self.scope.bindings[name] = Binding(name, None, line, expr, error=problem)
            return
        try:
            ev = self._evaluate(expr)
        except _Located as loc:
            self._failure("error", loc.error, text, line, col, offset + loc.column)
            self.scope.bindings[name] = Binding(name, None, line, expr, error=loc.error)
            return
        digits = ev.digits
        value = ev.value
        if ev.unit is not None:
            value = self._convert(value, ev.unit)
        self.scope.bindings[name] = Binding(
            name,
            value,
            line,
            expr.strip(),
            digits,
            trail=tuple(self._derivation(ev.trace)),
            cites=tuple(_cite_ids(ev.trace, self.scope)),
        )

    def _check(self, text: str, line: int, col: int) -> None:
        def check(cond: Any, why: Any = "") -> tuple[Any, Any]:
            return cond, why

        try:
            ev = self._evaluate(text, extra={"check": Fn(check, "check", "helper")})
        except _Located as loc:
            self._failure("error", loc.error, text, line, col, loc.column)
            return
        cond, why = unwrap(ev.value)
        if not isinstance(cond, bool):
            err = NapkinError(
                "check() needs a true/false condition",
                why=f"got {type(cond).__name__}",
                fix="compare values: `x < 1 ms`",
            )
            self._failure("error", err, text, line, col, 0)
            return
        if not cond:
            message = f"check failed: {why}" if why else "check failed"
            failed = MlsysimError(message, why=f"{text} is false")
            self._failure(
                "check",
                failed,
                text,
                line,
                col,
                None,
                trace=ev.trace,
                value="false",
                expected=str(why) or "true",
            )

    def _claim(
        self, text: str, line: int, *, of: str | None, tolerance: Any, column: int | None
    ) -> ItemResult:
        try:
            if of is not None:
                stated_text, expr, tol_text, expr_col = text, of, None, 0
            else:
                parts = split_claim(text)
                if parts is None:
                    raise _Located(
                        NapkinSyntaxError(
                            "a claim needs '~' between the figure and the expression",
                            fix="write e.g. `300 FLOP/B ~ ridge`",
                        ),
                        0,
                    )
                stated_text, expr, tol_text, expr_col, _ = parts
            stated = parse_stated(stated_text)
            try:
                stated_value = self._evaluate(stated.expression).value
            except _Located as loc:
                raise _Located(loc.error, stated.offset + loc.column) from None
            stated_value = _with_style(stated_value, stated.style)
            tol = self._tolerance(tol_text if tol_text is not None else tolerance)
            try:
                ev = self._evaluate(expr)
            except _Located as loc:
                raise _Located(loc.error, expr_col + loc.column) from None
            computed = _headline(unwrap(ev.value))
            rendered = render_stated(stated, stated_value)
            try:
                ok, rel = compare(
                    stated_value, computed, tol, stated_text=stated.text, expression=expr.strip()
                )
            except MlsysimError as exc:
                raise _Located(exc, expr_col) from None
        except _Located as loc:
            f = self._failure("error", loc.error, text, line, column, loc.column)
            return ItemResult(False, error_rendering(), f)
        if ok:
            return ItemResult(True, rendered, None, computed)
        shown = self._text(computed, stated_value)
        off = f"off by {rel * 100:.1f} %" if rel is not None else "not zero"
        err = MlsysimError(
            f"claim {stated.text} disagrees with {expr.strip()} = {shown}",
            why=f"{off}; tolerance {tol.text}",
            fix="correct the figure in the prose, or the inputs of the formula",
        )
        f = self._failure(
            "claim",
            err,
            text,
            line,
            column,
            None,
            trace=ev.trace,
            value=shown,
            expected=f"{stated.text} ± {tol.text}",
        )
        return ItemResult(False, rendered, f, computed)

    def _tolerance(self, given: Any) -> Tolerance:
        if given is None:
            absolute = None
            if self.options.abs_tolerance:
                absolute = self._evaluate(self.options.abs_tolerance).value
            rel = self.options.tolerance
            return Tolerance(rel, absolute, f"{rel * 100:g} %")
        if isinstance(given, int | float) and not isinstance(given, bool):
            return Tolerance(float(given), None, f"{float(given) * 100:g} %")
        try:
            return parse_tolerance(str(given), evaluate=lambda t: self._evaluate(t).value)
        except MlsysimError as exc:
            raise _Located(exc, 0) from None

    # -- evaluation ----------------------------------------------------------------------------
    def _evaluate(self, text: str, extra: dict[str, Any] | None = None) -> _Eval:
        """Evaluate ``text`` (with optional ``-> unit``); raises _Located on any error."""
        try:
            body, unit, unit_col = split_conversion(text)
            compiled = compile_expression(body)
        except MlsysimError as exc:
            raise _Located(exc, getattr(exc, "column", None) or 0) from None
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
            raise _Located(exc, getattr(exc, "column", None) or 0) from None
        except RecursionError:
            raise _Located(NapkinError("expression is nested too deeply"), 0) from None
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
                raise _Located(exc, unit_col or 0) from None
        return _Eval(value, digits, unit, style, tr, compiled)

    def _raw_digits(self, compiled: Compiled, value: Any, tr: Trace) -> int | None:
        """Digits as written of a raw registry value or a literal-bound name, else None."""
        import ast

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
            return _written_digits(value)
        return None

    def _convert(self, value: Any, unit: str) -> Any:
        from mlsysim.core.units import ureg
        from mlsysim.viz.units_fmt import parse_unit

        v = unwrap(value)
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
        if isinstance(v, ureg.Quantity):
            return v.to(target)
        return ureg.Quantity(v).to(target)

    def _render_opts(
        self, ev: _Eval, unit: str | None, sig_figs: int | None, style: str | None
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
        self, ev: _Eval, *, unit: str | None, sig_figs: int | None, style: str | None
    ) -> Rendered:
        from mlsysim.viz.format import render_value

        try:
            return render_value(
                _headline(unwrap(ev.value)), **self._render_opts(ev, unit, sig_figs, style)
            )
        except MlsysimError as exc:
            raise _Located(exc, 0) from None

    def _text(self, value: Any, like: Any = None, digits: int | None = None) -> str:
        """Short text of a value for messages (in the unit of ``like`` when given)."""
        from mlsysim.core.units import ureg
        from mlsysim.viz.format import render_value

        v = _headline(unwrap(value))
        figs = None if digits else 4
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

    # -- failures ----------------------------------------------------------------------------
    def _failure(
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
    ) -> Failure:
        file_line, file_col = line, column
        if offset is not None:
            before = expression[:offset]
            nl = before.count("\n")
            file_line = line + nl
            if nl:
                file_col = offset - before.rfind("\n")
            elif column is not None:
                file_col = column + offset
        derivation: list[str] = []
        sources: list[str] = []
        if trace is not None:
            derivation = self._derivation(trace)
            sources = _sources(trace, self.scope)
        extra: dict[str, Any] = {"type": type(error).__name__}
        if isinstance(error, NapkinError) and "unavailable" in error.what:
            extra["depends_on_failed"] = True
        f = Failure(
            file=self.file,
            line=file_line,
            kind=kind,
            message=error.what,
            expression=expression.strip(),
            column=file_col,
            value=value,
            expected=expected,
            derivation=tuple(derivation),
            sources=tuple(sources),
            hint=_hint(error),
            extra=extra,
        )
        self.failures.append(f)
        return f

    def _derivation(self, tr: Trace) -> list[str]:
        lines: list[str] = []
        for name in dict.fromkeys(tr.names):
            b = self.scope.bindings.get(name)
            if b is not None:
                lines.extend(b.trail)
                shown = self._text(b.value, digits=b.digits)
                same = shown.replace(",", "") == b.expression.replace(",", "")
                lines.append(
                    f"{name} = {b.expression}"
                    + ("" if same else f" = {shown}")
                    + f"  (line {b.line})"
                )
        for label, value, _cite in tr.reads:
            lines.append(f"{label} = {self._text(value, digits=_written_digits(value))}")
        for label, result, info, _args in tr.calls:
            cite = f"  [{info.citation}]" if info is not None and info.citation else ""
            lines.append(f"{label} = {self._text(result)}{cite}")
        return list(dict.fromkeys(lines))


def _cite_ids(tr: Trace, scope: Scope | None = None) -> list[str]:
    ids: list[str] = []
    if scope is not None:
        for name in tr.names:
            b = scope.bindings.get(name)
            if b is not None:
                ids += list(b.cites)
    ids += [c for _, _, c in tr.reads if c]
    for _, _, info, _ in tr.calls:
        ids += list(getattr(info, "sources", ()) or ())
    ids += [s.source for s in tr.specs]
    return list(dict.fromkeys(ids))


def _sources(tr: Trace, scope: Scope | None = None) -> list[str]:
    ids = _cite_ids(tr, scope)
    out: list[str] = []
    try:
        from mlsysim.core.registry import catalog

        cites = catalog().sources
    except MlsysimError:
        cites = {}
    for cid in dict.fromkeys(ids):
        cite = cites.get(cid)
        out.append(f"{cid}: {cite.short()}" if cite is not None else cid)
    return out


def _written_digits(value: Any) -> int | None:
    """Significant digits of a registry float as stored (``989.4`` → 4, ``2039.0`` → 4).

    TOML values are parsed to floats, so ``"2039 GB/s"`` arrives as 2039.0: a trailing ``.0``
    is taken as not written (the data files write the digits a datasheet gives).
    """
    mag = getattr(value, "magnitude", value)
    if isinstance(mag, float) and mag == mag and abs(mag) != float("inf"):
        from mlsysim.viz.format import significant_digits

        text = repr(mag)
        return significant_digits(text[:-2] if text.endswith(".0") else text)
    return None


def _hint(error: MlsysimError) -> str | None:
    parts = [p for p in (error.why, f"How to fix: {error.fix}" if error.fix else "") if p]
    return ". ".join(parts) or None


def _headline(value: Any) -> Any:
    """A result object's headline value (``.value``) for rendering; other values unchanged."""
    v = unwrap(value)
    if isinstance(value, View) and value.root is None and hasattr(v, "value"):
        return v.value
    return v


def _label(value: Any, text: str) -> str:
    v = unwrap(value)
    return str(getattr(v, "id", None) or text.strip())


def _with_style(value: Any, style: str | None) -> Any:
    if style == "percent":
        from mlsysim.core.units import ureg

        return ureg.Quantity(unwrap(value), "percent") if not hasattr(value, "units") else value
    return value


def _top_call(ev: _Eval, expr: str) -> tuple[str, Any, Any, dict[str, Any]]:
    import ast

    node = ev.compiled.node
    if not isinstance(node, ast.Call) or not ev.trace.calls:
        raise _Located(
            NapkinError(
                "a derivation needs a formula call",
                why=f"{expr.strip()!r} is not a call of a formula",
                fix="write e.g. `amdahl(p=0.95, speedup=247)`",
            ),
            0,
        )
    call = ev.trace.calls[-1]
    if call[2] is None:
        raise _Located(
            NapkinError(
                f"{call[0]} has no derivation template",
                fix="derivations work for formulas of mlsysim.core.formulas",
            ),
            0,
        )
    return call
