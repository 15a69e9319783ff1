"""Per-document napkin scope, failure records in the environment, and the end-of-build verdict.

Reading a document creates one :class:`mlsysim.book.Document` (its bindings, in source order)
kept in ``env.temp_data``, or, when the same chapter, data and code were read before, replays
that read's stored results without the engine (:mod:`mlsysim_sphinx.replay`). Every failure
is logged at once with its exact location and also stored per docname in the environment,
so that:

* parallel reads (``-j N``) merge their records (``env-merge-info``);
* re-reading a document drops its old records first (``env-purge-doc``);
* an incremental build that re-reads nothing still knows the book is broken, re-prints the
  summary at ``build-finished`` and exits 1 (``app.statuscode``), without ``-W``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sphinx.util import logging

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from docutils import nodes
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

    from mlsysim.book import Document
    from mlsysim.book.failures import Failure
    from mlsysim.book.sources.locate import Locator
    from mlsysim.book.syntax import Item
    from mlsysim_sphinx.replay import Record, Step

__all__ = [
    "SUBTYPES",
    "DocRecord",
    "data_key",
    "document_for",
    "located",
    "needs_engine",
    "on_build_finished",
    "on_doctree_read",
    "on_env_before_read_docs",
    "on_env_get_outdated",
    "on_env_merge_info",
    "on_env_purge_doc",
    "records",
    "report",
    "run",
    "source_name",
]

logger = logging.getLogger(__name__)

#: Failure.kind -> Sphinx warning subtype (shown as ``[mlsysim.<subtype>]``): the failure's
#: own name, as in every report (``mlsysim.check``, ``mlsysim.claim``, ``mlsysim.error``)
SUBTYPES = {"check": "check", "claim": "claim", "error": "error"}

_DOC_KEY = "mlsysim_document"
_ENV_ATTR = "mlsysim_records"
_KEY_ATTR = "mlsysim_data_key"


@dataclass
class DocRecord:
    """What reading one document found: napkin items checked and failures (in source order)."""

    checked: int = 0
    failures: list[Failure] = field(default_factory=list)
    #: names the document asked of the book (found or not): re-read when they move
    shared: set[str] = field(default_factory=set)


def records(env: BuildEnvironment) -> dict[str, DocRecord]:
    """docname -> :class:`DocRecord`, stored (and pickled) on the environment."""
    recs: dict[str, DocRecord] | None = getattr(env, _ENV_ATTR, None)
    if recs is None:
        recs = {}
        setattr(env, _ENV_ATTR, recs)
    return recs


class _Chapter:
    """The napkin state of the document being read: its live engine document (None while a
    stored record replays), the scanned items' locator, and the record being made or
    replayed (:mod:`mlsysim_sphinx.replay`)."""

    def __init__(self, env: BuildEnvironment, locator: Locator, options: Any) -> None:
        self.env = env
        self.locator = locator
        self.options = options
        self.doc: Document | None = None
        self.key: str | None = None  # None: not recorded (an option error)
        self.recordable = True
        self.steps: list[Step] = []
        self.replaying: Record | None = None
        self.pending: Iterator[Step] | None = None
        self.ran: list[Item] = []  # items replayed so far (run again if the engine starts)
        self.blind: list[Failure] = []
        self.text = ""
        self.scanned: list[Item] = []  # as scanned (the engine declares its blocks)

    @property
    def fail_mode(self) -> str:
        if self.doc is not None:
            return str(self.doc.options.fail_mode)
        return str(self.options.fail_mode)

    def live(self) -> Document:
        """The engine's document; started (with every item replayed so far run again,
        their failures reported already) when a record was replaying."""
        if self.doc is None:
            self.doc = _engine_document(self.env, self)
            if self.replaying is not None:
                from mlsysim.book.items import run_item

                self.replaying = self.pending = None
                for item in self.ran:
                    run_item(self.doc, item)
            self.recordable = False if self.ran else self.recordable
        return self.doc


def _state(env: BuildEnvironment) -> _Chapter:
    state = env.temp_data.get(_DOC_KEY)
    if state is None:
        state = env.temp_data[_DOC_KEY] = _open_chapter(env)
    return state


@dataclass
class _Source:
    """What a chapter's results are computed from, read before any item runs."""

    rel: str
    text: str
    options: Any
    problem: Exception | None
    scanned: Any  # the scan (items as scanned, problems)
    items: list[Item]  # included files' items named relative to the source folder
    key: str | None  # of its stored record (None: an option error, never recorded)


