"""Tolerances of claims: relative (``@ 10%``, ``@ 0.1``) or absolute (``@ 0.5 ms``).

A claim's tolerance is the one it writes, else the document's default relative tolerance
and its absolute tolerances (``Options``). An error of a tolerance the claim writes is
raised as :class:`AtTolerance`, so it is reported where the tolerance is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlsysim.book.evaluator import Recorder
from mlsysim.book.outcomes import Located
from mlsysim.core.exceptions import MlsysimError, NapkinError
from mlsysim.core.unit_text import read_number

__all__ = [
    "PERCENT",
    "AtTolerance",
    "Tolerance",
    "claim_tolerance",
    "parse_tolerance",
    "relative_tolerance",
]

#: Percent per unit of a relative tolerance (0.05 → 5 %).
PERCENT = 100


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Relative fraction and/or absolute quantities; ``text`` as written for messages."""

    relative: float | None
    absolute: tuple[Any, ...]
    text: str
    written: bool = False  # written for this claim: its dimension must be the claim's


class AtTolerance(Exception):
    """An error of a claim's own tolerance: reported where the tolerance is written."""

    def __init__(self, error: MlsysimError) -> None:
        super().__init__(str(error))
        self.error = error


def relative_tolerance(value: float, text: str) -> Tolerance:
    """A relative tolerance (a fraction, below 1) written as ``text``."""
    if not math.isfinite(value) or not 0 <= value < 1:
        raise NapkinError(
            f"the tolerance {text!r} is not a relative tolerance",
            expression=text,
            column=0,
            why="a relative tolerance is finite and from 0 % up to (not including) 100 %",
            fix="write e.g. `@ 10%`, or an absolute tolerance such as `@ 0.5 ms`",
        )
    return Tolerance(value, (), text)


def parse_tolerance(text: str, *, evaluate: Any) -> Tolerance:
    """``10%`` / ``0.1`` (relative) or ``0.5 ms`` (absolute); ``evaluate`` reads quantities."""
    t = text.strip()
    plain = t[:-1].rstrip() if t.endswith("%") else t
    number = read_number(plain, 0)
    if number is not None and number.end == len(plain):
        return relative_tolerance(number.value / (PERCENT if t.endswith("%") else 1), t)
    if t.endswith("%"):
        raise NapkinError(
            f"cannot read the tolerance {t!r}",
            expression=t,
            column=0,
            why="a relative tolerance is a finite number of percent",
            fix="write e.g. `@ 10%`",
        )
    value = evaluate(t)
    from mlsysim.core.units import ureg

    if not isinstance(value, ureg.Quantity) or value.dimensionless:
        raise NapkinError(
            f"cannot read the tolerance {t!r}",
            expression=t,
            column=0,
            fix="write a percentage (`@ 10%`), a fraction (`@ 0.1`) or a quantity (`@ 0.5 ms`)",
        )
    if not math.isfinite(float(value.magnitude)) or value.magnitude < 0:
        raise NapkinError(
            f"the tolerance {t!r} must be a finite, non-negative quantity", expression=t
        )
    return Tolerance(None, (value,), t, written=True)


def claim_tolerance(doc: Recorder, given: Any) -> Tolerance:
    """The tolerance of a claim: ``given`` (written for it), else the document's."""
    options = doc.evaluator.options
    if given is None:
        rel = options.tolerance
        absolute = tuple(options.absolute_tolerances())
        return Tolerance(rel, absolute, f"{rel * PERCENT:g} %")
    if isinstance(given, int | float) and not isinstance(given, bool):
        return relative_tolerance(float(given), f"{float(given) * PERCENT:g} %")
    try:
        return parse_tolerance(str(given), evaluate=lambda t: doc.evaluator.evaluate(t).value)
    except MlsysimError as exc:
        raise AtTolerance(exc) from None
    except Located as loc:
        raise AtTolerance(loc.error) from None
