"""Chapters evaluated ahead of a host, by a worker process started with the host.

A book's first build pays the engine's start-up (numpy, pint, pydantic, the registries)
before its first napkin item. A host that reads on one core (Sphinx, ``-j 1``) can start a
worker at once (:meth:`Ahead.start`: a fork of the host, so it shares what the host has
imported and registered so far): it imports the engine and loads the registries while the
host starts up, then evaluates the chapters the host sends it (:meth:`Ahead.submit`: each
chapter as the host read and scanned it, :class:`~mlsysim.book.records.Chapter`) in the
order the host reads them, and streams back one :class:`~mlsysim.book.records.Record` per
chapter (:func:`mlsysim.book.records.evaluate`, the very steps the host's own engine would
take). The host replays a record as it replays a stored one, so it may never import the
engine itself.

The host checks what it takes, and anything wrong costs only speed:

* the worker evaluates only if its code, data and registry kinds are the host's (the engine
  key with the day, the data key, the kinds and their spec modules), else it declines;
* a record is replayed only while its items are the ones the host runs (else the host's
  engine evaluates the chapter, from its first item);
* every wait is bounded (:data:`SILENCE` seconds without a message); a worker that is
  silent, dies, or sends what does not unpickle is killed and the host evaluates in-process;
* the worker holds none of the host's files or terminals (only its two pipes), exits when
  the host closes its pipe or dies (its reads end, its writes fail), and :meth:`Ahead.close`
  (also run at exit) kills and reaps it: no orphan, no zombie.

Workers need ``os.fork`` (Linux; not macOS, where a forked process may not use every system
library) and a host with one thread (a fork copies only the calling thread): elsewhere, and
with ``MLSYSIM_WORKER=off``, the host evaluates in-process. The
messages are length-prefixed pickles between a host and its own fork (one per chapter each
way); the host never blocks writing (what a full pipe cannot take is written while it waits
for a record), so its reading never waits on a worker that is still starting up.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsysim.book.pipes import Outbox, Reader, widen, write
from mlsysim.book.records import Chapter, Record, evaluate

if TYPE_CHECKING:
    from mlsysim.book.failures import Failure

__all__ = ["SILENCE", "Ahead", "enabled", "facts", "spec_key"]

#: seconds a host waits for the worker's next message before it evaluates in-process
SILENCE = 30.0
#: seconds the worker waits for the host's next request before it exits
_IDLE = 300.0
_LIVE: set[Ahead] = set()


def enabled() -> bool:
    """Whether workers may be started here: ``os.fork`` outside macOS, and not turned off
    by ``MLSYSIM_WORKER=off``."""
    raw = os.environ.get("MLSYSIM_WORKER", "")
    if raw.strip().lower() in ("0", "off", "no", "false", "none"):
        return False
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def spec_key() -> Any:
    """The registries' kinds and the sources of their spec modules, a project's own included
    (the catalog's record of what it was built from); None when a data file is broken."""
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.core.registry import catalog

    try:
        cat = catalog()
    except MlsysimError:
        return None  # a broken data file: its bytes are in the data key
    return sorted(cat.code.items()), sorted(cat.kind_specs.items())


def facts(extra_dirs: Sequence[str]) -> tuple[Any, ...]:
    """What evaluating in this process depends on: mlsysim's location, the code and day
    (with ``extra_dirs``, a host's own code), the registry data and the kinds."""
    import mlsysim
    from mlsysim.book import fingerprints

    return (
        str(Path(mlsysim.__file__).resolve()),
        fingerprints.engine_key(*extra_dirs),
        fingerprints.data_key(),
        spec_key(),
    )


class Ahead:
    """A worker evaluating chapters for this process (see the module's doc)."""

    def __init__(self, pid: int, send: int, receive: int) -> None:
        self._pid = pid
        self._outbox = Outbox(send)
        self._receive_fd: int | None = receive
        self._reader = Reader(receive)
        self._records: dict[str, Record | None] = {}
        self._asked: set[str] = set()
        self._begun = False
        self._done = False
        self._reaped = False
        self.failed: str | None = None  # why the worker was given up (None: it was not)

    @classmethod
    def start(cls) -> Ahead | None:
        """A worker importing the engine now (None when workers are off or none can start)."""
        import threading

        if not enabled() or threading.active_count() > 1:
            return None  # (a fork copies only this thread: another's locks would stay held)
        try:
            from_host, to_worker = os.pipe()  # (read end, write end)
            from_worker, to_host = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            for fd in (to_worker, from_host, from_worker, to_host):
                os.close(fd)
            return None
        if pid == 0:  # the worker: it never returns into the host's code
            code = 1
            try:
                code = _serve(from_host, to_host)
            finally:
                os._exit(code)
        os.close(from_host)
        os.close(to_host)
        for fd in (to_worker, from_worker):
            widen(fd)
        worker = cls(pid, to_worker, from_worker)
        if not _LIVE:
            atexit.register(_close_all)
        _LIVE.add(worker)
        return worker

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def running(self) -> bool:
        """Whether the worker process still runs (not yet reaped)."""
        if not self._reaped:
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(self._pid, os.WNOHANG)
                if not done:
                    return True
            self._reaped = True
        return False

    def _send(self, message: Any) -> bool:
        if self.failed is not None or self._outbox.fd is None:
            return False
        try:
            self._outbox.put(message)
        except OSError:
            self._give_up("its pipe closed")
            return False
        except Exception as exc:  # a chapter that does not pickle: evaluated here
            self._give_up(f"a request did not pickle ({type(exc).__name__})")
            return False
        return True

    def configure(self, data_dirs: Sequence[str | os.PathLike[str]]) -> None:
        """The project's extra data directories: the worker loads the registries now."""
        self._send(("config", [str(d) for d in data_dirs]))

    def begin(self, extra_dirs: Sequence[str], project: str | None, known: Any = None) -> None:
        """Start evaluating for the book of ``project`` (a file of it; None: none), if the
        worker's code, data and kinds are this process's (:func:`facts`, with ``extra_dirs``),
        with the book's pre-pass as this process made it (``known``, :attr:`BookValues.known
        <mlsysim.book.shared.BookValues.known>`), so the worker does not scan the book's
        unchanged chapters again. Once; :meth:`values` and :meth:`submit` begin if needed."""
        if not self._begun:
            self._begun = True
            self._send(("begin", facts(extra_dirs), list(extra_dirs), project, known))

    def values(self) -> tuple[int, list[Failure]] | None:
        """The book's values file evaluated (items checked, failures), waiting for it; None
        when the book has none, the worker could not evaluate it, declined or was given up
        (then this process evaluates it)."""
        if not self._begun or not self._send(("values",)):
            return None
        self._asked.add(_VALUES)
        got = self._wait(_VALUES)
        return got if isinstance(got, tuple) else None

    def submit(
        self,
        jobs: Sequence[tuple[str, Chapter]],
        extra_dirs: Sequence[str],
        project: str | None = None,
        known: Any = None,
    ) -> None:
        """Evaluate ``jobs`` (record key, chapter) in this order (:meth:`begin` with the
        other arguments first); no jobs ends the worker. One message per chapter, none of them
        waited on: the worker starts on the first while the others are still being sent."""
        if not jobs:
            self.close()
            return
        self.begin(extra_dirs, project, known)
        self._asked.update(key for key, _ in jobs)
        for message in (*[("job", key, chapter) for key, chapter in jobs], ("end",)):
            if not self._send(message):
                return
        self._outbox.close_when_sent()  # nothing more to ask: the worker exits when done

    def take(self, key: str) -> Record | None:
        """The record of the chapter submitted under ``key``, waiting for it (each wait at
        most :data:`SILENCE` seconds); None when it was not submitted, the worker could not
        evaluate it, declined, or was given up."""
        got = self._wait(key)
        return got if isinstance(got, Record) else None

    def awaits(self, key: str) -> bool:
        """Whether ``key`` was submitted and is still to be taken (the worker not given up)."""
        return key in self._asked and self.failed is None

    def arrived(self, key: str) -> bool:
        """Whether :meth:`take` of ``key`` would not wait (reading what the pipe holds now)."""
        while self._receive_fd is not None and self.awaits(key) and not self._done:
            if key in self._records or (got := self._reader.poll(self._outbox))[0] == "later":
                return key in self._records
            status, message = got
            if status != "ok":
                self._give_up(status)
            else:
                self._handle(message)
        return True

    def _wait(self, key: str) -> Any:
        if key not in self._asked:
            return None
        while key not in self._records and not self._done and self.failed is None:
            if (message := self._receive()) is None:
                break
            self._handle(message)
        self._asked.discard(key)
        return self._records.pop(key, None)

    def _handle(self, message: tuple[Any, ...]) -> None:
        tag = message[0]
        if tag == "record" and len(message) == 3 and _fits(message[1], message[2]):
            self._records[message[1]] = message[2]
        elif tag == "skip" and len(message) == 2:
            self._records[message[1]] = None
        elif tag == "done":
            self._done = True
        else:  # declined (another code, data or kinds), or a message of another shape
            self._give_up(f"it declined: {message[1:]!r}")

    def _receive(self) -> Any:
        """The worker's next message, or None (the worker given up) after :data:`SILENCE`
        seconds of silence, at its exit, or on what does not unpickle."""
        if self._receive_fd is None:
            return None
        status, message = self._reader.next(SILENCE, self._outbox)
        if status != "ok":
            self._give_up(status)
            return None
        return message

    def _give_up(self, why: str) -> None:
        if self.failed is None:
            self.failed = why
        self.close()

    def close(self) -> None:
        """End the worker (killed if it still runs) and reap it; idempotent."""
        self._outbox.close()
        if self._receive_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._receive_fd)
            self._receive_fd = None
        if not self._reaped:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)  # prompt: the worker was killed
            self._reaped = True
        _LIVE.discard(self)


