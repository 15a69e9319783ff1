"""The placement search: which hardware and which region train a model at the least cost, time,
carbon, energy or water (carbon-aware placement).

``optimize_placement(model, ["DGX_A100", "DGX_H100"], regions=["Quebec", "Iowa", "Poland"],
tokens=1e12, devices=1024, batch=1024, seq_len=4096, objective="carbon")`` runs
:func:`mlsysim.training_run` for every system × region. Each system trains under its own
fastest parallel plan (:func:`~mlsysim.solvers.optimize.parallel.optimize_parallelism`,
once per system: the step does not depend on the region), unless ``parallelism=`` fixes one
(a dict of ``solve`` keywords). Regions default to every grid in the registry.

Objectives (each a figure of the run): ``"cost"`` (cloud rental at the registry's rate),
``"owned_cost"`` (capex, energy and facility), ``"time"`` (wall time with failures),
``"carbon"`` (operational + embodied), ``"operational_carbon"``, ``"energy"``, ``"water"``.
A figure the data cannot give (no cloud rate for a device, no embodied carbon, no water
intensity for a grid) excludes the candidate for that objective with the reason the run
states; it is never counted as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlsysim.core.exceptions import ConfigError, MlsysimError
from mlsysim.core.units import Q_
from mlsysim.infra.registry import Grids
from mlsysim.solvers.base import BaseOptimizer
from mlsysim.solvers.optimize.parallel import optimize_parallelism
from mlsysim.solvers.optimize.result import Candidate, Metric, Search, ranked_search
from mlsysim.solvers.run import footprint as FP
from mlsysim.solvers.run.training import TrainingRunSolver, training_run
from mlsysim.workload.registry import Models

__all__ = ["PLACEMENT_METRICS", "PlacementOptimizer", "optimize_placement"]

#: What every candidate reports: (metric, the run's part and figure).
PLACEMENT_METRICS = (
    Metric("cost", "USD", "min", "cloud cost"),
    Metric("owned_cost", "USD", "min", "owned cost"),
    Metric("time", "d", "min", "wall time"),
    Metric("carbon", "tCO2e", "min", "carbon"),
    Metric("operational_carbon", "tCO2e", "min", "operational carbon"),
    Metric("energy", "MWh", "min", "energy"),
    Metric("water", "L", "min", "water"),
)
_FIGURES = {
    "cost": ("cost", "cloud"),
    "owned_cost": ("cost", "owned"),
    "carbon": ("carbon", "total"),
    "operational_carbon": ("carbon", "operational"),
    "energy": ("energy", "total"),
    "water": ("water", "total"),
}


class PlacementOptimizer(BaseOptimizer):
    """The system and region that train a model at the least ``objective`` (module doc)."""

    name = "placement"
    default_solver = TrainingRunSolver
    walls = ("sustainability", "capital", "fragility", "checkpoint")
    sources = ("patterson2021", "luccioni2023", "barroso2018")

    def plan(
        self,
        spec: Any,
        system: Any,
        devices: int,
        batch: int,
        seq_len: int,
        precision: str | None,
        parallelism: dict[str, Any] | None,
    ) -> dict[str, Any] | str:
        """The parallel keywords a system trains under (or why none fits)."""
        if parallelism is not None:
            return dict(parallelism)
        try:
            search = optimize_parallelism(
                spec, system, devices=devices, batch=batch, seq_len=seq_len,
                precision=precision, keep=1,
            )  # fmt: skip
        except MlsysimError as exc:
            return f"{exc.what}" + (f": {exc.why}" if exc.why else "")
        if not search.feasible:
            return f"no parallel plan fits: {search.explanation.removeprefix('nothing feasible: ')}"
        return search.config

    def evaluate(self, spec: Any, system: Any, region: str, keywords: dict[str, Any]) -> Any:
        """The training run of one (system, region) (or the MlsysimError it raised)."""
        try:
            return training_run(spec, system, region=region, **keywords)
        except MlsysimError as exc:
            return exc

    def optimize(
        self,
        model: Any,
        systems: Any,
        *,
        regions: Sequence[str] | str | None = None,
        tokens: Any,
        devices: int | None = None,
        batch: int,
        seq_len: int,
        precision: str | None = None,
        objective: str = "cost",
        parallelism: dict[str, Any] | None = None,
        progress: Callable[[int, int], None] | None = None,
        **run_options: Any,
    ) -> Search:
        """Search (see the module doc); ``run_options`` go to :func:`mlsysim.training_run`
        (``datacenter``, ``pricing``, ``storage``, ``reliability``, …)."""
        spec = Models[model] if isinstance(model, str) else model
        systems = (
            [systems]
            if isinstance(systems, str) or not isinstance(systems, list | tuple)
            else systems
        )
        grids = (
            [regions] if isinstance(regions, str) else list(regions)
            if regions is not None else [g.id for g in Grids]
        )  # fmt: skip
        if not systems or not grids:
            raise ConfigError(
                "optimize_placement needs at least one system and one region",
                where="optimize_placement",
                fix="pass systems=['DGX_H100', …] and regions=['Quebec', …] (or leave regions "
                "out for every grid)",
            )
        evaluated: list[Candidate] = []
        total, done = len(systems) * len(grids), 0
        for system in systems:
            hw, node, cluster = FP.resolve_system(system)
            name = (cluster or node or hw).id
            n = devices if devices is not None else (cluster or node).accelerators if (
                cluster or node) else 1  # fmt: skip
            plan = self.plan(spec, system, n, batch, seq_len, precision, parallelism)
            for region in grids:
                done += 1
                config: dict[str, Any] = {"system": name, "region": region}
                if isinstance(plan, str):
                    evaluated.append(Candidate(config, {}, PLACEMENT_METRICS, False, "", plan))
                else:
                    kw = dict(plan)
                    kw.update(
                        tokens=tokens, devices=n, batch=batch, seq_len=seq_len,
                        precision=precision, **run_options,
                    )  # fmt: skip
                    run = self.evaluate(spec, system, region, kw)
                    evaluated.append(_candidate({**config, **plan}, run))
                if progress is not None:
                    progress(done, total)
        inputs = {
            "model": spec.id,
            "systems": [s if isinstance(s, str) else getattr(s, "id", str(s)) for s in systems],
            "regions": grids,
            "tokens": tokens if isinstance(tokens, int | float) else str(tokens),
            "devices": devices,
            "batch": batch,
            "seq_len": seq_len,
            "precision": precision,
        }
        return ranked_search(
            "placement",
            objective,
            PLACEMENT_METRICS,
            evaluated,
            inputs=inputs,
            shown=("time", "cost", "operational_carbon"),
            traded=tuple(m.name for m in PLACEMENT_METRICS),
            tie=("time", "operational_carbon"),
        )


def _candidate(config: dict[str, Any], run: Any) -> Candidate:
    if isinstance(run, MlsysimError):
        why = f"{run.what}" + (f": {run.why}" if run.why else "")
        return Candidate(config, {}, PLACEMENT_METRICS, False, "", why)
    values: dict[str, float | None] = {}
    unknown: dict[str, str] = {}
    units = {m.name: m.unit for m in PLACEMENT_METRICS}
    for name, (part, key) in _FIGURES.items():
        fig = getattr(run, part).figures[key]
        if fig.value is None:
            values[name], unknown[name] = None, fig.missing
        elif fig.unit == units[name]:
            values[name] = fig.value
        else:
            values[name] = float(Q_(fig.value, fig.unit).to(units[name]).magnitude)
    finite = run.wall_s != float("inf")
    values["time"] = run.wall_s / 86400 if finite else None
    if not finite:
        unknown["time"] = "failures leave no useful work: the run never finishes"
    wall = run.binding_wall
    why = f"{wall} binds the run; step: {run.step.binding_wall} binds" if run.step else wall
    return Candidate(config, values, PLACEMENT_METRICS, True, wall, "", why, run, unknown)


_OPTIMIZER = PlacementOptimizer()


def optimize_placement(model: Any, systems: Any, **kwargs: Any) -> Search:
    """The system and region (of ``regions``, default every grid) that train ``model`` on
    ``tokens`` at the least ``objective``: ``"cost"`` (default), ``"owned_cost"``, ``"time"``,
    ``"carbon"``, ``"operational_carbon"``, ``"energy"`` or ``"water"``.

    Keywords: ``tokens``, ``devices``, ``batch``, ``seq_len``, ``precision``,
    ``parallelism`` (a dict of ``solve`` keywords; default: each system's fastest plan), and
    :func:`mlsysim.training_run`'s (``datacenter``, ``pricing``, ``storage``, …).
    """
    return _OPTIMIZER.optimize(model, systems, **kwargs)
