"""Math helpers callable from napkin expressions, each checking its arguments first.

``sqrt log log2 log10 exp ceil floor round min max abs mod`` and the constant ``pi``. Every
helper takes numbers or quantities only, and refuses what would hang, overflow or exhaust
memory before computing (``round(x, -1e9)``, ``max`` of more than
:data:`~mlsysim.book.lang.limits.MAX_ITEMS` values).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mlsysim.book.lang.limits import MAX_ITEMS, MAX_ROUND_DIGITS
from mlsysim.book.lang.values import Fn, describe, unwrap
from mlsysim.core.exceptions import FormulaDomainError, LimitError, NapkinError

__all__ = ["CONSTANTS", "HELPERS"]


def _quantity_class() -> Any:
    from mlsysim.core.units import ureg

    return ureg.Quantity


def _number(x: Any, fn: str) -> float:
    """A dimensionless number (int/float or dimensionless Quantity) as float, else an error."""
    from mlsysim.core.units import describe_dimension, fmt_quantity

    q = _quantity_class()
    if isinstance(x, bool) or not isinstance(x, int | float | q):
        raise NapkinError(f"{fn}() needs a number, got {describe(x)}")
    if isinstance(x, q):
        if not x.dimensionless:
            raise NapkinError(
                f"{fn}() needs a dimensionless number, got {fmt_quantity(x)} "
                f"({describe_dimension(x)})",
                fix=f"divide by a unit first, e.g. {fn}(x / GB)",
            )
        return float(x.to("").magnitude)
    return float(x)


def _numeric(x: Any, fn: str) -> Any:
    """A number or a quantity, else an error naming the helper."""
    if isinstance(x, bool) or not isinstance(x, int | float | _quantity_class()):
        raise NapkinError(f"{fn}() needs a number or a quantity, got {describe(x)}")
    return x


def _sqrt(x: Any) -> Any:
    x = _numeric(x, "sqrt")
    mag = getattr(x, "magnitude", x)
    if mag < 0:
        raise FormulaDomainError("sqrt() of a negative value", fix="check the sign of the argument")
    return x**0.5 if isinstance(x, _quantity_class()) else math.sqrt(x)


def _positive(v: float, name: str) -> float:
    if v <= 0:
        raise FormulaDomainError(
            f"{name}() of a value that is not positive",
            why=f"the argument is {v:g}",
            fix="check the argument",
        )
    return v


def _log(x: Any, base: Any = None) -> float:
    v = _positive(_number(x, "log"), "log")
    if base is None:
        return math.log(v)
    b = _positive(_number(base, "log"), "log")
    if b == 1:
        raise FormulaDomainError("log() to base 1", fix="use a base other than 1")
    return math.log(v, b)


def _log_base(base: float, name: str) -> Callable[[Any], float]:
    def log_b(x: Any) -> float:
        return math.log(_positive(_number(x, name), name), base)

    return log_b


def _exp(x: Any) -> float:
    v = _number(x, "exp")
    if v > 690:
        raise LimitError("exp() overflows", why=f"the argument {v:g} is above 690")
    return math.exp(v)


def _rounder(fn: Callable[[float], Any], name: str) -> Callable[[Any], int]:
    def r(x: Any) -> int:
        return int(fn(_number(x, name)))

    return r


def _round(x: Any, ndigits: Any = 0) -> Any:
    x = _numeric(x, "round")
    if isinstance(ndigits, bool) or not isinstance(ndigits, int | float):
        raise NapkinError(f"round() takes a whole number of digits, got {describe(ndigits)}")
    if ndigits != int(ndigits) or abs(ndigits) > MAX_ROUND_DIGITS:
        raise NapkinError(
            f"round() digits must be a whole number from -{MAX_ROUND_DIGITS} to "
            f"{MAX_ROUND_DIGITS}, got {ndigits:g}",
            fix="round(x, 2) keeps two decimal places",
        )
    digits = int(ndigits)
    if isinstance(x, _quantity_class()) and not x.dimensionless:
        return round(x, digits)
    v = _number(x, "round")
    return round(v) if not digits else round(v, digits)


def _values(args: tuple[Any, ...], name: str) -> list[Any]:
    if not args:
        raise NapkinError(f"{name}() needs at least one value")
    values = list(args[0]) if len(args) == 1 and isinstance(args[0], tuple | list) else list(args)
    if not values:
        raise NapkinError(f"{name}() needs at least one value")
    if len(values) > MAX_ITEMS:
        raise LimitError(f"{name}() of too many values", why=f"the limit is {MAX_ITEMS}")
    return [_numeric(unwrap(v), name) for v in values]


def _minmax(fn: Callable[[list[Any]], Any], name: str) -> Callable[..., Any]:
    def m(*args: Any) -> Any:
        return fn(_values(args, name))

    return m


def _abs(x: Any) -> Any:
    return abs(_numeric(x, "abs"))


def _mod(a: Any, b: Any) -> Any:
    a, b = _numeric(a, "mod"), _numeric(b, "mod")
    if getattr(b, "magnitude", b) == 0:
        raise NapkinError("mod() by zero", fix="check the divisor")
    return a % b


#: Math helpers callable from napkin expressions.
_TABLE: dict[str, Callable[..., Any]] = {
    "sqrt": _sqrt,
    "log": _log,
    "log2": _log_base(2.0, "log2"),
    "log10": _log_base(10.0, "log10"),
    "exp": _exp,
    "ceil": _rounder(math.ceil, "ceil"),
    "floor": _rounder(math.floor, "floor"),
    "round": _round,
    "min": _minmax(min, "min"),
    "max": _minmax(max, "max"),
    "abs": _abs,
    "mod": _mod,
}
HELPERS: dict[str, Fn] = {name: Fn(fn, name, "helper") for name, fn in _TABLE.items()}

#: Named constants.
CONSTANTS: dict[str, float] = {"pi": math.pi}
