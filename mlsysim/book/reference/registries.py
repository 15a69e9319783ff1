"""Registry entries as a reader sees them: every field with its value as written, its unit and
dimension, and the source it cites — for ``mlsysim zoo KIND ID``, the generated reference
pages and registry tables in a book.

>>> rows = {f.path: f for f in entry_fields("hardware", "H100")}
>>> rows["memory.bandwidth"].text, rows["memory.bandwidth"].dimension
('3.35 TB/s', 'bandwidth')
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mlsysim.core.exceptions import MlsysimError, UnknownNameError
from mlsysim.viz.table import Source, TableRendered

__all__ = [
    "REGISTRY_KINDS",
    "EntryField",
    "entry_fields",
    "registry",
    "registry_table",
    "source_of",
]

#: registry name (as on the command line) -> (attribute of ``mlsysim``, default table fields)
REGISTRY_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "hardware": ("Hardware", ("kind", "memory.capacity", "memory.bandwidth", "tdp")),
    "models": ("Models", ("kind", "task", "params")),
    "grids": ("Grids", ("carbon_intensity",)),
    "datacenters": ("Datacenters", ("pue",)),
    "cloud-rates": ("CloudRates", ()),
    "fabrics": ("Fabrics", ("bandwidth",)),
    "nodes": ("Nodes", ()),
    "clusters": ("Clusters", ()),
    "applications": ("Applications", ("workload.model",)),
    "personas": ("Personas", ("scale", "scale_unit", "region")),
}
#: fields of every entry that describe it rather than hold a figure
_META = ("id", "provenance", "source", "as_of")


@dataclass(frozen=True, slots=True)
class EntryField:
    """One field of a registry entry.

    ``path`` is dotted (``memory.bandwidth``, ``peak.dense.bf16``); ``text`` the value as the
    data file wrote it (``3.35 TB/s``); ``unit`` and ``dimension`` are empty for a value
    without one; ``source`` is the citation id it cites, ``as_of`` its date when it drifts.
    """

    path: str
    value: Any
    text: str
    unit: str
    dimension: str
    source: str
    as_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.path,
            "text": self.text,
            "unit": self.unit,
            "dimension": self.dimension,
            "source": self.source,
            "as_of": self.as_of,
        }


def registry(kind: str) -> Any:
    """The :class:`~mlsysim.core.registry.Registry` of ``kind`` (``hardware``, ``Hardware``,
    ``cloud-rates`` …); UnknownNameError with did-you-mean otherwise."""
    import mlsysim

    by_name = {k: attr for k, (attr, _) in REGISTRY_KINDS.items()}
    by_name |= {attr.lower(): attr for attr, _ in REGISTRY_KINDS.values()}
    key = kind.strip().lower().replace("_", "-")
    attr = by_name.get(key) or by_name.get(key.replace("-", ""))
    if attr is None:
        raise UnknownNameError("registry", kind, list(REGISTRY_KINDS))
    return getattr(mlsysim, attr)


def _walk(obj: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf value) of a spec's fields, nested tables flattened, in field order."""
    from pydantic import BaseModel

    if isinstance(obj, BaseModel):
        names = [n for n in type(obj).model_fields if not (prefix == "" and n in _META)]
        if prefix == "" and "notes" in names:  # prose about the entry: after its figures
            names = [n for n in names if n != "notes"] + ["notes"]
        for name in names:
            yield from _walk(getattr(obj, name), f"{prefix}{name}.")
        return
    if isinstance(obj, dict) and obj:
        for key, value in obj.items():
            yield from _walk(value, f"{prefix}{key}.")
        return
    if isinstance(obj, list | tuple) and obj and any(isinstance(v, BaseModel) for v in obj):
        for i, value in enumerate(obj):
            label = getattr(value, "name", None) or str(i)
            yield from _walk(value, f"{prefix}{label}.")
        return
    if obj is None or obj == {} or obj == () or obj == []:
        return
    yield prefix.rstrip("."), obj


def entry_fields(kind: str, entry: str | Any) -> list[EntryField]:
    """Every field of one entry (an id, an alias or a spec) with text, unit, dimension and
    source; fields the data leave out are absent, never zero."""
    spec = registry(kind)[entry] if isinstance(entry, str) else entry
    out = []
    for path, value in _walk(spec, ""):
        out.append(_field(spec, path, value))
    return out


def _field(spec: Any, path: str, value: Any) -> EntryField:
    from mlsysim.core.units import describe_dimension, ureg
    from mlsysim.viz.format import format_unit

    cited = spec.source_of(path)
    as_of = spec.as_of_of(path) if path in spec.drifting or path in spec.provenance else None
    if isinstance(value, ureg.Quantity):
        unit = format_unit(value.units)[0] if not value.dimensionless else ""
        dimension = describe_dimension(value).split(" (", 1)[0]
        return EntryField(path, value, _as_written(value), unit, dimension, cited, _day(as_of))
    text = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return EntryField(path, value, text, "", "", cited, _day(as_of))


