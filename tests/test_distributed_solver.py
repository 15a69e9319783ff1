"""The distributed solver: dispatch, defaults, result fields, errors that say what to change,
and the physics it must respect (monotonic in the right knobs, bounds below estimates)."""

from __future__ import annotations

from typing import Any

import pytest

import mlsysim
from mlsysim import ConfigError, InfeasibleError, solve
from mlsysim.core.walls import wall_ids
from mlsysim.solvers.distributed.results import DistributedResult, distributed_json_schema
from mlsysim.solvers.single_node.results import SolveResult

GPT22 = dict(model="GPT_22B", phase="training", seq_len=2048)


def _train(**kw: Any) -> DistributedResult:
    args = {**GPT22, "system": "DGX_A100", **kw}
    r = solve(**args)
    assert isinstance(r, DistributedResult)
    return r


def _conforms(data: Any, schema: dict[str, Any]) -> None:
    """A small structural check of a JSON value against our own schemas (no dependency)."""
    if "oneOf" in schema:
        if data is None:
            return
        schema = schema["oneOf"][0]
    if "const" in schema:
        assert data == schema["const"]
    if schema.get("type") == "object":
        assert isinstance(data, dict)
        assert set(schema["required"]) <= set(data), set(schema["required"]) - set(data)
        if schema.get("additionalProperties") is False:
            assert set(data) <= set(schema["properties"]), set(data) - set(schema["properties"])
        for key, sub in schema["properties"].items():
            if key in data:
                _conforms(data[key], sub)
    elif schema.get("type") == "array":
        assert isinstance(data, list)
        for item in data:
            _conforms(item, schema["items"])


# -- dispatch and defaults ------------------------------------------------------------------
def test_a_device_is_the_single_node_solver() -> None:
    r = solve("Llama2_7B", "A100", phase="decode")
    assert isinstance(r, SolveResult)
    assert isinstance(solve("Llama2_7B", system="A100", phase="decode", devices=1), SolveResult)


def test_a_node_or_cluster_is_the_distributed_solver() -> None:
    r = solve("Llama2_7B", "DGX_A100", phase="decode", batch=8)
    assert isinstance(r, DistributedResult) and r.devices == 8 and r.dp == 8
    c = solve("GPT_22B", "SuperPOD_A100", phase="training", devices=16, tp=8, batch=8)
    assert isinstance(c, DistributedResult) and c.nodes == 2 and c.dp == 2


def test_parallel_keywords_on_one_device_are_distributed() -> None:
    r = solve("Llama2_7B", "A100", phase="training", batch=8, microbatch=2, seq_len=512)
    assert isinstance(r, DistributedResult) and r.devices == 1 and r.microbatches == 4


def test_dp_defaults_to_devices_over_model_parallel() -> None:
    r = _train(tp=2, pp=2, batch=16)
    assert (r.tp, r.pp, r.dp) == (2, 2, 2)


def test_one_device_of_a_node_matches_the_single_node_solver() -> None:
    # the same lowering and roofline: a node's single device gives the device's latency
    one = solve("Llama2_7B", "A100", phase="decode", seq_len=512)
    dist = solve("Llama2_7B", "DGX_A100", phase="decode", seq_len=512, devices=1)
    assert dist.step_time_s == pytest.approx(one.latency_s, rel=1e-9)
    pre = solve("Llama2_7B", "A100", phase="prefill", seq_len=512)
    dpre = solve("Llama2_7B", "DGX_A100", phase="prefill", seq_len=512, devices=1)
    assert dpre.latency_s == pytest.approx(pre.latency_s, rel=1e-9)


# -- result fields --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def r175() -> DistributedResult:
    r = solve(
        "GPT3_175B",
        "SuperPOD_A100",
        phase="training",
        devices=64,
        tp=8,
        pp=8,
        chunks=3,
        sp=True,
        batch=64,
        seq_len=2048,
    )
    assert isinstance(r, DistributedResult)
    return r


