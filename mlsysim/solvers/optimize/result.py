"""What every optimizer returns: ranked candidates, the winner, why it wins, its JSON and CSV.

A :class:`Search` holds the feasible candidates best first (:attr:`Search.ranked`), the
ones it evaluated and excluded with the reason (:attr:`Search.excluded`: infeasible, or an
objective that is unknown for it — never counted as 0), and how the space was cut
(:attr:`Search.counts`). ``search.config`` is the winner's keywords, ``search.result`` its
solver result (a solve, a training run, a serving fleet), ``search.alternatives`` the
runners-up, ``search.explanation`` the wall that binds the winner and what the runner-up
trades. Every candidate carries the values of the optimizer's :class:`Metric` s (in each
metric's unit; ``None`` when unknown), so :func:`mlsysim.pareto` can take any two or three.

The JSON form is versioned (:data:`OPTIMIZE_SCHEMA_VERSION`, ``mlsysim schema --kind
optimize``); :meth:`Search.csv` writes one row per candidate.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

from mlsysim.core.exceptions import InfeasibleError
from mlsysim.solvers.optimize.schema import (
    OPTIMIZE_SCHEMA_VERSION,
    candidate_schema,
    optimize_json_schema,
)
from mlsysim.solvers.run.ledger import fmt

__all__ = [
    "OPTIMIZE_SCHEMA_VERSION",
    "Candidate",
    "Metric",
    "Search",
    "candidate_schema",
    "optimize_json_schema",
    "ranked_search",
]


@dataclass(frozen=True, slots=True)
class Metric:
    """One figure of merit of a candidate: its name, unit, and whether more is better."""

    name: str
    unit: str
    sense: str  # "max" or "min"
    label: str = ""

    @property
    def text(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class Candidate:
    """One configuration an optimizer evaluated.

    ``config`` are its keywords (what to pass to the solver), ``values`` its metrics in their
    units (``None``: unknown, and ``unknown`` says why), ``wall`` the wall that binds its
    result, ``reason`` why it is excluded (empty when it is ranked; a candidate that is
    feasible but whose objective is unknown is excluded and stays ``feasible``), ``result``
    the solver's result (kept for the best few only: a search holds no more than it needs).
    """

    config: dict[str, Any]
    values: dict[str, float | None]
    metrics: tuple[Metric, ...] = ()
    feasible: bool = True
    wall: str = ""
    reason: str = ""
    why: str = ""
    result: Any = None
    unknown: dict[str, str] = field(default_factory=dict)  # metric -> why it is unknown

    @property
    def objectives(self) -> dict[str, Any]:
        """The known metrics as quantities (a plain number when dimensionless)."""
        from mlsysim.core.units import Q_

        out: dict[str, Any] = {}
        for m in self.metrics:
            v = self.values.get(m.name)
            if v is not None:
                out[m.name] = Q_(v, m.unit) if m.unit else v
        return out

    @property
    def label(self) -> str:
        """The configuration in one line (``tp=8 pp=35 …``)."""
        return config_text(self.config)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": dict(self.config),
            "values": {k: _finite(v) for k, v in self.values.items()},
            "feasible": self.feasible,
            "binding_wall": self.wall or None,
            "reason": self.reason or None,
            "unknown": dict(self.unknown),
        }


def config_text(config: dict[str, Any]) -> str:
    """``tp=8 pp=35 sp`` — booleans by name, everything else as ``key=value``."""
    parts = []
    for k, v in config.items():
        if v is True:
            parts.append(k)
        elif v is False or v is None:
            continue
        else:
            parts.append(f"{k}={v}")
    return " ".join(parts)


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


@dataclass(frozen=True)
class Search:
    """An optimizer's outcome (see the module doc). Reading ``best``, ``config`` or ``result``
    when nothing was feasible raises :class:`~mlsysim.core.exceptions.InfeasibleError` saying
    what excluded the candidates."""

    kind: str
    objective: str
    metrics: tuple[Metric, ...]
    ranked: tuple[Candidate, ...]
    excluded: tuple[Candidate, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()  # metrics the winner's line names besides the objective
    traded: tuple[str, ...] = ()  # metrics the runner-up's trade names (default: all)

    # -- the winner --------------------------------------------------------------------------
    @property
    def feasible(self) -> bool:
        """Whether any candidate is feasible."""
        return bool(self.ranked)

    @property
    def best(self) -> Candidate:
        """The winning candidate."""
        if not self.ranked:
            raise InfeasibleError(
                f"no {self.kind} configuration is feasible",
                where=f"optimize_{self.kind}",
                why=self._nothing_why(),
                fix="relax the constraints (fewer fixed keywords, a looser SLO, more devices "
                "or devices with more memory), or supply the missing data named above",
            )
        return self.ranked[0]

    @property
    def config(self) -> dict[str, Any]:
        """The winner's keywords: pass them to the solver to reproduce :attr:`result`."""
        return dict(self.best.config)

    @property
    def result(self) -> Any:
        """The winner's solver result."""
        return self.best.result

    @property
    def value(self) -> Any:
        """The winner's objective as a quantity."""
        return self.best.objectives[self.objective]

    @property
    def runner_up(self) -> Candidate | None:
        """The second-ranked candidate (None when only one is feasible)."""
        return self.ranked[1] if len(self.ranked) > 1 else None

    @property
    def alternatives(self) -> tuple[Candidate, ...]:
        """The ranked runners-up (best first, the winner excluded)."""
        return self.ranked[1:]

    @property
    def size(self) -> int:
        """Feasible candidates."""
        return len(self.ranked)

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        from mlsysim.core.exceptions import UnknownNameError

        raise UnknownNameError(
            f"metric of {self.kind} search", name, [m.name for m in self.metrics]
        )

    # -- explanation -------------------------------------------------------------------------
    def _nothing_why(self) -> str:
        if not self.excluded:
            return "the search space is empty"
        reasons: dict[str, int] = {}
        for c in self.excluded:
            reasons[c.reason] = reasons.get(c.reason, 0) + 1
        top = sorted(reasons.items(), key=lambda kv: -kv[1])[:3]
        return "; ".join(f"{n}× {r}" for r, n in top)

    @property
    def explanation(self) -> str:
        """Which wall binds the winner, what the runner-up trades, and how the space was cut."""
        if not self.ranked:
            return f"nothing feasible: {self._nothing_why()}"
        b = self.best
        shown = [n for n in self.shown if n != self.objective]
        named = [self.metric(n) for n in (self.objective, *shown)]
        figures = ", ".join(f"{m.text} {_num(b.values.get(m.name), m.unit)}" for m in named)
        lines = [
            f"best: {b.label}: {figures}"
            + (f"; {b.why}" if b.why else (f"; binding wall {b.wall}" if b.wall else ""))
        ]
        ru = self.runner_up
        if ru is not None:
            traded = tuple(m for m in self.metrics if not self.traded or m.name in self.traded)
            lines.append(f"runner-up: {ru.label}: {trade(b, ru, traded)}")
        lines.append("searched: " + self.counts_text())
        return "\n".join(lines + list(self.notes))

    def counts_text(self) -> str:
        return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in self.counts.items())

    def __str__(self) -> str:
        return self.explanation

    # -- JSON and CSV ------------------------------------------------------------------------
    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """The stable JSON form (``mlsysim schema --kind optimize``): ``top`` ranked candidates."""
        best = self.ranked[0] if self.ranked else None
        result = None
        if best is not None and best.result is not None and hasattr(best.result, "to_dict"):
            result = best.result.to_dict()
        return {
            "schema": OPTIMIZE_SCHEMA_VERSION,
            "schema_version": OPTIMIZE_SCHEMA_VERSION,
            "kind": self.kind,
            "objective": self.objective,
            "sense": self.metric(self.objective).sense,
            "inputs": {k: _jsonable(v) for k, v in self.inputs.items()},
            "metrics": [{"name": m.name, "unit": m.unit, "sense": m.sense} for m in self.metrics],
            "feasible": best is not None,
            "best": None if best is None else best.to_dict(),
            "result": result,
            "ranked": [c.to_dict() for c in self.ranked[:top]],
            "excluded": [c.to_dict() for c in self.excluded[:top]],
            "counts": dict(self.counts),
            "explanation": self.explanation,
            "notes": list(self.notes),
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def csv(self, top: int | None = None) -> str:
        """One row per candidate (ranked, then excluded): rank, keywords, metrics, wall."""
        rows = list(self.ranked[:top] if top else self.ranked) + list(self.excluded)
        keys: list[str] = []
        for c in rows:
            keys += [k for k in c.config if k not in keys]
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        heads = [f"{m.name} ({m.unit})" if m.unit else m.name for m in self.metrics]
        w.writerow(["rank", *keys, *heads, "binding_wall", "feasible", "reason"])
        for i, c in enumerate(rows):
            rank = i + 1 if c.feasible and i < len(self.ranked) else ""
            vals = [c.values.get(m.name) for m in self.metrics]
            w.writerow(
                [rank, *(c.config.get(k, "") for k in keys)]
                + ["" if v is None else f"{v:.6g}" for v in vals]
                + [c.wall, c.feasible, c.reason]
            )
        return out.getvalue()


def _jsonable(v: Any) -> Any:
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return getattr(v, "id", None) or str(v)


def _num(v: float | None, unit: str) -> str:
    if v is None:
        return "unknown"
    if not unit:
        return f"{v:.4g}"
    return fmt(v, unit)


def trade(best: Candidate, other: Candidate, metrics: tuple[Metric, ...]) -> str:
    """What ``other`` gives and takes against ``best``: each metric that differs, worse first."""
    worse: list[str] = []
    better: list[str] = []
    for m in metrics:
        a, b = best.values.get(m.name), other.values.get(m.name)
        if a is None or b is None or a == b:
            continue
        rel = (b - a) / abs(a) if a else math.inf
        if abs(rel) < 5e-4:
            continue
        pct = "" if not math.isfinite(rel) else f" ({rel * 100:+.3g} %)"
        text = f"{m.text} {_num(b, m.unit)} vs {_num(a, m.unit)}{pct}"
        good = (b > a) == (m.sense == "max")
        (better if good else worse).append(text)
    diff = [
        f"{k}={other.config.get(k)}"
        for k in other.config
        if other.config.get(k) != best.config.get(k)
    ]
    head = f"differs in {' '.join(diff)}; " if diff else ""
    if not worse and not better:
        return head + "ties the winner on every metric"
    parts = []
    if worse:
        parts.append("gives up " + ", ".join(worse))
    if better:
        parts.append("gains " + ", ".join(better))
    wall = f"; binding wall {other.wall}" if other.wall and other.wall != best.wall else ""
    return head + "; ".join(parts) + wall


def ranked_search(
    kind: str,
    objective: str,
    metrics: tuple[Metric, ...],
    evaluated: list[Candidate],
    *,
    inputs: dict[str, Any],
    notes: tuple[str, ...] = (),
    shown: tuple[str, ...] = (),
    traded: tuple[str, ...] = (),
    tie: tuple[str, ...] = (),
) -> Search:
    """A :class:`Search` over candidates that were all evaluated: the feasible ones whose
    objective is known, best first (ties broken by the ``tie`` metrics, then by the order
    evaluated); the rest excluded with the reason — an unknown objective is never 0."""
    by_name = {m.name: m for m in metrics}
    if objective not in by_name:
        from mlsysim.core.exceptions import UnknownNameError

        raise UnknownNameError(f"objective of optimize_{kind}", objective, list(by_name))
    ranked: list[tuple[tuple[float, ...], int, Candidate]] = []
    excluded: list[Candidate] = []
    for i, c in enumerate(evaluated):
        if not c.feasible:
            excluded.append(c)
            continue
        if c.values.get(objective) is None:
            why = c.unknown.get(objective, "an input it needs is missing")
            excluded.append(_replace(c, reason=f"{objective} is unknown: {why}"))
            continue
        key = tuple(_signed(c.values.get(n), by_name[n]) for n in (objective, *tie))
        ranked.append((key, i, c))
    ranked.sort(key=lambda e: (e[0], e[1]))
    counts = {
        "evaluated": len(evaluated),
        "feasible": len(ranked),
        "excluded": len(excluded),
    }
    return Search(
        kind,
        objective,
        metrics,
        tuple(c for _, _, c in ranked),
        tuple(excluded),
        counts,
        inputs,
        notes,
        shown,
        traded,
    )


def _signed(v: float | None, m: Metric) -> float:
    if v is None:
        return math.inf
    return -v if m.sense == "max" else v


def _replace(c: Candidate, **changes: Any) -> Candidate:
    from dataclasses import replace

    return replace(c, **changes)
