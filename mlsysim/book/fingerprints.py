"""What a stored napkin result was computed from, for every host's cache.

A result the hosts keep between builds (Sphinx's replayed chapters, the Quarto filter's
batch and project caches) is valid only while everything that computed it is unchanged:

* :func:`data_key`: the registry data, every data file by path and bytes;
* :func:`engine_key`: the code, every file of mlsysim (and of a host's extension) by size and
  modification time, with the Python, pint and pydantic installations
  (:func:`mlsysim.core.snapshot.code_key`), and the date, because a value with no date of
  its own is taken as of today (an exchange rate is the one dated nearest), so a result holds
  for the day it was made.

Neither imports pint, numpy, pydantic or a layer: a cache hit stays light.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["data_files", "data_key", "engine_key", "today"]


def data_files() -> list[Path]:
    """Every registry data file, loadable or not (a broken one is a dependency too)."""
    from mlsysim.core.registry import data_dirs

    dirs = data_dirs(load=False)  # the same directories, without importing every layer
    return sorted(f for d in dirs if d.is_dir() for f in d.rglob("*.toml"))


def data_key(files: Iterable[Path] | None = None) -> str:
    """A fingerprint of the registry data: which files (``files``, else :func:`data_files`),
    and their bytes."""
    h = hashlib.sha256()
    for path in data_files() if files is None else files:
        h.update(str(path).encode())
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<unreadable>")
    return h.hexdigest()


def today() -> str:
    """The date results are taken as of (ISO), the day a stored result holds for."""
    return datetime.date.today().isoformat()


def engine_key(*extra_dirs: str | os.PathLike[str]) -> str:
    """A fingerprint of the code that computes a result (mlsysim's files, those of
    ``extra_dirs``, the libraries) and of the day it is computed for."""
    from mlsysim.core.snapshot import code_key

    return f"{code_key(*extra_dirs)}@{today()}"
