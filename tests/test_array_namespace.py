"""``core.arrays.namespace``: the array API namespace of a combination of array types is
looked up once (``array_api_compat`` decides by type alone), and mixed kinds still fail."""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest

from mlsysim.core import arrays


def test_a_namespace_is_looked_up_once_per_combination_of_types(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    look_up = array_api_compat.array_namespace

    def counted(*xs: object) -> object:
        calls.append(len(xs))
        return look_up(*xs)

    monkeypatch.setattr(arrays, "_NAMESPACES", {})
    monkeypatch.setattr(array_api_compat, "array_namespace", counted)
    a, b = np.arange(3.0), np.ones(3)
    first = arrays.namespace(a, 1.0, b)
    for _ in range(5):
        assert arrays.namespace(b, 2.0, a) is first
    assert calls == [2]  # (the Python number is no array)
    assert arrays.select(a > 1.0, a, 0.0).tolist() == [0.0, 0.0, 2.0]


def test_an_unknown_kind_is_refused_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arrays, "_NAMESPACES", {})
    for _ in range(2):
        with pytest.raises(TypeError):
            arrays.namespace(object())
    assert arrays._NAMESPACES == {}
