"""FLOP counting: the work of a step, the numerators of MFU and HFU.

The parameters a token's matrix products pass through (the stated count less the lookup
tables), model FLOPs (a step's forward × 3 for training, recomputation excluded: MFU's
numerator) and hardware FLOPs (with the recomputed forward work: HFU's), per step or per
token of a transformer. Sources: Kaplan et al. 2020; Narayanan et al. 2021, Eq. 3;
Korthikanti et al. 2022; Chowdhery et al. 2022 (PaLM), Appendix B. Part of the
``performance`` domain; importable from :mod:`.performance` too.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.constants import (
    BACKWARD_FORWARD_RATIO,
    DEFAULT_RECOMPUTE,
    FORWARD_ATTENTION_FLOPS,
    RECOMPUTE_POLICIES,
)
from mlsysim.core.constants import FORWARD_FLOPS_PER_PARAM as _FWD
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas._args import choice, count, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "flop_params",
    "flop_params_F",
    "hardware_flops_per_token",
    "hardware_flops_per_token_F",
    "model_flops",
    "model_flops_F",
    "model_flops_per_token",
    "model_flops_per_token_F",
    "transformer_flops_per_token",
]


def flop_params_F(
    N: float, V: float, h: float, tied: bool, rows: float = 0.0, head: bool = True
) -> float:
    """Float fast path of :func:`flop_params`: the stated count less the tables a token only
    looks up (the untied input embedding, ``rows`` learned positions and token types) and,
    without an output layer in the step (``head`` false), the vocabulary table."""
    tables = (0.0 if tied else 1.0) + (0.0 if head else 1.0)
    N_mm = N - tables * V * h - rows * h
    return N_mm


def model_flops_F(forward: float, training: bool = True) -> float:
    """Float fast path of :func:`model_flops`: a step's forward FLOPs × (1 + 2) for training."""
    passes = 1.0 + BACKWARD_FORWARD_RATIO.value if training else 1.0
    C = passes * forward
    return C


def model_flops_per_token_F(
    N: float, L: float, H: float, Q: float, T: float, training: bool = True
) -> float:
    """Float fast path of :func:`model_flops_per_token`: FLOPs per token, recompute excluded."""
    forward = _FWD.value * N + FORWARD_ATTENTION_FLOPS.value * L * H * Q * T
    C = model_flops_F(forward, training)
    return C


def hardware_flops_per_token_F(
    N: float,
    L: float,
    H: float,
    Q: float,
    T: float,
    recompute: str = DEFAULT_RECOMPUTE,
    N_head: float = 0.0,
) -> float:
    """Float fast path of :func:`hardware_flops_per_token`: training FLOPs per token with the
    recomputed forward work (selective: the attention core; full: the layers' forward, the
    output layer's ``N_head`` parameters not re-run)."""
    C = model_flops_per_token_F(N, L, H, Q, T, True)
    attention = FORWARD_ATTENTION_FLOPS.value * L * H * Q * T
    if recompute == "full":
        C += _FWD.value * (N - N_head) + attention
    elif recompute == "selective":
        C += attention
    return C


def _flop_args(
    params: Any, layers: Any, heads: Any, head_dim: Any, seq_len: Any, where: str
) -> tuple[float, float, float, float, float]:
    N = count(params, "params", where, dim="parameter")
    L = count(layers, "layers", where)
    H = count(heads, "heads", where)
    Q = count(head_dim, "head_dim", where)
    T = count(seq_len, "seq_len", where, dim="token")
    return N, L, H, Q, T


