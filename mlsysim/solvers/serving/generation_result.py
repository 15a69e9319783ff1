"""Results of ``generate`` (one batch, prompt to last token): Quantities on access, JSON forms.

Times are stored as seconds and bytes as bytes (floats); the public attributes wrap them
(``ttft`` and ``tpot`` in ms, ``latency`` in s, ``throughput`` in token/s). A generation that
does not fit is *infeasible*: reading a time raises
:class:`~mlsysim.core.exceptions.InfeasibleError` with the bytes, and the JSON form carries
``null``. :meth:`GenerationResult.to_dict` is versioned by :data:`GENERATE_SCHEMA_VERSION`
(``mlsysim schema generate``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mlsysim.core.exceptions import InfeasibleError
from mlsysim.core.words import words
from mlsysim.solvers.quantities import GB, MS, json_quantity, quantity
from mlsysim.solvers.serving.schemas import GENERATE_SCHEMA_VERSION

__all__ = ["GenerationResult", "Speculation", "Streaming"]


@dataclass(frozen=True)
class Streaming:
    """Weights streamed from an offload tier every step (per device)."""

    tier: str
    bound_by: str  # "link" or "medium": what limits the tier's bandwidth
    bandwidth_Bps: float
    streamed_B: float
    resident_B: float
    stream_s: float

    @property
    def streamed(self) -> Any:
        """Weight bytes that cross the link every step (GB)."""
        return quantity(self.streamed_B, GB, "GB")

    @property
    def time(self) -> Any:
        """Time to stream them once (ms)."""
        return quantity(self.stream_s, MS, "ms")

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "bound_by": self.bound_by,
            "bandwidth": json_quantity(self.bandwidth_Bps, GB, "GB/s"),
            "streamed": json_quantity(self.streamed_B, GB, "GB"),
            "resident": json_quantity(self.resident_B, GB, "GB"),
            "time": json_quantity(self.stream_s, MS, "ms"),
        }


@dataclass(frozen=True)
class Speculation:
    """Speculative decoding: the draft, its acceptance, and tokens per verification round."""

    draft: str
    acceptance: float
    draft_tokens: int
    tokens_per_round: float  # Leviathan et al. 2023, Eq. 1
    rounds: float  # verification rounds per sequence

    def to_dict(self) -> dict[str, Any]:
        return {
            "draft": self.draft,
            "acceptance": self.acceptance,
            "draft_tokens": self.draft_tokens,
            "tokens_per_round": self.tokens_per_round,
            "rounds": self.rounds,
        }


@dataclass(frozen=True)
class GenerationResult:
    """One batch generated end to end. Public attributes are Quantities; ``*_s``/``*_bytes``
    are floats (per device for memory)."""

    model: str
    system: str
    tp: int
    batch: int
    prompt: int
    output: int
    samples: int
    steps: int
    step_prompt: int
    precision: str
    feasible: bool
    binding_wall: str
    ttft_s: float
    decode_s: float
    ttft_bound_s: float
    decode_bound_s: float
    weights_bytes: float
    kv_cache_bytes: float
    activations_bytes: float
    draft_bytes: float
    capacity_bytes: float
    kv_bytes_per_token: float
    max_batch: int  # prompts of this shape whose final KV cache fits beside the weights
    decode_compute_s: float  # of the mid-context decode step
    decode_memory_s: float
    decode_step_s: float
    streaming: Streaming | None = None
    speculation: Speculation | None = None
    power_w: float | None = None  # per device, at the mid-context decode step
    model_spec: Any = field(default=None, repr=False, compare=False)

    # -- derived floats ------------------------------------------------------------------
    @property
    def tokens_per_sequence(self) -> int:
        """Output tokens of one sequence (every reasoning step's)."""
        return self.steps * self.output

    @property
    def sequences(self) -> int:
        """Sequences decoded together: batch × samples."""
        return self.batch * self.samples

    @property
    def latency_s(self) -> float:
        return self.ttft_s + self.decode_s

    @property
    def latency_bound_s(self) -> float:
        return self.ttft_bound_s + self.decode_bound_s

    @property
    def tpot_s(self) -> float | None:
        """Mean time between output tokens after the first (None for one token)."""
        gaps = self.tokens_per_sequence - 1
        return self.decode_s / gaps if gaps > 0 else None

    @property
    def tpot_bound_s(self) -> float | None:
        gaps = self.tokens_per_sequence - 1
        return self.decode_bound_s / gaps if gaps > 0 else None

    @property
    def total_bytes(self) -> float:
        resident = self.weights_bytes if self.streaming is None else self.streaming.resident_B
        return resident + self.kv_cache_bytes + self.activations_bytes + self.draft_bytes

    # -- guarded Quantities --------------------------------------------------------------
    def _require_feasible(self, what: str) -> None:
        if self.feasible:
            return
        raise InfeasibleError(
            f"{self.batch} × {self.samples} sequences of {self.model} do not fit on "
            f"{self.system}, so the generation has no {what}",
            where=f"generate(batch={self.batch}, prompt={self.prompt}, output={self.output})",
            why=(
                f"each device needs {self.total_bytes * GB:.3g} GB (weights "
                f"{self.weights_bytes * GB:.3g}, KV cache {self.kv_cache_bytes * GB:.3g}, "
                f"activations {self.activations_bytes * GB:.3g} GB) but holds "
                f"{self.capacity_bytes * GB:.3g} GB; at most {self.max_batch} such prompts fit"
            ),
            fix="lower the batch, shard with tp= on a node, use lower-precision weights, or "
            "stream the weights with offload='Host_PCIe5'",
        )

    @property
    def ttft(self) -> Any:
        """Time to first token: the batch's prefill (ms)."""
        self._require_feasible("time to first token")
        return quantity(self.ttft_s, MS, "ms")

    @property
    def ttft_bound(self) -> Any:
        self._require_feasible("time to first token")
        return quantity(self.ttft_bound_s, MS, "ms")

    @property
    def tpot(self) -> Any:
        """Mean time per output token after the first (ms)."""
        self._require_feasible("time per output token")
        t = self.tpot_s
        if t is None:
            raise InfeasibleError(
                "one output token has no time per output token",
                where="generate",
                fix="ask for output ≥ 2 tokens, or read ttft",
            )
        return quantity(t, MS, "ms")

    @property
    def tpot_bound(self) -> Any:
        self._require_feasible("time per output token")
        t = self.tpot_bound_s
        if t is None:
            raise InfeasibleError("one output token has no time per output token")
        return quantity(t, MS, "ms")

    @property
    def latency(self) -> Any:
        """End-to-end latency of the batch: TTFT plus every decode step (s)."""
        self._require_feasible("latency")
        return quantity(self.latency_s, 1.0, "s")

    @property
    def latency_bound(self) -> Any:
        self._require_feasible("latency")
        return quantity(self.latency_bound_s, 1.0, "s")

    @property
    def throughput(self) -> Any:
        """Output tokens per second of the whole batch, over the end-to-end latency."""
        self._require_feasible("throughput")
        return quantity(self.sequences * self.tokens_per_sequence / self.latency_s, 1.0, "token/s")

    @property
    def throughput_bound(self) -> Any:
        self._require_feasible("throughput")
        n = self.sequences * self.tokens_per_sequence
        return quantity(n / self.latency_bound_s, 1.0, "token/s")

    @property
    def tokens_per_second(self) -> Any:
        """Same as :attr:`throughput` (output tokens/s)."""
        return self.throughput

    @property
    def weights(self) -> Any:
        return quantity(self.weights_bytes, GB, "GB")

    @property
    def kv_cache(self) -> Any:
        """KV cache per device at the end of generation (GB)."""
        return quantity(self.kv_cache_bytes, GB, "GB")

    @property
    def capacity(self) -> Any:
        return quantity(self.capacity_bytes, GB, "GB")

    @property
    def energy_per_token(self) -> Any:
        """Device energy per output token over the replica's ``tp`` devices (J/token)."""
        self._require_feasible("energy")
        if self.power_w is None:
            raise InfeasibleError(
                f"{self.system} has no TDP in the registry, so no energy per token",
                where="generate",
                fix="add tdp with a source to the device's data entry",
            )
        n = self.sequences * self.tokens_per_sequence
        return quantity(self.power_w * self.tp * self.latency_s / n, 1.0, "J/token")

    @property
    def explanation(self) -> str:
        """What bounds the decode steps and the batch, in words and numbers."""
        from mlsysim.solvers.serving.explain import explain_generation

        return explain_generation(self)

    # -- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (``mlsysim schema generate``)."""
        ok = self.feasible
        n = self.sequences * self.tokens_per_sequence
        return {
            "schema": GENERATE_SCHEMA_VERSION,
            "schema_version": GENERATE_SCHEMA_VERSION,
            "model": self.model,
            "system": self.system,
            "tp": self.tp,
            "batch": self.batch,
            "prompt": self.prompt,
            "output": self.output,
            "samples": self.samples,
            "steps": self.steps,
            "step_prompt": self.step_prompt,
            "precision": self.precision,
            "feasible": ok,
            "binding_wall": self.binding_wall,
            "ttft": json_quantity(self.ttft_s if ok else None, MS, "ms"),
            "tpot": json_quantity(self.tpot_s if ok else None, MS, "ms"),
            "latency": json_quantity(self.latency_s if ok else None, 1.0, "s"),
            "throughput": json_quantity(n / self.latency_s if ok else None, 1.0, "tokens/s"),
            "ttft_bound": json_quantity(self.ttft_bound_s if ok else None, MS, "ms"),
            "tpot_bound": json_quantity(self.tpot_bound_s if ok else None, MS, "ms"),
            "latency_bound": json_quantity(self.latency_bound_s if ok else None, 1.0, "s"),
            "memory": {
                "weights": json_quantity(self.weights_bytes, GB, "GB"),
                "kv_cache": json_quantity(self.kv_cache_bytes, GB, "GB"),
                "activations": json_quantity(self.activations_bytes, GB, "GB"),
                "draft": json_quantity(self.draft_bytes, GB, "GB"),
                "total": json_quantity(self.total_bytes, GB, "GB"),
                "capacity": json_quantity(self.capacity_bytes, GB, "GB"),
                "kv_per_token": json_quantity(self.kv_bytes_per_token, 1e-3, "kB"),
            },
            "max_batch": self.max_batch,
            "streaming": None if self.streaming is None else self.streaming.to_dict(),
            "speculation": None if self.speculation is None else self.speculation.to_dict(),
            "explanation": self.explanation,
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        head = f"{self.model} on {self.system}, batch {self.batch}, {self.prompt}→{self.output}"
        if not self.feasible:
            return f"{head}: infeasible ({words(self.binding_wall)} [{self.binding_wall}])"
        tpot = "—" if self.tpot_s is None else f"{self.tpot_s * MS:.3g} ms"
        return (
            f"{head}: TTFT {self.ttft_s * MS:.3g} ms, TPOT {tpot}, latency "
            f"{self.latency_s:.3g} s, binding wall {words(self.binding_wall)} "
            f"[{self.binding_wall}]"
        )
