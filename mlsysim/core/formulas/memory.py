"""Memory: weights, KV cache (MHA/GQA/MQA/MLA), training state with ZeRO, and activations.

The stored tensors (weights, KV cache, logits) are in :mod:`.tensors` (the same ``memory``
domain), importable from here too. It is imported first, so the formulas keep their order
(the weights' first). Model arguments are duck-typed registry specs: ``model.arch`` with
``layers``, ``hidden`` and ``heads`` (see ``mlsysim.Models``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlsysim.core.constants import (
    ACT_ATTENTION_BYTES,
    ACT_FULL_RECOMPUTE_BYTES,
    ACT_PARALLEL_BYTES,
    ACT_REPLICATED_BYTES,
    BYTES_PER_ELEMENT,
    DEFAULT_GRADIENT_PRECISION,
    DEFAULT_OPTIMIZER,
    DEFAULT_PRECISION,
    DEFAULT_RECOMPUTE,
    MASTER_WEIGHT_BYTES,
    OPTIMIZER_MOMENT_BYTES,
    RECOMPUTE_POLICIES,
)
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas._args import bytes_per_element, choice, count, spec
from mlsysim.core.formulas._meta import formula

# the stored tensors moved to .tensors; the solvers and the lowering import them from here too
# (and, imported first, they keep their place in FORMULAS: the weights, then the KV cache)
from mlsysim.core.formulas.tensors import kv_cache_B as kv_cache_B
from mlsysim.core.formulas.tensors import kv_cache_bytes as kv_cache_bytes
from mlsysim.core.formulas.tensors import logits_B as logits_B
from mlsysim.core.formulas.tensors import weights_B as weights_B
from mlsysim.core.formulas.tensors import weights_bytes as weights_bytes
from mlsysim.core.units import from_si

__all__ = [
    "TrainingMemory",
    "activation_bytes",
    "activation_bytes_per_layer",
    "activation_bytes_per_layer_B",
    "kv_cache_B",
    "kv_cache_bytes",
    "logits_B",
    "optimizer_state_per_param_B",
    "training_memory",
    "training_memory_B",
    "weights_B",
    "weights_bytes",
]

#: Bytes per element Korthikanti et al. count activations in (16-bit); other formats scale by β/2.
_ACT_REFERENCE_BYTES = BYTES_PER_ELEMENT["fp16"].value


@dataclass(frozen=True)
class TrainingMemory:
    """Per-device training state: weights, gradients and optimizer states."""

    weights: Any
    gradients: Any
    optimizer: Any
    total: Any

    @property
    def value(self) -> Any:
        """The headline result, the field ``total``."""
        return self.total

    def __str__(self) -> str:
        return (
            f"{self.total:~P} (weights {self.weights:~P}, gradients {self.gradients:~P}, "
            f"optimizer {self.optimizer:~P})"
        )


def optimizer_state_per_param_B(optimizer: str, precision: str) -> float:
    """Optimizer state bytes per parameter, K: the optimizer's moments plus an fp32 master copy
    of the weights when they are stored narrower than fp32 (Micikevicius et al. 2018)."""
    moments = OPTIMIZER_MOMENT_BYTES[optimizer].value
    master = MASTER_WEIGHT_BYTES.value
    K = moments + (master if bytes_per_element(precision) < master else 0.0)
    return K


def training_memory_B(
    params: float,
    weight_bytes: float,
    grad_bytes: float,
    optimizer_bytes: float,
    zero_stage: int = 0,
    dp: float = 1.0,
    model_parallel: float = 1.0,
) -> tuple[float, float, float]:
    """Float fast path of :func:`training_memory`: (weights, gradients, optimizer) bytes.

    Bytes per parameter are given directly (β_w, β_g, K); ``zero_stage`` 0–3 shards K (≥ 1),
    β_g (≥ 2) and β_w (3) over ``dp``; ``model_parallel`` splits everything.
    """
    d_1 = dp if zero_stage >= 1 else 1.0
    d_2 = dp if zero_stage >= 2 else 1.0
    d_3 = dp if zero_stage >= 3 else 1.0
    share = params / model_parallel
    M_w = share * weight_bytes / d_3
    M_g = share * grad_bytes / d_2
    M_o = share * optimizer_bytes / d_1
    return M_w, M_g, M_o


def _train_operands(a: Mapping[str, Any]) -> dict[str, Any]:
    stage, dp = a["zero_stage"], a["dp"]
    return {
        "beta_w": from_si(bytes_per_element(a["precision"]), "B"),
        "beta_g": from_si(bytes_per_element(a["grad_precision"]), "B"),
        "K": from_si(optimizer_state_per_param_B(a["optimizer"], a["precision"]), "B"),
        "d_1": dp if stage >= 1 else 1,
        "d_2": dp if stage >= 2 else 1,
        "d_3": dp if stage >= 3 else 1,
    }


@formula(
    symbol=(
        r"M = \frac{\Psi}{m}\left(\frac{\beta_w}{d_3} + \frac{\beta_g}{d_2} + "
        r"\frac{K}{d_1}\right)"
    ),
    substituted=(
        r"\frac{ {{params}} }{ {{model_parallel}} }\left(\frac{ {{beta_w}} }{ {{d_3}} }"
        r" + \frac{ {{beta_g}} }{ {{d_2}} } + \frac{ {{K}} }{ {{d_1}} }\right)"
    ),
    sources=("rajbhandari2020", "korthikanti2022", "micikevicius2018"),
    citation="Rajbhandari et al. (2020), ZeRO; Megatron-LM mixed-precision accounting",
    result="information",
    expand=_train_operands,
)
def training_memory(
    params: Any,
    optimizer: str = DEFAULT_OPTIMIZER,
    precision: str = DEFAULT_PRECISION,
    grad_precision: str = DEFAULT_GRADIENT_PRECISION,
    zero_stage: int = 0,
    dp: int = 1,
    model_parallel: int = 1,
) -> TrainingMemory:
    """Weights, gradients and optimizer states per device, M = Ψ/m·(β_w/d₃ + β_g/d₂ + K/d₁).

    K is the optimizer's state per parameter (``mlsysim.core.constants.OPTIMIZER_MOMENT_BYTES``:
    Adam 8 B, SGD with momentum 4 B, plain SGD 0 B) plus a 4 B fp32 master copy when the
    weights are narrower than fp32. Defaults are Megatron-LM's mixed-precision Adam: bf16
    weights (2 B), fp32 gradients (4 B) and K = 12 B = 18 B/param (Korthikanti et al. 2022);
    ZeRO's accounting uses 16-bit gradients (16 B/param). ZeRO stage k shards optimizer
    states (≥1), gradients (≥2) and weights (3) over ``dp`` data-parallel ranks (d_i = dp when
    stage ≥ i); ``model_parallel`` (tensor × pipeline degree) splits everything. Sources:
    Rajbhandari et al. 2020 (ZeRO); Micikevicius et al. 2018 (mixed precision); Korthikanti
    et al. 2022.
    """
    where = "training_memory"
    Psi = count(params, "params", where, dim="parameter", minimum=0)
    choice(optimizer, "optimizer", where, OPTIMIZER_MOMENT_BYTES)
    if zero_stage not in (0, 1, 2, 3):
        raise FormulaDomainError(
            f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}",
            where=where,
            fix="pass a ZeRO stage from 0 (off) to 3",
        )
    stage = int(zero_stage)
    d = count(dp, "dp", where)
    m = count(model_parallel, "model_parallel", where)
    from mlsysim.core.formulas.compression import quantized_bits_per_weight

    beta_w = quantized_bits_per_weight(precision) / 8.0  # a quantized format's scales counted
    beta_g = bytes_per_element(grad_precision)
    K = optimizer_state_per_param_B(optimizer, precision)
    M_w, M_g, M_o = training_memory_B(Psi, beta_w, beta_g, K, stage, d, m)
    M = M_w + M_g + M_o
    return TrainingMemory(from_si(M_w, "B"), from_si(M_g, "B"), from_si(M_o, "B"), from_si(M, "B"))


def _act_coefficients(recompute: str, fused: bool = False) -> tuple[float, float, float]:
    """(c_r, c_p, c_a) of Korthikanti et al. Table 2 for a recompute policy; a fused attention
    kernel (``fused``) never stores the score matrix, so its c_a is 0 under every policy."""
    if recompute == "full":
        return ACT_FULL_RECOMPUTE_BYTES.value, 0.0, 0.0
    c_a = ACT_ATTENTION_BYTES.value if recompute == "none" and not fused else 0.0
    return ACT_REPLICATED_BYTES.value, ACT_PARALLEL_BYTES.value, c_a


def activation_bytes_per_layer_B(
    seq_len: float,
    batch: float,
    hidden: float,
    heads: float,
    tp: float = 1.0,
    sp: bool = False,
    recompute: str = DEFAULT_RECOMPUTE,
    beta: float = _ACT_REFERENCE_BYTES,
    fused_attention: bool = False,
) -> float:
    """Float fast path of :func:`activation_bytes_per_layer` (β = bytes per activation)."""
    s, b, h, a, t = seq_len, batch, hidden, heads, tp
    c_r, c_p, c_a = _act_coefficients(recompute, fused_attention)
    t_sp = t if sp else 1.0
    A_l = s * b * h * (c_r / t_sp + c_p / t + c_a * a * s / (h * t))
    return A_l * beta / _ACT_REFERENCE_BYTES


def _layer_operands(a: Mapping[str, Any]) -> dict[str, Any]:
    c_r, c_p, c_a = _act_coefficients(a["recompute"], bool(a.get("fused_attention", False)))
    beta = bytes_per_element(a["precision"])
    return {
        "c_r": c_r,
        "c_p": c_p,
        "c_a": c_a,
        "t_sp": a["tp"] if a["sp"] else 1,
        "f_beta": beta / _ACT_REFERENCE_BYTES,
    }


@formula(
    symbol=(
        r"A_{\ell} = s\,b\,h\left(\frac{c_r}{t_{sp}} + \frac{c_p}{t} + "
        r"\frac{c_a\,a\,s}{h\,t}\right)\frac{\beta}{2}"
    ),
    substituted=(
        r"{{seq_len}} \cdot {{batch}} \cdot {{hidden}} \left(\frac{ {{c_r}} }{ {{t_sp}} }"
        r" + \frac{ {{c_p}} }{ {{tp}} } + \frac{ {{c_a}} \cdot {{heads}} \cdot {{seq_len}} }"
        r"{ {{hidden}} \cdot {{tp}} }\right) \cdot {{f_beta}}"
    ),
    sources=("korthikanti2022", "solver_dao2023_flashattention2"),
    citation="Korthikanti et al. (2022), Reducing Activation Recomputation, Table 2",
    result="information",
    expand=_layer_operands,
)
def activation_bytes_per_layer(
    seq_len: Any,
    batch: Any,
    hidden: Any,
    heads: Any,
    tp: int = 1,
    sp: bool = False,
    recompute: str = DEFAULT_RECOMPUTE,
    precision: str = DEFAULT_PRECISION,
    fused_attention: bool = False,
) -> Any:
    """Activation bytes of one transformer layer, Korthikanti et al. Table 2.

    No recompute: sbh(10 + 24/t + 5as/(ht)); with sequence parallelism (SP) the 10 is also
    divided by t; selective recompute (the default) drops the 5as/h attention term (so SP +
    selective gives 34·sbh/t); full recompute keeps only the layer input, 2·sbh (÷t with SP).
    The paper counts 16-bit activations; a ``precision`` of β bytes scales the count by β/2.
    The 5as/h term is the score matrix an unfused kernel stores (softmax output, dropout mask
    and output); a fused kernel (``fused_attention``: FlashAttention) never writes it, so it
    drops out under every policy — its backward recomputes the scores from Q, K, V and the
    output, which the 34 already holds (Dao 2023, Algorithms 1-2; the per-query softmax
    statistics it keeps, 4·a·s·b bytes, are 4/(34·d_head) of 34·sbh, under 0.1 % at head
    dimension 128, and not counted). Source: Korthikanti et al. 2022; Dao 2023.
    """
    where = "activation_bytes_per_layer"
    choice(recompute, "recompute", where, RECOMPUTE_POLICIES)
    s = count(seq_len, "seq_len", where, dim="token")
    b = count(batch, "batch", where, dim="sample")
    h = count(hidden, "hidden", where)
    a = count(heads, "heads", where)
    t = count(tp, "tp", where)
    beta = bytes_per_element(precision)
    A_l = activation_bytes_per_layer_B(s, b, h, a, t, bool(sp), recompute, beta, fused_attention)
    return from_si(A_l, "B")


def _model_act_operands(a: Mapping[str, Any]) -> dict[str, Any]:
    arch = a["model"].arch
    per_layer = activation_bytes_per_layer(
        a["seq_len"],
        a["batch"],
        arch.hidden,
        arch.heads,
        a["tp"],
        a["sp"],
        a["recompute"],
        a["precision"],
        bool(a.get("fused_attention", False)),
    )
    p, v = a["pp"], a["interleave"]
    return {
        "layers": arch.layers,
        "per_layer": per_layer,
        "f_int": 1 + (p - 1) / (p * v) if v > 1 else 1,
    }


@formula(
    symbol=r"A = L\,A_{\ell}\,f_{\mathrm{int}}",
    substituted=r"{{layers}} \cdot {{per_layer}} \cdot {{f_int}}",
    sources=("korthikanti2022", "narayanan2021"),
    citation="Korthikanti et al. (2022), §4.2–4.3; Narayanan et al. (2021), interleaving",
    result="information",
    expand=_model_act_operands,
)
def activation_bytes(
    model: Any,
    seq_len: Any,
    batch: Any = 1,
    tp: int = 1,
    sp: bool = False,
    recompute: str = DEFAULT_RECOMPUTE,
    pp: int = 1,
    interleave: int = 1,
    precision: str = DEFAULT_PRECISION,
    fused_attention: bool = False,
) -> Any:
    """Peak activation bytes per device (first pipeline stage): L·A_ℓ·f_int.

    f_int = 1 + (p−1)/(p·v) for the interleaved schedule (v > 1), else 1.

    With 1F1B pipelining the first of ``pp`` stages holds ``pp`` micro-batches of L/pp layers,
    i.e. L layers' worth; the interleaved schedule (``interleave`` = v > 1 model chunks per
    stage) multiplies that by 1 + (p−1)/(p·v). ``batch`` is the micro-batch size. Embedding
    and output-layer activations are not counted; ``recompute``, ``precision`` and
    ``fused_attention`` as in :func:`activation_bytes_per_layer`. Source: Korthikanti et al.
    2022, §4.2–4.3.
    """
    where = "activation_bytes"
    arch = spec(model, "arch", "model", where)
    choice(recompute, "recompute", where, RECOMPUTE_POLICIES)
    s = count(seq_len, "seq_len", where, dim="token")
    b = count(batch, "batch", where, dim="sample")
    t = count(tp, "tp", where)
    p = count(pp, "pp", where)
    v = count(interleave, "interleave", where)
    beta = bytes_per_element(precision)
    h, a, fused = arch.hidden, arch.heads, bool(fused_attention)
    A_l = activation_bytes_per_layer_B(s, b, h, a, t, bool(sp), recompute, beta, fused)
    f_int = 1 + (p - 1) / (p * v) if v > 1 else 1.0
    A = arch.layers * A_l * f_int
    return from_si(A, "B")
