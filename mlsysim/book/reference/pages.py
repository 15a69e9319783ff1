"""The reference as MyST Markdown pages a Sphinx site includes: formulas, walls, registries
and sources, generated from the engine itself (``mlsysim reference --out DIR``).

Pages (each one file, the same bytes for the same data):

* ``index.md`` — a ``toctree`` of the others;
* ``formulas.md`` — every formula by domain: signature, arguments (dimension, default,
  example), result, LaTeX (a ``{math}`` block), example with its value, sources linked;
* ``walls.md`` — the 22 walls: question, layer, formulas (linked), deciding solvers, sources;
* ``registries.md`` — one section per registry: a table of its entries, then every entry's
  fields with units and sources;
* ``sources.md`` — every citation: title, authors or publisher, year, link, and its id.

Targets are ``formula-NAME``, ``wall-ID``, ``entry-KIND-ID`` and ``source-ID`` (MyST
``(label)=``), so a chapter can link ``{ref}`formula-ridge_point```. Only core MyST and Sphinx
syntax is used (no extension beyond ``myst_parser``), and the pages build under ``-W``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mlsysim.book.reference.formulas import formula_info, formula_names, formula_reference
from mlsysim.book.reference.registries import REGISTRY_KINDS, entry_fields, registry, source_of
from mlsysim.viz.table import Source

__all__ = ["PAGES", "reference_pages", "write_reference"]

#: file name -> title, in toctree order
PAGES: dict[str, str] = {
    "formulas.md": "Formulas",
    "walls.md": "The walls",
    "registries.md": "Registries",
    "sources.md": "Sources",
}


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return _md(" ".join(str(text).split())).replace("|", "\\|")


def _md(text: str) -> str:
    """Prose with Markdown's inline markers escaped."""
    out = []
    for ch in text:
        if ch in "\\`*_[]<>#{}$":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _code(text: str) -> str:
    """Inline code that may itself hold backticks."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _link(source: Source) -> str:
    text = _md(source.text)
    return f"[{text}](<{source.url}>)" if source.url else text


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _formulas_page() -> str:
    lines = ["# Formulas", ""]
    lines += [
        "Every formula napkin math can call, by domain. Each example is a napkin expression, "
        "evaluated when this page was generated.",
        "",
    ]
    names = sorted(formula_names(), key=lambda n: (formula_info(n).domain, n))
    domain = None
    for name in names:
        ref = formula_reference(name)
        if ref.domain != domain:
            domain = ref.domain
            lines += [f"## {domain.replace('_', ' ').capitalize()}", ""]
        lines += [f"(formula-{name})=", f"### `{name}`", "", _code(ref.signature), ""]
        if ref.summary:
            lines += [_md(ref.summary), ""]
        rows = [
            [
                _code(p.name),
                _cell(p.dimension),
                _code(p.default) if p.default is not None else "—",
                _code(p.example) if p.example is not None else "—",
            ]
            for p in ref.parameters
        ]
        lines += [*_table(["argument", "is", "default", "example"], rows), ""]
        unit = f" ({_md(ref.result_unit)})" if ref.result_unit else ""
        lines += [f"Result: {_md(ref.result)}{unit}.", ""]
        lines += ["```{math}", ref.symbol, "```", ""]
        lines += [f"Example: {_code(ref.example)} = {_md(ref.example_text)}", ""]
        for field, text in ref.fields:
            lines.append(f"- `.{field}` = {_md(text)}")
        if ref.fields:
            lines.append("")
        cites = "; ".join(f"{_link(s)} ([{cid}](#source-{cid}))" for cid, s in ref.sources)
        lines += [f"Source: {cites}", ""]
    return "\n".join(lines)


def _walls_page() -> str:
    from mlsysim.core.walls import WALLS

    lines = ["# The walls", "", "The limits of ML systems, and how mlsysim decides each.", ""]
    for w in WALLS:
        lines += [f"(wall-{w.id})=", f"## {w.number}. {_md(w.name)}", "", _md(w.question), ""]
        formulas = ", ".join(f"[`{f}`](#formula-{f})" for f in w.formulas) or "—"
        solvers = ", ".join(f"`{s}`" for s in w.solvers) or "none (formula-only)"
        cites = "; ".join(f"{_link(source_of(c))}" for c in w.sources) or "—"
        lines += [
            f"- id: `{w.id}`; layer: {_md(w.layer)}",
            f"- formulas: {formulas}",
            f"- decided by: {solvers}",
            f"- sources: {cites}",
            "",
        ]
    return "\n".join(lines)


def _registries_page() -> str:
    lines = ["# Registries", ""]
    lines += [
        "Every registry entry, with every figure as its data file gives it, its unit and its "
        "source. Read any of them in napkin math by id (`H100.memory.bandwidth`).",
        "",
    ]
    for kind, (attr, columns) in REGISTRY_KINDS.items():
        reg = registry(kind)
        specs = list(reg)
        lines += [f"## {attr}", "", f"{len(specs)} entries (`mlsysim zoo {kind}`).", ""]
        rows = []
        for spec in specs:
            texts = {f.path: f.text for f in entry_fields(kind, spec)}
            rows.append(
                [f"[`{spec.id}`](#entry-{kind}-{spec.id})", _cell(spec.name)]
                + [_cell(texts.get(c, "—")) for c in columns]
            )
        lines += [*_table(["id", "name", *columns], rows), ""]
        for spec in specs:
            lines += [f"(entry-{kind}-{spec.id})=", f"### `{spec.id}`: {_md(spec.name)}", ""]
            fields = entry_fields(kind, spec)
            rows = [
                [
                    _code(f.path),
                    _cell(f.text),
                    _cell(f.dimension) or "—",
                    _source_ref(f.source),
                    f.as_of or "",
                ]
                for f in fields
                if f.path != "notes"
            ]
            lines += [*_table(["field", "value", "dimension", "source", "as of"], rows), ""]
            notes = next((f.text for f in fields if f.path == "notes"), None)
            if notes:
                lines += [_md(" ".join(notes.split())), ""]
    return "\n".join(lines)


def _source_ref(cid: str) -> str:
    return f"[{_md(cid)}](#source-{cid})"


def _sources_page() -> str:
    from mlsysim.core.registry import catalog

    lines = ["# Sources", "", "Every citation the formulas and the registry data give.", ""]
    for cid, cite in sorted(catalog().sources.items()):
        who = cite.authors or cite.publisher or ""
        title = f"[{_md(cite.title)}](<{cite.url}>)" if cite.url else _md(cite.title)
        lines += [f"(source-{cid})=", f"## `{cid}`", "", f"{title}. {_md(who)}, {cite.year}."]
        if cite.note:
            lines += ["", _md(" ".join(cite.note.split()))]
        lines.append("")
    return "\n".join(lines)


def _index_page(title: str) -> str:
    lines = [f"# {title}", "", "Generated by `mlsysim reference`.", "", "```{toctree}"]
    lines += [":maxdepth: 1", ""] + [name.removesuffix(".md") for name in PAGES]
    lines += ["```", ""]
    return "\n".join(lines)


def reference_pages(title: str = "Reference") -> dict[str, str]:
    """Every reference page's file name and MyST text."""
    return {
        "index.md": _index_page(title),
        "formulas.md": _formulas_page(),
        "walls.md": _walls_page(),
        "registries.md": _registries_page(),
        "sources.md": _sources_page(),
    }


def write_reference(out: str | os.PathLike[str], title: str = "Reference") -> list[Path]:
    """Write the reference pages into the folder ``out`` (created if needed); returns the
    files written. A file is rewritten only when its text changed, so a Sphinx build that
    includes them re-reads only what changed."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in reference_pages(title).items():
        path = folder / name
        data = text.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    return written