#: the key of the values file's result (no chapter's record key is this)
_VALUES = "<values>"


def _fits(key: Any, result: Any) -> bool:
    """Whether ``result`` has the shape of what the worker sends for ``key``."""
    if key == _VALUES:
        return (
            isinstance(result, tuple)
            and len(result) == 2
            and isinstance(result[0], int)
            and isinstance(result[1], list)
        )
    return isinstance(result, Record)


def _close_all() -> None:
    for worker in list(_LIVE):
        worker.close()


# -- the worker ---------------------------------------------------------------------------


def _detach(keep: tuple[int, ...]) -> None:
    """Hold none of the host's files: every descriptor but ``keep`` (the standard streams
    too) points at the null device, so nothing the worker might print or log reaches the
    build's log or a file of the host's, and no pipe the host's caller waits on is held
    open by the worker."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = [0, 1, 2]
    for fd in {0, 1, 2, *fds} - {*keep, null}:
        with contextlib.suppress(OSError):
            os.dup2(null, fd)


def _warm() -> None:
    """Import what evaluating needs (while the host starts up): the engine, its units, the
    book's items and the shared names."""
    import mlsysim.book.books
    import mlsysim.book.items
    import mlsysim.core.units  # noqa: F401  (pint, numpy)


def _load(data_dirs: Sequence[str]) -> None:
    """The project's data directories, and the registries' catalog (each kind's entries
    load when a chapter first reads one, as in the host; a broken data file is reported by
    the items that need it)."""
    import mlsysim
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.core.registry import catalog

    for path in data_dirs:
        mlsysim.add_data_dir(path)
    with contextlib.suppress(MlsysimError):
        catalog()


