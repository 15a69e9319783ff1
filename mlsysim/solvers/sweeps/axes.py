"""A sweep's axes: each keyword's values as given (a scalar, a list, a 1-D array, a dask
array), checked, and the integer axes (``batch``, ``seq_len``) as int64 arrays, every value
checked as ``solve()`` checks it (:mod:`mlsysim.solvers.sweeps.grid` says what a grid is)."""

from __future__ import annotations

import numbers
from typing import Any

from mlsysim.core.exceptions import ConfigError
from mlsysim.solvers import arguments

__all__ = ["axis_values", "counts", "is_dask", "label"]


def is_dask(x: Any) -> bool:
    """Whether ``x`` is a dask object (dask is an optional extra: never imported here)."""
    return type(x).__module__.split(".")[0] == "dask"


def axis_values(name: str, value: Any) -> tuple[Any, ...] | Any:
    """An axis's values: a tuple (or the array itself for an array axis)."""
    if isinstance(value, list | tuple | range):
        values = tuple(value)
    elif is_dask(value) or type(value).__module__.split(".")[0] == "numpy":
        if getattr(value, "ndim", 0) == 0:
            return (value.item() if hasattr(value, "item") else value,)
        if value.ndim != 1:
            raise ConfigError(
                f"sweep axis {name} must be one-dimensional, got shape {value.shape}",
                where="sweep",
                fix=f"pass {name} as a 1-D array or a list",
            )
        values = value
    elif isinstance(value, set | frozenset | dict):
        raise ConfigError(
            f"sweep axis {name} is a {type(value).__name__}: its order is not defined",
            where="sweep",
            fix=f"pass {name} as a list, e.g. {name}=sorted(...)",
        )
    else:
        return (value,)
    if len(values) == 0:
        raise ConfigError(
            f"sweep axis {name} is empty",
            where="sweep",
            fix=f"pass at least one value of {name}",
        )
    return values


def counts(name: str, values: Any, minimum: int) -> Any:
    """An integer axis (batch, seq_len) as an int64 array, every value checked."""
    import numpy as np

    if is_dask(values):
        if values.dtype.kind not in "iu":
            raise ConfigError(
                f"sweep axis {name} must hold whole numbers, got dtype {values.dtype}",
                where="sweep",
                fix=f"pass {name} as an integer array, e.g. dask.array.arange(1, 65)",
            )
        low = int(values.min())
        if low < minimum:
            _check_count(name, low, minimum)
        return values
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "iu":
            raise ConfigError(
                f"sweep axis {name} must hold whole numbers, got dtype {values.dtype}",
                where="sweep",
                fix=f"pass {name} as integers, e.g. numpy.arange(1, 65)",
            )
        arr = values.astype(np.int64)
    elif all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        arr = np.fromiter(values, dtype=np.int64, count=len(values))  # ints, numpy's too
    else:  # "8 sample", "2048 token": the solver's own parsing and errors
        arr = np.array([_check_count(name, v, minimum) for v in values], dtype=np.int64)
    if len(arr) and int(arr.min()) < minimum:
        _check_count(name, int(arr.min()), minimum)
    return arr


def _check_count(name: str, value: Any, minimum: int) -> int:
    if name == "batch":
        return arguments.batch(value, "sweep")
    return arguments.seq_len(value, minimum, "sweep")


def label(v: Any) -> Any:
    """A text axis value as the sweep labels it: its registry id, the string, or ``str()``."""
    ident = getattr(v, "id", None)
    return ident if isinstance(ident, str) else v if isinstance(v, str) or v is None else str(v)
