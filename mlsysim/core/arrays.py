"""Scalars or arrays: the element-wise choices and rounding a formula's fast path needs.

The formulas' float fast paths (:mod:`mlsysim.core.formulas`) and the lowering run on plain
floats in the solver's hot path, and on whole arrays in a sweep (:func:`mlsysim.sweep`):
numpy arrays, or any array of the Python array API standard (a dask array runs chunked). The
arithmetic is the same either way; only a choice between two values and rounding up are not,
and go through :func:`larger`, :func:`smaller`, :func:`select` or :func:`ceil`, which stay
Python comparisons and :func:`math.ceil` on floats (no cost to the hot path) and become the
array namespace's ``maximum``/``minimum``/``where``/``ceil`` on arrays. The namespace comes
from ``array_api_compat`` (imported on first use, so importing mlsysim never imports numpy).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["ceil", "is_array", "larger", "namespace", "select", "smaller"]

_SCALARS = (float, int, bool)


def is_array(x: Any) -> bool:
    """Whether ``x`` is an array (anything but a Python number)."""
    return not isinstance(x, _SCALARS)


#: The namespace of each combination of array types seen (``array_namespace`` decides by
#: the arrays' types alone, and takes microseconds to: a sweep asks a few dozen times).
_NAMESPACES: dict[tuple[type, ...], Any] = {}


def namespace(*xs: Any) -> Any:
    """The array API namespace of the arrays among ``xs`` (numpy's, dask's, …)."""
    arrays = [x for x in xs if is_array(x)]
    kinds = tuple(map(type, arrays))
    ns = _NAMESPACES.get(kinds)
    if ns is None:
        from array_api_compat import array_namespace

        ns = array_namespace(*arrays)  # (raises for mixed or unknown kinds: not kept)
        if len(_NAMESPACES) < 64:
            _NAMESPACES[kinds] = ns
    return ns


def larger(a: Any, b: Any) -> Any:
    """The larger of ``a`` and ``b``, element-wise."""
    if type(a) is float and type(b) is float:  # the solver's hot path: no further checks
        return a if a > b else b
    if isinstance(a, _SCALARS) and isinstance(b, _SCALARS):
        return a if a > b else b
    return namespace(a, b).maximum(a, b)


def smaller(a: Any, b: Any) -> Any:
    """The smaller of ``a`` and ``b``, element-wise."""
    if type(a) is float and type(b) is float:
        return a if a < b else b
    if isinstance(a, _SCALARS) and isinstance(b, _SCALARS):
        return a if a < b else b
    return namespace(a, b).minimum(a, b)


def select(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``if_true`` where ``condition`` holds, else ``if_false``, element-wise."""
    if condition is True:  # the solver's hot path: a Python comparison's result
        return if_true
    if condition is False:
        return if_false
    if isinstance(condition, bool):
        return if_true if condition else if_false
    return namespace(condition, if_true, if_false).where(condition, if_true, if_false)


def ceil(x: Any) -> Any:
    """The least whole number ≥ ``x``, element-wise, as a float (:func:`math.ceil` as a
    float for a Python number: the comparisons that follow stay on the float fast path)."""
    if type(x) is float or isinstance(x, _SCALARS):
        return float(math.ceil(x))
    return namespace(x).ceil(x)
