"""One physics: every quantity solve() reports equals what the named formula gives.

A hypothesis suite draws registry models and devices, phases, precisions, optimizers, gradient
formats, recompute modes, batches and sequence lengths, solves, and recomputes each reported
quantity through the public, unit-checked formulas of ``mlsysim.core.formulas`` from the same
inputs (the registry specs and the result's own formats). A copy of an equation in the solver
that drifts from the formula fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import mlsysim
from mlsysim import Q_, solve
from mlsysim.core.constants import (
    KERNEL_NODE_TIME,
    OPTIMIZERS,
    RECOMPUTE_POLICIES,
    SPARSE_2_4_DENSITY,
    bytes_per_element,
)
from mlsysim.core.exceptions import ConfigError, FormulaDomainError, UnsupportedPrecisionError
from mlsysim.core.formulas import (
    activation_bytes,
    activation_bytes_per_layer,
    arithmetic_intensity,
    device_power,
    device_utilization,
    exposed_launch_overhead,
    flop_params,
    hardware_flops_per_token,
    hfu,
    kv_cache_bytes,
    launch_overhead,
    mfu,
    model_flops,
    model_flops_per_token,
    ridge_point,
    roofline_time,
    roofline_time_s,
    sparse_weight_B,
    sparse_weight_bytes,
    training_memory,
    weights_bytes,
)

REL = 1e-9
MODELS = [m.id for m in mlsysim.Models]
DEVICES = ["A100", "H100", "T4", "V100", "TPUv4", "MI300X", "B200", "L4", "JetsonAGXOrin"]
PRECISIONS = [None, "fp16", "bf16", "fp8", "int8", "int4", "fp32"]


def _eq(a: float, b: float) -> None:
    assert a == pytest.approx(b, rel=REL, abs=1e-30)


def _mag(q: Any, unit: str) -> float:
    return float(q.to(unit).magnitude)


@st.composite
def workloads(draw: st.DrawFn) -> dict[str, Any]:
    model = draw(st.sampled_from(MODELS))
    spec = mlsysim.Models[model]
    cnn = spec.kind != "transformer"
    if cnn:
        phase = draw(st.sampled_from(["inference", "training"]))
    elif spec.task != "llm":
        phase = draw(st.sampled_from(["inference", "prefill", "training"]))
    else:
        phase = draw(st.sampled_from(["prefill", "decode", "training", "inference"]))
    kw: dict[str, Any] = {
        "model": model,
        "hardware": draw(st.sampled_from(DEVICES)),
        "phase": phase,
        "batch": draw(st.integers(1, 64)),
        "precision": draw(st.sampled_from(PRECISIONS)),
        "optimizer": draw(st.sampled_from(OPTIMIZERS)),
        "recompute": draw(st.sampled_from(RECOMPUTE_POLICIES)),
        "gradients": draw(st.sampled_from(["fp32", "bf16", "fp16"])),
        "sparsity": draw(st.sampled_from(["dense", "dense", "2:4"])),
    }
    if not cnn:
        top = spec.transformer.max_seq_len
        kw["seq_len"] = draw(st.integers(0 if phase == "decode" else 1, min(top, 8192)))
    return kw


def _solve(kw: dict[str, Any]) -> Any:
    try:
        return solve(**kw)
    except (UnsupportedPrecisionError, ConfigError, FormulaDomainError):
        assume(False)
        raise


def _check_memory(r: Any, kw: dict[str, Any]) -> None:
    spec, m = r.model_spec, r.memory
    training = kw["phase"] == "training"
    transformer = spec.kind == "transformer"
    wp = r.weights_precision
    if transformer and not training:
        kept = r.high_precision if wp != r.high_precision else None
        if r.sparse:  # 2:4 on the quantized body; the embedding and head kept dense
            f = mlsysim.workload.lowering.model_facts(spec)
            n_e = (f.embed_params + (0 if f.tied else f.head_params)) if kept else 0.0
            n_b = spec.params.to("param").magnitude - n_e
            if r.weight_bits == 8 * bytes_per_element(wp):
                body = _mag(sparse_weight_bytes(params=n_b, precision=wp), "B")
            else:  # a quantized format: its group scales count too
                body = sparse_weight_B(n_b, r.weight_bits / 8)
            expected_w = Q_(body + n_e * (bytes_per_element(kept) if kept else 0.0), "B")
        else:
            expected_w = weights_bytes(model=spec, precision=wp, kept_precision=kept)
        _eq(m.weights_bytes, _mag(expected_w, "B"))
    if training:
        t = training_memory(
            params=spec.params,
            optimizer=kw["optimizer"],
            precision=wp,
            grad_precision=kw["gradients"],
        )
        _eq(m.gradients_bytes, _mag(t.gradients, "B"))
        _eq(m.optimizer_bytes, _mag(t.optimizer, "B"))
        if transformer and not r.sparse:
            _eq(m.weights_bytes, _mag(t.weights, "B"))
    else:
        assert m.gradients_bytes == 0 and m.optimizer_bytes == 0
    llm = transformer and spec.task == "llm"
    if llm and not training:
        s = r.seq_len
        context = s + 1 if kw["phase"] == "decode" else s
        kv = kv_cache_bytes(
            model=spec,
            context=context,
            batch=r.batch,
            precision=r.kv_precision,
        )
        _eq(m.kv_cache_bytes, _mag(kv, "B"))
    else:
        assert m.kv_cache_bytes == 0
    if transformer and training:
        s, b = r.seq_len, r.batch
        mode, act = kw["recompute"], r.high_precision  # the residual stream's format
        fused = kw.get("attention", "flash") != "unfused"  # FlashAttention stores no scores
        stored = _mag(
            activation_bytes(
                model=spec,
                seq_len=s,
                batch=b,
                recompute=mode,
                precision=act,
                fused_attention=fused,
            ),
            "B",
        )
        if mode == "full":
            arch = spec.transformer
            one = activation_bytes_per_layer(
                seq_len=s,
                batch=b,
                hidden=arch.hidden,
                heads=arch.heads,
                recompute="none",
                precision=act,
                fused_attention=fused,
            )
            stored += _mag(one, "B")
        logits = b * s * spec.transformer.vocab * 4.0  # fp32 logits of every position
        _eq(m.activations_bytes, stored + logits)
    _eq(m.capacity_bytes, _mag(r.hardware_spec.memory.capacity, "B"))


def _check_timing(r: Any) -> None:
    hw = r.hardware_spec
    eff = {n: v for n, v, _ in r.efficiencies}
    engine = mlsysim.Engines[r.engine]
    prec = r.precision
    dense, sparse_peak = r.dense_peak_flops_per_s, r.peak_flops_per_s
    _eq(dense, _mag(hw.peak_flops(prec), "FLOP/s"))
    if r.sparse:
        _eq(sparse_peak, _mag(hw.peak_flops(prec, sparse=True), "FLOP/s"))
    peaks = {
        _mag(hw.peak_flops(f), "FLOP/s") for f in (prec, r.high_precision, r.attention_precision)
    } | {sparse_peak}
    bw = _mag(hw.memory.bandwidth, "B/s")
    t_k = eff["kernel_overhead"]
    bound = achievable = 0.0
    for op in r.ops:
        assert any(op.peak_flops_per_s == pytest.approx(p, rel=REL) for p in peaks), op.name
        assert 0.0 < op.waves <= 1.0
        if op.kind == "gemm" and r.sparse and op.peak_flops_per_s == sparse_peak:
            t_bound = roofline_time_s(op.flops, op.bytes, sparse_peak, bw)
        elif op.peak_flops_per_s == dense:
            rt = roofline_time(
                flops=Q_(op.flops, "FLOP"), bytes=Q_(op.bytes, "B"), hw=hw, precision=prec
            )
            t_bound = _mag(rt.time, "s")
        else:
            t_bound = roofline_time_s(op.flops, op.bytes, op.peak_flops_per_s, bw)
        _eq(op.time_bound_s, t_bound)
        name = {"gemm": "gemm_efficiency", "attention": "attention_efficiency"}.get(
            op.kind, "elementwise_efficiency"
        )
        eta = eff[name] * op.waves
        eta_m = eff["memory_efficiency"] * (
            eff["quantized_memory_efficiency"] if op.dequant else 1.0
        )
        body = roofline_time_s(op.flops, op.bytes, op.peak_flops_per_s * eta, bw * eta_m)
        n = op.repeat
        if engine.launch == "sync":
            launch = launch_overhead(ops=op.kernels, per_op=Q_(t_k, "s"))
            over = _mag(launch, "s")
        else:
            per = _mag(launch_overhead(ops=op.kernels / n, per_op=Q_(t_k, "s")), "s")
            node = Q_(KERNEL_NODE_TIME.value * op.kernels / n, KERNEL_NODE_TIME.unit)
            exposed = exposed_launch_overhead(
                kernel=Q_(body / n, "s"), launch=Q_(per, "s"), node=node
            )
            over = n * _mag(exposed, "s")
        _eq(op.time_s, body + over)
        _eq(op.overhead_s, over)
        bound += t_bound
        achievable += body + over
    _eq(r.latency_bound_s, bound)
    _eq(r.latency_s, achievable + eff["step_overhead"])
    _eq(r.compute_s + r.memory_s + r.overhead_s, r.latency_s)
    flops, nbytes = r.flops_total, r.bytes_total
    ai = arithmetic_intensity(flops=Q_(flops, "FLOP"), bytes=Q_(nbytes, "B"))
    _eq(_mag(r.arithmetic_intensity, "FLOP/B"), _mag(ai, "FLOP/B"))
    if not r.sparse:
        _eq(_mag(r.ridge_point, "FLOP/B"), _mag(ridge_point(hw=hw, precision=prec), "FLOP/B"))


def _flop_params(spec: Any, phase: str) -> Any:
    """The N of the model-FLOPs formulas from the spec, through the formula: the stated (or
    active) count less the lookup tables; the output layer once, where the step runs one."""
    arch = spec.transformer
    n = spec.active_params if spec.active_params is not None else spec.params
    rows = (arch.max_seq_len if arch.position == "learned" else 0) + arch.type_vocab
    return flop_params(
        params=n,
        vocab=arch.vocab,
        hidden=arch.hidden,
        tied=arch.tied_embeddings,
        lookup_rows=rows,
        head=phase == "training" or spec.task == "llm",
    )


def _head(spec: Any) -> float:
    """The output layer's V·h parameters: full recomputation does not re-run them."""
    return float(spec.transformer.vocab * spec.transformer.hidden)


