"""Pricing a collective on a group: the float fast path, and the reference it is held to.

The model — each algorithm, the bound and the achievable time, NCCL's protocols — is
:mod:`mlsysim.systems.collective_terms`. Everything but the message size is fixed by the
group: its levels, NCCL's rows for them (:mod:`mlsysim.systems.protocols`), each
algorithm's bandwidth and mean step latency. :func:`plan` evaluates those once per group and
operation (cached with the other derived caches, :mod:`mlsysim.core.cache`): per supported
algorithm, one term per protocol — its formula with every argument but the size bound to a
float (:func:`~mlsysim.systems.collective_terms.term`) — and that protocol's base latency.
Pricing a size is then one formula call per term and a minimum, with no level, row, object
or quantity built: :func:`time_collective` (achievable time, line-rate bound, algorithm) and
:func:`achievable_collective` (what a solver's step needs: no bound). :func:`reference_timing`
prices step by step — the group's levels, NCCL's rows, each row's term — with nothing planned;
the tests hold the fast path to it, and both evaluate the same terms, so the model is
written once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import NCCL_RING_SIMPLE_PLATEAU_BYTES
from mlsysim.core.exceptions import ConfigError, UnknownNameError
from mlsysim.systems.collective_terms import ALGORITHMS, Term, supported, term, terms_of
from mlsysim.systems.protocols import CALL_BASE, Levels, link_levels, protocol_rows
from mlsysim.systems.topology import Group

__all__ = [
    "Choice",
    "Timing",
    "achievable_collective",
    "check",
    "plan",
    "plans_made",
    "reference_timing",
    "time_collective",
]

#: In-switch reductions run one protocol (NCCL's NVLS and CollNet: Simple only), priced at
#: the fabric's one recorded latency as before.
_SINGLE_PROTOCOL = frozenset(("nvls", "sharp"))
#: The family of NCCL's tables each algorithm is priced with.
_FAMILY = {"tree": "tree", "pairwise": "p2p", "p2p": "p2p"}
_PLATEAU_BYTES = NCCL_RING_SIMPLE_PLATEAU_BYTES.value
#: Entries each cache keeps before it starts afresh (a sweep must not accumulate): priced
#: sizes are small tuples, a plan holds a few dozen closures.
_CACHE_LIMIT = 65536
_PLAN_LIMIT = 1024  # an all-reduce plan and its bounds: ~12 kB


class Timing(NamedTuple):
    """One collective on a group: achievable and bound seconds, and the algorithm used."""

    time: float
    bound: float
    algorithm: str


class Choice(NamedTuple):
    """One algorithm of a plan: its achievable terms and their base latencies (s), and those
    from the ring Simple plateau's size on."""

    algorithm: str
    auto: bool  # ``auto`` may choose it (SHARP only where the cluster enables it)
    single: bool  # one protocol (an in-switch reduction): its one term, no minimum
    rows: tuple[tuple[Term, float], ...]
    plateau_rows: tuple[tuple[Term, float], ...]
    plateau: float  # bytes from which ``plateau_rows`` apply (inf: never)


def check(op: str, algorithm: str) -> None:
    """Raise unless ``op`` is a collective and ``algorithm`` ``"auto"`` or one of its own."""
    if op not in ALGORITHMS:
        raise UnknownNameError(
            "collective", str(op), ALGORITHMS, fix="use one of " + ", ".join(ALGORITHMS)
        )
    if algorithm != "auto" and algorithm not in ALGORITHMS[op]:
        raise ConfigError(
            f"{op} has no algorithm {algorithm!r}",
            where="collective",
            why=f"{op} algorithms: {', '.join(ALGORITHMS[op])}",
            fix="pass algorithm='auto' or one of those",
        )


# --- the fast path: one plan per group and operation ----------------------------------------

#: Each group and operation's plan, and its bounds; emptied by a registry change or
#: clear_all().
_PLANS = DerivedCache("collective plans")
_BOUNDS = DerivedCache("collective bound plans")
#: Plans made (counted for the tests: a size priced on a planned group makes none).
plans_made = [0]
#: Operations whose terms are another's: reduce-scatter is all-gather's one ring pass.
_SAME_TERMS = {"reduce_scatter": "all_gather"}


