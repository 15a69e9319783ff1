"""The ``napkin-plot`` directive: a chart drawn from napkin expressions, as a figure.

MyST (reStructuredText alike, with ``.. napkin-plot::``)::

    ```{napkin-plot} H100 and A100 at BF16
    :kind: roofline
    :devices: H100, A100
    Llama 2 7B decode = solve(Llama2_7B, H100, phase="decode")
    ```

Options and content are read by the engine (:func:`mlsysim.book.plots.run_plot`, through
:func:`mlsysim.book.items.run_item`), which locates each failing line and option. The chart is
drawn by the engine in both formats under ``<doctree dir>/mlsysim-plots/plots/<content
hash>.{svg,pdf}`` (drawn once per content hash; the same bytes on every build) and placed as an
``image`` whose URI ends in ``.*``: Sphinx's image handling picks the SVG for HTML and the PDF
for LaTeX and copies it. The figure carries the engine's alt text and caption, the class
``napkin-plot`` (themes style it); the chart is drawn with the chapter's ``plot-style`` option
(``mlsysim_plot_style`` in ``conf.py``, or ``plot-style`` in the front matter).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from mlsysim.book.syntax import PLOT_OPTIONS
from mlsysim_sphinx.lines import content_line
from mlsysim_sphinx.render import value_node
from mlsysim_sphinx.roles import report_new
from mlsysim_sphinx.state import document_for, located

__all__ = ["NapkinPlotDirective", "plot_cache"]

#: where the drawings are cached, below the doctree directory
_CACHE = "mlsysim-plots"


def plot_cache(env: Any) -> Path:
    """The folder the engine draws this build's charts into."""
    return Path(env.doctreedir) / _CACHE


class NapkinPlotDirective(SphinxDirective):
    """A roofline, sweep or Pareto chart with alt text and caption."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {
        **{key: directives.unchanged for key in sorted(PLOT_OPTIONS)},
        "class": directives.class_option,
        "width": directives.length_or_percentage_or_unitless,
    }

    def run(self) -> list[nodes.Node]:
        from dataclasses import replace

        from mlsysim.book.items import run_item
        from mlsysim.core.exceptions import MlsysimError

        env = self.env
        doc = document_for(env)
        before = len(doc.failures)
        item = located(env, "plot", "\n".join(self.content), content_line(self))
        if not item.attrs:  # not found by the scanner: the directive's own options
            attrs = {k: v for k, v in self.options.items() if k not in ("class", "width")}
            if self.arguments:
                attrs.setdefault("caption", self.arguments[0])
            item = replace(item, attrs=attrs)
        outcome = run_item(doc, item)
        plot = outcome.value
        path = None
        if plot is not None and plot.ok:
            try:
                path = plot.files(plot_cache(env))  # the chapter's plot-style
            except MlsysimError as exc:  # matplotlib missing, a style it refuses
                doc.record("error", exc, "napkin-plot", item.line, None, 0)
        report_new(env, doc.failures, before)
        if path is None:
            rendered = outcome.rendered
            if rendered is None:
                return []
            return [nodes.paragraph("", "", value_node("napkin-plot", rendered, failed=True))]
        return [self._figure(plot, path)]

    def _figure(self, plot: Any, path: Path) -> nodes.figure:
        src = Path(self.env.doc2path(self.env.docname)).parent
        uri = os.path.relpath(path, src).replace(os.sep, "/") + ".*"
        image = nodes.image(uri, uri=uri, alt=plot.alt, classes=["napkin-plot"])
        if "width" in self.options:
            image["width"] = self.options["width"]
        figure = nodes.figure("", image, classes=["napkin-plot", *self._classes()])
        if plot.caption:
            caption = nodes.caption(plot.caption, plot.caption)
            self.set_source_info(caption)
            figure += caption
        self.set_source_info(figure)
        self.add_name(figure)
        return figure

    def _classes(self) -> list[str]:
        return list(self.options.get("class", []))
