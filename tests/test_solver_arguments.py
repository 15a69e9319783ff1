"""The unit holes closed at solve(): units, signs, ranges, keywords and types are checked first."""

from __future__ import annotations

import math

import pytest

import mlsysim
from mlsysim import Q_, ConfigError, DimensionError, UnknownNameError, solve
from mlsysim.core import arguments
from mlsysim.execution import ExecutionPlan

A100, LLAMA = mlsysim.Hardware.A100, mlsysim.Models.Llama2_7B


def _decode(**kw: object) -> mlsysim.solvers.SolveResult:
    return solve("Llama2_7B", "A100", phase="decode", **kw)  # type: ignore[arg-type]


def test_a_bare_number_where_a_unit_is_needed_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        _decode(kernel_overhead=3)
    text = str(info.value)
    assert "kernel_overhead" in text and "time" in text and "'3 us'" in text
    with pytest.raises(ConfigError, match="kernel_overhead"):
        ExecutionPlan(kernel_overhead=3e-6)  # the plan refuses it too


def test_quantities_and_quantity_strings_agree() -> None:
    as_text = _decode(kernel_overhead="5 us")
    as_quantity = _decode(kernel_overhead=Q_(5000, "ns"))
    assert as_text.latency_s == as_quantity.latency_s
    assert ("kernel_overhead", pytest.approx(5e-6), "user") in as_text.efficiencies
    assert _decode(kernel_overhead=0).overhead_s == 0  # zero needs no unit
    assert _decode(memory_efficiency="80 %").latency_s == _decode(memory_efficiency=0.8).latency_s
    assert _decode(batch="4 sample").batch == 4
    assert _decode(seq_len="128 token").seq_len == 128


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"kernel_overhead": "3 GB"}, DimensionError, "time"),
        ({"kernel_overhead": "-3 us"}, ConfigError, "negative"),
        ({"kernel_overhead": Q_(math.nan, "us")}, ConfigError, "finite"),
        ({"kernel_overhead": "nan us"}, ConfigError, "kernel_overhead"),
        ({"kernel_overhead": True}, ConfigError, "kernel_overhead"),
        ({"kernel_overhead": "3 parsecs"}, ConfigError, "cannot read"),
        ({"memory_efficiency": 1.5}, ConfigError, "(0, 1]"),
        ({"memory_efficiency": 0}, ConfigError, "(0, 1]"),
        ({"gemm_efficiency": "80 GB"}, DimensionError, "dimensionless"),
        ({"attention_efficiency": math.inf}, ConfigError, "finite"),
        ({"batch": 0}, ConfigError, "batch"),
        ({"batch": 2.5}, ConfigError, "whole number"),
        ({"batch": True}, ConfigError, "batch"),
        ({"batch": "4 GB"}, DimensionError, "batch"),
        ({"seq_len": -1}, ConfigError, "seq_len"),
        ({"seq_len": "512 GB"}, DimensionError, "seq_len"),
        ({"precision": "fp12"}, ConfigError, "did you mean"),
        ({"optimizer": "adm"}, ConfigError, "'adam'"),
        ({"recompute": "selectiv"}, ConfigError, "'selective'"),
        ({"gradients": "fp33"}, ConfigError, "fp32"),
        ({"sparsity": "4:8"}, ConfigError, "2:4"),
        ({"plan": "fast"}, ConfigError, "ExecutionPlan"),
        ({"kernel_overheads": "3 us"}, ConfigError, "did you mean kernel_overhead"),
        ({"batchsize": 4}, ConfigError, "did you mean batch"),
        ({"weights": "int4"}, ConfigError, "unknown keyword 'weights'"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict, error: type, words: str) -> None:
    with pytest.raises(error) as info:
        _decode(**kwargs)
    assert words in str(info.value)
    assert "How to fix" in str(info.value)


