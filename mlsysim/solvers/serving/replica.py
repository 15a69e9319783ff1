"""The steady state of one serving replica under continuous batching, and its queues.

:class:`Replica` holds a replica's steps (:class:`~mlsysim.solvers.serving.steps.ReplicaSteps`), its
scheduler and limits; :meth:`Replica.saturation` is the most it sustains and
:meth:`Replica.operating` the Little's-law fixed point at a rate. :func:`latencies` adds the
queues — a KV slot (M/M/c, Erlang C) and the prefill server (M/D/1), both at the saturated
engine's speed, so the one whose limit binds has utilization λ/capacity — and the two-valued
token gaps, as means and quantiles; :func:`closed_loop_rate` is the rate at
which a fixed number of requests stays in flight. :mod:`.serve` composes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from mlsysim.core.formulas.queueing import (
    md1_wait_percentile_s,
    md1_wait_s,
    mmc_wait_percentile_s,
    mmc_wait_s,
)
from mlsysim.core.formulas.serving import speculative_tokens_n as spec_tokens
from mlsysim.solvers.serving.result import Percentiles
from mlsysim.solvers.serving.steps import ReplicaSteps

__all__ = ["QUANTILES", "Replica", "closed_loop_rate", "latencies"]

#: Quantiles reported unless asked otherwise.
QUANTILES = (0.5, 0.9, 0.99)
#: Relative width at which a bisection stops (far below any figure's precision).
_TOLERANCE = 1e-7
_NORMAL = NormalDist()


@dataclass
class Replica:
    """One replica's steps, memory and scheduler limits (floats)."""

    steps: ReplicaSteps
    draft: ReplicaSteps | None
    alpha: float
    gamma: int
    p: int
    o: int
    scheduler: str
    slots: float
    budget: float  # tokens per iteration (chunked)

    @property
    def context(self) -> float:
        """Mean context of a decoding sequence: the prompt and half the output."""
        return self.p + self.o / 2.0

    @property
    def tokens_per_step(self) -> float:
        """Output tokens a decoding sequence gains per iteration (> 1 with speculation)."""
        return 1.0 if self.draft is None else spec_tokens(self.alpha, float(self.gamma))

    def step(self, n: float, c: float) -> float:
        """Iteration time with ``n`` decodes and ``c`` prefill tokens (chunked)."""
        s = self.steps
        if self.draft is None:
            return s.mixed(n, self.context, c, self.p)
        k = self.gamma + 1.0
        t = s.mixed(n, self.context, c, self.p, k)
        t += self.gamma * self.draft.decode(n, self.context)
        if c > 0.0:
            t += self.draft.mixed(0.0, self.context, c, self.p)
        return t

    def decode_step(self, n: float) -> float:
        """A decode-only iteration (no prefill work)."""
        return self.step(n, 0.0)

    def prefill(self) -> float:
        """One prompt's whole prefill as its own iteration (prefill-first)."""
        t = self.steps.prefill(1, self.p)
        if self.draft is not None:
            t += self.draft.prefill(1, self.p)
        return t

    # -- steady state ----------------------------------------------------------------------
    def batch_limit(self) -> float:
        """The most decodes the slots and the token budget admit at once."""
        if self.scheduler == "chunked":
            return min(self.slots, self.budget / (1.0 + self.p * self.tokens_per_step / self.o))
        return self.slots

    def saturated_at(self, n: float) -> tuple[float, float]:
        """(iteration s, requests/s) of the engine kept full at ``n`` decodes."""
        E = self.tokens_per_step
        if self.scheduler == "chunked":
            T = self.step(n, n * self.p * E / self.o)
            return T, n * E / (self.o * T)
        T_d = self.decode_step(n)
        return T_d, 1.0 / (self.o / E * T_d / n + self.prefill())

    def saturation(self) -> tuple[float, float, float]:
        """(decodes n*, iteration T*, requests/s) at the most the replica sustains."""
        n = self.batch_limit()
        T, X = self.saturated_at(n)
        return n, T, X

    def peak_batch(self) -> float:
        """The batch, at most :meth:`batch_limit`, at which the full engine serves the most
        requests/s. Requests/s at ``n`` decodes is ``n/(o·T(n))``: between two GEMM tile
        boundaries the step grows only with the bytes it moves, so that rate never falls; one
        token past a boundary the GEMMs pad into another row of tiles (or another wave) and
        it can fall. An engine admits only what arrives, so below the best rate of any batch
        it can hold there is a stable operating point (Little's law): the capacity is the best
        rate over the batches it holds, taken at the limit or at the last whole batch before a
        boundary (slots are sequences)."""
        n_max = self.batch_limit()
        best_n, best_rate = n_max, self.saturated_at(n_max)[1]
        chunked = self.scheduler == "chunked"
        batches = sorted(
            {
                n
                for rows in self._rows_per_sequence()
                for b in self.steps.row_breaks(rows * n_max)
                if 0.0 < (n := float(math.floor(b / rows))) < n_max
            }
        )
        if not batches:
            return best_n
        # the step never shortens as the batch grows, so the last step timed bounds every larger
        # batch's from below: batch n serves at most n·E/(o·T) requests/s with chunked prefill,
        # 1/(o·T/(n·E) + prefill) prefill-first; a batch whose ceiling is no better is skipped
        prefill = 0.0 if chunked else self.prefill()
        T_low = 0.0
        for n in batches:
            if T_low > 0.0:
                per_step = n * self.tokens_per_step / (self.o * T_low)
                if 1.0 / (1.0 / per_step + prefill) <= best_rate:
                    continue
            T_low, rate = self.saturated_at(n)
            if rate > best_rate:
                best_n, best_rate = n, rate
        return best_n

    def _rows_per_sequence(self) -> tuple[float, ...]:
        """GEMM rows per decoding sequence in each group of GEMMs a full iteration launches:
        the target's (its decodes' tokens plus the prefill chunks they carry) and the draft's
        (its decodes, and its share of the prefill chunks)."""
        k = 1.0 if self.draft is None else self.gamma + 1.0
        if self.scheduler == "chunked":
            r = self.p * self.tokens_per_step / self.o
            return (k + r,) if self.draft is None else (k + r, 1.0, r)
        return (k,) if self.draft is None else (k, 1.0)

    def operating(self, lam: float) -> tuple[float, float, float]:
        """(decodes n, mean iteration T, prefill busy fraction) at λ below capacity."""
        E = self.tokens_per_step
        steps_per_request = self.o / E
        if self.scheduler == "chunked":

            def residual(T: float) -> float:
                return T - self.step(lam * steps_per_request * T, lam * self.p * T)

        else:
            t_p = self.prefill()
            u_p = lam * t_p

            def residual(T: float) -> float:
                return T - self.decode_step(lam * steps_per_request * T) / (1.0 - u_p)

        _, hi, _ = self.saturation()
        if self.scheduler != "chunked":
            hi = hi / (1.0 - lam * self.prefill())
        lo = 0.0
        if residual(hi) < 0.0:  # (numerically at capacity) the saturated iteration
            T = hi
        else:
            while hi - lo > _TOLERANCE * hi:
                mid = 0.5 * (lo + hi)
                if residual(mid) < 0.0:
                    lo = mid
                else:
                    hi = mid
            T = hi
        n = lam * steps_per_request * T
        if self.scheduler == "chunked":
            free = self.budget - n
            busy = min(1.0, lam * self.p * T / free) if free > 0 else 1.0
        else:
            busy = lam * self.prefill()
        return n, T, busy