def test_result_fields(r175: DistributedResult) -> None:
    assert r175.feasible and r175.binding_wall in (*wall_ids(), "pipeline_bubble")
    assert r175.step_time.to("s").magnitude == pytest.approx(r175.step_time_s)
    assert r175.throughput.to("token/s").magnitude == pytest.approx(64 * 2048 / r175.step_time_s)
    assert 0 < r175.mfu <= r175.hfu < 1
    m = r175.memory
    for name in ("weights", "gradients", "optimizer", "activations", "total", "capacity"):
        assert getattr(m, name + "_bytes") >= 0
        assert getattr(m, name).to("GB").magnitude == pytest.approx(
            getattr(m, name + "_bytes") / 1e9
        )
    assert m.total_bytes == pytest.approx(
        m.weights_bytes + m.gradients_bytes + m.optimizer_bytes + m.activations_bytes
    )
    c = r175.communication
    assert c.tp.to("ms").magnitude > 0 and c.dp_s == 0.0  # dp = 1
    assert 0 < r175.bubble_fraction == pytest.approx(7 / (3 * 64 + 7), rel=0.05)
    assert r175.step_time_bound_s < r175.step_time_s


def test_json_follows_the_schema(r175: DistributedResult) -> None:
    data = r175.to_dict()
    assert data["schema_version"] == "mlsysim.distributed_result/2"
    _conforms(data, distributed_json_schema())
    infeasible = solve("GPT3_175B", "DGX_A100", phase="training", devices=8, tp=8, batch=8)
    d = infeasible.to_dict()
    assert d["feasible"] is False and d["step_time"] is None and d["mfu"] is None
    _conforms(d, distributed_json_schema())


def test_explain_names_the_steps_and_their_sources(r175: DistributedResult) -> None:
    text = r175.explain()
    for needle in ("link: NVLink3", "link: IB_HDR", "pipeline: T = (m + (p−1)/v)", "NCCL"):
        assert needle in text
    assert "binds" in r175.explanation


# -- errors that say what to change -----------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "needles"),
    [
        (dict(tp=8, pp=2, dp=2), ("tp·pp·cp·dp", "devices=32")),
        (dict(tp=4, dp=4), ("tp·pp·cp·dp", "dp=2")),
        (dict(tp=5, devices=5, system="SuperPOD_A100"), ("64 attention heads", "tp dividing 64")),
        (dict(pp=9, devices=72, system="SuperPOD_A100", batch=72), ("48 layers", "pp·chunks")),
        (dict(pp=4, batch=2, microbatch=1), ("fewer than pp=4", "batch")),
        (dict(tp=8, batch=6, microbatch=4), ("batch 6", "multiple of")),
        (dict(schedule="interleaved", pp=2), ("2 model chunks", "chunks=2")),
        (dict(chunks=2), ("pipeline parallelism", "pp")),
        (dict(zero=4), ("ZeRO stage",)),
        (dict(devices=12), ("whole number of DGX_A100 nodes", "multiple of 8")),
        (dict(devices=12, tp=8), ("whole number of DGX_A100 nodes",)),
        (dict(overlap="yes"), ("overlap must be",)),
        (dict(overlap=1.5), ("overlap fraction",)),
    ],
)
def test_config_errors_say_what_to_change(kwargs: dict[str, Any], needles: tuple[str, ...]) -> None:
    args = {**GPT22, "system": "DGX_A100", "batch": 8, **kwargs}
    with pytest.raises(ConfigError) as info:
        solve(**args)
    text = str(info.value)
    assert "fix" in text.lower() or "pass" in text
    for needle in needles:
        assert needle in text, text


def test_expert_parallel_errors() -> None:
    with pytest.raises(ConfigError, match="8 experts"):
        solve("Mixtral_8x7B", "H100_1024", phase="training", devices=16, ep=16, batch=16)
    with pytest.raises(ConfigError, match="dense model"):
        solve("GPT_22B", "DGX_A100", phase="training", ep=2, batch=8)


