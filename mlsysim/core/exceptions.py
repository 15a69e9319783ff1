"""The mlsysim error hierarchy: one root, each subclass also its matching builtin.

Every error is worded as *what* went wrong, *where*, *why* and *how to fix it*, and keeps those
parts (plus its own structured fields) as attributes, so that reports, JSON output and tests can
use them without parsing the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "ConfigError",
    "DimensionError",
    "FormulaDomainError",
    "InfeasibleError",
    "LimitError",
    "MissingDataError",
    "MlsysimError",
    "NapkinError",
    "NapkinSyntaxError",
    "RegistryDataError",
    "UnknownNameError",
    "UnsupportedPrecisionError",
    "suggest",
]


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Close matches for ``name`` among ``candidates`` (case-insensitive), best first.

    Candidates within two edits (one for names shorter than three characters) or starting with
    ``name`` qualify; they rank by same first letter, then edit distance, then similarity.
    Falls back to difflib's close matches when nothing is that close.
    """
    import difflib  # only when a name is unknown: keeps `import mlsysim` light

    pool = list(dict.fromkeys(candidates))
    key = name.lower()
    budget = 1 if len(key) < 3 else 2
    distance = {c: _edit_distance(key, c.lower()) for c in pool}
    close = [c for c in pool if distance[c] <= budget or (key and c.lower().startswith(key))]
    if close:

        def rank(c: str) -> tuple[int, int, float]:
            ratio = difflib.SequenceMatcher(None, key, c.lower()).ratio()
            return (c.lower()[:1] != key[:1], distance[c], -ratio)

        return sorted(close, key=rank)[:n]
    lowered = {c.lower(): c for c in pool}
    return [lowered[h] for h in difflib.get_close_matches(key, list(lowered), n=n, cutoff=0.6)]


class MlsysimError(Exception):
    """Root of every mlsysim error.

    Parameters are the four parts of a teaching message; ``where`` and ``fix`` are optional.
    ``str(err)`` joins them as ``what [where]: why. How to fix: fix``.
    """

    def __init__(self, what: str, *, where: str = "", why: str = "", fix: str = "") -> None:
        self.what = what
        self.where = where
        self.why = why
        self.fix = fix
        Exception.__init__(self, self.message)

    @property
    def message(self) -> str:
        text = self.what
        if self.where:
            text += f" (in {self.where})"
        if self.why:
            text += f": {self.why}"
        if self.fix:
            text += ("" if text.endswith(("?", ".")) else ".") + f" How to fix: {self.fix}"
        return text

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """Structured form for JSON reports."""
        return {
            "type": type(self).__name__,
            "what": self.what,
            "where": self.where,
            "why": self.why,
            "fix": self.fix,
            "message": self.message,
        }


class DimensionError(MlsysimError, TypeError):
    """Two quantities of different physical dimensions were combined or converted.

    ``left``/``right`` are the quantities (or unit strings) as the author wrote them and
    ``left_dim``/``right_dim`` their dimensions in words (``information``, ``currency``…).
    """

    def __init__(
        self,
        operation: str,
        left: str,
        left_dim: str,
        right: str,
        right_dim: str,
        *,
        where: str = "",
        fix: str = "",
    ) -> None:
        self.operation = operation
        self.left, self.left_dim = left, left_dim
        self.right, self.right_dim = right, right_dim
        super().__init__(
            f"cannot {operation} {left} ({left_dim}) {_JOIN.get(operation, 'and')} "
            f"{right} ({right_dim})",
            where=where,
            why="the two sides have different physical dimensions",
            fix=fix or "convert one side explicitly, or check which quantity the formula expects",
        )

    @classmethod
    def for_argument(
        cls, name: str, given: str, given_dim: str, expected_dim: str, *, where: str = ""
    ) -> DimensionError:
        """A function argument or data field of the wrong dimension."""
        err = cls.__new__(cls)
        err.operation = "use"
        err.left, err.left_dim, err.right, err.right_dim = given, given_dim, name, expected_dim
        MlsysimError.__init__(
            err,
            f"{name} must be {expected_dim}, got {given} ({given_dim})",
            where=where,
            why="the value has the wrong physical dimension",
            fix=f"pass {name} as a quantity of {expected_dim}",
        )
        return err

    @classmethod
    def not_a_quantity(
        cls, name: str, given: str, expected: str, fix: str, *, where: str = ""
    ) -> DimensionError:
        """A function argument or data field that is no quantity at all (None, a list…)."""
        err = cls.__new__(cls)
        err.operation = "use"
        err.left, err.left_dim, err.right, err.right_dim = given, "no quantity", name, expected
        MlsysimError.__init__(
            err,
            f"{name} must be {expected}, got {given}",
            where=where,
            why="a value without a number and a unit cannot be checked or converted",
            fix=fix,
        )
        return err


