"""The ``napkin`` and ``claim`` roles (reStructuredText ``:napkin:`…``` and MyST ``{napkin}`…```).

Syntax (the engine's item syntax, :func:`mlsysim.book.syntax.split_options`)::

    {napkin}`ridge_point(H100, "bf16")`
    {napkin}`Llama2_7B.params * 2 B / H100.memory.bandwidth -> ms`
    {napkin}`amdahl(p=0.95, speedup=247) | sig=3, style=multiplier`
    {claim}`300 FLOP/B ~ ridge_point(H100, "bf16")`
    {claim}`about 300 FLOP/B | of=ridge_point(H100, "bf16"), tol=10%`

``napkin`` options: ``unit`` (also ``-> unit`` in the expression), ``sig`` / ``sig-figs``,
``style`` (percent, multiplier, scientific, engineering, plain). ``claim`` options: ``of``
(the expression the author's number is checked against) and ``tol`` (``10%`` or ``0.1``).
The role asks the shared scanner for the item it stands for (exact line and column, the text
``mlsysim check`` evaluates) and turns the engine's outcome into nodes: splitting options,
validating them and evaluating is :func:`mlsysim.book.items.run_item`'s job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from sphinx.util.docutils import SphinxRole

from mlsysim_sphinx.render import napkin_waiting, value_node
from mlsysim_sphinx.state import hold, located, report, run, source_name
from mlsysim_sphinx.waiting import may_wait

if TYPE_CHECKING:
    from sphinx.environment import BuildEnvironment

    from mlsysim.book.failures import Failure
    from mlsysim.book.items import ItemKind
    from mlsysim.core.exceptions import MlsysimError

__all__ = ["ClaimRole", "NapkinRole", "host_failure", "report_new"]


def host_failure(
    env: BuildEnvironment,
    line: int,
    problem: str | MlsysimError,
    expression: str,
    column: int | None = None,
) -> Failure:
    """A Failure for an item the engine rejected before evaluating it, or an empty directive.

    ``problem`` is the engine's error (its what, why and fix are kept) or a plain message.
    """
    from mlsysim.book.failures import Failure

    hint = None
    message = problem
    if not isinstance(problem, str):
        message = problem.what
        parts = [problem.why, f"How to fix: {problem.fix}" if problem.fix else ""]
        hint = ". ".join(p for p in parts if p) or None
    file = source_name(env)
    return Failure(
        file=file,
        line=line,
        kind="error",
        message=str(message),
        expression=expression,
        column=column,
        hint=hint,
        extra={"type": type(problem).__name__} if hint else {},
    )


def report_new(env: BuildEnvironment, failures: list[Any], before: int) -> None:
    """Report the failures the engine recorded since ``len(failures)`` was ``before``."""
    for failure in failures[before:]:
        report(env, failure)


class _InlineItem(SphinxRole):
    """Shared flow: locate exactly, run the item in the document's scope, emit its nodes."""

    kind: ClassVar[ItemKind]

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        env = self.env
        _, line = self.inliner.reporter.get_source_and_line(self.lineno)
        item = located(env, self.kind, self.text, line or self.lineno)
        if may_wait(self.inliner):
            place = napkin_waiting("")
            if hold(env, item, place):  # its chapter's record is on its way
                return [place], []
        outcome = run(env, item)
        if outcome.rendered is None:  # every item the engine runs has a rendering
            return [], []
        return [value_node(self.rawtext, outcome.rendered, failed=not outcome.ok)], []


class NapkinRole(_InlineItem):
    """``{napkin}`expr``` — an inline value with its unit."""

    kind = "inline"


class ClaimRole(_InlineItem):
    """``{claim}`300 FLOP/B ~ expr``` — the author's number, checked against a formula."""

    kind = "claim"