def test_a_device_cannot_hold_several() -> None:
    with pytest.raises(ConfigError, match="one device"):
        solve("Llama2_7B", "A100", phase="decode", tp=2)
    assert solve("Llama2_7B", "DGX_H100", phase="decode", devices=16, batch=16).nodes == 2
    with pytest.raises(ConfigError, match="batch 1 does not split"):
        solve("Llama2_7B", "DGX_H100", phase="decode")
    with pytest.raises(ConfigError, match="holds 1120"):
        solve("GPT_22B", "SuperPOD_A100", phase="training", devices=2048, tp=8, batch=256)


def test_unknown_system_suggests_names() -> None:
    with pytest.raises(mlsysim.UnknownNameError, match="did you mean"):
        solve("GPT_22B", "DGX_A10", phase="training", batch=8)


def test_embedding_and_loss_may_take_a_stage_slot() -> None:
    # Llama 3: 126 layers on 16 stages (first and last hold one fewer, Dubey et al. 2024)
    r = solve(
        "Llama3_405B",
        "H100_10K",
        phase="training",
        devices=2048,
        tp=8,
        pp=16,
        batch=256,
        seq_len=8192,
        precision="bf16",
        recompute="full",
        zero=1,
    )
    assert r.pp == 16
    for model, pp in (("Llama3_405B", 5), ("Llama2_7B", 3), ("GPT3_175B", 5), ("Llama2_7B", 6)):
        with pytest.raises(ConfigError, match="do not split evenly"):
            solve(model, "H100_10K", phase="training", devices=8 * pp, tp=8, pp=pp, batch=8 * pp)


# -- physics -----------------------------------------------------------------------------------
def test_tensor_parallelism_shards_memory() -> None:
    a = _train(tp=2, batch=8, devices=2)
    b = _train(tp=8, batch=8, devices=8)
    assert b.memory.weights_bytes == pytest.approx(a.memory.weights_bytes / 4, rel=0.01)
    assert b.communication.tp_s > 0


def test_zero_stages_shard_optimizer_gradients_then_weights() -> None:
    base = dict(
        model="Llama3_8B", system="H100_1024", phase="training", devices=64, batch=64, seq_len=2048
    )
    z = [solve(**base, zero=k) for k in range(4)]
    assert z[1].memory.optimizer_bytes == pytest.approx(z[0].memory.optimizer_bytes / 64)
    assert z[2].memory.gradients_bytes < z[1].memory.gradients_bytes / 32
    assert z[3].memory.weights_bytes == pytest.approx(z[2].memory.weights_bytes / 64)
    assert z[0].memory.weights_bytes == z[2].memory.weights_bytes
    # Megatron's 18 B/param at stage 0 (fp32 main gradients)
    state0 = z[0].memory
    per_param = (state0.weights_bytes + state0.gradients_bytes + state0.optimizer_bytes) / (
        mlsysim.Models.Llama3_8B.params.to("param").magnitude
    )
    assert per_param == pytest.approx(18, rel=0.02)


def test_interleaving_shrinks_the_bubble() -> None:
    kw = dict(
        system="SuperPOD_A100",
        devices=64,
        tp=8,
        pp=8,
        batch=32,
        seq_len=2048,
        model="GPT3_175B",
        phase="training",
        sp=True,
    )
    plain, inter = solve(**kw), solve(**kw, chunks=3)
    assert inter.bubble_fraction < plain.bubble_fraction
    assert plain.bubble_fraction == pytest.approx(7 / (32 + 7), rel=0.05)
    assert inter.memory.activations_bytes > plain.memory.activations_bytes  # 1 + (p-1)/(p·v)


def test_gpipe_holds_every_micro_batch() -> None:
    kw = dict(
        system="SuperPOD_A100",
        devices=64,
        tp=8,
        pp=8,
        batch=32,
        seq_len=2048,
        model="GPT3_175B",
        phase="training",
        sp=True,
    )
    gpipe, f1b = solve(**kw, schedule="gpipe"), solve(**kw)
    assert gpipe.memory.activations_bytes == pytest.approx(
        f1b.memory.activations_bytes * 32 / 8, rel=1e-6
    )
    assert gpipe.bubble_fraction == pytest.approx(f1b.bubble_fraction)


