"""The iron laws of ML systems as pure, cited functions of Quantities.

Every public formula takes keyword-callable arguments, checks their dimensions on entry
(``ring_allreduce(size=1 s, ...)`` raises a DimensionError naming ``size``), computes on
root-unit floats and returns a Quantity, a float (dimensionless ratios) or a small frozen
result dataclass with a ``.value`` headline. Each carries ``fn.formula`` (:class:`FormulaInfo`):
LaTeX templates (symbolic and substituted), literature sources and the result's dimension.
Hot loops may call the float fast paths (``ring_allreduce_s``, ``kv_cache_B``, …).

:data:`FORMULAS` maps every public formula's name to the function: what napkin math exposes.

>>> from mlsysim.core.formulas import amdahl
>>> round(amdahl(p=0.95, speedup=1e9), 3)
20.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlsysim.core.formulas._meta import REGISTRY as _REGISTRY
from mlsysim.core.formulas._meta import FormulaInfo, formula
from mlsysim.core.formulas.collectives import (
    broadcast,
    broadcast_s,
    bus_bandwidth,
    bus_factor,
    hierarchical_all_to_all,
    hierarchical_all_to_all_s,
    in_network_allreduce,
    in_network_allreduce_s,
    send_recv,
    send_recv_s,
)
from mlsysim.core.formulas.communication import (
    all_gather,
    all_gather_s,
    all_to_all,
    allreduce_bus_bandwidth,
    double_binary_tree_allreduce,
    double_binary_tree_allreduce_s,
    hierarchical_allreduce,
    hierarchical_allreduce_s,
    pipeline_bubble,
    reduce_scatter,
    ring_allreduce,
    ring_allreduce_s,
    tree_allreduce,
    tree_allreduce_s,
)
from mlsysim.core.formulas.compression import (
    moe_flops,
    quantization_speedup,
    quantization_sqnr,
    quantized_weights_bytes,
    sparse_math_speedup,
    sparse_speedup_bound,
    sparse_weight_bytes,
    weight_streaming_time,
)
from mlsysim.core.formulas.data import (
    amat,
    data_movement_energy,
    ingestion_throughput,
    preprocessing_throughput,
)
from mlsysim.core.formulas.economics import (
    TCO,
    amortized_capex,
    cloud_cost,
    egress_cost,
    energy_cost,
    opex,
    rent_vs_own_crossover,
    tco,
)
from mlsysim.core.formulas.memory import (
    TrainingMemory,
    activation_bytes,
    activation_bytes_per_layer,
    activation_bytes_per_layer_B,
    kv_cache_B,
    kv_cache_bytes,
    training_memory,
    training_memory_B,
    weights_B,
    weights_bytes,
)
from mlsysim.core.formulas.parallelism import (
    pipeline_inflight,
    pipeline_inflight_s,
    pipeline_time,
    pipeline_time_s,
)
from mlsysim.core.formulas.performance import (
    RooflineTime,
    amdahl,
    arithmetic_intensity,
    attainable_flops,
    gustafson,
    hfu,
    launch_overhead,
    little,
    mfu,
    ridge_point,
    roofline_time,
    roofline_time_s,
    transformer_flops_per_token,
)
from mlsysim.core.formulas.queueing import (
    batch_fill_time,
    batching_throughput,
    erlang_c,
    fanout_tail,
    mm1_latency,
    mm1_latency_percentile,
    mm1_wait,
    mmc_wait,
    mmc_wait_percentile,
    utilization,
)
from mlsysim.core.formulas.reliability import (
    checkpoint_goodput,
    checkpoint_time,
    daly,
    series_mtbf,
    young_daly,
)
from mlsysim.core.formulas.safety import dpsgd_noise_std, per_example_gradient_bytes
from mlsysim.core.formulas.scaling import (
    ScalingPoint,
    best_of_n,
    chinchilla_loss,
    chinchilla_optimal,
    inference_flops,
    kaplan_loss,
    reasoning_flops,
    training_flops,
    training_time,
)
from mlsysim.core.formulas.sensitivity import elasticity
from mlsysim.core.formulas.sustainability import (
    Water,
    device_power,
    embodied_carbon,
    facility_energy,
    operational_carbon,
    water_usage,
)

#: Every public formula by name (each has ``.formula``): the napkin language's vocabulary.
FORMULAS: dict[str, Callable[..., Any]] = dict(_REGISTRY)

#: Float fast paths (root units in, root-unit float out) for the solver's hot loops.
FAST_PATHS: dict[str, Callable[..., float]] = {
    "activation_bytes_per_layer_B": activation_bytes_per_layer_B,
    "all_gather_s": all_gather_s,
    "broadcast_s": broadcast_s,
    "double_binary_tree_allreduce_s": double_binary_tree_allreduce_s,
    "hierarchical_all_to_all_s": hierarchical_all_to_all_s,
    "hierarchical_allreduce_s": hierarchical_allreduce_s,
    "in_network_allreduce_s": in_network_allreduce_s,
    "kv_cache_B": kv_cache_B,
    "pipeline_inflight_s": pipeline_inflight_s,
    "pipeline_time_s": pipeline_time_s,
    "ring_allreduce_s": ring_allreduce_s,
    "roofline_time_s": roofline_time_s,
    "send_recv_s": send_recv_s,
    "tree_allreduce_s": tree_allreduce_s,
    "weights_B": weights_B,
}

__all__ = [
    "FAST_PATHS",
    "FORMULAS",
    "TCO",
    "FormulaInfo",
    "RooflineTime",
    "ScalingPoint",
    "TrainingMemory",
    "Water",
    "activation_bytes",
    "activation_bytes_per_layer",
    "activation_bytes_per_layer_B",
    "all_gather",
    "all_gather_s",
    "all_to_all",
    "allreduce_bus_bandwidth",
    "amat",
    "amdahl",
    "amortized_capex",
    "arithmetic_intensity",
    "attainable_flops",
    "batch_fill_time",
    "batching_throughput",
    "best_of_n",
    "broadcast",
    "broadcast_s",
    "bus_bandwidth",
    "bus_factor",
    "checkpoint_goodput",
    "checkpoint_time",
    "chinchilla_loss",
    "chinchilla_optimal",
    "cloud_cost",
    "daly",
    "data_movement_energy",
    "device_power",
    "double_binary_tree_allreduce",
    "double_binary_tree_allreduce_s",
    "dpsgd_noise_std",
    "egress_cost",
    "elasticity",
    "embodied_carbon",
    "energy_cost",
    "erlang_c",
    "facility_energy",
    "fanout_tail",
    "formula",
    "gustafson",
    "hfu",
    "hierarchical_all_to_all",
    "hierarchical_all_to_all_s",
    "hierarchical_allreduce",
    "hierarchical_allreduce_s",
    "in_network_allreduce",
    "in_network_allreduce_s",
    "inference_flops",
    "ingestion_throughput",
    "kaplan_loss",
    "kv_cache_B",
    "kv_cache_bytes",
    "launch_overhead",
    "little",
    "mfu",
    "mm1_latency",
    "mm1_latency_percentile",
    "mm1_wait",
    "mmc_wait",
    "mmc_wait_percentile",
    "moe_flops",
    "operational_carbon",
    "opex",
    "per_example_gradient_bytes",
    "pipeline_bubble",
    "pipeline_inflight",
    "pipeline_inflight_s",
    "pipeline_time",
    "pipeline_time_s",
    "preprocessing_throughput",
    "quantization_speedup",
    "quantization_sqnr",
    "quantized_weights_bytes",
    "reasoning_flops",
    "reduce_scatter",
    "rent_vs_own_crossover",
    "ridge_point",
    "ring_allreduce",
    "ring_allreduce_s",
    "roofline_time",
    "roofline_time_s",
    "send_recv",
    "send_recv_s",
    "series_mtbf",
    "sparse_math_speedup",
    "sparse_speedup_bound",
    "sparse_weight_bytes",
    "tco",
    "training_flops",
    "training_memory",
    "training_memory_B",
    "training_time",
    "transformer_flops_per_token",
    "tree_allreduce",
    "tree_allreduce_s",
    "utilization",
    "water_usage",
    "weight_streaming_time",
    "weights_B",
    "weights_bytes",
    "young_daly",
]
