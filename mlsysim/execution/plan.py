"""Execution layer: how a workload runs — engine, formats, quantization, sparsity, recompute.

An :class:`ExecutionPlan` is the second of the five modeling layers (DESIGN.md §3): it names
the execution *engine* (TensorRT, a compiled graph, an eager framework, llama.cpp, an MCU
runtime — ``mlsysim.hardware.engines``), says in which precision weights, activations,
gradients and the KV cache are *stored*, whether 2:4 structured sparsity is used, how much of
the forward pass is recomputed in training, and which optimizer state is kept.
:meth:`ExecutionPlan.resolve` binds the plan to one device and one engine and decides the
formats the arithmetic runs in. What each ``precision`` string means:

* no ``weights`` format: the device's 16-bit float format, bf16 where it has a bf16 rate and
  fp16 otherwise (:data:`~mlsysim.core.constants.HALF_PRECISIONS`), fp32 on a device with
  neither (an edge board whose datasheet gives only fp32 and int8 rates); a device with no
  float rate at all (a microcontroller) needs ``precision="int8"``;
* ``"bf16"``/``"fp16"``/``"fp32"``: weights, activations, KV cache and math in that format;
  ``"tf32"``: values stored as fp32 (4 bytes), matrix math at the device's TF32 rate, at the
  engine's TF32 GEMM efficiency — its own format, not fp32 and not 16-bit;
* ``"fp8"``, ``"int8"``, ``"fp4"`` (and ``"fp6"``) on a device with a rate for them: W8A8 (W4A4)
  — the GEMMs' weights and input activations in that format at its rate (FP8 serving,
  SmoothQuant/TensorRT INT8, NVFP4/MXFP4). Norms, softmax, attention, the residual stream, the
  embedding and the LM head stay in the device's 16-bit format, as serving engines keep them
  (vLLM FP8: every Linear but ``lm_head``; ModelOpt/llm-compressor recipes ignore
  ``lm_head``), and so does the KV cache unless ``kv_cache=`` names a format (an 8-bit KV cache
  is never implied); ``kv_cache="fp8"`` on a device with an FP8 rate runs attention in FP8,
  as vLLM's ``--kv-cache-dtype fp8`` does;
* ``"int4"``: weight-only W4A16 in groups of 128 with an fp16 scale and a 4-bit zero point
  per group (AWQ/GPTQ: 4.156 bits per weight) even where the device lists an int4 rate —
  ``activations="int4"`` asks for W4A4;
* weight-only quantization: a quantized weight format without a device rate (``"fp8"`` on an
  A100, ``"int8"`` on a V100) is stored quantized — fewer bytes moved, group scales counted
  (:func:`~mlsysim.core.formulas.quantized_bits_per_weight`) — and dequantized to the 16-bit
  format for the math (W8A16, W4A16; Frantar et al. 2023, Lin et al. 2024); the kernels reach
  the engine's ``quantized_memory`` fraction of its bandwidth efficiency;
* a float format the device lacks (``fp16`` on a device that gives only ``bf16``) is an
  :class:`~mlsysim.core.exceptions.UnsupportedPrecisionError` listing what it has;
* 2:4 sparsity needs a datasheet *sparse* rate (``hw.supports_2_4_sparsity``).

Whenever the device runs a precision differently from the string asked for (weight-only
fallback, 16-bit attention and LM head around 8-bit GEMMs, int4 as W4A16), the resolved plan
says so in :attr:`ResolvedPlan.notes`, which every result reports. Formats, optimizers,
recompute policies and every default come from :mod:`mlsysim.core.constants` — the same names
the formulas use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core import arguments
from mlsysim.core.constants import (
    BITS_PER_BYTE,
    BYTES_PER_ELEMENT,
    DEFAULT_GRADIENT_PRECISION,
    DEFAULT_OPTIMIZER,
    DEFAULT_RECOMPUTE,
    HALF_PRECISIONS,
    OPTIMIZERS,
    PRECISIONS,
    QUANT_LAYOUTS,
    QUANTIZED_FORMATS,
    RECOMPUTE_POLICIES,
)
from mlsysim.core.exceptions import ConfigError, UnsupportedPrecisionError
from mlsysim.core.formulas.compression import quantized_bits

__all__ = [
    "ATTENTION_KERNELS",
    "PLAN_OPTIONS",
    "SHARD_UNITS",
    "SPARSITY",
    "ExecutionPlan",
    "ResolvedPlan",
]

#: Sparsity patterns a plan may use.
SPARSITY = ("dense", "2:4")
#: Attention kernels: fused (FlashAttention, Dao 2023), unfused (score matrix in memory), or
#: fused with a decode kernel that reads K/V once per query head (pre-XQA TensorRT-LLM).
ATTENTION_KERNELS = ("flash", "unfused", "per_query_head")
#: What ZeRO-3 / FSDP gathers in one collective: each weight-holding submodule (DeepSpeed's
#: per-module fetch) or each transformer layer (FSDP's unit wrapping one block).
SHARD_UNITS = ("module", "layer")
#: Formats tried, in order, for the math when the weights' format has no rate of its own.
_DEQUANT_TARGETS = (*HALF_PRECISIONS, "fp32")
#: Formats wide enough that the ops around the GEMMs (norms, attention, head) run in them too.
_WIDE = frozenset({"fp64", "fp64_tensor", "fp32", "tf32", "bf16", "fp16"})
#: KV-cache formats attention may run in directly (vLLM --kv-cache-dtype fp8).
_ATTENTION_IN_KV = frozenset({"fp8"})
_WHERE = "ExecutionPlan"
_FRACTIONS = ("gemm_efficiency", "attention_efficiency", "memory_efficiency")


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    """How a workload executes on a device (hashable; used as a cache key).

    ``engine`` names the execution engine (an id or alias of
    ``mlsysim.Engines``: ``"tensorrt"``, ``"compiled"``/``"vllm"``,
    ``"eager"``/``"pytorch"``, ``"megatron"``, ``"llamacpp"``, ``"cmsis_nn"``, ``"tflm"``);
    ``None`` runs the default for the device, phase and model family (see
    ``mlsysim.hardware.engines.engine_for``), and the result says which.
    ``weights`` is the storage format of the weights (default: the device's 16-bit float
    format, see :meth:`resolve` and the module doc for what each string means);
    ``activations`` the format of the GEMMs' inputs and math (default: the weights' format
    where the device has a rate for it, else their 16-bit dequantization target);
    ``kv_cache`` (default: the 16-bit format the non-GEMM operations run in) the format of
    cached keys and values; ``gradients`` the format gradients are accumulated in during
    training (default: fp32, Megatron-LM's main gradients — with ZeRO-2/3 the distributed
    solver keeps them in the weights' format unless this names one). ``group_size`` overrides
    the weights' quantization group (int4 default 128; ``0``: one scale per tensor).
    ``recompute`` is activation recomputation in training (Korthikanti et al. 2022):
    ``"none"`` (the attention score matrix is stored), ``"selective"`` (the default: attention
    internals are recomputed in the backward pass, as FlashAttention does — Dao 2023) or
    ``"full"`` (each layer's forward is re-run; only layer inputs are kept).
    ``optimizer`` is one of ``mlsysim.core.constants.OPTIMIZERS`` (``"adam"``: fp32
    master weights and two moments; ``"sgd"``: master weights only; ``"sgd_momentum"``: and a
    momentum buffer). ``sparsity`` is ``"dense"`` or ``"2:4"``.
    ``attention`` is the attention kernel: ``"flash"`` (the default: fused, scores never
    written to memory, causal blocks skipped — Dao 2023) or ``"unfused"`` (QKᵀ and PV as
    batched GEMMs over the full score matrix, which is written and read back around a fused
    softmax, as in Megatron-LM before FlashAttention — Korthikanti et al. 2022) or
    ``"per_query_head"`` (fused, but decode runs one thread block per query head, so a K/V head
    that GQA/MQA shares is read once per query head: TensorRT-LLM's masked multi-head
    attention before its XQA kernel, v0.8).
    ``dropout`` applies dropout to the attention probabilities (an unfused kernel then reads
    them, writes the dropped-out copy and a one-byte mask; a fused kernel does it in place).
    ``expert_imbalance`` is the load of the busiest expert over the mean (≥ 1; default
    ``mlsysim.core.constants.EXPERT_IMBALANCE``, the Switch capacity factor 1.25): it
    sets the expert-parallel critical path.
    ``shard_unit`` is what ZeRO-3 gathers (and reduce-scatters) in one collective:
    ``"module"`` (the default: each weight-holding submodule — fused QKV, attention output,
    each MLP matrix — as DeepSpeed's ZeRO-3 fetches a submodule's parameters when its hook
    runs, ``deepspeed/runtime/zero/stage3.py``, again for a recomputed forward) or
    ``"layer"`` (one transformer block, as PyTorch FSDP wraps it: Zhao et al. 2023; a
    block's recomputation runs inside its backward, while it is gathered).
    ``list_collectives`` passes ZeRO-3's gathers and scatters one tensor per rank, as
    DeepSpeed 0.3-0.5 does (``_allgather_param`` and ``_reduce_scatter_gradient`` build
    world-size lists of views for ``torch.distributed``'s list all_gather / reduce_scatter,
    which copies each through a flat buffer): every call then costs the host one view and one
    copy launch per rank of its group, and (with ``shard_unit="module"``) the gradients are
    reduce-scattered one parameter tensor at a time, each bias and norm tensor a call of its
    own (``_reduce_scatter_gradients``, DeepSpeed 0.3-0.5).
    The efficiency fields override the engine's sourced figures: fractions in (0, 1] (``0.8``
    or ``"80 %"``); ``kernel_overhead`` a time per kernel launch (``"3 us"`` or a Quantity — a
    bare number other than 0 is refused, since its unit is unknown). They are stored as
    floats (seconds for the overhead).
    """

    weights: str | None = None
    activations: str | None = None
    kv_cache: str | None = None
    gradients: str | None = None
    engine: str | None = None
    group_size: int | None = None
    sparsity: str = "dense"
    recompute: str = DEFAULT_RECOMPUTE
    optimizer: str = DEFAULT_OPTIMIZER
    attention: str = "flash"
    dropout: bool = False
    expert_imbalance: float | None = None
    shard_unit: str = "module"
    list_collectives: bool = False
    gemm_efficiency: float | None = None
    attention_efficiency: float | None = None
    memory_efficiency: float | None = None
    kernel_overhead: float | None = None

    def __post_init__(self) -> None:
        for name in ("weights", "activations", "kv_cache", "gradients"):
            value = getattr(self, name)
            if value is not None:
                arguments.choice(value, f"{name} precision", _WHERE, PRECISIONS)
        if self.engine is not None:
            object.__setattr__(self, "engine", _engine_id(self.engine))
        if self.group_size is not None:
            g = arguments.count(self.group_size, "group_size", _WHERE, minimum=0)
            object.__setattr__(self, "group_size", g)
        arguments.choice(self.sparsity, "sparsity", _WHERE, SPARSITY)
        arguments.choice(self.recompute, "recompute", _WHERE, RECOMPUTE_POLICIES)
        arguments.choice(self.optimizer, "optimizer", _WHERE, OPTIMIZERS)
        arguments.choice(self.attention, "attention", _WHERE, ATTENTION_KERNELS)
        arguments.choice(self.shard_unit, "shard_unit", _WHERE, SHARD_UNITS)
        if not isinstance(self.list_collectives, bool):
            raise ConfigError(
                f"list_collectives must be True or False, got {self.list_collectives!r}",
                where=_WHERE,
                fix="pass list_collectives=True for ZeRO-3 over per-rank tensor lists",
            )
        if not isinstance(self.dropout, bool):
            raise ConfigError(
                f"dropout must be True or False, got {self.dropout!r}",
                where=_WHERE,
                fix="pass dropout=True to apply dropout to the attention probabilities",
            )
        if self.expert_imbalance is not None:
            f = arguments.fraction(
                self.expert_imbalance,
                "expert_imbalance",
                _WHERE,
                low=1.0,
                high=math.inf,
                low_open=False,
                example="1.25",
            )
            object.__setattr__(self, "expert_imbalance", f)
        for name in _FRACTIONS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, arguments.fraction(value, name, _WHERE))
        if self.kernel_overhead is not None:
            t = arguments.quantity(
                self.kernel_overhead, "time", "kernel_overhead", _WHERE, example="3 us"
            )
            object.__setattr__(self, "kernel_overhead", t)

    def resolve(self, hw: Any, engine: Any = None) -> ResolvedPlan:
        """Bind the plan to device ``hw`` and ``engine`` (an EngineSpec; default: the plan's,
        or the device's default inference engine): pick the formats, check sparsity support,
        take the engine's efficiencies with the plan's overrides."""
        from mlsysim.hardware.engines import efficiencies, engine_for

        if engine is None:
            engine = engine_for(hw, "inference", "llm", self.engine)
        dense = hw.peak.dense
        notes: list[str] = []
        w = self.weights
        if w is None:
            w = next((p for p in _DEQUANT_TARGETS if p in dense), HALF_PRECISIONS[0])
        half = next((p for p in _DEQUANT_TARGETS if p in dense), "")
        if self.activations is not None:
            a = self.activations
        elif w in dense and w != "int4":
            a = w
        elif w in QUANTIZED_FORMATS:
            if not half:
                raise UnsupportedPrecisionError(hw.id, w, dense, sparse=False)
            a = half
            if w == "int4" and "int4" in dense:
                notes.append(
                    f"precision='int4' runs as weight-only W4A16 (AWQ/GPTQ): int4 weights "
                    f"dequantized to {a} for the math, not {hw.id}'s int4 tensor rate; pass "
                    "activations='int4' for W4A4"
                )
            else:
                notes.append(
                    f"weight-only quantization: {hw.id} has no {w} rate, so {w} weights are "
                    f"dequantized and the math runs in {a} (W{_bits(w)}A{_bits(a)})"
                )
        else:
            raise UnsupportedPrecisionError(hw.id, w, dense, sparse=False)
        if a not in dense:
            raise UnsupportedPrecisionError(hw.id, a, dense, sparse=False)
        high = a if a in _WIDE or not half or a in engine.end_to_end_formats else half
        wide = engine.wide_elementwise if high in HALF_PRECISIONS else ()
        if wide:
            notes.append(
                f"{engine.id} runs a transformer's {' and '.join(wide)} operations in fp32 "
                f"around the {high} GEMMs, with a cast kernel on the way in and out (a CNN's "
                "batch norm, ReLU and add stay in the GEMMs' format)"
            )
        kv = self.kv_cache or high
        attention_fmt = kv if kv in _ATTENTION_IN_KV and kv in dense else high
        if high != a:
            around = "norms, softmax, the embedding and the LM head"
            if attention_fmt != a:
                around = "norms, softmax, attention, the embedding and the LM head"
            notes.append(
                f"{a} GEMMs; {around} run in {high} and the KV cache is {kv}, as "
                f"{engine.id} keeps them"
            )
        g = self.gradients or DEFAULT_GRADIENT_PRECISION
        sparse = self.sparsity == "2:4"
        if sparse and a not in hw.peak.sparse:
            raise UnsupportedPrecisionError(hw.id, a, hw.peak.sparse, sparse=True)
        bits = _weight_bits(w, self.group_size, engine)
        eff = efficiencies(engine, hw)
        sources = eff.sources
        if eff.gemm_for(a) != eff.gemm:  # the engine's GEMM figure for this format
            sources = (("gemm", eff.source_of(f"gemm.{a}")), *sources)
        if eff.quantized_memory_for(w) != eff.quantized_memory:  # its stored format's figure
            sources = (("quantized_memory", eff.source_of(f"quantized_memory.{w}")), *sources)
        eff = eff._replace(
            sources=sources,
            gemm=self.gemm_efficiency or eff.gemm_for(a),
            quantized_memory=eff.quantized_memory_for(w),
            attention=self.attention_efficiency or eff.attention,
            memory=self.memory_efficiency or eff.memory,
            kernel_overhead=eff.kernel_overhead
            if self.kernel_overhead is None
            else self.kernel_overhead,
            # a per-kernel figure the author gives is the whole per-kernel cost
            kernel_node=eff.kernel_node if self.kernel_overhead is None else 0.0,
        )
        return ResolvedPlan(
            plan=self,
            engine=engine.id,
            fusion=engine.fusion,
            weights=w,
            activations=a,
            high=high,
            kv_cache=kv,
            attention_format=attention_fmt,
            gradients=g,
            sparse=sparse,
            weight_only=w in QUANTIZED_FORMATS and (a != w or engine.quantized_kernels == "all"),
            quantized_head=w in QUANTIZED_FORMATS and engine.quantize_head,
            notes=tuple(notes),
            weight_bits=bits,
            weight_bytes=bits / BITS_PER_BYTE,
            activation_bytes=BYTES_PER_ELEMENT[a].value,
            high_bytes=BYTES_PER_ELEMENT[high].value,
            kv_bytes=BYTES_PER_ELEMENT[kv].value,
            gradient_bytes=BYTES_PER_ELEMENT[g].value,
            eff=eff,
            wide_elementwise=wide,
            wide_bytes=BYTES_PER_ELEMENT["fp32"].value,
        )


def _engine_id(name: Any) -> str:
    from mlsysim.hardware.engines import Engines

    if not isinstance(name, str):
        raise ConfigError(
            f"engine must be an engine id, got {type(name).__name__} {name!r}",
            where=_WHERE,
            fix="pass e.g. engine='tensorrt', 'compiled', 'eager', 'llamacpp' or 'cmsis_nn'",
        )
    return Engines.resolve(name)


def _weight_bits(fmt: str, group_size: int | None, engine: Any) -> float:
    """Bits per stored weight: the element plus its share of group scales and zero points."""
    bits = BYTES_PER_ELEMENT[fmt].value * BITS_PER_BYTE
    layout = QUANT_LAYOUTS.get(fmt)
    if layout is None:
        return bits
    g, s_b, z_b = float(layout.group_size), layout.scale_bits, layout.zero_bits
    custom = engine.quant_layouts.get(fmt)
    if custom is not None:
        g, s_b, z_b = (float(x) for x in custom)
    if group_size is not None:
        g = float(group_size)
    return quantized_bits(bits, g, s_b, z_b)


#: Every option of a plan (the keywords ``solve`` passes through to :class:`ExecutionPlan`).
PLAN_OPTIONS: tuple[str, ...] = tuple(ExecutionPlan.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class ResolvedPlan:
    """A plan bound to a device and an engine: the formats used, their bytes, the efficiencies.

    ``activations`` is the GEMMs' math format; ``high`` the format of everything else (norms,
    softmax, the residual stream, the embedding and the LM head); ``attention_format`` the
    format attention's math runs in; ``weight_bits`` the stored bits per quantized weight,
    group scales and zero points included (``weight_bytes`` = bits / 8); ``weight_only`` marks
    weights dequantized for the math. ``eff`` holds the engine's efficiencies on the device
    with the plan's overrides; ``notes`` says every way the run differs from the string asked.
    """

    plan: ExecutionPlan
    engine: str
    fusion: str
    weights: str
    activations: str
    high: str
    kv_cache: str
    attention_format: str
    gradients: str
    sparse: bool
    weight_only: bool  # quantized weights run the engine's dequantizing kernels
    quantized_head: bool  # the embedding and LM head are quantized too (MLC)
    notes: tuple[str, ...]
    weight_bits: float
    weight_bytes: float  # bytes per stored (quantized) weight, scales included
    activation_bytes: float  # bytes per GEMM input activation element
    high_bytes: float  # bytes per element of the 16-bit (or wider) residual stream
    kv_bytes: float  # bytes per cached key/value element
    gradient_bytes: float  # bytes per gradient element
    eff: Any  # hardware.engines.Efficiencies
    # element-wise kinds the engine runs wider than ``high`` (FP32), and their bytes
    wide_elementwise: tuple[str, ...] = ()
    wide_bytes: float = 0.0

    @property
    def note(self) -> str:
        """The notes as one line (empty when the run is exactly what was asked)."""
        return "; ".join(self.notes)


def _bits(fmt: str) -> int:
    return int(BYTES_PER_ELEMENT[fmt].value * BITS_PER_BYTE)
