"""What a stored project check depends on, and whether it still holds.

A :class:`Manifest` lists every file a project check read (with its SHA-1, or ``None`` for a
file that must stay absent, such as a ``_metadata.yml`` nobody wrote yet), every directory
whose listing matters (the registry data directories: a data file added is a change) and the
environment values and options it ran under. It is stored as JSON next to the results, so the
Quarto filter can tell with file reads alone (``pandoc.utils.sha1``, ``list_directory``)
that a result is still good, without starting Python; :meth:`Manifest.holds` is the same test
in Python.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ENV_KEYS", "Manifest", "data_inputs", "sha1_of"]

#: environment variables whose value changes what a project check finds
ENV_KEYS = ("MLSYSIM_DATA_PATH", "QUARTO_PROFILE", "QUARTO_PROJECT_INPUT_FILES")


def sha1_of(path: str) -> str | None:
    """The file's SHA-1 (hex), or None when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return hashlib.sha1(fh.read(), usedforsecurity=False).hexdigest()
    except (OSError, ValueError):
        return None


def _listing(path: str) -> list[str] | None:
    try:
        return sorted(os.listdir(path))
    except (OSError, ValueError):
        return None


@dataclass
class Manifest:
    """Files (absolute path -> SHA-1 or None), directory listings, environment and options."""

    files: dict[str, str | None] = field(default_factory=dict)
    dirs: dict[str, list[str] | None] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    python: str = ""
    engine: str = ""

    def add_file(self, path: str | os.PathLike[str]) -> None:
        key = os.path.abspath(path)
        if key not in self.files:
            self.files[key] = sha1_of(key)

    def add_files(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        for p in paths:
            self.add_file(p)

    def add_dir(self, path: str | os.PathLike[str]) -> None:
        key = os.path.abspath(path)
        if key not in self.dirs:
            self.dirs[key] = _listing(key)

    def holds(self, overrides: dict[str, Any], python: str, engine: str) -> bool:
        """Whether every file, listing and value is still what it was."""
        if self.engine != engine or self.python != python or self.overrides != overrides:
            return False
        if any(os.environ.get(k, "") != v for k, v in self.env.items()):
            return False
        if any(_listing(d) != listing for d, listing in self.dirs.items()):
            return False
        return all(sha1_of(f) == digest for f, digest in self.files.items())

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [{"path": p, "sha1": d} for p, d in self.files.items()],
            "dirs": [{"path": p, "entries": e} for p, e in self.dirs.items()],
            "env": self.env,
            "overrides": self.overrides,
            "python": self.python,
            "engine": self.engine,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Manifest | None:
        """The manifest stored as ``data``, or None when it is not one."""
        try:
            return cls(
                {str(f["path"]): f["sha1"] for f in data["files"]},
                {str(d["path"]): d["entries"] for d in data["dirs"]},
                {str(k): str(v) for k, v in data["env"].items()},
                dict(data["overrides"]),
                str(data["python"]),
                str(data["engine"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def data_inputs(manifest: Manifest) -> None:
    """Every registry data directory (each folder's listing) and data file, without importing
    a layer or pint."""
    from mlsysim.core.registry import data_dirs

    for d in data_dirs(load=False):
        if not d.is_dir():
            manifest.add_dir(d)
            continue
        for root, dirs, files in os.walk(d):
            dirs.sort()
            manifest.add_dir(root)
            manifest.add_files(os.path.join(root, f) for f in sorted(files) if f.endswith(".toml"))
