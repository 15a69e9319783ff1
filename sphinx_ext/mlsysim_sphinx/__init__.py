"""Sphinx + MyST extension for mlsysim napkin math: a thin adapter over :mod:`mlsysim.book`.

Enable it with ``extensions = ["mlsysim_sphinx", "myst_parser"]``. It adds

* roles ``napkin`` (an inline value) and ``claim`` (the author's number, checked);
* directives ``napkin`` (statements), ``napkin-table``, ``napkin-eq`` (a derivation) and
  ``napkin-plot`` (a chart as a figure: SVG in HTML, PDF in LaTeX), ``napkin-formula`` (a
  formula card) and ``napkin-registry`` (a table of registry entries);
* config values ``mlsysim_sig_figs``, ``mlsysim_tolerance``, ``mlsysim_siunitx``,
  ``mlsysim_fail_mode`` (``"error"`` | ``"warn"``), ``mlsysim_data_dirs`` and
  ``mlsysim_plot_style`` (matplotlib rc parameters for every chart).

Every failure is logged at its exact ``file:line`` (``type="mlsysim"``, subtypes ``check``,
``claim``, ``error``: the names every report uses); at the end of the build a summary lists
them all and the build exits 1 (fail mode ``error``) — no ``-W`` needed.
Syntax: ``sphinx_ext/mlsysim_sphinx/README.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsysim_sphinx import outdated, replay, reporting, state, worker
from mlsysim_sphinx.config import add_config_values, validate_config
from mlsysim_sphinx.directives import NapkinDirective, NapkinEqDirective
from mlsysim_sphinx.plot import NapkinPlotDirective
from mlsysim_sphinx.reference import NapkinFormulaDirective, NapkinRegistryDirective
from mlsysim_sphinx.render import SiunitxForLatex, add_nodes
from mlsysim_sphinx.roles import ClaimRole, NapkinRole
from mlsysim_sphinx.table import NapkinTableDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__all__ = ["__version__", "setup"]

__version__ = "0.1.0"


_STATIC = Path(__file__).resolve().parent / "static"


def _add_static(app: Sphinx) -> None:
    """HTML builders copy ``static/mlsysim.css`` (failure marks, banner, MathML spacing)."""
    if app.builder.format == "html" and str(_STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(_STATIC))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register roles, directives, config values and event handlers, and start the worker
    that evaluates the chapters while Sphinx starts up (:mod:`mlsysim_sphinx.worker`)."""
    worker.start(app)
    add_config_values(app)
    app.connect("config-inited", validate_config)
    app.connect("config-inited", worker.on_config_inited)
    app.add_role("napkin", NapkinRole())
    app.add_role("claim", ClaimRole())
    app.add_directive("napkin", NapkinDirective)
    app.add_directive("napkin-eq", NapkinEqDirective)
    app.add_directive("napkin-table", NapkinTableDirective)
    app.add_directive("napkin-plot", NapkinPlotDirective)
    app.add_directive("napkin-formula", NapkinFormulaDirective)
    app.add_directive("napkin-registry", NapkinRegistryDirective)
    app.add_post_transform(SiunitxForLatex)
    add_nodes(app)
    app.connect("builder-inited", _add_static)
    app.add_css_file("mlsysim.css")
    app.connect("doctree-read", state.on_doctree_read)
    app.connect("env-purge-doc", reporting.on_env_purge_doc)
    app.connect("env-get-outdated", outdated.on_env_get_outdated)
    app.connect("env-before-read-docs", state.on_env_before_read_docs)
    app.connect("env-before-read-docs", worker.on_env_before_read_docs)
    app.connect("env-merge-info", reporting.on_env_merge_info)
    app.connect("env-updated", state.on_env_updated)  # (the worker's last records first)
    app.connect("env-updated", worker.close)
    app.connect("build-finished", worker.close)
    app.connect("build-finished", reporting.on_build_finished)
    app.connect("build-finished", replay.prune)
    return {
        "version": __version__,
        "env_version": 2,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