def _source(env: BuildEnvironment, docname: str, *, keep: bool = False) -> _Source:
    """Document ``docname`` read: options resolved as every host resolves them (conf.py,
    then the chapter's front matter), and its items scanned with the same scanner ``mlsysim
    check`` uses, so each role and directive is evaluated exactly as check does. ``keep``:
    leave the book's pre-pass scan to the chapter's reading."""
    from mlsysim.book import fingerprints
    from mlsysim.book.books import book_values, project_at
    from mlsysim.book.sources import read_source, scan_source
    from mlsysim.book.sources.project import chapter_options, myst_syntax
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim_sphinx import replay
    from mlsysim_sphinx.config import config_mapping

    rel = Path(env.doc2path(docname, base=False)).as_posix()
    path = Path(env.doc2path(docname))
    try:
        text = read_source(path)
    except (OSError, UnicodeDecodeError):
        text = ""
    problem = None
    try:
        options = chapter_options(path, text, None, host=config_mapping(env.config))
    except MlsysimError as exc:
        options, problem = None, exc
    myst = myst_syntax(getattr(env.config, "myst_enable_extensions", None) or ())
    syntax = "rst" if path.suffix == ".rst" else myst
    book = book_values(project_at(path))
    scanned = book.scanned(path, text, syntax, keep=keep) if book is not None else None
    if scanned is None:  # else the book's pre-pass scanned this very text
        scanned = scan_source(str(path), text, syntax, root=Path(env.srcdir))
    items = _relative(env, scanned.items)
    key = None
    if problem is None:
        key = replay.chapter_key(
            [
                rel,
                text,
                syntax,
                options,
                [replay.item_key(i) for i in items],
                *_book_key(book),
                _data_key(env),
                fingerprints.engine_key(Path(__file__).resolve().parent),
                _spec_key(),
            ]
        )
    return _Source(rel, text, options, problem, scanned, items, key)


def needs_engine(env: BuildEnvironment, docnames: Iterable[str]) -> bool:
    """Whether reading ``docnames`` will start the engine: one of them has napkin items and
    no stored record (``-j N`` loads the registries before its readers fork only then)."""
    from mlsysim_sphinx import replay

    for docname in docnames:
        source = _source(env, docname, keep=True)
        if source.scanned.items and (source.key is None or not replay.stored(source.key)):
            return True
    return False


def _open_chapter(env: BuildEnvironment) -> _Chapter:
    """The document of ``env.docname`` (:func:`_source`). A stored record of the same
    chapter, data and code replays instead of the engine."""
    from mlsysim.book.sources.locate import Locator
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim_sphinx import replay

    source = _source(env, env.docname)
    chapter = _Chapter(env, Locator(source.items), source.options)
    chapter.text, chapter.scanned = source.text, source.scanned.items
    chapter.key = source.key
    if source.key is not None:
        chapter.replaying = replay.load(source.key)
    if chapter.replaying is not None:
        chapter.pending = chapter.replaying.replay()
    else:
        chapter.live()
    _report_blind(env, chapter, source.scanned.problems)
    for data_file in _data_files():
        env.note_dependency(data_file)
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


def _engine_document(env: BuildEnvironment, chapter: _Chapter) -> Document:
    """The engine's document of the chapter being read, with the book's shared names."""
    from mlsysim.book import Document
    from mlsysim.book.books import share

    path = Path(env.doc2path(env.docname))
    doc = Document(source_name(env), chapter.options, source=chapter.text)
    share(doc, path)
    doc.declare_blocks(chapter.scanned)
    doc.failures.extend(chapter.blind)
    return doc


#: id of the book (kept alive here) -> its part of every chapter's record key
_BOOK_KEYS: dict[int, tuple[Any, list[Any]]] = {}


def _book_key(book: Any) -> list[Any]:
    """What a chapter's shared values may come from: where each shared name is defined and,
    when the book defines any, every file of the book (computed once per book)."""
    if book is None:
        return [None]
    held = _BOOK_KEYS.get(id(book))
    if held is not None and held[0] is book:
        return held[1]
    import hashlib

    places = book.places()
    h = hashlib.sha256()
    if places or book.values_file is not None:
        files = [*book.files.values(), *([book.values_file] if book.values_file else [])]
        for f in files:
            h.update(str(f).encode())
            try:
                h.update(Path(f).read_bytes())
            except OSError:
                h.update(b"<unreadable>")
    key = [str(book.root), places, h.hexdigest()]
    _BOOK_KEYS.clear()
    _BOOK_KEYS[id(book)] = (book, key)
    return key


