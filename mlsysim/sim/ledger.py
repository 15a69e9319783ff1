"""The Ledger: a simulation's multi-dimensional scorecard, every figure with its derivation.

A :class:`Ledger` holds one section per domain (:class:`PerformanceSection`,
:class:`SustainabilitySection`, :class:`EconomicsSection`, :class:`ReliabilitySection`), the
persona's :class:`ConstraintsSection`, and the assumptions and warnings the numbers rest on.
Each section is a :class:`~mlsysim.solvers.run.ledger.Part`: its fields are Quantities (a figure
that is unknown raises :class:`~mlsysim.core.exceptions.MissingDataError` with the reason,
never a silent zero) and each comes with ``figures[key].derivation`` and ``.sources``. The
float conveniences (``carbon_kg``, ``energy_kwh``…) return plain numbers in the named unit.

:meth:`Ledger.to_dict` is the stable JSON form, versioned by :data:`LEDGER_SCHEMA_VERSION`
(``mlsysim schema --kind ledger``); :meth:`Ledger.compare` sets two ledgers side by side;
``_repr_html_`` renders a table in notebooks.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mlsysim.core.exceptions import MissingDataError
from mlsysim.sim.sections import (
    DOMAINS,
    UNITS,
    ConstraintsSection,
    EconomicsSection,
    PerformanceSection,
    ReliabilitySection,
    Section,
    SustainabilitySection,
    make_section,
)
from mlsysim.solvers.run.ledger import Figure, value_or_unknown

__all__ = [
    "DOMAINS",
    "LEDGER_SCHEMA_VERSION",
    "UNITS",
    "ConstraintsSection",
    "EconomicsSection",
    "Ledger",
    "LedgerComparison",
    "PerformanceSection",
    "ReliabilitySection",
    "SustainabilitySection",
    "ledger_json_schema",
    "make_section",
]

#: Version of the ledger's JSON form; bumped on any incompatible change.
LEDGER_SCHEMA_VERSION = "mlsysim.ledger/1"


@dataclass(frozen=True, eq=False, repr=False)
class Ledger:
    """The scorecard of one simulation of an application for a persona."""

    simulation: str
    application: str
    persona: str
    choices: dict[str, Any]
    fleet: dict[str, Any]  # units, devices per unit, hardware
    sections: dict[str, Section]
    constraints: ConstraintsSection
    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def _section(self, domain: str) -> Any:
        s = self.sections.get(domain)
        if s is None:
            raise MissingDataError(
                f"the {self.simulation} ledger has no {domain} section",
                why=f"{self.simulation} evaluates {', '.join(self.sections) or 'no domain'} only",
                fix=f"use ResourceSimulation (every domain) or the {domain} simulation",
            )
        return s

    @property
    def performance(self) -> PerformanceSection:
        """Latency, throughput and the SLO."""
        section: PerformanceSection = self._section("performance")
        return section

    @property
    def sustainability(self) -> SustainabilitySection:
        """Energy, carbon and water."""
        section: SustainabilitySection = self._section("sustainability")
        return section

    @property
    def economics(self) -> EconomicsSection:
        """Capex, opex, TCO and cost per inference."""
        section: EconomicsSection = self._section("economics")
        return section

    @property
    def reliability(self) -> ReliabilitySection:
        """MTBF, availability and failures per year."""
        section: ReliabilitySection = self._section("reliability")
        return section

    def __iter__(self) -> Iterator[tuple[str, str, Figure]]:
        """Every figure as (section, key, figure), constraints last."""
        for name, section in self.sections.items():
            for key, fig in section.figures.items():
                yield name, key, fig
        for key, fig in self.constraints.figures.items():
            yield "constraints", key, fig

    def sources(self) -> list[str]:
        """Citation ids of every figure, in order, without repeats."""
        out: list[str] = []
        for _s, _k, fig in self:
            out += [s for s in fig.sources if s not in out]
        return out

    def derivation(self) -> str:
        """Every figure's derivation, section by section, then assumptions and warnings."""
        lines = [f"{self.simulation}: {self.application} for {self.persona}"]
        for name, section in [*self.sections.items(), ("constraints", self.constraints)]:
            lines.append(f"[{name}]")
            lines += [f"  {line}" for line in section.lines()]
        lines += [f"assumption: {a}" for a in self.assumptions]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        c = self.choices
        where = f"{c.get('region')}, {c.get('duration_days', 0):g} days"
        return f"ledger of {self.simulation}({self.application}, {self.persona}) ({where})"

    def __repr__(self) -> str:
        return f"<{self}>"

    def table(self) -> str:
        """Every figure on its own line: ``section.key: value`` (or ``unknown``)."""
        rows = [str(self)]
        for name, key, fig in self:
            rows.append(f"  {name}.{key}: {value_or_unknown(fig)}")
        return "\n".join(rows)

    # -- JSON -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (see :func:`~mlsysim.sim.ledger.ledger_json_schema`)."""
        return {
            "schema": LEDGER_SCHEMA_VERSION,
            "schema_version": LEDGER_SCHEMA_VERSION,
            "simulation": self.simulation,
            "application": self.application,
            "persona": self.persona,
            "choices": dict(self.choices),
            "fleet": dict(self.fleet),
            **{d: (self.sections[d].to_dict() if d in self.sections else None) for d in DOMAINS},
            "constraints": self.constraints.to_dict(),
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
            "sources": self.sources(),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), **kwargs)

    # -- comparison and notebooks -----------------------------------------------------------
    def compare(self, other: Ledger) -> LedgerComparison:
        """This ledger and ``other`` side by side, figure by figure (ratio other / self)."""
        if not isinstance(other, Ledger):
            from mlsysim.core.exceptions import ConfigError

            raise ConfigError(
                f"compare() needs another Ledger, got {type(other).__name__}",
                fix="pass the result of another simulation's evaluate()",
            )
        return LedgerComparison(self, other)

    def _repr_html_(self) -> str:
        title = html.escape(f"{self.simulation}: {self.application} × {self.persona}")
        body = [f"<table class='mlsysim-ledger'><caption>{title}</caption>"]
        body.append("<tr><th>figure</th><th>value</th><th>derivation</th><th>sources</th></tr>")
        for name, key, fig in self:
            value = value_or_unknown(fig)
            how = fig.derivation if fig.value is not None else fig.missing
            body.append(
                f"<tr><td>{html.escape(name)}.{html.escape(key)}</td>"
                f"<td>{html.escape(value)}</td><td>{html.escape(how)}</td>"
                f"<td>{html.escape(', '.join(fig.sources))}</td></tr>"
            )
        body.append("</table>")
        return "".join(body)