def test_overlap_only_helps_and_the_bound_stays_below() -> None:
    kw = dict(
        model="GPT3_175B",
        system="SuperPOD_A100",
        phase="training",
        devices=256,
        tp=8,
        pp=8,
        batch=256,
        seq_len=2048,
        sp=True,
        zero=1,
    )
    on, off, hide = solve(**kw), solve(**kw, overlap=False), solve(**kw, overlap=1.0)
    assert off.step_time_s > on.step_time_s > hide.step_time_s
    assert hide.communication.tp_s == 0.0 and on.communication.tp_s > 0.0
    assert on.communication.overlapped_s > 0.0 and off.communication.overlapped_s == 0.0
    for r in (on, off, hide):
        assert r.step_time_bound_s < r.step_time_s


def test_recompute_trades_memory_for_time() -> None:
    # Korthikanti et al. 2022's setting: unfused attention stores the score matrix
    full, sel, none = (
        _train(tp=8, batch=4, microbatch=4, recompute=m, attention="unfused")
        for m in ("full", "selective", "none")
    )
    assert full.step_time_s > sel.step_time_s > none.step_time_s
    assert (
        full.memory.activations_bytes
        < sel.memory.activations_bytes
        < (none.memory.activations_bytes)
    )
    assert full.hfu > full.mfu  # the recomputed forward counts as hardware, not model, FLOPs


def test_flash_attention_stores_no_scores_under_any_recompute_policy() -> None:
    # FlashAttention never writes the scores (Dao 2023): without recomputation it holds what
    # selective recomputation holds, and the layer full recomputation rebuilds holds no scores
    kw = dict(tp=8, batch=4, microbatch=4)
    sel, none = (_train(**kw, recompute=m) for m in ("selective", "none"))
    assert none.memory.activations_bytes == sel.memory.activations_bytes
    unfused = _train(**kw, recompute="none", attention="unfused")
    assert unfused.memory.activations_bytes > 2.0 * none.memory.activations_bytes
    full, full_unfused = (_train(**kw, recompute="full", attention=a) for a in ("flash", "unfused"))
    assert full.memory.activations_bytes < full_unfused.memory.activations_bytes


def test_placement_keeps_tp_in_the_node_and_dp_on_rails(r175: DistributedResult) -> None:
    r = solve(
        "GPT3_175B",
        "SuperPOD_A100",
        phase="training",
        devices=128,
        tp=8,
        pp=8,
        batch=128,
        seq_len=2048,
        sp=True,
    )
    rows = {c.group: c for c in r.collectives}
    assert rows["tp"].nodes == 1 and rows["tp"].group_size == 8
    assert rows["pp"].nodes == 8  # one stage per node
    assert rows["dp"].group_size == 2 and rows["dp"].nodes == 2


def test_collective_counts_per_layer() -> None:
    # Megatron TP: 2 all-reduces forward and 2 backward per layer, + LM head + embedding
    r = _train(tp=8, batch=4, microbatch=4)
    (row,) = [c for c in r.collectives if c.group == "tp"]
    assert row.op == "all_reduce" and row.calls == 48 * 4 + 2
    assert row.size_bytes == 4 * 2048 * 6144 * 2
    sp = _train(tp=8, batch=4, microbatch=4, sp=True)
    assert {c.op for c in sp.collectives if c.group == "tp"} == {"all_gather", "reduce_scatter"}
    dec = solve("Llama2_70B", "DGX_H100", phase="decode", tp=8, batch=1, seq_len=512)
    (d,) = [c for c in dec.collectives if c.group == "tp"]
    assert d.calls == 2 * 80 + 1 and dec.binding_wall == "memory_bandwidth"


def test_expert_and_context_parallel_collectives() -> None:
    moe = solve(
        "Mixtral_8x7B",
        "H100_1024",
        phase="training",
        devices=64,
        tp=2,
        ep=8,
        batch=256,
        seq_len=4096,
        zero=1,
    )
    groups = {c.group for c in moe.collectives}
    assert {"tp", "ep", "dp", "edp"} <= groups
    assert moe.communication.ep_s > 0
    cp = solve(
        "Llama3_8B", "H100_1024", phase="training", devices=16, cp=2, batch=16, seq_len=8192, zero=1
    )
    assert any(c.name == "cp_kv_exchange" for c in cp.collectives)


