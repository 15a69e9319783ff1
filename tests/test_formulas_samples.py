"""Every formula called by keyword with a representative sample; generic contract checks.

``SAMPLES`` (one keyword call per formula in FORMULAS) is also used by test_formula_latex.py.
"""

from __future__ import annotations

import inspect
import re
from types import SimpleNamespace

import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.core.exceptions import DimensionError
from mlsysim.core.formulas import FORMULAS

H100 = mlsysim.Hardware.H100
LLAMA2_7B = mlsysim.Models.Llama2_7B

SAMPLES: dict[str, dict[str, object]] = {
    # performance
    "ridge_point": {"hw": H100, "precision": "bf16"},
    "arithmetic_intensity": {"flops": Q_("2 GFLOP"), "bytes": Q_("1 GB")},
    "attainable_flops": {"intensity": Q_("100 FLOP/B"), "hw": H100, "precision": "bf16"},
    "roofline_time": {"flops": Q_("1 TFLOP"), "bytes": Q_("1 GB"), "hw": H100, "precision": "bf16"},
    "amdahl": {"p": 0.95, "speedup": 247},
    "gustafson": {"p": 0.99, "n": 1024},
    "little": {"arrival_rate": Q_("100 req/s"), "latency": Q_("50 ms")},
    "transformer_flops_per_token": {
        "params": 540e9,
        "layers": 118,
        "heads": 48,
        "head_dim": 256,
        "seq_len": 2048,
        "recompute": "none",
    },
    "flop_params": {"params": 1.754e9, "vocab": 131072, "hidden": 2048, "lookup_rows": 4096},
    "model_flops": {"forward_flops": Q_("4.1 GFLOP"), "training": True},
    "model_flops_per_token": {
        "params": 540.35e9,
        "layers": 118,
        "heads": 48,
        "head_dim": 256,
        "seq_len": 2048,
        "training": True,
    },
    "hardware_flops_per_token": {
        "params": 540.35e9,
        "layers": 118,
        "heads": 48,
        "head_dim": 256,
        "seq_len": 2048,
        "recompute": "full",
    },
    "device_utilization": {
        "flops": Q_("50 GFLOP"),
        "bytes": Q_("13.5 GB"),
        "time": Q_("10 ms"),
        "peak": Q_("312 TFLOP/s"),
        "bandwidth": Q_("2.039 TB/s"),
    },
    "mfu": {
        "throughput": Q_("238.3e3 token/s"),
        "flops_per_token": Q_("3.28 TFLOP/token"),
        "peak": Q_("1689.6 PFLOP/s"),
    },
    "hfu": {
        "throughput": Q_("238.3e3 token/s"),
        "hardware_flops_per_token": Q_("4.37 TFLOP/token"),
        "peak": Q_("1689.6 PFLOP/s"),
    },
    "launch_overhead": {"ops": 300, "per_op": Q_("5 us")},
    # queueing
    "mm1_wait": {"arrival_rate": Q_("80 req/s"), "service_rate": Q_("100 req/s")},
    "mm1_latency": {"arrival_rate": Q_("80 req/s"), "service_rate": Q_("100 req/s")},
    "mm1_latency_percentile": {
        "arrival_rate": Q_("80 req/s"),
        "service_rate": Q_("100 req/s"),
        "q": 0.99,
    },
    "erlang_c": {"arrival_rate": Q_("150 req/s"), "service_rate": Q_("100 req/s"), "servers": 2},
    "mmc_wait": {"arrival_rate": Q_("150 req/s"), "service_rate": Q_("100 req/s"), "servers": 2},
    "mmc_wait_percentile": {
        "arrival_rate": Q_("150 req/s"),
        "service_rate": Q_("100 req/s"),
        "servers": 2,
        "q": 0.99,
    },
    "utilization": {"arrival_rate": Q_("150 req/s"), "service_rate": Q_("100 req/s"), "servers": 2},
    "batching_throughput": {"batch": 32, "step_time": Q_("40 ms")},
    "batch_fill_time": {"batch": 32, "arrival_rate": Q_("400 req/s")},
    "fanout_tail": {"p": 0.01, "n": 100},
    "md1_wait": {"arrival_rate": Q_("80 req/s"), "service_time": Q_("10 ms")},
    "md1_wait_percentile": {
        "arrival_rate": Q_("80 req/s"),
        "service_time": Q_("10 ms"),
        "q": 0.99,
    },
    # serving
    "paged_kv_sequences": {
        "memory": Q_("60 GB"),
        "bytes_per_token": Q_("512 KiB"),
        "tokens": 1000,
        "block_size": 16,
    },
    "kv_fragmentation": {"tokens": 500, "block_size": 16},
    "speculative_tokens": {"acceptance": 0.8, "draft_tokens": 5},
    "speculative_speedup": {"acceptance": 0.8, "draft_tokens": 5, "cost_ratio": 0.05},
    "offloaded_step_time": {"device_time": Q_("10 ms"), "stream_time": Q_("200 ms")},
    # memory
    "weights_bytes": {"model": LLAMA2_7B, "precision": "fp16"},
    "kv_cache_bytes": {"model": LLAMA2_7B, "context": 4096, "batch": 8, "precision": "fp16"},
    "training_memory": {
        "params": 7.5e9,
        "optimizer": "adam",
        "precision": "fp16",
        "grad_precision": "fp16",
        "zero_stage": 2,
        "dp": 64,
        "model_parallel": 1,
    },
    "activation_bytes_per_layer": {
        "seq_len": 2048,
        "batch": 1,
        "hidden": 12288,
        "heads": 96,
        "tp": 8,
        "sp": True,
        "recompute": "selective",
    },
    "activation_bytes": {
        "model": mlsysim.Models.GPT3_175B,
        "seq_len": 2048,
        "batch": 1,
        "tp": 8,
        "sp": True,
        "recompute": "selective",
        "pp": 8,
        "interleave": 3,
    },
    # communication
    "ring_allreduce": {
        "size": Q_("1 GB"),
        "n": 8,
        "bandwidth": Q_("450 GB/s"),
        "latency": Q_("5 us"),
    },
    "tree_allreduce": {
        "size": Q_("1 MB"),
        "n": 64,
        "bandwidth": Q_("50 GB/s"),
        "latency": Q_("5 us"),
    },
    "double_binary_tree_allreduce": {
        "size": Q_("1 GB"),
        "n": 64,
        "bandwidth": Q_("50 GB/s"),
        "latency": Q_("5 us"),
    },
    "hierarchical_allreduce": {
        "size": Q_("1 GB"),
        "nodes": 16,
        "gpus_per_node": 8,
        "intra_bandwidth": Q_("450 GB/s"),
        "inter_bandwidth": Q_("50 GB/s"),
        "intra_latency": Q_("2 us"),
        "inter_latency": Q_("10 us"),
    },
    "all_gather": {"size": Q_("1 GB"), "n": 8, "bandwidth": Q_("450 GB/s"), "latency": Q_("5 us")},
    "reduce_scatter": {
        "size": Q_("1 GB"),
        "n": 8,
        "bandwidth": Q_("450 GB/s"),
        "latency": Q_("5 us"),
    },
    "all_to_all": {"size": Q_("1 GB"), "n": 8, "bandwidth": Q_("450 GB/s"), "latency": Q_("5 us")},
    "allreduce_bus_bandwidth": {"size": Q_("1 GB"), "time": Q_("3.9 ms"), "n": 8},
    "pipeline_bubble": {"stages": 8, "microbatches": 32, "interleave": 2},
    "overlap_compute_loss": {"overlap": Q_("10 ms"), "comm_units": 16, "units": 108},
    # collectives and pipelines
    "send_recv": {"size": Q_("64 MB"), "bandwidth": Q_("50 GB/s"), "latency": Q_("2.7 us")},
    "broadcast": {"size": Q_("1 GB"), "n": 8, "bandwidth": Q_("450 GB/s"), "latency": Q_("1 us")},
    "in_network_allreduce": {
        "size": Q_("1 GB"),
        "n": 8,
        "bandwidth": Q_("450 GB/s"),
        "latency": Q_("1 us"),
    },
    "hierarchical_all_to_all": {
        "size": Q_("1 GB"),
        "n": 64,
        "per_node": 8,
        "intra_bandwidth": Q_("450 GB/s"),
        "inter_bandwidth": Q_("50 GB/s"),
        "intra_latency": Q_("1 us"),
        "inter_latency": Q_("3 us"),
    },
    "bus_bandwidth": {"size": Q_("1 GB"), "time": Q_("3.9 ms"), "n": 8, "op": "all_reduce"},
    "pipeline_time": {
        "microbatch_time": Q_("200 ms"),
        "stages": 8,
        "microbatches": 64,
        "interleave": 3,
    },
    "pipeline_inflight": {"stages": 8, "microbatches": 64, "interleave": 3, "schedule": "1f1b"},
    "layer_chunks": {"layers": 126, "stages": 16},
    # scaling
    "training_flops": {"params": 175e9, "tokens": 300e9},
    "inference_flops": {"params": Q_("7e9 param"), "tokens": Q_("512 token")},
    "chinchilla_optimal": {"compute": Q_("5.76e23 FLOP"), "tokens_per_param": 20},
    "chinchilla_loss": {"params": 70e9, "tokens": 1.4e12},
    "kaplan_loss": {"params": 1.5e9, "tokens": 300e9},
    "reasoning_flops": {
        "params": 70e9,
        "prompt_tokens": 1000,
        "generated_tokens": 8000,
        "samples": 4,
    },
    "best_of_n": {"p": 0.2, "samples": 10},
    "training_time": {
        "flops": Q_("3.14e23 FLOP"),
        "devices": 1024,
        "peak": Q_("312 TFLOP/s"),
        "mfu": 0.4,
    },
    # reliability
    "series_mtbf": {"component_mtbf": Q_("5 yr"), "n": 10000},
    "young_daly": {"checkpoint_time": Q_("5 min"), "mtbf": Q_("24 h")},
    "failure_rate": {"failures": 148, "units": 16384, "duration": Q_("54 day")},
    "job_mtbf": {"failure_rate": Q_("6.5e-3 /d"), "n": 2048},
    "expected_failures": {"duration": Q_("54 day"), "mtbf": Q_("3 h")},
    "availability": {"mtbf": Q_("1000 h"), "mttr": Q_("10 h")},
    "daly": {"checkpoint_time": Q_("5 min"), "mtbf": Q_("24 h")},
    "checkpoint_goodput": {
        "interval": Q_("2 h"),
        "checkpoint_time": Q_("5 min"),
        "mtbf": Q_("24 h"),
        "restart_time": Q_("10 min"),
    },
    "checkpoint_time": {"size": Q_("2.1 TB"), "bandwidth": Q_("10 GB/s")},
    # sustainability
    "facility_energy": {"it_energy": Q_("433 MWh"), "pue": 1.2},
    "device_power": {"tdp": Q_("700 W"), "utilization": 0.6, "idle_fraction": 0.1},
    "operational_carbon": {"energy": Q_("433 MWh"), "intensity": Q_("57 gCO2e/kWh")},
    "embodied_carbon": {
        "embodied": Q_("150 kgCO2e"),
        "lifetime": Q_("6 yr"),
        "duration": Q_("118 day"),
    },
    "it_energy": {"power": Q_("330 W"), "duration": Q_("14.8 day"), "n": 10000},
    "duty_cycle_power": {
        "active_power": Q_("0.9 mW"),
        "idle_power": Q_("1.17 uW"),
        "duty": 1e-5,
    },
    "water_usage": {
        "it_energy": Q_("1 GWh"),
        "wue": Q_("0.55 L/kWh"),
        "pue": 1.2,
        "grid_water_intensity": Q_("3.1 L/kWh"),
    },
    # economics
    "amortized_capex": {"price": Q_("30000 USD"), "lifetime": Q_("4 yr"), "duration": Q_("30 day")},
    "energy_cost": {"energy": Q_("433 MWh"), "price": Q_("0.08 USD/kWh")},
    "opex": {
        "energy": Q_("6 MWh"),
        "energy_price": Q_("0.08 USD/kWh"),
        "price": Q_("30000 USD"),
        "maintenance_rate": Q_("0.05 / yr"),
        "duration": Q_("1 yr"),
    },
    "cloud_cost": {"rate": Q_("2.5 USD/h"), "duration": Q_("30 day"), "n": 8},
    "convert_currency": {"amount": Q_("0.089 EUR/kWh"), "rate": Q_("1.0813 USD/EUR")},
    "egress_cost": {"size": Q_("10 TB"), "price": Q_("0.09 USD/GB")},
    "tco": {
        "price": Q_("30000 USD"),
        "power": Q_("700 W"),
        "energy_price": Q_("0.08 USD/kWh"),
        "lifetime": Q_("4 yr"),
        "pue": 1.2,
        "maintenance_rate": Q_("0.05 / yr"),
    },
    "rent_vs_own_crossover": {
        "price": Q_("30000 USD"),
        "rental_rate": Q_("2.5 USD/h"),
        "own_rate": Q_("0.1 USD/h"),
    },
    # compression
    "quantized_weights_bytes": {"params": 7e9, "precision": "int4"},
    "quantized_bits_per_weight": {"precision": "int4", "group_size": 128},
    "expected_experts": {"experts": 8, "active": 2, "tokens": 32},
    "expert_load": {"tokens": 4096, "experts": 8, "active": 2, "imbalance": 1.25},
    "expected_expert_tiles": {"experts": 8, "active": 2, "tokens": 4096, "tile": 128},
    "wave_efficiency": {"tiles": 109, "units": 108},
    "gemm_wave_efficiency": {"m": 49, "n": 512, "k": 4608, "units": 108},
    "padded_wave_efficiency": {"work": 1.008, "tiles": 2, "units": 108},
    "exposed_launch_overhead": {"kernel": Q_("2 us"), "launch": Q_("3 us")},
    "graph_launch_overhead": {"nodes": 290, "per_node": Q_("0.58 us"), "per_replay": Q_("15 us")},
    "quantization_speedup": {"from_precision": "fp16", "to_precision": "int4"},
    "quantization_sqnr": {"bits": 8},
    "sparse_weight_bytes": {"params": 7e9, "precision": "fp16", "density": 0.5, "pattern": "2:4"},
    "sparse_speedup_bound": {"precision": "fp16", "density": 0.5, "pattern": "2:4"},
    "sparse_math_speedup": {"density": 0.5, "pattern": "2:4"},
    "moe_flops": {"active_params": 12.9e9, "tokens": 1000, "training": False},
    "weight_streaming_time": {
        "size": Q_("140 GB"),
        "bandwidth": Q_("64 GB/s"),
        "latency": Q_("10 us"),
    },
    # data
    "ingestion_throughput": {"bandwidth": Q_("2 GB/s"), "sample_size": Q_("110 kB/sample")},
    "preprocessing_throughput": {"workers": 16, "sample_time": Q_("4 ms/sample")},
    "amat": {"hit_time": Q_("1 ns"), "miss_rate": 0.05, "miss_penalty": Q_("100 ns")},
    "data_movement_energy": {"size": Q_("13.5 GB"), "energy_per_byte": Q_("160 pJ/B")},
    # safety, sensitivity
    "dpsgd_noise_std": {"noise_multiplier": 1.1, "clip_norm": 1.0, "batch": 4096},
    "per_example_gradient_bytes": {"params": 125e6, "batch": 64, "precision": "fp32"},
    "elasticity": {"y0": Q_("10 ms"), "y1": Q_("9.1 ms"), "x0": Q_("1 TB/s"), "x1": Q_("1.1 TB/s")},
}