@dataclass(frozen=True, repr=False)
class LedgerComparison:
    """Two ledgers side by side: every figure both have, with the ratio b / a."""

    a: Ledger
    b: Ledger

    def __repr__(self) -> str:
        return f"<comparison of {self.a} with {self.b}>"

    def rows(self) -> list[tuple[str, str, Figure, Figure | None, float | None]]:
        """(section, key, figure of a, figure of b or None, ratio b/a or None)."""
        theirs = {(s, k): f for s, k, f in self.b}
        out = []
        for s, k, fa in self.a:
            fb = theirs.get((s, k))
            ratio = None
            if fb is not None and fa.value and fb.value is not None and fa.unit == fb.unit:
                ratio = fb.value / fa.value
            out.append((s, k, fa, fb, ratio))
        return out

    def ratio(self, section: str, key: str) -> float:
        """b / a for one figure; raises MissingDataError when either is unknown."""
        for s, k, fa, fb, r in self.rows():
            if (s, k) == (section, key):
                if r is None:
                    gap = fa if not fa.known else fb
                    raise MissingDataError(
                        f"no ratio for {section}.{key}",
                        why="one ledger lacks the figure or its value is unknown or zero"
                        + (f" ({gap.missing})" if gap is not None and gap.missing else ""),
                        fix="compare figures both ledgers know",
                    )
                return r
        raise MissingDataError(f"no figure {section}.{key}", fix="see Ledger.to_dict() keys")

    def _label(self, ledger: Ledger) -> str:
        return f"{ledger.application}×{ledger.persona}"

    def __str__(self) -> str:
        la, lb = self._label(self.a), self._label(self.b)
        lines = [f"{'figure':<34}{la:>22}{lb:>22}{'ratio':>10}"]
        for s, k, fa, fb, r in self.rows():
            va = value_or_unknown(fa)
            vb = value_or_unknown(fb)
            rr = f"{r:.3g}×" if r is not None else ""
            lines.append(f"{s + '.' + k:<34}{va:>22}{vb:>22}{rr:>10}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": {"application": self.a.application, "persona": self.a.persona},
            "b": {"application": self.b.application, "persona": self.b.persona},
            "rows": [
                {
                    "figure": f"{s}.{k}",
                    "unit": fa.unit,
                    "a": fa.value,
                    "b": None if fb is None else fb.value,
                    "ratio": r,
                }
                for s, k, fa, fb, r in self.rows()
            ],
        }

    def _repr_html_(self) -> str:
        la, lb = html.escape(self._label(self.a)), html.escape(self._label(self.b))
        body = [
            "<table class='mlsysim-comparison'>",
            f"<tr><th>figure</th><th>{la}</th><th>{lb}</th><th>ratio</th></tr>",
        ]
        for s, k, fa, fb, r in self.rows():
            va = value_or_unknown(fa)
            vb = value_or_unknown(fb)
            rr = f"{r:.3g}×" if r is not None else ""
            body.append(
                f"<tr><td>{html.escape(s)}.{html.escape(k)}</td><td>{html.escape(va)}</td>"
                f"<td>{html.escape(vb)}</td><td>{html.escape(rr)}</td></tr>"
            )
        body.append("</table>")
        return "".join(body)


def ledger_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`~mlsysim.sim.Ledger.to_dict`."""
    from mlsysim.solvers.run.result import figure_schema

    fig = figure_schema()
    section = {
        "oneOf": [{"type": "object", "additionalProperties": fig}, {"type": "null"}],
    }
    constraint = {
        "type": "object",
        "properties": {**fig["properties"], "limit": fig, "met": {"type": ["boolean", "null"]}},
        "required": [*fig["required"], "limit", "met"],
        "additionalProperties": False,
    }
    strings = {"type": "array", "items": {"type": "string"}}
    props: dict[str, Any] = {
        "schema": {"const": LEDGER_SCHEMA_VERSION},
        "schema_version": {"const": LEDGER_SCHEMA_VERSION},
        "simulation": {"type": "string"},
        "application": {"type": "string"},
        "persona": {"type": "string"},
        "choices": {"type": "object"},
        "fleet": {"type": "object"},
        **{d: section for d in DOMAINS},
        "constraints": {"type": "object", "additionalProperties": constraint},
        "assumptions": strings,
        "warnings": strings,
        "sources": strings,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/ledger-1.json",
        "title": "mlsysim simulation ledger",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