def latencies(rep: Replica, lam: float, quantiles: tuple[float, ...]) -> dict[str, Any]:
    """TTFT, TPOT and token-gap means and quantiles at λ (per replica)."""
    n, T, busy = rep.operating(lam)
    # the queues' servers run at the saturated engine's speed (a queue forms when the engine
    # is full): their utilizations are fixed by λ and reach 1 only at the capacity X_s
    n_s, _, X_s = rep.saturation()
    E = rep.tokens_per_step
    o, p = rep.o, rep.p
    # the request's own prefill, and the queue ahead of it: iterations carry prefill chunks
    # (a share `pi` of them, each `chunk` tokens long) between decode-only iterations
    if rep.scheduler == "chunked":
        free = max(rep.budget - n, 1.0)
        c = lam * p * T  # prefill tokens per iteration on average
        chunk = min(free, max(float(p), c))
        t_busy = rep.step(n, chunk)
        t_idle = rep.decode_step(n)
        pi = min(1.0, c / chunk)
        D_p = _prefill_server(rep, n_s, X_s)
        own = max(t_busy, math.ceil(p / chunk) * t_busy)
    else:
        D_p = rep.prefill()
        own = D_p
        t_idle = rep.decode_step(n)
        t_busy = t_idle + D_p
        pi = min(1.0, lam * t_idle / max(1e-300, 1.0 - busy))
    stable_p = lam * D_p < 1.0
    residence = own + o / E * T
    # a KV slot is held for a saturated decode residence, n_s/X_s (Little's law at capacity):
    # ρ = λ/X_s when the slots bind, below 1 at capacity when the token budget binds
    slots = max(1, int(rep.slots))
    mu = X_s / min(n_s, float(slots))
    stable_s = lam < slots * mu
    w_slot = mmc_wait_s(lam, mu, slots) if stable_s else math.inf
    w_pre = md1_wait_s(lam, D_p) if stable_p else math.inf
    ttft_mean = T / 2.0 + w_slot + w_pre + own
    gap_mean = T / E
    sigma = math.sqrt(max(0.0, pi * (1.0 - pi))) * (t_busy - t_idle) / E
    gaps = max(1, round(o / E) - 1)
    ttft_q, tpot_q, itl_q, e2e_q = {}, {}, {}, {}
    for q in quantiles:
        ws = mmc_wait_percentile_s(lam, mu, slots, q) if stable_s else math.inf
        wp = md1_wait_percentile_s(lam, D_p, q) if stable_p else math.inf
        ttft_q[q] = q * T + ws + wp + own
        itl_q[q] = (t_busy if q > 1.0 - pi else t_idle) / E
        z = _NORMAL.inv_cdf(q)
        tpot_q[q] = max(t_idle / E, gap_mean + z * sigma / math.sqrt(gaps))
        e2e_q[q] = ttft_q[q] + (o - 1) * tpot_q[q]
    return {
        "concurrency": n,
        "step_s": T,
        "prefill_busy": pi,
        "slot_wait_s": w_slot,
        "prefill_wait_s": w_pre,
        "ttft_s": ttft_mean,
        "tpot_s": gap_mean,
        "latency_s": ttft_mean + (o - 1) * gap_mean,
        "ttft": Percentiles.of(ttft_q),
        "tpot": Percentiles.of(tpot_q),
        "itl": Percentiles.of(itl_q),
        "latency": Percentiles.of(e2e_q),
        "idle": math.exp(-lam * residence),
    }