_JOIN = {"add": "to", "subtract": "from", "convert": "to", "compare": "with"}


class UnknownNameError(MlsysimError, KeyError):
    """A registry entry, formula, variable or option that does not exist."""

    def __init__(
        self,
        kind: str,
        name: str,
        candidates: Iterable[str] = (),
        *,
        where: str = "",
        fix: str = "",
    ) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = suggest(name, candidates)
        hint = f"did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"no {kind} {name!r}" + (f"; {hint}" if hint else ""),
            where=where,
            fix=fix or f"use one of the known {kind} names (`mlsysim zoo` lists registry entries)",
        )


class UnsupportedPrecisionError(UnknownNameError):
    """A device was asked for a numeric precision (or sparsity) its datasheet does not give."""

    def __init__(
        self, device: str, precision: str, available: Iterable[str], *, sparse: bool
    ) -> None:
        self.device = device
        self.precision = precision
        self.available = sorted(available)
        kind = "sparse" if sparse else "dense"
        MlsysimError.__init__(
            self,
            f"{device} has no {kind} peak rate for precision {precision!r}",
            why=f"its datasheet gives {kind} rates for: {', '.join(self.available) or 'none'}",
            fix="pick one of those precisions; dense and sparse rates never stand in "
            "for each other",
        )
        self.kind, self.name, self.suggestions = "precision", precision, self.available


class RegistryDataError(MlsysimError, ValueError):
    """A registry data file is malformed: names the file, the entry and the field."""

    def __init__(
        self,
        what: str,
        *,
        file: str,
        entry: str = "",
        field: str = "",
        why: str = "",
        fix: str = "",
    ) -> None:
        self.file, self.entry, self.field = file, entry, field
        where = (
            file + (f", entry [{entry}]" if entry else "") + (f", field {field!r}" if field else "")
        )
        super().__init__(what, where=where, why=why, fix=fix)


class FormulaDomainError(MlsysimError, ValueError):
    """A formula was called outside the range where it is valid (e.g. Daly with δ ≥ 2M)."""


class InfeasibleError(MlsysimError, ValueError):
    """A workload does not fit (memory capacity) and the caller asked to be strict."""


class MissingDataError(MlsysimError, LookupError):
    """A figure cannot be computed because the registry lacks an input (never a silent zero).

    The message names the figure, the missing input and how to supply it (a data entry or an
    explicit argument).
    """


class ConfigError(MlsysimError, ValueError):
    """An option (project config, role option, metadata key) has a bad value."""


class NapkinError(MlsysimError, ValueError):
    """An error while evaluating napkin math; ``column`` is 0-based within the expression."""

    def __init__(
        self,
        what: str,
        *,
        where: str = "",
        why: str = "",
        fix: str = "",
        column: int | None = None,
        expression: str = "",
    ) -> None:
        self.column = column
        self.expression = expression
        super().__init__(what, where=where, why=why, fix=fix)


class NapkinSyntaxError(NapkinError):
    """The expression is not valid napkin syntax (or uses a construct that is not allowed)."""


class LimitError(NapkinError):
    """An expression exceeded a resource limit (exponent, magnitude, length, nesting)."""
