"""``napkin-plot``: a chart drawn from napkin expressions, as a book figure.

Content is one ``label = expression`` line per point or series; options choose the chart::

    ```{napkin-plot} Three GPUs and a decode step
    :kind: roofline
    :devices: H100, A100, MI300X
    :precision: bf16
    Llama 2 7B decode = solve(Llama2_7B, H100, phase="decode")
    GEMM 4096 = 4096 / 3 FLOP/B
    ```

* ``roofline`` — ``:devices:`` (napkin expressions, comma-separated) at ``:precision:``
  (bf16); each line a workload: a solve result, an ``intensity, rate`` pair, or an intensity;
* ``sweep`` — ``:x:`` a list of values (``1, 2, 4, 8``); each line a series whose expression
  uses ``x`` (``solve(Llama2_7B, H100, phase="decode", batch=x).latency``);
* ``pareto`` — each line a point ``x, y`` (or a list of such pairs, or of ``label, x, y``
  triples, e.g. an optimizer's Pareto set); ``:x-goal:``/``:y-goal:`` min (default) or max.

Also ``:x-label:``, ``:y-label:``, ``:x-unit:``, ``:y-unit:``, ``:x-scale:``/``:y-scale:``
(linear or log), ``:title:``, ``:alt:`` (else generated from the data) and ``:caption:`` (the
directive's argument). A failing line is reported at its own line, an option at its line;
``mlsysim check`` evaluates the data and never draws (no matplotlib needed). Hosts call
:func:`run_plot` and :meth:`PlotResult.image` (SVG for HTML, PDF for LaTeX).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlsysim.book.document import Document
from mlsysim.book.failures import Failure
from mlsysim.book.lang import unwrap
from mlsysim.book.outcomes import Located
from mlsysim.book.syntax import PLOT_OPTIONS, Item, parse_column, split_top
from mlsysim.core.exceptions import ConfigError, MlsysimError, UnknownNameError

__all__ = ["PLOT_OPTIONS", "PlotResult", "plot_entry", "record_draw_failure", "run_plot"]


@dataclass
class PlotResult:
    """A napkin-plot: its chart as data (``spec``), alt text, caption and failures.

    :meth:`image` draws it (SVG for HTML, PDF for LaTeX): the same bytes on every build;
    :meth:`file` caches the drawing by the spec's content hash.
    """

    ok: bool
    spec: Any = None  # mlsysim.viz.plot.spec.PlotSpec
    failures: list[Failure] = field(default_factory=list)
    #: the chapter's ``plot-style`` (its options): the default style of every drawing
    style: Mapping[str, Any] | None = None

    @property
    def alt(self) -> str:
        return self.spec.alt_text if self.spec is not None else "⟨error⟩"

    @property
    def caption(self) -> str:
        return self.spec.caption if self.spec is not None else ""

    def image(self, fmt: str = "svg", style: Mapping[str, Any] | None = None) -> bytes:
        """The drawn chart (MlsysimError when the plot failed or matplotlib is missing)."""
        from mlsysim.viz.plot.render import render_plot

        return render_plot(self._spec(), fmt, self.style if style is None else style)

    def file(
        self,
        fmt: str,
        cache_dir: str | os.PathLike[str],
        style: Mapping[str, Any] | None = None,
    ) -> Path:
        """The drawn chart's file under ``cache_dir`` (drawn once per content hash)."""
        from mlsysim.viz.plot.render import cached_plot

        return cached_plot(self._spec(), fmt, cache_dir, self.style if style is None else style)

    def files(
        self,
        cache_dir: str | os.PathLike[str],
        style: Mapping[str, Any] | None = None,
        formats: tuple[str, ...] = ("svg", "pdf"),
    ) -> Path:
        """Every format of the chart drawn under ``cache_dir`` (cached by content hash);
        the shared path without suffix, ``plots/<hash>`` (a host names ``<hash>.*``)."""
        paths = [self.file(fmt, cache_dir, style) for fmt in formats]
        return paths[0].with_suffix("")

    def _spec(self) -> Any:
        if self.spec is None:
            raise MlsysimError("this plot failed: there is nothing to draw")
        return self.spec