def _data_key(env: BuildEnvironment) -> str:
    key = getattr(env, _KEY_ATTR, None)
    return key if isinstance(key, str) else data_key()


def _spec_key() -> Any:
    """The registries' kinds and the sources of their spec modules, a project's own included
    (the catalog's record of what it was built from)."""
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.core.registry import catalog

    try:
        cat = catalog()
    except MlsysimError:
        return None  # a broken data file: its bytes are in the key
    return sorted(cat.code.items()), sorted(cat.kind_specs.items())


def run(env: BuildEnvironment, item: Item) -> Any:
    """The result of ``item`` (``ok``, ``rendered``, ``cites``) in the document being read,
    its failures reported: from the engine, or from the chapter's stored record."""
    from mlsysim_sphinx import replay

    chapter = _state(env)
    if chapter.pending is not None:
        step = next(chapter.pending, None)
        if step is not None and step.item == replay.item_key(item):
            chapter.ran.append(item)
            for failure in step.failures:
                report(env, failure)
            return step
        chapter.live()  # the record does not fit: the engine evaluates from here on
    from mlsysim.book.items import run_item

    doc = chapter.live()
    before = len(doc.failures)
    outcome = run_item(doc, item)
    failures = doc.failures[before:]
    for failure in failures:
        report(env, failure)
    if chapter.recordable:  # what the roles and directives that call this use of it
        chapter.steps.append(
            replay.Step(
                replay.item_key(item),
                outcome.ok,
                replay.shown(outcome.rendered),
                tuple(failures),
                tuple(outcome.cites),
            )
        )
    return outcome


def _finish(env: BuildEnvironment, chapter: _Chapter) -> tuple[int, Any]:
    """At the end of the chapter's read: the number of items checked and the banner of its
    failures (None when none failed); a chapter the engine read stores its record, a
    replayed one takes its shared names and banner from its record."""
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
        return record.checked, record.banner
    doc = chapter.live()
    _note_shared(env, doc)
    banner = None
    if mine.failures:
        from mlsysim.book.drafts import failure_banner

        banner = failure_banner(mine.failures)
    if chapter.recordable and chapter.key is not None:
        link = doc.scope.shared
        files = sorted(link.book.files_read(link.file)) if link is not None else []
        replay.save(
            chapter.key,
            replay.Record(
                chapter.steps,
                int(doc.checked),
                tuple(str(f) for f in files),
                tuple(sorted(doc.scope.asked)),
                replay.shown(banner),
            ),
        )
    return int(doc.checked), banner


_DEFINITIONS_ATTR = "mlsysim_definitions"


def _book(env: BuildEnvironment) -> Any:
    """The shared names of the book (:mod:`mlsysim.book.shared`) as its files are now, kept
    for the rest of the build (its sources do not change while it runs; every chapter read
    takes this book instead of listing the project's files again). The names each unchanged
    chapter binds come from the environment (an incremental build scans only what changed)."""
    from mlsysim.book.books import pin, project_at, unpin

    unpin()
    book = pin(project_at(Path(env.srcdir) / "conf.py"), getattr(env, _DEFINITIONS_ATTR, None))
    setattr(env, _DEFINITIONS_ATTR, book.known if book is not None else None)
    return book


def _note_shared(env: BuildEnvironment, doc: Document) -> None:
    """Make the files the document's shared values came from its dependencies, and keep the
    names it asked of the book (a name that appears, moves or doubles re-reads it)."""
    link = doc.scope.shared
    if link is None:
        return
    for path in sorted(link.book.files_read(link.file)):
        env.note_dependency(str(path))
    records(env).setdefault(env.docname, DocRecord()).shared = set(doc.scope.asked)


_PLACES_ATTR = "mlsysim_shared_places"
_VALUES_DOC = "mlsysim-values"


