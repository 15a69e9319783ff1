"""The result of a training run: figures with derivations, walls, explanations and JSON.

:class:`RunResult` holds the step (tokens mode), the run's times, and one
:class:`~mlsysim.solvers.run.ledger.Part` each for reliability, energy, carbon, water and cost.
Its JSON form (:meth:`RunResult.to_dict`) is versioned by :data:`RUN_SCHEMA_VERSION` and
described by :func:`~mlsysim.solvers.run.result.run_json_schema` (``mlsysim schema --kind run``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core import formulas as F
from mlsysim.core.exceptions import MissingDataError
from mlsysim.core.units import Q_
from mlsysim.solvers.run.ledger import (
    CarbonPart,
    CheckpointIntervals,
    CostPart,
    EnergyPart,
    Figure,
    ReliabilityPart,
    WaterPart,
    fmt,
    missing,
)

__all__ = ["RUN_SCHEMA_VERSION", "RunResult", "reliability_part", "run_json_schema"]

#: Version of the run result's JSON form; bumped on any incompatible change.
RUN_SCHEMA_VERSION = "mlsysim.run/1"


def reliability_part(
    study: Any,
    units: int,
    M: float,
    size: float,
    shards: int,
    delta: float,
    d_der: str,
    d_src: tuple[str, ...],
    R: float,
    R_fig: Figure,
    checkpoint: Any,
) -> tuple[ReliabilityPart, float | None, float | None]:
    """Reliability figures, goodput and the fraction lost to failures (None: no useful work)."""
    per = "GPU" if study.per == "device" else "node"
    lam = study.total_rate_s()
    figs: dict[str, Figure] = {
        "mtbf": Figure(
            "job MTBF",
            M / 3600,
            "h",
            f"1/(n·Σλ) = 1/({fmt(units, '')} {per}s × {fmt(lam * 86400, f'/{per}-day')}) "
            f"({study.id})",
            ("oconnor2012", study.source),
        ),
        "checkpoint_size": Figure(
            "checkpoint size",
            size / 1e9,
            "GB",
            "params × (weight bytes + 12 B Adam state)",
            ("rajbhandari2020",),
        ),
        "checkpoint_shard": Figure(
            "checkpoint shard",
            size / shards / 1e9,
            "GB",
            f"S / {shards} writers",
            ("rajbhandari2020",),
        ),
        "checkpoint_time": Figure("checkpoint time", delta, "s", d_der, d_src),
        "restart_time": R_fig,
    }
    young = F.young_s(delta, M)
    daly = F.daly_s(delta, M)
    iv: dict[str, Figure] = {
        "young": Figure(
            "Young interval",
            young / 60,
            "min",
            f"√(2δM) = √(2 × {fmt(delta, 's')} × {fmt(M / 3600, 'h')})",
            ("young1974",),
        ),
        "daly": (
            Figure(
                "Daly interval",
                daly / 60,
                "min",
                "√(2δM)[1 + ⅓√(δ/2M) + (δ/2M)/9] − δ",
                ("daly2006",),
            )
            if daly is not None
            else missing(
                "Daly interval",
                "min",
                "δ ≥ 2M, where Daly's expansion diverges; "
                "Daly then checkpoints every M: make checkpoints faster",
            )
        ),
    }
    if checkpoint is None or checkpoint == "daly":
        tau, how = (daly, "Daly") if daly is not None else (M, "M (δ ≥ 2M)")
    elif checkpoint == "young":
        tau, how = young, "Young"
    elif isinstance(checkpoint, str):
        from mlsysim.core.exceptions import ConfigError

        raise ConfigError(
            f"checkpoint must be an interval, 'young' or 'daly', got {checkpoint!r}",
            where="training_run",
            fix="e.g. checkpoint=30 min",
        )
    else:
        from mlsysim.core.units import si

        tau, how = si(checkpoint, "time", "checkpoint"), "given"
        if not tau > 0:
            from mlsysim.core.exceptions import ConfigError

            raise ConfigError(
                f"checkpoint interval must be positive, got {checkpoint}",
                where="training_run",
                fix="e.g. checkpoint=30 min",
            )
    iv["used"] = Figure("checkpoint interval", tau / 60, "min", how, iv["young"].sources)
    G = F.goodput_s(tau, delta, M, R)
    loss = ((tau + delta) / 2.0 + R) / M
    if G is None:
        for k, name in (
            ("goodput", "goodput"),
            ("lost_to_failures", "lost to failures"),
            ("lost_to_checkpoints", "lost to checkpoints"),
        ):
            figs[k] = missing(
                name,
                "",
                "failures leave no useful work ((τ+δ)/2 + R ≥ M); "
                "checkpoint faster, restart faster or use fewer devices",
            )
        return ReliabilityPart(figs, CheckpointIntervals(iv)), None, None
    figs["goodput"] = Figure(
        "goodput",
        G,
        "",
        f"τ/(τ+δ)·(1 − ((τ+δ)/2 + R)/M) = {fmt(tau, 's')}/({fmt(tau, 's')} + "
        f"{fmt(delta, 's')}) × (1 − ({fmt((tau + delta) / 2, 's')} + {fmt(R, 's')}) / "
        f"{fmt(M, 's')})",
        ("young1974", "daly2006"),
    )
    figs["lost_to_failures"] = Figure(
        "lost to failures", loss, "", "((τ+δ)/2 + R)/M", ("daly2006",)
    )
    figs["lost_to_checkpoints"] = Figure(
        "lost to checkpoints",
        delta / (tau + delta) * (1.0 - loss),
        "",
        "δ/(τ+δ)·(1 − loss)",
        ("young1974",),
    )
    return ReliabilityPart(figs, CheckpointIntervals(iv)), G, loss


@dataclass(frozen=True)
class RunResult:
    """A training run. Public attributes are Quantities or parts of figures."""

    model: str
    system: str
    hardware: str
    devices: int
    nodes: int
    mode: str  # "tokens" (predicted) or "duration" (accounted)
    step: Any  # the step's solve result (tokens mode), else None
    tokens_n: float | None
    steps_n: int | None
    wall_s: float
    compute_s: float | None
    goodput_v: float | None
    loss_v: float | None
    reliability: ReliabilityPart
    energy: EnergyPart
    carbon: CarbonPart
    water: WaterPart
    cost: CostPart
    region: str
    basis: str
    warnings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()

    # -- times ------------------------------------------------------------------------------
    def _wall(self) -> float:
        if not math.isfinite(self.wall_s):
            raise MissingDataError(
                "the run never finishes: failures leave no useful work",
                why="the expected loss per failure reaches the MTBF",
                fix="checkpoint faster, restart faster or use fewer devices",
            )
        return self.wall_s

    @property
    def wall_time(self) -> Any:
        """Wall-clock time, including failures, restarts and checkpoint writes (days)."""
        return Q_(self._wall() / 86400, "d")

    @property
    def compute_time(self) -> Any:
        """Failure-free time of the steps (tokens mode) or the useful share of the wall time."""
        if self.compute_s is not None:
            return Q_(self.compute_s / 86400, "d")
        if self.goodput_v is None:
            raise MissingDataError(
                "the useful time is unknown",
                why="goodput is unknown",
                fix="see reliability.goodput",
            )
        return Q_(self._wall() * self.goodput_v / 86400, "d")

    @property
    def device_hours(self) -> Any:
        """Devices × wall time (what a cloud bills)."""
        return Q_(self.devices * self._wall() / 3600, "h")

    @property
    def steps(self) -> float:
        """Optimizer steps (tokens mode)."""
        if self.steps_n is None:
            raise MissingDataError(
                "steps are unknown in duration mode",
                why="the run was given by its wall time, not its tokens",
                fix="pass tokens= to predict the run step by step",
            )
        return float(self.steps_n)

    # -- walls and explanations --------------------------------------------------------------
    @property
    def binding_wall(self) -> str:
        """The wall that costs the run most: fragility, checkpoint or sustainability."""
        return self.walls()[0][0]

    def walls(self) -> list[tuple[str, str]]:
        """The run's walls, most binding first, each with one sentence."""
        from mlsysim.solvers.run.explain import run_walls

        return run_walls(self)

    @property
    def explanation(self) -> str:
        """Which walls dominate the run, in words and numbers."""
        return "\n".join(f"{w}: {text}" for w, text in self.walls())

    def derivation(self) -> str:
        """Every figure's derivation, part by part, then assumptions and warnings."""
        out: list[str] = []
        for name in ("reliability", "energy", "carbon", "water", "cost"):
            out.append(f"[{name}]")
            out += [f"  {line}" for line in getattr(self, name).lines()]
        out += [f"assumption: {a}" for a in self.assumptions]
        out += [f"warning: {w}" for w in self.warnings]
        return "\n".join(out)

    def __str__(self) -> str:
        head = f"{self.model} on {self.devices}× {self.hardware} ({self.system}), {self.mode} mode"
        try:
            head += f": {fmt(self._wall() / 86400, 'days')}"
        except MissingDataError:
            head += ": never finishes"
        return head

    # -- JSON -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (see :func:`~mlsysim.solvers.run.result.run_json_schema`)."""
        finite = math.isfinite(self.wall_s)
        wall = {"value": self.wall_s / 86400, "unit": "d"} if finite else None
        return {
            "schema": RUN_SCHEMA_VERSION,
            "schema_version": RUN_SCHEMA_VERSION,
            "model": self.model,
            "system": self.system,
            "hardware": self.hardware,
            "devices": self.devices,
            "nodes": self.nodes,
            "mode": self.mode,
            "region": self.region,
            "carbon_basis": self.basis,
            "tokens": self.tokens_n,
            "steps": self.steps_n,
            "step": None if self.step is None else self.step.to_dict(),
            "wall_time": wall,
            "device_hours": {"value": self.devices * self.wall_s / 3600, "unit": "h"}
            if finite
            else None,
            "binding_wall": self.binding_wall,
            "walls": [{"wall": w, "text": t} for w, t in self.walls()],
            "reliability": self.reliability.to_dict(),
            "energy": self.energy.to_dict(),
            "carbon": self.carbon.to_dict(),
            "water": self.water.to_dict(),
            "cost": self.cost.to_dict(),
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), **kwargs)


