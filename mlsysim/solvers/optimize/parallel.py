"""The parallelism search: the highest-throughput way to train a model on a cluster that fits.

``optimize_parallelism(model, system, devices=…, batch=…, seq_len=…)`` searches tensor (tp),
context (cp), pipeline (pp) with its schedule and model chunks, data (dp), expert (ep)
parallelism, ZeRO stage, micro-batch size, sequence parallelism (sp) and activation
recomputation, and returns a :class:`ParallelSearch`: ``.config`` (the keywords to pass to
:func:`mlsysim.solve`), ``.result`` (that solve), ``.alternatives`` (ranked), the predicted
``.throughput`` and ``.tflops_per_device``, and ``.explanation``. Any keyword of the step may
be fixed (``tp=8``), restricted to a few values in Python (``pp=(35, 21)``), or be a plan
option (``attention="unfused"``).

The space is cut by construction, never by sampling (``.counts`` says how much each rule cut):

1. **divisibility** — only degrees the solver accepts are generated: tp divides the heads
   (and divides or is a multiple of the KV heads), 2·cp divides the sequence, pp·chunks
   divides the layers (or the layers + 2), ep the experts and dp, tp·cp·pp·dp = devices, the
   batch splits into whole micro-batches, 1F1B has at least pp of them and the interleaved
   schedule a multiple of pp;
2. **symmetry** — settings the step cannot tell apart are generated once: ZeRO stages with a
   single data-parallel rank, sp with tp = 1, ``"1f1b"`` with several chunks (it is
   ``"interleaved"``), the schedule without a pipeline;
3. **dominance** — GPipe takes 1F1B's time and holds more activations, so it is generated only
   where 1F1B cannot run (fewer micro-batches than stages); recomputation only adds work, so
   each plan gets the least recomputation that fits (``none``, else ``selective``, else
   ``full``);
4. **memory** — before any timing, the weights, gradients and optimizer state per device
   (per layout and ZeRO stage) and then the activations per micro-batch plan are computed by
   the lowering's own memory functions (:func:`~mlsysim.workload.lowering.sharded.
   training_state_bytes`, :func:`~mlsysim.workload.lowering.sharded.training_activation_bytes`,
   the numbers ``solve`` reports), and whatever cannot fit is dropped.

Every survivor is solved by the distributed solver, in batches through one function
(:meth:`ParallelismOptimizer.evaluate`: a vectorized kernel can replace it), and ranked by
throughput (tokens per second; ties: less memory per device).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mlsysim.core.exceptions import ConfigError, MlsysimError
from mlsysim.solvers.base import BaseOptimizer
from mlsysim.solvers.distributed.solver import DistributedSolver
from mlsysim.solvers.optimize.bound import BranchAndBound
from mlsysim.solvers.optimize.parallel_bounds import sibling_bounds, throughput_bound
from mlsysim.solvers.optimize.parallel_space import (
    AXES,
    Config,
    ParallelContext,
    configurations,
    keywords,
)
from mlsysim.solvers.optimize.result import Candidate, Metric, Search

__all__ = [
    "AXES",
    "PARALLEL_METRICS",
    "ParallelSearch",
    "ParallelismOptimizer",
    "optimize_parallelism",
]

#: What every candidate reports (values in these units).
PARALLEL_METRICS = (
    Metric("throughput", "token/s", "max"),
    Metric("tflops_per_device", "TFLOP/s", "max", "model TFLOP/s per device"),
    Metric("hardware_tflops_per_device", "TFLOP/s", "max", "hardware TFLOP/s per device"),
    Metric("mfu", "", "max", "MFU"),
    Metric("step_time", "s", "min", "step time"),
    Metric("memory", "GB", "min", "memory per device"),
    Metric("bubble", "", "min", "bubble fraction"),
    Metric("communication", "s", "min", "exposed communication"),
)

#: Survivors solved per call of :meth:`ParallelismOptimizer.evaluate`.
_BATCH = 64


@dataclass(frozen=True)
class ParallelSearch(Search):
    """A parallelism search (see ``mlsysim.solvers.optimize.parallel``)."""

    @property
    def throughput(self) -> Any:
        """The winner's training throughput (token/s)."""
        return self.best.objectives["throughput"]

    @property
    def tflops_per_device(self) -> Any:
        """The winner's model TFLOP/s per device (PaLM's model FLOPs, recompute excluded)."""
        return self.best.objectives["tflops_per_device"]

    @property
    def hardware_tflops_per_device(self) -> Any:
        """The winner's hardware TFLOP/s per device (recomputation counted, as Megatron-LM
        reports)."""
        return self.best.objectives["hardware_tflops_per_device"]

    @property
    def mfu(self) -> float:
        """The winner's model FLOPs utilisation."""
        return float(self.best.values["mfu"] or 0.0)


