"""Which documents an incremental build reads again for napkin reasons: the registry data
changed, the environment's fail mode changed, or a shared name they use or define moved.

Sphinx re-reads a document when its source or a noted dependency changed; a document's
napkin results also depend on what no file of it holds:

* the set of registry data files and the directories they come from (a file added or
  removed, ``MLSYSIM_DATA_PATH`` pointing elsewhere);
* ``MLSYSIM_FAIL_MODE``, which overrides every chapter's fail mode (a failure is an error
  or a warning, and the build's exit status follows);
* the book's shared names (:mod:`mlsysim.book.shared`): a name that appears, moves or
  doubles re-reads the chapters that ask for it and those that define it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsysim_sphinx.reading import data_key, forget_data_files, store_data_key, stored_data_key
from mlsysim_sphinx.reporting import DocRecord, failure_location, log_failure, records

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

    from mlsysim.book import Document

__all__ = ["VALUES_DOC", "book", "note_shared", "on_env_get_outdated"]

_DEFINITIONS_ATTR = "mlsysim_definitions"
_PLACES_ATTR = "mlsysim_shared_places"
_FAIL_MODE_ATTR = "mlsysim_env_fail_mode"
#: the docname the values file's failures are recorded under
VALUES_DOC = "mlsysim-values"


def book(env: BuildEnvironment) -> Any:
    """The shared names of the book (:mod:`mlsysim.book.shared`) as its files are now, kept
    for the rest of the build (its sources do not change while it runs; every chapter read
    takes this book instead of listing the project's files again). The names each unchanged
    chapter binds come from the environment (an incremental build scans only what changed)."""
    from mlsysim.book.books import pin, project_at, unpin

    unpin()
    pinned = pin(project_at(Path(env.srcdir) / "conf.py"), getattr(env, _DEFINITIONS_ATTR, None))
    setattr(env, _DEFINITIONS_ATTR, pinned.known if pinned is not None else None)
    return pinned


def note_shared(env: BuildEnvironment, doc: Document) -> None:
    """Make the files the document's shared values came from its dependencies, and keep the
    names it asked of the book (a name that appears, moves or doubles re-reads it)."""
    link = doc.scope.shared
    if link is None:
        return
    for path in sorted(link.book.files_read(link.file)):
        env.note_dependency(str(path))
    records(env).setdefault(env.docname, DocRecord()).shared = set(doc.scope.asked)


def _shared_outdated(env: BuildEnvironment) -> set[str]:
    """Documents to re-read because a shared name they use, or define, was added, moved or
    doubled since the last build; the values file's failures recorded under its own name."""
    pinned = book(env)
    places = pinned.places() if pinned is not None else {}
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
    _values_record(env, pinned)
    return out


def _values_record(env: BuildEnvironment, pinned: Any) -> None:
    """The values file's failures, logged before any chapter is read; evaluated by the
    build's worker when it has one (:func:`mlsysim_sphinx.worker.values`), else here."""
    from mlsysim_sphinx import worker

    recs = records(env)
    recs.pop(VALUES_DOC, None)
    if pinned is None or pinned.values_file is None:
        return
    got = worker.values(env)
    if got is None:
        doc = pinned.values_document()
        got = (int(doc.checked), list(doc.failures)) if doc is not None else (0, [])
    checked, failures = got
    if not failures:
        return
    recs[VALUES_DOC] = DocRecord(checked, [])
    for failure in failures:
        log_failure(failure, failure_location(failure))
        recs[VALUES_DOC].failures.append(failure)


def _fail_mode_changed(env: BuildEnvironment) -> bool:
    """Whether ``MLSYSIM_FAIL_MODE`` (which overrides every chapter's fail mode) differs from
    the last build's: every chapter's failures are then errors or warnings anew."""
    mode = os.environ.get("MLSYSIM_FAIL_MODE", "").strip()
    old = getattr(env, _FAIL_MODE_ATTR, None)
    setattr(env, _FAIL_MODE_ATTR, mode)
    return old is not None and old != mode


def on_env_get_outdated(
    app: Sphinx, env: BuildEnvironment, added: Any, changed: Any, removed: Any
) -> list[str]:
    """Re-read every document with napkin math when the data or the environment's fail mode
    changed since the last build, and the readers and definers of a moved shared name.

    Dependencies on the data files catch an edited file; this also catches a data file that
    is added or removed, or a ``MLSYSIM_DATA_PATH`` that points elsewhere.
    """
    shared = _shared_outdated(env)
    forget_data_files()
    key = data_key()
    mode_changed = _fail_mode_changed(env)
    if stored_data_key(env) == key and not mode_changed:
        return sorted(shared - set(changed) - set(added) - set(removed))
    store_data_key(env, key)
    return sorted(set(records(env)) - {VALUES_DOC})
