"""``mlsysim check``: every napkin item of every chapter under some paths, as the hosts see them.

Each chapter is read with its project's syntax and options (:mod:`~mlsysim.book.sources.
project`) and scanned with the hosts' own scanner, so ``check`` and Sphinx or Quarto give the
same verdict. Directories are walked recursively, following symbolic links (each real folder
once), skipping build and hidden folders, what a Sphinx project excludes and what a Quarto
project does not render on its own (``_``-files). A file that cannot be read — missing, a
dangling link, not UTF-8 — is a located failure of its own, and the run goes on: one bad file
never hides the failures of the others.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlsysim.book.document import Document
from mlsysim.book.failures import Checked, Failure
from mlsysim.book.items import Outcome, run_item
from mlsysim.book.options import Options
from mlsysim.book.sources import Problem, Scanned, read_source, scan_source
from mlsysim.book.sources.frontmatter import front_matter_options
from mlsysim.book.sources.project import Project, chapter_options, project_of, syntax_for
from mlsysim.book.syntax import Item
from mlsysim.core.exceptions import MlsysimError

__all__ = [
    "SUFFIXES",
    "CheckRun",
    "add_project_data",
    "check_document",
    "check_paths",
    "check_sources",
    "iter_sources",
    "problem_failure",
    "scan_file",
    "unreadable",
]

#: Called after each item: ``(document, item, outcome)``.
ItemHook = Callable[[Document, Item, Outcome], None]
from mlsysim.book.sources.files import SUFFIXES, iter_sources  # noqa: E402  (re-exported)


def scan_file(path: str | os.PathLike[str]) -> list[Item]:
    """Items of one source file (with its project's syntax, includes followed);
    MlsysimError when it cannot be read."""
    file = Path(path)
    try:
        text = read_source(file)
    except (OSError, UnicodeDecodeError) as exc:
        f = unreadable(str(file), exc)
        raise MlsysimError(f"cannot read {str(file)!r}", why=f.hint or "") from None
    project = project_of(file)
    return scan_source(str(file), text, syntax_for(file, project)).items


def unreadable(file: str, exc: BaseException) -> Failure:
    """The failure of a source that cannot be read."""
    if isinstance(exc, UnicodeDecodeError):
        why = f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start} is not UTF-8"
        fix = "save the file as UTF-8"
    elif isinstance(exc, FileNotFoundError):
        why = "no such file (or a link to a file that does not exist)"
        fix = "pass chapter files or directories that exist, or remove the broken link"
    else:
        why = getattr(exc, "strerror", None) or str(exc)
        fix = "make the file readable"
    return Failure(
        file=file,
        line=1,
        kind="error",
        message="cannot read this source file",
        hint=f"{why}. How to fix: {fix}",
        extra={"type": "unreadable"},
    )


def problem_failure(problem: Problem) -> Failure:
    """A source problem (unreadable, an include that fails, an item a host cuts apart) as a
    located failure of kind ``error``."""
    return Failure(
        file=problem.file,
        line=problem.line,
        kind="error",
        message=problem.message,
        hint=problem.why or None,
        column=problem.column,
        extra={"type": "source"},
    )


def check_document(
    path: str | os.PathLike[str],
    options: Options | None = None,
    text: str | None = None,
    *,
    explicit: Mapping[str, Any] | None = None,
    on_scanned: Callable[[Scanned], None] | None = None,
    on_item: ItemHook | None = None,
) -> Document:
    """Evaluate every item of one source in order; the Document holds failures and count.

    With ``options`` given, they apply as they are. Otherwise the chapter's own options are
    resolved as every host resolves them (project, front matter, then ``explicit`` flags).
    A source that cannot be read, an invalid option or an unreadable include is a located
    failure of the chapter; nothing here raises for bad input. ``on_scanned`` receives the
    chapter's scan and ``on_item(doc, item, outcome)`` every item with its outcome (what a host
    would render, what ``mlsysim impact`` records).
    """
    file = Path(path)
    name = str(file)
    if text is None:
        try:
            text = read_source(file)
        except (OSError, UnicodeDecodeError) as exc:
            doc = Document(name, options)
            doc.failures.append(unreadable(name, exc))
            return doc
    try:
        project = project_of(file)
    except MlsysimError as exc:
        project = None
        config_problem: Failure | None = _config_failure(name, text, exc)
    else:
        config_problem = None
    if options is None:
        try:
            options = chapter_options(file, text, project, explicit)
        except MlsysimError as exc:
            config_problem = config_problem or _config_failure(name, text, exc)
            options = Options.from_mapping({k: v for k, v in (explicit or {}).items() if v})
    doc = Document(name, options, source=text)
    if config_problem is not None:
        doc.failures.append(config_problem)
    if project is not None:
        for line, message in project.problems:
            doc.failures.append(
                Failure(str(project.config_file), line, "error", message, extra={"type": "conf"})
            )
    scanned = scan_source(
        name, text, syntax_for(file, project), root=project.root if project else None
    )
    doc.failures.extend(problem_failure(p) for p in scanned.problems)
    if on_scanned is not None:
        on_scanned(scanned)
    doc.declare_blocks(scanned.items)
    book = _book(project)
    if book is not None:
        book.attach(doc, file)
    for item in scanned.items:
        outcome = run_item(doc, item)
        if on_item is not None:
            on_item(doc, item, outcome)
    if book is not None:
        book.adopt(doc, file)
    if doc.options.fail_mode == "warn":
        for f in doc.failures:
            f.extra["severity"] = "warning"
    return doc


def _book(project: Project | None) -> Any:
    """The shared names of the chapter's book (:mod:`mlsysim.book.shared`), or None."""
    from mlsysim.book.books import book_values

    return book_values(project)