class ParallelismOptimizer(BaseOptimizer):
    """The highest-throughput parallel plan that fits in memory (see the module doc).

    Subclass and override :meth:`space` (which configurations) or :meth:`evaluate` (how a
    batch of them is solved: a vectorized kernel can answer many at once) to change the
    search; the ranking, the explanation and the JSON form stay the same.
    """

    name = "parallelism"
    default_solver = DistributedSolver
    walls = ("memory_capacity", "compute", "communication", "memory_bandwidth")
    sources = ("narayanan2021", "korthikanti2022", "rajbhandari2020")

    # -- the space -----------------------------------------------------------------------
    def space(self, ctx: ParallelContext, counts: dict[str, int]) -> Iterator[Config]:
        """Every configuration worth solving, cut as the module doc says (counts updated;
        ``optimize.parallel_space.configurations``)."""
        return configurations(ctx, counts)

    # -- evaluation ----------------------------------------------------------------------
    def evaluate(self, ctx: ParallelContext, configs: Sequence[Config]) -> list[Any]:
        """Solve a batch of configurations (a result or the MlsysimError each raised)."""
        out: list[Any] = []
        solve = self.solver.solve
        for c in configs:
            kw = keywords(c)
            try:
                out.append(
                    solve(
                        ctx.spec,
                        ctx.system,
                        phase="training",
                        batch=ctx.batch,
                        seq_len=ctx.seq_len,
                        precision=ctx.precision,
                        devices=ctx.devices,
                        overlap=ctx.overlap,
                        **kw,
                        **ctx.options,
                    )
                )
            except MlsysimError as exc:
                out.append(exc)
        return out

    # -- the search ----------------------------------------------------------------------
    def optimize(
        self,
        model: Any,
        system: Any,
        *,
        devices: Any = None,
        batch: Any,
        seq_len: Any,
        precision: str | None = None,
        keep: int = 10,
        exhaustive: bool = False,
        progress: Callable[[int, int], None] | None = None,
        **fixed: Any,
    ) -> ParallelSearch:
        """Search (see the module doc). The best ``keep`` candidates are ranked exactly and
        hold their results; the others that fit are solved only while their throughput bound
        (:meth:`upper_bound`) can still reach the ``keep``-th best, unless ``exhaustive``.
        ``progress(done, total)`` is called after each batch of solves."""
        ctx = ParallelContext(model, system, devices, batch, seq_len, precision, fixed)
        counts = {
            "generated": 0,
            "pruned_by_state_memory": 0,
            "pruned_by_activation_memory": 0,
            "dominated": 0,
            "solved": 0,
            "feasible": 0,
        }
        survivors = list(self.space(ctx, counts))
        if counts["generated"] == 0:
            self._explain_empty(ctx)
        bound = self.upper_bound(ctx)
        learn, refine, group = self._groups(ctx, survivors)
        search = BranchAndBound(
            [bound(c) for c in survivors],
            lambda ids: self.evaluate(ctx, [survivors[i] for i in ids]),
            _throughput,
            keep=keep,
            exhaustive=exhaustive,
            group=group,
            learn=learn,
            refine=refine,
            progress=progress,
        )
        outcome = search.run()
        ranked: list[tuple[Candidate, int]] = []
        excluded: list[Candidate] = []
        results: dict[int, Any] = {}
        keepers = set(outcome.top)
        for i, r in outcome.solved:
            counts["solved"] += 1
            cand = _candidate(survivors[i], r)
            if not cand.feasible:
                excluded.append(cand)
                continue
            counts["feasible"] += 1
            ranked.append((cand, i))
            if i in keepers:
                results[i] = r
        counts["bounded"] = outcome.bounded
        notes = list(outcome.notes)
        if outcome.bounded:
            notes.append(
                f"{outcome.bounded} candidates that fit were not solved: their throughput bound "
                f"is below the {keep}th best, so the ranking is exact to rank {keep}"
            )
        ranked.sort(key=lambda cs: _rank_key(*cs), reverse=True)
        best = [_attach(c, results.get(seq), k < 2) for k, (c, seq) in enumerate(ranked)]
        inputs = {
            "model": ctx.spec.id,
            "system": ctx.view.id,
            "hardware": ctx.view.hardware.id,
            "devices": ctx.devices,
            "batch": ctx.batch,
            "seq_len": ctx.seq_len,
            "precision": precision,
            "fixed": {k: v for k, v in fixed.items()},
        }
        return ParallelSearch(
            "parallelism",
            "throughput",
            PARALLEL_METRICS,
            tuple(best),
            tuple(excluded),
            counts,
            inputs,
            tuple(notes),
            shown=("tflops_per_device", "mfu"),
            traded=("throughput", "memory", "bubble", "communication"),
        )

    def upper_bound(self, ctx: ParallelContext) -> Callable[[Config], float]:
        """An upper bound on each configuration's throughput that costs no solve: its slowest
        stage's GEMM work at the device's peak in the pipeline, communication and the
        optimizer left out, a 1 % margin for uneven shards, none with 2:4 sparsity
        (``optimize.parallel_bounds.throughput_bound`` gives the derivation)."""
        return throughput_bound(ctx)

    def _groups(
        self, ctx: ParallelContext, survivors: list[Config]
    ) -> tuple[Callable[[Any], Any], Callable[[Any, int], float], Callable[[int], Any]]:
        """Siblings whose micro-batch is the same work: (learn, refine, group) for the search
        (``optimize.parallel_bounds.sibling_bounds``)."""
        return sibling_bounds(ctx, survivors)

    def _explain_empty(self, ctx: ParallelContext) -> None:
        """No configuration satisfies the constraints: let the solver say why (it checks the
        fixed keywords), or say so."""
        kw: dict[str, Any] = {}
        for k, v in ctx.axes.items():
            if not isinstance(v, list | tuple | set | frozenset):
                kw[k] = v
        try:
            self.solver.solve(
                ctx.spec,
                ctx.system,
                phase="training",
                batch=ctx.batch,
                seq_len=ctx.seq_len,
                precision=ctx.precision,
                devices=ctx.devices,
                **kw,
                **ctx.options,
            )
        except MlsysimError as exc:
            raise ConfigError(
                "no parallel configuration satisfies the constraints",
                where="optimize_parallelism",
                why=str(exc),
                fix="change or drop the fixed keywords named above",
            ) from None
        raise ConfigError(
            "no parallel configuration satisfies the constraints",
            where="optimize_parallelism",
            why=f"{ctx.devices} devices, batch {ctx.batch} and the fixed keywords "
            f"{sorted(ctx.axes)} leave no plan whose degrees divide the model and the batch",
            fix="drop fixed keywords, or pass a batch divisible by more data-parallel degrees",
        )


