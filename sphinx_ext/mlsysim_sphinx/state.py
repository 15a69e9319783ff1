"""The napkin state of the document being read: its live engine document, or a record that
replays (stored by an earlier build, :mod:`mlsysim_sphinx.replay`, or made by the worker
that evaluated the chapter ahead, :mod:`mlsysim_sphinx.worker`).

Reading a document creates one :class:`mlsysim.book.Document` (its bindings, in source order)
kept in ``env.temp_data``, or replays a record of the same chapter, data and code without the
engine. Each role or directive asks :func:`run` for its item's result; a record that does
not fit the items the document runs gives way to the engine, from the chapter's first item.
Failures are reported as they are found (:mod:`mlsysim_sphinx.reporting`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlsysim_sphinx import waiting
from mlsysim_sphinx.reading import needs_engine, note_data_files
from mlsysim_sphinx.reporting import (
    CHAPTER_KEY,
    SUBTYPES,
    DocRecord,
    on_build_finished,
    on_env_merge_info,
    on_env_purge_doc,
    records,
    report,
    source_name,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from docutils import nodes
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

    from mlsysim.book import Document
    from mlsysim.book.failures import Failure
    from mlsysim.book.records import Chapter, Record, Step
    from mlsysim.book.sources.locate import Locator
    from mlsysim.book.syntax import Item

__all__ = [
    "SUBTYPES",
    "DocRecord",
    "document_for",
    "hold",
    "located",
    "on_build_finished",
    "on_doctree_read",
    "on_env_before_read_docs",
    "on_env_merge_info",
    "on_env_purge_doc",
    "on_env_updated",
    "records",
    "report",
    "resolve",
    "run",
    "source_name",
]


class _Chapter:
    """The napkin state of the document being read: its live engine document (None while a
    record replays), the scanned items' locator, and the record being made or replayed."""

    def __init__(self, env: BuildEnvironment, locator: Locator, source: Chapter) -> None:
        self.env = env
        self.locator = locator
        self.source = source
        self.doc: Document | None = None
        self.key: str | None = None  # None: not recorded (an option error)
        self.recordable = True
        self.steps: list[Step] = []
        self.replaying: Record | None = None
        self.ahead = False  # the record is the worker's (stored once the chapter is read)
        self.pending: Iterator[Step] | None = None
        self.ran: list[Item] = []  # items replayed so far (run again if the engine starts)
        self.waiting = False  # the worker's record is on its way (:mod:`.waiting`)
        self.held: list[tuple[Item, Any]] = []  # items read while waiting, their places
        self.held_steps: list[Step] = []  # their results, once resolved

    @property
    def fail_mode(self) -> str:
        if self.doc is not None:
            return str(self.doc.options.fail_mode)
        return str(self.source.options.fail_mode)

    def live(self) -> Document:
        """The engine's document; started (with every item replayed so far run again,
        their failures reported already) when a record was replaying."""
        if self.doc is None:
            from mlsysim.book.records import chapter_document

            self.doc = chapter_document(self.source)
            if self.replaying is not None:
                from mlsysim.book.items import run_item

                self.replaying = self.pending = None
                self.ahead = False
                for item in self.ran:
                    run_item(self.doc, item)
            self.recordable = False if self.ran else self.recordable
        return self.doc


def _state(env: BuildEnvironment) -> _Chapter:
    state = env.temp_data.get(CHAPTER_KEY)
    if state is None:
        state = env.temp_data[CHAPTER_KEY] = _open_chapter(env)
    return state


