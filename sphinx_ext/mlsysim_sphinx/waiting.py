"""Values that wait for the worker: Sphinx reads on while a chapter's record is on its way.

A book's first build takes its chapters' records from a worker (:mod:`mlsysim_sphinx.worker`)
that needs the engine's start-up (pint, numpy, the registries) before its first record, while
Sphinx reaches its first napkin item sooner. Rather than wait there, a chapter whose record
has not arrived when it is opened *waits*: each inline value written in a plain paragraph
(:func:`may_wait`) is read as a place-holder node and its item held, and the chapter reads on,
and so do the chapters after it. A held chapter is resolved (its record taken, its items
matched against it exactly as a replayed record is, the place-holders replaced by the values,
the engine evaluating the chapter when the record does not fit or never comes) as soon as
every waiting chapter's record is here when a chapter ends, when an item that cannot wait is
read (a value in a title, a derivation, ...), and at the latest when reading ends
(``env-updated``, before the environment is pickled and any page is written).

What the build says is unchanged: while any chapter waits, every napkin failure reported is
held (:func:`mlsysim_sphinx.reporting.hold`) and, once resolved, logged and recorded in the
order an in-process build reports them; a chapter whose reading ended while it waited gets
its banner and item count then, and its doctree is written again
(``Builder.write_doctree``), so pages, stored doctrees, records and the log are those of a
build that waited at every chapter.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from docutils import nodes

from mlsysim_sphinx import reporting
from mlsysim_sphinx.render import napkin_waiting

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

    from mlsysim.book.records import Step
    from mlsysim.book.syntax import Item

__all__ = [
    "begin",
    "hold",
    "may_wait",
    "quoted",
    "read_done",
    "release",
    "release_ready",
    "use_app",
    "waiting",
]


#: the nodes a paragraph may sit in for its values to wait: each a plain container whose
#: text nothing reads while the document is read (a title, term, caption, field or a
#: directive's not yet placed body is read at once: its values are evaluated there)
_PLAIN = frozenset(
    {
        nodes.section,
        nodes.bullet_list,
        nodes.enumerated_list,
        nodes.list_item,
        nodes.block_quote,
        nodes.definition_list,
        nodes.definition_list_item,
        nodes.definition,
        nodes.table,
        nodes.tgroup,
        nodes.thead,
        nodes.tbody,
        nodes.row,
        nodes.entry,
        nodes.container,
    }
)


class _State:
    """The build's waiting chapters (reading order) and those read while one waited."""

    app: Sphinx | None = None
    chapters: list[Any] = []  # noqa: RUF012  (one build at a time)
    read: list[tuple[Any, str, nodes.document]] = []  # noqa: RUF012


def use_app(app: Sphinx) -> None:
    """The build whose doctrees a resolved chapter writes again."""
    _State.app = app
    _State.chapters, _State.read = [], []
    reporting.release()  # (nothing is held from a build that stopped while one waited)


def may_wait(inliner: Any) -> bool:
    """Whether an inline value parsed by ``inliner`` may wait: it is written straight into a
    paragraph placed in the document through plain containers only, by MyST (not the
    reStructuredText parser, whose smart quotes read the text around a value)."""
    from docutils.parsers.rst.states import Inliner

    parent = getattr(inliner, "parent", None)
    if not isinstance(parent, nodes.paragraph) or type(parent) is not nodes.paragraph:
        return False
    if isinstance(inliner, Inliner):
        return False
    node = parent.parent
    while node is not None:
        if isinstance(node, nodes.document):  # (Sphinx 7 roots a document in a subclass)
            return True
        if type(node) not in _PLAIN:
            return False
        node = node.parent
    return False


def quoted(env: BuildEnvironment) -> bool:
    """Whether smart quotes would read a quote next to a waiting value of the document
    being read (in the text of its paragraph): then its chapter is resolved before they
    run."""
    chapter = env.temp_data.get(reporting.CHAPTER_KEY)
    if chapter is None or not chapter.waiting:
        return False
    for _, node in chapter.held:
        parent = None if node is None else node.parent
        if parent is not None and ('"' in parent.astext() or "'" in parent.astext()):
            return True
    return False


def waiting() -> bool:
    """Whether a chapter waits for its record (every report is held meanwhile)."""
    return bool(_State.chapters)


def begin(chapter: Any) -> None:
    """``chapter`` waits for its record (from its first item on)."""
    chapter.waiting = True
    _State.chapters.append(chapter)
    reporting.hold()


def hold(env: BuildEnvironment, chapter: Any, item: Item, node: napkin_waiting | None) -> None:
    """Hold ``item`` of a waiting chapter (``node``: its place-holder, None for a block);
    its failures are reported in their turn."""
    chapter.held.append((item, node))
    index = len(chapter.held) - 1
    reporting.held_entry(env, lambda env: _report_step(env, chapter.held_steps[index]))


def _report_step(env: BuildEnvironment, step: Step) -> None:
    for failure in step.failures:
        reporting.report(env, failure)


