"""What a document item gives back (rendering, value, failures) and what item code relies on.

Hosts receive an :class:`ItemResult` (inline, claim, derivation), a :class:`BlockResult`
(napkin block) or a :class:`TableResult` (``napkin-table``); a failed item renders as
:func:`error_rendering` so the page still builds. :class:`Evaluated` and :class:`Located` are
the engine's own: one evaluated item text, and an error with its column in that text.

>>> error_rendering().text
'⟨error⟩'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlsysim.book.failures import Failure
from mlsysim.book.lang import Compiled, Trace
from mlsysim.core.exceptions import MlsysimError
from mlsysim.viz.rendered import Rendered

__all__ = [
    "BlockResult",
    "Evaluated",
    "ItemResult",
    "Located",
    "TableResult",
    "error_rendering",
]


def error_rendering(message: str = "error") -> Rendered:
    """The placeholder a failed item renders as (``⟨error⟩``), so pages still build."""
    return Rendered(
        text=f"⟨{message}⟩",
        latex=r"\langle\text{" + message + r"}\rangle",
        html=f'<span class="mlsysim-error">⟨{message}⟩</span>',
        markdown=f"⟨{message}⟩",
        math=False,
    )


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of one inline expression, claim or derivation.

    ``value`` is what was computed, in the unit it was shown in when one was asked for.
    """

    ok: bool
    rendered: Rendered | None
    failure: Failure | None = None
    value: Any = None


@dataclass(slots=True)
class BlockResult:
    """The outcome of a napkin block: rendered claims (file line, Rendered) and failures."""

    rendered: list[tuple[int, Rendered]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(slots=True)
class TableResult:
    """A ``napkin-table``: the rendered table (``viz.table.TableRendered``) and failures."""

    ok: bool
    rendered: Any
    failures: list[Failure] = field(default_factory=list)


@dataclass(slots=True)
class Evaluated:
    """One evaluated item text: value, digits as written, ``-> unit`` or style, provenance."""

    value: Any
    digits: int | None
    unit: str | None
    style: str | None
    trace: Trace
    compiled: Compiled


class Located(Exception):
    """An error together with the 0-based column in the item's text where it happened."""

    def __init__(self, error: MlsysimError, column: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.column = column
