"""The result of ``serve``: capacity, latency means and percentiles at a rate, the SLO, JSON.

Times are stored in seconds, rates in requests per second and bytes as bytes (floats); the
public attributes wrap them (``ttft``, ``tpot`` in ms, ``latency`` in s, ``throughput`` in
token/s, ``capacity`` in req/s). A replica whose weights and KV cache do not fit is
*infeasible*; a rate at or above the capacity is *saturated* (the queue grows without bound):
reading a latency then raises :class:`~mlsysim.core.exceptions.InfeasibleError` saying so,
and the JSON form carries ``null``. :meth:`ServingResult.to_dict` is versioned by
:data:`SERVE_SCHEMA_VERSION` (``mlsysim schema serve``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mlsysim.core.exceptions import InfeasibleError
from mlsysim.core.words import words
from mlsysim.solvers.quantities import GB, MS, json_bounded, quantity

__all__ = ["Percentiles", "ServingResult"]


@dataclass(frozen=True)
class Percentiles:
    """Quantiles of a latency (seconds inside; ``p50``/``p90``/``p99`` in ms)."""

    p50_s: float
    p90_s: float
    p99_s: float
    quantiles: tuple[tuple[float, float], ...] = ()  # every (q, seconds) computed

    @classmethod
    def of(cls, values: dict[float, float]) -> Percentiles:
        return cls(values[0.5], values[0.9], values[0.99], tuple(sorted(values.items())))

    def at_s(self, q: float) -> float:
        """Seconds at quantile ``q`` (one of those computed)."""
        for k, v in self.quantiles:
            if abs(k - q) < 1e-12:
                return v
        raise KeyError(q)

    @property
    def p50(self) -> Any:
        return quantity(self.p50_s, MS, "ms")

    @property
    def p90(self) -> Any:
        return quantity(self.p90_s, MS, "ms")

    @property
    def p99(self) -> Any:
        return quantity(self.p99_s, MS, "ms")

    def to_dict(self) -> dict[str, Any]:
        return {f"p{round(q * 100, 3):g}": json_bounded(v, MS, "ms") for q, v in self.quantiles}


@dataclass(frozen=True)
class ServingResult:
    """A served model at a request rate (or saturated). Quantities on access, floats inside;
    memory per device, rates for the whole system (all replicas)."""

    model: str
    system: str
    tp: int
    replicas: int
    precision: str
    prompt: int
    output: int
    scheduler: str
    max_batch: int
    max_tokens: int
    block_size: int
    memory_utilization: float
    share: float
    feasible: bool
    binding_wall: str
    limit: str  # what caps the batch at saturation: kv_cache, max_batch, max_tokens, gemm_tiles
    step_wall: str  # the decode iteration's own wall (memory_bandwidth, compute, …)
    weights_bytes: float
    activations_bytes: float
    capacity_bytes: float
    kv_bytes_per_token: float
    kv_budget_bytes: float
    kv_slots: float  # sequences the paged KV budget holds at the mean context
    fragmentation: float  # of the last block, at the mean context
    capacity_rps: float  # requests/s the system sustains (achievable)
    capacity_bound_rps: float  # at the ideal roofline, with all memory and no batch caps
    saturation_batch: float
    saturation_step_s: float
    rate_rps: float | None = None  # the offered rate (None: the saturated engine)
    concurrency: float | None = None  # decodes in flight per replica at the rate
    step_s: float | None = None  # mean iteration
    prefill_busy: float | None = None  # share of iterations carrying prefill work
    slot_wait_s: float | None = None
    prefill_wait_s: float | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    latency_s: float | None = None
    ttft_percentiles: Percentiles | None = None
    tpot_percentiles: Percentiles | None = None
    itl_percentiles: Percentiles | None = None
    latency_percentiles: Percentiles | None = None
    idle_fraction: float | None = None
    slo_ttft_s: float | None = None
    slo_tpot_s: float | None = None
    slo_percentile: float = 0.99
    slo_met: bool | None = None
    draft: str | None = None
    acceptance: float | None = None
    draft_tokens: int | None = None
    streaming: Any = None
    power_w: float | None = None  # per device at the saturated iteration
    kv_fraction: float | None = None  # of the memory weights and activations leave
    replica: Any = field(default=None, repr=False, compare=False)

    # -- state ---------------------------------------------------------------------------
    @property
    def stable(self) -> bool:
        """True when the rate is below the capacity (the queue has a steady state)."""
        return self.feasible and self.ttft_s is not None

    @property
    def saturation(self) -> tuple[float, float]:
        """(decodes, iteration seconds) of one replica at capacity."""
        return self.saturation_batch, self.saturation_step_s

    @property
    def devices(self) -> int:
        """Accelerators the replicas occupy."""
        return self.replicas * self.tp

    @property
    def utilization(self) -> float | None:
        """The offered rate over the capacity (None for the saturated engine)."""
        if self.rate_rps is None or not self.capacity_rps:
            return None
        return self.rate_rps / self.capacity_rps

    def _require_feasible(self, what: str) -> None:
        if not self.feasible:
            raise InfeasibleError(
                f"{self.model} cannot be served on {self.system} (tp={self.tp}), so it has no "
                f"{what}",
                where="serve",
                why=(
                    f"each device holds {self.capacity_bytes * GB:.3g} GB, of which "
                    f"{self.memory_utilization:.0%} is usable; the weights take "
                    f"{self.weights_bytes * GB:.3g} GB and a full iteration's activations "
                    f"{self.activations_bytes * GB:.3g} GB, leaving no room for one "
                    f"sequence's KV cache"
                ),
                fix="shard with tp= on a node, use lower-precision weights, lower max_tokens, "
                "or stream the weights with offload='Host_PCIe5'",
            )

    def _require_stable(self, what: str) -> None:
        self._require_feasible(what)
        if self.ttft_s is None:
            offered = (
                "no rate was given"
                if self.rate_rps is None
                else (
                    f"{self.rate_rps:.4g} requests/s is at or above the capacity of "
                    f"{self.capacity_rps:.4g} requests/s, so the queue grows without bound"
                )
            )
            raise InfeasibleError(
                f"the served model has no steady-state {what}: {offered}",
                where="serve",
                fix="pass a rate below the capacity, add replicas or devices, or read "
                "capacity and tpot_at_capacity",
            )

    # -- Quantities ----------------------------------------------------------------------
    @property
    def capacity(self) -> Any:
        """Requests per second the system sustains (all replicas)."""
        self._require_feasible("capacity")
        return quantity(self.capacity_rps, 1.0, "request/s")

    @property
    def capacity_bound(self) -> Any:
        """Requests per second at the ideal roofline with every byte of memory for KV."""
        self._require_feasible("capacity")
        return quantity(self.capacity_bound_rps, 1.0, "request/s")

    @property
    def capacity_tokens(self) -> Any:
        """Output tokens per second at capacity (all replicas)."""
        self._require_feasible("capacity")
        return quantity(self.capacity_rps * self.output, 1.0, "token/s")

    @property
    def capacity_tokens_bound(self) -> Any:
        self._require_feasible("capacity")
        return quantity(self.capacity_bound_rps * self.output, 1.0, "token/s")

    @property
    def tpot_at_capacity(self) -> Any:
        """Time per output token of the saturated engine (ms)."""
        self._require_feasible("capacity")
        E = 1.0 if self.replica is None else self.replica.tokens_per_step
        return quantity(self.saturation_step_s / E, MS, "ms")

    @property
    def throughput(self) -> Any:
        """Output tokens per second served: the rate × output when stable, else capacity."""
        self._require_feasible("throughput")
        if self.stable and self.rate_rps is not None:
            return quantity(self.rate_rps * self.output, 1.0, "token/s")
        return self.capacity_tokens

    @property
    def tokens_per_second(self) -> Any:
        return self.throughput

    def _stable_q(self, value: float | None, what: str, scale: float, unit: str) -> Any:
        self._require_stable(what)
        assert value is not None
        return quantity(value, scale, unit)

    @property
    def ttft(self) -> Any:
        """Mean time to first token (ms)."""
        return self._stable_q(self.ttft_s, "time to first token", MS, "ms")

    @property
    def tpot(self) -> Any:
        """Mean time per output token (ms)."""
        return self._stable_q(self.tpot_s, "time per output token", MS, "ms")

    @property
    def latency(self) -> Any:
        """Mean end-to-end latency of a request (s)."""
        return self._stable_q(self.latency_s, "latency", 1.0, "s")

    @property
    def step(self) -> Any:
        """Mean iteration at the rate (ms)."""
        return self._stable_q(self.step_s, "iteration time", MS, "ms")

    def _pct(self, p: Percentiles | None, attr: str, what: str) -> Any:
        self._require_stable(what)
        assert p is not None
        return getattr(p, attr)

    @property
    def ttft_p50(self) -> Any:
        return self._pct(self.ttft_percentiles, "p50", "TTFT percentile")

    @property
    def ttft_p90(self) -> Any:
        return self._pct(self.ttft_percentiles, "p90", "TTFT percentile")

    @property
    def ttft_p99(self) -> Any:
        return self._pct(self.ttft_percentiles, "p99", "TTFT percentile")

    @property
    def tpot_p50(self) -> Any:
        return self._pct(self.tpot_percentiles, "p50", "TPOT percentile")

    @property
    def tpot_p90(self) -> Any:
        return self._pct(self.tpot_percentiles, "p90", "TPOT percentile")

    @property
    def tpot_p99(self) -> Any:
        return self._pct(self.tpot_percentiles, "p99", "TPOT percentile")

    @property
    def itl_p99(self) -> Any:
        """99th percentile of the gap between two tokens of a sequence (ms)."""
        return self._pct(self.itl_percentiles, "p99", "token-gap percentile")

    @property
    def latency_p99(self) -> Any:
        return self._pct(self.latency_percentiles, "p99", "latency percentile")

    @property
    def kv_budget(self) -> Any:
        """Device memory left for KV blocks (GB per device)."""
        return quantity(self.kv_budget_bytes, GB, "GB")

    @property
    def max_sequences(self) -> int:
        """Concurrent sequences the paged KV cache holds at the mean context (per replica)."""
        return int(self.kv_slots)

    @property
    def explanation(self) -> str:
        """Why the served model is bound, in words and numbers."""
        from mlsysim.solvers.serving.explain import explain_serving

        return explain_serving(self)

    # -- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (``mlsysim schema serve``)."""
        from mlsysim.solvers.serving.schemas import serve_document

        return serve_document(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        head = f"{self.model} on {self.replicas} × {self.system} (tp={self.tp})"
        if not self.feasible:
            return f"{head}: infeasible ({words(self.binding_wall)} [{self.binding_wall}])"
        cap = f"capacity {self.capacity_rps:.4g} requests/s"
        if not self.stable:
            wall = f"{words(self.binding_wall)} [{self.binding_wall}]"
            return f"{head}: saturated, {cap}, binding wall {wall}"
        assert self.ttft_s is not None and self.tpot_s is not None
        return (
            f"{head} at {self.rate_rps:.4g} requests/s: TTFT {self.ttft_s * MS:.3g} ms, TPOT "
            f"{self.tpot_s * MS:.3g} ms, {cap}, binding wall {words(self.binding_wall)} "
            f"[{self.binding_wall}]"
        )
