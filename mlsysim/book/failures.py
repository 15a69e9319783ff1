"""One failure of a document — a located, structured record every report format is built from —
and one checked item with its failures (what a JUnit test case is made of)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from operator import attrgetter
from typing import Any, Literal

__all__ = ["Checked", "Failure", "FailureKind"]

FailureKind = Literal["check", "claim", "error", "lint"]


@dataclass(frozen=True, slots=True)
class Failure:
    """A broken invariant or an evaluation error, located in the author's source.

    ``line`` is 1-based in ``file``; ``column`` is 1-based when known. ``kind`` is ``check``
    (a ``check(cond, "why")`` was false), ``claim`` (the author's figure disagrees with the
    formula beyond tolerance) or ``error`` (the expression could not be evaluated).
    ``value`` is the computed value as text with its unit; ``expected`` what the author stated
    or required; ``derivation`` lines show how the value was computed (names with their
    values) and ``sources`` the citations of every registry value used.
    """

    file: str
    line: int
    kind: FailureKind
    message: str
    expression: str = ""
    column: int | None = None
    value: str | None = None
    expected: str | None = None
    derivation: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    hint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        """``mlsysim.check`` / ``mlsysim.claim`` / ``mlsysim.error``."""
        return f"mlsysim.{self.kind}"

    def location(self) -> str:
        """``path:line`` or ``path:line:column``."""
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")

    @property
    def severity(self) -> str:
        """``error``, or ``warning`` for a chapter in fail mode ``warn`` (reported, not failing)."""
        return "warning" if self.extra.get("severity") == "warning" else "error"

    def headline(self) -> str:
        """``path:line: error[mlsysim.claim]: message`` — the first line of a text report."""
        return f"{self.location()}: {self.severity}[{self.code}]: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["derivation"] = list(self.derivation)
        d["sources"] = list(self.sources)
        return d

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its fields in order (a frozen slotted dataclass's own pickling is ten
        times slower; a book's stored results hold many failures)."""
        return (Failure, _FAILURE_FIELDS(self))


_FAILURE_FIELDS = attrgetter(*Failure.__slots__)


@dataclass(frozen=True, slots=True)
class Checked:
    """One checked item of a source — a value, claim, check, binding, derivation, table row —
    where it is, and the failures it caused (none when it passed).

    ``kind`` names the item (``value``, ``claim``, ``check``, ``binding``, ``expression``,
    ``derivation``, ``table``, ``table row``; ``source`` for a failure of the file itself,
    such as an unreadable file or a bad option); ``text`` is the item as written.
    """

    file: str
    line: int
    column: int | None
    kind: str
    text: str
    failures: tuple[Failure, ...] = ()

    @classmethod
    def of_failure(cls, failure: Failure) -> Checked:
        """A failure that belongs to no item (the source itself) as an item of its own."""
        return cls(
            failure.file,
            failure.line,
            failure.column,
            "source",
            failure.expression or failure.message,
            (failure,),
        )

    @property
    def blocking(self) -> tuple[Failure, ...]:
        """The failures that fail the build (not those of a chapter in fail mode ``warn``)."""
        return tuple(f for f in self.failures if f.severity == "error")

    def location(self) -> str:
        """``path:line`` or ``path:line:column``."""
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