def _prefill_server(rep: Replica, n_s: float, X_s: float) -> float:
    """Seconds of the chunked prefill server per prompt: full iterations of the saturated
    engine (``n_s`` decodes) filling the token budget they leave with prefill chunks.

    Its speed is the engine's, never the load's: sized by the mean prefill tokens an iteration
    carries, ρ = λ·D_p would be 1 by construction. When the token budget sets the capacity
    the chunks are the saturated ones and ρ = λ/X_s; when the slots bind first the chunks are
    larger and ρ < λ/X_s — at most 1/X_s, since the saturated iterations already keep up."""
    free = rep.budget - n_s
    if free <= 0.0:
        return 1.0 / X_s
    D_p = rep.p / free * rep.step(n_s, free)
    return min(D_p, 1.0 / X_s)


def closed_loop_rate(rep: Replica, clients: float, capacity: float) -> float:
    """The rate at which ``clients`` requests are always in flight (each client sends its
    next request when the last one ends): λ·latency(λ) = clients, by bisection below the
    capacity (Little's law on the closed loop)."""
    lo, hi = 0.0, capacity
    while hi - lo > _TOLERANCE * hi:
        mid = 0.5 * (lo + hi)
        point = latencies(rep, mid, (0.5, 0.9, 0.99))
        if mid * point["latency_s"] < clients:
            lo = mid
        else:
            hi = mid
    return lo
