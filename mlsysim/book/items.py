"""Items of a source file (blocks, inline expressions, claims, derivations, tables) and how a
:class:`~mlsysim.book.document.Document` runs each one.

Scanning (:mod:`mlsysim.book.scan`) and the batch protocol (:mod:`mlsysim.book.batch`) both
produce :class:`Item` records; :func:`run_item` is the single dispatch both use, so a chapter
checked by ``mlsysim check`` and rendered by a host evaluates identically.

Item attributes (role/shortcode options, pandoc attributes, directive options): ``unit``,
``sig-figs``, ``style``, ``of`` and ``tol`` (claims), also written after ``|`` in the item's
text (:func:`~mlsysim.book.syntax.split_options`); tables take ``rows``, ``units``,
``sig-figs``, ``styles``, ``caption`` and one ``Header = expression`` line per column.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from mlsysim.book.document import Document, ItemResult, TableResult, error_rendering
from mlsysim.book.lang.lexer import top_level
from mlsysim.book.option_places import option_at, text_place, written_at
from mlsysim.book.syntax import (
    ITEM_KINDS,
    MAX_ITEM_TEXT,
    OPTION_KEYS,
    UNSUPPORTED_SHORTCODE,
    Item,
    ItemKind,
    parse_column,
    source_column,
    split_options,
    split_top,
)
from mlsysim.core.exceptions import ConfigError, LimitError, MlsysimError
from mlsysim.viz.rendered import Rendered

__all__ = ["ITEM_KINDS", "Item", "ItemKind", "Outcome", "parse_table", "run_item", "run_table"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a host splices in for an item: ``ok`` and a rendering (None for blocks)."""

    ok: bool
    rendered: Rendered | None
    extra: tuple[tuple[int, Rendered], ...] = ()  # a block's rendered claims
    value: Any = None  # what was computed (a plot's PlotResult)
    cites: tuple[str, ...] = ()  # citation ids of the values it used (a host's cite keys)


def _alt_rendering(alt: str) -> Rendered:
    """A plot as text: its alt text (hosts draw the image from the PlotResult)."""
    import html

    from mlsysim.viz.format import escape_latex_text, escape_markdown

    return Rendered(
        text=alt,
        latex=escape_latex_text(alt),
        html=html.escape(alt),
        markdown=escape_markdown(alt),
        math=False,
    )


#: item kind -> what a checked item of that kind is called in reports
_KIND_NAMES = {
    "inline": "value",
    "eq": "derivation",
    "block": "napkin block",
    "formula": "formula card",
    "registry": "registry table",
}


def _attr(attrs: dict[str, str], *names: str) -> str | None:
    for n in names:
        if attrs.get(n) not in (None, ""):
            return attrs[n]
    return None


def _int_attr(attrs: dict[str, str]) -> int | None:
    raw = _attr(attrs, "sig-figs", "sig_figs", "sigfigs")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            f"sig-figs must be an integer, got {raw!r}", fix="write e.g. sig-figs=2"
        ) from None
    if not 1 <= value <= 15:
        raise ConfigError(f"sig-figs must be from 1 to 15, got {value}")
    return value


def parse_table(text: str, attrs: dict[str, str]) -> dict[str, Any]:
    """Arguments of :meth:`Document.table` from a table item's content and options.

    Content: one column per line (:func:`~mlsysim.book.syntax.parse_column`); options ``rows``
    (comma-separated expressions), ``caption``, and per-table or per-column (comma lists)
    ``units``, ``sig-figs`` (``sig``) and ``styles`` (``style``).
    """
    rows = split_top(_attr(attrs, "rows") or "")
    numbered_raw = [
        (offset, raw)
        for offset, raw in enumerate(text.splitlines())
        if raw.strip() and not raw.strip().startswith("#")
    ]
    numbered = [(offset, raw.strip()) for offset, raw in numbered_raw]
    columns = []
    for offset, raw in numbered:
        try:
            columns.append(parse_column(raw))
        except ConfigError as exc:
            exc.line_offset = offset  # type: ignore[attr-defined]
            raise
    if not rows or not columns:
        raise ConfigError(
            "a napkin-table needs :rows: and at least one `Header = expression` line",
            fix="e.g. :rows: H100, A100 and a line `Bandwidth = row.memory.bandwidth -> TB/s`",
        )

    def per_column(*keys: str) -> list[Any]:
        raw = _attr(attrs, *keys)
        values: list[Any] = [v if v not in ("", "-") else None for v in split_top(raw or "")]
        if len(values) == 1:
            values = values * len(columns)
        if values and len(values) != len(columns):
            err = ConfigError(
                f"{keys[0]} lists {len(values)} values for {len(columns)} columns",
                fix="give one value for the whole table or one per column",
            )
            err.option = next(k for k in keys if attrs.get(k))  # type: ignore[attr-defined]
            raise err
        return values or [None] * len(columns)

    units = [c.unit or u for c, u in zip(columns, per_column("units", "unit"), strict=True)]
    styles = [c.style or s for c, s in zip(columns, per_column("styles", "style"), strict=True)]
    sig = [_sig_value(v) for v in per_column("sig-figs", "sig_figs", "sig")]
    return {
        "rows": rows,
        "columns": [(c.header, c.converted or c.expression) for c in columns],
        "shifts": [c.shifts for c in columns],
        "units": _per_cell(units),
        "sig_figs": _per_cell(sig),
        "styles": _per_cell(styles),
        "caption": attrs.get("caption", ""),
        "offsets": [offset for offset, _ in numbered],
        "starts": [
            c.start + len(raw) - len(raw.lstrip())
            for c, (_, raw) in zip(columns, numbered_raw, strict=True)
        ],
    }


