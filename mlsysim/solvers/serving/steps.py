"""The steps of one serving replica, composed from ``solve()``: prefill, decode, mixed, verify.

A replica is the model on ``tp`` devices: one device (the single-node solver) or ``tp``
devices of a node or cluster (the distributed solver, tensor-parallel collectives included).
Every time here is a solve's time (achievable ``latency_s``, or the ideal ``latency_bound_s``
for bounds); nothing is re-derived. The compositions rest on the lowering's per-operation
roofline, whose step time is a sum over operations:

* ``decode(n, s)`` — ``n`` sequences add one token each over ``s`` cached tokens; a fractional
  ``n`` interpolates between its integer neighbours (the time is piecewise linear in the batch).
* ``mixed(n, s, c, p)`` — a continuous-batching iteration (Orca's selective batching, Yu et
  al. 2022; Sarathi-Serve's chunked prefills, Agrawal et al. 2024): the non-attention
  operations of all ``n + c`` tokens run as one batch, ``D(n + c, 0)``; the decodes' attention
  over their caches adds ``D(n, s) − D(n, 0)``; the ``c`` prefill tokens' causal attention is
  their share ``c/p`` of a whole prompt's, ``P(p) − D(p, 0)`` (a prefill of ``p`` tokens and a
  decode of ``p`` sequences at context 0 run the same GEMMs, so the difference is the
  prompt's attention less its ``p − 1`` extra LM-head rows).
* ``verify(n, s, k)`` — speculative verification of ``k`` tokens per sequence: the GEMMs of
  ``n·k`` tokens and one read of each cache, ``D(n·k, 0) + D(n, s) − D(n, 0)``.

Weights that do not fit stream in over an offload tier every step (Sheng et al. 2023):
:func:`~mlsysim.core.formulas.offloaded_step_s` of the device's time and
``offloaded bytes / tier bandwidth``, prefetch overlapped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core.exceptions import ConfigError, InfeasibleError
from mlsysim.core.formulas.kernels import gemm_row_breaks
from mlsysim.core.formulas.memory import logits_B
from mlsysim.core.formulas.serving import offloaded_step_s
from mlsysim.hardware.registry import HardwareSpec
from mlsysim.solvers import arguments
from mlsysim.systems.topology import lookup_system

__all__ = ["Offload", "ReplicaSteps", "max_context"]

_GB = 1e-9
#: Memo entries one replica keeps before starting afresh (a sweep must not accumulate).
_CACHE_LIMIT = 2048
#: Context at which the KV bytes per token are read off a decode solve (any context works: the
#: cache is linear in it).
_PROBE_CONTEXT = 1023


def max_context(spec: Any) -> int:
    """The model's longest context (tokens)."""
    from mlsysim.workload.lowering import model_facts

    return int(model_facts(spec).max_seq_len)


@dataclass(frozen=True)
class Offload:
    """Weights kept off the device and streamed in every step over ``tier``."""

    tier: str
    bandwidth_Bps: float  # the tier's effective read bandwidth into one device (B/s)
    latency_s: float
    streamed_B: float  # bytes per device that cross the link every step
    resident_B: float  # weight bytes per device that stay in device memory
    capacity_B: float | None  # what the tier can hold (None: not recorded)

    @property
    def stream_s(self) -> float:
        """Seconds per step to stream the offloaded weights into one device."""
        return self.latency_s + self.streamed_B / self.bandwidth_Bps


