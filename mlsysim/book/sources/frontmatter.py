"""Options written in the sources themselves: a chapter's YAML front matter and project YAML.

A chapter may carry its own options under the same ``mlsysim:`` key the Quarto filter reads
from document metadata::

    ---
    title: Serving
    mlsysim:
      sig-figs: 2
      tolerance: 10%
    ---

YAML is read safely and within limits: at most :data:`MAX_YAML` characters, no anchors or
aliases (a billion-laughs document cannot grow), nesting bounded; option values must be
scalars or short lists of scalars. Errors are ConfigErrors that name the file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlsysim.core.exceptions import ConfigError

__all__ = ["MAX_YAML", "front_matter", "front_matter_options", "load_yaml", "mlsysim_key"]

#: Longest YAML text read (front matter or project file), in characters.
MAX_YAML = 256_000
_MAX_LIST = 16


def front_matter(text: str) -> tuple[str, int] | None:
    """The YAML body of leading front matter and the line after its closing ``---``."""
    if not text.startswith("---"):
        return None
    first_end = text.find("\n")
    if first_end < 0 or text[3:first_end].strip():
        return None
    pos = first_end + 1
    line = 2
    limit = min(len(text), MAX_YAML)
    while pos < limit:
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        stripped = text[pos:end].rstrip()
        if stripped in ("---", "..."):
            return text[first_end + 1 : pos], line + 1
        pos, line = end + 1, line + 1
    return None


def load_yaml(text: str, where: str) -> Any:
    """``text`` as YAML (safe, no aliases, bounded); ConfigError naming ``where``."""
    import yaml

    class _NoAliases(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("YAML aliases (*name) are not allowed here")
            return super().compose_node(parent, index)

    if len(text) > MAX_YAML:
        raise ConfigError("the YAML is too long", where=where, why=f"the limit is {MAX_YAML:,}")
    try:
        return yaml.load(text, Loader=_NoAliases)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(
            "cannot read YAML",
            where=where,
            why=str(exc).splitlines()[0],
            fix="fix the YAML syntax of the front matter or project file",
        ) from None
    except (RecursionError, MemoryError):
        raise ConfigError("the YAML is nested too deeply", where=where) from None


def mlsysim_key(data: Any, where: str) -> dict[str, Any]:
    """The ``mlsysim:`` mapping of parsed YAML (empty when absent), values checked."""
    if not isinstance(data, Mapping) or data.get("mlsysim") is None:
        return {}
    block = data["mlsysim"]
    if not isinstance(block, Mapping):
        raise ConfigError(
            "the mlsysim: key must hold a mapping of options",
            where=where,
            fix="write e.g. mlsysim: {sig-figs: 3, tolerance: 5%}",
        )
    out: dict[str, Any] = {}
    for key, value in block.items():
        if isinstance(value, list | tuple):
            if len(value) > _MAX_LIST or not all(_scalar(v) for v in value):
                raise ConfigError(
                    f"option {key!s:.40} must be a value or a short list of values",
                    where=where,
                )
        elif isinstance(value, Mapping):  # plot-style: {lines.linewidth: 1.8}
            if len(value) > _MAX_LIST or not all(
                isinstance(k, str) and len(k) < 200 and _scalar(v) for k, v in value.items()
            ):
                raise ConfigError(
                    f"option {key!s:.40} must be a short mapping of plain values", where=where
                )
        elif not _scalar(value):
            raise ConfigError(f"option {key!s:.40} must be a plain value", where=where)
        out[str(key)] = value
    return out


def _scalar(value: Any) -> bool:
    return value is None or (isinstance(value, str | int | float | bool) and len(str(value)) < 200)


def front_matter_options(text: str, file: str = "<document>") -> tuple[dict[str, Any], int]:
    """The ``mlsysim:`` options of a document's YAML front matter, and the line of that key."""
    fm = front_matter(text)
    if fm is None or "mlsysim" not in fm[0]:
        return {}, 0
    body = fm[0]
    key_line = 1
    for k, line in enumerate(body.split("\n")):
        if line.startswith("mlsysim"):
            key_line = k + 2
            break
    where = f"{file}:{key_line}"
    return mlsysim_key(load_yaml(body, where), where), key_line
