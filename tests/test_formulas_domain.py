"""Every formula's domain: negative, NaN and zero arguments, refused by name or accepted.

The sample call of each formula (``tests/test_formulas_samples.py``) is repeated with one
numeric argument made negative, NaN or zero: the formula either accepts it (a signed quantity,
or a zero that makes sense — no traffic, no latency) or raises a FormulaDomainError whose
message names that argument (as a word) and the formula. Found by mutation testing: the names
passed to the argument checks, and which checks allow zero, had no test.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

import mlsysim
from mlsysim.core.exceptions import DimensionError, FormulaDomainError, MlsysimError
from mlsysim.core.formulas import FORMULAS
from tests.test_formulas_samples import SAMPLES


def _numeric(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int | float | mlsysim.ureg.Quantity)


_NUMERIC_ARGS = [
    (name, arg)
    for name, kwargs in sorted(SAMPLES.items())
    for arg, v in kwargs.items()
    if _numeric(v)
]


def _replace(v: Any, x: float) -> Any:
    if isinstance(v, mlsysim.ureg.Quantity):
        return mlsysim.Q_(x * abs(v.magnitude or 1.0), v.units)
    return x * abs(v or 1.0)


def _names(arg: str, text: str) -> bool:
    """``arg`` appears in ``text`` as a whole word (``size``, not ``XXsizeXX``)."""
    return re.search(rf"(?<![\w]){re.escape(arg)}(?![\w])", text) is not None


@pytest.mark.parametrize(("name", "arg"), _NUMERIC_ARGS)
@pytest.mark.parametrize("sign", [-1.0, math.nan, 0.0], ids=["negative", "nan", "zero"])
def test_bad_numbers_are_refused_naming_argument_and_formula(name: str, arg: str, sign: float):
    kwargs = dict(SAMPLES[name])
    kwargs[arg] = _replace(kwargs[arg], sign)
    try:
        FORMULAS[name](**kwargs)
    except FormulaDomainError as exc:
        text = str(exc)
        assert _names(arg, text), text
        assert exc.where == name, (exc.where, name)
        assert sign != 0 or arg not in ZERO_ALLOWED.get(name, ()), f"{name} refused {arg}=0"
    except (DimensionError, MlsysimError) as exc:  # pragma: no cover - a wrong kind of error
        pytest.fail(f"{name}({arg}={kwargs[arg]!r}) raised {type(exc).__name__}: {exc}")
    else:
        if sign == 0:
            assert arg in ZERO_ALLOWED.get(name, ()), f"{name} accepted {arg}=0"
            return
        assert sign < 0, f"{name} accepted {arg}=NaN"
        assert (name, arg) in _MAY_BE_NEGATIVE, f"{name} accepted a negative {arg}"


#: Arguments a formula accepts below zero (sensitivity takes signed changes; a currency
#: conversion converts a credit as well as a charge).
_MAY_BE_NEGATIVE = {("elasticity", a) for a in ("y0", "y1", "x0", "x1")} | {
    ("convert_currency", "amount")
}

#: Arguments a formula accepts at zero (everything else must be refused at zero).
ZERO_ALLOWED: dict[str, set[str]] = {
    "all_gather": {"latency", "size"},
    "all_to_all": {"latency", "size"},
    "allreduce_bus_bandwidth": {"size"},
    "amat": {"hit_time", "miss_penalty", "miss_rate"},
    "amdahl": {"p"},
    "amortized_capex": {"duration", "price"},
    "arithmetic_intensity": {"flops"},
    "attainable_flops": {"intensity"},
    "availability": {"mttr"},
    "best_of_n": {"p"},
    "broadcast": {"latency", "size"},
    "bus_bandwidth": {"size"},
    "checkpoint_goodput": {"restart_time"},
    "checkpoint_time": {"size"},
    "cloud_cost": {"duration", "rate"},
    "convert_currency": {"amount"},
    "data_movement_energy": {"energy_per_byte", "size"},
    "device_power": {"idle_fraction", "utilization"},
    "device_utilization": {"bytes", "flops"},
    "double_binary_tree_allreduce": {"latency", "size"},
    "dpsgd_noise_std": {"noise_multiplier"},
    "duty_cycle_power": {"active_power", "duty", "idle_power"},
    "egress_cost": {"price", "size"},
    "elasticity": {"x1", "y1"},
    "embodied_carbon": {"duration", "embodied"},
    "energy_cost": {"energy", "price"},
    "expected_failures": {"duration"},
    "expected_expert_tiles": {"tokens"},
    "expert_load": {"tokens"},
    "exposed_launch_overhead": {"kernel", "launch", "node"},
    "facility_energy": {"it_energy"},
    "failure_rate": {"failures"},
    "fanout_tail": {"p"},
    "flop_params": {"lookup_rows"},
    "graph_launch_overhead": {"nodes", "per_node", "per_replay"},
    "gustafson": {"p"},
    "hfu": {"throughput"},
    "hierarchical_all_to_all": {"inter_latency", "intra_latency", "size"},
    "hierarchical_allreduce": {"inter_latency", "intra_latency", "size"},
    "in_network_allreduce": {"latency", "size"},
    "inference_flops": {"params", "tokens"},
    "ingestion_throughput": {"bandwidth"},
    "it_energy": {"duration", "power"},
    "kv_cache_bytes": {"context"},
    "launch_overhead": {"ops", "per_op"},
    "little": {"latency"},
    "mfu": {"throughput"},
    "md1_wait_percentile": {"q"},
    "mm1_latency_percentile": {"q"},
    "mmc_wait_percentile": {"q"},
    "moe_flops": {"active_params", "tokens"},
    "offloaded_step_time": {"stream_time"},
    "operational_carbon": {"energy", "intensity"},
    "opex": {"duration", "energy", "energy_price", "maintenance_rate", "price"},
    "overlap_compute_loss": {"overlap", "comm_units"},
    "padded_wave_efficiency": {"work"},  # no useful work: an idle device, η = 1
    "paged_kv_sequences": {"memory"},
    "per_example_gradient_bytes": {"params"},
    "pipeline_time": {"microbatch_time"},
    "quantized_bits_per_weight": {"group_size"},
    "quantized_weights_bytes": {"params", "group_size"},
    "reasoning_flops": {"generated_tokens", "params", "prompt_tokens"},
    "reduce_scatter": {"latency", "size"},
    "rent_vs_own_crossover": {"own_rate", "price"},
    "ring_allreduce": {"latency", "size"},
    "roofline_time": {"bytes", "flops"},
    "send_recv": {"latency", "size"},
    "sparse_weight_bytes": {"params"},
    "speculative_speedup": {"acceptance", "cost_ratio"},
    "speculative_tokens": {"acceptance"},
    "tco": {"energy_price", "maintenance_rate", "power", "price"},
    "training_flops": {"params", "tokens"},
    "training_memory": {"params", "zero_stage"},
    "training_time": {"flops"},
    "tree_allreduce": {"latency", "size"},
    "water_usage": {"grid_water_intensity", "it_energy", "wue"},
    "weight_streaming_time": {"latency", "size"},
}