def figure_schema() -> dict[str, Any]:
    """JSON Schema of one figure."""
    return {
        "type": "object",
        "properties": {
            "value": {"type": ["number", "null"]},
            "unit": {"type": "string"},
            "derivation": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "string"}},
            "missing": {"type": ["string", "null"]},
        },
        "required": ["value", "unit", "derivation", "sources", "missing"],
        "additionalProperties": False,
    }


def part_schema(keys: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """JSON Schema of a part: one figure per key (plus ``extra`` properties)."""
    props: dict[str, Any] = {k: figure_schema() for k in keys}
    props.update(extra or {})
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def run_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`RunResult.to_dict`."""
    from mlsysim.solvers.distributed.results import distributed_json_schema
    from mlsysim.solvers.single_node.results import json_schema as step_schema

    q = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"value": {"type": "number"}, "unit": {"type": "string"}},
                "required": ["value", "unit"],
                "additionalProperties": False,
            },
            {"type": "null"},
        ]
    }
    rel = part_schema(
        [
            "mtbf",
            "checkpoint_size",
            "checkpoint_shard",
            "checkpoint_time",
            "restart_time",
            "goodput",
            "lost_to_failures",
            "lost_to_checkpoints",
            "interruptions",
        ],
        {"checkpoint_interval": part_schema(["young", "daly", "used"])},
    )
    props: dict[str, Any] = {
        "schema": {"const": RUN_SCHEMA_VERSION},
        "schema_version": {"const": RUN_SCHEMA_VERSION},
        "model": {"type": "string"},
        "system": {"type": "string"},
        "hardware": {"type": "string"},
        "devices": {"type": "integer", "minimum": 1},
        "nodes": {"type": "integer", "minimum": 1},
        "mode": {"enum": ["tokens", "duration"]},
        "region": {"type": "string"},
        "carbon_basis": {"type": "string"},
        "tokens": {"type": ["number", "null"]},
        "steps": {"type": ["integer", "null"]},
        # one device's step, or (tokens mode on several devices) a distributed one
        "step": {"oneOf": [step_schema(), distributed_json_schema(), {"type": "null"}]},
        "wall_time": q,
        "device_hours": q,
        "binding_wall": {"type": "string"},
        "walls": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"wall": {"type": "string"}, "text": {"type": "string"}},
                "required": ["wall", "text"],
                "additionalProperties": False,
            },
        },
        "reliability": rel,
        "energy": part_schema(["device_power", "overhead_power", "it", "pue", "total"]),
        "carbon": part_schema(["intensity", "operational", "embodied", "total"]),
        "water": part_schema(["on_site", "off_site", "total"]),
        "cost": part_schema(["cloud", "capex", "energy", "facility", "owned"]),
        "assumptions": {"type": "array", "items": {"type": "string"}},
        "warnings": {"type": "array", "items": {"type": "string"}},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/run-1.json",
        "title": "mlsysim training run result",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