def _per_cell(values: list[Any]) -> list[Any] | None:
    """Per-column option list (label column first), or None when no column sets it."""
    return [None, *values] if any(v is not None for v in values) else None


def _sig_value(raw: Any) -> int | None:
    return None if raw is None else _int_attr({"sig-figs": str(raw)})


def run_table(doc: Document, item: Item, *, stub: str | None = None) -> TableResult:
    """Evaluate a table item (hosts that build their own table nodes call this directly).

    A malformed column is reported at its own line, a bad option at the option's line and a
    failing row at the ``rows`` option's line. ``stub`` heads the label column.
    """
    lines = dict(item.option_lines)
    try:
        spec = parse_table(item.text, item.attrs)
    except ConfigError as exc:
        offset = getattr(exc, "line_offset", None)
        option = getattr(exc, "option", None)
        line = item.line + offset if offset is not None else lines.get(option or "", item.line)
        doc.count("table", item.text.split("\n", 1)[0][:200], line, None)
        f = doc.record("error", exc, item.text.split("\n", 1)[0][:200], line, None, None)
        return TableResult(False, None, [f])
    offsets = spec.pop("offsets")
    starts = spec.pop("starts")
    if stub is not None:
        spec["header"] = [stub, *(h for h, _ in spec["columns"])]
    rows_at = written_at(item, "rows")
    return doc.table(
        line=item.line,
        column=item.column,
        column_lines=[item.line + k for k in offsets],
        column_columns=[(item.column or 1) + c for c in starts],
        rows_line=rows_at[0] if rows_at else lines.get("rows"),
        rows_columns=_row_columns(item.attrs, rows_at[1]) if rows_at else None,
        **spec,
    )


def _row_columns(attrs: dict[str, str], column: int) -> list[int] | None:
    """The column of each row expression of a table's ``rows`` value written at ``column``."""
    raw = _attr(attrs, "rows") or ""
    cuts = [-1, *top_level(raw, ","), len(raw)]
    out = []
    for a, b in itertools.pairwise(cuts):
        part = raw[a + 1 : b]
        if part.strip():
            out.append(column + a + 1 + len(part) - len(part.lstrip()))
    return out


def run_item(doc: Document, item: Item) -> Outcome:
    """Evaluate ``item`` in ``doc`` (failures are collected in ``doc.failures``).

    An item written in another file than the document's (an include) has its failures
    reported in that file.
    """
    before = len(doc.failures)
    counted = len(doc.checks)
    doc.evaluator.item_cites = {}
    outcome = _run(doc, item, before)
    if item.escapes:  # placed as if written without the characters the host drops
        from dataclasses import replace

        doc.failures[before:] = [
            f if f.column is None else replace(f, column=source_column(item, f.line, f.column))
            for f in doc.failures[before:]
        ]
    if doc.evaluator.item_cites:
        from dataclasses import replace

        outcome = replace(outcome, cites=tuple(doc.evaluator.item_cites))
    if item.file is not None and item.file != doc.file:
        from dataclasses import replace

        doc.failures[before:] = [replace(f, file=item.file) for f in doc.failures[before:]]
        doc.checks[counted:] = [(item.file, *c[1:]) for c in doc.checks[counted:]]
    if not outcome.ok and _marked(item.kind, outcome.rendered):
        from mlsysim.book.drafts import failed_rendering

        marked = failed_rendering(outcome.rendered, doc.failures[before:])
        outcome = Outcome(False, marked, outcome.extra)
    return outcome


def _no_such_shortcode(kind: str) -> ConfigError:
    """A table or chart written as a Quarto shortcode: there is none, and why."""
    what, lines, block, attrs = (
        ("table", "one 'Header: expression' line per column", "napkin-table", 'rows="H100, A100"')
        if kind == "table"
        else (
            "chart",
            "one 'label = expression' line per point or series",
            "napkin-plot",
            'kind="roofline" devices="H100, A100"',
        )
    )
    return ConfigError(
        f"there is no {{{{< {block} >}}}} shortcode",
        why=f"a computed {what} needs {lines}, which a shortcode's arguments cannot hold",
        fix=f"write a code block instead: ```{{.{block} {attrs}}}, then {lines}, then ```",
    )


