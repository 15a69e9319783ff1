"""Training runs: many steps of a solve, with failures, checkpoints, energy, carbon, water, cost.

``training_run(model, system, tokens=…)`` *predicts* a run: the step comes from
``mlsysim.solve(..., phase="training")`` (the distributed solver when ``devices`` > 1), the
failure-free compute time is steps × step time, and the wall time divides it by the goodput.
``training_run(model, system, duration=…)`` *accounts for* a run that happened: the wall time
is the one reported, and the rest follows from it. ``power`` (per device, everything the
report counts), ``pue`` and ``carbon_intensity`` override the data so that a paper's own
stated inputs can be reproduced.

Reliability (Young 1974; Daly 2006; Kokolis et al. 2024): component failure rates of a fleet
study (:mod:`mlsysim.infra.reliability`) give the job's MTBF ``M = 1/Σ nᵢλᵢ``; the checkpoint
(weights + optimizer state) written at the storage bandwidth takes δ; Young's and Daly's
intervals follow; goodput counts checkpoint writes, rework (half a segment per failure) and
restart time. Energy, carbon, water and money come from :mod:`.footprint`; the tokens, the step,
the failure study and the checkpoint's writers are resolved in :mod:`.inputs`.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core import formulas as F
from mlsysim.core.constants import (
    DEFAULT_OPTIMIZER,
    DEFAULT_PRECISION,
    DEFAULT_RECOMPUTE,
    bytes_per_element,
)
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.formulas.memory import optimizer_state_per_param_B
from mlsysim.core.units import from_si, si
from mlsysim.execution.parallel import PARALLEL_KEYWORDS
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers.base import BaseSolver
from mlsysim.solvers.run import footprint as FP
from mlsysim.solvers.run.inputs import (
    DEFAULT_STORAGE,
    checkpoint_shards,
    checkpoint_storage,
    failure_study,
    solve_step,
    spec_params,
    token_count,
)
from mlsysim.solvers.run.ledger import Figure, fmt, missing
from mlsysim.solvers.run.result import RunResult, reliability_part
from mlsysim.workload.registry import Models

__all__ = ["DEFAULT_STORAGE", "TrainingRunSolver", "training_run"]

#: the parallelism keywords of a run's step (``devices`` is the run's own argument)
_PARALLEL = tuple(k for k in PARALLEL_KEYWORDS if k != "devices")


class TrainingRunSolver(BaseSolver):
    """A training run from a step solve (or a reported duration) through failures and infra."""

    name = "training_run"
    walls = ("fragility", "checkpoint", "sustainability", "capital")
    sources = (
        "young1974",
        "daly2006",
        "kokolis2024reliability",
        "dubey2024llama3",
        "patterson2021",
        "luccioni2023",
        "barroso2018",
    )

    def solve(
        self,
        model: Any,
        system: Any,
        *,
        tokens: Any = None,
        duration: Any = None,
        devices: int | None = None,
        region: Any,
        datacenter: Any = None,
        checkpoint: Any = None,
        storage: Any = None,
        pue: Any = None,
        carbon_intensity: Any = None,
        power: Any = None,
        overhead_power: Any = None,
        utilization: Any = None,
        reliability: Any = None,
        restart_time: Any = None,
        checkpoint_time: Any = None,
        pricing: str = "on_demand",
        batch: int = 1,
        seq_len: int | None = None,
        precision: str | None = None,
        recompute: str = DEFAULT_RECOMPUTE,
        **parallelism: Any,
    ) -> RunResult:
        spec = Models[model] if isinstance(model, str) else model
        hw, node, cluster = FP.resolve_system(system)
        unknown = set(parallelism) - set(_PARALLEL)
        if unknown:
            raise ConfigError(
                f"training_run got unexpected keyword(s) {', '.join(sorted(unknown))}",
                where="training_run",
                fix="parallelism keywords: " + ", ".join(_PARALLEL),
            )
        if devices is None:
            if cluster is None and node is None:
                raise ConfigError(
                    "training_run needs devices= (how many accelerators run the job)",
                    where="training_run",
                    fix="pass devices=…, or a node or cluster as the system",
                )
            devices = cluster.accelerators if cluster is not None else node.accelerators
        if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
            raise ConfigError(
                f"devices must be an integer ≥ 1, got {devices!r}",
                where="training_run",
                fix="pass devices=1 or more",
            )
        if (tokens is None) == (duration is None):
            raise ConfigError(
                "give exactly one of tokens= (predict the run) or duration= (account for a "
                "run that happened)",
                where="training_run",
                fix="e.g. tokens=300e9 or duration=118 day",
            )
        warnings: list[str] = []
        assumptions: list[str] = []
        study = failure_study(reliability, hw, warnings)
        per_node = node.accelerators if node is not None else study.devices_per_node
        nodes = math.ceil(devices / per_node)

        # ---- the step (tokens mode) ---------------------------------------------------------
        step = None
        tokens_n = None
        compute_s = None
        if tokens is not None:
            tokens_n = token_count(tokens)
            step = solve_step(
                spec,
                system if devices > 1 else hw,
                devices,
                batch,
                seq_len,
                precision,
                recompute,
                parallelism,
            )
            step._require_feasible("step time")
            step_s = getattr(step, "step_time_s", None) or step.latency_s
            per_step = step.units_per_step
            steps = math.ceil(tokens_n / per_step)
            compute_s = steps * step_s
        else:
            t = si(duration, "time", "duration")
            steps = None
        # ---- per-device power ------------------------------------------------------------------
        tdp = si(hw.require("tdp"), "power", "tdp")
        P_src: tuple[str, ...]
        if power is not None:
            P_dev = si(power, "power", "power")
            P_der, P_src = f"{fmt(P_dev, 'W')} (given: everything the report counts)", ("user",)
        elif step is not None:
            P_dev = step.power_w
            P_der = f"utilisation model of the step (TDP {fmt(tdp, 'W')})"
            P_src = ("fan2007", hw.source_of("tdp"))
        else:
            u = 1.0 if utilization is None else float(utilization)
            if utilization is None:
                assumptions.append("duration mode: devices assumed busy at TDP (utilization=1)")
            facts = device_facts(hw)  # idle: the measured power_idle, else 1/6 of TDP
            f_idle = facts.idle_fraction
            P_dev = si(F.device_power(hw.tdp, u, f_idle), "power", "P")
            P_der = (
                f"TDP·(f_idle + (1 − f_idle)·u) = {fmt(tdp, 'W')} × ({f_idle:g} + "
                f"(1 − {f_idle:g}) × {u:g})"
            )
            P_src = ("fan2007", facts.idle_source, hw.source_of("tdp"))
        overhead = FP.overhead_power(power, overhead_power, node, hw, warnings)

        # ---- reliability ------------------------------------------------------------------------
        units = devices if study.per == "device" else nodes
        M = F.job_mtbf_s([study.total_rate_s()], [units])
        weights_fmt = precision or DEFAULT_PRECISION
        size = spec_params(spec) * (
            bytes_per_element(weights_fmt)
            + optimizer_state_per_param_B(DEFAULT_OPTIMIZER, weights_fmt)
        )
        shards = checkpoint_shards(devices, parallelism)
        d_src: tuple[str, ...]
        if checkpoint_time is not None:
            delta = si(checkpoint_time, "time", "checkpoint_time")
            d_der, d_src = "given", ("user",)
        else:
            st, bw, st_src = checkpoint_storage(storage, nodes, assumptions)
            delta = si(F.checkpoint_time(from_si(size, "B"), from_si(bw, "B/s")), "time", "δ")
            d_der = f"S/B = {fmt(size / 1e12, 'TB')} / {fmt(bw / 1e9, 'GB/s')} ({st})"
            d_src = ("mohan2021checkfreq", st_src)
        R = 0.0
        if restart_time is not None:
            R = si(restart_time, "time", "restart_time")
            R_fig = Figure("restart time", R / 60, "min", "given", ("user",))
        elif study.restart_time is not None:
            R = si(study.restart_time, "time", "restart_time")
            R_fig = Figure("restart time", R / 60, "min", f"{study.id}", (study.source,))
        else:
            R_fig = missing(
                "restart time",
                "min",
                f"{study.id} states no restart time; pass restart_time= (e.g. 10 min) to count it",
            )
            warnings.append(
                f"restart time unknown ({study.id} states none): goodput and wall "
                "time count checkpoints and rework only; pass restart_time="
            )
        rel, G, loss = reliability_part(
            study, units, M, size, shards, delta, d_der, d_src, R, R_fig, checkpoint
        )
        if tokens is not None:
            t = math.inf if G is None or compute_s is None else compute_s / G
        wall_known = math.isfinite(t)
        rel.figures["interruptions"] = (
            Figure(
                "interruptions",
                t / M,
                "",
                f"T/M = {fmt(t / 3600, 'h')} / {fmt(M / 3600, 'h')}",
                ("oconnor2012", study.source),
            )
            if wall_known
            else missing(
                "interruptions",
                "",
                "failures leave no useful work; checkpoint faster or use fewer devices",
            )
        )
        # ---- energy, carbon, water, cost -------------------------------------------------------
        site = FP.resolve_site(region, datacenter, pue, carbon_intensity)
        assumptions += site.assumptions
        seconds = t if wall_known else 0.0
        energy, E_it, E_fac = FP.energy(devices, seconds, P_dev, P_der, P_src, overhead, site)
        emb = [
            FP.Embodied(
                hw.id,
                devices,
                _grams(hw.embodied_carbon),
                hw.source_of("embodied_carbon"),
                f"{hw.id} hardware",
            )
        ]
        if node is not None:
            emb.append(
                FP.Embodied(
                    f"{node.id} (server without accelerators)",
                    nodes,
                    _grams(node.embodied_carbon),
                    node.source_of("embodied_carbon"),
                    f"{node.id} node",
                )
            )
        else:
            warnings.append(
                "system is a bare device: the servers' embodied carbon is not "
                "counted (pass a node such as 'DGX_A100' as the system)"
            )
        carbon = FP.carbon(E_fac, site, seconds, emb)
        water = FP.water(E_it, E_fac, site)
        cost = FP.cost(
            hw,
            node,
            devices,
            seconds,
            E_fac,
            devices * (P_dev + (overhead.value or 0.0)),
            site,
            pricing,
        )
        return RunResult(
            model=spec.id,
            system=(cluster or node or hw).id,
            hardware=hw.id,
            devices=devices,
            nodes=nodes,
            mode="tokens" if tokens is not None else "duration",
            step=step,
            tokens_n=tokens_n,
            steps_n=steps,
            wall_s=t,
            compute_s=compute_s,
            goodput_v=G,
            loss_v=loss,
            reliability=rel,
            energy=energy,
            carbon=carbon,
            water=water,
            cost=cost,
            region=site.grid.id,
            basis=site.basis,
            warnings=tuple(warnings + site.warnings),
            assumptions=tuple(assumptions) + cost.assumptions,
        )


def _grams(value: Any) -> float | None:
    return None if value is None else si(value, "carbon", "embodied_carbon")


_SOLVER = TrainingRunSolver()


def training_run(model: Any, system: Any, **kwargs: Any) -> RunResult:
    """A training run: ``tokens=`` to predict it, ``duration=`` to account for one that ran.

    Keywords: ``devices``, the parallelism of ``mlsysim.solve`` (``tp``, ``pp``, ``dp``, …,
    plus ``batch``, ``seq_len``, ``precision``, ``recompute``), ``region`` (a grid id),
    ``datacenter``, ``checkpoint`` (an interval, or ``"young"``/``"daly"``, the default),
    ``storage`` (an id or a bandwidth), ``checkpoint_time``, ``restart_time``,
    ``reliability`` (a failure-study id), ``pue``, ``carbon_intensity``, ``power`` (average
    per device, everything the report counts), ``overhead_power`` (host and network per
    device), ``utilization`` (duration mode), ``pricing`` (``"on_demand"``, …).
    """
    return _SOLVER.solve(model, system, **kwargs)