def _check_flops_and_energy(r: Any, kw: dict[str, Any]) -> None:
    spec, hw = r.model_spec, r.hardware_spec
    training = kw["phase"] == "training"
    b = r.batch
    peak = Q_(r.dense_peak_flops_per_s, "FLOP/s")
    if spec.kind == "transformer":
        arch = spec.transformer
        q = arch.head_size
        if arch.mla is not None:
            q = (arch.mla.qk_nope_head_dim + arch.mla.qk_rope_head_dim + arch.mla.v_head_dim) / 2
        n = _flop_params(spec, kw["phase"])
        head = _head(spec)
        s = r.seq_len
        context, tokens = (s + 1, b) if kw["phase"] == "decode" else (s, b * s)
        args = dict(params=n, layers=arch.layers, heads=arch.heads, head_dim=q, seq_len=context)
        per_token = model_flops_per_token(**args, training=training)
        hw_per_token = (
            hardware_flops_per_token(**args, recompute=kw["recompute"], head_params=head)
            if training
            else per_token
        )
        _eq(r.model_flops, tokens * _mag(per_token, "FLOP/token"))
        _eq(r.hardware_flops, tokens * _mag(hw_per_token, "FLOP/token"))
        unit = "token"
    else:
        forward = Q_(b * _mag(spec.flops_per_inference, "FLOP"), "FLOP")
        _eq(r.model_flops, _mag(model_flops(forward_flops=forward, training=training), "FLOP"))
        unit = "sample"
        per_token = Q_(r.model_flops / b, f"FLOP/{unit}")
        hw_per_token = Q_(r.hardware_flops / b, f"FLOP/{unit}")
    if not r.feasible:
        return
    tput = r.throughput
    _eq(_mag(tput, f"{unit}/s"), r.units_per_step / r.latency_s)
    _eq(r.mfu, mfu(throughput=tput, flops_per_token=per_token, peak=peak))
    _eq(r.hfu, hfu(throughput=tput, hardware_flops_per_token=hw_per_token, peak=peak))
    if hw.tdp is None:
        assert r.power_w is None
        return
    u = device_utilization(
        flops=Q_(r.flops_total, "FLOP"),
        bytes=Q_(r.bytes_total, "B"),
        time=r.latency,
        peak=Q_(r.peak_flops_per_s, "FLOP/s"),
        bandwidth=hw.memory.bandwidth,
    )
    idle = {n: v for n, v, _ in r.efficiencies}["idle_power_fraction"]
    if hw.power_idle is None:
        assert idle == pytest.approx(1 / 6)
    p = device_power(tdp=hw.tdp, utilization=u, idle_fraction=idle)
    _eq(_mag(r.power, "W"), _mag(p, "W"))
    _eq(_mag(r.energy, "J"), _mag(p, "W") * r.latency_s)


