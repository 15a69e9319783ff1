"""Draw a :class:`~mlsysim.viz.plot.spec.PlotSpec` with matplotlib: SVG for HTML, PDF for LaTeX,
the same bytes on every build.

matplotlib is an optional extra (``pip install -e ".[plot]"``), imported on first draw.
Determinism: the figure is drawn on its own canvas (no pyplot, no global state), under a fixed
rc (``svg.hashsalt`` fixed, text as paths in SVG, Type 42 fonts in PDF), with the files'
creation dates and producer fixed — whatever ``SOURCE_DATE_EPOCH`` or the clock say — so two
builds, in two processes with different hash seeds, give identical bytes.

Styling: ``style`` is a mapping of matplotlib rc parameters laid over :data:`BASE_STYLE`
(``{"font.size": 9, "axes.prop_cycle": "cycler(color=['#1f4e79', '#c55a11'])"}``); a key
matplotlib does not know is a ConfigError naming it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlsysim.core.exceptions import ConfigError, MlsysimError
from mlsysim.viz.plot.spec import PlotSpec

__all__ = ["BASE_STYLE", "FORMATS", "cached_plot", "check_style", "render_plot", "style_key"]

#: Output formats: SVG (HTML pages) and PDF (LaTeX).
FORMATS = ("svg", "pdf")

#: The book's default look; a book's own ``style`` mapping is laid over it.
BASE_STYLE: dict[str, Any] = {
    "figure.figsize": (6.0, 3.8),
    "figure.dpi": 100,
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "lines.markersize": 5.0,
}
#: rc parameters that keep the output bytes stable (not overridable by a style).
_FIXED: dict[str, Any] = {
    "svg.hashsalt": "mlsysim",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "pdf.compression": 6,
    "path.simplify": True,
}
_METADATA = {
    "svg": {"Date": None, "Creator": "mlsysim", "Format": None, "Type": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "mlsysim", "Producer": "mlsysim"},
}


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MlsysimError(
            "drawing a plot needs matplotlib",
            why="matplotlib is the optional 'plot' extra of mlsysim",
            fix='install it: pip install -e ".[plot]" (or pip install matplotlib)',
        ) from None
    return matplotlib


def style_key(style: Mapping[str, Any] | None) -> str:
    """A stable text of a style mapping (part of the cache key)."""
    return repr(sorted((str(k), repr(v)) for k, v in (style or {}).items()))


def check_style(style: Any) -> None:
    """ConfigError unless ``style`` is a mapping of matplotlib rc parameters (a book's
    ``plot-style``), checked before any chart is drawn; without matplotlib only its shape."""
    if style is None:
        return
    if not isinstance(style, Mapping):
        raise ConfigError(
            f"a plot style is a mapping of matplotlib rc parameters, got {style!r}",
            fix='write e.g. {"font.size": 9, "axes.grid": False}',
        )
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    _rc(style)


def _rc(style: Mapping[str, Any] | None) -> dict[str, Any]:
    mpl = _matplotlib()
    rc = dict(BASE_STYLE)
    for key, value in (style or {}).items():
        if key not in mpl.rcParams:
            from mlsysim.core.exceptions import suggest

            near = suggest(str(key), list(mpl.rcParams))
            raise ConfigError(
                f"unknown plot style key {key!r}"
                + (f"; did you mean {', '.join(near)}?" if near else ""),
                fix="use matplotlib rc parameters (e.g. font.size, axes.prop_cycle)",
            )
        if key in _FIXED:
            continue
        rc[key] = value
    rc.update(_FIXED)
    return rc


def render_plot(spec: PlotSpec, fmt: str = "svg", style: Mapping[str, Any] | None = None) -> bytes:
    """The chart as SVG or PDF bytes (the same bytes for the same spec, style and versions)."""
    if fmt not in FORMATS:
        raise ConfigError(f"plot format {fmt!r} is not one of {', '.join(FORMATS)}")
    mpl = _matplotlib()
    rc = _rc(style)
    saved = os.environ.pop("SOURCE_DATE_EPOCH", None)
    try:
        with mpl.rc_context(rc):
            from matplotlib.figure import Figure

            fig = Figure()
            ax = fig.add_subplot()
            _DRAW[spec.kind](ax, spec)
            _axes(ax, spec)
            fig.tight_layout()
            out = io.BytesIO()
            fig.savefig(out, format=fmt, metadata=_METADATA[fmt])
    except MlsysimError:
        raise
    except (ValueError, TypeError) as exc:  # a style value matplotlib refuses
        raise ConfigError("the plot could not be drawn", why=str(exc)[:300]) from None
    finally:
        if saved is not None:
            os.environ["SOURCE_DATE_EPOCH"] = saved
    data = out.getvalue()
    if fmt == "svg":
        data = _svg_title(data, spec.alt_text)
    return data


def _svg_title(data: bytes, alt: str) -> bytes:
    """Put the alt text in the SVG as ``role="img"``, ``aria-label`` and a ``<title>``."""
    import html

    text = data.decode("utf-8")
    start = text.find("<svg")
    end = text.find(">", start)
    if start < 0 or end < 0:
        return data
    label = html.escape(alt, quote=True)
    head = text[:end] + f' role="img" aria-label="{label}">'
    return (head + f"\n <title>{html.escape(alt)}</title>" + text[end + 1 :]).encode("utf-8")


def _label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def _axes(ax: Any, spec: PlotSpec) -> None:
    ax.set_xlabel(_label(spec.x_label, spec.x_unit))
    ax.set_ylabel(_label(spec.y_label, spec.y_unit))
    if spec.x_log:
        ax.set_xscale("log")
    if spec.y_log:
        ax.set_yscale("log")
    if spec.title:
        ax.set_title(spec.title)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize="small")


def _draw_roofline(ax: Any, spec: PlotSpec) -> None:
    ridges = [r.ridge for r in spec.roofs] + [p.x for p in spec.points]
    lo = min(ridges) / 30
    hi = max(ridges) * 30
    for r in spec.roofs:
        xs = [lo, r.ridge, hi]
        ys = [r.bandwidth * lo, r.peak, r.peak]
        ax.plot(xs, ys, label=f"{r.label} ({spec.precision})")
    for p in spec.points:
        ax.plot([p.x], [p.y], marker="o", linestyle="none", color="black")
        ax.annotate(p.label, (p.x, p.y), textcoords="offset points", xytext=(4, 4))


def _draw_sweep(ax: Any, spec: PlotSpec) -> None:
    for s in spec.series:
        ax.plot(list(s.xs), list(s.ys), marker="o", label=s.label)


def _draw_pareto(ax: Any, spec: PlotSpec) -> None:
    off = [p for p in spec.points if not p.front]
    on = sorted((p for p in spec.points if p.front), key=lambda p: p.x)
    if off:
        ax.plot([p.x for p in off], [p.y for p in off], "o", color="0.6", label="dominated")
    ax.plot([p.x for p in on], [p.y for p in on], "o-", label="Pareto front")
    for p in spec.points:
        ax.annotate(p.label, (p.x, p.y), textcoords="offset points", xytext=(4, 4))


_DRAW = {"roofline": _draw_roofline, "sweep": _draw_sweep, "pareto": _draw_pareto}


def cached_plot(
    spec: PlotSpec,
    fmt: str,
    cache_dir: str | os.PathLike[str],
    style: Mapping[str, Any] | None = None,
) -> Path:
    """The chart's file in ``cache_dir`` (``plots/<content hash>.<fmt>``), drawn only when
    that spec, style, mlsysim and matplotlib version were not drawn in that format before.
    Every format of one chart shares the file's stem (a host may name ``<stem>.*`` and let
    each builder pick its format)."""
    import mlsysim

    if fmt not in FORMATS:
        raise ConfigError(f"plot format {fmt!r} is not one of {', '.join(FORMATS)}")
    mpl = _matplotlib()
    key = spec.digest(style_key(style), mlsysim.__version__, mpl.__version__)
    path = Path(cache_dir) / "plots" / f"{key}.{fmt}"
    if path.is_file():
        return path
    data = render_plot(spec, fmt, style)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # atomic: parallel builds never read half a file
    return path