@formula(
    symbol=r"N_{\mathrm{mm}} = N - u\,V\,h - R\,h",
    substituted=(
        r"{{params}} - {{u}} \cdot {{vocab}} \cdot {{hidden}} - "
        r"{{lookup_rows}} \cdot {{hidden}}"
    ),
    sources=("narayanan2021", "chowdhery2022"),
    citation="Narayanan et al. (2021), Eq. 3; Chowdhery et al. (2022), PaLM, Appendix B",
    result="parameter",
    expand=lambda a: {"u": int(not a["tied"]) + int(not a["head"])},
)
def flop_params(
    params: Any,
    vocab: Any,
    hidden: Any,
    tied: bool = False,
    lookup_rows: Any = 0,
    head: bool = True,
) -> Any:
    """The N of the model-FLOPs formulas: the parameters a token's matrix products pass
    through — the stated count (a mixture of experts' active count) less the tables a token
    only looks up: the input embedding when it is not tied to the output layer, and
    ``lookup_rows`` rows of width ``hidden`` (learned positions, token types). The output
    layer (the logits, V·h) counts once, tied or not; a step without one (an encoder's
    inference, ``head=False``) counts none of the V·h table.

    Sources: Narayanan et al. 2021, Eq. 3 — 96·B·s·l·h²(1 + s/6h + V/16lh) has no FLOPs for
    the embedding lookup and 6·B·s·h·V for the logits; Chowdhery et al. 2022 (PaLM), App. B —
    N = 540.35B, its shared input/output embedding counted once, gives 46.2 % MFU.
    """
    where = "flop_params"
    N = count(params, "params", where, dim="parameter")
    V = count(vocab, "vocab", where)
    h = count(hidden, "hidden", where)
    R = count(lookup_rows, "lookup_rows", where, minimum=0)
    N_mm = flop_params_F(N, V, h, bool(tied), R, bool(head))
    N_mm = positive(N_mm, "params less the lookup tables", where)
    return from_si(N_mm, "param")


@formula(
    symbol=r"C = p\,C_{\mathrm{fwd}}",
    substituted=r"{{passes}} \cdot {{forward_flops}}",
    sources=("kaplan2020", "chowdhery2022"),
    citation="Kaplan et al. (2020): backward = 2× forward; model FLOPs as PaLM defines them",
    result="computation",
    expand=lambda a: {"passes": 1 + BACKWARD_FORWARD_RATIO.value if a["training"] else 1},
)
def model_flops(forward_flops: Any, training: bool = True) -> Any:
    """Model FLOPs of a step whose forward pass costs C_fwd: 3·C_fwd for training (forward plus
    a backward of twice the forward), C_fwd for inference — recomputation excluded (MFU).

    For a CNN, C_fwd is the published FLOPs per inference times the batch. Sources: Kaplan et
    al. 2020 §2.1; Chowdhery et al. 2022 (PaLM), Appendix B.
    """
    F = positive(si(forward_flops, "computation", "forward_flops"), "forward_flops", "model_flops")
    C = model_flops_F(F, bool(training))
    return from_si(C, "FLOP")


@formula(
    symbol=r"C_{\mathrm{tok}} = p\left(2\,N + 4\,L\,H\,Q\,T\right)",
    substituted=(
        r"{{passes}} \left(2 \cdot {{params}} + 4 \cdot {{layers}} \cdot "
        r"{{heads}} \cdot {{head_dim}} \cdot {{seq_len}}\right)"
    ),
    sources=("chowdhery2022", "korthikanti2022", "kaplan2020"),
    citation="Chowdhery et al. (2022), PaLM, Appendix B; Korthikanti et al. (2022), App. A",
    result="[computation]/[token]",
    expand=lambda a: {"passes": 1 + BACKWARD_FORWARD_RATIO.value if a["training"] else 1},
)
def model_flops_per_token(
    params: Any, layers: Any, heads: Any, head_dim: Any, seq_len: Any, training: bool = True
) -> Any:
    """Model FLOPs per token, the numerator of MFU: 6N + 12·L·H·Q·T for training (PaLM App. B),
    a third of it (2N + 4·L·H·Q·T, one forward pass) for inference.

    N is :func:`flop_params` (the parameters a token's matrix products pass through: the
    stated or active count less the lookup tables, the logits' V·h once), T the context
    each token attends to, counted in full — causal masking and recomputation are not model
    FLOPs (Chowdhery et al. 2022; Korthikanti et al. 2022 count attention the same way).
    """
    N, L, H, Q, T = _flop_args(params, layers, heads, head_dim, seq_len, "model_flops_per_token")
    C = model_flops_per_token_F(N, L, H, Q, T, bool(training))
    return from_si(C, "FLOP/token")


