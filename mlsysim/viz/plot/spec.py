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

import math
from collections.abc import Sequence
from typing import Any

from mlsysim.core.exceptions import ConfigError
from mlsysim.viz.plot.axes import axis_number, axis_unit, check_log, check_size
from mlsysim.viz.plot.chart import MAX_POINTS, PLOT_KINDS, PlotSpec, Point, Roof, Series, alt_text

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
    check_size(len(out))
    check_log([p.x for p in out] + [p.y for p in out], "x")
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
            axis_number(work[0], intensity_unit, f"{label}'s intensity"),
            axis_number(work[1], y_unit, f"{label}'s rate"),
        )
    x = axis_number(work, intensity_unit, f"{label}'s intensity")
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
                tuple(axis_number(x, xu, f"{label}'s x") for x in xs),
                tuple(axis_number(y, yu, f"{label}'s y") for y in ys),
            )
        )
    check_size(sum(len(s.xs) for s in out))
    if x_log:
        check_log([x for s in out for x in s.xs], "x")
    if y_log:
        check_log([y for s in out for y in s.ys], "y")
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
    check_size(len(points))
    xu, xt = axis_unit([x for _, x, _ in points], x_unit)
    yu, yt = axis_unit([y for _, _, y in points], y_unit)
    xy = [
        (axis_number(x, xu, f"{label}'s x"), axis_number(y, yu, f"{label}'s y"))
        for label, x, y in points
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
