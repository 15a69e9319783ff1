"""The collective fast path: planned float terms price exactly as the step-by-step reference.

``collective_pricing.time_collective`` and ``achievable_collective`` price a size from a plan
made once per group and operation; ``reference_timing`` builds the group's levels, NCCL's
rows and each row's term for every call. The property test draws operations, sizes (NCCL's
table and plateau edges included), systems, device counts, sub-groups and algorithms and
holds the two to 1e-12 relative; the counting tests fail if a pricing bypasses the plans.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import random
from typing import Any

import pytest

import mlsysim
from mlsysim.core import cache
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.units import from_si
from mlsysim.systems import collective_pricing as pricing
from mlsysim.systems import collectives
from mlsysim.systems.collective_terms import ALGORITHMS
from mlsysim.systems.protocols import link_levels
from mlsysim.systems.registry import Clusters, Nodes
from mlsysim.systems.topology import Group, resolve_system

REL = 1e-12


def _close(a: float, b: float) -> bool:
    if a == b:
        return True
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= REL * max(abs(a), abs(b))


def _size(rng: random.Random, n: int) -> float:
    r = rng.random()
    if r < 0.6:
        return 10 ** rng.uniform(0.0, 10.5)
    edge = rng.choice((1.0, 1.0 - 1e-12, 1.0 + 1e-12))
    if r < 0.8:  # the tree correction's size table: powers of two from 64 B
        return 64.0 * 2 ** rng.randint(0, 24) * edge
    return n * 4096.0 * edge * rng.choice((1.0, 0.5, 2.0))  # the ring Simple plateau


def _draws(seed: int, count: int) -> list[tuple[str, str, float, Group]]:
    rng = random.Random(seed)
    systems = [*Nodes.ids(), *Clusters.ids()]
    out: list[tuple[str, str, float, Group]] = []
    while len(out) < count:
        view = resolve_system(rng.choice(systems))
        devices = rng.randint(2, max(2, min(view.devices, 20_000)))
        if rng.random() < 0.3:
            devices = rng.choice((2, 8, 16, 64, 1024, view.devices))
        try:
            view = resolve_system(view.id, devices)
        except ConfigError:
            continue  # more devices than a cluster has
        stride = rng.choice([s for s in (1, 1, 2, 4, 8, 16) if devices // s >= 2])
        grp = view.group(rng.randint(2, devices // stride), stride)  # inside the view
        op = rng.choice(list(ALGORITHMS))
        algorithm = rng.choice(("auto", "auto", *ALGORITHMS[op]))
        out.append((op, algorithm, _size(rng, grp.n), grp))
    return out


def _priced(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ConfigError as exc:
        return type(exc)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_path_prices_as_the_reference(seed: int) -> None:
    cache.clear_all()
    draws = _draws(seed, 700)
    for op, algorithm, size, grp in draws:
        fast = _priced(pricing.time_collective, op, size, grp, algorithm)
        ref = _priced(pricing.reference_timing, op, size, grp, algorithm)
        where = (op, algorithm, size, grp.n, grp.per_node, grp.nodes, grp.intra, grp.inter)
        if isinstance(ref, type):
            assert fast is ref, where
            continue
        assert fast.algorithm == ref.algorithm, where
        assert _close(fast.time, ref.time) and _close(fast.bound, ref.bound), (fast, ref, where)
        if algorithm == "auto":
            t, chosen = pricing.achievable_collective(op, size, grp)
            assert chosen == ref.algorithm and _close(t, ref.time), where
    # a second pass is all cache hits, and still the reference's
    for op, algorithm, size, grp in draws[:100]:
        fast = _priced(pricing.time_collective, op, size, grp, algorithm)
        ref = _priced(pricing.reference_timing, op, size, grp, algorithm)
        assert fast == ref


def test_api_prices_as_the_reference() -> None:
    rng = random.Random(7)
    for system, devices in (("DGX_H100", 8), ("H100_1024", 1024), ("DGX_A100", 64)):
        grp = resolve_system(system, devices).group(devices, 1)
        for op, algorithms in ALGORITHMS.items():
            for algorithm in ("auto", *algorithms):
                size = 10 ** rng.uniform(2.0, 10.0)
                ref = _priced(pricing.reference_timing, op, size, grp, algorithm)
                got = _priced(
                    collectives.collective, op, from_si(size, "B"), system, devices, algorithm
                )
                if isinstance(ref, type):
                    assert got is ref
                    continue
                assert got.algorithm == ref.algorithm, (op, algorithm, system)
                assert _close(got.time_s, ref.time) and _close(got.time_bound_s, ref.bound)


# --- counting: the fast path is the path ------------------------------------------------------


def _forbid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every step of a pricing from scratch fail: levels, NCCL's rows, terms."""

    def boom(*_: Any, **__: Any) -> Any:
        raise AssertionError("priced from scratch")

    for name in ("link_levels", "protocol_rows", "term", "reference_timing"):
        monkeypatch.setattr(pricing, name, boom)


