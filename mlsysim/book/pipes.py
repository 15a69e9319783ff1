"""Messages between a process and its own fork over a pair of pipes: length-prefixed
pickles, each wait bounded (:class:`Reader`), written without ever blocking the sender
(:class:`Outbox`: what a full pipe cannot take yet is written as the reader makes room), in
pipes widened to hold a book's messages where the system allows (:func:`widen`). What
:mod:`mlsysim.book.ahead`'s host and worker speak."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import select
import struct
import time
from typing import Any

__all__ = ["Outbox", "Reader", "widen", "write"]

_HEADER = struct.Struct("!I")


class Outbox:
    """Messages to a pipe written without ever blocking: what the pipe cannot take yet is
    kept, and written when the reader has made room (:meth:`flush`, also while waiting for
    the reader's messages, :meth:`Reader.next`), so neither side waits on the other."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd: int | None = fd
        self._data = bytearray()
        self._closing = False  # close the pipe once everything is written

    def waiting(self) -> list[int]:
        """The pipe, while it holds back what was put (else nothing to wait for)."""
        return [self.fd] if self._data and self.fd is not None else []

    def put(self, message: Any) -> None:
        """Queue ``message`` and write what fits (OSError: the reader is gone; a message
        that does not pickle raises as :func:`pickle.dumps` does)."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self._data += _HEADER.pack(len(data)) + data
        self.flush()

    def flush(self) -> None:
        """Write what the pipe takes now (OSError: the reader is gone)."""
        while self._data and self.fd is not None:
            try:
                done = os.write(self.fd, self._data)
            except BlockingIOError:
                return
            del self._data[:done]
        if self._closing:
            self.close()

    def close_when_sent(self) -> None:
        self._closing = True
        self.flush()

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        self._data.clear()


class Reader:
    """Length-prefixed pickled messages read from a pipe, each wait bounded."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""

    def next(self, timeout: float, outbox: Outbox | None = None) -> tuple[str, Any]:
        """``("ok", message)``, or why there is none: silent for ``timeout`` seconds, the
        pipe closed, or a message that does not unpickle to a non-empty tuple. While it
        waits, ``outbox`` is written as the other side makes room."""
        deadline = time.monotonic() + timeout
        while True:
            got = self._buffered()
            if got is not None:
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                return f"it was silent for {timeout:g} s", None
            writing = outbox.waiting() if outbox is not None else []
            try:
                ready, free, _ = select.select([self._fd], writing, [], left)
                if free and outbox is not None:
                    outbox.flush()
                chunk = os.read(self._fd, 1 << 16) if ready else None
            except (OSError, ValueError):
                chunk = b""
            if chunk == b"":
                return "its pipe closed", None
            if chunk:
                self._buffer += chunk

    def poll(self, outbox: Outbox | None = None) -> tuple[str, Any]:
        """The next message if a whole one has arrived, without waiting: as :meth:`next`,
        or ``("later", None)`` when none is here yet."""
        while True:
            got = self._buffered()
            if got is not None:
                return got
            writing = outbox.waiting() if outbox is not None else []
            try:
                ready, free, _ = select.select([self._fd], writing, [], 0)
                if free and outbox is not None:
                    outbox.flush()
                if not ready:
                    return "later", None
                chunk = os.read(self._fd, 1 << 16)
            except (OSError, ValueError):
                chunk = b""
            if chunk == b"":
                return "its pipe closed", None
            self._buffer += chunk

    def _buffered(self) -> tuple[str, Any] | None:
        """The first whole message of the buffer (as :meth:`next` gives it), None: none yet."""
        if len(self._buffer) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(self._buffer)
        end = _HEADER.size + size
        if len(self._buffer) < end:
            return None
        data = self._buffer[_HEADER.size : end]
        self._buffer = self._buffer[end:]
        try:
            message = pickle.loads(data)
        except Exception:
            return "a message did not unpickle", None
        if isinstance(message, tuple) and message:
            return "ok", message
        return "a message of another shape", None


def write(fd: int, message: Any) -> None:
    """Send one message (OSError when the other end is gone)."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def widen(fd: int) -> None:
    """Let the pipe of ``fd`` hold a whole book's messages where Linux allows (up to
    ``/proc/sys/fs/pipe-max-size``, 1 MiB by default), so a side ahead of the other is not
    stopped by a full pipe; the default size only costs waits."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