def _check_wall(r: Any) -> None:
    if not r.feasible:
        assert r.binding_wall == "memory_capacity"
        assert r.memory.total_bytes > r.memory.capacity_bytes
        return
    parts = {
        "compute": r.compute_s,
        "memory_bandwidth": r.memory_s,
        "software_overhead": r.overhead_s,
    }
    assert parts[r.binding_wall] == max(parts.values())


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(workloads())
def test_every_reported_quantity_equals_its_formula(kw: dict[str, Any]) -> None:
    r = _solve(kw)
    _check_memory(r, kw)
    _check_timing(r)
    _check_flops_and_energy(r, kw)
    _check_wall(r)


def test_the_issue_divergences_agree() -> None:
    """The cases the issue measured: solve() and the formulas now give the same numbers."""
    llama = mlsysim.Models.Llama2_7B
    r = solve("Llama2_7B", "H100", phase="training", optimizer="sgd", seq_len=512)
    t = training_memory(params=llama.params, optimizer="sgd")
    assert r.memory.optimizer_bytes == pytest.approx(_mag(t.optimizer, "B"))
    assert r.memory.optimizer_bytes == pytest.approx(26.96e9)  # fp32 master copy only
    states = r.memory.weights_bytes + r.memory.gradients_bytes + r.memory.optimizer_bytes
    adam = solve("Llama2_7B", "H100", phase="training", seq_len=512)
    adam_states = (
        adam.memory.weights_bytes + adam.memory.gradients_bytes + adam.memory.optimizer_bytes
    )
    assert adam_states == pytest.approx(_mag(training_memory(params=llama.params).total, "B"))
    assert adam_states / _mag(llama.params, "param") == pytest.approx(18)
    assert states < adam_states
    d = solve("Llama2_7B", "A100", phase="decode")
    assert d.power_w == pytest.approx(
        _mag(device_power(tdp=Q_("400 W"), utilization=_busy(d)), "W")
    )
    assert mlsysim.Hardware.A100.power_min is None  # idle power is not read from power_min
    assert SPARSE_2_4_DENSITY.value == 0.5