def test_a_new_size_on_a_planned_group_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.clear_all()
    grp = resolve_system("H100_1024", 1024).group(1024, 1)
    for op in ALGORITHMS:
        pricing.time_collective(op, 1e6, grp)
    made = pricing.plans_made[0]
    _forbid(monkeypatch)
    for i in range(50):
        for op, algorithms in ALGORITHMS.items():
            size = 1e3 * 1.37**i
            for algorithm in ("auto", *algorithms):
                if algorithm == "sharp":  # not enabled on this cluster's switches
                    continue
                pricing.time_collective(op, size, grp, algorithm)
            pricing.achievable_collective(op, size, grp)
    assert pricing.plans_made[0] == made


def test_one_plan_per_group_and_operation() -> None:
    cache.clear_all()
    grp = resolve_system("DGX_A100", 64).group(16, 4)
    made = pricing.plans_made[0]
    for i in range(20):
        for op in ALGORITHMS:
            pricing.time_collective(op, 1e4 * 2.1**i, grp)
            pricing.achievable_collective(op, 3e4 * 2.1**i, grp)
    # six operations, five plans: reduce-scatter runs all-gather's terms
    assert pricing.plans_made[0] - made == 5


def test_a_warm_api_call_prices_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.clear_all()
    first = mlsysim.collective("all_reduce", "1 GB", "H100_1024", devices=1024)
    mlsysim.collective("all_reduce", "2 GB", "H100_1024", devices=1024)
    made = pricing.plans_made[0]
    _forbid(monkeypatch)
    # the same call: the result kept; another size: the view's group and its plan kept
    assert mlsysim.collective("all_reduce", "1 GB", "H100_1024", devices=1024) is first
    again = mlsysim.collective("all_reduce", "3 GB", "H100_1024", devices=1024)
    assert again.time_s > first.time_s and pricing.plans_made[0] == made


def test_a_fresh_sweep_plans_each_group_once(monkeypatch: pytest.MonkeyPatch) -> None:
    grid: dict[str, Any] = dict(
        model="Llama2_70B",
        system="DGX_A100",
        phase="training",
        devices=64,
        tp=[2, 8],
        pp=[1, 4],
        zero=[0, 3],
        batch=[256, 512],
        seq_len=4096,
    )
    ref = mlsysim.sweep(**grid)
    cache.clear_all()
    priced: list[tuple[str, float, Group]] = []
    achievable = pricing.achievable_collective

    def counted(op: str, size: float, grp: Group) -> tuple[float, str]:
        priced.append((op, size, grp))
        return achievable(op, size, grp)

    from mlsysim.solvers.distributed import timing as distributed_timing

    monkeypatch.setattr(distributed_timing, "achievable_collective", counted)
    monkeypatch.setattr(pricing, "reference_timing", None)  # never the reference
    made = pricing.plans_made[0]
    got = mlsysim.sweep(**grid)
    assert list(got["step_time_s"]) == list(ref["step_time_s"])
    plans = pricing.plans_made[0] - made
    kinds = {
        ("all_gather" if op == "reduce_scatter" else op, id(g))
        for op, size, g in priced
        if g.n > 1 and size > 0.0
    }
    # a send/recv plan per what it reads of a group (its links, levels and shape)
    p2p = {
        pricing._p2p_key(g, link_levels(g, achievable=True))
        for op, size, g in priced
        if op == "send_recv" and g.n > 1 and size > 0.0
    }
    made_for = len({k for k in kinds if k[0] != "send_recv"}) + len(p2p)
    assert priced and plans == made_for and len(kinds) == len(pricing._PLANS)
    # the sweep again: every collective a cache hit, no plan
    mlsysim.sweep(**grid)
    assert pricing.plans_made[0] - made == plans


