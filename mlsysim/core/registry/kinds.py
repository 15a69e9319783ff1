"""The registered kinds of registry entry, and the lookup key of an id or alias.

A kind is a schema name (``schema = "mlsysim.<kind>/1"``), the frozen spec class its entries
are built as and the noun messages use. Each modeling layer registers its own kinds
(:func:`mlsysim.core.registry.register_kind`); ``"sources"`` (citations only) belongs to the
ground. Callbacks registered with :func:`on_first_load` run once before the first load, so
that every layer has registered its kinds by then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from mlsysim.core.exceptions import MlsysimError

__all__ = [
    "KINDS",
    "Kind",
    "add_kind",
    "kinds",
    "normalize",
    "on_first_load",
    "run_first_load",
    "spec_name",
]


class Kind(NamedTuple):
    """A registry kind: its schema name, spec class and the noun used in messages.

    (A NamedTuple, not a dataclass: ``import mlsysim`` stays free of ``dataclasses``.)"""

    name: str
    spec: Any  # the frozen pydantic class; None for the citation-only "sources" kind
    noun: str


#: schema kind -> its registration. Each modeling layer registers its own kinds
#: (:func:`~mlsysim.core.registry.register_kind`); "sources" (citations only) belongs to the
#: ground.
KINDS: dict[str, Kind] = {"sources": Kind("sources", None, "citation")}
#: callbacks run once before the first load, so that every layer has registered its kinds
_FIRST_LOAD: list[Callable[[], None]] = []


def add_kind(kind: str, spec: Any, noun: str) -> Kind | None:
    """Record ``kind`` (built as ``spec``, named ``noun``); the registration it had before.

    A kind registered again with the same spec class is recorded again; another spec class
    for a known kind is refused.
    """
    known = KINDS.get(kind)
    if known is not None and known.spec is not spec:
        raise MlsysimError(
            f"registry kind {kind!r} is already registered by {known.spec.__module__}",
            fix="give the new kind its own schema name",
        )
    KINDS[kind] = Kind(kind, spec, noun)
    return known


def on_first_load(callback: Callable[[], None]) -> None:
    """Run ``callback`` once before the catalog first loads (the package registers its layers)."""
    _FIRST_LOAD.append(callback)


def run_first_load() -> None:
    """Run (once) every callback registered with :func:`on_first_load`."""
    while _FIRST_LOAD:
        _FIRST_LOAD.pop(0)()


def kinds() -> dict[str, str]:
    """Every registered kind and its noun (after the layers have registered theirs)."""
    run_first_load()
    return {k.name: k.noun for k in KINDS.values()}


def spec_name(kind: Kind) -> tuple[str, str, str]:
    """A kind as a snapshot records it: its spec class's module and name, and its noun."""
    spec = kind.spec
    if spec is None:
        return ("", "", kind.noun)
    return (spec.__module__, spec.__qualname__, kind.noun)


def normalize(name: str) -> str:
    """Lookup key for ids and aliases: case-insensitive, spaces/hyphens/dots as underscores."""
    out: list[str] = []
    joined = False
    for ch in name.strip():
        if ch.isspace() or ch in "-./":
            if not joined:
                out.append("_")
                joined = True
            continue
        out.append(ch)
        joined = False
    return "".join(out).lower()
