"""Physical, numerical and empirical constants used by the formulas, each with its source.

A :class:`Constant` is a value, its unit (``""`` for a pure number) and the citation id it
comes from (``core/data/literature.toml``). Formula bodies use these names instead of bare
literals, so every coefficient in a derivation can be traced to the paper that printed it.

One module a domain: :mod:`.formats` (numeric formats and their storage), :mod:`.defaults`
(what a plan or an engine uses when none is given), :mod:`.compute` (FLOP counting, kernels,
scaling laws), :mod:`.memory` (training memory), :mod:`.facilities` (power, PUE, lifetimes,
datacenter costs), :mod:`.nccl` (the collective library's cost model); :mod:`.sourced` is the
:class:`Constant` itself.

>>> BYTES_PER_ELEMENT["bf16"].value
2.0
>>> ACT_SBH_BYTES.source
'korthikanti2022'
"""

from __future__ import annotations

from mlsysim.core.constants import compute, defaults, facilities, formats, memory, nccl
from mlsysim.core.constants.compute import (
    BACKWARD_FORWARD_RATIO,
    BATCHNORM_BUFFERS,
    CHINCHILLA_A,
    CHINCHILLA_ALPHA,
    CHINCHILLA_B,
    CHINCHILLA_BETA,
    CHINCHILLA_E,
    CHINCHILLA_TOKENS_PER_PARAM,
    DROPOUT_MASK_BYTES,
    ELEMENTWISE_FLOPS,
    ELEMENTWISE_TOUCHES,
    EXPERT_IMBALANCE,
    FLASH_QUERY_BLOCK,
    FLOPS_PER_MAC,
    FORWARD_ATTENTION_FLOPS,
    FORWARD_FLOPS_PER_PARAM,
    FP8_CAST_COPIES,
    KAPLAN_ALPHA_D,
    KAPLAN_ALPHA_N,
    KAPLAN_D_C,
    KAPLAN_N_C,
    KERNEL_NODE_TIME,
    SMALLEST_GEMM_TILE,
    TRAINING_FLOPS_PER_PARAM,
)
from mlsysim.core.constants.defaults import (
    DEFAULT_GRADIENT_PRECISION,
    DEFAULT_KV_BLOCK_SIZE,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_TOKENS,
    DEFAULT_MEMORY_UTILIZATION,
    DEFAULT_OPTIMIZER,
    DEFAULT_PRECISION,
    DEFAULT_RECOMPUTE,
    RECOMPUTE_POLICIES,
)
from mlsysim.core.constants.facilities import (
    ACCELERATOR_IDLE_POWER_FRACTION,
    DATACENTER_CAPEX_PER_WATT,
    DATACENTER_DEPRECIATION,
    HARDWARE_LIFETIME,
    HARDWARE_UTILIZATION,
    IDLE_POWER_FRACTION,
    PUE_GOOGLE_FLEET,
    PUE_INDUSTRY_AVERAGE,
    SERVER_DEPRECIATION,
)
from mlsysim.core.constants.formats import (
    BITS_PER_BYTE,
    BYTES_PER_ELEMENT,
    CSR_INDEX_BITS,
    HALF_PRECISIONS,
    PRECISIONS,
    QUANT_LAYOUTS,
    QUANTIZED_FORMATS,
    SPARSE_2_4_DENSITY,
    SPARSE_2_4_MATH_SPEEDUP,
    SPARSE_2_4_METADATA_BITS,
    SQNR_DB_OFFSET,
    SQNR_DB_PER_BIT,
    QuantLayout,
    bytes_per_element,
)
from mlsysim.core.constants.memory import (
    ACT_ATTENTION_BYTES,
    ACT_FULL_RECOMPUTE_BYTES,
    ACT_PARALLEL_BYTES,
    ACT_REPLICATED_BYTES,
    ACT_SBH_BYTES,
    MASTER_WEIGHT_BYTES,
    OPTIMIZER_MOMENT_BYTES,
    OPTIMIZER_STATE_BYTES,
    OPTIMIZER_UPDATE_FLOPS,
    OPTIMIZERS,
)
from mlsysim.core.constants.nccl import (
    NCCL_BASE_LATENCY,
    NCCL_COLLECTIVE_SMS,
    NCCL_LL_INTRA_ACROSS_NODES,
    NCCL_P2P_PEERS_PER_ROUND,
    NCCL_PROTOCOLS,
    NCCL_RING_BANDWIDTH_FACTOR,
    NCCL_RING_SIMPLE_PLATEAU,
    NCCL_RING_SIMPLE_PLATEAU_BYTES,
    NCCL_TREE_BANDWIDTH_FACTOR,
    NCCL_TREE_CORRECTION,
)
from mlsysim.core.constants.sourced import Constant, SizeTable

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
    "NCCL_COLLECTIVE_SMS",
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


#: Every scalar constant by name (the per-precision and per-optimizer tables are separate).
CONSTANTS: dict[str, Constant] = {
    name: value
    for module in (formats, defaults, compute, memory, facilities, nccl)
    for name, value in vars(module).items()
    if isinstance(value, Constant)
}