def plot_entry(
    plot: PlotResult,
    formats: tuple[str, ...],
    cache_dir: str | os.PathLike[str],
    style: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a host that cannot call Python splices for a plot (the batch protocol's and a
    project check's ``plot`` entry): ``alt``, ``caption`` and, per format asked, the inline
    SVG (``svg``) or the absolute path of the cached PDF (``pdf``); ``error`` when the chart
    cannot be drawn (matplotlib missing, a style matplotlib refuses)."""
    out: dict[str, Any] = {"alt": plot.alt, "caption": plot.caption}
    if not plot.ok:
        return out
    try:
        if "svg" in formats:
            svg = plot.file("svg", cache_dir, style).read_text(encoding="utf-8")
            out["svg"] = svg[svg.find("<svg") :]  # inline in a page: no XML prolog
        if "pdf" in formats:
            out["pdf"] = str(plot.file("pdf", cache_dir, style).resolve())
    except MlsysimError as exc:
        out["error"] = str(exc)
    return out


def record_draw_failure(doc: Document, item: Item, entry: dict[str, Any]) -> None:
    """A plot that evaluated but could not be drawn fails at its line (never a silent
    figure without its chart)."""
    plot = entry.get("plot")
    if isinstance(plot, dict) and plot.get("error"):
        err = MlsysimError(
            f"the plot could not be drawn: {plot['error']}",
            fix='install the plot extra (pip install -e ".[plot]") or fix the plot style',
        )
        doc.record("error", err, "napkin-plot", item.line, item.column, 0)
        entry["ok"] = False


def _lines(text: str) -> list[tuple[int, str]]:
    return [
        (offset, raw)
        for offset, raw in enumerate(text.splitlines())
        if raw.strip() and not raw.strip().startswith("#")
    ]


def run_plot(doc: Document, item: Item) -> PlotResult:
    """Evaluate a napkin-plot item into a :class:`PlotResult` (failures in ``doc``)."""
    before = len(doc.failures)
    options = dict(item.attrs)
    where = dict(item.option_lines)
    head = item.text.split("\n", 1)[0][:200] or "napkin-plot"
    doc.count("plot", head, item.line, item.column)

    def fail(exc: MlsysimError, line: int, text: str, column: int | None = None) -> None:
        doc.record("error", exc, text, line, column, 0)

    unknown = [k for k in options if k not in PLOT_OPTIONS]
    for key in unknown:
        unknown_err = UnknownNameError(
            "plot option",
            key,
            sorted(PLOT_OPTIONS),
            fix="the options are " + ", ".join(sorted(PLOT_OPTIONS)),
        )
        fail(unknown_err, where.get(key, item.line), f":{key}:")
    kind = options.get("kind", "roofline" if "devices" in options else "")
    if kind not in ("roofline", "sweep", "pareto"):
        err = ConfigError(
            f"a napkin-plot needs :kind: roofline, sweep or pareto (got {kind or 'none'!r})",
            fix="add e.g. `:kind: roofline` with `:devices: H100, A100`",
        )
        fail(err, where.get("kind", item.line), ":kind:")
        return PlotResult(False, None, doc.failures[before:])
    rows: list[tuple[str, Any]] = []
    for offset, raw in _lines(item.text):
        line = item.line + offset
        try:
            col = parse_column(raw)
        except ConfigError as exc:
            fail(exc, line, raw.strip())
            continue
        rows.append((col.header, (col.expression, line, (item.column or 1) + col.start)))
    try:
        spec = _BUILD[kind](doc, options, where, item, rows)
    except _Failed:
        return PlotResult(False, None, doc.failures[before:])
    except MlsysimError as exc:
        fail(exc, item.line, head)
        return PlotResult(False, None, doc.failures[before:])
    ok = len(doc.failures) == before
    style = dict(doc.options.plot_style) or None
    return PlotResult(ok, spec if ok else None, doc.failures[before:], style)


class _Failed(Exception):
    """Some line failed (already recorded)."""


def _eval(doc: Document, text: str, line: int, column: int | None, x: Any = None) -> Any:
    """One expression's value, or a tuple for ``a, b`` (top-level commas separate values)."""
    extra = {"x": x} if x is not None else None
    parts = split_top(text)
    values = []
    start = 0
    for part in parts if len(parts) > 1 else [text]:
        shift = text.find(part.strip(), start) if len(parts) > 1 else 0
        start = shift + len(part.strip())
        try:
            values.append(unwrap(doc.evaluator.evaluate(part.strip(), extra=extra).value))
        except Located as loc:
            col = None if column is None else column + shift
            doc.record_located(loc, part.strip(), line, col)
            raise _Failed from None
    return tuple(values) if len(parts) > 1 else values[0]


def _option(
    doc: Document, options: dict[str, str], where: dict[str, int], key: str, item: Item
) -> Any:
    return _eval(doc, options[key], where.get(key, item.line), None)


def _scale(options: dict[str, str], axis: str, default: bool) -> bool:
    raw = options.get(f"{axis}-scale", "log" if default else "linear").strip().lower()
    if raw not in ("log", "linear"):
        raise ConfigError(f"{axis}-scale is log or linear, got {raw!r}")
    return raw == "log"


def _common(options: dict[str, str]) -> dict[str, Any]:
    return {
        "caption": options.get("caption", ""),
        "title": options.get("title", ""),
        "alt": options.get("alt", ""),
    }


def _roofline(
    doc: Document, options: dict[str, str], where: dict[str, int], item: Item, rows: list[Any]
) -> Any:
    from mlsysim.viz.plot.spec import roofline_spec

    if "devices" not in options:
        raise ConfigError("a roofline needs :devices:", fix="add e.g. `:devices: H100, A100`")
    line = where.get("devices", item.line)
    devices = []
    for text in split_top(options["devices"]):
        device = _eval(doc, text, line, None)
        if not hasattr(device, "peak_flops"):
            doc.record("error", ConfigError(f"{text.strip()} is not a device"), text, line, None, 0)
            raise _Failed
        devices.append(device)
    points = [(label, _eval(doc, *src)) for label, src in rows]
    return roofline_spec(
        devices, points, precision=options.get("precision", "bf16").strip('"'), **_common(options)
    )


def _sweep(
    doc: Document, options: dict[str, str], where: dict[str, int], item: Item, rows: list[Any]
) -> Any:
    from mlsysim.viz.plot.spec import MAX_POINTS, sweep_spec

    if "x" not in options:
        raise ConfigError("a sweep needs :x: values", fix="add e.g. `:x: 1, 2, 4, 8`")
    xs = _option(doc, options, where, "x", item)  # `1, 2, 4` or a list expression
    xs = list(xs) if isinstance(xs, tuple | list) else [xs]
    if len(xs) * max(len(rows), 1) > MAX_POINTS:
        raise ConfigError(f"the sweep has more than {MAX_POINTS:,} points", fix="plot fewer")
    series = []
    failed = False
    for label, (text, line, column) in rows:
        try:
            ys = [_eval(doc, text, line, column, x=x) for x in xs]
        except _Failed:
            failed = True
            continue
        series.append((label, xs, [_headline(y) for y in ys]))
    if failed:
        raise _Failed
    return sweep_spec(
        series,
        x_label=options.get("x-label", "x"),
        y_label=options.get("y-label", rows[0][0] if len(rows) == 1 else "y"),
        x_unit=options.get("x-unit"),
        y_unit=options.get("y-unit"),
        x_log=_scale(options, "x", False),
        y_log=_scale(options, "y", False),
        **_common(options),
    )


def _headline(value: Any) -> Any:
    v = unwrap(value)
    return v.value if hasattr(v, "value") and not hasattr(v, "units") else v


def _pareto(
    doc: Document, options: dict[str, str], where: dict[str, int], item: Item, rows: list[Any]
) -> Any:
    from mlsysim.viz.plot.spec import pareto_spec

    points: list[tuple[str, Any, Any]] = []
    for label, src in rows:
        value = _eval(doc, *src)
        items = list(value) if isinstance(value, tuple | list) else [value]
        if len(items) == 2 and not isinstance(items[0], tuple | list):
            points.append((label, _headline(items[0]), _headline(items[1])))
            continue
        for k, p in enumerate(items, 1):
            p = unwrap(p)
            if isinstance(p, tuple | list) and len(p) == 3:
                points.append((str(unwrap(p[0])), _headline(p[1]), _headline(p[2])))
            elif isinstance(p, tuple | list) and len(p) == 2:
                points.append((f"{label} {k}", _headline(p[0]), _headline(p[1])))
            else:
                err = ConfigError(
                    f"point {label!r} is not an `x, y` pair",
                    fix="write `label = x_expr, y_expr` or a list of pairs",
                )
                doc.record("error", err, src[0], src[1], src[2], 0)
                raise _Failed
    goals = (options.get("x-goal", "min").strip(), options.get("y-goal", "min").strip())
    return pareto_spec(
        points,
        x_label=options.get("x-label", "x"),
        y_label=options.get("y-label", "y"),
        x_unit=options.get("x-unit"),
        y_unit=options.get("y-unit"),
        goals=goals,
        x_log=_scale(options, "x", False),
        y_log=_scale(options, "y", False),
        **_common(options),
    )


_BUILD = {"roofline": _roofline, "sweep": _sweep, "pareto": _pareto}