def _open_chapter(env: BuildEnvironment) -> _Chapter:
    """The document of ``env.docname`` (:func:`mlsysim_sphinx.reading.read`). A stored
    record of the same chapter, data and code replays instead of the engine, or else the
    worker's record of it."""
    from mlsysim.book.sources.locate import Locator
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim_sphinx import replay, worker
    from mlsysim_sphinx.reading import blind_failures, read

    source = read(env, env.docname)
    blind = blind_failures(env, source.scanned.problems)
    chapter = _Chapter(env, Locator(source.items), source.chapter(env, env.docname, []))
    chapter.key = source.key
    if source.key is not None:
        chapter.replaying = replay.load(source.key)
        if chapter.replaying is None and worker.awaits(source.key):
            if worker.arrived(source.key):
                chapter.replaying = worker.take(source.key)
                chapter.ahead = chapter.replaying is not None
            else:  # read on: its values wait for the record (mlsysim_sphinx.waiting)
                waiting.begin(chapter)
    if chapter.replaying is not None:
        chapter.pending = chapter.replaying.replay()
    elif not chapter.waiting:
        chapter.live()
    _report_blind(env, chapter, blind)
    note_data_files(env)
    records(env).setdefault(env.docname, DocRecord())
    if source.problem is not None:
        from mlsysim.book.sources.frontmatter import front_matter_options

        try:
            line = front_matter_options(source.text, source.rel)[1] or 1
        except MlsysimError:
            line = 1
        doc = chapter.live()
        doc.record("error", source.problem, "mlsysim options", line, None, None)
        report(env, doc.failures[-1])
    return chapter


def _report_blind(env: BuildEnvironment, chapter: _Chapter, failures: list[Failure]) -> None:
    """Items MyST cuts apart (a ``|`` in a table cell): no role ever sees them, so the
    scan's problem is reported here, as ``mlsysim check`` reports it."""
    from dataclasses import replace

    if not failures:
        return
    chapter.source = replace(chapter.source, blind=tuple(failures))
    for failure in failures:
        if chapter.doc is not None:
            chapter.doc.failures.append(failure)
        report(env, failure)


def run(env: BuildEnvironment, item: Item) -> Any:
    """The result of ``item`` (``ok``, ``rendered``, ``cites``) in the document being read,
    its failures reported: from the engine, or from the chapter's record."""
    from mlsysim.book.records import item_key

    chapter = _state(env)
    if chapter.waiting:  # an item that cannot wait: every waiting chapter is resolved now
        waiting.release(env, _finish_read)
    if chapter.pending is not None:
        step = next(chapter.pending, None)
        if step is not None and step.item == item_key(item):
            chapter.ran.append(item)
            for failure in step.failures:
                report(env, failure)
            return step
        chapter.live()  # the record does not fit: the engine evaluates from here on
    from mlsysim.book.records import step as run_step

    outcome, kept = run_step(chapter.live(), item)
    for failure in kept.failures:
        report(env, failure)
    if chapter.recordable:  # what the roles and directives that call this use of it
        chapter.steps.append(kept)
    return outcome


def hold(env: BuildEnvironment, item: Item, node: Any) -> bool:
    """Hold ``item`` (``node``: the place of its value, None for a block) when its chapter
    waits for its record (:mod:`mlsysim_sphinx.waiting`); False: run it now (:func:`run`)."""
    chapter = _state(env)
    if not chapter.waiting:
        return False
    waiting.hold(env, chapter, item, node)
    return True


def _banner(env: BuildEnvironment) -> Any:
    """The engine's banner of the failures reported on this page (None when none)."""
    mine = records(env).setdefault(env.docname, DocRecord())
    if not mine.failures:
        return None
    from mlsysim.book.drafts import failure_banner

    return failure_banner(mine.failures)