@formula(
    symbol=(
        r"C^{\mathrm{hw}}_{\mathrm{tok}} = 6\,N + 12\,L\,H\,Q\,T + "
        r"r_N\,2\,(N - N_{\mathrm{head}}) + r_A\,4\,L\,H\,Q\,T"
    ),
    substituted=(
        r"6 \cdot {{params}} + 12 \cdot {{layers}} \cdot {{heads}} \cdot {{head_dim}} \cdot "
        r"{{seq_len}} + {{r_N}} \cdot 2 \cdot ({{params}} - {{head_params}}) + {{r_A}} \cdot 4"
        r" \cdot {{layers}} \cdot {{heads}} \cdot {{head_dim}} \cdot {{seq_len}}"
    ),
    sources=("chowdhery2022", "korthikanti2022", "narayanan2021"),
    citation=(
        "Chowdhery et al. (2022), PaLM, App. B (rematerialization); Korthikanti et al. (2022);"
        " Narayanan et al. (2021), Eq. 3"
    ),
    result="[computation]/[token]",
    expand=lambda a: {
        "r_N": 1 if a["recompute"] == "full" else 0,
        "r_A": 0 if a["recompute"] == "none" else 1,
    },
)
def hardware_flops_per_token(
    params: Any,
    layers: Any,
    heads: Any,
    head_dim: Any,
    seq_len: Any,
    recompute: str = DEFAULT_RECOMPUTE,
    head_params: Any = 0,
) -> Any:
    """Hardware FLOPs per training token, the numerator of HFU: model FLOPs plus the forward
    work recomputed in the backward pass — the attention core (4·L·H·Q·T) with selective
    recomputation, the layers' whole forward with full (2(N − N_head) + 4·L·H·Q·T: with no
    ``head_params``, 8N + 16·L·H·Q·T). Full recomputation checkpoints the layers, so the
    output layer's V·h (``head_params``) runs its three passes only: Megatron-LM's count,
    96·B·s·l·h²(1 + s/6h + V/16lh), is this with N = 12·l·h² + V·h and N_head = V·h.

    Sources: Chowdhery et al. 2022 (PaLM), Appendix B; Korthikanti et al. 2022; Narayanan
    et al. 2021, Eq. 3.
    """
    where = "hardware_flops_per_token"
    choice(recompute, "recompute", where, RECOMPUTE_POLICIES)
    N, L, H, Q, T = _flop_args(params, layers, heads, head_dim, seq_len, where)
    N_head = count(head_params, "head_params", where, dim="parameter", minimum=0)
    if N_head > N:
        raise FormulaDomainError(
            f"head_params ({N_head:g}) exceeds params ({N:g})",
            where=where,
            why="the output layer is part of the parameters a token passes through",
            fix="pass the output layer's V·h parameters, at most params",
        )
    C = hardware_flops_per_token_F(N, L, H, Q, T, recompute, N_head)
    return from_si(C, "FLOP/token")


@formula(
    symbol=(
        r"C_{\mathrm{tok}} = (1 + r_{\mathrm{remat}})\,"
        r"\left(6\,N + 12\,L\,H\,Q\,T\right)"
    ),
    substituted=(
        r"(1 + {{remat}}) \left(6 \cdot {{params}} + 12 \cdot {{layers}} \cdot "
        r"{{heads}} \cdot {{head_dim}} \cdot {{seq_len}}\right)"
    ),
    sources=("chowdhery2022", "kaplan2020"),
    citation="Chowdhery et al. (2022), PaLM, Appendix B",
    result="[computation]/[token]",
    expand=lambda a: {"remat": 1 / 3 if a["recompute"] == "full" else 0},
)
def transformer_flops_per_token(
    params: Any,
    layers: Any,
    heads: Any,
    head_dim: Any,
    seq_len: Any,
    recompute: str | None = None,
) -> Any:
    """Training FLOPs per token 6N + 12·L·H·Q·T (PaLM App. B); ``recompute="full"`` adds the
    re-run forward (8N + 16LHQT, the hardware FLOPs of HFU).

    ``recompute=None`` (or ``"none"``) gives model FLOPs. Kept for books written against it:
    :func:`model_flops_per_token` (MFU) and
    :func:`hardware_flops_per_token` (HFU, any recompute policy) compute the same quantities.
    Source: Chowdhery et al. 2022 (PaLM), Appendix B; Kaplan et al. 2020 for 6N.
    """
    where = "transformer_flops_per_token"
    policy = "none" if recompute is None else recompute
    choice(policy, "recompute", where, ("none", "full"))
    N, L, H, Q, T = _flop_args(params, layers, heads, head_dim, seq_len, where)
    C = hardware_flops_per_token_F(N, L, H, Q, T, policy)
    return from_si(C, "FLOP/token")
