"""Import pint without importing dask, and keep pint's dask support.

When dask is installed, ``import pint`` imports the whole dask package (its configuration,
YAML, psutil, toolz …: about 60 ms, a tenth of a book build's start-up) to bind three
functions, ``dask.base.compute``, ``persist`` and ``visualize``, which pint only calls from
the methods of a Quantity that wraps a dask array. pint has no switch for this.

:func:`import_pint` imports pint with dask hidden from it for the length of that import
(``sys.modules["dask"] = None``, which makes ``importlib.util.find_spec("dask")`` answer "not
installed"), then restores what pint would have bound: ``HAS_DASK``, the three functions
(each imports ``dask.base`` on its first call) and the lazy ``dask.array`` proxy, in
``pint.compat`` and in ``pint.facets.dask``, which imported them by name. A Quantity over a
dask array then behaves exactly as under a plain ``import pint``; dask is imported when one
is first used (``tests/test_pint_loader.py`` checks both, in fresh processes).

Nothing is hidden when dask is already imported (there is nothing to save) or not installed,
or when ``MLSYSIM_PINT_DASK=eager``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

__all__ = ["import_pint"]

#: the names pint.compat binds from dask, re-bound lazily after the import
_DASK_FUNCTIONS = ("compute", "persist", "visualize")


def import_pint() -> ModuleType:
    """``import pint``, deferring its import of dask to a dask quantity's first use."""
    if "pint" in sys.modules or not _should_defer():
        import pint

        return pint
    sys.modules["dask"] = None  # type: ignore[assignment]  # find_spec("dask") -> None
    try:
        import pint
    finally:
        del sys.modules["dask"]
    _restore_dask_support()
    return pint


def _should_defer() -> bool:
    if os.environ.get("MLSYSIM_PINT_DASK", "").strip().lower() == "eager":
        return False
    if "dask" in sys.modules:
        return False
    try:
        return importlib.util.find_spec("dask") is not None
    except (ImportError, ValueError):
        return False


def _restore_dask_support() -> None:
    """Bind in pint what ``import pint`` binds when it sees dask, each part imported lazily."""
    compat = sys.modules["pint.compat"]
    targets = [compat]
    facet = sys.modules.get("pint.facets.dask")
    if facet is not None:
        targets.append(facet)
    compat.HAS_DASK = True  # type: ignore[attr-defined]
    bound: dict[str, Any] = {name: _lazy_dask_function(name) for name in _DASK_FUNCTIONS}
    bound["dask_array"] = _LazyDaskArray()
    for module in targets:
        for name, value in bound.items():
            if hasattr(module, name):
                setattr(module, name, value)


def _lazy_dask_function(name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module("dask.base"), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``dask.base.{name}``, imported on first call."
    return call


class _LazyDaskArray:
    """``dask.array``, imported on first attribute access (as pint's own proxy does)."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module("dask.array"), attr)
