"""Fast quantity arithmetic for the evaluator: pint's semantics at a fraction of its cost.

pint's operators re-derive units and conversion factors on every call (~50–100 µs each). Napkin
math repeats the same unit combinations, so this module caches, per pair of unit containers,
the product/quotient units and the conversion factor of an addition or comparison, and builds
the result Quantity directly. Results are the same as pint's: ``a + b`` is in ``a``'s units,
``a * b`` in the product units (``GB·s/TB``). Anything unusual — dimension mismatches (so the
error comes from pint, worded by :mod:`mlsysim.core.units`), dimensionless-with-number mixes,
offset units — falls back to the plain pint operator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlsysim.core.units import ureg

__all__ = ["binop", "compare", "same_dimension"]

_QCLS: Any = type(ureg.Quantity(1, "s"))
_UNITS: dict[tuple[Any, Any, str], Any] = {}
_FACTOR: dict[tuple[Any, Any], float] = {}
_NUMBER = (int, float)


def _make(magnitude: Any, units: Any) -> Any:
    q = object.__new__(_QCLS)
    q._magnitude = magnitude
    q._units = units
    return q


def _combined(ua: Any, ub: Any, op: str) -> Any:
    key = (ua, ub, op)
    units = _UNITS.get(key)
    if units is None:
        left = ureg.Unit(ua) if ua is not None else ureg.Unit("")
        right = ureg.Unit(ub)
        units = (left * right if op == "*" else left / right)._units
        _UNITS[key] = units
    return units


def _factor(src: Any, dst: Any) -> float | None:
    key = (src, dst)
    f = _FACTOR.get(key)
    if f is None:
        a, b = ureg.Quantity(1.0, src), ureg.Quantity(1.0, dst)
        if a.dimensionality != b.dimensionality:
            return None
        f = float(a.to(dst).magnitude)
        _FACTOR[key] = f
    return f


def _is_q(x: Any) -> bool:
    return type(x) is _QCLS


def _is_n(x: Any) -> bool:
    return type(x) in _NUMBER


def binop(sym: str, a: Any, b: Any, fallback: Callable[[Any, Any], Any]) -> Any:
    """``a sym b`` for ``+ - * /``; ``fallback`` (the pint operator) for anything unusual."""
    qa, qb = _is_q(a), _is_q(b)
    if qa and qb:
        ma, mb = a._magnitude, b._magnitude
        if type(ma) in _NUMBER and type(mb) in _NUMBER:
            ua, ub = a._units, b._units
            if sym in "+-":
                if ua == ub:
                    return _make(ma + mb if sym == "+" else ma - mb, ua)
                f = _factor(ub, ua)
                if f is not None:
                    return _make(ma + mb * f if sym == "+" else ma - mb * f, ua)
            elif sym == "*":
                return _make(ma * mb, _combined(ua, ub, "*"))
            elif sym == "/":
                return _make(ma / mb, _combined(ua, ub, "/"))
    elif qa and _is_n(b) and type(a._magnitude) in _NUMBER:
        if sym == "*":
            return _make(a._magnitude * b, a._units)
        if sym == "/":
            return _make(a._magnitude / b, a._units)
    elif qb and _is_n(a) and type(b._magnitude) in _NUMBER:
        if sym == "*":
            return _make(a * b._magnitude, b._units)
        if sym == "/":
            return _make(a / b._magnitude, _combined(None, b._units, "/"))
    return fallback(a, b)


def same_dimension(a: Any, b: Any) -> bool:
    """Whether two quantities can be compared or added (cached per pair of units)."""
    ua, ub = a._units, b._units
    return ua == ub or _factor(ub, ua) is not None


def compare(fn: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """``fn(a, b)`` for two quantities of one dimension via a cached factor (pint otherwise).

    The caller has checked that the dimensions agree (a mismatch is a DimensionError, never
    a silent False).
    """
    if _is_q(a) and _is_q(b):
        ma, mb = a._magnitude, b._magnitude
        if type(ma) in _NUMBER and type(mb) in _NUMBER:
            if a._units == b._units:
                return fn(ma, mb)
            f = _factor(b._units, a._units)
            if f is not None:
                return fn(ma, mb * f)
    return fn(a, b)