def _choice(op: str, algorithm: str, grp: Group, real: Levels) -> Choice:
    auto = algorithm != "sharp" or grp.sharp
    make = terms_of(op, algorithm)
    if algorithm in _SINGLE_PROTOCOL:
        one = ((make(grp, real), CALL_BASE),)
        return _new(Choice, (algorithm, auto, True, one, one, math.inf))
    made = protocol_rows(op, grp, real, _FAMILY.get(algorithm, "ring"))
    rows = tuple([(make(grp, lv), base) for lv, base, _ in made])
    if algorithm != "ring" or all(alt is None for _, _, alt in made):
        return _new(Choice, (algorithm, auto, False, rows, rows, math.inf))
    # the ring Simple plateau: from nRanks/16 x 64 KiB on, that row at its plateau latency
    above = tuple(
        [
            row if alt is None else (make(grp, alt[0]), alt[1])
            for row, (_, _, alt) in zip(rows, made, strict=True)
        ]
    )
    return _new(Choice, (algorithm, auto, False, rows, above, grp.n * _PLATEAU_BYTES))


_new = tuple.__new__  # NamedTuple construction without its Python-level __new__
#: Point-to-point plans by what they read of a group (:func:`_p2p_key`): one plan for every
#: group of equal links, levels and shape, whatever its size.
_P2P_PLANS = DerivedCache("collective point-to-point plans")


def _p2p_key(grp: Group, real: Levels) -> tuple[object, ...]:
    """All a send/recv plan reads of ``grp``: its links (the inter-node one only across
    nodes), whether it spans nodes, whether it has one rank per node (NCCL's rows for the
    link pair, :func:`~mlsysim.systems.protocols.protocol_rows`) and its achievable levels
    (which hold every effect of its size and pods)."""
    multi = grp.nodes > 1
    return (id(grp.intra), id(grp.inter) if multi else None, multi, grp.per_node == 1, real)


def plan(op: str, grp: Group) -> tuple[Choice, ...]:
    """The algorithms ``grp`` supports for ``op`` (in :data:`ALGORITHMS`' order), each with
    its achievable terms (cached per group object and operation; a send/recv plan per what
    it reads of the group, :func:`_p2p_key`)."""
    op = _SAME_TERMS.get(op, op)
    key = (id(grp), op)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    real = link_levels(grp, achievable=True)
    shared = None
    if op == "send_recv":
        p2p = _p2p_key(grp, real)
        links = (grp.intra, grp.inter if p2p[2] else None)  # (what the key's ids are of)
        shared = _P2P_PLANS.get(p2p)
        if shared is not None and (shared[0] is not links[0] or shared[1] is not links[1]):
            shared = None
    if shared is not None:
        made = shared[2]
    else:
        plans_made[0] += 1
        made = tuple(
            [_choice(op, name, grp, real) for name in ALGORITHMS[op] if supported(op, name, grp)]
        )
        if op == "send_recv":
            if len(_P2P_PLANS) > _PLAN_LIMIT:
                _P2P_PLANS.clear()
            _P2P_PLANS.put(p2p, (*links, made))
    if len(_PLANS) > _PLAN_LIMIT:
        _PLANS.clear()
    _PLANS.put(key, (grp, made))
    return made


def _bounds(op: str, grp: Group) -> tuple[Term, ...]:
    """The line-rate bound's term of each algorithm of ``plan(op, grp)`` (cached alike)."""
    op = _SAME_TERMS.get(op, op)
    key = (id(grp), op)
    hit = _BOUNDS.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    peak = link_levels(grp, achievable=False)
    made = tuple(term(op, ch.algorithm, grp, peak) for ch in plan(op, grp))
    if len(_BOUNDS) > _PLAN_LIMIT:
        _BOUNDS.clear()
    _BOUNDS.put(key, (grp, made))
    return made


def _achievable(ch: Choice, M: float) -> float:
    """Achievable seconds of ``ch`` with the fastest protocol for ``M`` bytes (NCCL picks the
    protocol of least modelled time per call)."""
    if ch.single:
        term, base = ch.rows[0]
        return term(M) + base
    best = math.inf
    for term, base in ch.plateau_rows if ch.plateau <= M else ch.rows:
        t = term(M) + base
        if t < best:
            best = t
    return best


#: Priced collectives by (op, size, group, algorithm), and the solvers' achievable-only
#: prices by (op, size, group); emptied by a registry change or clear_all().
_TIMINGS = DerivedCache("collective timings")
_ACHIEVED = DerivedCache("collective achievable times")


def time_collective(op: str, size: float, grp: Group, algorithm: str = "auto") -> Timing:
    """Seconds of collective ``op`` of ``size`` bytes on ``grp`` (float fast path, cached)."""
    key = (op, size, id(grp), algorithm)
    hit = _TIMINGS.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    t = _timing(op, size, grp, algorithm)
    if len(_TIMINGS) > _CACHE_LIMIT:
        _TIMINGS.clear()
    _TIMINGS[key] = (grp, t)
    return t


