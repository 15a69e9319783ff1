"""A chapter's napkin results as plain data: what a host keeps, replays, or takes from a
worker that evaluated the chapter ahead of it (:mod:`mlsysim.book.ahead`).

Evaluating a chapter for a host is: one :class:`~mlsysim.book.Document` per chapter
(:func:`chapter_document`: its options and text, the book's shared names, its blocks
declared, the scan's problems as its first failures), each item run in source order
(:func:`step`), and, once read, the items checked and the shared names it asked for
(:func:`record`). A host that reads item by item (Sphinx) calls these as it goes; a worker
calls :func:`evaluate` for the whole chapter. Both give the same :class:`Record`.

Nothing here imports pint, numpy, pydantic or a layer until a chapter is evaluated: a host
that only replays records stays light.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlsysim.book.document import Document
    from mlsysim.book.failures import Failure
    from mlsysim.book.options import Options
    from mlsysim.book.syntax import Item

__all__ = [
    "RECORDED_KINDS",
    "Chapter",
    "Record",
    "Shown",
    "Step",
    "chapter_document",
    "evaluate",
    "item_key",
    "record",
    "relative",
    "shown",
    "step",
]


@dataclass(frozen=True, slots=True)
class Shown:
    """A rendering as the engine gave it (:class:`mlsysim.viz.rendered.Rendered`'s fields),
    held without importing the engine."""

    text: str
    latex: str
    html: str
    markdown: str
    math: bool = True

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its fields in order: a frozen slotted dataclass's own pickling is ten
        times slower, and a book's records hold one rendering per item."""
        return (Shown, _SHOWN_FIELDS(self))


_SHOWN_FIELDS = attrgetter(*Shown.__slots__)


@dataclass(frozen=True, slots=True)
class Step:
    """One item's result: the item (kind, text, line, column, file, attrs), whether it
    passed, its rendering, its failures and the citation ids of the values it used."""

    item: tuple[Any, ...]
    ok: bool
    rendered: Shown | None
    failures: tuple[Any, ...] = ()
    cites: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its fields in order (as :class:`Shown`)."""
        return (Step, _STEP_FIELDS(self))


_STEP_FIELDS = attrgetter(*Step.__slots__)


@dataclass
class Record:
    """What reading one chapter gave: its steps, items checked, the book's files its shared
    values came from with the names it asked for, and the banner of its failures."""

    steps: list[Step] = field(default_factory=list)
    checked: int = 0
    files_read: tuple[str, ...] = ()
    asked: tuple[str, ...] = ()
    banner: Shown | None = None  # the page's failures, as the engine listed them

    def replay(self) -> Iterator[Step]:
        return iter(self.steps)


@dataclass(frozen=True)
class Chapter:
    """What a chapter is evaluated from, read and scanned by the host: its name in failures,
    its path, resolved options and text; its items as scanned (declared to the document) and
    as the host runs them (included files' items named relative to the source folder); the
    scan's failures that no item reports (the host reports them itself)."""

    name: str
    path: str
    options: Options
    text: str
    scanned: Sequence[Item]
    items: Sequence[Item]
    blind: Sequence[Failure] = ()


#: the kinds of item whose results a record holds whole (a table, plot or reference card is
#: rendered from the engine's own objects: a chapter holding one is evaluated by the host)
RECORDED_KINDS = frozenset({"block", "inline", "claim", "eq"})


def item_key(item: Any) -> tuple[Any, ...]:
    """What identifies a scanned item in a record."""
    attrs = tuple(sorted((str(k), str(v)) for k, v in (item.attrs or {}).items()))
    return (item.kind, item.text, item.line, item.column, item.file, attrs)


def shown(rendered: Any) -> Shown | None:
    """A rendering kept as plain fields (None stays None)."""
    if rendered is None:
        return None
    return Shown(rendered.text, rendered.latex, rendered.html, rendered.markdown, rendered.math)


def chapter_document(chapter: Chapter) -> Document:
    """The engine's document of ``chapter``, with the book's shared names."""
    from mlsysim.book import Document
    from mlsysim.book.books import share

    doc = Document(chapter.name, chapter.options, source=chapter.text)
    share(doc, chapter.path)
    doc.declare_blocks(list(chapter.scanned))
    doc.failures.extend(chapter.blind)
    return doc


def step(doc: Document, item: Item) -> tuple[Any, Step]:
    """Run ``item`` in ``doc``: the engine's outcome and the step a record keeps of it."""
    from mlsysim.book.items import run_item

    before = len(doc.failures)
    outcome = run_item(doc, item)
    kept = Step(
        item_key(item),
        outcome.ok,
        shown(outcome.rendered),
        tuple(doc.failures[before:]),
        tuple(outcome.cites),
    )
    return outcome, kept


def record(doc: Document, steps: list[Step], banner: Any = None) -> Record:
    """The record of a read chapter: its steps, items checked, the book files its shared
    values came from, the shared names it asked for, and ``banner`` (a rendering or None)."""
    link = doc.scope.shared
    files = sorted(link.book.files_read(link.file)) if link is not None else []
    return Record(
        steps,
        int(doc.checked),
        tuple(str(f) for f in files),
        tuple(sorted(doc.scope.asked)),
        shown(banner),
    )


def evaluate(chapter: Chapter) -> Record:
    """Every item of ``chapter`` run in source order, as a host reading it would (the banner
    is the host's to make: it lists the failures the host itself reports too)."""
    doc = chapter_document(chapter)
    steps = [step(doc, item)[1] for item in chapter.items]
    return record(doc, steps)


def relative(items: Sequence[Item], root: str | os.PathLike[str]) -> list[Item]:
    """Included files' items named relative to ``root`` with ``/``, as a book's own are."""
    from dataclasses import replace

    out = []
    for item in items:
        if item.file is not None:
            name = os.path.relpath(item.file, root).replace(os.sep, "/")
            item = replace(item, file=name)
        out.append(item)
    return out