class ReplicaSteps:
    """Step times of one replica of ``model`` on ``system`` (``tp`` devices), from solve()."""

    def __init__(
        self,
        model: Any,
        system: Any,
        *,
        tp: int = 1,
        precision: str | None = None,
        plan_options: dict[str, Any] | None = None,
        ideal: bool = False,
        where: str = "generate",
    ) -> None:
        self.spec = arguments.model(model, where)
        self.where = where
        if isinstance(tp, bool) or not isinstance(tp, int) or tp < 1:
            raise ConfigError(
                f"tp must be an integer ≥ 1, got {tp!r}",
                where=where,
                fix="pass tp=1 for one device, or tp=2, 4, 8 with a node as the system",
            )
        self.system = lookup_system(system if system is not None else "")
        self.tp = tp
        self.distributed = tp > 1 or not isinstance(self.system, HardwareSpec)
        if not self.distributed:
            self.system = arguments.hardware(self.system, where)
        self.precision = precision
        self.options = dict(plan_options or {})
        self.ideal = ideal
        self.offload: Offload | None = None
        self._cache: dict[tuple[str, int, int], Any] = {}

    def bound(self) -> ReplicaSteps:
        """The same replica timed at the ideal roofline (``latency_bound_s``), sharing solves."""
        twin = ReplicaSteps.__new__(ReplicaSteps)
        twin.__dict__.update(self.__dict__)
        twin.ideal = True
        twin.offload = None
        return twin

    # -- solves ------------------------------------------------------------------------------
    def result(self, phase: str, batch: int, seq: int) -> Any:
        """The (cached) solve of one step: ``phase`` at ``batch`` sequences and ``seq`` tokens."""
        key = (phase, batch, seq)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        from mlsysim.solvers.api import solve

        if self.distributed:
            r = solve(
                self.spec,
                self.system,
                phase=phase,
                batch=batch,
                seq_len=seq,
                precision=self.precision,
                devices=self.tp,
                tp=self.tp,
                **self.options,
            )
        else:
            r = solve(
                self.spec,
                self.system,
                phase=phase,
                batch=batch,
                seq_len=seq,
                precision=self.precision,
                **self.options,
            )
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = r
        return r

    def _t(self, r: Any) -> float:
        t = r.latency_bound_s if self.ideal else r.latency_s
        if self.offload is not None:
            t = offloaded_step_s(t, self.offload.stream_s, True)
        return float(t)

    def _t_raw(self, r: Any) -> float:
        return float(r.latency_bound_s if self.ideal else r.latency_s)

    # -- step times (s) ----------------------------------------------------------------------
    def prefill(self, batch: int, prompt: int) -> float:
        """Time to prefill ``batch`` prompts of ``prompt`` tokens (the first token's step)."""
        return self._t(self.result("prefill", batch, prompt))

    def _decode_raw(self, n: float, s: float) -> float:
        ctx = max(0, round(s))
        lo = max(1, math.floor(n))
        t_lo = self._t_raw(self.result("decode", lo, ctx))
        if n <= lo:
            return t_lo
        t_hi = self._t_raw(self.result("decode", lo + 1, ctx))
        return t_lo + (n - lo) * (t_hi - t_lo)

    def decode(self, n: float, context: float) -> float:
        """One decode step of ``n`` sequences (fractional: interpolated) over ``context``."""
        return self._stream(self._decode_raw(n, context))

    def _stream(self, t: float) -> float:
        if self.offload is None:
            return t
        return offloaded_step_s(t, self.offload.stream_s, True)

    def prompt_attention(self, prompt: int) -> float:
        """A whole prompt's own causal attention less its ``p − 1`` extra LM-head rows,
        ``P(p) − D(p, 0)``: negative for short prompts, whose attention costs less than the
        logits a decode batch of ``p`` computes (the correction the mixed step needs)."""
        t_p = self._t_raw(self.result("prefill", 1, prompt))
        t_d = self._t_raw(self.result("decode", prompt, 0))
        return t_p - t_d

    def mixed(
        self, n: float, context: float, chunk: float, prompt: int, tokens: float = 1.0
    ) -> float:
        """One continuous-batching iteration: ``n`` decodes over ``context`` (``tokens`` new
        tokens each: 1, or γ + 1 when verifying drafts) plus ``chunk`` prefill tokens of
        ``prompt``-token prompts (see the module doc)."""
        if chunk <= 0.0:
            if tokens == 1.0:
                return self.decode(n, context)
            return self.verify(n, context, tokens)
        body = self._decode_raw(n * tokens + chunk, 0.0)
        if n > 0.0:
            body += self._decode_raw(n, context) - self._decode_raw(n, 0.0)
        body += chunk / prompt * self.prompt_attention(prompt)
        return self._stream(body)

    def verify(self, n: float, context: float, tokens: float) -> float:
        """Speculative verification: ``tokens`` proposed tokens of each of ``n`` sequences."""
        body = self._decode_raw(n * tokens, 0.0)
        body += self._decode_raw(n, context) - self._decode_raw(n, 0.0)
        return self._stream(body)

    def row_breaks(self, limit: float) -> tuple[float, ...]:
        """Tokens per iteration (GEMM rows) up to ``limit`` after which the step's GEMMs run
        on more or larger tiles (:func:`~mlsysim.core.formulas.kernels.gemm_row_breaks` on the
        engine's tile): between two of them the step grows only with the bytes it moves, one
        token past one it can jump. Empty at the ideal roofline, which has no tiles."""
        if self.ideal:
            return ()
        from mlsysim.hardware.engines import Engines, efficiencies

        r = self.result("decode", 1, 0)
        hw = r.hardware_spec if hasattr(r, "hardware_spec") else arguments.hardware(r.hardware)
        tile_m = efficiencies(Engines[r.engine], hw).tile_m
        return gemm_row_breaks(limit, tile_m)

    # -- memory (bytes per device) -----------------------------------------------------------
    def memory(self, batch: int, context: int) -> Any:
        """The memory breakdown of a decode step (per device)."""
        return self.result("decode", batch, context).memory

    @property
    def capacity_B(self) -> float:
        return float(self.memory(1, 0).capacity_bytes)

    @property
    def weights_B(self) -> float:
        return float(self.memory(1, 0).weights_bytes)

    @property
    def kv_per_token_B(self) -> float:
        """KV-cache bytes per cached token per device (all layers; the lowering's count)."""
        m = self.memory(1, _PROBE_CONTEXT)
        return float(m.kv_cache_bytes) / (_PROBE_CONTEXT + 1)

    def activations_B(self, tokens: int) -> float:
        """Peak working activations of an iteration of ``tokens`` tokens (per device): a
        prefill of that many tokens, as engines profile it (logits for the last token only)."""
        longest = max_context(self.spec)
        tokens = max(1, int(tokens))
        batch = -(-tokens // longest)
        seq = min(tokens, longest)
        return float(self.result("prefill", batch, seq).memory.activations_bytes)

    def logits_B(self, sequences: int) -> float:
        """The fp32 logits an engine reserves for ``sequences`` sequences (per device: every
        tensor-parallel rank holds the gathered vocabulary, as TensorRT-LLM's runtime buffers
        do)."""
        from mlsysim.workload.lowering import model_facts

        return logits_B(float(sequences), float(model_facts(self.spec).vocab))

    @property
    def layers(self) -> int:
        from mlsysim.workload.lowering import model_facts

        return int(model_facts(self.spec).layers)

    def plan_offload(self, tier: Any, keep_B: float, usable_B: float) -> Offload | None:
        """Keep ``keep_B`` bytes (KV cache, activations) on each device and stream the weights
        that do not fit in the rest of ``usable_B`` over ``tier`` (two layers' weights stay
        resident as the prefetch buffers). None when everything fits."""
        W = self.weights_B
        free = usable_B - keep_B
        if free >= W:
            self.offload = None
            return None
        if tier is None:
            return None
        staging = 2.0 * W / self.layers
        if free < staging:
            raise InfeasibleError(
                f"{self.spec.id} cannot stream its weights: the KV cache and activations "
                f"({keep_B * _GB:.3g} GB) leave {max(free, 0.0) * _GB:.3g} GB per device, "
                f"less than two layers' weights ({staging * _GB:.3g} GB) to prefetch into",
                where=self.where,
                fix="lower the batch or the context, or use devices with more memory",
            )
        streamed = W - free
        cap = tier.capacity_B
        if cap is not None and streamed * self.tp > cap:
            raise InfeasibleError(
                f"the offloaded weights ({streamed * self.tp * _GB:.3g} GB) exceed what "
                f"{tier.id} holds ({cap * _GB:.3g} GB)",
                where=self.where,
                fix="use a larger tier (NVMe), lower-precision weights or more devices",
            )
        self.offload = Offload(tier.id, tier.bandwidth_Bps, tier.latency_s, streamed, free, cap)
        return self.offload
