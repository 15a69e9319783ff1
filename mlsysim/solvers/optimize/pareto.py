"""Pareto frontiers: the candidates that no other candidate beats on every objective.

``pareto(search, "cost", "time")`` takes the candidates of any optimizer's
:class:`~mlsysim.solvers.optimize.result.Search` (each objective's sense is the search's
metric's), or any list of mappings or objects (``pareto(rows, "min:cost", "max:throughput")``;
a bare name is minimized unless it is a throughput-like metric), and returns a
:class:`Frontier`: the non-dominated points best-first on the first objective, how many were
dominated, and which were left out because an objective is unknown for them (with the
reason; never as 0).

``a`` dominates ``b`` when ``a`` is no worse on every objective and better on one. Identical
points do not dominate each other (both stay). :func:`frontier` sorts once and sweeps
(Kung, Luccio & Preparata 1975): two objectives keep a running minimum, O(n log n); three
keep a staircase of the second and third objectives searched by bisection, O(n log n)
comparisons; more compare each point with the frontier so far, O(n·f·k).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlsysim.core.exceptions import ConfigError
from mlsysim.solvers.optimize.result import Candidate, Search
from mlsysim.solvers.run.ledger import fmt

__all__ = ["PARETO_SCHEMA_VERSION", "Frontier", "frontier", "pareto", "pareto_json_schema"]

PARETO_SCHEMA_VERSION = "mlsysim.pareto/1"

#: Names maximized by default when points are not a search's candidates.
_MAXIMIZED = frozenset(
    {"throughput", "tflops_per_device", "hardware_tflops_per_device", "mfu", "goodput"}
)


def frontier(vectors: Sequence[Sequence[float]]) -> list[int]:
    """Indices (ascending) of the non-dominated vectors, every coordinate minimized."""
    if not vectors:
        return []
    k = len(vectors[0])
    groups: dict[tuple[float, ...], list[int]] = {}
    for i, v in enumerate(vectors):
        if len(v) != k:
            raise ConfigError(
                "every point needs a value for every objective",
                where="pareto",
                fix="give each point the same objectives",
            )
        groups.setdefault(tuple(v), []).append(i)
    unique = sorted(groups)  # lexicographic: only an earlier vector can dominate a later one
    if k == 1:
        keep = unique[:1]
    elif k == 2:
        keep, best = [], math.inf
        for v in unique:
            if v[1] < best:
                keep.append(v)
                best = v[1]
    elif k == 3:
        keep = _staircase(unique)
    else:
        keep = []
        for v in unique:
            if not any(all(a <= b for a, b in zip(f, v, strict=True)) for f in keep):
                keep.append(v)
    return sorted(i for v in keep for i in groups[v])


def _staircase(unique: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    """Three objectives: a point is dominated iff an earlier frontier point is no worse on the
    second and third; the frontier's (second, third) pairs are kept with the second ascending
    and the third descending, so one bisection answers."""
    keep: list[tuple[float, ...]] = []
    f2: list[float] = []
    f3: list[float] = []
    for v in unique:
        j = bisect.bisect_right(f2, v[1])
        if j and f3[j - 1] <= v[2]:
            continue  # dominated
        keep.append(v)
        k = bisect.bisect_left(f2, v[1])
        end = k
        while end < len(f2) and f3[end] >= v[2]:
            end += 1
        f2[k:end] = [v[1]]
        f3[k:end] = [v[2]]
    return keep


@dataclass(frozen=True)
class Frontier:
    """The non-dominated points (see the module doc); values in each objective's unit."""

    objectives: tuple[str, ...]
    senses: tuple[str, ...]
    units: tuple[str, ...]
    points: tuple[Any, ...]
    values: tuple[tuple[float, ...], ...]
    dominated: int = 0
    excluded: tuple[tuple[str, str], ...] = ()  # (point, why an objective is unknown)
    notes: tuple[str, ...] = field(default=())

    @property
    def size(self) -> int:
        """Points on the frontier."""
        return len(self.points)

    @property
    def extremes(self) -> dict[str, Any]:
        """The frontier point that is best on each objective."""
        out = {}
        for j, (name, sense) in enumerate(zip(self.objectives, self.senses, strict=True)):
            pick = max if sense == "max" else min
            out[name] = self.points[pick(range(self.size), key=lambda i: self.values[i][j])]
        return out

    def _text(self, i: int) -> str:
        vals = ", ".join(
            f"{n} {fmt(v, u) if u else f'{v:.4g}'}"
            for n, v, u in zip(self.objectives, self.values[i], self.units, strict=True)
        )
        return f"{_label(self.points[i])} ({vals})"

    @property
    def explanation(self) -> str:
        """The frontier's two ends and what was dominated or left out."""
        goal = " and ".join(f"{n} ({s})" for n, s in zip(self.objectives, self.senses, strict=True))
        if not self.points:
            return f"no point has every objective known: {self._excluded_text()}"
        lines = [f"{self.size} points on the frontier of {goal}; {self.dominated} dominated"]
        lines.append(f"best {self.objectives[0]}: {self._text(0)}")
        if self.size > 1:
            lines.append(f"other end: {self._text(self.size - 1)}")
        if self.excluded:
            lines.append(f"left out: {self._excluded_text()}")
        return "\n".join(lines + list(self.notes))

    def _excluded_text(self) -> str:
        reasons: dict[str, int] = {}
        for _, why in self.excluded:
            reasons[why] = reasons.get(why, 0) + 1
        return "; ".join(f"{n}× {r}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]))

    def __str__(self) -> str:
        return self.explanation

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": PARETO_SCHEMA_VERSION,
            "schema_version": PARETO_SCHEMA_VERSION,
            "objectives": [
                {"name": n, "sense": s, "unit": u}
                for n, s, u in zip(self.objectives, self.senses, self.units, strict=True)
            ],
            "points": [
                {
                    "label": _label(p),
                    "config": dict(p.config) if isinstance(p, Candidate) else None,
                    "values": dict(zip(self.objectives, v, strict=True)),
                }
                for p, v in zip(self.points, self.values, strict=True)
            ],
            "dominated": self.dominated,
            "excluded": [{"label": label, "reason": why} for label, why in self.excluded],
            "notes": list(self.notes),
        }


