"""Where data files are read from, in load order.

The package's own data directories come first (core's literature, then each layer's, as the
layers register them), then every directory in ``MLSYSIM_DATA_PATH`` (``os.pathsep``-
separated), then those passed to :func:`~mlsysim.core.registry.add_data_dir`. While
:func:`~mlsysim.core.registry.substituted_data` is active some directories are read from
elsewhere and others are added on top. Changing any of these is the loaded catalog's business
(:mod:`mlsysim.core.registry.load`): this module only holds the lists.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlsysim.core.registry.kinds import run_first_load

__all__ = [
    "ADDED",
    "EXTRA_DIRS",
    "SUBSTITUTES",
    "add_package_dir",
    "data_dirs",
    "declare_data_dir",
    "env_dirs",
]

#: the package's own data directories, in registration order (core's literature first)
_BUILTIN_DIRS: list[Path] = [Path(__file__).resolve().parent.parent / "data"]
#: package data directories known before any layer is imported (:func:`declare_data_dir`), so
#: that a fingerprint of the data files (a cache key) needs neither the layers nor pint
_DECLARED_DIRS: list[Path] = []
#: user data directories (:func:`~mlsysim.core.registry.add_data_dir`)
EXTRA_DIRS: list[Path] = []
#: data directories read in place of others, and extra ones
#: (:func:`~mlsysim.core.registry.substituted_data`)
SUBSTITUTES: dict[Path, Path] = {}
ADDED: list[Path] = []


def env_dirs() -> str:
    """``MLSYSIM_DATA_PATH`` as it is now (a loaded catalog remembers what it was built with)."""
    return os.environ.get("MLSYSIM_DATA_PATH", "")


def add_package_dir(path: Path) -> None:
    """Add a layer's package data directory (resolved), once."""
    if path not in _BUILTIN_DIRS:
        _BUILTIN_DIRS.append(path)


def declare_data_dir(path: str | os.PathLike[str]) -> None:
    """Declare a package data directory before its layer registers it (the package does this
    for every layer), so :func:`data_dirs` with ``load=False`` lists it without imports."""
    d = Path(path).resolve()
    if d not in _DECLARED_DIRS:
        _DECLARED_DIRS.append(d)


def data_dirs(*, load: bool = True) -> list[Path]:
    """Directories searched for data files, in load order.

    ``load=False`` does not import the layers (nor pint): it gives the declared package
    directories with the user ones, the same set in an order of its own (for fingerprints).
    """
    if load:
        run_first_load()
        builtin = _BUILTIN_DIRS
    else:
        builtin = [*_BUILTIN_DIRS, *(d for d in _DECLARED_DIRS if d not in _BUILTIN_DIRS)]
    env = [Path(p) for p in env_dirs().split(os.pathsep) if p]
    dirs = [*builtin, *env, *EXTRA_DIRS]
    if SUBSTITUTES:
        dirs = [SUBSTITUTES.get(d.resolve(), d) for d in dirs]
    return dirs + [d for d in ADDED if d not in dirs]
