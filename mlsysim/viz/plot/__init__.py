"""Charts for a book: roofline charts, sweep curves and Pareto fronts.

:mod:`~mlsysim.viz.plot.spec` turns plain data (devices, points, series) into a
:class:`PlotSpec` (:mod:`~mlsysim.viz.plot.chart`, with its alt text; axes and their units in
:mod:`~mlsysim.viz.plot.axes`); :mod:`~mlsysim.viz.plot.render` draws it as SVG or PDF
with matplotlib (the optional ``plot`` extra, imported on first draw), the same bytes on every
build, and caches files by the spec's content hash.
"""

from __future__ import annotations

from mlsysim.core.lazy import lazy_getattr

__all__ = [
    "BASE_STYLE",
    "PlotSpec",
    "alt_text",
    "cached_plot",
    "pareto_front",
    "pareto_spec",
    "render_plot",
    "roofline_spec",
    "sweep_spec",
]

_LAZY = {
    "PlotSpec": "mlsysim.viz.plot.chart",
    "alt_text": "mlsysim.viz.plot.chart",
    "pareto_front": "mlsysim.viz.plot.spec",
    "pareto_spec": "mlsysim.viz.plot.spec",
    "roofline_spec": "mlsysim.viz.plot.spec",
    "sweep_spec": "mlsysim.viz.plot.spec",
    "BASE_STYLE": "mlsysim.viz.plot.render",
    "cached_plot": "mlsysim.viz.plot.render",
    "render_plot": "mlsysim.viz.plot.render",
}

__getattr__ = lazy_getattr(
    "mlsysim.viz.plot", {name: (module, name) for name, module in _LAZY.items()}, globals()
)