def _serve(receive: int, send: int) -> int:
    """The worker: ``config``, ``begin``, one ``job`` per chapter and ``end`` from the host;
    one message per chapter back, as soon as it is evaluated."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # an interrupted build ends its worker
    _detach((receive, send))
    gc.disable()  # a short-lived process: nothing it allocates is worth collecting
    reader = Reader(receive)
    _warm()
    status, message = reader.next(_IDLE)
    if status != "ok" or message[0] != "config":
        return 0
    _load(message[1])
    status, message = reader.next(_IDLE)
    if status != "ok" or message[0] != "begin" or len(message) != 5:
        return 0
    _, expected, extra_dirs, project, known = message
    try:
        if facts(extra_dirs) != expected:
            write(send, ("decline", "code, data or kinds differ"))
            return 0
        book = _pin(project, known)
        while True:
            status, message = reader.next(_IDLE)
            if status != "ok" or message[0] not in ("job", "values"):
                break  # the end (or the host is gone)
            write(send, _answer(message, book))
        write(send, ("done",))
    except OSError:  # the host is gone
        return 0
    return 0


def _pin(project: str | None, known: Any) -> Any:
    """The book of ``project`` (a file of it) pinned for the worker's life, its pre-pass
    taken from ``known`` for every chapter whose file is as the host scanned it; None when
    there is none (or it cannot be read: the chapters that need it say why)."""
    from mlsysim.book.books import pin, project_at

    if project is None:
        return None
    try:
        return pin(project_at(project), known)
    except Exception:
        return None


def _answer(message: tuple[Any, ...], book: Any) -> tuple[Any, ...]:
    """What the host is sent for a ``job`` (a chapter's record) or ``values`` (the values
    file's items checked and failures): ``skip`` when evaluating it raised (the host's own
    engine evaluates it again, and says what went wrong)."""
    if message[0] == "values":
        try:
            doc = book.values_document() if book is not None else None
            if doc is None:
                return ("skip", _VALUES)
            return ("record", _VALUES, (int(doc.checked), list(doc.failures)))
        except Exception:
            return ("skip", _VALUES)
    if len(message) != 3:
        return ("skip", None)
    _, key, chapter = message
    try:
        return ("record", key, evaluate(chapter))
    except Exception:
        return ("skip", key)
