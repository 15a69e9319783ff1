"""Mixture of experts as it runs: the experts a batch touches and the load of the busiest one.

A step of ``n`` tokens, each routed to ``k`` of ``E`` experts, reads the weights of every expert
that at least one token reached. Under uniform routing that is the expected number of occupied
cells when ``n·k`` balls fall into ``E`` bins (Feller 1968): exactly ``k`` for one token, all
``E`` once ``n·k ≫ E``. Routing is not uniform: the expert (or expert-parallel rank) with the
most tokens sets the pace, ``f ≥ 1`` times the mean load; Switch Transformers and GShard size
every expert's buffer at a *capacity factor* of 1.0-1.25 times the mean for this reason
(Fedus et al. 2022, §2.1; Lepikhin et al. 2021, §2.2).

The expert GEMMs of a step run as one grouped GEMM whose problems are the experts, each of as
many rows as tokens reached it, each padded to the tile's rows (tile quantization, NVIDIA's
Matrix Multiplication Background guide §3.1, per expert). Under the same uniform routing an
expert's rows are binomial, ``X ~ B(n, k/E)``, so the launch runs ``E·Σⱼ P(X > j·t)`` row
tiles in expectation: ``D`` for small steps (one tile per expert reached), ``E·(n·k/E)/t``
plus about half a tile per expert once an expert's count spreads over more than a tile.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core.arrays import ceil, is_array, larger, namespace, select
from mlsysim.core.formulas._args import count, fraction
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "distinct_experts",
    "expected_expert_tiles",
    "expected_experts",
    "expert_load",
    "expert_load_T",
    "expert_row_tiles",
]

_OCCUPANCY = ("solver_feller1968_occupancy",)
#: Abramowitz & Stegun (1964) eq. 7.1.26: erfc(x) ≈ t·(a₁ + t(a₂ + …)) e^(−x²), t = 1/(1 + p·x),
#: x ≥ 0, absolute error ≤ 1.5e-7 (the same polynomial on floats and arrays).
_AS_P = 0.3275911
_AS_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
#: Standard deviations either side of the mean beyond which a tile's tail counts as 0 or 1.
_TAIL_SIGMAS = 8.0


def _at_most_experts(k: float, E: float, where: str) -> None:
    if k > E:
        from mlsysim.core.exceptions import FormulaDomainError

        raise FormulaDomainError(
            f"active ({k:g}) exceeds experts ({E:g})",
            where=where,
            fix="pass the number of experts each token is routed to, at most experts",
        )


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
    _at_most_experts(k, E, where)
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


def _exp(x: Any) -> Any:
    return math.exp(x) if not is_array(x) else namespace(x).exp(x)


def _upper_tail(z: Any) -> Any:
    """``P(Z > z)`` of a standard normal (A&S 7.1.26 for the complementary error function)."""
    x = z * (1.0 / math.sqrt(2.0))
    a = x * select(x < 0.0, -1.0, 1.0)  # |x|
    t = 1.0 / (1.0 + _AS_P * a)
    poly = _AS_A[0]
    for c in _AS_A[1:]:
        poly = c + t * poly
    erfc_a = t * poly * _exp(-a * a)
    half = 0.5 * erfc_a
    return select(x < 0.0, 1.0 - half, half)


def expert_row_tiles(experts: float, active: float, tokens: float, tile: float) -> float:
    """Float fast path of :func:`expected_expert_tiles`: ``E·Σⱼ≥0 P(X > j·t)`` for
    ``X ~ B(n, k/E)`` — the ``j = 0`` term exact (``D/E``), the others by the normal
    approximation with continuity correction (``tokens`` a float or an array)."""
    E = float(experts)
    p = float(active) / E
    n = tokens * 1.0
    t = tile * 1.0
    if p >= 1.0:  # every expert sees every token
        return E * ceil(n / t)
    mu = n * p
    sigma = larger(n * p * (1.0 - p), 1e-300) ** 0.5
    occupied = 1.0 - (1.0 - p) ** n  # P(X > 0)
    # terms j ≥ 1: those whose threshold lies far below the mean count 1, far above count 0
    lo_f = (mu - _TAIL_SIGMAS * sigma) / t
    lo = larger(lo_f - lo_f % 1.0, 1.0)  # floor, at least 1
    hi = (mu + _TAIL_SIGMAS * sigma) / t + 1.0
    width = hi - lo
    terms = math.ceil(width if not is_array(width) else float(namespace(width).max(width)))
    total = occupied + (lo - 1.0)
    for i in range(max(terms, 0) + 1):
        j = lo + i
        total = total + _upper_tail((j * t + 0.5 - mu) / sigma)
    rows = E * total
    return select(n > 0.0, rows, 0.0)


@formula(
    symbol=r"R = E \sum_{j \ge 0} P\left(X > j\,t\right),\ X \sim B\left(n, \frac{k}{E}\right)",
    substituted=r"{{experts}} \sum_{j \ge 0} P\left(X > j \cdot {{tile}}\right),\ "
    r"X \sim B\left({{tokens}}, \frac{ {{active}} }{ {{experts}} }\right)",
    sources=(*_OCCUPANCY, "solver_nvidia2023_matmul_guide", "abramowitz1964"),
    citation="Feller (1968), occupancy; NVIDIA Matrix Multiplication Background guide §3.1; "
    "Abramowitz & Stegun (1964) 7.1.26",
    result="dimensionless",
)
def expected_expert_tiles(experts: Any, active: Any, tokens: Any, tile: Any = 128) -> float:
    """Expected row tiles a grouped expert GEMM launches for a step of ``tokens`` tokens, each
    routed to ``active`` of ``experts`` experts uniformly, every expert's rows padded to
    ``tile``: ``ceil(X/t)`` tiles for an expert of ``X`` rows, summed. Mixtral (k = 2 of 8) at
    4096 tokens: 1024 rows per expert on average, 8.5 tiles of 128 (vs 8 unpadded), 6 % more
    rows than tokens; one token: 2 tiles (its two experts). Sources: Feller 1968 (occupancy);
    NVIDIA Matrix Multiplication Background guide §3.1 (tile quantization); Abramowitz &
    Stegun 1964, 7.1.26 (the normal tail).
    """
    where = "expected_expert_tiles"
    E = count(experts, "experts", where)
    k = count(active, "active", where)
    n = count(tokens, "tokens", where, dim="token", minimum=0)
    t = count(tile, "tile", where)
    _at_most_experts(k, E, where)
    R = expert_row_tiles(E, k, n, t)
    return R
