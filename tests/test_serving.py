"""generate and serve: composition of solves, steady state, queues, tails, SLOs, tenants, CLI.

The serving model must agree with the solves it composes (a step is a solve's time), with
Little's law at its own operating point, and with its formulas; bad input is a located error.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.cli.main import main
from mlsysim.core.exceptions import ConfigError, InfeasibleError, UnknownNameError
from mlsysim.core.formulas import paged_kv_sequences_n, speculative_tokens_n
from mlsysim.solvers.serving.schemas import generate_json_schema, serve_json_schema
from mlsysim.solvers.serving.steps import ReplicaSteps


# -- generate ------------------------------------------------------------------------------
def test_generate_composes_prefill_and_decode_solves():
    r = mlsysim.generate("Llama2_7B", "A100", prompt=512, output=64, batch=8)
    pre = mlsysim.solve("Llama2_7B", "A100", phase="prefill", batch=8, seq_len=512)
    assert r.ttft_s == pytest.approx(pre.latency_s)
    # one solve per token, the brute force the segments replace
    brute = sum(
        mlsysim.solve("Llama2_7B", "A100", phase="decode", batch=8, seq_len=512 + j).latency_s
        for j in range(63)
    )
    assert r.decode_s == pytest.approx(brute, rel=1e-3)
    assert r.tpot_s == pytest.approx(r.decode_s / 63)
    assert r.latency.to("s").magnitude == pytest.approx(r.ttft_s + r.decode_s)
    assert r.throughput.to("token/s").magnitude == pytest.approx(8 * 64 / r.latency_s)
    assert r.ttft_bound_s <= r.ttft_s and r.decode_bound_s <= r.decode_s
    assert r.binding_wall == "memory_bandwidth"
    text = r.explanation
    assert "decode is memory-bound" in text and "13.5 GB of weights per step" in text
    assert "a batch of 8 amortises them" in text and "KV cache" in text
    jsonschema.validate(r.to_dict(), generate_json_schema())


def test_generate_batch_amortises_weights_until_the_kv_cache_binds():
    one = mlsysim.generate("Llama2_7B", "A100", prompt=512, output=128, batch=1)
    many = mlsysim.generate("Llama2_7B", "A100", prompt=512, output=128, batch=32)
    assert many.throughput > 10 * one.throughput
    assert many.tpot > one.tpot
    too_many = mlsysim.generate(
        "Llama2_7B", "A100", prompt=512, output=128, batch=one.max_batch + 1
    )
    assert not too_many.feasible and too_many.binding_wall == "memory_capacity"
    with pytest.raises(InfeasibleError, match="at most"):
        _ = too_many.ttft
    assert mlsysim.generate(
        "Llama2_7B", "A100", prompt=512, output=128, batch=one.max_batch
    ).feasible


def test_generate_tensor_parallel_through_the_distributed_solver():
    r = mlsysim.generate("Llama2_70B", "DGX_H100", prompt=512, output=32, batch=4, tp=4)
    d = mlsysim.solve(
        "Llama2_70B", "DGX_H100", phase="prefill", batch=4, seq_len=512, tp=4, devices=4
    )
    assert r.ttft_s == pytest.approx(d.latency_s)
    assert r.weights_bytes == pytest.approx(d.memory.weights_bytes)
    assert "per device" in r.explanation
    with pytest.raises(ConfigError, match="one device"):
        mlsysim.generate("Llama2_7B", "H100", prompt=64, output=8, tp=2)


def test_generate_weight_streaming_from_an_offload_tier():
    r = mlsysim.generate("Llama2_70B", "H100", prompt=256, output=16, batch=4, offload="Host_PCIe5")
    assert r.feasible and r.binding_wall == "weight_streaming"
    s = r.streaming
    assert s.tier == "Host_PCIe5" and s.bound_by == "link"
    assert s.stream_s == pytest.approx(s.streamed_B / 63e9)
    # every decode step waits for the streamed weights
    assert r.tpot_s == pytest.approx(s.stream_s, rel=1e-6)
    nvme = mlsysim.generate("Llama2_70B", "H100", prompt=256, output=16, offload="NVMe_PCIe4")
    assert nvme.streaming.bound_by == "medium" and nvme.tpot > r.tpot
    assert "weight streaming" in r.explanation
    with pytest.raises(UnknownNameError):
        mlsysim.generate("Llama2_70B", "H100", prompt=256, output=16, offload="Host_PCIe9")


def test_generate_speculative_decoding_follows_leviathan():
    base = mlsysim.generate("Llama2_7B", "A100", prompt=128, output=129)
    good = mlsysim.generate(
        "Llama2_7B", "A100", prompt=128, output=129, draft="Llama3_2_1B", acceptance=0.9
    )
    poor = mlsysim.generate(
        "Llama2_7B", "A100", prompt=128, output=129, draft="Llama3_2_1B", acceptance=0.05
    )
    assert good.tpot < base.tpot < poor.tpot
    E = speculative_tokens_n(0.9, 4.0)
    assert good.speculation.tokens_per_round == pytest.approx(E)
    assert good.speculation.rounds == pytest.approx(128 / E)
    assert good.ttft_s > base.ttft_s  # the draft prefills too
    with pytest.raises(ConfigError, match="acceptance"):
        mlsysim.generate("Llama2_7B", "A100", prompt=128, output=8, draft="Llama3_2_1B")
    with pytest.raises(ConfigError, match="draft"):
        mlsysim.generate("Llama2_7B", "A100", prompt=128, output=8, acceptance=0.5)


def test_generate_best_of_n_shares_the_prompt_and_reasoning_rounds_add_up():
    one = mlsysim.generate("Llama2_7B", "A100", prompt=1024, output=64)
    n8 = mlsysim.generate("Llama2_7B", "A100", prompt=1024, output=64, samples=8)
    kv_tok = one.kv_bytes_per_token
    assert n8.kv_cache_bytes == pytest.approx(kv_tok * (1024 + 8 * 64))  # prompt held once
    assert n8.throughput > 4 * one.throughput
    k = mlsysim.generate("Llama2_7B", "A100", prompt=256, output=64, steps=4, step_prompt=32)
    assert k.tokens_per_sequence == 256
    assert k.tpot_s == pytest.approx(k.decode_s / 255)
    assert "reasoning: 1 sample(s) × 4 step(s)" in k.explanation
    with pytest.raises(ConfigError, match="context"):
        mlsysim.generate("Llama2_7B", "A100", prompt=4000, output=64, steps=2)


def test_generate_refuses_bad_arguments():
    for kw, word in (
        ({"prompt": 0, "output": 8}, "prompt"),
        ({"prompt": 8, "output": 2.5}, "output"),
        ({"prompt": 8, "output": 8, "batch": True}, "batch"),
        ({"prompt": 8, "output": 8, "segments": 1000}, "segments"),
        ({"prompt": 8, "output": 8, "tp": 0}, "tp"),
        ({"prompt": 8, "output": 8, "kernel_overheads": "3 us"}, "kernel_overhead"),
    ):
        with pytest.raises(mlsysim.MlsysimError, match=word):
            mlsysim.generate("Llama2_7B", "A100", **kw)
    assert mlsysim.generate("Llama2_7B", "A100", prompt="128 token", output=1).tpot_s is None


# -- the steps -----------------------------------------------------------------------------
def test_mixed_iteration_is_composed_from_decode_and_prefill_solves():
    s = ReplicaSteps("Llama3_8B", "H100")
    D = lambda n, c: mlsysim.solve("Llama3_8B", "H100", phase="decode", batch=n, seq_len=c)  # noqa: E731
    P = mlsysim.solve("Llama3_8B", "H100", phase="prefill", batch=1, seq_len=512)
    t = s.mixed(64, 640, 256, 512)
    attention = P.latency_s - D(512, 0).latency_s
    expect = D(320, 0).latency_s + D(64, 640).latency_s - D(64, 0).latency_s + attention / 2
    assert t == pytest.approx(expect)
    assert s.mixed(64, 640, 0, 512) == pytest.approx(D(64, 640).latency_s)
    # a fractional batch interpolates between its integer neighbours
    half = s.decode(64.5, 640)
    assert half == pytest.approx((D(64, 640).latency_s + D(65, 640).latency_s) / 2)
    # piggybacking decodes on a prefill chunk costs less than running them apart
    assert t < D(64, 640).latency_s + s.mixed(0, 640, 256, 512)


# -- serve ---------------------------------------------------------------------------------
def _serve(**kw):
    kw.setdefault("prompt", 512)
    kw.setdefault("output", 256)
    return mlsysim.serve("Llama3_8B", "H100", **kw)


def test_serve_steady_state_obeys_littles_law_and_its_caps():
    r = _serve(rate="20 req/s")
    assert r.stable and r.binding_wall == "serving"
    # n = λ·output·T at the operating point, and the iteration is the step at that load
    assert r.concurrency == pytest.approx(20 * 256 * r.step_s, rel=1e-5)
    rep = r.replica
    assert r.step_s == pytest.approx(rep.step(r.concurrency, 20 * 512 * r.step_s), rel=1e-5)
    assert r.tpot_s == pytest.approx(r.step_s)
    assert r.throughput.to("token/s").magnitude == pytest.approx(20 * 256)
    # the slots: paged KV capacity at the mean context, capped by max_batch
    kv = paged_kv_sequences_n(r.kv_budget_bytes, r.kv_bytes_per_token, 640, 16)
    assert r.kv_slots == kv and r.max_sequences == int(kv)
    # the full engine is held at the best batch it can hold: here 170 decodes and their 340
    # prefill tokens (510 tokens), the last whole batch before the GEMMs' fifth row of tiles
    assert r.saturation_batch == 170 and r.saturation_batch < min(256, kv)
    assert r.limit == "gemm_tiles" and r.capacity_bound_rps > r.capacity_rps
    _, full_rate = rep.saturated_at(min(256, kv))
    assert r.capacity_rps > full_rate
    p = r.ttft_percentiles
    assert p.p50_s <= p.p90_s <= p.p99_s and r.ttft_p99 >= r.ttft_p50
    assert r.tpot_percentiles.p99_s >= r.tpot_s
    jsonschema.validate(r.to_dict(), serve_json_schema())


def test_serve_latency_grows_with_the_rate_until_saturation():
    cap = _serve().capacity_rps
    ttfts = [_serve(rate=Q_(f * cap, "request/s")).ttft_s for f in (0.2, 0.5, 0.8, 0.95)]
    assert ttfts == sorted(ttfts)
    over = _serve(rate=Q_(1.01 * cap, "request/s"))
    assert not over.stable and over.binding_wall == "batching"
    with pytest.raises(InfeasibleError, match="capacity"):
        _ = over.ttft
    assert over.throughput == over.capacity_tokens
    jsonschema.validate(over.to_dict(), serve_json_schema())


def test_serve_slo_and_the_tail_latency_wall():
    ok = _serve(rate="10 req/s", slo_ttft="1 s", slo_tpot="50 ms")
    assert ok.slo_met is True
    r = _serve(rate="30 req/s")
    q99, mean = r.ttft_percentiles.p99_s, r.ttft_s
    tail = _serve(rate="30 req/s", slo_ttft=Q_((mean + q99) / 2, "s"))
    assert tail.slo_met is False and tail.binding_wall == "tail_latency"
    both = _serve(rate="30 req/s", slo_ttft=Q_(mean / 2, "s"))
    assert both.slo_met is False and both.binding_wall == "serving"
    assert (
        main(
            [
                "serve",
                "Llama3_8B",
                "H100",
                "--prompt",
                "512",
                "--output",
                "256",
                "--rate",
                "30",
                "--slo-ttft",
                f"{mean / 2 * 1e3} ms",
            ]
        )
        == 3
    )


def test_serve_closed_loop_concurrency():
    r = _serve(concurrency=32)
    assert r.rate_rps * r.latency_s == pytest.approx(32, rel=1e-4)
    with pytest.raises(ConfigError, match="once"):
        _serve(rate="1 req/s", concurrency=8)


def test_serve_schedulers_tensor_parallel_and_replicas():
    chunked = _serve(rate="20 req/s")
    first = _serve(rate="20 req/s", scheduler="prefill_first")
    # prefill-first iterations stall the decodes: longer token gaps at the tail
    assert first.itl_percentiles.p99_s > chunked.itl_percentiles.p99_s
    node = mlsysim.serve("Llama2_70B", "DGX_H100", prompt=512, output=256, tp=2, rate="20 req/s")
    assert node.replicas == 4 and node.devices == 8
    one = mlsysim.serve(
        "Llama2_70B", "DGX_H100", prompt=512, output=256, tp=2, rate="5 req/s", replicas=1
    )
    assert node.capacity_rps == pytest.approx(4 * one.capacity_rps)
    assert node.concurrency == pytest.approx(one.concurrency)  # each replica gets λ/4
    with pytest.raises(ConfigError, match="scheduler"):
        _serve(scheduler="fifo")


def test_serve_kv_memory_semantics_and_infeasible_models():
    vllm = _serve(memory_utilization=0.9)
    trt = _serve(kv_fraction=0.9)
    assert trt.kv_budget_bytes == pytest.approx(
        0.9 * (trt.capacity_bytes - trt.weights_bytes - trt.activations_bytes)
    )
    assert vllm.kv_budget_bytes == pytest.approx(
        0.9 * vllm.capacity_bytes - vllm.weights_bytes - vllm.activations_bytes
    )
    with pytest.raises(ConfigError, match="once"):
        _serve(memory_utilization=0.9, kv_fraction=0.9)
    big = mlsysim.serve("Llama2_70B", "H100", prompt=512, output=256, rate="1 req/s")
    assert not big.feasible and big.binding_wall == "memory_capacity"
    with pytest.raises(InfeasibleError, match="tp="):
        _ = big.capacity
    streamed = mlsysim.serve(
        "Llama2_70B", "H100", prompt=512, output=256, max_batch=16, offload="Host_PCIe5"
    )
    assert streamed.feasible and streamed.binding_wall == "weight_streaming"
    jsonschema.validate(big.to_dict(), serve_json_schema())


def test_serve_rates_need_units():
    with pytest.raises(ConfigError, match="needs a unit"):
        _serve(rate=20)
    assert _serve(rate="20 /s").rate_rps == pytest.approx(20)
    with pytest.raises(mlsysim.DimensionError):
        _serve(rate="20 ms")
    with pytest.raises(ConfigError, match="slo_percentile"):
        _serve(rate="1 req/s", slo_percentile=1.0)


def test_multi_tenancy_mig_slices_and_shares():
    whole = mlsysim.serve("Llama2_7B", "A100", prompt=512, output=256)
    half = mlsysim.serve("Llama2_7B", "A100", prompt=512, output=256, share=0.5)
    assert 0.3 * whole.capacity_rps < half.capacity_rps < 0.6 * whole.capacity_rps
    crowded = mlsysim.serve(
        "Llama2_7B",
        "A100",
        prompt=512,
        output=256,
        share=0.5,
        rate=Q_(1.1 * half.capacity_rps, "request/s"),
    )
    assert crowded.binding_wall == "multi_tenancy"
    s = mlsysim.mig("A100", "3g.40gb")
    assert s.peak_flops("bf16").to("TFLOP/s").magnitude == pytest.approx(312 * 42 / 108)
    assert s.memory.capacity.to("GB").magnitude == pytest.approx(40)
    assert s.memory.bandwidth.to("GB/s").magnitude == pytest.approx(2039 / 2)
    sliced = mlsysim.serve("Llama2_7B", s, prompt=512, output=256)
    assert sliced.capacity_rps < whole.capacity_rps
    with pytest.raises(UnknownNameError, match=r"1g\.10gb"):
        mlsysim.mig("A100", "1g.11gb")
    with pytest.raises(ConfigError, match="node or cluster"):
        mlsysim.serve("Llama2_7B", "DGX_A100", prompt=512, output=256, share=0.5)


def test_serving_fleet_sizes_by_the_serving_model():
    f = mlsysim.serving_fleet(
        "Llama2_7B", "H100", qps=20, slo=Q_(50, "ms"), duration=Q_(30, "d"), region="Virginia"
    )
    assert f.capacity.source == "serving" and f.capacity.tpot_s <= 0.050
    tight = mlsysim.serving_fleet(
        "Llama2_7B", "H100", qps=20, slo=Q_(12, "ms"), duration=Q_(30, "d"), region="Virginia"
    )
    assert tight.capacity.batch < f.capacity.batch and tight.devices >= f.devices


# -- napkin and CLI ------------------------------------------------------------------------
def test_napkin_reaches_generate_serve_and_mig():
    from mlsysim.book import Document

    doc = Document("serving.md")
    res = doc.block(
        "gen = generate(Llama2_7B, A100, prompt=512, output=256, batch=32)\n"
        "check(gen.tpot < 30 ms, 'batched decode stays interactive')\n"
        "srv = serve(Llama3_8B, H100, prompt=512, output=256, rate=20 req/s)\n"
        "check(srv.ttft_p99 > srv.ttft_p50, 'tails')\n"
        "slice = mig(A100, '1g.10gb')\n"
        "check(slice.memory.capacity < 11 GB, 'a seventh of the SMs, an eighth of memory')\n"
        "kv = paged_kv_sequences(memory=60 GB, bytes_per_token=512 KiB, tokens=1000)\n"
        "113 ~ kv\n",
        1,
    )
    assert not res.failures, [f.message for f in res.failures]
    bad = doc.inline("serve(Llama3_8B, H100, prompt=512, output=256, rate=20)", 9)
    assert not bad.ok and "unit" in bad.failure.message


def test_cli_generate_and_serve_json_under_their_schemas(capsys):
    assert (
        main(
            [
                "generate",
                "Llama2_7B",
                "A100",
                "--prompt",
                "512",
                "--output",
                "64",
                "--batch",
                "8",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, generate_json_schema())
    assert data["schema"] == data["schema_version"] == "mlsysim.generate/1"
    assert main(["generate", "Llama2_70B", "H100", "--prompt", "64", "--output", "8"]) == 3
    capsys.readouterr()
    assert (
        main(
            [
                "serve",
                "Llama3_8B",
                "H100",
                "--prompt",
                "512",
                "--output",
                "256",
                "--rate",
                "20 req/s",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, serve_json_schema())
    assert data["at_rate"]["ttft_percentiles"]["p99"]["unit"] == "ms"
    assert (
        main(["serve", "Llama3_8B", "H100", "--prompt", "512", "--output", "256", "--rate", "1000"])
        == 3
    )
    out = capsys.readouterr().out
    assert "capacity" in out
    assert (
        main(
            ["serve", "Llama3_8B", "H100", "--prompt", "512", "--output", "256", "--mig", "1g.10gb"]
        )
        == 2
    )
    assert main(["schema", "--kind", "serve"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "mlsysim serving result"
    assert main(["schema", "generate", "--compact"]) == 0


def test_colocated_tenants_share_what_the_others_leave():
    from mlsysim.solvers.serving.serve import colocate

    light = {"model": "Llama3_2_1B", "prompt": 256, "output": 128, "rate": "10 req/s"}
    big = {"model": "Llama2_7B", "prompt": 512, "output": 256, "rate": "2 req/s"}
    a, b = colocate("A100", [big, light])
    alone_a = mlsysim.serve("Llama2_7B", "A100", prompt=512, output=256, memory_share=0.5)
    alone_b = mlsysim.serve("Llama3_2_1B", "A100", prompt=256, output=128, memory_share=0.5)
    assert a.share == pytest.approx(1 - 10 / alone_b.capacity_rps)
    assert b.share == pytest.approx(1 - 2 / alone_a.capacity_rps)
    assert a.stable and b.stable and a.ttft_s > 0
    # a tenant that alone fills the device starves its neighbour
    _, starved = colocate("A100", [dict(big, rate="8 req/s"), light])
    assert starved.binding_wall == "multi_tenancy"
    with pytest.raises(ConfigError, match="tenant"):
        colocate("A100", [])


def test_serve_reserves_logits_of_its_largest_batch_before_the_kv_cache() -> None:
    """The engine's fp32 logits for max_batch sequences leave the KV budget (TensorRT-LLM's
    runtime logits buffer, vLLM's profile run over max_num_seqs): raising max_batch from 256
    to 2048 for Llama 3 70B on one H100 costs (2048 - 256) x 128,256 x 4 B of KV cache."""
    kw = dict(prompt=128, output=128, precision="fp8", kv_cache="fp8", kv_fraction=0.9)
    small = mlsysim.serve("Llama3_70B", "H100", max_batch=256, **kw)
    large = mlsysim.serve("Llama3_70B", "H100", max_batch=2048, **kw)
    moved = (2048 - 256) * 128_256 * 4
    assert large.activations_bytes - small.activations_bytes == pytest.approx(moved, rel=1e-9)
    assert small.kv_budget_bytes - large.kv_budget_bytes == pytest.approx(0.9 * moved, rel=1e-9)


def test_capacity_at_slo_is_the_largest_rate_within_the_limits() -> None:
    """MLPerf Server's operating point: the rate where a p99 limit starts to fail (llama2-70b
    limits of loadgen/mlperf.conf: TTFT 2,000 ms, TPOT 200 ms)."""
    from mlsysim.solvers.serving.serve import capacity_at_slo

    kw = dict(prompt=512, output=290, precision="fp8", kv_cache="fp8", tp=1, replicas=1)
    slo = dict(slo_ttft="2000 ms", slo_tpot="200 ms")
    rate, at = capacity_at_slo("Llama2_70B", "H100", **kw, **slo, kv_fraction=0.9)
    assert at.slo_met and at.ttft_p99.to("ms").magnitude <= 2000.0
    above = mlsysim.serve(
        "Llama2_70B", "H100", rate=Q_(rate * 1.001, "req/s"), kv_fraction=0.9, **kw, **slo
    )
    assert not above.slo_met
    assert rate < at.capacity_rps
    with pytest.raises(InfeasibleError, match="SLO"):
        capacity_at_slo(
            "Llama2_70B", "H100", **kw, slo_ttft="1 ms", slo_tpot="200 ms", kv_fraction=0.9
        )