def pareto_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`Frontier.to_dict`."""
    text = {"type": "string"}
    props: dict[str, Any] = {
        "schema": {"const": PARETO_SCHEMA_VERSION},
        "schema_version": {"const": PARETO_SCHEMA_VERSION},
        "objectives": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": text, "sense": {"enum": ["min", "max"]}, "unit": text},
                "required": ["name", "sense", "unit"],
                "additionalProperties": False,
            },
        },
        "points": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "label": text,
                    "config": {"type": ["object", "null"]},
                    "values": {"type": "object", "additionalProperties": {"type": "number"}},
                },
                "required": ["label", "config", "values"],
                "additionalProperties": False,
            },
        },
        "dominated": {"type": "integer", "minimum": 0},
        "excluded": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"label": text, "reason": text},
                "required": ["label", "reason"],
                "additionalProperties": False,
            },
        },
        "notes": {"type": "array", "items": text},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/pareto-1.json",
        "title": "mlsysim Pareto frontier (mlsysim optimize --pareto … --json)",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def _label(p: Any) -> str:
    if isinstance(p, Candidate):
        return p.label
    if isinstance(p, dict):
        return ", ".join(f"{k}={v}" for k, v in p.items() if isinstance(v, str))
    return str(getattr(p, "id", p))


def _parse(objective: Any) -> tuple[str, str | None]:
    if not isinstance(objective, str) or not objective:
        raise ConfigError(
            f"an objective is a metric's name, got {objective!r}",
            where="pareto",
            fix='pass names such as "cost", "time", or "max:throughput"',
        )
    sense, _, name = objective.rpartition(":")
    if sense not in ("", "min", "max"):
        raise ConfigError(
            f"unknown sense {sense!r} in objective {objective!r}",
            where="pareto",
            fix='write "min:name" or "max:name" (or just the name)',
        )
    return name, sense or None


def pareto(
    points: Any, first: str, second: str | None = None, third: str | None = None, *more: str
) -> Frontier:
    """The Pareto frontier of ``points`` over two or three (or more) objectives, each a
    metric's name, optionally ``"min:…"`` or ``"max:…"``."""
    objectives = tuple(o for o in (first, second, third, *more) if o is not None)
    if len(objectives) < 2:
        raise ConfigError(
            f"a Pareto frontier needs at least two objectives, got {len(objectives)}",
            where="pareto",
            fix='e.g. pareto(search, "cost", "time")',
        )
    parsed = [_parse(o) for o in objectives]
    names = [n for n, _ in parsed]
    if len(set(names)) != len(names):
        raise ConfigError("an objective is named twice", where="pareto", fix="name each once")
    if isinstance(points, Search):
        return _from_search(points, parsed)
    return _from_rows(list(points), parsed)


