"""What a host's build log says of napkin failures: each failure's message with its details
(:func:`describe`), and the end-of-build summary of a book (:func:`build_summary`).

The Sphinx extension logs these at each failure's ``file:line`` and at the end of the build;
the wording is the engine's, so every host that logs a build says the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlsysim.book.failures import Failure

__all__ = ["build_summary", "describe", "plural"]


def plural(n: int, word: str) -> str:
    """``1 failure``, ``2 failures``."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def describe(failure: Failure) -> str:
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


def build_summary(failures: Sequence[Failure], checked: int, documents: int) -> str:
    """The summary of a build's ``failures`` (in document order) over ``documents`` documents
    with failures and ``checked`` napkin items: a count per kind, then one headline each
    ('' when none failed)."""
    if not failures:
        return ""
    kinds: dict[str, int] = {}
    for f in failures:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    by_kind = ", ".join(plural(n, k) for k, n in sorted(kinds.items()))
    head = (
        f"mlsysim: {plural(len(failures), 'failure')} ({by_kind}) in "
        f"{plural(documents, 'document')}; {plural(checked, 'napkin item')} checked:"
    )
    lines = [f"  {f.headline()}" for f in failures]
    return "\n".join([head, *lines])
