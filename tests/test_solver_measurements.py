"""Achievable estimates against published measurements, by device class and engine.

The broad set is every *validation* measurement of ``tests/data/inference_measurements.toml``
(issue 15's researched records: decode, quantized decode, prefill, static-batch generation,
tensor-parallel prefill, BERT and ResNet under TensorRT and eager frameworks, CNN and BERT
training, MCU runtimes) plus the measured cases of ``tests/data/heldout_measurements.toml``.
Records marked ``role = "calibrate"`` chose a figure of ``hardware/data/engines.toml``; they
are checked but never counted. For every case:

* the ideal roofline bound is never beaten by the measurement;
* the achievable estimate lies within ±35 % of the measurement (ratio in [0.65, 1.35]), or
  the case is an expected failure whose reason lists its numbers (``-ra`` shows them) — never
  a tuned constant;
* at least 80 % of the broad set is within ±35 %.

``python tests/test_solver_measurements.py`` prints the whole table.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import mlsysim
from mlsysim import solve
from mlsysim.core.units import Q_
from mlsysim.hardware.registry import PeakRates

_DIR = Path(__file__).parent / "data"
_TABLE: dict[str, Any] = tomllib.loads(
    (_DIR / "inference_measurements.toml").read_text(encoding="utf-8")
)
CASES: list[dict[str, Any]] = _TABLE["case"]
DROPPED: list[dict[str, Any]] = _TABLE["dropped"]
_HELDOUT = tomllib.loads((_DIR / "heldout_measurements.toml").read_text(encoding="utf-8"))
HELDOUT = [c for c in _HELDOUT["case"] if c["class"] != "infeasible"]
VALIDATE = [c for c in CASES if c["role"] == "validate"]
CALIBRATE = [c for c in CASES if c["role"] == "calibrate"]
BROAD = [*VALIDATE, *HELDOUT]
LOW, HIGH = 0.65, 1.35  # ±35 %
TARGET = 0.80

#: The broad-set rate this branch achieves (a regression floor; the issue's target is TARGET).
ACHIEVED = 0.80

_TF = (
    "TensorFlow 1.x (DeepLearningExamples, graph executor, no XLA) runs slower than the model "
    "of it (engine tf_amp: one kernel per graph node at the eager profile's ~10 us and 0.72 "
    "of bandwidth, LayerNorm and GELU in FP32 with casts, as the AMP rewrite's lists put "
    "them; that brings the BERT batch-8 rows within ±35 %). Not the executor's per-op cost: "
    "TensorFlow's own source puts its inter-op latency at 'hundreds of nanoseconds' "
    "(tensorflow/core/tpu/graph_rewrite/variable_merger_pass.h); Nimble (Kwon et al., "
    "NeurIPS 2020) reports TF idling the GPU up to 71 % of batch-1 inference, a whole-run "
    "ratio, not a per-op figure. The README's ResNet table reads as host-bound: AMP "
    "throughput is not monotonic in batch (1974 img/s at 32, 3570 at 64, 3229 at 256, p99 "
    "126 ms against an 81 ms mean), and inference_benchmark.sh reads real TFRecords through "
    "the tf.data CPU pipeline with 10 preprocessing threads (runtime/runner.py: "
    "num_preprocessing_threads = 10 without DALI). No source gives a per-thread JPEG decode "
    "and resize rate for the DGX's CPUs, so the model has no input-pipeline wall; nor a "
    "per-step Estimator/session.run floor (batch 1 sits at 4.3-5.3 ms on A100, V100 and T4 "
    "alike)"
)
_SMALL_TRT = (
    "a small TensorRT step is a fixed per-inference floor the model lacks: MLPerf ResNet-50 "
    "SingleStream is 0.459 ms on an A10 and 0.463 ms on an A100, whose offline rate is 2.9x "
    "the A10's. Not copies nor host launches: demoBERT's perf.py times execute_async_v3 "
    "between CUDA events with the inputs already on the device, and NVIDIA's MLPerf v1.1 "
    "ResNet-50 SingleStream configs replay a CUDA graph (use_graphs = True; A100-SXM "
    "start_from_device = True), expecting 660 us on a full A100 and on a 1g.10gb MIG slice "
    "alike; LoadGen itself costs 2.4 us per SingleStream query (mlcommons/inference#208, a "
    "null SUT). TensorRT's per-layer enqueue setup 'depends on your CPU' (NVIDIA/TensorRT#1256). "
    "The device's own ~0.58 us per kernel (a CUDA graph node, ocannl #488) is counted and "
    "moves these rows by 0.04-0.05; no larger per-kernel GPU-side figure was found"
)
_TTFT = (
    "TensorRT-LLM v0.5 time to first token at a short prompt is a runtime floor (context "
    "setup, sampling, the host loop) the model lacks; at 2048 tokens the A100 case is within. "
    "The source's methodology builds one engine per network 'configured for our maximum "
    "expected throughput' (max batch 64, inputs and outputs up to 2048, two optimization "
    "profiles), so batch-1 128-token kernels run tactics chosen for another shape; it gives "
    "no figure for that, nor for gptSessionBenchmark's per-run setup. Not a decode step: the "
    "same-era gptSessionBenchmark.cpp times one session.generate() per run (steady_clock "
    "around it and a stream sync), and GptSession::generateSingleBatch with maxNewTokens = 1 "
    "runs step 0 only, the context engine, then the sampler and the stop check: no "
    "generation step (a decode step would add 3.5-10 ms and bring these in, but the source "
    "rules it out). The per-generate host work (buffer reshapes, decoder newBatch, the "
    "sync in shouldStopSync) is unmeasured there"
)
_INT4 = (
    "2024 int4 runtimes (vLLM AWQ before Marlin, ExLlamaV2, HF AutoGPTQ) reach 19-40 % of HBM "
    "bandwidth end to end at batch 1; the kernels are not the cause: Marlin's README "
    "(IST-DASLab/marlin, A10, group 128) finds the prior int4 kernels 'relatively close to "
    "the optimal 3.87x' over FP16 at batch 1, degrading only at larger batches, but on 'a "
    "large matrix that can be ideally partitioned', and it credits its own striped "
    "partitioning for 'strong performance also on real (smaller) matrices'. The vLLM row is a "
    "16-token generation (premAI's bench_vllm passes no SamplingParams: vLLM's default "
    "max_tokens = 16), 139.5 ms against our 41 ms; with its fp16 twin (90.54 tok/s, 177 ms "
    "for 16 tokens, near our compiled fp16 step) that leaves vLLM's AWQ GEMM at batch 1 "
    "reading 3.9 GB in ~7 ms (~0.27 of HBM bandwidth); vLLM's docs call its AWQ support "
    "'under-optimized' (vllm-project/vllm#2268: the AWQ GEMM slower than FP16 at batch 1-8), "
    "with no kernel-level figure. The exllamav2 row counts the prompt in its tokens and "
    "samples with top-k/top-p/repetition penalty each token; no per-token host figure found"
)

#: Cases outside ±35 % with the reason the model misses them (the numbers are printed by
#: the xfail and by ``python tests/test_solver_measurements.py``). Every entry must still
#: miss (test_known_misses_are_current), so a fix shows up as a failure to update this.
KNOWN_MISSES: dict[str, str] = {
    "llama2_7b_h100_trtllm05_fp8_ttft_in128": _TTFT,
    "llama2_7b_a100_trtllm05_fp16_ttft_in128": _TTFT,
    "llama2_70b_h100_trtllm05_fp8_tp4_ttft_in128": _TTFT
    + " (TP4: the runtime's per-layer all-reduce launches add to it)",
    "llama2_7b_a100_exllamav2_int4_premai": _INT4,
    "llama2_7b_a100_vllm_int4_premai": _INT4,
    "llama2_7b_a100_hf_transformers_int4_premai": _INT4
    + "; HF's int4 path also runs ~10 us of Python per op at batch 1",
    "bert_base_a100_40gb_trt_fp16_s384_b1": _SMALL_TRT,
    "bert_base_a100_40gb_trt_fp16_s128_b1": _SMALL_TRT + " (held-out: known_gap there too)",
    "resnet50_agx_orin_mlperf31_singlestream": _SMALL_TRT + " (held-out: known_gap there too)",
    "bert_base_t4_tf_fp16_s128_b1": _TF + "; at batch 1 the ~11 ms is host-bound",
    "resnet50_a100_40gb_tf_amp_b1": _TF,
    "resnet50_a100_40gb_tf_amp_b256": _TF,
    "resnet50_a100_40gb_tf_tf32_b256": _TF
    + "; this TF32 row runs without AMP (engine eager); TF32 convolutions also reach less "
    "than FP16's 0.80 of peak (a cuBLAS TF32 GEMM "
    "measures 108 of 156 TFLOP/s on an A100-PCIe, torch-performance-test-data #108), which "
    "the model does not apply: it would still miss (0.58 to ~0.64)",
}


class Outcome(NamedTuple):
    """One case solved: measured, bound and achievable time of the measured unit (s)."""

    measured_s: float
    bound_s: float
    achievable_s: float
    what: str  # what the times are of ("step", "generation", "speedup")

    @property
    def ratio(self) -> float:
        return self.achievable_s / self.measured_s


def _hardware(case: dict[str, Any]) -> Any:
    """The registry device, or one derived from it by scaling per-cycle rates to a new clock."""
    hw = mlsysim.Hardware[case["hardware"]]
    derive = case.get("derive")
    if derive is None:
        return hw
    clock = Q_(derive["clock"])
    scale = float((clock / hw.clock).to("dimensionless").magnitude)
    peak = PeakRates(
        dense={p: r * scale for p, r in hw.peak.dense.items()},
        sparse={p: r * scale for p, r in hw.peak.sparse.items()},
    )
    memory = hw.memory.model_copy(update={"bandwidth": hw.memory.bandwidth * scale})
    return hw.model_copy(
        update={"id": derive["id"], "clock": clock, "peak": peak, "memory": memory}
    )


def _system(case: dict[str, Any]) -> dict[str, Any]:
    if "devices" in case:
        return {"system": case["hardware"], "devices": case["devices"], "tp": case["tp"]}
    return {"system": _hardware(case)}


def _step(case: dict[str, Any], phase: str, batch: int, seq_len: int | None, precision: str) -> Any:
    return solve(
        case["model"],
        phase=phase,
        batch=batch,
        seq_len=seq_len,
        precision=precision,
        **_system(case),
        **case.get("plan", {}),
    )


def _times(r: Any) -> tuple[float, float]:
    return r.latency_s, r.latency_bound_s


def _generate(case: dict[str, Any], precision: str) -> tuple[float, float]:
    """(achievable, bound) time of a static batch: its prefill, then output − 1 decode steps
    at the mean context of the generation."""
    b, i, o = case["batch"], case["input_len"], case["output_len"]
    t_p, b_p = _times(_step(case, "prefill", b, i, precision))
    t_d, b_d = _times(_step(case, "decode", b, i + o // 2, precision))
    return t_p + (o - 1) * t_d, b_p + (o - 1) * b_d


def _measured_s(case: dict[str, Any], units: float, unit: str) -> float:
    """Measured time of the solved unit: a latency as given, or units over a rate (an
    encoder's sequences per second count the batch's sequences)."""
    m = Q_(case["measured"]["value"], case["measured"]["unit"])
    if m.check("[time]"):
        return float(m.to("s").magnitude)
    if unit == "token" and m.check("[sample]/[time]"):
        return case.get("batch", 1) / float(m.to("sample/s").magnitude)
    return units / float(m.to(f"{unit}/s").magnitude)


_RESULTS: dict[str, Outcome] = {}


def outcome(case: dict[str, Any]) -> Outcome:
    """Solve one case (cached)."""
    hit = _RESULTS.get(case["id"])
    if hit is not None:
        return hit
    kind = case.get("kind", "step")
    if kind == "step":
        r = _step(case, case["phase"], case.get("batch", 1), case.get("seq_len"), case["precision"])
        units = r.units_per_step if hasattr(r, "units_per_step") else r.tokens_per_step
        unit = getattr(r, "unit", "token")
        t, bound = _times(r)
        out = Outcome(_measured_s(case, units, unit), bound, t, "step")
    elif kind == "generate":
        t, bound = _generate(case, case["precision"])
        tokens = (
            case["batch"] * case["output_len"] / (case["devices"] if case.get("per_gpu") else 1)
        )
        out = Outcome(_measured_s(case, tokens, "token"), bound, t, "generation")
    else:  # speedup: measured x is baseline time / case time
        t, _ = _generate(case, case["precision"])
        t0, _ = _generate(case, case["baseline"])
        out = Outcome(1.0 / case["measured"]["value"], 0.0, t / t0, "speedup")
    _RESULTS[case["id"]] = out
    return out


def line(case: dict[str, Any]) -> str:
    """One report line with units."""
    o = _outcome_any(case)
    if o.what == "speedup":
        return (
            f"{case['id']}: measured speedup {1 / o.measured_s:.3g}x, estimated "
            f"{1 / o.achievable_s:.3g}x (estimate/measured time {o.ratio:.2f})"
        )
    return (
        f"{case['id']}: measured {o.measured_s * 1e3:.4g} ms/{o.what}, bound "
        f"{o.bound_s * 1e3:.4g} ms, achievable {o.achievable_s * 1e3:.4g} ms "
        f"(achievable/measured {o.ratio:.2f})"
    )


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in cases]


def test_records_are_sourced_and_classified() -> None:
    assert len(VALIDATE) >= 50 and len(CALIBRATE) >= 1
    seen: set[str] = set()
    for case in [*CASES, *DROPPED]:
        assert case["id"] not in seen, case["id"]
        seen.add(case["id"])
    for case in CASES:
        for key in ("class", "role", "model", "hardware", "measured", "source_title", "conditions"):
            assert case.get(key), f"{case['id']}: missing {key}"
        assert case["source_url"].startswith("https://"), case["id"]
        assert case["role"] in ("validate", "calibrate")
    for case in DROPPED:
        assert case["why"], case["id"]
    research = Path("/work/wt/research/issue15_measurements.toml")
    if research.exists():  # every researched record is used or dropped with a reason
        ids = {c["id"] for c in tomllib.loads(research.read_text(encoding="utf-8"))["case"]}
        assert ids <= seen, sorted(ids - seen)


@pytest.mark.parametrize("case", [*CASES, *HELDOUT], ids=_ids([*CASES, *HELDOUT]))
def test_bound_never_beaten(case: dict[str, Any]) -> None:
    o = _heldout_outcome(case) if case in HELDOUT else outcome(case)
    if o.what == "speedup":
        return
    assert o.bound_s <= o.measured_s, f"bound beaten (model or registry bug): {line(case)}"
    assert o.achievable_s >= o.bound_s


def _heldout_outcome(case: dict[str, Any]) -> Outcome:
    hit = _RESULTS.get(case["id"])
    if hit is None:
        r = solve(
            case["model"],
            _hardware(case),
            phase=case["phase"],
            batch=case.get("batch", 1),
            seq_len=case.get("seq_len"),
            precision=case["precision"],
            **case.get("plan", {}),
        )
        hit = Outcome(
            _measured_s(case, r.units_per_step, r.unit), r.latency_bound_s, r.latency_s, "step"
        )
        _RESULTS[case["id"]] = hit
    return hit


def _outcome_any(case: dict[str, Any]) -> Outcome:
    return _heldout_outcome(case) if case in HELDOUT else outcome(case)


@pytest.mark.parametrize("case", [*CASES, *HELDOUT], ids=_ids([*CASES, *HELDOUT]))
def test_achievable_within_35_percent(case: dict[str, Any]) -> None:
    o = _outcome_any(case)
    if LOW <= o.ratio <= HIGH:
        return
    reason = KNOWN_MISSES.get(case["id"])
    if reason is not None:
        pytest.xfail(f"{line(case)} — {reason}")
    pytest.fail(f"{line(case)} outside ±35 % and not a recorded miss")


def _broad_rate() -> tuple[float, str]:
    ratios = {c["id"]: _outcome_any(c).ratio for c in BROAD}
    within = [k for k, r in ratios.items() if LOW <= r <= HIGH]
    rate = len(within) / len(ratios)
    misses = ", ".join(f"{k} {ratios[k]:.2f}" for k in sorted(set(ratios) - set(within)))
    return rate, f"{rate:.1%} within ±35 % ({len(within)}/{len(ratios)}); misses: {misses}"


def test_known_misses_are_current() -> None:
    """Every recorded miss still misses (a fixed case must leave KNOWN_MISSES) and names a
    case that exists."""
    ids = set(_ids([*CASES, *HELDOUT]))
    assert set(KNOWN_MISSES) <= ids, sorted(set(KNOWN_MISSES) - ids)
    for case in [*CASES, *HELDOUT]:
        if case["id"] in KNOWN_MISSES:
            r = _outcome_any(case).ratio
            assert not LOW <= r <= HIGH, f"{line(case)} is now within ±35 %: drop its miss"


def test_broad_set_rate_does_not_regress() -> None:
    """The broad set (validation records and held-out cases) keeps the rate this branch
    achieves; the issue's 80 % is the test below."""
    rate, text = _broad_rate()
    assert rate >= ACHIEVED, text


def test_broad_set_rate() -> None:
    """At least 80 % of the broad set (validation records and held-out cases) within ±35 %."""
    rate, text = _broad_rate()
    assert rate >= TARGET, text


def report() -> list[str]:
    """The comparison table (what the report quotes), by role."""
    lines = []
    for title, cases in (("validate", VALIDATE), ("calibrate", CALIBRATE)):
        lines.append(f"-- {title}")
        lines.extend(line(c) for c in cases)
    lines.append("-- heldout")
    lines.extend(line(c) for c in HELDOUT)
    lines.append("broad set: " + _broad_rate()[1])
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