def _shared_outdated(env: BuildEnvironment) -> set[str]:
    """Documents to re-read because a shared name they use, or define, was added, moved or
    doubled since the last build; the values file's failures recorded under its own name."""
    book = _book(env)
    places = book.places() if book is not None else {}
    old: dict[str, tuple[str, ...]] = getattr(env, _PLACES_ATTR, None) or {}
    setattr(env, _PLACES_ATTR, places)
    changed = {n for n in set(old) | set(places) if old.get(n) != places.get(n)}
    out: set[str] = set()
    if changed:
        for docname, rec in records(env).items():
            if getattr(rec, "shared", set()) & changed:
                out.add(docname)
        for n in changed:
            for place in (*old.get(n, ()), *places.get(n, ())):
                definer = env.path2doc(str(Path(env.srcdir) / place.rsplit(":", 1)[0]))
                if definer is not None:
                    out.add(definer)
    _values_record(env, book)
    return out


def _values_record(env: BuildEnvironment, book: Any) -> None:
    recs = records(env)
    recs.pop(_VALUES_DOC, None)
    doc = book.values_document() if book is not None else None
    if doc is None or not doc.failures:
        return
    recs[_VALUES_DOC] = DocRecord(doc.checked, [])
    for failure in doc.failures:
        logger.error(
            _describe(failure),
            location=failure_location(failure),
            type="mlsysim",
            subtype=SUBTYPES.get(failure.kind, "error"),
        )
        recs[_VALUES_DOC].failures.append(failure)


def _report_blind(env: BuildEnvironment, chapter: _Chapter, problems: list[Any]) -> None:
    """Items MyST cuts apart (a ``|`` in a table cell): no role ever sees them, so the
    scan's problem is reported here, as ``mlsysim check`` reports it."""
    import os
    from dataclasses import replace

    for problem in problems:
        if problem.blind:
            from mlsysim.book.sources.check import problem_failure  # (the engine's wording)

            name = os.path.relpath(problem.file, env.srcdir).replace(os.sep, "/")
            failure = problem_failure(replace(problem, file=name))
            chapter.blind.append(failure)
            if chapter.doc is not None:
                chapter.doc.failures.append(failure)
            report(env, failure)


def _relative(env: BuildEnvironment, items: list[Any]) -> list[Any]:
    """Included files' items named relative to the source folder, as the book's own are."""
    import os
    from dataclasses import replace

    out = []
    for item in items:
        if item.file is not None:
            item = replace(item, file=os.path.relpath(item.file, env.srcdir).replace(os.sep, "/"))
        out.append(item)
    return out


def source_name(env: BuildEnvironment) -> str:
    """The document's source file relative to the source folder, with ``/`` (Sphinx 7.2 gives
    a ``str`` here, later releases a path)."""
    return Path(env.doc2path(env.docname, base=False)).as_posix()


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


#: the data files listed for this build: (data directories, registry generation) -> files.
#: Listed again at the start of every build (:func:`on_env_get_outdated`), so a file added
#: between two builds of one process is seen; within a build every document takes this list.
_LISTED: dict[tuple[tuple[Path, ...], int], list[Path]] = {}


def _data_files() -> list[Path]:
    """Every registry data file, loadable or not (a broken one is a dependency too)."""
    from mlsysim.book import fingerprints
    from mlsysim.core.registry import data_dirs, generation

    key = (tuple(data_dirs(load=False)), generation())
    files = _LISTED.get(key)
    if files is None:
        _LISTED.clear()
        files = _LISTED[key] = fingerprints.data_files()
    return files


def data_key() -> str:
    """A fingerprint of every registry data file: which files, and their bytes."""
    from mlsysim.book import fingerprints

    return fingerprints.data_key(_data_files())


def on_env_get_outdated(
    app: Sphinx, env: BuildEnvironment, added: Any, changed: Any, removed: Any
) -> list[str]:
    """Re-read every document with napkin math when the data changed since the last build.

    Dependencies on the data files catch an edited file; this also catches a data file that
    is added or removed, or a ``MLSYSIM_DATA_PATH`` that points elsewhere.
    """
    shared = _shared_outdated(env)
    _LISTED.clear()  # a new build lists the data files again
    key = data_key()
    if getattr(env, _KEY_ATTR, None) == key:
        return sorted(shared - set(changed) - set(added) - set(removed))
    setattr(env, _KEY_ATTR, key)
    return sorted(set(records(env)) - {_VALUES_DOC})


