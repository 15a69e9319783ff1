"""What a chart shows, as plain data: roofs, points and series in display units.

A :class:`PlotSpec` is everything a chart is drawn from — no matplotlib here — so it can be
hashed (:meth:`PlotSpec.digest`, the cache key), described in words (:func:`alt_text`) and
checked by ``mlsysim check`` without drawing anything. Build one with

* :func:`roofline_spec` — devices' roofs at one precision and workloads as points (a solve
  result, or an arithmetic intensity and an attained rate);
* :func:`sweep_spec` — curves: series of (x, y) values;
* :func:`pareto_spec` — a set of points with the non-dominated ones marked and joined.

Inputs are plain lists (of pairs, of ``(label, x, y)``, of quantities or numbers), so the
optimizers' Pareto sets and a book's napkin expressions feed the same functions.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mlsysim.core.exceptions import ConfigError, DimensionError

__all__ = [
    "MAX_POINTS",
    "PLOT_KINDS",
    "PlotSpec",
    "Point",
    "Roof",
    "Series",
    "alt_text",
    "axis_unit",
    "pareto_front",
    "pareto_spec",
    "roofline_spec",
    "sweep_spec",
]

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


# -- units -------------------------------------------------------------------------------------


def _quantity(value: Any) -> Any:
    from mlsysim.core.units import ureg

    return value if isinstance(value, ureg.Quantity) else None


def axis_unit(
    values: Iterable[Any], unit: str | None = None, *, fit: str = "max"
) -> tuple[Any, str]:
    """The unit an axis shows ``values`` in (pint unit or None for plain numbers) and its
    label: ``unit`` when given, else the display family's prefix that fits the largest value
    (``fit="min"``: the smallest, so no value shows below 1)."""
    from mlsysim.viz.units_fmt import family_for, format_unit, parse_unit

    quantities = [q for v in values if (q := _quantity(v)) is not None and not q.dimensionless]
    if unit:
        target = parse_unit(unit)
        return target, format_unit(target)[0]
    if not quantities:
        return None, ""
    first = quantities[0]
    family = family_for(first.units)
    if family is None:
        return first.units, format_unit(first.units)[0]
    base = family.units[family.factors.index(1.0)].unit if 1.0 in family.factors else first.units
    sizes = [abs(float(q.to(base).magnitude)) for q in quantities]
    top = min(sizes) if fit == "min" else max(sizes)
    index = 0
    for i, factor in enumerate(family.factors):
        if top >= factor:
            index = i
    form = family.units[index]
    return form.unit, form.text


def _number(value: Any, unit: Any, what: str) -> float:
    """``value`` as a float in ``unit`` (None: a plain number), or an error naming ``what``."""
    from mlsysim.core.units import describe_dimension, fmt_quantity

    q = _quantity(value)
    if q is not None and not q.dimensionless:
        if unit is None:
            raise ConfigError(
                f"{what} is {fmt_quantity(q)} where the other values are plain numbers",
                fix="give every value of an axis the same dimension",
            )
        if q.dimensionality != unit.dimensionality:
            raise DimensionError(
                "plot",
                fmt_quantity(q),
                describe_dimension(q),
                f"{unit:~P}",
                describe_dimension(unit),
                fix=f"give every value of {what.split(' ')[0]}'s axis one dimension",
            )
        x = float(q.to(unit).magnitude)
    elif q is not None:
        x = float(q.to("").magnitude)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if unit is not None:
            raise ConfigError(
                f"{what} is a plain number where the axis has a unit",
                fix="give the value its unit",
            )
        x = float(value)
    else:
        raise ConfigError(f"{what} is not a number or a quantity", fix="plot numbers")
    if not math.isfinite(x):
        raise ConfigError(f"{what} is not finite", fix="plot finite values")
    return x


def _check_size(n: int) -> None:
    if n > MAX_POINTS:
        raise ConfigError(
            f"the chart has {n:,} points", why=f"the limit is {MAX_POINTS:,}", fix="plot fewer"
        )


def _log_ok(values: Iterable[float], axis: str) -> None:
    if any(v <= 0 for v in values):
        raise ConfigError(
            f"a logarithmic {axis} axis needs positive values",
            fix=f"set {axis}-scale: linear, or plot positive values",
        )


# -- roofline ----------------------------------------------------------------------------------


def roofline_spec(
    devices: Sequence[Any],
    points: Sequence[tuple[str, Any]] = (),
    *,
    precision: str = "bf16",
    caption: str = "",
    title: str = "",
    alt: str = "",
) -> PlotSpec:
    """Roofline chart of ``devices`` (hardware specs) at ``precision``, with ``points``:
    ``(label, workload)`` where a workload is a solve result (it has ``flops_total``,
    ``bytes_total`` and ``latency_s``: its intensity and attained rate), an
    ``(intensity, rate)`` pair, or an intensity alone (placed on the first device's roof).
    Log–log axes, intensity in FLOP/B and rates in the prefix that fits the highest roof."""
    from mlsysim.core.units import ureg

    if not devices:
        raise ConfigError("a roofline needs at least one device", fix="list devices: H100, A100")
    peaks = [d.peak_flops(precision) for d in devices]
    y_unit, y_text = axis_unit(peaks, fit="min")
    rate = ureg.Unit("FLOP/s")
    roofs = []
    for d, peak in zip(devices, peaks, strict=True):
        bw = float(d.memory.bandwidth.to("B/s").magnitude)
        p = float(peak.to(y_unit).magnitude)
        per_byte = bw * float((1 * rate).to(y_unit).magnitude)  # y units per (FLOP/B)
        roofs.append(Roof(str(getattr(d, "id", d)), p, per_byte))
    out = []
    for label, work in points:
        x, y = _roofline_point(work, roofs[0], y_unit, str(label))
        out.append(Point(str(label), x, y))
    _check_size(len(out))
    _log_ok([p.x for p in out] + [p.y for p in out], "x")
    return PlotSpec(
        kind="roofline",
        x_label="arithmetic intensity",
        y_label="attainable rate",
        x_unit="FLOP/B",
        y_unit=y_text,
        x_log=True,
        y_log=True,
        caption=caption,
        title=title,
        roofs=tuple(roofs),
        points=tuple(out),
        precision=precision,
        alt=alt,
    )


def _roofline_point(work: Any, roof: Roof, y_unit: Any, label: str) -> tuple[float, float]:
    from mlsysim.core.units import ureg

    intensity_unit = ureg.Unit("FLOP/B")
    if all(hasattr(work, a) for a in ("flops_total", "bytes_total", "latency_s")):
        flops, moved, seconds = work.flops_total, work.bytes_total, work.latency_s
        if not (flops > 0 and moved > 0 and seconds > 0):
            raise ConfigError(f"point {label!r} has no FLOPs, bytes or time to place it")
        achieved = ureg.Quantity(flops / seconds, "FLOP/s")
        return flops / moved, float(achieved.to(y_unit).magnitude)
    if isinstance(work, tuple | list):
        if len(work) != 2:
            raise ConfigError(
                f"point {label!r} has {len(work)} values",
                fix="give an intensity and a rate: (300 FLOP/B, 500 TFLOP/s)",
            )
        return (
            _number(work[0], intensity_unit, f"{label}'s intensity"),
            _number(work[1], y_unit, f"{label}'s rate"),
        )
    x = _number(work, intensity_unit, f"{label}'s intensity")
    return x, min(roof.peak, roof.bandwidth * x)


# -- sweeps ------------------------------------------------------------------------------------


def sweep_spec(
    series: Sequence[tuple[str, Sequence[Any], Sequence[Any]]],
    *,
    x_label: str = "x",
    y_label: str = "y",
    x_unit: str | None = None,
    y_unit: str | None = None,
    x_log: bool = False,
    y_log: bool = False,
    caption: str = "",
    title: str = "",
    alt: str = "",
) -> PlotSpec:
    """Curves ``(label, xs, ys)``; values are quantities of one dimension per axis (shown in
    ``x_unit``/``y_unit``, or the prefix that fits) or plain numbers."""
    if not series:
        raise ConfigError("a sweep needs at least one series", fix="add a `label = expr` line")
    xu, xt = axis_unit([x for _, xs, _ in series for x in xs], x_unit)
    yu, yt = axis_unit([y for _, _, ys in series for y in ys], y_unit)
    out = []
    for label, xs, ys in series:
        if len(xs) != len(ys) or not xs:
            raise ConfigError(
                f"series {label!r} has {len(xs)} x values and {len(ys)} y values",
                fix="give one y per x",
            )
        out.append(
            Series(
                str(label),
                tuple(_number(x, xu, f"{label}'s x") for x in xs),
                tuple(_number(y, yu, f"{label}'s y") for y in ys),
            )
        )
    _check_size(sum(len(s.xs) for s in out))
    if x_log:
        _log_ok([x for s in out for x in s.xs], "x")
    if y_log:
        _log_ok([y for s in out for y in s.ys], "y")
    return PlotSpec(
        kind="sweep",
        x_label=x_label,
        y_label=y_label,
        x_unit=xt,
        y_unit=yt,
        x_log=x_log,
        y_log=y_log,
        caption=caption,
        title=title,
        series=tuple(out),
        alt=alt,
    )


# -- Pareto fronts -----------------------------------------------------------------------------


def pareto_front(points: Sequence[tuple[float, float]], goals: tuple[str, str]) -> list[bool]:
    """Which points no other point dominates (better or equal on both goals, better on one).

    ``goals`` is ``("min"|"max", "min"|"max")`` for x and y. O(n log n): sort by x (best
    first), keep the points that improve on the best y seen so far.
    """
    sx = 1.0 if goals[0] == "min" else -1.0
    sy = 1.0 if goals[1] == "min" else -1.0
    order = sorted(range(len(points)), key=lambda i: (sx * points[i][0], sy * points[i][1]))
    front = [False] * len(points)
    best = math.inf
    for i in order:
        y = sy * points[i][1]
        if y < best:
            front[i] = True
            best = y
    return front


def pareto_spec(
    points: Sequence[tuple[str, Any, Any]],
    *,
    x_label: str = "x",
    y_label: str = "y",
    x_unit: str | None = None,
    y_unit: str | None = None,
    goals: tuple[str, str] = ("min", "min"),
    x_log: bool = False,
    y_log: bool = False,
    caption: str = "",
    title: str = "",
    alt: str = "",
) -> PlotSpec:
    """Points ``(label, x, y)`` with the Pareto front under ``goals`` marked."""
    for g in goals:
        if g not in ("min", "max"):
            raise ConfigError(f"a Pareto goal is min or max, got {g!r}")
    if not points:
        raise ConfigError("a Pareto chart needs points", fix="add `label = (x, y)` lines")
    _check_size(len(points))
    xu, xt = axis_unit([x for _, x, _ in points], x_unit)
    yu, yt = axis_unit([y for _, _, y in points], y_unit)
    xy = [
        (_number(x, xu, f"{label}'s x"), _number(y, yu, f"{label}'s y")) for label, x, y in points
    ]
    front = pareto_front(xy, goals)
    out = tuple(
        Point(str(label), x, y, f)
        for (label, _, _), (x, y), f in zip(points, xy, front, strict=True)
    )
    return PlotSpec(
        kind="pareto",
        x_label=x_label,
        y_label=y_label,
        x_unit=xt,
        y_unit=yt,
        x_log=x_log,
        y_log=y_log,
        caption=caption,
        title=title,
        points=out,
        goals=goals,
        alt=alt,
    )


# -- alt text ----------------------------------------------------------------------------------


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
