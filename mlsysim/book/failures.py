"""One failure of a document: a located, structured record every report format is built from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Failure", "FailureKind"]

FailureKind = Literal["check", "claim", "error"]


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
