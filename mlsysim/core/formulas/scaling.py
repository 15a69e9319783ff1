"""Scaling: training/inference FLOPs, Chinchilla and Kaplan laws, inference-time compute.

Parameter and token counts may be plain numbers or Quantities (``7e9 param``, ``2 Ttoken``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core.constants import (
    CHINCHILLA_A,
    CHINCHILLA_ALPHA,
    CHINCHILLA_B,
    CHINCHILLA_BETA,
    CHINCHILLA_E,
    CHINCHILLA_TOKENS_PER_PARAM,
    FORWARD_FLOPS_PER_PARAM,
    KAPLAN_ALPHA_D,
    KAPLAN_ALPHA_N,
    KAPLAN_D_C,
    KAPLAN_N_C,
    TRAINING_FLOPS_PER_PARAM,
)
from mlsysim.core.formulas._args import count, fraction, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "ScalingPoint",
    "best_of_n",
    "chinchilla_loss",
    "chinchilla_optimal",
    "inference_flops",
    "kaplan_loss",
    "reasoning_flops",
    "training_flops",
    "training_time",
]


def _N(params: Any, where: str) -> float:
    return count(params, "params", where, dim="parameter", minimum=0)


def _D(tokens: Any, where: str, name: str = "tokens") -> float:
    return count(tokens, name, where, dim="token", minimum=0)


@formula(
    symbol=r"C = 6\,N\,D",
    substituted=r"6 \cdot {{params}} \cdot {{tokens}}",
    sources=("kaplan2020",),
    citation="Kaplan et al. (2020), §2.1",
    result="computation",
)
def training_flops(params: Any, tokens: Any) -> Any:
    """Training compute C ≈ 6·N·D (forward 2ND + backward 4ND). Source: Kaplan et al. 2020."""
    where = "training_flops"
    N = _N(params, where)
    D = _D(tokens, where)
    C = TRAINING_FLOPS_PER_PARAM.value * N * D
    return from_si(C, "FLOP")


@formula(
    symbol=r"C = 2\,N\,D",
    substituted=r"2 \cdot {{params}} \cdot {{tokens}}",
    sources=("kaplan2020",),
    citation="Kaplan et al. (2020), §2.1",
    result="computation",
)
def inference_flops(params: Any, tokens: Any) -> Any:
    """Forward-pass compute C ≈ 2·N·D for D tokens. Source: Kaplan et al. 2020."""
    where = "inference_flops"
    N = _N(params, where)
    D = _D(tokens, where)
    C = FORWARD_FLOPS_PER_PARAM.value * N * D
    return from_si(C, "FLOP")


@dataclass(frozen=True)
class ScalingPoint:
    """A compute-optimal model size and training-set size."""

    params: Any
    tokens: Any

    @property
    def value(self) -> Any:
        """The headline result, the field ``params``."""
        return self.params

    def __str__(self) -> str:
        return f"{self.params:~P} on {self.tokens:~P}"


@formula(
    symbol=r"N_{\mathrm{opt}} = \sqrt{\frac{C}{6\,r}}",
    substituted=r"\sqrt{\frac{ {{compute}} }{6 \cdot {{tokens_per_param}} }}",
    sources=("hoffmann2022",),
    citation="Hoffmann et al. (2022), Chinchilla: about 20 tokens per parameter",
    result="parameter",
)
def chinchilla_optimal(
    compute: Any, tokens_per_param: Any = CHINCHILLA_TOKENS_PER_PARAM.value
) -> ScalingPoint:
    """Compute-optimal size for budget C under C = 6ND and D = r·N (r ≈ 20 tokens/param).

    Source: Hoffmann et al. 2022 (Chinchilla: 70B parameters on 1.4T tokens).
    """
    where = "chinchilla_optimal"
    C = positive(si(compute, "computation", "compute"), "compute", where)
    r = count(tokens_per_param, "tokens_per_param", where, dim="[token]/[parameter]", minimum=0)
    r = positive(r, "tokens_per_param", where)
    N_opt = (C / (TRAINING_FLOPS_PER_PARAM.value * r)) ** 0.5
    D_opt = r * N_opt
    return ScalingPoint(from_si(N_opt, "param"), from_si(D_opt, "token"))


@formula(
    symbol=r"L(N, D) = E + \frac{A}{N^{\alpha}} + \frac{B}{D^{\beta}}",
    substituted=(
        r"{{E}} + \frac{ {{A}} }{ {{params}}^{ {{alpha}} } } + "
        r"\frac{ {{B}} }{ {{tokens}}^{ {{beta}} } }"
    ),
    sources=("hoffmann2022",),
    citation="Hoffmann et al. (2022), Chinchilla parametric fit (Approach 3, Eq. 10)",
    result="dimensionless",
    expand=lambda a: {
        "E": CHINCHILLA_E.value,
        "A": CHINCHILLA_A.value,
        "B": CHINCHILLA_B.value,
        "alpha": CHINCHILLA_ALPHA.value,
        "beta": CHINCHILLA_BETA.value,
    },
)
def chinchilla_loss(params: Any, tokens: Any) -> float:
    """Predicted loss (nats/token) E + A/N^α + B/D^β with the Chinchilla Approach-3 fit.

    Source: Hoffmann et al. 2022, Eq. 10 (E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28).
    """
    where = "chinchilla_loss"
    N = positive(_N(params, where), "params", where)
    D = positive(_D(tokens, where), "tokens", where)
    L = (
        CHINCHILLA_E.value
        + CHINCHILLA_A.value / N**CHINCHILLA_ALPHA.value
        + CHINCHILLA_B.value / D**CHINCHILLA_BETA.value
    )
    return L


@formula(
    symbol=(
        r"L(N, D) = \left[\left(\frac{N_c}{N}\right)^{\alpha_N / \alpha_D} + "
        r"\frac{D_c}{D}\right]^{\alpha_D}"
    ),
    substituted=(
        r"\left[\left(\frac{ {{N_c}} }{ {{params}} }\right)^{ {{alpha_N}} / {{alpha_D}} }"
        r" + \frac{ {{D_c}} }{ {{tokens}} }\right]^{ {{alpha_D}} }"
    ),
    sources=("kaplan2020",),
    citation="Kaplan et al. (2020), Eq. 1.5",
    result="dimensionless",
    expand=lambda a: {
        "N_c": KAPLAN_N_C.quantity,
        "D_c": KAPLAN_D_C.quantity,
        "alpha_N": KAPLAN_ALPHA_N.value,
        "alpha_D": KAPLAN_ALPHA_D.value,
    },
)
def kaplan_loss(params: Any, tokens: Any) -> float:
    """Predicted loss (nats/token) of Kaplan et al. 2020, Eq. 1.5 (non-embedding params N)."""
    where = "kaplan_loss"
    N = positive(_N(params, where), "params", where)
    D = positive(_D(tokens, where), "tokens", where)
    ratio = KAPLAN_ALPHA_N.value / KAPLAN_ALPHA_D.value
    L = ((KAPLAN_N_C.value / N) ** ratio + KAPLAN_D_C.value / D) ** KAPLAN_ALPHA_D.value
    return L


@formula(
    symbol=r"C = 2\,N\,\left(P + k\,G\right)",
    substituted=(
        r"2 \cdot {{params}} \cdot \left({{prompt_tokens}} + {{samples}} \cdot "
        r"{{generated_tokens}}\right)"
    ),
    sources=("snell2024", "kaplan2020"),
    citation="Snell et al. (2024), test-time compute; 2N FLOP/token from Kaplan et al. (2020)",
    result="computation",
)
def reasoning_flops(
    params: Any, prompt_tokens: Any, generated_tokens: Any, samples: Any = 1
) -> Any:
    """Inference-time compute of k sampled reasoning chains of G tokens after a P-token prompt.

    C ≈ 2N(P + kG): the prompt is processed once (shared prefix), every chain is generated.
    Attention FLOPs are ignored. Sources: Snell et al. 2024; Kaplan et al. 2020.
    """
    where = "reasoning_flops"
    N = _N(params, where)
    P = _D(prompt_tokens, where, "prompt_tokens")
    G = _D(generated_tokens, where, "generated_tokens")
    k = count(samples, "samples", where, dim="sample")
    C = FORWARD_FLOPS_PER_PARAM.value * N * (P + k * G)
    return from_si(C, "FLOP")


@formula(
    symbol=r"\mathrm{coverage} = 1 - (1 - p)^{k}",
    substituted=r"1 - (1 - {{p}})^{ {{samples}} }",
    sources=("brown2024",),
    citation="Brown et al. (2024), Large Language Monkeys: repeated sampling",
    result="dimensionless",
)
def best_of_n(p: Any, samples: Any) -> float:
    """Chance at least one of k independent samples solves a task solved with chance p."""
    where = "best_of_n"
    p_ = fraction(p, "p", where)
    k = count(samples, "samples", where, dim="sample")
    coverage = 1.0 - (1.0 - p_) ** k
    return coverage


@formula(
    symbol=r"T = \frac{C}{n\,P_{\mathrm{peak}}\,\mathrm{MFU}}",
    substituted=r"\frac{ {{flops}} }{ {{devices}} \cdot {{peak}} \cdot {{mfu}} }",
    sources=("narayanan2021", "chowdhery2022"),
    citation="Narayanan et al. (2021), §5.1 training-time estimate; MFU per PaLM",
    result="time",
)
def training_time(flops: Any, devices: Any, peak: Any, mfu: Any) -> Any:
    """Wall time to run C FLOPs on n devices of peak P at utilization MFU: C/(n·P·MFU)."""
    where = "training_time"
    C = positive(si(flops, "computation", "flops"), "flops", where, strict=False)
    n = count(devices, "devices", where)
    P = positive(si(peak, "compute_rate", "peak"), "peak", where)
    U = positive(fraction(mfu, "mfu", where), "mfu", where)
    T = C / (n * P * U)
    return from_si(T, "s")
