"""Reading one data file: its TOML, its entries built and checked, located errors.

Everything a :class:`~mlsysim.core.registry.load.Catalog` needs to turn one file into
validated entries, without any registry state: the TOML document (UTF-8, bounded nesting),
inline ``{ value = "…", source = "…", as_of = … }`` tables split into values and provenance,
an entry built as its kind's spec class, and every plain number checked. Each problem is a
:class:`~mlsysim.core.exceptions.RegistryDataError` naming the file, the entry and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlsysim.core.exceptions import MlsysimError, RegistryDataError

__all__ = ["build_entry", "check_numbers", "first_line", "has_field", "read_toml"]

#: Deepest nesting of tables and arrays read from a data file.
_MAX_TOML_DEPTH = 32


def read_toml(path: Path) -> dict[str, Any]:
    """A data file's TOML document; RegistryDataError naming the file for any problem."""
    import tomllib  # only when data files load: keeps `import mlsysim` light

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RegistryDataError(
            "cannot read the data file", file=str(path), why=exc.strerror or str(exc)
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise RegistryDataError(
            "data file is not UTF-8 text",
            file=f"{path}:{line}",
            why=f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not UTF-8",
            fix="save the file as UTF-8",
        ) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryDataError(
            "data file is not valid TOML",
            file=str(path),
            why=str(exc),
            fix="fix the TOML syntax at the position given",
        ) from None
    except (RecursionError, MemoryError):
        raise RegistryDataError(
            "data file is nested too deeply", file=str(path), fix="flatten its tables and arrays"
        ) from None
    if _depth(doc) > _MAX_TOML_DEPTH:
        raise RegistryDataError(
            "data file is nested too deeply",
            file=str(path),
            why=f"the limit is {_MAX_TOML_DEPTH} levels of tables and arrays",
            fix="flatten its tables and arrays",
        )
    return doc


def _depth(value: Any) -> int:
    """Nesting depth of tables and arrays (iterative: a hostile file cannot overflow it)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level <= _MAX_TOML_DEPTH:
            stack.extend((child, level + 1) for child in children)
    return deepest


def check_numbers(obj: Any, prefix: str, path: Path, eid: str) -> None:
    """Refuse NaN, infinite and negative plain numbers anywhere in a built entry.

    Quantity fields are checked by their validators (which also refuse zero rates); plain
    numbers (counts, fractions, years) are checked here, with the dotted field path named.
    """
    from pydantic import BaseModel

    from mlsysim.core.types import check_figure

    stack: list[tuple[str, Any]] = [(prefix, obj)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, BaseModel):
            fields = type(value).model_fields
            stack.extend(
                (f"{where}.{n}" if where else n, getattr(value, n))
                for n in fields
                if n not in ("provenance", "as_of")
            )
        elif isinstance(value, dict):
            stack.extend((f"{where}.{k}", v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            try:
                check_figure(value, where.rpartition(".")[2] or where)
            except ValueError as exc:
                raise RegistryDataError(
                    "invalid data figure",
                    file=str(path),
                    entry=eid,
                    field=where,
                    why=str(exc),
                    fix="write the figure the source gives (finite and not negative)",
                ) from None


def has_field(spec: Any, dotted: str) -> bool:
    obj = spec
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return True


def _strip_provenance(
    raw: dict[str, Any], prefix: str, out: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Replace ``{value=…, source=…, as_of=…}`` inline tables by their value, recording the rest."""
    data: dict[str, Any] = {}
    for key, val in raw.items():
        path = f"{prefix}{key}"
        if isinstance(val, dict) and "value" in val and set(val) <= {"value", "source", "as_of"}:
            if "source" in val or "as_of" in val:
                out[path] = {
                    "source": val.get("source") or raw.get("source") or "",
                    "as_of": val.get("as_of"),
                }
            data[key] = val["value"]
        elif isinstance(val, dict) and key not in ("provenance",):
            data[key] = _strip_provenance(val, path + ".", out)
        else:
            data[key] = val
    if prefix == "":
        for fs in out.values():
            if not fs["source"]:
                fs["source"] = raw.get("source", "")
    return data


def _fix_for(err: Any) -> str:
    """How to fix one pydantic error of an entry: the fix a field's validator gave; none for
    a validator's own refusal (its message says what to change: a stated count the shape
    does not reproduce, a negative figure); else what the error's type asks for."""
    t = err.get("type", "")
    if t == "missing":
        return "add the field"
    if t == "extra_forbidden":
        return "remove the field or check its spelling against docs/registry-grammar.md"
    if t in ("value_error", "assertion_error"):
        return str(getattr((err.get("ctx") or {}).get("error"), "fix", "") or "")
    return "write the field as docs/registry-grammar.md gives it"


def first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def build_entry(cls: Any, noun: str, eid: str, raw: dict[str, Any], path: Path) -> Any:
    """Entry ``eid`` of a file built as ``cls`` (its kind's spec class, named ``noun``)."""
    from pydantic import ValidationError

    provenance: dict[str, dict[str, Any]] = {}
    data = _strip_provenance(raw, "", provenance)
    data.setdefault("name", eid)
    try:
        return cls(id=eid, provenance=provenance, **data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        ctx_err = (err.get("ctx") or {}).get("error")
        why = str(ctx_err) if ctx_err is not None else err["msg"]
        raise RegistryDataError(
            f"invalid {noun} entry",
            file=str(path),
            entry=eid,
            field=field,
            why=why,
            fix=_fix_for(err),
        ) from None
    except MlsysimError as exc:
        raise RegistryDataError(
            f"invalid {noun} entry", file=str(path), entry=eid, why=str(exc)
        ) from None