def _from_search(search: Search, parsed: list[tuple[str, str | None]]) -> Frontier:
    names = [n for n, _ in parsed]
    metrics = [search.metric(n) for n in names]
    if search.counts.get("bounded") and names != [search.objective] * len(names):
        raise ConfigError(
            f"this {search.kind} search solved {search.counts.get('solved', 0)} of its "
            f"candidates that fit: the others were bounded out on {search.objective}, so a "
            "frontier over other objectives would miss points",
            where="pareto",
            fix="run the search with exhaustive=True for a frontier",
        )
    pool = list(search.ranked) + [c for c in search.excluded if c.feasible]
    senses = [s or m.sense for (_, s), m in zip(parsed, metrics, strict=True)]
    kept, vecs, excluded = [], [], []
    for c in pool:
        vals = [c.values.get(n) for n in names]
        missing = [n for n, v in zip(names, vals, strict=True) if v is None]
        if missing:
            why = c.unknown.get(missing[0], "not computed for this point")
            excluded.append((c.label, f"{missing[0]} is unknown: {why}"))
            continue
        kept.append(c)
        vecs.append([float(v) for v in vals])  # type: ignore[arg-type]
    return _frontier(names, senses, [m.unit for m in metrics], kept, vecs, excluded)


def _from_rows(rows: list[Any], parsed: list[tuple[str, str | None]]) -> Frontier:
    names = [n for n, _ in parsed]
    senses = [s or ("max" if n in _MAXIMIZED else "min") for n, s in parsed]
    units = [""] * len(names)
    kept, vecs, excluded = [], [], []
    for row in rows:
        vals: list[Any] = []
        for j, n in enumerate(names):
            v: Any = row.get(n) if isinstance(row, dict) else getattr(row, n, None)
            if hasattr(v, "magnitude") and hasattr(v, "units"):
                if not units[j]:
                    units[j] = f"{v.units:~P}"
                v = float(v.to(units[j]).magnitude)
            vals.append(v)
        missing = [n for n, v in zip(names, vals, strict=True) if not _number(v)]
        if missing:
            excluded.append((_label(row), f"{missing[0]} is unknown or not a number"))
            continue
        kept.append(row)
        vecs.append([float(v) for v in vals])
    return _frontier(names, senses, units, kept, vecs, excluded)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _frontier(
    names: list[str],
    senses: list[str],
    units: list[str],
    kept: list[Any],
    vecs: list[list[float]],
    excluded: Iterable[tuple[str, str]],
) -> Frontier:
    signed = [[-x if s == "max" else x for x, s in zip(v, senses, strict=True)] for v in vecs]
    idx = frontier(signed)
    idx.sort(key=lambda i: (signed[i][0], i))
    return Frontier(
        tuple(names),
        tuple(senses),
        tuple(units),
        tuple(kept[i] for i in idx),
        tuple(tuple(vecs[i]) for i in idx),
        len(kept) - len(idx),
        tuple(excluded),
    )