def _candidate(c: Config, r: Any) -> Candidate:
    kw = keywords(c)
    if isinstance(r, MlsysimError):
        return Candidate(kw, {}, PARALLEL_METRICS, False, "", f"{type(r).__name__}: {r.what}")
    mem = r.memory.total_bytes * 1e-9
    if not r.feasible:
        return Candidate(
            kw,
            {"memory": mem},
            PARALLEL_METRICS,
            False,
            r.binding_wall,
            f"needs {mem:.4g} GB per device, more than {r.memory.capacity_bytes * 1e-9:.4g} GB",
        )
    t = r.step_time_s
    per_device = 1e-12 / (t * r.devices)
    values = {
        "throughput": r.tokens_per_step / t,
        "tflops_per_device": r.model_flops_per_step * per_device,
        "hardware_tflops_per_device": r.hardware_flops_per_step * per_device,
        "mfu": r.mfu,
        "step_time": t,
        "memory": mem,
        "bubble": r.bubble_fraction,
        "communication": r.communication.total_s,
    }
    return Candidate(kw, values, PARALLEL_METRICS, True, r.binding_wall)


def _throughput(r: Any) -> float | None:
    if isinstance(r, MlsysimError) or not r.feasible:
        return None
    return float(r.tokens_per_step / r.step_time_s)


def _rank_key(c: Candidate, seq: int) -> tuple[float, float, int]:
    """Higher is better: throughput, then less memory, then the earlier generated."""
    return (c.values["throughput"] or 0.0, -(c.values["memory"] or 0.0), -seq)


def _attach(c: Candidate, result: Any, explain: bool) -> Candidate:
    """Give one of the best few candidates its result (the top two their explanation)."""
    if result is None:
        return c
    return replace(c, result=result, why=result.explanation if explain else "")


_OPTIMIZER = ParallelismOptimizer()


def optimize_parallelism(
    model: Any,
    system: Any,
    *,
    devices: Any = None,
    batch: Any,
    seq_len: Any,
    precision: str | None = None,
    **fixed: Any,
) -> ParallelSearch:
    """The highest-throughput training configuration of ``model`` on ``devices`` of
    ``system`` that fits in memory: ``.config`` (keywords for ``solve``), ``.result``,
    ``.alternatives``, ``.throughput``, ``.tflops_per_device``, ``.explanation``.

    Any step keyword may be fixed (``tp=8``, ``recompute="full"``), restricted in Python
    (``pp=(21, 35)``), or be a plan option (``attention="unfused"``); ``keep`` (10) results
    are held for the best candidates; ``progress(done, total)`` reports long searches.
    """
    return _OPTIMIZER.optimize(
        model, system, devices=devices, batch=batch, seq_len=seq_len, precision=precision, **fixed
    )
