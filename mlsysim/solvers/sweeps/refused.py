"""Points ``solve()`` refuses, in a sweep run with ``invalid="mark"``.

A design space's Cartesian product holds points no solve can take: an expert-parallel degree
that does not divide the data-parallel replicas, fewer micro-batches than pipeline stages
under 1F1B, a tensor-parallel degree that does not divide the heads. By default a sweep
raises ``solve()``'s error for the first such point (``invalid="raise"``: every point equals
``solve()``, which raises there). With ``invalid="mark"`` the sweep goes on and marks each
refused point instead:

* ``refused`` — why (the error's own text, as ``solve()`` words it at that point); ``""``
  where the point was solved;
* ``feasible`` False and ``binding_wall`` ``"refused"``;
* every float result column NaN (the point has no value) and the distributed counts
  (``devices``, ``nodes``, ``dp``, ``microbatches``) −1; the input columns keep the point's
  inputs.

A point that solves is exactly what ``solve()`` returns there, whatever its neighbours. Only
the errors a point can meet are marked (:data:`REFUSALS`); a misspelt name or a broken data
file raises in either mode.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.exceptions import (
    ConfigError,
    FormulaDomainError,
    InfeasibleError,
    MissingDataError,
    UnsupportedPrecisionError,
)

__all__ = ["INVALID", "REFUSALS", "REFUSED", "Refusals", "check_invalid"]

#: What a sweep does at a point solve() refuses.
INVALID = ("raise", "mark")
#: The ``binding_wall`` label of a refused point.
REFUSED = "refused"
#: The errors a point of a grid can meet, and so marks: a configuration the solver refuses, a
#: sequence past the model's context, a step that does not fit (``strict``), a figure or a
#: precision the device lacks. Anything else — a misspelt name, a unit error, a broken data
#: file — is the grid's own error and raises in either mode.
REFUSALS = (
    ConfigError,
    FormulaDomainError,
    InfeasibleError,
    MissingDataError,
    UnsupportedPrecisionError,
)


def check_invalid(invalid: Any) -> bool:
    """Whether ``invalid`` asks to mark refused points (a :class:`ConfigError` if it is
    neither of :data:`INVALID`)."""
    if invalid not in INVALID:
        raise ConfigError(
            f"invalid must be 'raise' or 'mark', got {invalid!r}",
            where="sweep(invalid=…)",
            why="it says what the sweep does at a point solve() refuses",
            fix="pass invalid='raise' (the default: solve's error for the first such point) "
            "or invalid='mark' (a 'refused' column says why, the point's results are NaN)",
        )
    return invalid == "mark"


class Refusals:
    """The reasons met so far (the ``refused`` column's labels: code 0 is ``""``) and how a
    refused point's columns are written: the grid's ``inputs`` kept, its integer columns
    ``ints`` −1, ``binding_wall`` the code ``wall``."""

    __slots__ = ("_code", "inputs", "ints", "reasons", "wall")

    def __init__(self, inputs: set[str], ints: frozenset[str], wall: int) -> None:
        self.inputs = inputs
        self.ints = ints
        self.wall = wall
        self.reasons: list[str] = [""]
        self._code: dict[str, int] = {"": 0}

    def labels(self) -> tuple[str, ...]:
        return tuple(self.reasons)

    def code(self, err: BaseException) -> int:
        text = str(err)
        k = self._code.get(text)
        if k is None:
            k = self._code[text] = len(self.reasons)
            self.reasons.append(text)
        return k

    def mark(self, out: dict[str, Any], at: Any, err: BaseException, seq: Any) -> None:
        """Write point(s) ``at`` of ``out`` as refused by ``err``: results NaN (−1 in an
        integer column), ``feasible`` False, ``binding_wall`` refused; ``seq_len`` the given
        sequence (no value where the point has none)."""
        for name, col in out.items():
            if name == "refused":
                col[at] = self.code(err)
            elif name == "feasible":
                col[at] = False
            elif name == "binding_wall":
                col[at] = self.wall
            elif name == "seq_len":
                col[at] = _missing(col) if seq is None else seq
            elif name in self.inputs:
                continue
            elif name in self.ints:
                col[at] = -1
            else:
                col[at] = _missing(col)


def _missing(col: Any) -> Any:
    """No value: NaN in a float column, −1 in an integer one."""
    return -1 if col.dtype.kind in "iu" else float("nan")
