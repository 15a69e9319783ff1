"""``mlsysim.collective``: one collective on a node or cluster, priced as the solvers price it.

The model — the algorithms, the bound and the achievable time, NCCL's protocols — is
:mod:`mlsysim.systems.collective_terms`, priced by :mod:`mlsysim.systems.collective_pricing`
(:func:`time_collective` and its types are re-exported here). :func:`collective` resolves
the system, places the group and returns a :class:`CollectiveResult` (nccl-tests' algorithm
and bus bandwidths, :func:`~mlsysim.core.formulas.collectives.bus_factor`); quantities are
built only here, at the API boundary. A call is cached per operation, size, system view and
algorithm with the other derived caches (a result is immutable), each view's group is one
object (so its plan is kept for the next size), and a size given as text is parsed once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core.cache import DerivedCache
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.formulas.collectives import bus_factor
from mlsysim.systems import collective_terms
from mlsysim.systems.collective_pricing import Timing, check, time_collective
from mlsysim.systems.topology import Group, SystemView, resolve_system

__all__ = [
    "ALGORITHMS",
    "COLLECTIVE_SCHEMA_VERSION",
    "OPS",
    "CollectiveResult",
    "Timing",
    "collective",
    "collective_json_schema",
    "time_collective",
]

#: Collective operations (nccl-tests names).
OPS: tuple[str, ...] = collective_terms.OPS
#: Algorithms by operation; ``"auto"`` chooses among the ones the hardware supports.
ALGORITHMS: dict[str, tuple[str, ...]] = collective_terms.ALGORITHMS

COLLECTIVE_SCHEMA_VERSION = "mlsysim.collective/1"


@dataclass(frozen=True, slots=True)
class CollectiveResult:
    """One collective on a system. ``time`` is achievable, ``time_bound`` the line-rate bound;
    ``algbw`` = size / time and ``busbw`` = algbw × nccl-tests' factor (Quantities in GB/s)."""

    op: str
    algorithm: str
    size_bytes: float
    devices: int
    nodes: int
    per_node: int
    system: str
    time_s: float
    time_bound_s: float
    notes: tuple[str, ...] = ()

    @property
    def time(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.time_s * 1e6, "us")

    @property
    def time_bound(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.time_bound_s * 1e6, "us")

    def _bw(self, t: float, bus: bool) -> float:
        if t <= 0.0:
            return math.inf
        f = bus_factor(self.op, self.devices) if bus else 1.0
        return self.size_bytes / t * f

    @property
    def algbw_bytes_per_s(self) -> float:
        return self._bw(self.time_s, False)

    @property
    def busbw_bytes_per_s(self) -> float:
        return self._bw(self.time_s, True)

    @property
    def busbw_bound_bytes_per_s(self) -> float:
        return self._bw(self.time_bound_s, True)

    @property
    def algbw(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.algbw_bytes_per_s * 1e-9, "GB/s")

    @property
    def busbw(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.busbw_bytes_per_s * 1e-9, "GB/s")

    @property
    def algbw_bound(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self._bw(self.time_bound_s, False) * 1e-9, "GB/s")

    @property
    def busbw_bound(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.busbw_bound_bytes_per_s * 1e-9, "GB/s")

    def __str__(self) -> str:
        return (
            f"{self.op} of {self.size_bytes * 1e-6:.4g} MB on {self.devices} devices of "
            f"{self.system} ({self.nodes} node{'s' if self.nodes != 1 else ''}): "
            f"{self.algorithm}, {self.time_s * 1e6:.4g} us, algbw "
            f"{self.algbw_bytes_per_s * 1e-9:.4g} GB/s, busbw "
            f"{self.busbw_bytes_per_s * 1e-9:.4g} GB/s (bound "
            f"{self.busbw_bound_bytes_per_s * 1e-9:.4g} GB/s)"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (schema :func:`~mlsysim.systems.collectives.collective_json_schema`)."""

        def q(x: float, unit: str) -> dict[str, Any] | None:
            return {"value": x, "unit": unit} if math.isfinite(x) else None

        return {
            "schema": COLLECTIVE_SCHEMA_VERSION,
            "schema_version": COLLECTIVE_SCHEMA_VERSION,
            "op": self.op,
            "algorithm": self.algorithm,
            "system": self.system,
            "devices": self.devices,
            "nodes": self.nodes,
            "per_node": self.per_node,
            "size": q(self.size_bytes, "B"),
            "time": q(self.time_s * 1e6, "us"),
            "time_bound": q(self.time_bound_s * 1e6, "us"),
            "algbw": q(self.algbw_bytes_per_s * 1e-9, "GB/s"),
            "busbw": q(self.busbw_bytes_per_s * 1e-9, "GB/s"),
            "busbw_bound": q(self.busbw_bound_bytes_per_s * 1e-9, "GB/s"),
            "notes": list(self.notes),
        }


#: Results by (op, size, view, algorithm), each view's whole group, and sizes given as text;
#: emptied by a registry change or clear_all().
_RESULTS = DerivedCache("collective results")
_VIEW_GROUPS = DerivedCache("collective view groups")
_SIZE_TEXT = DerivedCache("collective size texts")
_CACHE_LIMIT = 4096


def _size(size: Any) -> float:
    """Bytes of ``size`` (a Quantity, or text parsed once)."""
    from mlsysim.core.units import si

    if not isinstance(size, str):
        return si(size, "information", "size")
    M = _SIZE_TEXT.get(size)
    if M is None:
        M = si(size, "information", "size")
        if len(_SIZE_TEXT) > _CACHE_LIMIT:
            _SIZE_TEXT.clear()
        _SIZE_TEXT.put(size, M)
    return M


def _group(view: SystemView) -> Group:
    """The group of all of ``view``'s devices (one object per view, so its plan is kept)."""
    hit = _VIEW_GROUPS.get(id(view))
    if hit is not None and hit[0] is view:
        return hit[1]
    grp = view.group(view.devices, 1)
    if len(_VIEW_GROUPS) > _CACHE_LIMIT:
        _VIEW_GROUPS.clear()
    _VIEW_GROUPS.put(id(view), (view, grp))
    return grp


def collective(
    op: str, size: Any, system: Any, devices: int | None = None, algorithm: str = "auto"
) -> CollectiveResult:
    """Time collective ``op`` of ``size`` (bytes as a Quantity or ``"1 GB"``) on ``system``.

    ``system`` is a node or cluster id (or spec); ``devices`` (default: all of it) are the
    first ranks of the system, packed node by node. ``op`` is one of
    :data:`~mlsysim.systems.collectives.OPS`; ``algorithm`` one of
    :data:`~mlsysim.systems.collectives.ALGORITHMS` for it, or ``"auto"`` (the fastest
    achievable).
    The result has ``time``, ``algbw``, ``busbw`` (nccl-tests' definitions) and the
    ``algorithm`` used, plus the line-rate bounds ``time_bound`` and ``busbw_bound``.
    """
    check(op, algorithm)
    M = _size(size)
    if M < 0.0:
        raise ConfigError(
            f"size must be non-negative, got {size!r}", where="collective", fix="pass e.g. '1 GB'"
        )
    view: SystemView = resolve_system(system, devices)
    key = (op, M, id(view), algorithm)
    hit = _RESULTS.get(key)
    if hit is not None and hit[0] is view:
        return hit[1]
    if view.devices < 2:
        raise ConfigError(
            f"a collective needs at least 2 devices, got {view.devices}",
            where="collective",
            fix="pass devices=2 or more, and a node or cluster as the system",
        )
    grp = _group(view)
    t = time_collective(op, M, grp, algorithm)
    notes = tuple(
        f"{lk.fabric} has no recorded collective efficiency: its achievable bandwidth is the "
        "line rate"
        for lk in (grp.intra, grp.inter if grp.nodes > 1 else None)
        if lk is not None and not lk.efficiency_known
    )
    made = CollectiveResult(
        op, t.algorithm, M, view.devices, grp.nodes, grp.per_node, view.id, t.time, t.bound, notes
    )
    if len(_RESULTS) > _CACHE_LIMIT:
        _RESULTS.clear()
    _RESULTS.put(key, (view, made))
    return made


def collective_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`CollectiveResult.to_dict`."""
    q = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"value": {"type": "number"}, "unit": {"type": "string"}},
                "required": ["value", "unit"],
                "additionalProperties": False,
            },
            {"type": "null"},
        ]
    }
    props: dict[str, Any] = {
        "schema": {"const": COLLECTIVE_SCHEMA_VERSION},
        "schema_version": {"const": COLLECTIVE_SCHEMA_VERSION},
        "op": {"enum": list(OPS)},
        "algorithm": {"type": "string"},
        "system": {"type": "string"},
        "devices": {"type": "integer", "minimum": 2},
        "nodes": {"type": "integer", "minimum": 1},
        "per_node": {"type": "integer", "minimum": 1},
        "size": q,
        "time": q,
        "time_bound": q,
        "algbw": q,
        "busbw": q,
        "busbw_bound": q,
        "notes": {"type": "array", "items": {"type": "string"}},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/collective-1.json",
        "title": "mlsysim collective result",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
