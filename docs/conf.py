"""Sphinx configuration of mlsysim's own documentation, built with mlsysim_sphinx itself.

``sphinx-build -W -b html docs build/docs`` (``scripts/build_docs.sh``). The reference pages
(formulas, walls, registries, sources) and the command-line pages are generated at build time
into ``docs/_generated/`` (ignored by git, never committed), so they always match the engine.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "mlsysim"
author = "the mlsysim authors"
copyright = "2026, the mlsysim authors"
release = version = "0.1.0"

extensions = [
    "myst_parser",
    "mlsysim_sphinx",
    "sphinx.ext.autodoc",
    "mlsysim_docs",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
# _generated/cli.md is included by cli.md, not a page of its own
exclude_patterns = ["_build", "notebooks", "_generated/cli.md"]
html_theme = "alabaster"
html_title = "mlsysim"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_default_options: dict[str, Any] = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_member_order = "bysource"

mlsysim_fail_mode = "error"

# Every cross-reference must resolve (-n), except these, which cannot: the standard library
# and pint have no inventory offline (intersphinx needs the network), and type variables
# and private base classes have no page of their own.
nitpicky = True
nitpick_ignore = [
    ("py:class", "collections.abc.Callable"),
    ("py:class", "collections.abc.Iterable"),
    ("py:class", "collections.abc.Iterator"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "collections.abc.Sequence"),
    ("py:class", "os.PathLike"),
    ("py:class", "pathlib.Path"),
    ("py:class", "pint._Quantity"),
    ("py:class", "mlsysim.core.formulas._meta.F"),  # TypeVar of the @formula decorator
    ("py:class", "mlsysim.core.registry.lookup.T"),  # TypeVar of Registry[T]
    ("py:class", "mlsysim.core.registry.load.Catalog"),  # internal: what catalog() returns
]
