"""A chart as plain data (roofs, points and series in display units) and its description.

A :class:`PlotSpec` is everything a chart is drawn from, with no matplotlib: it hashes
(:meth:`PlotSpec.digest`, the cache key) and describes itself in words (:func:`alt_text`, for
screen readers and text output). The builders are in :mod:`mlsysim.viz.plot.spec`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["MAX_POINTS", "PLOT_KINDS", "PlotSpec", "Point", "Roof", "Series", "alt_text"]

PLOT_KINDS = ("roofline", "sweep", "pareto")
#: Most points one chart holds (all series together): a figure is bounded like a table.
MAX_POINTS = 5000


@dataclass(frozen=True, slots=True)
class Roof:
    """One device's roofline: peak rate and memory bandwidth, in the chart's units."""

    label: str
    peak: float  # y unit (e.g. TFLOP/s)
    bandwidth: float  # y unit per x unit (e.g. TFLOP/s per FLOP/B = TB/s)

    @property
    def ridge(self) -> float:
        """The intensity where the roof turns flat (x unit)."""
        return self.peak / self.bandwidth


@dataclass(frozen=True, slots=True)
class Point:
    """A labelled point; ``front`` marks a point of a Pareto front."""

    label: str
    x: float
    y: float
    front: bool = False


@dataclass(frozen=True, slots=True)
class Series:
    """A labelled curve through (x, y) pairs, in x order as given."""

    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PlotSpec:
    """A chart as data. Units are display units (``x_unit``/``y_unit`` name them)."""

    kind: str
    x_label: str
    y_label: str
    x_unit: str = ""
    y_unit: str = ""
    x_log: bool = False
    y_log: bool = False
    caption: str = ""
    title: str = ""
    roofs: tuple[Roof, ...] = ()
    points: tuple[Point, ...] = ()
    series: tuple[Series, ...] = ()
    precision: str = ""
    goals: tuple[str, str] = ("min", "min")
    alt: str = ""  # the author's alt text; generated from the data when empty
    extra: tuple[tuple[str, str], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def canonical(self) -> str:
        """A stable JSON text of the spec (floats as their shortest round-trip form)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    def digest(self, *extra: str) -> str:
        """Content hash of the spec (and ``extra`` strings such as a style and a format)."""
        h = hashlib.sha256(self.canonical().encode())
        for e in extra:
            h.update(b"\0" + e.encode())
        return h.hexdigest()

    @property
    def alt_text(self) -> str:
        return self.alt or alt_text(self)


def _num(x: float) -> str:
    from mlsysim.viz.format import render_value

    if x == int(x) and abs(x) < 1e6:
        return render_value(int(x)).text
    return render_value(x, sig_figs=3).text


def _axis(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def alt_text(spec: PlotSpec) -> str:
    """A description of the chart from its data, for screen readers and text output."""
    parts: list[str] = []
    if spec.kind == "roofline":
        parts.append(
            f"Roofline chart at {spec.precision}, log-log: {_axis(spec.x_label, spec.x_unit)} "
            f"against {_axis(spec.y_label, spec.y_unit)}."
        )
        for r in spec.roofs:
            parts.append(
                f"{r.label}: peak {_num(r.peak)} {spec.y_unit}, ridge point at "
                f"{_num(r.ridge)} {spec.x_unit}."
            )
        for p in spec.points:
            parts.append(
                f"{p.label}: {_num(p.x)} {spec.x_unit}, {_num(p.y)} {spec.y_unit}"
                + _bound(spec, p)
                + "."
            )
    elif spec.kind == "sweep":
        parts.append(
            f"Line chart of {_axis(spec.y_label, spec.y_unit)} against "
            f"{_axis(spec.x_label, spec.x_unit)}."
        )
        for s in spec.series:
            lo, hi = min(s.ys), max(s.ys)
            parts.append(
                f"{s.label}: {len(s.xs)} points from x = {_num(s.xs[0])} to {_num(s.xs[-1])}; "
                f"y from {_num(s.ys[0])} to {_num(s.ys[-1])} (range {_num(lo)} to {_num(hi)})."
            )
    else:
        on = [p for p in spec.points if p.front]
        goal = {"min": "lower", "max": "higher"}
        parts.append(
            f"Scatter chart of {_axis(spec.y_label, spec.y_unit)} against "
            f"{_axis(spec.x_label, spec.x_unit)} ({goal[spec.goals[0]]} x and "
            f"{goal[spec.goals[1]]} y are better); {len(on)} of {len(spec.points)} points are "
            "on the Pareto front: "
            + "; ".join(f"{p.label} ({_num(p.x)}, {_num(p.y)})" for p in on)
            + "."
        )
    return " ".join(parts)


def _bound(spec: PlotSpec, p: Point) -> str:
    if not spec.roofs:
        return ""
    r = spec.roofs[0]
    side = "memory-bound" if p.x < r.ridge else "compute-bound"
    return f", {side} on {r.label}"