def test_binding_walls() -> None:
    # a deep pipeline with few micro-batches: the bubble binds
    bubble = _train(pp=8, batch=2, microbatch=1, devices=8, schedule="gpipe")
    assert bubble.binding_wall == "pipeline_bubble"
    # data parallelism of a large model over slow Ethernet: communication binds
    slow = mlsysim.Clusters.SuperPOD_A100.model_copy(
        update={"id": "A100_Ethernet", "inter_fabric": "Ethernet100"}
    )
    comm = solve(
        "GPT_22B",
        slow,
        phase="training",
        devices=64,
        tp=8,
        batch=8,
        microbatch=1,
        seq_len=2048,
        overlap=False,
    )
    assert comm.binding_wall == "communication"
    # does not fit: memory capacity binds, times are refused
    big = solve("GPT3_175B", "DGX_A100", phase="training", devices=8, tp=8, batch=8)
    assert not big.feasible and big.binding_wall == "memory_capacity"
    with pytest.raises(InfeasibleError):
        _ = big.step_time
    with pytest.raises(InfeasibleError):
        solve("GPT3_175B", "DGX_A100", phase="training", devices=8, tp=8, batch=8, strict=True)


def test_inference_pipelines_a_batch() -> None:
    one = solve(
        "Llama2_70B", "DGX_H100", phase="decode", tp=4, pp=2, batch=8, microbatch=8, seq_len=1024
    )
    many = solve(
        "Llama2_70B", "DGX_H100", phase="decode", tp=4, pp=2, batch=8, microbatch=2, seq_len=1024
    )
    assert one.latency_s == pytest.approx(one.step_time_s)  # one micro-batch: no pipelining
    assert many.latency_s < many.step_time_s
    assert many.memory.kv_cache_bytes == pytest.approx(one.memory.kv_cache_bytes / 4, rel=1e-6)


def test_napkin_language_reaches_solve_and_collective(capsys: pytest.CaptureFixture[str]) -> None:
    from mlsysim.cli.main import main

    expr = (
        'solve(GPT3_175B, DGX_A100, phase="training", devices=1024, tp=8, pp=8, batch=1536, '
        'seq_len=2048, recompute="full").step_time -> s'
    )
    assert main(["eval", expr, "--json"]) == 0
    assert '"unit": "s"' in capsys.readouterr().out
    assert main(["eval", 'collective("all_reduce", 1 GB, DGX_H100).busbw -> GB/s']) == 0
    assert "GB/s" in capsys.readouterr().out


def test_a_cached_parallel_plan_does_not_answer_for_an_equal_value_of_another_type() -> None:
    """zero=True and sp=0 equal 1 and False as numbers: a plan cached for zero=1, sp=False
    must not answer for them (solve refuses both), nor overlap=1.0 (a fraction) for True."""
    kw = {"phase": "training", "devices": 8, "tp": 2, "batch": 16, "seq_len": 512}
    first = mlsysim.solve("Llama2_7B", "DGX_A100", zero=1, sp=False, **kw)
    with pytest.raises(ConfigError, match="zero must be a ZeRO stage"):
        mlsysim.solve("Llama2_7B", "DGX_A100", zero=True, sp=False, **kw)
    with pytest.raises(ConfigError, match="sp must be True or False"):
        mlsysim.solve("Llama2_7B", "DGX_A100", zero=1, sp=0, **kw)
    fraction = mlsysim.solve("Llama2_7B", "DGX_A100", zero=1, overlap=1.0, **kw)
    assert fraction.step_time_s < first.step_time_s  # all TP traffic hidden, not the default


def test_parallel_settings_hold_every_parallel_keyword_but_the_devices() -> None:
    """The one object the degrees pass through: a parallel keyword added to the plan must
    be added to it too (a sweep's block reads the degrees through it)."""
    from mlsysim.execution.parallel import PARALLEL_KEYWORDS
    from mlsysim.solvers.distributed.plans import ParallelSettings

    assert set(ParallelSettings._fields) == set(PARALLEL_KEYWORDS) - {"devices"}
