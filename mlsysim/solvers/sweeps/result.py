"""What a sweep returns: named columns, one value per grid point.

A :class:`Sweep` has ``len()`` (points) and one array per column: ``s["latency_s"]``,
``s["feasible"]``, ``s["binding_wall"]``, the inputs (``s["batch"]``, ``s["model"]``, …).
Float columns are numpy ``float64`` (NaN where a point has no such value: ``mfu`` of a step
that does not fit, ``power_w`` of a device without a TDP, a distributed field on a one-device
point); text columns (models, systems, walls, …) are held as small integer codes into their
labels and decoded when read. ``to_pandas()``/``to_arrow()`` give a table when pandas or
pyarrow is installed; ``csv()`` and ``to_dict()`` (schema ``mlsysim.sweep/1``,
``mlsysim schema sweep``) are the command line's formats. A sweep over dask arrays holds dask
arrays until :meth:`Sweep.compute`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from typing import Any

from mlsysim.core.exceptions import ConfigError

__all__ = ["SWEEP_SCHEMA_VERSION", "Sweep", "sweep_json_schema"]

#: The versioned name of the JSON form (``"schema"`` key).
SWEEP_SCHEMA_VERSION = "mlsysim.sweep/1"


class Sweep:
    """Columns of a sweep (see the module doc); ``offset`` is the first point's index in the
    whole grid (a chunk of :func:`~mlsysim.solvers.sweep_chunks` starts there)."""

    __slots__ = ("_columns", "_labels", "_size", "offset")

    def __init__(
        self,
        columns: dict[str, Any],
        labels: dict[str, tuple[Any, ...]],
        size: int,
        offset: int = 0,
    ) -> None:
        self._columns = columns
        self._labels = labels
        self._size = size
        self.offset = offset

    def __len__(self) -> int:
        return self._size

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names, inputs first."""
        return tuple(self._columns)

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __getitem__(self, name: str) -> Any:
        try:
            col = self._columns[name]
        except KeyError:
            raise ConfigError(
                f"the sweep has no column {name!r}",
                where="sweep",
                fix=f"read one of: {', '.join(self._columns)}",
            ) from None
        labels = self._labels.get(name)
        if labels is None:
            return col
        import numpy as np

        table = np.asarray(labels, dtype=object if _mixed(labels) else None)
        if not hasattr(col, "map_blocks"):
            return table[col]
        return col.map_blocks(table.__getitem__, dtype=table.dtype)  # a lazy (dask) column

    @property
    def lazy(self) -> bool:
        """Whether the columns are dask arrays (a sweep over dask inputs)."""
        return any(hasattr(c, "map_blocks") for c in self._columns.values())

    def compute(self) -> Sweep:
        """This sweep with every dask column computed (in one pass over the graph, by the
        active dask scheduler or ``distributed.Client``); a numpy sweep is returned as is."""
        if not self.lazy:
            return self
        import dask

        names = list(self._columns)
        values = dask.compute(*(self._columns[n] for n in names))
        return Sweep(dict(zip(names, values, strict=True)), self._labels, self._size, self.offset)

    def row(self, i: int) -> dict[str, Any]:
        """Point ``i`` (of this sweep) as a dict of Python values."""
        if not -self._size <= i < self._size:
            raise IndexError(f"point {i} of a sweep of {self._size}")
        s = self.compute()
        return {n: _py(s[n][i]) for n in s._columns}

    def rows(self) -> Iterator[list[Any]]:
        """Every point as a list of Python values, in :attr:`columns` order."""
        s = self.compute()
        cols = [s[n] for n in s._columns]
        for i in range(self._size):
            yield [_py(c[i]) for c in cols]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"schema", "points", "columns", "rows"}`` (NaN → null)."""
        return {
            "schema": SWEEP_SCHEMA_VERSION,
            "schema_version": SWEEP_SCHEMA_VERSION,
            "points": self._size,
            "columns": list(self._columns),
            "rows": [[_json(v) for v in r] for r in self.rows()],
        }

    def csv(self, header: bool = True) -> str:
        """One CSV row per point (a header row first unless ``header=False``)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        if header:
            w.writerow(self._columns)
        w.writerows([_csv(v) for v in r] for r in self.rows())
        return out.getvalue()

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the columns (text columns as categoricals)."""
        try:
            import pandas as pd
        except ImportError:
            raise ConfigError(
                "Sweep.to_pandas needs pandas, which is not installed",
                where="sweep",
                fix="install this package's [table] extra (pandas), or read the numpy columns",
            ) from None
        s = self.compute()
        data: dict[str, Any] = {}
        for n, col in s._columns.items():
            labels = s._labels.get(n)
            if labels is None:
                data[n] = col
            else:
                data[n] = pd.Categorical.from_codes(col, categories=[str(x) for x in labels])
        return pd.DataFrame(data)

    def to_arrow(self) -> Any:
        """A pyarrow Table of the columns (text columns dictionary-encoded)."""
        try:
            import pyarrow as pa
        except ImportError:
            raise ConfigError(
                "Sweep.to_arrow needs pyarrow, which is not installed",
                where="sweep",
                fix="pip install pyarrow, or use to_pandas() or the numpy columns",
            ) from None
        s = self.compute()
        arrays = {}
        for n, col in s._columns.items():
            labels = s._labels.get(n)
            if labels is None:
                arrays[n] = pa.array(col)
            else:
                arrays[n] = pa.DictionaryArray.from_arrays(
                    pa.array(col), pa.array([str(x) for x in labels])
                )
        return pa.table(arrays)

    def __repr__(self) -> str:
        return f"Sweep({self._size} points × {len(self._columns)} columns)"


def _mixed(labels: Sequence[Any]) -> bool:
    return len({type(x) for x in labels}) > 1


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _json(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _csv(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return ""
    if isinstance(v, float):
        return repr(v)
    return v


def sweep_json_schema() -> dict[str, Any]:
    """``mlsysim sweep --json`` (JSON Schema draft 2020-12)."""
    cell = {"type": ["number", "integer", "string", "boolean", "null"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/sweep-1.json",
        "title": "mlsysim sweep --json",
        "description": "one row per grid point, values in the order of 'columns'; null where "
        "a point has no such value (NaN: e.g. mfu of a step that does not fit)",
        "type": "object",
        "required": ["schema", "schema_version", "points", "columns", "rows"],
        "additionalProperties": False,
        "properties": {
            "schema": {"const": SWEEP_SCHEMA_VERSION},
            "schema_version": {"const": SWEEP_SCHEMA_VERSION},
            "points": {"type": "integer", "minimum": 0},
            "columns": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "rows": {"type": "array", "items": {"type": "array", "items": cell}},
        },
    }