def _marked(kind: str, rendered: Rendered | None) -> bool:
    """Whether a failed item shows as failed in place: values, claims, derivations, plots,
    formula cards and registry tables, and a table that could not be built at all (a table
    with failing cells shows them)."""
    if kind in ("inline", "claim", "eq", "plot", "formula", "registry"):
        return True  # a chart, card or reference table that failed has nothing else to show
    return kind == "table" and (rendered is None or rendered.text == "⟨error⟩")


def _run(doc: Document, item: Item, before: int) -> Outcome:
    a = {OPTION_KEYS.get(k, k): v for k, v in item.attrs.items()}
    try:
        text = item.text
        if len(text) > MAX_ITEM_TEXT:
            raise LimitError(
                f"the item is too long ({len(text):,} characters)",
                why=f"the limit is {MAX_ITEM_TEXT:,}",
                fix="split it into several items",
            )
        if item.kind in ("table", "plot") and UNSUPPORTED_SHORTCODE in item.attrs:
            raise _no_such_shortcode(item.kind)
        if item.kind in ("inline", "claim", "eq"):
            try:
                text, options = split_options(text, item.kind)
            except MlsysimError as exc:  # at the option it is about
                return _option_failure(doc, item, exc, text_place(item, exc))
            a = {**a, **options}
        if item.kind == "block":
            block = doc.block(item.text, item.line, column=item.column)
            return _checked(doc, before, Outcome(block.ok, None, tuple(block.rendered)))
        if item.kind == "plot":
            from mlsysim.book.plots import run_plot

            plot = run_plot(doc, item)
            return _checked(doc, before, Outcome(plot.ok, _alt_rendering(plot.alt), value=plot))
        if item.kind in ("formula", "registry"):
            from mlsysim.book.reference.items import run_reference

            shown, made = run_reference(doc, item)
            if shown is None:
                return _checked(doc, before, Outcome(False, error_rendering()))
            return _checked(doc, before, Outcome(True, shown, value=made))
        if item.kind == "table":
            table = run_table(doc, item)
            if table.rendered is None:
                return _checked(doc, before, Outcome(False, error_rendering()))
            t = table.rendered
            return _checked(
                doc,
                before,
                Outcome(
                    table.ok,
                    Rendered(
                        text=t.text, latex=t.latex, html=t.html, markdown=t.markdown, math=False
                    ),
                ),
            )
        try:
            sig = _int_attr(a)
        except MlsysimError as exc:
            return _option_failure(doc, item, exc, option_at(item, "sig-figs"))
        given = [k for k in ("unit", "style") if a.get(k)]  # (most items set neither)
        at = {k: w for k in given if (w := option_at(item, k)) is not None}
        result: ItemResult
        if item.kind == "inline":
            result = doc.inline(
                text,
                item.line,
                unit=_attr(a, "unit"),
                sig_figs=sig,
                style=_attr(a, "style"),
                column=item.column,
                options_at=at,
            )
        elif item.kind == "claim":
            result = doc.claim(
                text,
                item.line,
                of=_attr(a, "of"),
                tolerance=_attr(a, "tol", "tolerance"),
                column=item.column,
                of_at=written_at(item, "of"),
                tol_at=written_at(item, "tol"),
            )
        elif item.kind == "eq":
            result = doc.derivation(
                text.strip(),
                item.line,
                unit=_attr(a, "unit"),
                sig_figs=sig,
                style=_attr(a, "style"),
                column=item.column,
                options_at=at,
            )
        else:
            raise ConfigError(
                f"unknown item kind {item.kind!r}", fix=f"use one of {', '.join(ITEM_KINDS)}"
            )
        return _checked(doc, before, Outcome(result.ok, result.rendered, value=result.value))
    except MlsysimError as exc:
        doc.count(_KIND_NAMES.get(item.kind, item.kind), item.text[:200], item.line, item.column)
        doc.record("error", exc, item.text[:200], item.line, item.column, None)
        return Outcome(False, error_rendering())
    except Exception as exc:  # a bug: report it at the item and go on with the document
        doc.count(_KIND_NAMES.get(item.kind, item.kind), item.text[:200], item.line, item.column)
        internal = MlsysimError(
            "internal error while evaluating this item",
            why=f"{type(exc).__name__} (an mlsysim bug, not an error in the chapter)",
            fix="please report this item to the mlsysim developers",
        )
        f = doc.record("error", internal, item.text[:200], item.line, item.column, None)
        f.extra["internal"] = True
        return Outcome(False, error_rendering())


def _option_failure(
    doc: Document, item: Item, exc: MlsysimError, at: tuple[int, int | None] | None
) -> Outcome:
    """The failure of an item whose option is wrong, at that option (``at``) when known."""
    line, column = at if at is not None else (item.line, item.column)
    doc.count(_KIND_NAMES.get(item.kind, item.kind), item.text[:200], item.line, item.column)
    doc.record("error", exc, item.text[:200], line, column, None)
    return Outcome(False, error_rendering())


def _checked(doc: Document, before: int, outcome: Outcome) -> Outcome:
    """An item that did not pass always leaves a failure behind (hosts rely on it)."""
    if not outcome.ok and len(doc.failures) == before:
        raise MlsysimError("the item failed without a reported reason")
    return outcome
