"""Failures in the build log and in the environment, and the end-of-build verdict.

Every failure is logged at once at its exact location (the engine's wording,
:mod:`mlsysim.book.build_log`) and also stored per docname in the environment, so that:

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
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

    from mlsysim.book.failures import Failure

__all__ = [
    "CHAPTER_KEY",
    "SUBTYPES",
    "DocRecord",
    "failure_location",
    "held_entry",
    "hold",
    "holding",
    "log_failure",
    "on_build_finished",
    "on_env_merge_info",
    "on_env_purge_doc",
    "records",
    "release",
    "release_front",
    "report",
    "source_name",
    "summary",
    "unheld",
]

logger = logging.getLogger(__name__)

#: Failure.kind -> Sphinx warning subtype (shown as ``[mlsysim.<subtype>]``): the failure's
#: own name, as in every report (``mlsysim.check``, ``mlsysim.claim``, ``mlsysim.error``)
SUBTYPES = {"check": "check", "claim": "claim", "error": "error"}

#: ``env.temp_data`` key of the chapter being read (:mod:`mlsysim_sphinx.state`)
CHAPTER_KEY = "mlsysim_document"
_ENV_ATTR = "mlsysim_records"


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


def source_name(env: BuildEnvironment) -> str:
    """The document's source file relative to the source folder, with ``/`` (Sphinx 7.2 gives
    a ``str`` here, later releases a path)."""
    return Path(env.doc2path(env.docname, base=False)).as_posix()


def failure_location(failure: Failure) -> str:
    """``path:line`` of a failure in another file than the document (an included one)."""
    return f"{failure.file}:{failure.line}"


def log_failure(failure: Failure, location: Any, *, error: bool = True) -> None:
    """Log one failure at ``location`` (an error, else a warning)."""
    from mlsysim.book.build_log import describe

    log = logger.error if error else logger.warning
    log(
        describe(failure),
        location=location,
        type="mlsysim",
        subtype=SUBTYPES.get(failure.kind, "error"),
    )


class _Held:
    """Reports held back while a chapter read earlier waits for its results
    (:mod:`mlsysim_sphinx.waiting`): each ``(docname, chapter state, failure or a callable
    that reports)``, in the order they were made, reported in that order once released."""

    on = False
    entries: list[tuple[str, Any, Any]] = []  # noqa: RUF012  (one build at a time)


def hold() -> None:
    """Hold every report from now on (until :func:`release`)."""
    _Held.on = True


def held_entry(env: BuildEnvironment, what: Any) -> None:
    """Hold ``what`` (a failure, or a callable reporting with ``env``) in its turn."""
    _Held.entries.append((env.docname, env.temp_data.get(CHAPTER_KEY), what))


def release() -> list[tuple[str, Any, Any]]:
    """Stop holding: the held reports, in order, for the caller to make."""
    entries, _Held.entries, _Held.on = _Held.entries, [], False
    return entries


def release_front(ready: Any) -> list[tuple[str, Any, Any]]:
    """The held reports before the first of whose chapter state ``ready`` is false, in
    order, for the caller to make while the others stay held (:func:`unheld`)."""
    k = next((k for k, e in enumerate(_Held.entries) if not ready(e[1])), len(_Held.entries))
    front, _Held.entries = _Held.entries[:k], _Held.entries[k:]
    return front


def unheld() -> Any:
    """A context in which reports are made at once (the front of what is held)."""
    import contextlib

    @contextlib.contextmanager
    def _unheld() -> Any:
        on, _Held.on = _Held.on, False
        try:
            yield
        finally:
            _Held.on = on

    return _unheld()


def holding() -> bool:
    return _Held.on


def report(env: BuildEnvironment, failure: Failure) -> None:
    """Log one failure at its source line and record it for the end-of-build verdict (held,
    in its turn, while a chapter read before waits for its results)."""
    if _Held.on:
        held_entry(env, failure)
        return
    chapter = env.temp_data.get(CHAPTER_KEY)
    mode = chapter.fail_mode if chapter is not None else env.config.mlsysim_fail_mode
    own = source_name(env)
    location: Any = (
        (env.docname, failure.line) if failure.file == own else failure_location(failure)
    )
    log_failure(failure, location, error=mode == "error")
    if mode != "error":
        failure.extra["severity"] = "warning"
    records(env).setdefault(env.docname, DocRecord()).failures.append(failure)


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


def summary(env: BuildEnvironment) -> tuple[list[Failure], str]:
    """Every recorded failure (document order) and the summary text ('' when none)."""
    from mlsysim.book.build_log import build_summary

    recs = records(env)
    failures = [f for name in sorted(recs) for f in recs[name].failures]
    if not failures:
        return failures, ""
    checked = sum(r.checked for r in recs.values())
    docs = sum(1 for r in recs.values() if r.failures)
    return failures, build_summary(failures, checked, docs)


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
