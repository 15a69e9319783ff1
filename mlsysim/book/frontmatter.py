"""Per-document and per-project options for ``mlsysim check``, read from the sources themselves.

A chapter may carry its own options in YAML front matter, under the same ``mlsysim:`` key the
Quarto filter reads from document metadata::

    ---
    title: Serving
    mlsysim:
      sig-figs: 2
      tolerance: 10%
    ---

A Quarto project's ``_quarto.yml`` (the nearest one above the chapter) may set project-wide
``mlsysim:`` options. Precedence, lowest first: built-in defaults, the project file, the
chapter's front matter, options given explicitly on the command line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from mlsysim.core.exceptions import ConfigError

__all__ = ["front_matter_options", "options_line", "options_mapping", "project_options"]

_FRONT = re.compile(r"\A---[ \t]*\n(?P<body>.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def _load_yaml(text: str, where: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            "cannot read YAML",
            where=where,
            why=str(exc).splitlines()[0],
            fix="fix the YAML syntax of the front matter or project file",
        ) from None


def _mlsysim_key(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, Mapping) or data.get("mlsysim") is None:
        return {}
    block = data["mlsysim"]
    if not isinstance(block, Mapping):
        raise ConfigError(
            "the mlsysim: key must hold a mapping of options",
            where=where,
            fix="write e.g. mlsysim: {sig-figs: 3, tolerance: 5%}",
        )
    return dict(block)


def front_matter_options(text: str, file: str = "<document>") -> tuple[dict[str, Any], int]:
    """The ``mlsysim:`` options of a document's YAML front matter, and the line of that key."""
    m = _FRONT.match(text)
    if not m:
        return {}, 0
    body = m["body"]
    if "mlsysim" not in body:
        return {}, 0
    key_line = options_line(text)
    return _mlsysim_key(_load_yaml(body, f"{file}:{key_line}"), f"{file}:{key_line}"), key_line


@lru_cache(maxsize=64)
def _project_file_options(project_file: Path, mtime_ns: int) -> tuple[tuple[str, Any], ...]:
    """Options of one project file; ``mtime_ns`` in the key re-reads it after an edit."""
    text = project_file.read_text(encoding="utf-8")
    return tuple(_mlsysim_key(_load_yaml(text, str(project_file)), str(project_file)).items())


def project_options(path: Path) -> dict[str, Any]:
    """``mlsysim:`` options of the nearest ``_quarto.yml`` above ``path`` (empty if none)."""
    for folder in path.resolve().parents:
        candidate = folder / "_quarto.yml"
        if candidate.is_file():
            return dict(_project_file_options(candidate, candidate.stat().st_mtime_ns))
    return {}


def options_line(text: str) -> int:
    """Line of the front matter's ``mlsysim:`` key (1 when there is none): where to report."""
    m = _FRONT.match(text)
    if m:
        for i, line in enumerate(m["body"].splitlines()):
            if line.startswith("mlsysim"):
                return i + 2
    return 1


def options_mapping(
    path: Path, text: str, explicit: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], int]:
    """Merged option mapping for one chapter (project < front matter < explicit), and the
    front-matter line to blame when an option is invalid (0 when it came from elsewhere)."""
    merged: dict[str, Any] = {}
    if path.suffix == ".qmd":
        merged.update(project_options(path))
    front, line = front_matter_options(text, str(path))
    merged.update(front)
    merged.update({k: v for k, v in (explicit or {}).items() if v is not None})
    return merged, line
