"""Physical, numerical and empirical constants used by the formulas, each with its source.

A :class:`Constant` is a value, its unit (``""`` for a pure number) and the citation id it
comes from (``core/data/literature.toml``). Formula bodies use these names instead of bare
literals, so every coefficient in a derivation can be traced to the paper that printed it.

>>> BYTES_PER_ELEMENT["bf16"].value
2.0
>>> ACT_SBH_BYTES.source
'korthikanti2022'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACCELERATOR_IDLE_POWER_FRACTION",
    "ACT_ATTENTION_BYTES",
    "ACT_FULL_RECOMPUTE_BYTES",
    "ACT_PARALLEL_BYTES",
    "ACT_REPLICATED_BYTES",
    "ACT_SBH_BYTES",
    "BACKWARD_FORWARD_RATIO",
    "BATCHNORM_BUFFERS",
    "BITS_PER_BYTE",
    "BYTES_PER_ELEMENT",
    "CHINCHILLA_A",
    "CHINCHILLA_ALPHA",
    "CHINCHILLA_B",
    "CHINCHILLA_BETA",
    "CHINCHILLA_E",
    "CHINCHILLA_TOKENS_PER_PARAM",
    "CONSTANTS",
    "CSR_INDEX_BITS",
    "DATACENTER_CAPEX_PER_WATT",
    "DATACENTER_DEPRECIATION",
    "DEFAULT_GRADIENT_PRECISION",
    "DEFAULT_KV_BLOCK_SIZE",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_MEMORY_UTILIZATION",
    "DEFAULT_OPTIMIZER",
    "DEFAULT_PRECISION",
    "DEFAULT_RECOMPUTE",
    "DROPOUT_MASK_BYTES",
    "ELEMENTWISE_FLOPS",
    "ELEMENTWISE_TOUCHES",
    "EXPERT_IMBALANCE",
    "FLASH_QUERY_BLOCK",
    "FLOPS_PER_MAC",
    "FORWARD_ATTENTION_FLOPS",
    "FORWARD_FLOPS_PER_PARAM",
    "FP8_CAST_COPIES",
    "HALF_PRECISIONS",
    "HARDWARE_LIFETIME",
    "HARDWARE_UTILIZATION",
    "IDLE_POWER_FRACTION",
    "KAPLAN_ALPHA_D",
    "KAPLAN_ALPHA_N",
    "KAPLAN_D_C",
    "KAPLAN_N_C",
    "KERNEL_NODE_TIME",
    "MASTER_WEIGHT_BYTES",
    "NCCL_BASE_LATENCY",
    "NCCL_LL_INTRA_ACROSS_NODES",
    "NCCL_P2P_PEERS_PER_ROUND",
    "NCCL_PROTOCOLS",
    "NCCL_RING_BANDWIDTH_FACTOR",
    "NCCL_RING_SIMPLE_PLATEAU",
    "NCCL_RING_SIMPLE_PLATEAU_BYTES",
    "NCCL_TREE_BANDWIDTH_FACTOR",
    "NCCL_TREE_CORRECTION",
    "OPTIMIZERS",
    "OPTIMIZER_MOMENT_BYTES",
    "OPTIMIZER_STATE_BYTES",
    "OPTIMIZER_UPDATE_FLOPS",
    "PRECISIONS",
    "PUE_GOOGLE_FLEET",
    "PUE_INDUSTRY_AVERAGE",
    "QUANTIZED_FORMATS",
    "QUANT_LAYOUTS",
    "RECOMPUTE_POLICIES",
    "SERVER_DEPRECIATION",
    "SMALLEST_GEMM_TILE",
    "SPARSE_2_4_DENSITY",
    "SPARSE_2_4_MATH_SPEEDUP",
    "SPARSE_2_4_METADATA_BITS",
    "SQNR_DB_OFFSET",
    "SQNR_DB_PER_BIT",
    "TRAINING_FLOPS_PER_PARAM",
    "Constant",
    "QuantLayout",
    "SizeTable",
    "bytes_per_element",
]


@dataclass(frozen=True)
class Constant:
    """A sourced constant: ``value`` in ``unit`` (``""`` for a pure number)."""

    value: float
    unit: str
    source: str
    note: str = ""

    @property
    def quantity(self) -> Any:
        """The constant as a Quantity (a plain float when it has no unit)."""
        if not self.unit:
            return self.value
        from mlsysim.core.units import Q_

        return Q_(self.value, self.unit)

    def __float__(self) -> float:
        return float(self.value)


def _c(value: float, unit: str, source: str, note: str = "") -> Constant:
    return Constant(float(value), unit, source, note)


# --- numeric formats -------------------------------------------------------------------------
#: Storage bytes per element for each numeric precision, in the order datasheets list them:
#: the one table of formats (the hardware registry, execution plans and formulas all read it).
BYTES_PER_ELEMENT: dict[str, Constant] = {
    "fp64": _c(8, "B", "ieee754_2019", "binary64"),
    "fp64_tensor": _c(8, "B", "ieee754_2019", "binary64 on tensor cores"),
    "fp32": _c(4, "B", "ieee754_2019", "binary32"),
    "tf32": _c(4, "B", "nvidia2020ampere", "TF32 math on values stored as 32-bit floats"),
    "fp16": _c(2, "B", "ieee754_2019", "binary16"),
    "bf16": _c(2, "B", "kalamkar2019", "bfloat16: 8-bit exponent, 7-bit mantissa"),
    "fp8": _c(1, "B", "micikevicius2022", "E4M3 / E5M2"),
    "fp6": _c(0.75, "B", "ocp_mx2023", "MX FP6 element (E2M3 / E3M2), scale not counted"),
    "int8": _c(1, "B", "jacob2018", "8-bit integer quantization"),
    "fp4": _c(0.5, "B", "ocp_mx2023", "MX FP4 element (E2M1), scale not counted"),
    "int4": _c(0.5, "B", "frantar2023", "4-bit integer weights"),
}
#: Every numeric format mlsysim knows, in datasheet order (the keys of :data:`BYTES_PER_ELEMENT`).
PRECISIONS: tuple[str, ...] = tuple(BYTES_PER_ELEMENT)
#: Formats that may be stored quantized and dequantized for the math (weight-only quantization,
#: W4A16: Frantar et al. 2023).
QUANTIZED_FORMATS: frozenset[str] = frozenset({"fp8", "int8", "fp6", "fp4", "int4"})


@dataclass(frozen=True)
class QuantLayout:
    """How a quantized weight format stores its elements and their scales.

    ``group_size`` weights share one ``scale_bits`` scale and one ``zero_bits`` zero point
    (``0``: one scale per tensor or output channel, a negligible share per weight). The bits
    per stored weight are ``element_bits + (scale_bits + zero_bits) / group_size``
    (:func:`~mlsysim.core.formulas.quantized_bits_per_weight`).
    """

    element_bits: float
    group_size: int
    scale_bits: float
    zero_bits: float
    source: str
    note: str = ""


#: Storage layout of each quantized weight format as engines run it by default: the group size
#: and the scale and zero-point widths (GPTQ/AWQ ``QuantLinear`` buffers; OCP MX blocks).
QUANT_LAYOUTS: dict[str, QuantLayout] = {
    "int4": QuantLayout(
        4,
        128,
        16,
        4,
        "solver_lin2024_awq",
        "AWQ/GPTQ default: groups of 128 weights, an fp16 scale and a packed 4-bit zero point "
        "per group (4.156 bits/weight)",
    ),
    "int8": QuantLayout(
        8, 0, 16, 0, "jacob2018", "per-output-channel fp16 scales: negligible per weight"
    ),
    "fp8": QuantLayout(8, 0, 32, 0, "micikevicius2022", "per-tensor fp32 scale"),
    "fp6": QuantLayout(6, 32, 8, 0, "ocp_mx2023", "MXFP6: 32-element blocks share an E8M0 scale"),
    "fp4": QuantLayout(4, 32, 8, 0, "ocp_mx2023", "MXFP4: 32-element blocks share an E8M0 scale"),
}
#: 16-bit float formats in order of preference: bfloat16 is the training format of current
#: accelerators (Kalamkar et al. 2019); fp16 where a device has no bf16 rate (T4, V100).
HALF_PRECISIONS: tuple[str, ...] = ("bf16", "fp16")
#: Bits per byte (the definition of the byte; units.txt: bit = 0.125 byte).
BITS_PER_BYTE = 8.0


def bytes_per_element(precision: str) -> float:
    """Bytes per element of ``precision`` (``"bf16"`` → 2.0); unknown names list the known."""
    c = BYTES_PER_ELEMENT.get(precision)
    if c is None:
        from mlsysim.core.exceptions import UnknownNameError

        raise UnknownNameError(
            "precision",
            str(precision),
            BYTES_PER_ELEMENT,
            fix="use one of " + ", ".join(BYTES_PER_ELEMENT),
        )
    return c.value


# --- modeling defaults (each stated once; formulas, plans and solvers read these names) ------
#: The numeric format when none is given (:data:`HALF_PRECISIONS` ``[0]``; a solve on a device
#: without it falls back along :data:`HALF_PRECISIONS`).
DEFAULT_PRECISION = HALF_PRECISIONS[0]
#: Activation recomputation when none is given: ``"selective"`` — attention internals are
#: recomputed in the backward pass (Korthikanti et al. 2022), as FlashAttention does (Dao 2023).
DEFAULT_RECOMPUTE = "selective"
#: Recompute policies (Korthikanti et al. 2022): none, selective (attention core), full (layer).
RECOMPUTE_POLICIES: tuple[str, ...] = ("none", "selective", "full")
#: The optimizer when none is given: mixed-precision Adam.
DEFAULT_OPTIMIZER = "adam"
#: Gradient format when none is given: fp32 accumulation (Megatron-LM's main gradients), the
#: 18 B/param accounting of Korthikanti et al. 2022 for bf16 weights with Adam.
DEFAULT_GRADIENT_PRECISION = "fp32"

# --- FLOP counting -----------------------------------------------------------------------------
#: Forward-pass FLOPs per parameter per token (one multiply-add per weight).
FORWARD_FLOPS_PER_PARAM = _c(2, "FLOP/param/token", "kaplan2020", "C_forward ≈ 2N")
#: Backward pass costs twice the forward pass.
BACKWARD_FORWARD_RATIO = _c(2, "", "kaplan2020", "C_backward ≈ 2 C_forward")
#: Training FLOPs per parameter per token: forward + backward = 6.
TRAINING_FLOPS_PER_PARAM = _c(6, "FLOP/param/token", "kaplan2020", "C ≈ 6ND")
#: Forward attention FLOPs per (layer · head · head-dim · context) per token: PaLM's 12LHQT / 3.
FORWARD_ATTENTION_FLOPS = _c(4, "FLOP", "chowdhery2022", "PaLM App. B: 6N + 12LHQT per token")

#: Device time a GPU spends on each kernel beyond its work (dispatching its blocks, draining
#: the last wave before the next dependent kernel starts): a CUDA graph replays a chain of
#: empty kernels at ~0.58 us per node, where the host's enqueue is not in the way.
KERNEL_NODE_TIME = _c(
    0.58, "us", "solver_ocannl_cuda_graphs", "CUDA graph replay of no-op kernels: ~0.58 us a node"
)

#: FP8 copies a training cast of a GEMM operand writes: the operand in FP8 for its own GEMM
#: and its FP8 transpose for the weight-gradient GEMM (Transformer Engine's
#: ``fp8_cast_transpose_fused`` on each Linear input and ``fp8_cast_transpose_bgrad_fused``
#: on each output gradient; where the norm before a GEMM writes FP8 itself, only the
#: transpose remains, made in the backward pass).
FP8_CAST_COPIES = _c(
    2, "", "solver_te_fp8_linear", "Transformer Engine v1.12 Linear: FP8 copy and FP8 transpose"
)

#: Queries per thread block of a fused attention kernel's forward pass: its grid is one block
#: per (sequence, head, 128-query block), the parallelism a short prompt has to fill a GPU.
FLASH_QUERY_BLOCK = _c(
    128, "token", "solver_dao2023_flashattention2", "FlashAttention-2 forward: 128-row Q blocks"
)

#: The smallest side of cuBLASLt's GEMM tiles (``cublasLtMatmulTile_t``: 8×8 up to 512×64, in
#: powers of two): a library runs a dimension shorter than its large tile on the smallest
#: power-of-two tile that holds it (a batch-1 decode GEMM is not padded to 128 rows).
SMALLEST_GEMM_TILE = _c(
    8, "", "solver_cublaslt_matmul_tile", "cublasLtMatmulTile_t: tile sides 8 to 512"
)

#: FLOPs per multiply-accumulate: a GEMM M×K·K×N does 2·M·K·N FLOPs.
FLOPS_PER_MAC = _c(2, "FLOP", "williams2009", "one multiply and one add")

# --- element-wise kernels (memory-bound: the FLOP counts only set their arithmetic intensity) --
_DL_PERF = "solver_nvidia_dl_performance"
_BN = "solver_ioffe2015_batchnorm"
#: FLOPs per element of the element-wise kernels, counted from each kernel's definition.
ELEMENTWISE_FLOPS: dict[str, Constant] = {
    "norm": _c(4, "FLOP", _DL_PERF, "RMS/LayerNorm: square, accumulate, scale, weight"),
    "residual_add": _c(1, "FLOP", _DL_PERF, "one add (fused into the next norm)"),
    "rope": _c(4, "FLOP", _DL_PERF, "rotate pairs: two multiplies, an add, the table read"),
    "activation": _c(5, "FLOP", _DL_PERF, "SiLU/GELU and the gate product"),
    "loss": _c(5, "FLOP", _DL_PERF, "softmax (exp, sum, divide) and log-likelihood"),
    "softmax": _c(5, "FLOP", _DL_PERF, "attention softmax: scale, mask, exp, sum, divide"),
    "permute": _c(1, "FLOP", _DL_PERF, "MoE token permutation: one copy"),
    "batchnorm": _c(6, "FLOP", _BN, "Alg. 1: sum, sum of squares, subtract, scale, γ, β"),
    "batchnorm_inference": _c(2, "FLOP", _BN, "§3.1: a fixed per-channel scale and shift"),
    "relu": _c(1, "FLOP", _DL_PERF, "one comparison"),
    "add": _c(1, "FLOP", _DL_PERF, "one add"),
}
#: Element touches (reads + writes of the tensor) of one pass of each kernel.
ELEMENTWISE_TOUCHES: dict[str, Constant] = {
    "norm": _c(4, "", _DL_PERF, "residual add fused in: read x and residual, write both"),
    "rope": _c(2, "", _DL_PERF, "read, write"),
    "loss": _c(3, "", _DL_PERF, "read logits, write probabilities, read for the gradient"),
    "permute": _c(4, "", _DL_PERF, "scatter to experts and gather back: read and write twice"),
    "batchnorm_forward": _c(3, "", _BN, "statistics pass (read), normalize pass (read, write)"),
    "batchnorm_backward": _c(5, "", _BN, "reductions (read dY, Y), gradient (read dY, Y; write)"),
    "relu_forward": _c(2, "", _DL_PERF, "read, write"),
    "relu_backward": _c(3, "", _DL_PERF, "read dY and the output, write dX"),
    "add_forward": _c(3, "", _DL_PERF, "two reads, one write"),
    "add_backward": _c(3, "", _DL_PERF, "two gradient reads where branches split, one write"),
}

#: Per-channel tensors of a batch norm an unfused (eager) engine keeps at inference.
BATCHNORM_BUFFERS = _c(4, "", _BN, "γ, β, running mean and running variance per channel")

#: Bytes of one dropout-mask element kept for the backward pass.
DROPOUT_MASK_BYTES = _c(1, "B", "korthikanti2022", "§4.1: a 1-byte mask per dropped element")

# --- training memory ---------------------------------------------------------------------------
#: fp32 master copy of the weights kept by mixed-precision training (none when the weights
#: themselves are fp32).
MASTER_WEIGHT_BYTES = _c(4, "B/param", "micikevicius2018", "fp32 master weights")
#: Optimizer moment bytes per parameter (fp32 unless stated), master copy not included.
OPTIMIZER_MOMENT_BYTES: dict[str, Constant] = {
    "adam": _c(8, "B/param", "rajbhandari2020", "fp32 momentum + variance"),
    "adamw": _c(8, "B/param", "loshchilov2019", "as Adam: decoupled decay adds no state"),
    "sgd": _c(0, "B/param", "micikevicius2018", "plain SGD keeps no optimizer state"),
    "sgd_momentum": _c(4, "B/param", "micikevicius2018", "fp32 momentum buffer"),
    "adam_8bit": _c(2, "B/param", "dettmers2022", "8-bit momentum and variance"),
}
#: Optimizer names, in the order above.
OPTIMIZERS: tuple[str, ...] = tuple(OPTIMIZER_MOMENT_BYTES)
#: Optimizer state bytes per parameter with the fp32 master copy of mixed precision:
#: K = master + moments (ZeRO's K = 12 for Adam, Rajbhandari et al. 2020).
OPTIMIZER_STATE_BYTES: dict[str, Constant] = {
    name: _c(
        MASTER_WEIGHT_BYTES.value + m.value,
        "B/param",
        m.source,
        f"fp32 master weights + {m.note}",
    )
    for name, m in OPTIMIZER_MOMENT_BYTES.items()
}
#: FLOPs per parameter of one optimizer update, counted from each algorithm's update rule.
OPTIMIZER_UPDATE_FLOPS: dict[str, Constant] = {
    "adam": _c(12, "FLOP/param", "kingma2015", "Alg. 1: two moments, bias corrections, step"),
    "adamw": _c(14, "FLOP/param", "loshchilov2019", "Adam's 12 plus the decoupled decay"),
    "sgd": _c(2, "FLOP/param", "micikevicius2018", "w -= lr * g"),
    "sgd_momentum": _c(4, "FLOP/param", "micikevicius2018", "v = mu*v + g; w -= lr * v"),
    "adam_8bit": _c(16, "FLOP/param", "dettmers2022", "Adam's 12 plus de/quantizing 2 moments"),
}
#: Activation bytes per s·b·h per layer (16-bit activations, 1-byte dropout masks), SP + selective.
ACT_SBH_BYTES = _c(34, "B", "korthikanti2022", "Eq. 1: sbh(34 + 5as/h)")
#: Part of the 34 not split by tensor parallelism (layer norms, dropouts) unless SP is on.
ACT_REPLICATED_BYTES = _c(10, "B", "korthikanti2022", "Eq. 2: sbh(10 + 24/t + 5as/(ht))")
#: Part of the 34 split by tensor parallelism (GEMM inputs inside attention and MLP).
ACT_PARALLEL_BYTES = _c(24, "B", "korthikanti2022", "Eq. 2")
#: Attention score/softmax/dropout bytes per a·s²·b (removed by selective recompute).
ACT_ATTENTION_BYTES = _c(5, "B", "korthikanti2022", "the 5as/h term of Eq. 1")
#: Bytes per s·b·h per layer kept under full recomputation (the layer input, 16-bit).
ACT_FULL_RECOMPUTE_BYTES = _c(2, "B", "korthikanti2022", "§4.1: 2sbhL")

# --- scaling laws ------------------------------------------------------------------------------
CHINCHILLA_TOKENS_PER_PARAM = _c(20, "token/param", "hoffmann2022", "70B on 1.4T tokens")
CHINCHILLA_E = _c(1.69, "", "hoffmann2022", "Approach 3 fit, Eq. 10: irreducible loss")
CHINCHILLA_A = _c(406.4, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
CHINCHILLA_B = _c(410.7, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
CHINCHILLA_ALPHA = _c(0.34, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
CHINCHILLA_BETA = _c(0.28, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
KAPLAN_N_C = _c(8.8e13, "param", "kaplan2020", "Eq. 1.1, non-embedding parameters")
KAPLAN_D_C = _c(5.4e13, "token", "kaplan2020", "Eq. 1.2")
KAPLAN_ALPHA_N = _c(0.076, "", "kaplan2020", "Eq. 1.1")
KAPLAN_ALPHA_D = _c(0.095, "", "kaplan2020", "Eq. 1.2")

# --- power and facilities ----------------------------------------------------------------------
#: Power drawn at idle as a fraction of peak (servers draw about half their peak doing nothing).
IDLE_POWER_FRACTION = _c(0.5, "", "barroso2007", "linear idle/active power model")
#: An accelerator's idle power as a fraction of its TDP when its entry gives no measured
#: ``power_idle``: the K80 GPU die of Jouppi et al. 2017 (Table 2) idles at 25 W of 150 W.
ACCELERATOR_IDLE_POWER_FRACTION = _c(
    25 / 150, "", "jouppi2017", "Table 2: K80 die idle 25 W, TDP 150 W (Haswell 41/145 W)"
)
PUE_GOOGLE_FLEET = _c(1.10, "", "google2023env", "trailing-twelve-month fleet average")
PUE_INDUSTRY_AVERAGE = _c(1.57, "", "uptime2021", "Uptime Institute global survey 2021")
#: Years over which hardware's manufacturing carbon is amortised (an assumption of the source).
HARDWARE_LIFETIME = _c(6, "yr", "luccioni2023", "BLOOM: 6-year lifetime of Jean Zay's hardware")
#: Fraction of its lifetime hardware is busy, over which embodied carbon is spread.
HARDWARE_UTILIZATION = _c(0.85, "", "luccioni2023", "BLOOM: 85 % average cluster utilisation")
#: Straight-line depreciation period of servers in a TCO (Barroso et al.: 3-4 years).
SERVER_DEPRECIATION = _c(4, "yr", "barroso2018", "ch. 8: servers depreciated over 3-4 years")
#: Datacenter construction cost per watt of critical (IT) power (Barroso et al.: $9-13/W).
DATACENTER_CAPEX_PER_WATT = _c(10, "USD/W", "barroso2018", "ch. 6/8: $9-13 per critical watt")
#: Depreciation period of the datacenter building, power and cooling plant.
DATACENTER_DEPRECIATION = _c(12, "yr", "barroso2018", "ch. 8: facilities depreciated 12-15 yr")

# --- mixture of experts ------------------------------------------------------------------------
#: Load of the busiest expert over the mean when none is given: the capacity factor Switch
#: Transformers provision (1.0-1.25; Fedus et al. 2022 §2.1, GShard's Lepikhin et al. 2021 §2.2).
EXPERT_IMBALANCE = _c(
    1.25, "", "fedus2022", "Switch Transformers capacity factor: expert buffers 1.0-1.25x the mean"
)

# --- sparsity ----------------------------------------------------------------------------------
SPARSE_2_4_DENSITY = _c(0.5, "", "mishra2021", "2 non-zeros in every 4 weights")
SPARSE_2_4_METADATA_BITS = _c(2, "bit", "mishra2021", "2-bit position index per non-zero")
SPARSE_2_4_MATH_SPEEDUP = _c(2, "", "mishra2021", "sparse tensor cores: 2× dense math peak")
CSR_INDEX_BITS = _c(32, "bit", "saad2003", "one 32-bit column index per non-zero (CSR)")

# --- quantization noise ------------------------------------------------------------------------
SQNR_DB_PER_BIT = _c(6.02, "", "bennett1948", "20·log10(2) dB per bit, uniform quantizer")
SQNR_DB_OFFSET = _c(1.76, "", "bennett1948", "10·log10(3/2) dB, full-scale sine input")

# --- serving engines (the defaults of vLLM-style continuous batching) ----------------------------
#: Tokens per KV-cache block (PagedAttention's page; vLLM and Sarathi-Serve default to 16).
DEFAULT_KV_BLOCK_SIZE = _c(16, "token", "sarathi_serve_engine_args", "EngineArgs.block_size")
#: Most sequences decoding together (vLLM's and Sarathi-Serve's max_num_seqs).
DEFAULT_MAX_BATCH = _c(256, "", "sarathi_serve_engine_args", "EngineArgs.max_num_seqs")
#: Most tokens one continuous-batching iteration carries, decodes and prefill chunks together
#: (TensorRT-LLM's max_num_tokens).
DEFAULT_MAX_TOKENS = _c(8192, "token", "trtllm_llm_args", "BaseLlmArgs.max_num_tokens")
#: Share of device memory the engine takes for weights, activations and KV blocks.
DEFAULT_MEMORY_UTILIZATION = _c(
    0.9, "", "sarathi_serve_engine_args", "EngineArgs.gpu_memory_utilization"
)

# --- the collective library's cost model (NCCL src/graph/tuning.cc v2.7.8) ------------------
_NCCL = "sys_nccl_tuning_model"
#: NCCL's protocols, in the order of its tables: LL sends 4 bytes of data with each 4-byte
#: flag, LL128 120 of every 128 bytes, Simple whole buffers behind a fence.
NCCL_PROTOCOLS: tuple[str, ...] = ("ll", "ll128", "simple")
#: NCCL's fixed latency per call (``baseLat``), by algorithm and protocol.
NCCL_BASE_LATENCY: dict[str, dict[str, Constant]] = {
    "ring": {
        "ll": _c(3.6, "us", _NCCL, "baseLat[Ring][LL]"),
        "ll128": _c(10.0, "us", _NCCL, "baseLat[Ring][LL128]"),
        "simple": _c(8.4, "us", _NCCL, "baseLat[Ring][Simple]"),
    },
    "tree": {
        "ll": _c(4.4, "us", _NCCL, "baseLat[Tree][LL]"),
        "ll128": _c(4.4, "us", _NCCL, "baseLat[Tree][LL128]"),
        "simple": _c(0.0, "us", _NCCL, "baseLat[Tree][Simple]: its chunk latency is in hwLat"),
    },
}
#: Share of the ring's bus bandwidth each protocol keeps: LL 1/4 for every all-reduce and
#: across nodes (1/3 otherwise), LL128 0.92 (0.7 with one rank per node), Simple 1.
NCCL_RING_BANDWIDTH_FACTOR: dict[str, Constant] = {
    "ll": _c(1.0 / 4.0, "", _NCCL, "Ring/LL across nodes or for all-reduce: busBw x 1/4"),
    "ll_one_node": _c(1.0 / 3.0, "", _NCCL, "Ring/LL inside one node, not all-reduce: x 1/3"),
    "ll128": _c(0.92, "", _NCCL, "Ring/LL128: busBw x 0.92 (120/128)"),
    "ll128_one_rank_per_node": _c(0.7, "", _NCCL, "Ring/LL128 with ppn < 2: busBw x 0.7"),
    "simple": _c(1.0, "", _NCCL, "Ring/Simple: the full bus bandwidth"),
}
#: Share of the bus bandwidth a double binary tree keeps (``busBw * .9``), and each protocol's
#: further share on it: LL 1/3.8, LL128 7/9 inside one node and 0.915 across nodes.
NCCL_TREE_BANDWIDTH_FACTOR: dict[str, Constant] = {
    "tree": _c(0.9, "", _NCCL, "Tree: busBw x .9"),
    "ll": _c(1.0 / 3.8, "", _NCCL, "Tree/LL: busBw x 1/3.8"),
    "ll128_one_node": _c(7.0 / 9.0, "", _NCCL, "Tree/LL128 inside one node: x 7/9"),
    "ll128": _c(0.915, "", _NCCL, "Tree/LL128 across nodes: x 0.915"),
    "simple": _c(1.0, "", _NCCL, "Tree/Simple: no further share"),
}
#: NCCL's factor on LL's intra-node step latency when the group spans nodes (every algorithm).
NCCL_LL_INTRA_ACROSS_NODES = _c(1.8, "", _NCCL, "intraLat *= 1.8 for LL when nNodes > 1")
#: The ring's Simple all-reduce across nodes pays its latency 1.9 times once the message
#: reaches nRanks/16 x 64 KiB ("plateau effect of ring", ``ncclTopoGetAlgoTime``).
NCCL_RING_SIMPLE_PLATEAU = _c(1.9, "", _NCCL, "Ring/Simple all-reduce, nNodes > 1: lat x 1.9")
#: Bytes per rank from which the plateau applies: nBytes >= nRanks / 16 x 65536.
NCCL_RING_SIMPLE_PLATEAU_BYTES = _c(65536.0 / 16.0, "B", _NCCL, "nRanks/16.0*65536 bytes")
#: Peers one rank's grouped point-to-point operations (an all-to-all) reach at once: NCCL
#: spreads the peers of a group over its p2p channels (NCCL_MAX_P2P_NCHANNELS, MAXCHANNELS =
#: 32 by default), each peer on NCCL_NCHANNELS_PER_NET_PEER = 2 of them, and each channel
#: serves its peers in turn: 32 / 2 = 16 peers per round.
NCCL_P2P_PEERS_PER_ROUND = _c(
    32.0 / 2.0, "", "sys_nccl_p2p_channels", "p2pnChannels / p2pnChannelsPerPeer = 32 / 2"
)


@dataclass(frozen=True)
class SizeTable:
    """A sourced table indexed by message size: ``values[i]`` applies to messages of
    ``first`` x 2^i bytes up to twice that; larger messages use 1."""

    values: tuple[float, ...]
    first: float
    source: str
    note: str = ""

    def at(self, size: float) -> float:
        """The entry for a message of ``size`` bytes (``log2i(size / first)``)."""
        i = int(size // self.first).bit_length() - 1
        if i < 0:
            i = 0
        return self.values[i] if i < len(self.values) else 1.0


#: NCCL's correction of a tree's bandwidth at medium sizes ("trees are not perfectly
#: sticking to the model for medium sizes"), per protocol, powers of two from 64 B.
NCCL_TREE_CORRECTION: dict[str, SizeTable] = {
    "ll": SizeTable(
        (
            *(1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.7, 0.7, 0.7, 0.7, 0.6),
            *(0.5, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0),
        ),
        64.0,
        _NCCL,
        "treeCorrectionFactor[LL]",
    ),
    "ll128": SizeTable(
        (
            *(1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.8, 0.8, 0.7, 0.6),
            *(0.6, 0.6, 0.5, 0.6, 0.6, 0.7, 0.7, 0.8, 0.9, 0.9, 1.0),
        ),
        64.0,
        _NCCL,
        "treeCorrectionFactor[LL128]",
    ),
    "simple": SizeTable(
        (
            *(0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.7, 0.6, 0.6),
            *(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.6, 0.7, 0.8, 0.9),
        ),
        64.0,
        _NCCL,
        "treeCorrectionFactor[Simple]",
    ),
}

#: Every scalar constant by name (the per-precision and per-optimizer tables are separate).
CONSTANTS: dict[str, Constant] = {
    name: value for name, value in dict(globals()).items() if isinstance(value, Constant)
}
