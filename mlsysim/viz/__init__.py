"""Rendering of values, derivations and tables for text, Markdown, LaTeX and HTML.

Importing this package is light (no pint, no jinja2): :mod:`mlsysim.viz.format`,
:mod:`mlsysim.viz.derivation` and :mod:`mlsysim.viz.table` load on first use, so a module
that needs only the renderings' forms (:mod:`mlsysim.viz.forms`, :mod:`mlsysim.viz.rendered`)
does not start the unit system.
"""

from __future__ import annotations

from mlsysim.core.lazy import lazy_getattr
from mlsysim.viz.rendered import Rendered

__all__ = [
    "SIUNITX_PREAMBLE",
    "Rendered",
    "TableRendered",
    "format_unit",
    "render_derivation",
    "render_table",
    "render_value",
    "significant_digits",
]

_LAZY = {
    "SIUNITX_PREAMBLE": "mlsysim.viz.format",
    "format_unit": "mlsysim.viz.format",
    "render_value": "mlsysim.viz.format",
    "significant_digits": "mlsysim.viz.format",
    "render_derivation": "mlsysim.viz.derivation",
    "render_table": "mlsysim.viz.table",
    "TableRendered": "mlsysim.viz.table",
}


__getattr__ = lazy_getattr(
    "mlsysim.viz", {name: (module, name) for name, module in _LAZY.items()}, globals()
)
