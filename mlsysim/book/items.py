"""Items of a source file (blocks, inline expressions, claims, derivations, tables) and how a
:class:`~mlsysim.book.document.Document` runs each one.

Scanning (:mod:`mlsysim.book.scan`) and the batch protocol (:mod:`mlsysim.book.batch`) both
produce :class:`Item` records; :func:`run_item` is the single dispatch both use, so a chapter
checked by ``mlsysim check`` and rendered by a host evaluates identically.

Item attributes (role/shortcode options, pandoc attributes, directive options): ``unit``,
``sig-figs``, ``style``, ``of`` and ``tol`` (claims); tables take ``rows`` (comma-separated
expressions), ``units``, ``sig-figs``, ``styles``, ``caption``, and content lines
``Label: expression`` where ``row`` names the row's value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mlsysim.book.document import Document, ItemResult, TableResult, error_rendering
from mlsysim.book.lang import _mask_strings
from mlsysim.core.exceptions import ConfigError, MlsysimError
from mlsysim.viz.rendered import Rendered

__all__ = ["ITEM_KINDS", "Item", "ItemKind", "Outcome", "parse_table", "run_item", "split_top"]

ItemKind = Literal["block", "inline", "claim", "eq", "table"]
ITEM_KINDS = ("block", "inline", "claim", "eq", "table")


@dataclass(frozen=True, slots=True)
class Item:
    """One napkin item found in a source: ``line``/``column`` are 1-based (content start)."""

    kind: ItemKind
    text: str
    line: int
    column: int | None = None
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a host splices in for an item: ``ok`` and a rendering (None for blocks)."""

    ok: bool
    rendered: Rendered | None
    extra: tuple[tuple[int, Rendered], ...] = ()  # a block's rendered claims


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


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside brackets and strings; parts stripped, empty parts dropped."""
    masked = _mask_strings(text)
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(masked):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_table(text: str, attrs: dict[str, str]) -> dict[str, Any]:
    """Arguments of :meth:`Document.table` from a table item's content and options."""
    rows = split_top(_attr(attrs, "rows") or "")
    columns: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, expr = line.partition(": ")
        columns.append((label.strip(), expr.strip()) if sep else (line, line))
    if not rows or not columns:
        raise ConfigError(
            "a napkin-table needs :rows: and at least one `Label: expr` line",
            fix="e.g. :rows: H100, A100 and a line `Bandwidth: row.memory.bandwidth`",
        )

    def per_column(key: str) -> Any:
        raw = _attr(attrs, key, key.replace("-", "_"))
        if raw is None:
            return None
        values: list[Any] = [v if v not in ("", "-") else None for v in split_top(raw)]
        if key == "sig-figs":
            values = [int(v) if v is not None else None for v in values]
        return (
            [None, *values]
            if len(values) == len(columns)
            else values[0]
            if len(values) == 1
            else values
        )

    return {
        "rows": rows,
        "columns": columns,
        "units": per_column("units"),
        "sig_figs": per_column("sig-figs"),
        "styles": per_column("styles"),
        "caption": attrs.get("caption", ""),
    }


def run_item(doc: Document, item: Item) -> Outcome:
    """Evaluate ``item`` in ``doc`` (failures are collected in ``doc.failures``)."""
    a = item.attrs
    try:
        if item.kind == "block":
            block = doc.block(item.text, item.line, column=item.column)
            return Outcome(block.ok, None, tuple(block.rendered))
        if item.kind == "table":
            table: TableResult = doc.table(
                line=item.line, column=item.column, **parse_table(item.text, a)
            )
            if table.rendered is None:
                return Outcome(False, error_rendering())
            t = table.rendered
            return Outcome(
                table.ok,
                Rendered(text=t.text, latex=t.latex, html=t.html, markdown=t.markdown, math=False),
            )
        sig = _int_attr(a)
        result: ItemResult
        if item.kind == "inline":
            result = doc.inline(
                item.text,
                item.line,
                unit=_attr(a, "unit"),
                sig_figs=sig,
                style=_attr(a, "style"),
                column=item.column,
            )
        elif item.kind == "claim":
            result = doc.claim(
                item.text,
                item.line,
                of=_attr(a, "of"),
                tolerance=_attr(a, "tol", "tolerance"),
                column=item.column,
            )
        elif item.kind == "eq":
            result = doc.derivation(
                item.text.strip(),
                item.line,
                unit=_attr(a, "unit"),
                sig_figs=sig,
                style=_attr(a, "style"),
                column=item.column,
            )
        else:
            raise ConfigError(
                f"unknown item kind {item.kind!r}", fix=f"use one of {', '.join(ITEM_KINDS)}"
            )
        return Outcome(result.ok, result.rendered)
    except MlsysimError as exc:
        doc.checked += 1
        doc._failure("error", exc, item.text, item.line, item.column, None)
        return Outcome(False, error_rendering())
