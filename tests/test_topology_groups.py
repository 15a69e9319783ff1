"""Placing a parallel group on a system: ``SystemView.group(size, stride)`` takes only groups
that fit the view (whole numbers ≥ 1, size × stride ≤ devices) and says what fits otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlsysim.core.exceptions import ConfigError
from mlsysim.systems.collective_pricing import time_collective
from mlsysim.systems.topology import resolve_system


@pytest.mark.parametrize(
    ("size", "stride"), [(16, 1), (8, 2), (2, 8), (1, 16), (1, 1), (3, 2), (4, 4)]
)
def test_every_group_inside_the_view_is_placed(size: int, stride: int) -> None:
    view = resolve_system("DGX_H100", 16)  # 2 nodes of 8
    grp = view.group(size, stride)
    assert grp.n == size
    assert grp.per_node * grp.nodes >= size
    assert grp.nodes <= view.nodes


def test_numpy_integers_are_rank_counts() -> None:
    view = resolve_system("DGX_H100", 16)
    assert view.group(np.int64(4), np.int64(2)) == view.group(4, 2)


@pytest.mark.parametrize(
    ("size", "stride", "why"),
    [
        (32, 1, "32 ranks 1 apart take a block of 32 × 1 = 32 ranks, more than the 16"),
        (3, 8, "3 ranks 8 apart take a block of 3 × 8 = 24 ranks, more than the 16"),
        (4, 0, "whole numbers of ranks, each at least 1"),
        (4, -2, "whole numbers of ranks, each at least 1"),
        (0, 1, "whole numbers of ranks, each at least 1"),
        (2.0, 1, "whole numbers of ranks, each at least 1"),
        (True, 1, "whole numbers of ranks, each at least 1"),
        ("4", 1, "whole numbers of ranks, each at least 1"),
    ],
)
def test_a_group_that_does_not_fit_says_what_fits(size: Any, stride: Any, why: str) -> None:
    view = resolve_system("DGX_H100", 16)
    with pytest.raises(ConfigError) as info:
        view.group(size, stride)
    err = info.value
    assert (
        err.what
        == f"a group of size={size!r} and stride={stride!r} does not fit DGX_H100 (16 devices)"
    )
    assert err.where == "SystemView.group"
    assert why in err.why
    assert (
        err.fix
        == "pass size ≥ 1 and stride ≥ 1 with size × stride ≤ 16 (group(16, 1) is all of them)"
    )


def test_no_collective_is_priced_on_a_group_outside_the_view() -> None:
    # before the check: 32 ranks on 16 devices priced an all-to-all, stride 0 divided by zero
    view = resolve_system("DGX_H100", 16)
    for size, stride in ((32, 1), (4, 0)):
        with pytest.raises(ConfigError):
            time_collective("all_to_all", 1e9, view.group(size, stride), "auto")