def _busy(r: Any) -> float:
    return device_utilization(
        flops=Q_(r.flops_total, "FLOP"),
        bytes=Q_(r.bytes_total, "B"),
        time=Q_(r.latency_s, "s"),
        peak=Q_(r.peak_flops_per_s, "FLOP/s"),
        bandwidth=Q_(r.bandwidth_bytes_per_s, "B/s"),
    )


# -- the distributed solver: the same formulas ------------------------------------------------
@st.composite
def parallel_workloads(draw: st.DrawFn) -> dict[str, Any]:
    model = draw(st.sampled_from(["Llama2_7B", "Llama3_8B", "GPT_22B", "Mixtral_8x7B"]))
    tp = draw(st.sampled_from([1, 2, 4, 8]))
    phase = draw(st.sampled_from(["training", "prefill", "decode"]))
    kw: dict[str, Any] = {
        "model": model,
        "system": draw(st.sampled_from(["DGX_A100", "DGX_H100"])),
        "phase": phase,
        "tp": tp,
        "batch": 8 * draw(st.integers(1, 4)),
        "seq_len": draw(st.sampled_from([256, 1024, 2048])),
        "recompute": draw(st.sampled_from(RECOMPUTE_POLICIES)),
        "precision": draw(st.sampled_from([None, "bf16", "fp8"])),
        "optimizer": draw(st.sampled_from(OPTIMIZERS)),
        "zero": draw(st.sampled_from([0, 1, 2, 3])) if phase == "training" else 0,
    }
    return kw


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(parallel_workloads())
def test_distributed_mfu_hfu_and_power_equal_their_formulas(kw: dict[str, Any]) -> None:
    try:
        r = solve(**kw)
    except (UnsupportedPrecisionError, ConfigError, FormulaDomainError):
        assume(False)
        raise
    assume(r.feasible)
    spec, arch = r.model_spec, r.model_spec.transformer
    n = _flop_params(spec, kw["phase"])
    training = kw["phase"] == "training"
    s = r.seq_len
    context, tokens = (s + 1, r.batch) if kw["phase"] == "decode" else (s, r.batch * s)
    args = dict(params=n, layers=arch.layers, heads=arch.heads, head_dim=arch.head_size)
    per_token = model_flops_per_token(**args, seq_len=context, training=training)
    hw_per_token = (
        hardware_flops_per_token(
            **args, seq_len=context, recompute=kw["recompute"], head_params=_head(spec)
        )
        if training
        else per_token
    )
    _eq(r.model_flops_per_step, tokens * _mag(per_token, "FLOP/token"))
    _eq(r.hardware_flops_per_step, tokens * _mag(hw_per_token, "FLOP/token"))
    peak = Q_(r.devices * r.peak_flops_per_s, "FLOP/s")
    rate = Q_(r.tokens_per_step / r.step_time_s, "token/s")
    _eq(r.mfu, mfu(throughput=rate, flops_per_token=per_token, peak=peak))
    _eq(r.hfu, hfu(throughput=rate, hardware_flops_per_token=hw_per_token, peak=peak))
    hw = mlsysim.Hardware[r.hardware]
    assert r.peak_flops_per_s == pytest.approx(_mag(hw.peak_flops(r.precision), "FLOP/s"))
    idle = device_power(tdp=hw.tdp, utilization=0.0)
    assert idle.to("W").magnitude <= r.power_w <= _mag(hw.tdp, "W")  # the same power model