def _day(value: Any) -> str | None:
    return None if value is None else str(value)


def _as_written(value: Any) -> str:
    from mlsysim.book.evaluator import written_digits
    from mlsysim.viz.format import render_value

    return render_value(value, unit=value.units, given_digits=written_digits(value)).text


def source_of(cid: str) -> Source:
    """A citation id as a reader sees it: its title, authors or publisher and year, linked."""
    from mlsysim.core.registry import catalog

    cite = catalog().sources.get(cid)
    return Source(cite.short(), cite.url, cid) if cite is not None else Source(cid)


def registry_table(
    kind: str,
    ids: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
    *,
    caption: str = "",
    sig_figs: int | None = None,
) -> TableRendered:
    """A table of registry entries (one row each) and fields (one column each), every value
    as its data file wrote it, the cited sources listed under the table by title with links.

    ``ids`` default to every entry of the registry, ``fields`` to the kind's default columns
    (:data:`REGISTRY_KINDS`); a field an entry lacks shows ``—`` (missing, never zero). The
    result is the host-neutral table ``napkin-table`` gives (text, Markdown, LaTeX, HTML,
    ``to_dict``), so a host's registry-table directive wraps it as it wraps a napkin table.
    """
    from mlsysim.book.evaluator import written_digits
    from mlsysim.viz.table import render_table

    reg = registry(kind)
    specs = [reg[i] for i in ids] if ids else list(reg)
    default = next((f for k, (a, f) in REGISTRY_KINDS.items() if reg is registry(k)), ())
    columns = list(fields) if fields else list(default)
    _known_fields(reg, specs, columns)
    grid: list[list[Any]] = []
    digits: list[list[int | None]] = []
    cited: list[str] = []
    for spec in specs:
        row: list[Any] = [spec.name]
        row_digits: list[int | None] = [None]
        for path in columns:
            value = _read(spec, path)
            if value is None:
                row.append("—")
                row_digits.append(None)
                continue
            row.append(value)
            row_digits.append(written_digits(value))
            cid = spec.source_of(path)
            if cid not in cited:
                cited.append(cid)
        grid.append(row)
        digits.append(row_digits)
    return render_table(
        ["", *columns],
        grid,
        given_digits=digits,
        sources=[source_of(c) for c in cited],
        caption=caption,
        sig_figs=[None, *([sig_figs] * len(columns))] if sig_figs else None,
    )


def _known_fields(entries: Any, specs: Sequence[Any], columns: Sequence[str]) -> None:
    """A field the entries' schema does not have is a misspelling (or a field of another
    registry): an error with did-you-mean, never a column of dashes. A field the schema has
    but an entry leaves out shows as missing."""
    from pydantic import BaseModel

    for path in columns:
        for spec in specs[:1]:
            obj: Any = spec
            parts = path.split(".")
            for at, part in enumerate(parts):
                if obj is None:
                    break  # the first entry lacks it: nothing to tell a misspelling by
                if not isinstance(obj, BaseModel):
                    # a mapping (peak.dense.bf16): its keys are data, so the key must be one
                    # some entry of the registry has, else it is a misspelling
                    _known_key(entries, path, ".".join(parts[:at]), part)
                    break
                if part not in type(obj).model_fields and not hasattr(type(obj), part):
                    raise _unknown_field(specs, path)
                obj = getattr(obj, part, None)


def _unknown_field(specs: Sequence[Any], path: str) -> UnknownNameError:
    known = sorted({p for s in specs for p, _ in _walk(s, "")})
    return UnknownNameError(
        "field", path, known, fix="`mlsysim zoo KIND ID` lists every field of an entry"
    )


def _known_key(entries: Any, path: str, mapping: str, key: str) -> None:
    """``key`` of the mapping field ``mapping`` must be held by at least one entry of the
    registry (an entry without it shows as missing, ``—``); a key no entry has is an error."""
    keys: set[str] = set()
    for spec in entries:
        obj = _read(spec, mapping)
        if isinstance(obj, dict):
            keys.update(str(k) for k in obj)
    if key not in keys:
        known = sorted(f"{mapping}.{k}" for k in keys)
        raise UnknownNameError(
            "field", path, known, fix="`mlsysim zoo KIND ID` lists every field of an entry"
        )


def _read(spec: Any, path: str) -> Any:
    obj = spec
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        else:
            if part.startswith("_"):
                raise MlsysimError(f"field {path!r} is not readable")
            obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj
