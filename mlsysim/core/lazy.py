"""Attributes that load on first use (PEP 562), so importing a package stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_dir", "lazy_getattr"]


def lazy_getattr(
    package: str, targets: Mapping[str, tuple[str, str]], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__``: ``name`` -> ``(module, attribute)``, imported on first access.

    An empty attribute means the module itself. The value is stored in ``namespace`` (the
    package's ``globals()``), so each name is resolved once.
    """

    def __getattr__(name: str) -> Any:
        target = targets.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(target[0])
        value = getattr(module, target[1]) if target[1] else module
        namespace[name] = value
        return value

    return __getattr__


def lazy_dir(targets: Mapping[str, object], namespace: dict[str, Any]) -> Callable[[], list[str]]:
    """A module ``__dir__`` that lists the lazy names too (before they are loaded), so
    ``dir()``, tab completion and Sphinx autodoc see the whole public API."""

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(targets))

    return __dir__
