"""Why a generation or a served model is bound, in words and numbers.

Each explainer names the wall and the numbers that decide it, e.g. "decode is memory-bound:
13.5 GB of weights per step; a batch of 32 amortises them to 0.42 GB per sequence until the
KV cache (69.5 GB for 128 sequences of 4,096 tokens) binds".
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.words import words

__all__ = ["explain_generation", "explain_serving"]

_GB = 1e-9
_MS = 1e3


def _gb(x: float) -> str:
    return f"{x * _GB:.3g} GB"


def _ms(x: float) -> str:
    return "0 ms" if abs(x) < 1e-9 else f"{x * _MS:.3g} ms"


def _decode_sentence(r: Any, seqs: int, context: int) -> str:
    """The decode step's wall, with the weights it reads and what the batch amortises."""
    W, kv_tok = r.weights_bytes, r.kv_bytes_per_token
    kv_step = kv_tok * seqs * context
    wall = r.binding_wall
    per_device = " per device" if r.tp > 1 else ""
    if wall == "weight_streaming" and r.streaming is not None:
        s = r.streaming
        return (
            f"decode is bound by weight streaming: {_gb(s.streamed_B)}{per_device} of weights "
            f"cross {s.tier} every step at {s.bandwidth_Bps * _GB:.3g} GB/s ({s.bound_by}-bound), "
            f"{_ms(s.stream_s)} against the device's own {_ms(r.decode_step_s)}"
        )
    if wall == "compute":
        return (
            f"decode is compute-bound at {seqs} sequences: the {_gb(W)} of weights{per_device} "
            f"are amortised to {_gb(W / seqs)} per sequence and the step's arithmetic "
            f"({_ms(r.decode_compute_s)}) outweighs its memory traffic "
            f"({_ms(r.decode_memory_s)}); a larger batch adds time, not throughput"
        )
    if wall == "software_overhead":
        return (
            f"decode is overhead-bound: kernel launches take most of the {_ms(r.decode_step_s)} "
            f"step at {seqs} sequences; a larger batch or CUDA graphs amortise them"
        )
    amortise = (
        f"a batch of {seqs} amortises them to {_gb(W / seqs)} per sequence"
        if seqs > 1
        else "a batch would amortise them"
    )
    cross = W / (kv_tok * context) if kv_tok > 0 and context > 0 else float("inf")
    limit = (
        f"until the KV cache binds: it reads {_gb(kv_step)} per step now, as much as the "
        f"weights at about {cross:.0f} sequences, and at most {r.max_batch} prompts fit "
        f"({_gb(r.capacity_bytes)}{per_device})"
    )
    return f"decode is memory-bound: {_gb(W)} of weights{per_device} per step; {amortise} {limit}"


def explain_generation(r: Any) -> str:
    """Explanation of a :class:`~mlsysim.solvers.serving.generation_result.GenerationResult`."""
    seqs = r.sequences
    if not r.feasible:
        return (
            f"memory capacity binds: {seqs} sequences of {r.prompt + r.tokens_per_sequence} "
            f"tokens need {_gb(r.total_bytes)} per device (weights {_gb(r.weights_bytes)}, KV "
            f"cache {_gb(r.kv_cache_bytes)}) but hold {_gb(r.capacity_bytes)}; at most "
            f"{r.max_batch} fit — shard with tp=, stream the weights with offload=, or use "
            f"lower-precision weights"
        )
    context = r.prompt + r.tokens_per_sequence // 2
    parts = [
        f"prefill of {r.batch} × {r.prompt} tokens: {_ms(r.ttft_s)} to the first token",
        _decode_sentence(r, seqs, context),
    ]
    if r.speculation is not None:
        sp = r.speculation
        parts.append(
            f"speculative decoding with {sp.draft}: {sp.draft_tokens} drafted tokens accepted "
            f"with α = {sp.acceptance:g} give {sp.tokens_per_round:.3g} tokens per "
            f"verification (Leviathan et al. 2023)"
        )
    if r.steps > 1 or r.samples > 1:
        parts.append(
            f"reasoning: {r.samples} sample(s) × {r.steps} step(s) × {r.output} tokens = "
            f"{r.samples * r.tokens_per_sequence} tokens per prompt"
        )
    return "; ".join(parts)


_LIMITS = {
    "kv_cache": "the KV cache",
    "max_batch": "max_batch",
    "max_tokens": "the token budget (max_tokens)",
    "gemm_tiles": "a GEMM tile boundary (one more decode would pad the iteration's GEMMs into "
    "another row of tiles and serve fewer requests/s, so the engine's batch is held below it)",
}


def explain_serving(r: Any) -> str:
    """Why the served model is bound, in words and numbers."""
    if not r.feasible:
        return (
            f"memory capacity binds: {_gb(r.weights_bytes)} of weights and "
            f"{_gb(r.activations_bytes)} of activations per device leave no KV blocks in "
            f"{r.memory_utilization:.0%} of {_gb(r.capacity_bytes)}"
        )
    n_star, T_star = r.saturation
    per = " per replica" if r.replicas > 1 else ""
    ctx = r.prompt + r.output / 2
    kv = (
        f"the paged KV cache ({_gb(r.kv_budget_bytes)}, {r.block_size}-token blocks, "
        f"{r.fragmentation:.1%} of the last block empty) holds {int(r.kv_slots):,} sequences of "
        f"{ctx:.0f} tokens"
    )
    cap = (
        f"capacity {r.capacity_rps:.4g} requests/s ({r.capacity_rps * r.output:,.0f} tokens/s): "
        f"{n_star:.0f} decodes{per} in {_ms(T_star)} iterations, capped by {_LIMITS[r.limit]}; "
        f"{kv}; each iteration is {words(r.step_wall)}-bound"
    )
    if r.streaming is not None:
        s = r.streaming
        cap += f", streaming {_gb(s.streamed_B)} of weights over {s.tier} per step"
    if r.share < 1.0:
        cap += f"; this tenant has {r.share:.0%} of the device"
    if not r.stable:
        if r.rate_rps is None:
            return f"saturated engine: {cap}"
        return (
            f"{words(r.binding_wall)} binds: {r.rate_rps:.4g} requests/s is at or above "
            f"the {cap}; the queue grows without bound"
        )
    assert r.ttft_percentiles is not None and r.tpot_percentiles is not None
    assert r.step_s is not None and r.concurrency is not None
    rate = (
        f"at {r.rate_rps:.4g} requests/s ({(r.utilization or 0.0):.0%} of capacity)"
        f"{f' over {r.replicas} replicas' if r.replicas > 1 else ''}: "
        f"{r.concurrency:.3g} sequences decode{per} in {_ms(r.step_s)} iterations"
    )
    ttft = (
        f"TTFT {_ms(r.ttft_s or 0.0)} mean, p99 {_ms(r.ttft_percentiles.p99_s)} (waits: "
        f"{_ms(r.prefill_wait_s or 0.0)} for prefill, {_ms(r.slot_wait_s or 0.0)} for a KV slot)"
    )
    tpot = f"TPOT {_ms(r.tpot_s or 0.0)} mean, p99 {_ms(r.tpot_percentiles.p99_s)}"
    slo = ""
    if r.slo_met is not None:
        slo = f"; SLO at p{r.slo_percentile * 100:g} {'met' if r.slo_met else 'missed'}"
    return f"{words(r.binding_wall)}: {rate}; {ttft}; {tpot}{slo}; {cap}"
