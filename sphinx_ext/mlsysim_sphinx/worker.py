"""A worker that evaluates the book's chapters while Sphinx starts up and reads
(:mod:`mlsysim.book.ahead`): this module only wires it to the build's events.

* ``setup()`` starts it (a serial build, ``-j 1``, in a process that has not loaded the
  engine: a ``-j N`` build, or one whose engine is loaded already, evaluates in-process);
* ``config-inited`` gives it the project's data directories (it loads the registries);
* ``env-get-outdated`` asks it for the book's values file (:func:`values`), when there is
  one: its failures are logged there, before any chapter is read;
* ``env-before-read-docs`` sends it the chapters to read that have napkin items and no
  stored record (each as read and scanned here, in reading order) or ends it;
* reading a chapter takes its record (:func:`take`, a bounded wait) and replays it as a
  stored one (:mod:`mlsysim_sphinx.replay`); a record not here yet (:func:`arrived`) is
  waited for only where a value cannot wait (:mod:`mlsysim_sphinx.waiting`); any failure of
  the worker, a record that does not fit, or a chapter it does not have, is evaluated
  in-process;
* ``env-updated`` and ``build-finished`` end it (also at exit).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment

    from mlsysim.book.ahead import Ahead
    from mlsysim.book.failures import Failure
    from mlsysim.book.records import Chapter, Record

__all__ = [
    "arrived",
    "awaits",
    "close",
    "current",
    "on_config_inited",
    "on_env_before_read_docs",
    "start",
    "take",
    "values",
]

_CURRENT: list[Ahead] = []  # the worker of the build being run (at most one)


def _serial(app: Sphinx) -> bool:
    """A build whose chapters this process reads one by one, with no engine loaded yet."""
    return getattr(app, "parallel", 1) <= 1 and "mlsysim.core.units" not in sys.modules


def start(app: Sphinx) -> None:
    """Start a worker for this build (ending any earlier build's)."""
    close()
    if _serial(app):
        from mlsysim.book.ahead import Ahead

        worker = Ahead.start()
        if worker is not None:
            _CURRENT.append(worker)


def current() -> Ahead | None:
    """The build's worker (None when there is none, or it ended)."""
    return _CURRENT[0] if _CURRENT else None


def on_config_inited(app: Sphinx, config: Config) -> None:
    """The project's extra data directories (validated by then): the worker loads them."""
    if _CURRENT:
        from mlsysim_sphinx.config import data_dirs

        _CURRENT[0].configure(data_dirs(config, Path(app.confdir)))


def on_env_before_read_docs(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Send the worker the chapters it can evaluate, in reading order (or end it)."""
    if not _CURRENT:
        return
    if not _serial(app):
        close()
        return
    from mlsysim_sphinx.reading import EXTENSION_DIR

    try:
        jobs = _jobs(env, docnames)
    except Exception:  # each chapter's own reading reports what is wrong with it
        close()
        return
    _CURRENT[0].submit(jobs, [EXTENSION_DIR], *_book(env))
    if _CURRENT[0].failed is not None or not jobs:
        close()


def _jobs(env: BuildEnvironment, docnames: list[str]) -> list[tuple[str, Chapter]]:
    """(record key, chapter) of each document to read that has napkin items, no stored
    record and only items whose results a record holds."""
    from mlsysim.book.records import RECORDED_KINDS
    from mlsysim_sphinx import replay
    from mlsysim_sphinx.reading import blind_failures, read

    jobs = []
    for docname in docnames:
        source = read(env, docname, keep=True)
        items = source.scanned.items
        if source.key is None or not items or replay.stored(source.key):
            continue
        if any(item.kind not in RECORDED_KINDS for item in items):
            continue  # rendered from the engine's own objects: evaluated here
        blind = blind_failures(env, source.scanned.problems)
        jobs.append((source.key, source.chapter(env, docname, blind)))
    return jobs


def _book(env: BuildEnvironment) -> tuple[str, Any]:
    """The project (its ``conf.py``) and the book's pre-pass as this build made it
    (``env-get-outdated`` pinned the book): the worker takes it instead of scanning the
    book's chapters again."""
    from mlsysim.book.books import book_values, project_at

    conf = Path(env.srcdir) / "conf.py"
    book = book_values(project_at(conf))
    return str(conf), None if book is None else book.known


def values(env: BuildEnvironment) -> tuple[int, list[Failure]] | None:
    """The book's values file as the worker evaluated it (items checked, failures), waited
    for; None: this process evaluates it (no worker, or it could not)."""
    if not _CURRENT:
        return None
    from mlsysim_sphinx.reading import EXTENSION_DIR

    worker = _CURRENT[0]
    try:
        worker.begin([EXTENSION_DIR], *_book(env))
    except Exception:  # the engine's own reading says what is wrong
        close()
        return None
    got = worker.values()
    if worker.failed is not None:
        close()
    return got


def take(key: str) -> Record | None:
    """The worker's record of the chapter stored under ``key`` (None: evaluate it here)."""
    if not _CURRENT:
        return None
    worker = _CURRENT[0]
    record = worker.take(key)
    if worker.failed is not None:
        close()
    return record


def awaits(key: str) -> bool:
    """Whether the worker evaluates the chapter stored under ``key`` (its record to come)."""
    return bool(_CURRENT) and _CURRENT[0].awaits(key)


def arrived(key: str) -> bool:
    """Whether :func:`take` of ``key`` would not wait (its record is here, or none comes)."""
    return not _CURRENT or _CURRENT[0].arrived(key)


def close(*_: object) -> None:
    """End the build's worker (killed if it still runs, and reaped)."""
    while _CURRENT:
        _CURRENT.pop().close()