def test_unknown_phase_suggests_the_right_one() -> None:
    with pytest.raises(ConfigError, match="did you mean 'decode'"):
        solve("Llama2_7B", "A100", phase="decod")


def test_every_unknown_keyword_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        _decode(kernel_overheads="3 us", optimiser="adam")
    assert "kernel_overheads" in str(info.value) and "optimiser" in str(info.value)
    assert "did you mean optimizer" in str(info.value)


@pytest.mark.parametrize(
    "model, hardware, words",
    [
        (123, "A100", "model must be a registry id (str) or a ModelSpec, got int"),
        ("Llama2_7B", 3.5, "solve needs a device, node or cluster, got float"),
        ("A100", "Llama2_7B", "'A100' is not a model: it is a hardware id"),
        (A100, LLAMA, "the model first and the hardware second"),
        ("Llama2_7B", None, "solve needs a hardware"),
        ("Llama2_7B", "Llama2_13B", "'Llama2_13B' is not a system: it is a model id"),
        (None, "A100", "solve needs a model"),
    ],
)
def test_wrong_model_or_hardware_gets_a_clear_error(model: object, hardware: object, words: str):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        solve(model, hardware, phase="decode")


def test_unknown_ids_still_suggest() -> None:
    with pytest.raises(UnknownNameError, match="did you mean"):
        solve("Llama2_7", "A100", phase="decode")


@pytest.mark.parametrize(
    "update, field",
    [
        ({"tdp": Q_(-5, "W")}, "tdp"),
        ({"power_idle": Q_(900, "W")}, "power_idle"),
        ({"power_idle": Q_(-1, "W")}, "power_idle"),
    ],
)
def test_a_spec_with_a_bad_sign_is_refused_at_solve(update: dict, field: str) -> None:
    hw = A100.model_copy(update={**update, "id": "A100_bad"})
    with pytest.raises(ConfigError, match=field):
        solve("Llama2_7B", hw, phase="decode")


def test_bad_device_rates_and_model_sizes_are_refused() -> None:
    memory = A100.memory.model_copy(update={"bandwidth": Q_(0, "TB/s")})
    with pytest.raises(ConfigError, match=r"memory\.bandwidth must be positive"):
        solve("Llama2_7B", A100.model_copy(update={"memory": memory, "id": "A"}), phase="decode")
    arch = LLAMA.transformer.model_copy(update={"layers": 0})
    bad = LLAMA.model_copy(update={"transformer": arch, "id": "Llama_bad"})
    with pytest.raises(ConfigError, match=r"transformer\.layers must be positive"):
        solve(bad, "A100", phase="decode")
    small = LLAMA.model_copy(update={"params": Q_(-7e9, "param"), "id": "Llama_neg"})
    with pytest.raises(ConfigError, match="params must be positive"):
        solve(small, "A100", phase="decode")


def test_a_measured_idle_power_is_used() -> None:
    quiet = A100.model_copy(update={"power_idle": Q_(40, "W"), "id": "A100_quiet"})
    r = solve("Llama2_7B", quiet, phase="decode")
    idle = {n: v for n, v, _ in r.efficiencies}["idle_power_fraction"]
    assert idle == pytest.approx(40 / 400)
    assert r.power_w < solve("Llama2_7B", "A100", phase="decode").power_w


def test_core_argument_helpers() -> None:
    assert arguments.quantity("2 ms", "time", "t", "here", example="2 ms") == pytest.approx(2e-3)
    assert arguments.fraction("50 %", "f", "here") == pytest.approx(0.5)
    assert arguments.count(Q_(3, "token"), "n", "here", dim="token") == 3
    with pytest.raises(ConfigError, match="did you mean 'fp16'"):
        arguments.choice("fp61", "precision", "here", ["fp16", "bf16"])
    arguments.check_keywords({"a": 1}, ["a", "b"], "here")
    with pytest.raises(ConfigError, match="did you mean b"):
        arguments.check_keywords({"bb": 1}, ["a", "b"], "here")