def on_env_before_read_docs(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """A parallel build (``-j N``) loads the registries before its readers fork, unless every
    document it reads replays a stored record (then none starts the engine)."""
    if getattr(app, "parallel", 1) > 1 and docnames and needs_engine(env, docnames):
        from mlsysim_sphinx.config import preload_registries

        preload_registries()


def failure_location(failure: Failure) -> str:
    """``path:line`` of a failure in another file than the document (an included one)."""
    return f"{failure.file}:{failure.line}"


def _describe(failure: Failure) -> str:
    """The log message: the engine's message, then value/expected/derivation/hint lines."""
    parts = [failure.message]
    if failure.expression and failure.expression not in failure.message:
        parts.append(f"  expression: {failure.expression}")
    if failure.value is not None and failure.value not in failure.message:
        parts.append(f"  computed:   {failure.value}")
    if failure.expected is not None and failure.expected not in failure.message:
        parts.append(f"  expected:   {failure.expected}")
    parts.extend(f"  {step}" for step in failure.derivation)
    if failure.sources:
        parts.append("  sources:    " + "; ".join(failure.sources))
    if failure.hint:
        parts.append(f"  hint:       {failure.hint}")
    return "\n".join(parts)


def report(env: BuildEnvironment, failure: Failure) -> None:
    """Log one failure at its source line and record it for the end-of-build verdict."""
    chapter = env.temp_data.get(_DOC_KEY)
    mode = chapter.fail_mode if chapter is not None else env.config.mlsysim_fail_mode
    log = logger.error if mode == "error" else logger.warning
    own = source_name(env)
    location: Any = (
        (env.docname, failure.line) if failure.file == own else failure_location(failure)
    )
    log(
        _describe(failure),
        location=location,
        type="mlsysim",
        subtype=SUBTYPES.get(failure.kind, "error"),
    )
    if mode != "error":
        failure.extra["severity"] = "warning"
    records(env).setdefault(env.docname, DocRecord()).failures.append(failure)


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """Store how many napkin items the document held (for the summary), and put the engine's
    banner of the page's failures at its top (a draft shows what failed)."""
    env = app.env
    state = env.temp_data.get(_DOC_KEY)
    if state is None:
        return
    checked, banner = _finish(env, state)
    records(env).setdefault(env.docname, DocRecord()).checked = checked
    if banner is not None:
        from mlsysim_sphinx.render import banner_node

        _insert_at_top(doctree, banner_node(banner))


def _insert_at_top(doctree: nodes.document, node: nodes.Node) -> None:
    """After the page's title (or at its start when it has none)."""
    from docutils import nodes as dn

    section = next(iter(doctree.findall(dn.section)), None)
    if section is not None and section.children and isinstance(section[0], dn.title):
        section.insert(1, node)
    else:
        doctree.insert(0, node)


def on_env_purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget a document's records before it is re-read (or when it is removed)."""
    records(env).pop(docname, None)


def on_env_merge_info(
    app: Sphinx, env: BuildEnvironment, docnames: Any, other: BuildEnvironment
) -> None:
    """Take the records of the documents a parallel reader process has read."""
    mine, theirs = records(env), records(other)
    for docname in docnames:
        if docname in theirs:
            mine[docname] = theirs[docname]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary(env: BuildEnvironment) -> tuple[list[Failure], str]:
    """Every recorded failure (document order) and the summary text ('' when none)."""
    recs = records(env)
    failures = [f for name in sorted(recs) for f in recs[name].failures]
    if not failures:
        return failures, ""
    checked = sum(r.checked for r in recs.values())
    kinds: dict[str, int] = {}
    for f in failures:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    by_kind = ", ".join(_plural(n, k) for k, n in sorted(kinds.items()))
    docs = sum(1 for r in recs.values() if r.failures)
    head = (
        f"mlsysim: {_plural(len(failures), 'failure')} ({by_kind}) in "
        f"{_plural(docs, 'document')}; {_plural(checked, 'napkin item')} checked:"
    )
    lines = [f"  {f.headline()}" for f in failures]
    return failures, "\n".join([head, *lines])


def on_build_finished(app: Sphinx, exception: BaseException | None) -> None:
    """Print the summary of the whole book and fail the build (fail mode ``error``)."""
    from mlsysim.book.books import unpin

    unpin()
    if exception is not None:
        return
    failures, text = summary(app.env)
    if not failures:
        return
    if any(f.extra.get("severity") != "warning" for f in failures):
        logger.error(text, type="mlsysim", subtype="summary")
        app.statuscode = 1
    else:
        logger.warning(text, type="mlsysim", subtype="summary")
