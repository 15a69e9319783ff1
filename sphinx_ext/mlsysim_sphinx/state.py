"""Per-document napkin scope, failure records in the environment, and the end-of-build verdict.

Reading a document creates one :class:`mlsysim.book.Document` (its bindings, in source order)
kept in ``env.temp_data``. Every failure is logged at once with its exact location and also
stored per docname in the environment, so that:

* parallel reads (``-j N``) merge their records (``env-merge-info``);
* re-reading a document drops its old records first (``env-purge-doc``);
* an incremental build that re-reads nothing still knows the book is broken, re-prints the
  summary at ``build-finished`` and exits 1 (``app.statuscode``), without ``-W``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sphinx.util import logging

if TYPE_CHECKING:
    from docutils import nodes
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

    from mlsysim.book import Document
    from mlsysim.book.failures import Failure

__all__ = [
    "SUBTYPES",
    "DocRecord",
    "document_for",
    "on_build_finished",
    "on_doctree_read",
    "on_env_merge_info",
    "on_env_purge_doc",
    "records",
    "report",
]

logger = logging.getLogger(__name__)

#: Failure.kind -> Sphinx warning subtype (shown as ``[mlsysim.<subtype>]``)
SUBTYPES = {"check": "check", "claim": "claim", "error": "eval"}

_DOC_KEY = "mlsysim_document"
_ENV_ATTR = "mlsysim_records"


@dataclass
class DocRecord:
    """What reading one document found: napkin items checked and failures (in source order)."""

    checked: int = 0
    failures: list[Failure] = field(default_factory=list)


def records(env: BuildEnvironment) -> dict[str, DocRecord]:
    """docname -> :class:`DocRecord`, stored (and pickled) on the environment."""
    recs: dict[str, DocRecord] | None = getattr(env, _ENV_ATTR, None)
    if recs is None:
        recs = {}
        setattr(env, _ENV_ATTR, recs)
    return recs


def document_for(env: BuildEnvironment) -> Document:
    """The napkin scope of the document being read (created on its first napkin item).

    Creating it also declares every registry data file a dependency of the document, so a
    changed data file makes Sphinx re-read exactly the documents that use napkin math.
    """
    doc: Document | None = env.temp_data.get(_DOC_KEY)
    if doc is None:
        from mlsysim.book import Document
        from mlsysim.core.registry import catalog
        from mlsysim_sphinx.config import options_for

        source = env.doc2path(env.docname, base=False)
        doc = Document(source.as_posix(), options_for(env.config))
        env.temp_data[_DOC_KEY] = doc
        for path in catalog().paths:
            env.note_dependency(path)
        records(env).setdefault(env.docname, DocRecord())
    return doc


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
    log = logger.error if env.config.mlsysim_fail_mode == "error" else logger.warning
    log(
        _describe(failure),
        location=(env.docname, failure.line),
        type="mlsysim",
        subtype=SUBTYPES.get(failure.kind, "eval"),
    )
    records(env).setdefault(env.docname, DocRecord()).failures.append(failure)


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """Store how many napkin items the document held (for the summary)."""
    env = app.env
    doc = env.temp_data.get(_DOC_KEY)
    if doc is not None:
        records(env).setdefault(env.docname, DocRecord()).checked = int(doc.checked)


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
    if exception is not None:
        return
    failures, text = summary(app.env)
    if not failures:
        return
    if app.config.mlsysim_fail_mode == "error":
        logger.error(text, type="mlsysim", subtype="summary")
        app.statuscode = 1
    else:
        logger.warning(text, type="mlsysim", subtype="summary")
