"""Parallelism in the execution plan: how one workload is split over many devices.

A :class:`ParallelPlan` names the degrees of the five parallel dimensions and how the step is
scheduled (Narayanan et al. 2021; Korthikanti et al. 2022; Rajbhandari et al. 2020):

* ``tp`` — tensor parallelism, Megatron-style: attention heads and FFN columns split over
  ``tp`` devices, two all-reduces per layer in the forward pass and two in the backward;
  ``sp`` (sequence parallelism) turns each into a reduce-scatter plus an all-gather and
  splits the norm/dropout regions (and their activations) over the same devices;
* ``pp`` — pipeline parallelism: consecutive layers in ``pp`` stages, ``chunks`` model chunks
  per device for the interleaved schedule; ``schedule`` is ``"gpipe"``, ``"1f1b"`` or
  ``"interleaved"`` (1F1B with ``chunks`` ≥ 2; ``"1f1b"`` with ``chunks`` ≥ 2 means the same);
* ``dp`` — data parallelism, gradients reduced across replicas, overlapped with the backward
  pass when ``overlap``; ``zero`` 1–3 shards optimizer state, gradients and weights over the
  data-parallel group (ZeRO; stage 1 is Megatron's distributed optimizer, stage 3 is FSDP);
* ``cp`` — context parallelism: each sequence split over ``cp`` devices, keys and values
  exchanged around a ring in every attention layer;
* ``ep`` — expert parallelism: a MoE layer's experts split over ``ep`` devices carved out of
  the data-parallel (× context-parallel) group, tokens exchanged by all-to-all.

``microbatch`` is the micro-batch size in sequences; the global batch is split into
``batch / (dp · microbatch)`` micro-batches per step (gradient accumulation, and the pipeline's
micro-batches). ``tp_overlap`` is the fraction of tensor-parallel communication hidden behind
computation (0 by default: it sits on the critical path).

The plan holds plain numbers only; :meth:`ParallelPlan.check_model` checks it against a
model's shape and raises :class:`~mlsysim.core.exceptions.ConfigError` s that say what to
change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core.exceptions import ConfigError

__all__ = ["PARALLEL_KEYWORDS", "SCHEDULES", "ZERO_STAGES", "ParallelPlan", "divisors"]

#: The keywords of ``solve`` that describe a parallel step (a plan of this module); any of
#: them away from its default makes the step distributed.
PARALLEL_KEYWORDS = (
    "devices",
    "tp",
    "pp",
    "dp",
    "cp",
    "ep",
    "sp",
    "zero",
    "microbatch",
    "schedule",
    "chunks",
    "overlap",
)

#: Pipeline schedules (``"interleaved"`` is 1F1B with several model chunks per device).
SCHEDULES = ("gpipe", "1f1b", "interleaved")
#: ZeRO stages: 0 off, 1 optimizer state (distributed optimizer), 2 + gradients, 3 + weights.
ZERO_STAGES = (0, 1, 2, 3)

_WHERE = "solve"


def divisors(n: int, limit: int = 8) -> list[int]:
    """The first ``limit`` divisors of ``n`` greater than 1 (for did-you-mean suggestions)."""
    out = [d for d in range(2, n + 1) if n % d == 0]
    return out[:limit]


def _degree(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"{name} must be an integer ≥ 1, got {value!r}",
            where=_WHERE,
            fix=f"pass {name}=1 (no {name.upper()} parallelism) or a larger integer",
        )
    return value


def _plain(p: ParallelPlan) -> bool:
    """Whether ``p`` passes every check of :meth:`ParallelPlan.__post_init__` without
    running them one by one: whole degrees ≥ 1, a boolean ``sp``, a ZeRO stage, one model
    chunk under 1F1B or GPipe and an overlap fraction in [0, 1]. False says nothing: the
    checks then decide (and say what is wrong)."""
    tp, pp, dp, cp, ep, mb, t = p.tp, p.pp, p.dp, p.cp, p.ep, p.microbatch, p.tp_overlap
    return (
        type(tp) is int
        and type(pp) is int
        and type(dp) is int
        and type(cp) is int
        and type(ep) is int
        and type(mb) is int
        and p.chunks == 1
        and type(p.chunks) is int
        and min(tp, pp, dp, cp, ep, mb) >= 1
        and type(p.sp) is bool
        and type(p.zero) is int
        and 0 <= p.zero <= 3
        and (p.schedule == "1f1b" or p.schedule == "gpipe")
        and type(t) is float
        and 0.0 <= t <= 1.0
    )


@dataclass(frozen=True, slots=True)
class ParallelPlan:
    """Parallel degrees and schedule of one distributed step (hashable: a cache key)."""

    tp: int = 1
    pp: int = 1
    dp: int = 1
    cp: int = 1
    ep: int = 1
    sp: bool = False
    zero: int = 0
    microbatch: int = 1
    schedule: str = "1f1b"
    chunks: int = 1
    overlap: bool = True
    tp_overlap: float = 0.0

    def __post_init__(self) -> None:
        if _plain(self):  # the common case, every check below passing (a sufficient test)
            return
        for name in ("tp", "pp", "dp", "cp", "ep", "microbatch", "chunks"):
            _degree(name, getattr(self, name))
        if not isinstance(self.sp, bool):
            raise ConfigError(
                f"sp must be True or False, got {self.sp!r}",
                where=_WHERE,
                fix="pass sp=True for sequence parallelism (with tp > 1) or sp=False",
            )
        if isinstance(self.zero, bool) or self.zero not in ZERO_STAGES:
            raise ConfigError(
                f"zero must be a ZeRO stage 0, 1, 2 or 3, got {self.zero!r}",
                where=_WHERE,
                why="1 shards optimizer state (Megatron's distributed optimizer), 2 also "
                "gradients, 3 also weights (FSDP)",
                fix="pass zero=0 (off), 1, 2 or 3",
            )
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"unknown pipeline schedule {self.schedule!r}",
                where=_WHERE,
                why=f"schedules: {', '.join(SCHEDULES)}",
                fix="pass schedule='1f1b' (default), 'gpipe' or 'interleaved' (with chunks ≥ 2)",
            )
        if self.schedule == "interleaved" and self.chunks < 2:
            raise ConfigError(
                "the interleaved schedule needs at least 2 model chunks per device",
                where=_WHERE,
                fix="pass chunks=2 or more with schedule='interleaved', or use schedule='1f1b'",
            )
        if self.schedule == "gpipe" and self.chunks > 1:
            raise ConfigError(
                f"GPipe has one model chunk per device, got chunks={self.chunks}",
                where=_WHERE,
                fix="pass schedule='interleaved' (or '1f1b') to use several chunks per device",
            )
        if self.chunks > 1 and self.pp == 1:
            raise ConfigError(
                f"chunks={self.chunks} needs pipeline parallelism (pp > 1)",
                where=_WHERE,
                fix="pass pp ≥ 2 with chunks, or chunks=1",
            )
        t = self.tp_overlap
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0.0 <= t <= 1.0:
            raise ConfigError(
                f"the tensor-parallel overlap fraction must be in [0, 1], got {t!r}",
                where=_WHERE,
                fix="pass overlap=True/False, or a fraction such as overlap=0.5 (half of the "
                "tensor-parallel communication hidden behind computation)",
            )

    @property
    def devices(self) -> int:
        """Devices of the plan: tp · pp · cp · dp."""
        return self.tp * self.pp * self.cp * self.dp

    @property
    def interleave(self) -> int:
        """Model chunks per device (v of the interleaved bubble (p−1)/(v·m))."""
        return self.chunks

    @property
    def effective_schedule(self) -> str:
        """``"interleaved"`` whenever there are several chunks per device."""
        return "interleaved" if self.chunks > 1 else self.schedule

    @property
    def model_parallel(self) -> int:
        """Devices one model replica is split over: tp · pp · cp."""
        return self.tp * self.pp * self.cp

    def microbatches(self, batch: int) -> int:
        """Micro-batches per step, ``batch / (dp · microbatch)``; a ConfigError if not whole."""
        per_replica = self.dp * self.microbatch
        if batch % per_replica:
            lo = max(per_replica, batch // per_replica * per_replica)
            raise ConfigError(
                f"batch {batch} does not split into dp={self.dp} replicas of micro-batches of "
                f"{self.microbatch}",
                where=_WHERE,
                why="batch is the global batch in sequences: each replica runs "
                "batch / (dp · microbatch) whole micro-batches",
                fix=f"pass a batch that is a multiple of dp·microbatch = {per_replica} "
                f"(e.g. {lo}), or change microbatch",
            )
        return batch // per_replica

    def stage_layers(self, layers: int) -> tuple[int, int, int]:
        """Layers on the (first, middle, last) pipeline device.

        Stages hold L/(p·v) layers per chunk; when p·v divides L + 2 instead, the embedding and
        the loss each take a layer's place, so the first and the last stage hold one fewer
        (Dubey et al. 2024, §3.3.2: 126 layers over 16 stages; Megatron-Core's
        account-for-embedding/loss pipeline split).
        """
        if self.pp == 1:
            return layers, layers, layers
        stages = self.pp * self.chunks
        if layers % stages == 0:
            middle = layers // stages * self.chunks
            return middle, middle, middle
        middle = (layers + 2) // stages * self.chunks
        return middle - 1, middle, middle - 1

    def check_model(
        self,
        model: str,
        *,
        heads: int,
        kv_heads: int,
        layers: int,
        experts: int,
        seq_len: int,
        microbatches: int,
        training: bool,
    ) -> None:
        """Check the plan against a transformer's shape (raises ConfigError)."""
        tp, pp, v = self.tp, self.pp, self.chunks
        if heads % tp:
            raise ConfigError(
                f"{model} has {heads} attention heads, which tp={tp} does not divide",
                where=_WHERE,
                why="tensor parallelism gives each device a whole number of heads",
                fix=f"pass tp dividing {heads}: {', '.join(map(str, divisors(heads)))}",
            )
        if kv_heads % tp and tp % kv_heads:
            raise ConfigError(
                f"{model} has {kv_heads} key/value heads; tp={tp} neither divides them nor "
                f"is a multiple of them",
                where=_WHERE,
                fix=f"pass tp dividing {kv_heads} or a multiple of it (KV heads are then "
                "replicated)",
            )
        stages = pp * v
        if layers % stages and (layers + 2) % stages:
            fits = [d for d in divisors(layers, 40) if d <= 4 * pp] or divisors(layers)
            raise ConfigError(
                f"{model} has {layers} layers, which do not split evenly over pp·chunks = "
                f"{pp}·{v} = {stages} pipeline stages",
                where=_WHERE,
                why="each stage (and model chunk) holds a whole number of layers; only the "
                "first and the last may give one layer's place to the embedding and to the "
                "loss (layers + 2 divisible, as Llama 3 405B's 126 layers on 16 stages)",
                fix=f"pass pp·chunks dividing {layers} (e.g. {', '.join(map(str, fits[:8]))})"
                + (f" or {layers + 2}" if layers > 2 else ""),
            )
        if self.ep > 1:
            if experts <= 1:
                raise ConfigError(
                    f"{model} is a dense model: expert parallelism (ep={self.ep}) needs MoE "
                    "experts",
                    where=_WHERE,
                    fix="pass ep=1",
                )
            if self.ep > experts or experts % self.ep:
                raise ConfigError(
                    f"{model} has {experts} experts per MoE layer, which ep={self.ep} does "
                    "not divide",
                    where=_WHERE,
                    why="each device holds a whole number of experts",
                    fix=f"pass ep dividing {experts}: {', '.join(map(str, divisors(experts)))}",
                )
            if (self.dp * self.cp) % self.ep:
                raise ConfigError(
                    f"ep={self.ep} must divide dp·cp = {self.dp}·{self.cp}",
                    where=_WHERE,
                    why="expert-parallel groups are carved out of the data-parallel "
                    "(× context-parallel) replicas",
                    fix="pass ep dividing dp·cp, or raise dp",
                )
        if self.cp > 1 and seq_len % (2 * self.cp):
            raise ConfigError(
                f"seq_len {seq_len} does not split into 2·cp = {2 * self.cp} chunks",
                where=_WHERE,
                why="context parallelism balances causal attention with 2·cp sequence chunks",
                fix=f"pass a seq_len that is a multiple of {2 * self.cp}, or change cp",
            )
        if self.sp and tp > 1 and seq_len % tp:
            raise ConfigError(
                f"seq_len {seq_len} is not divisible by tp={tp} for sequence parallelism",
                where=_WHERE,
                fix=f"pass a seq_len that is a multiple of {tp}, or sp=False",
            )
        if training and pp > 1:
            m = microbatches
            sched = self.effective_schedule
            if sched != "gpipe" and m < pp:
                raise ConfigError(
                    f"{m} micro-batches per step are fewer than pp={pp} stages under {sched}",
                    where=_WHERE,
                    why="1F1B needs at least one micro-batch per stage to fill the pipeline",
                    fix=f"raise batch or lower microbatch so that batch / (dp·microbatch) ≥ "
                    f"{pp}, or use schedule='gpipe'",
                )
            if sched == "interleaved" and m % pp:
                raise ConfigError(
                    f"the interleaved schedule needs micro-batches in multiples of pp={pp}, "
                    f"got {m}",
                    where=_WHERE,
                    fix=f"pass a batch giving a multiple of {pp} micro-batches per replica",
                )