def test_every_formula_has_a_sample():
    assert set(SAMPLES) == set(FORMULAS)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_formula_callable_by_keyword_and_returns_a_value(name):
    fn = FORMULAS[name]
    result = fn(**SAMPLES[name])
    value = getattr(result, "value", result)
    assert value is not None
    info = fn.formula
    assert info.name == name and info.sources and info.citation
    assert tuple(inspect.signature(fn).parameters) == info.params


def _wrong(value):
    """A quantity of a different dimension than ``value``."""
    return Q_("1 USD") if "USD" not in str(value.units) else Q_("1 s")


_QUANTITY_ARGS = [
    (name, arg)
    for name, kwargs in sorted(SAMPLES.items())
    for arg, v in kwargs.items()
    if isinstance(v, mlsysim.ureg.Quantity) and name != "elasticity"
]


@pytest.mark.parametrize(("name", "arg"), _QUANTITY_ARGS)
def test_wrong_dimension_fails_naming_the_argument(name, arg):
    kwargs = dict(SAMPLES[name])
    kwargs[arg] = _wrong(kwargs[arg])
    with pytest.raises(DimensionError) as exc:
        FORMULAS[name](**kwargs)
    assert re.search(rf"(?<!\w){re.escape(arg)}(?!\w)", str(exc.value)), str(exc.value)


def test_duck_typed_specs_work_without_the_registry():
    hw = SimpleNamespace(
        peak_flops=lambda precision: Q_("100 TFLOP/s"),
        memory=SimpleNamespace(bandwidth=Q_("1 TB/s")),
    )
    assert FORMULAS["ridge_point"](hw=hw, precision="bf16").magnitude == pytest.approx(100)
