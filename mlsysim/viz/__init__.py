"""Rendering of values, derivations and tables for text, Markdown, LaTeX and HTML.

Importing this package is light (no jinja2): :mod:`mlsysim.viz.derivation` and
:mod:`mlsysim.viz.table` load on first use.
"""

from __future__ import annotations

from mlsysim.core.lazy import lazy_getattr
from mlsysim.viz.format import SIUNITX_PREAMBLE, format_unit, render_value, significant_digits
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
    "render_derivation": "mlsysim.viz.derivation",
    "render_table": "mlsysim.viz.table",
    "TableRendered": "mlsysim.viz.table",
}


__getattr__ = lazy_getattr(
    "mlsysim.viz", {name: (module, name) for name, module in _LAZY.items()}, globals()
)