def _timing(op: str, size: float, grp: Group, algorithm: str) -> Timing:
    if grp.n <= 1 or size <= 0.0:
        return Timing(0.0, 0.0, "none")
    choices = plan(op, grp)
    bounds = _bounds(op, grp)
    if algorithm != "auto":
        for ch, bound in zip(choices, bounds, strict=True):
            if ch.algorithm == algorithm:
                return Timing(_achievable(ch, size), bound(size), algorithm)
        raise _unsupported(op, algorithm, grp)
    best_t, best = _auto_best(choices, size)
    pairs = zip(choices, bounds, strict=True)
    best_b = min((bound(size) for ch, bound in pairs if ch.auto), default=math.inf)
    return Timing(best_t, best_b, best)


def _auto_best(choices: tuple[Choice, ...], size: float) -> tuple[float, str]:
    """The least achievable seconds among the algorithms ``auto`` may pick, and which (the
    first of equals, in the plan's order)."""
    best_t, best = math.inf, ""
    for ch in choices:
        if ch.auto:
            t = _achievable(ch, size)
            if t < best_t:
                best_t, best = t, ch.algorithm
    return best_t, best


def achievable_collective(op: str, size: float, grp: Group) -> tuple[float, str]:
    """The achievable seconds of ``op`` of ``size`` bytes on ``grp`` and the algorithm
    ``auto`` picks — :func:`time_collective`'s ``time`` and ``algorithm``, without the
    bound (what a solver's step needs; cached apart)."""
    key = (op, size, id(grp))
    hit = _ACHIEVED.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    made = (0.0, "none")
    if grp.n > 1 and size > 0.0:
        made = _auto_best(plan(op, grp), size)
    if len(_ACHIEVED) > _CACHE_LIMIT:
        _ACHIEVED.clear()
    _ACHIEVED[key] = (grp, made)
    return made


# --- the reference: step by step, nothing planned --------------------------------------------


def reference_timing(op: str, size: float, grp: Group, algorithm: str = "auto") -> Timing:
    """:func:`time_collective` priced step by step — the group's levels, NCCL's rows for
    each algorithm, then each row's term at this size — with no plan and no price kept (the
    fast path's reference in the tests; slower)."""
    if grp.n <= 1 or size <= 0.0:
        return Timing(0.0, 0.0, "none")
    peak = link_levels(grp, achievable=False)
    real = link_levels(grp, achievable=True)
    if algorithm != "auto":
        if not supported(op, algorithm, grp):
            raise _unsupported(op, algorithm, grp)
        t = _fastest(op, algorithm, size, grp, real)
        return Timing(t, term(op, algorithm, grp, peak)(size), algorithm)
    best_t = best_b = math.inf
    best = ""
    for name in ALGORITHMS[op]:
        if not supported(op, name, grp) or (name == "sharp" and not grp.sharp):
            continue
        t = _fastest(op, name, size, grp, real)
        b = term(op, name, grp, peak)(size)
        if t < best_t:
            best_t, best = t, name
        best_b = min(best_b, b)
    return Timing(best_t, best_b, best)


def _fastest(op: str, algorithm: str, size: float, grp: Group, real: Levels) -> float:
    if algorithm in _SINGLE_PROTOCOL:
        return term(op, algorithm, grp, real)(size) + CALL_BASE
    plateau = algorithm == "ring" and size >= grp.n * _PLATEAU_BYTES
    best = math.inf
    for lv, base, alt in protocol_rows(op, grp, real, _FAMILY.get(algorithm, "ring")):
        if plateau and alt is not None:
            lv, base = alt
        t = term(op, algorithm, grp, lv)(size) + base
        if t < best:
            best = t
    return best


def _unsupported(op: str, algorithm: str, grp: Group) -> ConfigError:
    if algorithm == "hierarchical":
        why = "hierarchical all-reduce needs several nodes with several of the group's ranks each"
    elif algorithm == "nvls":
        fabric = grp.intra.fabric if grp.intra is not None else "no intra-node fabric"
        why = f"NVLink SHARP needs an NVSwitch fabric with in-switch reduction ({fabric} has none)"
    else:
        fabric = grp.inter.fabric if grp.inter is not None else "no inter-node fabric"
        why = f"SHARP needs several nodes on switches that reduce ({fabric})"
    return ConfigError(
        f"{algorithm} {op} is not available on this group",
        where="collective",
        why=why,
        fix="pass algorithm='auto', or a system whose fabric supports it",
    )