def _finish(env: BuildEnvironment, chapter: _Chapter) -> tuple[int, Any]:
    """At the end of the chapter's read: the number of items checked and the banner of its
    failures (None when none failed); a chapter the engine or the worker read stores its
    record, a replayed one takes its shared names and banner from its record."""
    from dataclasses import replace

    from mlsysim.book.records import record as make_record
    from mlsysim.book.records import shown
    from mlsysim_sphinx import replay

    mine = records(env).setdefault(env.docname, DocRecord())
    record = chapter.replaying
    if record is not None and next(chapter.pending or iter(()), None) is not None:
        record = None  # fewer items than recorded: count them with the engine
        chapter.live()
    if record is not None:
        for name in record.files_read:
            env.note_dependency(name)
        mine.shared = set(record.asked)
        if not chapter.ahead:
            return record.checked, record.banner
        # the worker's record: the banner lists every failure reported here, as a read by
        # the engine does, and the record is stored as that read would store it
        banner = shown(_banner(env))
        if chapter.key is not None:
            replay.save(chapter.key, replace(record, banner=banner))
        return record.checked, banner
    from mlsysim_sphinx.outdated import note_shared

    doc = chapter.live()
    note_shared(env, doc)
    banner = _banner(env)
    if chapter.recordable and chapter.key is not None:
        replay.save(chapter.key, make_record(doc, chapter.steps, banner))
    return int(doc.checked), banner


def document_for(env: BuildEnvironment) -> Document:
    """The napkin scope of the document being read (created on its first napkin item).

    Creating it also declares every registry data file a dependency of the document, so a
    changed data file makes Sphinx re-read exactly the documents that use napkin math. A
    chapter whose items need the document itself (tables, plots, cards) is not recorded.
    """
    chapter = _state(env)
    doc = chapter.live()
    chapter.recordable = False
    return doc


def located(env: BuildEnvironment, kind: str, text: str, line: int) -> Item:
    """The scanned item behind a role or directive of ``kind`` with ``text`` (its exact line,
    column and text); a host-made item at ``line`` when the scanner has no such item (e.g.
    one a substitution produced)."""
    from mlsysim.book.syntax import Item

    found = _state(env).locator.match(kind, text)
    if found is not None:
        return found
    return Item(kind, text, line)  # type: ignore[arg-type]


def on_env_before_read_docs(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """A parallel build (``-j N``) loads the registries before its readers fork, unless every
    document it reads replays a stored record (then none starts the engine)."""
    waiting.use_app(app)
    if getattr(app, "parallel", 1) > 1 and docnames and needs_engine(env, docnames):
        from mlsysim_sphinx.config import preload_registries

        preload_registries()


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """Store how many napkin items the document held (for the summary), and put the engine's
    banner of the page's failures at its top (a draft shows what failed)."""
    env = app.env
    state = env.temp_data.get(CHAPTER_KEY)
    if waiting.waiting():  # finished once the chapters that wait are resolved
        if state is not None:
            waiting.read_done(state, env.docname, doctree)
        waiting.release_ready(env, _finish_read, env.docname)
        return
    if state is not None:
        _finish_read(env, state, doctree)


def resolve(env: BuildEnvironment) -> None:
    """Resolve every waiting chapter now (the one being read included)."""
    if waiting.waiting():
        waiting.release(env, _finish_read)


def on_env_updated(app: Sphinx, env: BuildEnvironment) -> None:
    """Reading ended: every chapter that still waits is resolved (and finished)."""
    if waiting.waiting():
        waiting.release(env, _finish_read)


def _finish_read(env: BuildEnvironment, state: _Chapter, doctree: nodes.document) -> bool:
    """The end of a chapter's read (:func:`_finish`): its count stored and its banner put
    in; whether its doctree changed since its items were read."""
    checked, banner = _finish(env, state)
    records(env).setdefault(env.docname, DocRecord()).checked = checked
    if banner is not None:
        from mlsysim_sphinx.render import banner_node

        _insert_at_top(doctree, banner_node(banner))
    return banner is not None or bool(state.held)


def _insert_at_top(doctree: nodes.document, node: nodes.Node) -> None:
    """After the page's title (or at its start when it has none)."""
    from docutils import nodes as dn

    section = next(iter(doctree.findall(dn.section)), None)
    if section is not None and section.children and isinstance(section[0], dn.title):
        section.insert(1, node)
    else:
        doctree.insert(0, node)
