"""The book a chapter belongs to: its project config, its syntax and its options.

A chapter's project is the nearest folder above it holding a Sphinx ``conf.py`` or a Quarto
``_quarto.yml``. From it ``mlsysim check`` learns what the host would:

* Sphinx: the ``mlsysim_*`` values, ``mlsysim_data_dirs``, ``exclude_patterns`` and
  ``source_suffix`` of ``conf.py``, read as literals with :mod:`ast` (conf.py is never run;
  a value that is not a literal is reported, so check and Sphinx cannot silently differ);
  Markdown files are MyST;
* Quarto: the ``mlsysim:`` key of ``_quarto.yml`` (and of ``_quarto-<profile>.yml`` for each
  profile in ``QUARTO_PROFILE``, merged over it as Quarto merges profiles) and of every
  ``_metadata.yml`` between the project and the chapter; Markdown files are pandoc Markdown;
  files whose name starts with ``_`` are not rendered on their own (they are included).

:func:`chapter_options` then resolves a chapter's options the one way every host does
(:func:`mlsysim.book.options.resolve`): project → front matter → command-line flags.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from mlsysim.book.options import Options, resolve
from mlsysim.book.sources.frontmatter import front_matter_options, load_yaml, mlsysim_key
from mlsysim.core.exceptions import ConfigError, MlsysimError

__all__ = [
    "MYST_EXTENSIONS",
    "Project",
    "chapter_options",
    "myst_syntax",
    "project_of",
    "syntax_for",
]

_CONF_KEYS = ("exclude_patterns", "source_suffix", "extensions", "myst_enable_extensions")
_MAX_CONF = 1_000_000


@dataclass(frozen=True)
class Project:
    """A Sphinx or Quarto project: root folder, options and what it reads."""

    root: Path
    kind: str  # "sphinx" | "quarto"
    options: dict[str, Any] = field(default_factory=dict)
    data_dirs: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    problems: tuple[tuple[int, str], ...] = ()  # (line, message) of what could not be read
    dollarmath: bool = False  # MyST reads $…$ and $$…$$ as math (myst_enable_extensions)
    #: the myst_enable_extensions that change which text holds items (MYST_EXTENSIONS)
    myst_extensions: tuple[str, ...] = ()

    @property
    def config_file(self) -> Path:
        return self.root / ("conf.py" if self.kind == "sphinx" else "_quarto.yml")


def project_of(path: Path) -> Project | None:
    """The project ``path`` (a chapter) belongs to, or None (config re-read after an edit)."""
    try:
        folders = path.resolve().parents
    except (OSError, ValueError):  # a path the system cannot name: no project
        return None
    for folder in folders:
        for name, kind in (("_quarto.yml", "quarto"), ("conf.py", "sphinx")):
            candidate = folder / name
            try:
                mtime = candidate.stat().st_mtime_ns
            except OSError:
                continue
            if candidate.is_file():
                profiles = _profiles(folder) if kind == "quarto" else ()
                return _read_project(candidate, kind, mtime, profiles)
    return None


def _profiles(folder: Path) -> tuple[tuple[Path, int], ...]:
    """The profile files of ``QUARTO_PROFILE`` that exist, with their modification times."""
    out = []
    for name in os.environ.get("QUARTO_PROFILE", "").replace(" ", ",").split(","):
        if name:
            path = folder / f"_quarto-{name}.yml"
            try:
                out.append((path, path.stat().st_mtime_ns))
            except OSError:
                continue
    return tuple(out)


@lru_cache(maxsize=64)
def _read_project(
    config: Path, kind: str, mtime_ns: int, profiles: tuple[tuple[Path, int], ...] = ()
) -> Project:
    if kind == "quarto":
        data = load_yaml(_read(config), str(config))
        options = dict(mlsysim_key(data, str(config)))
        for path, _ in profiles:
            options.update(mlsysim_key(load_yaml(_read(path), str(path)), str(path)))
        return Project(config.parent, "quarto", options)
    return _read_conf_py(config)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path.name}", where=str(path), why=str(exc)) from None


def _read_conf_py(config: Path) -> Project:
    text = _read(config)
    if len(text) > _MAX_CONF:
        raise ConfigError("conf.py is too long to read", where=str(config))
    try:
        tree = ast.parse(text, filename=str(config))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ConfigError("cannot parse conf.py", where=str(config), why=str(exc)) from None
    options: dict[str, Any] = {}
    values: dict[str, Any] = {}
    problems: list[tuple[int, str]] = []
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            name = target.id
            if not (name.startswith("mlsysim_") or name in _CONF_KEYS):
                continue
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                problems.append(
                    (node.lineno, f"{name} is not a literal value: mlsysim check cannot read it")
                )
                continue
            if name.startswith("mlsysim_"):
                options[name] = literal
            else:
                values[name] = literal
    data_dirs = options.pop("mlsysim_data_dirs", [])
    dirs = [data_dirs] if isinstance(data_dirs, str) else list(data_dirs or [])
    extensions = values.get("extensions", [])
    myst = isinstance(extensions, list | tuple) and any(
        str(e) in ("myst_parser", "myst_nb") for e in extensions
    )
    default = {".rst": "restructuredtext", **({".md": "markdown"} if myst else {})}
    suffix = values.get("source_suffix", default)
    suffixes = tuple(suffix) if isinstance(suffix, dict | list | tuple) else (str(suffix),)
    exclude = values.get("exclude_patterns", [])
    enabled = values.get("myst_enable_extensions", [])
    enabled = list(enabled) if isinstance(enabled, list | tuple | set) else []
    dollarmath = "dollarmath" in enabled
    return Project(
        config.parent,
        "sphinx",
        options,
        tuple((config.parent / str(d)).resolve() for d in dirs),
        tuple(str(p) for p in exclude) if isinstance(exclude, list | tuple) else (),
        suffixes,
        tuple(problems),
        dollarmath,
        tuple(str(e) for e in enabled if e in MYST_EXTENSIONS),
    )


def syntax_for(path: Path, project: Project | None) -> str:
    """The source syntax of a chapter: ``rst``, ``myst`` (``myst-dollarmath`` when the
    project enables MyST's dollarmath, ``…-substitution`` when it enables substitutions),
    ``pandoc`` or ``markdown`` (both)."""
    suffix = path.suffix.lower()
    if suffix == ".rst":
        return "rst"
    if suffix == ".qmd":
        return "pandoc"
    if project is not None:
        if project.kind != "sphinx":
            return "pandoc"
        return myst_syntax(project.myst_extensions)
    return "markdown"


def myst_syntax(enabled: Iterable[object]) -> str:
    """The name of the MyST syntax with the ``myst_enable_extensions`` that change what is
    text (a name :func:`mlsysim.book.sources.syntax_named` reads): ``myst``, then
    ``-dollarmath``, ``-substitution``, ``-amsmath``, ``-html_admonition``, ``-deflist`` in
    that order."""
    on = {str(e) for e in enabled}
    return "myst" + "".join(f"-{e}" for e in MYST_EXTENSIONS if e in on)


#: MyST extensions that change which text holds items, in the order syntax names give them
MYST_EXTENSIONS = ("dollarmath", "substitution", "amsmath", "html_admonition", "deflist")


@lru_cache(maxsize=256)
def _metadata_options(folder: Path, mtime_ns: int) -> dict[str, Any]:
    path = folder / "_metadata.yml"
    return mlsysim_key(load_yaml(_read(path), str(path)), str(path))


def _directory_metadata(path: Path, project: Project) -> dict[str, Any]:
    """``mlsysim:`` options of the ``_metadata.yml`` files between project and chapter."""
    merged: dict[str, Any] = {}
    folders = [f for f in path.resolve().parents if f == project.root or project.root in f.parents]
    for folder in reversed(folders):
        meta = folder / "_metadata.yml"
        try:
            mtime = meta.stat().st_mtime_ns
        except OSError:
            continue
        merged.update(_metadata_options(folder, mtime))
    return merged


def chapter_options(
    path: Path,
    text: str,
    project: Project | None,
    flags: Mapping[str, Any] | None = None,
    host: Mapping[str, Any] | None = None,
) -> Options:
    """A chapter's options: project → (host) → directory metadata → front matter →
    ``MLSYSIM_FAIL_MODE`` → flags.

    ``host`` is what a host passes as its project options (the Quarto filter's ``mlsysim:``
    metadata); ConfigError when a value is invalid, with where it was written.
    """
    layers: list[Mapping[str, Any] | None] = []
    if project is not None:
        layers.append(project.options)
    layers.append(host)
    if project is not None and project.kind == "quarto":
        layers.append(_directory_metadata(path, project))
    if path.suffix.lower() != ".rst":
        front, _line = front_matter_options(text, str(path))
        layers.append(front)
    # MLSYSIM_FAIL_MODE=warn builds a draft in every host (below an explicit flag)
    mode = os.environ.get("MLSYSIM_FAIL_MODE", "").strip()
    if mode and mode not in ("error", "warn"):
        raise ConfigError(
            f"MLSYSIM_FAIL_MODE={mode!r} is invalid",
            why="the environment variable overrides fail-mode: error or warn",
            fix="set MLSYSIM_FAIL_MODE=warn for a draft (or error), or unset it",
        )
    layers.append({"fail-mode": mode} if mode else None)
    layers.append(flags)
    try:
        return resolve(layers)
    except MlsysimError as exc:
        raise ConfigError(exc.what, where=exc.where, why=exc.why, fix=exc.fix) from None
