"""``mlsysim.generate``: one batch of requests from prompt to last token — TTFT, TPOT, latency.

``generate(model, system, *, prompt, output, batch=1, …)`` prefills ``batch`` prompts of
``prompt`` tokens (the time to first token), then decodes ``output − 1`` more tokens per
sequence while each sequence's KV cache grows. Every step is a solve (:mod:`.steps`): the
prefill is ``solve(phase="prefill")``; decode is integrated over the growing context in a few
segments (midpoint rule: the step time is linear in the context, so it is exact up to the
solver's kernel-regime changes), never one solve per token. ``system`` is a device, or a node
or cluster with ``tp=`` devices per replica (tensor-parallel decode through the distributed
solver).

Also:

* **best-of-n** (``samples=n``): n chains decode from one prompt whose KV blocks they share
  (vLLM's memory sharing, Kwon et al. 2023), so memory holds the prompt once;
* **reasoning** (``steps=k``, ``step_prompt=m``): k sequential rounds of ``output`` tokens,
  each after m more prompt tokens (a tool result, the next sub-question) are appended;
* **speculative decoding** (``draft=``, ``acceptance=``, ``draft_tokens=γ``): each round runs
  γ draft decode steps and one target verification of γ + 1 tokens and yields
  :func:`~mlsysim.core.formulas.speculative_tokens` tokens (Leviathan et al. 2023);
* **weight streaming** (``offload=`` a tier id): weights that do not fit beside the KV cache
  stream in over the tier every step (Sheng et al. 2023).
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core import arguments
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.formulas.serving import speculative_tokens_n
from mlsysim.solvers.arguments import one_system
from mlsysim.solvers.base import BaseSolver
from mlsysim.solvers.serving.generation_result import GenerationResult, Speculation, Streaming
from mlsysim.solvers.serving.steps import ReplicaSteps, max_context
from mlsysim.systems.offload import offload_tier, tier_facts

__all__ = [
    "DEFAULT_SEGMENTS",
    "GenerateSolver",
    "count_arg",
    "generate",
    "max_context",
    "tokens_arg",
]

#: Segments the decode phase's growing context is integrated over (midpoint rule).
DEFAULT_SEGMENTS = 4
#: Most segments a caller may ask for (each costs a solve).
_MAX_SEGMENTS = 64


def tokens_arg(value: Any, name: str, where: str, minimum: int = 1) -> int:
    """A whole number of tokens ≥ ``minimum`` (``512`` or ``"512 token"``)."""
    if type(value) is int and value >= minimum:
        return value
    return arguments.count(value, name, where, minimum=minimum, dim="token")


def count_arg(value: Any, name: str, where: str, minimum: int = 1) -> int:
    """A whole-number count ≥ ``minimum`` (batch, samples, steps …)."""
    if type(value) is int and value >= minimum:
        return value
    return arguments.count(value, name, where, minimum=minimum)


def _segments(first: int, count: int, k: int) -> list[tuple[int, float]]:
    """Split ``count`` consecutive contexts starting at ``first`` into ≤ k runs: (steps, mid)."""
    out: list[tuple[int, float]] = []
    if count <= 0:
        return out
    k = min(k, count)
    start = 0
    for i in range(k):
        end = round(count * (i + 1) / k)
        n = end - start
        if n > 0:
            out.append((n, first + start + (n - 1) / 2.0))
        start = end
    return out


class GenerateSolver(BaseSolver):
    """Time to first token, time per output token and end-to-end latency of one batch."""

    name = "generate"
    walls = ("batching", "weight_streaming", "reasoning")
    sources = ("pope2022", "leviathan2023", "kwon2023vllm", "sheng2023", "snell2024")

    def solve(
        self,
        model: Any = None,
        system: Any = None,
        *,
        prompt: Any,
        output: Any,
        batch: int = 1,
        precision: str | None = None,
        tp: int = 1,
        samples: int = 1,
        steps: int = 1,
        step_prompt: Any = 0,
        draft: Any = None,
        acceptance: Any = None,
        draft_tokens: int = 4,
        offload: Any = None,
        segments: int = DEFAULT_SEGMENTS,
        hardware: Any = None,
        **plan_options: Any,
    ) -> GenerationResult:
        where = "generate"
        system = one_system(system, hardware, where)
        p = tokens_arg(prompt, "prompt", where)
        o = tokens_arg(output, "output", where)
        b = count_arg(batch, "batch", where)
        n = count_arg(samples, "samples", where)
        k = count_arg(steps, "steps", where)
        sp = tokens_arg(step_prompt, "step_prompt", where, minimum=0)
        seg = count_arg(segments, "segments", where)
        if seg > _MAX_SEGMENTS:
            raise ConfigError(
                f"segments={seg} is more than {_MAX_SEGMENTS}",
                where=where,
                why="the decode phase is linear in the context; a few segments are exact",
                fix="pass segments=4 (the default)",
            )
        target = ReplicaSteps(model, system, tp=tp, precision=precision, plan_options=plan_options)
        ideal = target.bound()
        spec = target.spec
        generated = k * o
        final_ctx = p + k * sp + generated
        if final_ctx > max_context(spec):
            raise ConfigError(
                f"prompt + steps·(step_prompt + output) = {final_ctx} tokens exceeds "
                f"{spec.id}'s context of {max_context(spec)}",
                where=where,
                fix="shorten the prompt or the output",
            )
        spec_draft = None
        if draft is not None:
            if acceptance is None:
                raise ConfigError(
                    "speculative decoding needs acceptance= (the draft's acceptance rate)",
                    where=where,
                    fix="pass acceptance=0.7 with draft=",
                )
            alpha = arguments.fraction(
                acceptance, "acceptance", where, low_open=False, example="0.7"
            )
            gamma = count_arg(draft_tokens, "draft_tokens", where)
            d = ReplicaSteps(
                draft, target.system, tp=tp, precision=precision, plan_options=plan_options
            )
            spec_draft = (d, d.bound(), alpha, gamma)
        elif acceptance is not None:
            raise ConfigError(
                "acceptance= needs draft= (the draft model that proposes tokens)",
                where=where,
                fix="pass draft='Llama3_2_1B' (a smaller model of the same family)",
            )

        # memory per device at the end of generation: weights, KV (prompt shared by samples)
        seqs = b * n
        kv_tokens = b * (p + n * (generated + k * sp))
        kv_B = target.kv_per_token_B * kv_tokens
        act_B = target.activations_B(seqs)
        weights_B = target.weights_B
        draft_B = 0.0
        if spec_draft is not None:
            d = spec_draft[0]
            draft_B = d.weights_B + d.kv_per_token_B * kv_tokens + d.activations_B(seqs)
        cap = target.capacity_B
        streaming = None
        tier = None
        if offload is not None:
            tier = tier_facts(offload_tier(offload, where))
            plan = target.plan_offload(tier, kv_B + act_B + draft_B, cap)
            ideal.plan_offload(tier, kv_B + act_B + draft_B, cap)
            if plan is not None:
                streaming = Streaming(
                    tier.id,
                    tier.bound_by,
                    tier.bandwidth_Bps,
                    plan.streamed_B,
                    plan.resident_B,
                    plan.stream_s,
                )
        resident = weights_B if streaming is None else streaming.resident_B
        need = resident + kv_B + act_B + draft_B
        feasible = need <= cap

        timings = [
            _timeline(t, p, o, b, n, k, sp, seg, spec_draft, i)
            for i, t in enumerate((target, ideal))
        ]
        (ttft, decode, rounds), (ttft_b, decode_b, _) = timings
        mid = p + k * sp + generated // 2
        r_mid = target.result("decode", seqs, mid)
        wall = r_mid.binding_wall
        if not feasible:
            wall = "memory_capacity"
        elif streaming is not None and streaming.stream_s >= target._t_raw(r_mid):
            wall = "weight_streaming"
        kv_tok = target.kv_per_token_B
        fits = max(
            0,
            math.floor(
                (cap - weights_B - act_B - draft_B) / (kv_tok * (p + n * (generated + k * sp)))
            ),
        )
        speculation = None
        if spec_draft is not None:
            speculation = Speculation(
                spec_draft[0].spec.id,
                spec_draft[2],
                spec_draft[3],
                speculative_tokens_n(spec_draft[2], float(spec_draft[3])),
                rounds,
            )
        return GenerationResult(
            model=spec.id,
            system=getattr(target.system, "id", str(system)),
            tp=tp,
            batch=b,
            prompt=p,
            output=o,
            samples=n,
            steps=k,
            step_prompt=sp,
            precision=r_mid.weights_precision,
            feasible=feasible,
            binding_wall=wall,
            ttft_s=ttft,
            decode_s=decode,
            ttft_bound_s=ttft_b,
            decode_bound_s=decode_b,
            weights_bytes=weights_B,
            kv_cache_bytes=kv_B,
            activations_bytes=act_B,
            draft_bytes=draft_B,
            capacity_bytes=cap,
            kv_bytes_per_token=kv_tok,
            max_batch=fits,
            decode_compute_s=float(r_mid.compute_s),
            decode_memory_s=float(r_mid.memory_s),
            decode_step_s=target._t_raw(r_mid),
            streaming=streaming,
            speculation=speculation,
            power_w=r_mid.power_w,
            model_spec=spec,
        )


def _timeline(
    t: ReplicaSteps,
    p: int,
    o: int,
    b: int,
    n: int,
    k: int,
    sp: int,
    seg: int,
    spec_draft: Any,
    which: int,
) -> tuple[float, float, float]:
    """(time to first token, everything after it, speculative rounds) on steps ``t``."""
    ttft = t.prefill(b, p)
    seqs = b * n
    draft = None if spec_draft is None else spec_draft[which]
    if draft is not None:
        ttft += draft.prefill(b, p)
    decode = 0.0
    rounds = 0.0
    ctx = p  # tokens in the cache before the next step's input token
    for step in range(k):
        count = o - 1  # after the step that made this round's first token
        if step > 0 and sp > 0:  # the pending token and the appended prompt, over the cache
            decode += t.verify(seqs, ctx, sp + 1.0)
            if draft is not None:
                decode += draft.verify(seqs, ctx, sp + 1.0)
            ctx += sp + 1
        elif step > 0:  # nothing appended: the round decodes on
            count = o
        for steps_in, mid in _segments(ctx, count, seg):
            if draft is None:
                decode += steps_in * t.decode(seqs, mid)
            else:
                alpha, gamma = spec_draft[2], spec_draft[3]
                E = speculative_tokens_n(alpha, float(gamma))
                per_round = gamma * draft.decode(seqs, mid) + t.verify(seqs, mid, gamma + 1.0)
                decode += steps_in / E * per_round
                rounds += steps_in / E
        ctx += count
    return ttft, decode, rounds


_SOLVER = GenerateSolver()


def generate(model: Any = None, system: Any = None, **kwargs: Any) -> GenerationResult:
    """Generate ``output`` tokens for each of ``batch`` prompts of ``prompt`` tokens.

    Returns TTFT (the batch's prefill), TPOT (mean time between output tokens), end-to-end
    latency and output tokens/s, each also as an ideal bound (``*_bound``), with the memory
    per device and why the decode steps are bound (``explanation``). Keywords: ``prompt``,
    ``output`` (tokens, required), ``batch``, ``precision``, ``tp`` (devices per replica on a
    node or cluster), ``samples`` (best-of-n), ``steps`` and ``step_prompt`` (reasoning
    rounds), ``draft``/``acceptance``/``draft_tokens`` (speculative decoding), ``offload`` (an
    offload tier id for weights that do not fit), ``segments``, and solve's plan options.
    """
    return _SOLVER.solve(model, system, **kwargs)