def values_failures(path: Path, seen: set[Path]) -> list[Failure]:
    """The failures of the values file of ``path``'s project (once per project in ``seen``)."""
    try:
        project = project_of(path)
    except MlsysimError:
        return []
    if project is None or project.root in seen:
        return []
    seen.add(project.root)
    book = _book(project)
    doc = book.values_document() if book is not None else None
    if doc is None:
        return []
    return [dataclasses.replace(f, file=_display(path, project.root, f.file)) for f in doc.failures]


def _display(path: Path, root: Path, label: str) -> str:
    """``label`` (relative to ``root``) named as the chapter ``path`` is named."""
    try:
        own = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
    except ValueError:
        own = ""
    text = str(path).replace(os.sep, "/")
    if own and text.endswith(own):
        return text[: len(text) - len(own)] + label
    return f"{root.as_posix()}/{label}"


def _config_failure(file: str, text: str, exc: MlsysimError) -> Failure:
    try:
        _, line = front_matter_options(text, file)
    except MlsysimError:
        line = 0
    return Failure(
        file=file,
        line=line or 1,
        kind="error",
        message=exc.what + (f" (in {exc.where})" if exc.where else ""),
        hint="fix the mlsysim options (project config, front matter or flags)"
        + (f". {exc.why}" if exc.why else ""),
        extra={"type": type(exc).__name__},
    )


@dataclass
class CheckRun:
    """What ``mlsysim check`` found: every checked item (with its failures), in file order."""

    files: int = 0
    items: list[Checked] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    checked: int = 0


def check_sources(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    *,
    explicit: Mapping[str, Any] | None = None,
    on_item: ItemHook | None = None,
    on_document: Callable[[Document], None] | None = None,
) -> CheckRun:
    """Check every source under ``paths``: the files read, each checked item, every failure.

    ``options`` forces one set of options for every file; without it each chapter uses its own
    (see :func:`check_document`) with ``explicit`` on top. A project's ``mlsysim_data_dirs``
    are added before its chapters are checked, as the Sphinx extension adds them.
    ``on_item`` is called after every item, ``on_document(doc)`` after every chapter.
    """
    run = CheckRun()
    added: set[Path] = set()
    books: set[Path] = set()
    for path in iter_sources(paths):
        _add_data_dirs(path, added)
        for f in values_failures(path, books):
            run.failures.append(f)
            run.items.append(Checked.of_failure(f))
        doc = check_document(path, options, explicit=explicit, on_item=on_item)
        if on_document is not None:
            on_document(doc)
        run.files += 1
        run.checked += doc.checked
        run.failures.extend(doc.failures)
        run.items.extend(doc.items())
    return run


def check_paths(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    *,
    explicit: Mapping[str, Any] | None = None,
) -> tuple[int, list[Failure]]:
    """Check every source under ``paths``: (items checked, every failure in file order).

    The short form of ``check_sources()``.
    """
    run = check_sources(paths, options, explicit=explicit)
    return run.checked, run.failures


def add_project_data(path: Path, added: set[Path]) -> None:
    """Add the data folders of ``path``'s project (``mlsysim_data_dirs``) not in ``added``."""
    _add_data_dirs(path, added)


def _add_data_dirs(path: Path, added: set[Path]) -> None:
    try:
        project = project_of(path)
    except MlsysimError:
        return
    if project is None:
        return
    from mlsysim.core.registry import add_data_dir

    for folder in project.data_dirs:
        if folder not in added and folder.is_dir():
            added.add(folder)
            add_data_dir(folder)