def test_send_recv_groups_of_equal_links_share_one_plan() -> None:
    """A send/recv reads of its group only its links, whether it spans nodes, whether it
    has one rank per node and its levels: the groups of one node (2, 4, 8 ranks) share one
    plan, the groups of one rank per node (2, 4, 8 nodes) another (six plans before), and
    each still prices as the step-by-step reference."""
    cache.clear_all()
    view = resolve_system("DGX_A100", 64)
    inside = [view.group(n) for n in (2, 4, 8)]
    across = [view.group(n, 8) for n in (2, 4, 8)]
    made = pricing.plans_made[0]
    for grp in (*inside, *across):
        for size in (1e3, 3e5, 7e7):
            fast = pricing.time_collective("send_recv", size, grp)
            assert fast == pricing.reference_timing("send_recv", size, grp)
            t, algorithm = pricing.achievable_collective("send_recv", size, grp)
            assert (t, algorithm) == (fast.time, fast.algorithm)
    assert pricing.plans_made[0] - made == 2
    assert len({id(pricing.plan("send_recv", g)) for g in inside}) == 1
    assert len({id(pricing.plan("send_recv", g)) for g in across}) == 1
    assert pricing.plan("send_recv", inside[0]) is not pricing.plan("send_recv", across[0])


def test_group_interning_key_covers_every_field_of_a_group() -> None:
    """Equal groups of one view are interned by a cheap key: it must tell apart every field
    a pricing may read (a field added to Group without it would merge distinct groups)."""
    from mlsysim.solvers.distributed import timing as distributed_timing

    grp = resolve_system("SuperPOD_A100", 256).group(16, 8)
    key = distributed_timing._shape(grp)
    assert len(key) == len(dataclasses.fields(Group))
    for f in dataclasses.fields(Group):
        other = dataclasses.replace(grp, **{f.name: _other(getattr(grp, f.name))})
        assert distributed_timing._shape(other) != key, f.name


def _other(value: Any) -> Any:
    """Another value of a group field: the next number, the other flag, an equal link that
    is another object."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    assert value is not None
    return copy.copy(value)


def test_groups_at_the_same_levels_share_their_protocol_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NCCL's rows at a group's achievable levels are the same for every group whose links
    record the same rows at those levels: a fresh sweep over 8 rank layouts of one cluster
    builds each set of rows once, not once per group, operation and family (and prices as
    before)."""
    from mlsysim.systems import protocols

    grid: dict[str, Any] = dict(
        model="Llama2_70B", system="DGX_A100", phase="training", devices=64,
        tp=[2, 8], pp=[1, 2, 4, 8], zero=[0, 3], batch=[256, 512], seq_len=4096,
    )  # fmt: skip
    ref = mlsysim.sweep(**grid)
    cache.clear_all()
    rows: list[Any] = []
    row = protocols._row

    def counted(real: Any, st: Any) -> Any:
        rows.append((real, st))
        return row(real, st)

    monkeypatch.setattr(protocols, "_row", counted)
    got = mlsysim.sweep(**grid)
    assert list(got["step_time_s"]) == list(ref["step_time_s"])
    # each set of NCCL's rows at each levels built once: fewer than one set per group,
    # operation and family (what every pricing reads)
    assert len(rows) == sum(len(made) for made in protocols._ROWS.values())
    assert len(rows) < sum(len(made) for _, made in protocols._PROTOCOL_LEVELS.values()) / 2
