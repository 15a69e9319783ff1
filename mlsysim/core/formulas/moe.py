"""Mixture of experts as it runs: the experts a batch touches and the load of the busiest one.

A step of ``n`` tokens, each routed to ``k`` of ``E`` experts, reads the weights of every expert
that at least one token reached. Under uniform routing that is the expected number of occupied
cells when ``n·k`` balls fall into ``E`` bins (Feller 1968): exactly ``k`` for one token, all
``E`` once ``n·k ≫ E``. Routing is not uniform: the expert (or expert-parallel rank) with the
most tokens sets the pace, ``f ≥ 1`` times the mean load; Switch Transformers and GShard size
every expert's buffer at a *capacity factor* of 1.0-1.25 times the mean for this reason
(Fedus et al. 2022, §2.1; Lepikhin et al. 2021, §2.2).
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.arrays import select
from mlsysim.core.formulas._args import count, fraction
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = ["distinct_experts", "expected_experts", "expert_load", "expert_load_T"]

_OCCUPANCY = ("solver_feller1968_occupancy",)


def distinct_experts(experts: float, active: float, tokens: float) -> float:
    """Float fast path of :func:`expected_experts`: ``E·(1 − (1 − k/E)ⁿ)``, ``k`` for one token
    (``tokens`` a float or an array, element-wise)."""
    E = float(experts)
    k = float(active)
    p_miss = (1.0 - k / E) ** tokens
    D = E * (1.0 - p_miss)
    return select(tokens <= 1.0, k, D)


@formula(
    symbol=r"D = E\left(1 - \left(1 - \frac{k}{E}\right)^{n}\right)",
    substituted=r"{{experts}} \left(1 - \left(1 - \frac{ {{active}} }{ {{experts}} }\right)^{ "
    r"{{tokens}} }\right)",
    sources=_OCCUPANCY,
    citation="Feller (1968), occupancy problems",
    result="dimensionless",
)
def expected_experts(experts: Any, active: Any, tokens: Any) -> float:
    """Expected number of distinct experts a step of ``tokens`` tokens reads, each token routed
    to ``active`` of ``experts`` experts uniformly: Mixtral (k = 2 of E = 8) reads 2 experts for
    one token, 5.47 for a batch of 4 and 7.999 for 32. Source: Feller 1968 (occupancy).
    """
    where = "expected_experts"
    E = count(experts, "experts", where)
    k = count(active, "active", where)
    n = count(tokens, "tokens", where, dim="token")
    if k > E:
        from mlsysim.core.exceptions import FormulaDomainError

        raise FormulaDomainError(
            f"active ({k:g}) exceeds experts ({E:g})",
            where=where,
            fix="pass the number of experts each token is routed to, at most experts",
        )
    D = distinct_experts(E, k, n)
    return D


def expert_load_T(tokens: float, experts: float, active: float, imbalance: float) -> float:
    """Float fast path of :func:`expert_load`: ``f·n·k/E`` tokens on the busiest expert."""
    mean = tokens * active / experts
    T = imbalance * mean
    return T


@formula(
    symbol=r"n_{\max} = f\,\frac{n\,k}{E}",
    substituted=r"{{imbalance}} \cdot \frac{ {{tokens}} \cdot {{active}} }{ {{experts}} }",
    sources=("fedus2022", "solver_lepikhin2021_gshard"),
    citation="Fedus, Zoph & Shazeer (2022) §2.1; Lepikhin et al. (2021) §2.2: capacity factor",
    result="[token]",
)
def expert_load(tokens: Any, experts: Any, active: Any, imbalance: Any = 1.25) -> Any:
    """Tokens processed by the busiest expert of a step: ``f`` times the mean ``n·k/E``. The
    default ``f = 1.25`` is the capacity factor Switch Transformers and GShard provision for
    it; ``f = 1`` is perfect balance, and at most ``E/k`` (every token on one expert's
    share). Sources: Fedus et al. 2022; Lepikhin et al. 2021.
    """
    where = "expert_load"
    n = count(tokens, "tokens", where, dim="token", minimum=0)
    E = count(experts, "experts", where)
    k = count(active, "active", where)
    f = fraction(imbalance, "imbalance", where, low=1.0, high=E / k)
    T = expert_load_T(n, E, k, f)
    return from_si(T, "token")
