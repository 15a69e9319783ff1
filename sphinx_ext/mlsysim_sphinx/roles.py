"""The ``napkin`` and ``claim`` roles (reStructuredText ``:napkin:`…``` and MyST ``{napkin}`…```).

Syntax (options after ``|``, see :mod:`mlsysim_sphinx.syntax`)::

    {napkin}`ridge_point(H100, "bf16")`
    {napkin}`Llama2_7B.params * 2 B / H100.memory.bandwidth -> ms`
    {napkin}`amdahl(p=0.95, speedup=247) | sig=3, style=multiplier`
    {claim}`300 FLOP/B ~ ridge_point(H100, "bf16")`
    {claim}`about 300 FLOP/B | of=ridge_point(H100, "bf16"), tol=10%`

``napkin`` options: ``unit`` (also ``-> unit`` in the expression), ``sig`` / ``sig-figs``,
``style`` (percent, multiplier, scientific, engineering, plain). ``claim`` options: ``of``
(the expression the author's number is checked against) and ``tol`` (``10%`` or ``0.1``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from sphinx.util.docutils import SphinxRole

from mlsysim_sphinx.lines import role_position
from mlsysim_sphinx.render import error_node, inline_nodes
from mlsysim_sphinx.state import document_for, report
from mlsysim_sphinx.syntax import CLAIM_KEYS, NAPKIN_KEYS, SyntaxProblem, parse_role

if TYPE_CHECKING:
    from sphinx.environment import BuildEnvironment

    from mlsysim.book import Document

__all__ = ["ClaimRole", "NapkinRole", "emit_inline", "host_failure"]


def host_failure(
    env: BuildEnvironment, line: int, message: str, expression: str, column: int | None = None
) -> Any:
    """A Failure for host syntax the engine never saw (bad role options, bad table layout)."""
    from mlsysim.book.failures import Failure

    file = env.doc2path(env.docname, base=False).as_posix()
    return Failure(
        file=file, line=line, kind="error", message=message, expression=expression, column=column
    )


def emit_inline(env: BuildEnvironment, rawtext: str, result: Any) -> list[nodes.Node]:
    """Report an item's failure (if any) and return the nodes it renders to."""
    if result.failure is not None:
        report(env, result.failure)
    if result.ok and result.rendered is not None:
        return inline_nodes(rawtext, result.rendered)
    return [error_node(rawtext, result.rendered)]


class _InlineItem(SphinxRole):
    """Shared flow: locate exactly, split options, evaluate in the document's scope, emit."""

    keys: ClassVar[dict[str, str]] = {}

    def evaluate(
        self, doc: Document, body: str, line: int, column: int | None, options: dict[str, Any]
    ) -> Any:
        raise NotImplementedError

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        env = self.env
        line, column = role_position(env, self.inliner, self.lineno, self.name, self.rawtext)
        doc = document_for(env)
        try:
            body, options = parse_role(self.text, self.keys)
            result = self.evaluate(doc, body, line, column, dict(options))
        except SyntaxProblem as problem:
            report(env, host_failure(env, line, str(problem), self.text, column))
            return [error_node(self.rawtext, None)], []
        return emit_inline(env, self.rawtext, result), []


class NapkinRole(_InlineItem):
    """``{napkin}`expr``` — an inline value with its unit."""

    keys = NAPKIN_KEYS

    def evaluate(
        self, doc: Document, body: str, line: int, column: int | None, options: dict[str, Any]
    ) -> Any:
        if "sig_figs" in options:
            options["sig_figs"] = _sig_figs(options["sig_figs"])
        return doc.inline(body, line, column=column, **options)


class ClaimRole(_InlineItem):
    """``{claim}`300 FLOP/B ~ expr``` — the author's number, checked against a formula."""

    keys = CLAIM_KEYS

    def evaluate(
        self, doc: Document, body: str, line: int, column: int | None, options: dict[str, Any]
    ) -> Any:
        return doc.claim(body, line, column=column, **options)


def _sig_figs(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SyntaxProblem(f"sig={text!r} is not a whole number (write e.g. sig=2)") from None
