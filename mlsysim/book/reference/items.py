"""The reference inside a book: a formula card or a registry table as a napkin item.

Every host writes them in its own syntax and gets the same item (located by the shared
scanner, so ``mlsysim check`` fails a misspelled formula or entry at its line):

* a formula card — MyST ```` ```{napkin-formula} amdahl ```` (reST ``.. napkin-formula::
  amdahl``), Quarto ``{{< napkin-formula amdahl >}}`` or a ```` ```{.napkin-formula} ````
  block holding the name: the item's text is the formula's name;
* a registry table — ```` ```{napkin-registry} H100, A100, MI300X ```` with ``:fields:``
  (dotted field paths, comma-separated; the registry's default columns otherwise),
  ``:registry:`` (``hardware`` unless given: ``models``, ``grids`` …), ``:caption:`` and
  ``:sig:``; Quarto ``{{< napkin-registry "H100, A100" fields="memory.bandwidth, tdp" >}}``.
  The item's text is the entries' ids (empty: every entry of the registry).

:func:`run_reference` gives the rendering of the whole card or table for every output (text,
Markdown, LaTeX, HTML) and the
:class:`~mlsysim.book.reference.formulas.FormulaCard` or the
:class:`~mlsysim.viz.table.TableRendered`, for a host that builds its own nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlsysim.core.exceptions import ConfigError, UnknownNameError
from mlsysim.viz.rendered import Rendered

if TYPE_CHECKING:
    from mlsysim.book.document import Document
    from mlsysim.book.syntax import Item

__all__ = ["REGISTRY_OPTIONS", "run_reference"]

#: Options a registry table reads (anything else is an error naming the option).
REGISTRY_OPTIONS = ("registry", "fields", "caption", "sig", "sig-figs", "name")
#: Options a formula card reads.
_FORMULA_OPTIONS = ("name",)


def _rendered(whole: Any) -> Rendered:
    return Rendered(
        text=whole.text, latex=whole.latex, html=whole.html, markdown=whole.markdown, math=False
    )


def _names(text: str) -> list[str]:
    from mlsysim.book.syntax import split_top

    return [part.strip().strip("\"'") for part in split_top(text) if part.strip()]


def _column(doc: Document, line: int, name: str) -> int:
    """1-based column of ``name`` on ``line`` of the document's source (1 when unknown)."""
    lines = (doc.source or "").splitlines()
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return text.find(name) + 1 if name in text else 1


def _check_options(item: Item, allowed: tuple[str, ...], what: str) -> None:
    for key in item.attrs:
        if key not in allowed:
            raise UnknownNameError(
                f"{what} option", key, list(allowed), fix="the options are " + ", ".join(allowed)
            )


def run_reference(doc: Document, item: Item) -> tuple[Rendered | None, Any]:
    """A formula card (kind ``formula``) or registry table (kind ``registry``): its rendering
    and the card or table (None, None when it failed, its failure recorded in ``doc``); an
    unknown formula, registry or entry raises a MlsysimError with did-you-mean."""
    head = item.text.strip()[:200]
    if item.kind == "formula":
        doc.count("formula card", head, item.line, item.column)
        _check_options(item, _FORMULA_OPTIONS, "formula card")
        from mlsysim.book.reference.formulas import formula_card

        if not head:
            raise ConfigError(
                "a formula card needs the formula's name", fix="write e.g. napkin-formula amdahl"
            )
        card = formula_card(head, doc.options)
        for cid, _source in card.reference.sources:  # cited by the book (`mlsysim bib`)
            doc.evaluator.cites[cid] = None
            doc.evaluator.item_cites[cid] = None
        return _rendered(card), card
    doc.count("registry table", head, item.line, item.column)
    _check_options(item, REGISTRY_OPTIONS, "registry table")
    from mlsysim.book.reference.registries import registry, registry_table

    if item.kind != "registry":
        raise ConfigError(f"not a reference item: {item.kind!r}")

    attrs = item.attrs
    kind = attrs.get("registry", "hardware")
    registry(kind)  # an unknown registry: did-you-mean before anything else
    ids = _names(item.text)
    fields = _names(attrs.get("fields", ""))
    sig = attrs.get("sig") or attrs.get("sig-figs")
    try:
        table = registry_table(
            kind,
            ids or None,
            fields or None,
            caption=attrs.get("caption", ""),
            sig_figs=int(sig) if sig and sig.strip().isdigit() else None,
        )
    except UnknownNameError as exc:
        if exc.kind != "field" or "fields" not in dict(item.option_lines):
            raise
        line = dict(item.option_lines)["fields"]  # the option's own line, at the field
        doc.record("error", exc, exc.name, line, _column(doc, line, exc.name), None)
        return None, None
    for source in table.sources:  # the sources its values cite (`mlsysim bib`, citeproc)
        if source.key:
            doc.evaluator.cites[source.key] = None
            doc.evaluator.item_cites[source.key] = None
    return _rendered(table), table
