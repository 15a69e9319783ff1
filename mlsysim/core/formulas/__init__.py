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
from mlsysim.core.formulas.communication import (
    all_gather,
    all_gather_s,
    all_to_all,
    allreduce_bus_bandwidth,
    double_binary_tree_allreduce,
    hierarchical_allreduce,
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
    convert_currency,
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
    kv_cache_B,
    kv_cache_bytes,
    training_memory,
    weights_B,
    weights_bytes,
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
    availability,
    checkpoint_goodput,
    checkpoint_time,
    daly,
    daly_s,
    expected_failures,
    failure_rate,
    goodput_s,
    job_mtbf,
    job_mtbf_s,
    series_mtbf,
    young_daly,
    young_s,
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
    duty_cycle_power,
    embodied_carbon,
    facility_energy,
    it_energy,
    operational_carbon,
    water_usage,
)

#: Every public formula by name (each has ``.formula``): the napkin language's vocabulary.
FORMULAS: dict[str, Callable[..., Any]] = dict(_REGISTRY)

#: Float fast paths (root units in, root-unit float out) for the solver's hot loops.
FAST_PATHS: dict[str, Callable[..., Any]] = {
    "all_gather_s": all_gather_s,
    "daly_s": daly_s,
    "goodput_s": goodput_s,
    "job_mtbf_s": job_mtbf_s,
    "young_s": young_s,
    "kv_cache_B": kv_cache_B,
    "ring_allreduce_s": ring_allreduce_s,
    "roofline_time_s": roofline_time_s,
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
    "all_gather",
    "all_gather_s",
    "all_to_all",
    "allreduce_bus_bandwidth",
    "amat",
    "amdahl",
    "amortized_capex",
    "arithmetic_intensity",
    "attainable_flops",
    "availability",
    "batch_fill_time",
    "batching_throughput",
    "best_of_n",
    "checkpoint_goodput",
    "checkpoint_time",
    "chinchilla_loss",
    "chinchilla_optimal",
    "cloud_cost",
    "convert_currency",
    "daly",
    "daly_s",
    "data_movement_energy",
    "device_power",
    "double_binary_tree_allreduce",
    "dpsgd_noise_std",
    "duty_cycle_power",
    "egress_cost",
    "elasticity",
    "embodied_carbon",
    "energy_cost",
    "erlang_c",
    "expected_failures",
    "facility_energy",
    "failure_rate",
    "fanout_tail",
    "formula",
    "goodput_s",
    "gustafson",
    "hfu",
    "hierarchical_allreduce",
    "inference_flops",
    "ingestion_throughput",
    "it_energy",
    "job_mtbf",
    "job_mtbf_s",
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
    "series_mtbf",
    "sparse_math_speedup",
    "sparse_speedup_bound",
    "sparse_weight_bytes",
    "tco",
    "training_flops",
    "training_memory",
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
    "young_s",
]