def read_done(chapter: Any, docname: str, doctree: nodes.document) -> None:
    """A chapter whose reading ended while one waits: finished when they are resolved."""
    _State.read.append((chapter, docname, doctree))


def release(
    env: BuildEnvironment,
    finish: Callable[[BuildEnvironment, Any, nodes.document], bool],
    current: str | None = None,
) -> None:
    """Resolve every waiting chapter (waiting for their records), report what was held in
    order, and ``finish`` each chapter read meanwhile (it says whether it changed the
    doctree: then the doctree is written again, unless it is ``current``'s, not yet
    written)."""
    for chapter in _State.chapters:
        _resolve(chapter)
    _State.chapters = []
    for docname, chapter, what in reporting.release():
        with _reading(env, docname, chapter):
            if callable(what):
                what(env)
            else:
                reporting.report(env, what)
    done, _State.read = _State.read, []
    _finish_all(env, finish, current, done)


def release_ready(
    env: BuildEnvironment,
    finish: Callable[[BuildEnvironment, Any, nodes.document], bool],
    current: str | None = None,
) -> None:
    """Resolve the waiting chapters whose records are here, from the first, and report
    and finish what came before the first that still waits (:func:`release` when none
    does): a record is not kept longer than its chapter needs it."""
    from mlsysim_sphinx import worker

    while _State.chapters and worker.arrived(_State.chapters[0].key):
        _resolve(_State.chapters.pop(0))
    if not _State.chapters:
        release(env, finish, current)
        return
    first = _State.chapters[0]
    still = {id(chapter) for chapter in _State.chapters}
    with reporting.unheld():
        for docname, chapter, what in reporting.release_front(lambda c: id(c) not in still):
            with _reading(env, docname, chapter):
                if callable(what):
                    what(env)
                else:
                    reporting.report(env, what)
    k = next((k for k, (c, _, _) in enumerate(_State.read) if c is first), len(_State.read))
    done, _State.read = _State.read[:k], _State.read[k:]
    _finish_all(env, finish, current, done)


def _finish_all(
    env: BuildEnvironment,
    finish: Callable[[BuildEnvironment, Any, nodes.document], bool],
    current: str | None,
    done: list[tuple[Any, str, nodes.document]],
) -> None:
    for chapter, docname, doctree in done:
        with _reading(env, docname, chapter):
            changed = finish(env, chapter, doctree)
        if changed and docname != current and _State.app is not None:
            _State.app.builder.write_doctree(docname, doctree)


def _resolve(chapter: Any) -> None:
    """Take the chapter's record and fill its held items from it, as a replayed record is
    matched (the engine evaluates them, from the first, when it does not fit or is none)."""
    from mlsysim.book.records import item_key
    from mlsysim.book.records import step as run_step
    from mlsysim_sphinx import worker

    items = [item for item, _ in chapter.held]
    record = worker.take(chapter.key)
    steps: list[Step] | None = None
    if record is not None:
        pending = record.replay()
        steps = []
        for item in items:
            step = next(pending, None)
            if step is None or step.item != item_key(item):
                steps = None
                break
            steps.append(step)
        if steps is not None:
            chapter.replaying, chapter.pending, chapter.ahead = record, pending, True
            chapter.ran.extend(items)
    chapter.waiting = False
    if steps is None:
        chapter.replaying = chapter.pending = None
        chapter.ahead = False
        doc = chapter.live()
        steps = []
        for item in items:
            kept = run_step(doc, item)[1]
            if chapter.recordable:
                chapter.steps.append(kept)
            steps.append(kept)
    chapter.held_steps = steps
    for (_, node), step in zip(chapter.held, steps, strict=True):
        if node is not None:
            _fill(node, step)


def _fill(node: napkin_waiting, step: Step) -> None:
    """The value in place of its place-holder (as the role would have written it)."""
    from mlsysim_sphinx.render import value_node

    parent = node.parent
    if parent is None:
        return
    index = next(k for k, child in enumerate(parent.children) if child is node)
    if step.rendered is None:
        del parent.children[index]
        return
    rendered: Any = step.rendered  # (a rendering's fields, as a replayed step's)
    value = value_node("", rendered, failed=not step.ok)
    value.__dict__.update(vars(node))
    parent.children[index] = value


@contextlib.contextmanager
def _reading(env: BuildEnvironment, docname: str, chapter: Any) -> Iterator[None]:
    """Report and finish as while ``docname`` was read (its name and napkin state)."""
    from mlsysim_sphinx.reporting import CHAPTER_KEY

    data = env.temp_data  # (a dict before Sphinx 8.2, then a mapping over the document)
    saved = [(key, key in data, data.get(key)) for key in ("docname", CHAPTER_KEY)]
    data["docname"] = docname
    data[CHAPTER_KEY] = chapter
    try:
        yield
    finally:
        for key, had, value in saved:
            if had:
                data[key] = value
            else:
                data.pop(key, None)
