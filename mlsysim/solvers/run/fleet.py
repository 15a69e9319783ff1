"""Serving fleets: how many devices a demand needs at an SLO, and what they cost the planet.

``serving_fleet(model, hardware, qps=… | tokens_per_day=…, slo=…, duration=…, region=…)``
sizes a fleet from one device's serving capacity, then runs the devices for ``duration``
through :mod:`.footprint` (energy, carbon, water, money) and divides by the tokens served.

One device's capacity comes from :func:`device_capacity`, the only place the fleet asks a
solver anything: the serving model (:mod:`~mlsysim.solvers.serving.serve`: continuous batching with
chunked prefill over a paged KV cache), at the largest batch whose iterations meet the
time-per-output-token SLO.
"""

from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core.exceptions import ConfigError
from mlsysim.core.units import Q_, si
from mlsysim.solvers.base import BaseSolver
from mlsysim.solvers.run import footprint as FP
from mlsysim.solvers.run.explain import sustainability_sentence
from mlsysim.solvers.run.ledger import (
    CarbonPart,
    CostPart,
    EnergyPart,
    Figure,
    WaterPart,
    fmt,
    missing,
)
from mlsysim.solvers.run.result import part_schema
from mlsysim.workload.registry import Models

__all__ = ["FLEET_SCHEMA_VERSION", "Capacity", "FleetResult", "device_capacity", "serving_fleet"]

FLEET_SCHEMA_VERSION = "mlsysim.fleet/1"


@dataclass(frozen=True)
class Capacity:
    """What one device serves at the SLO: batch, time per output token, prefill, power.

    With tensor parallelism (``tp`` > 1) a replica spans ``tp`` devices: ``batch``, the
    times and ``requests_per_s`` are the replica's share per device (requests/s divided by
    ``tp``). ``limit`` says what stopped the batch from doubling again: ``"slo"`` (the next
    batch misses the time per token), ``"memory"`` (it does not fit) or ``"max_batch"``.
    """

    batch: int
    tpot_s: float
    ttft_s: float
    power_w: float
    requests_per_s: float
    source: str  # which solver answered
    tp: int = 1
    limit: str = "max_batch"


def device_capacity(
    model: Any,
    hw: Any,
    *,
    prompt: int,
    output: int,
    slo_s: float,
    precision: str | None,
    tp: int = 1,
    system: Any = None,
    max_batch: int | None = None,
) -> Capacity:
    """One device's serving capacity at a time-per-output-token SLO: the serving model
    (:func:`mlsysim.solvers.serving.serve.capacity_at_tpot`: continuous batching with chunked
    prefill, paged KV cache, the engine's default limits, at most ``max_batch`` sequences)
    lowered to the batch whose iterations meet the SLO. With ``tp`` > 1, a replica of ``tp``
    devices of ``system`` (through the distributed solver); its requests/s are per device."""
    serving = importlib.import_module("mlsysim.solvers.serving.serve")
    limits: dict[str, Any] = {} if max_batch is None else {"max_batch": max_batch}
    target = hw if tp == 1 else system
    rps, n, step_s, sat = serving.capacity_at_tpot(
        model, target, prompt=prompt, output=output, tpot=slo_s, precision=precision, tp=tp,
        **limits,
    )  # fmt: skip
    rep = sat.replica
    ttft_s = rep.steps.prefill(1, prompt)
    batch = max(1, math.floor(n))
    power = rep.steps.result("decode", batch, round(rep.context)).power_w
    n_star = sat.saturation[0]
    # "slo": the batch was lowered until the iterations met the SLO
    at_saturation = "memory" if sat.limit == "kv_cache" else "max_batch"
    limit = "slo" if n < n_star else at_saturation
    return Capacity(
        batch,
        step_s / rep.tokens_per_step,
        ttft_s,
        power or 0.0,
        rps / tp,
        "serving" if tp == 1 else "serving (distributed)",
        tp,
        limit,
    )


@dataclass(frozen=True)
class FleetResult:
    """A serving fleet sized for a demand; attributes are Quantities or parts of figures."""

    model: str
    hardware: str
    devices_n: int
    capacity: Capacity
    qps_v: float
    output_tokens: int
    duration_s: float
    energy: EnergyPart
    carbon: CarbonPart
    water: WaterPart
    cost: CostPart
    region: str
    basis: str
    warnings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()

    @property
    def devices(self) -> int:
        """Devices needed to serve the demand within the SLO."""
        return self.devices_n

    @property
    def tokens(self) -> Any:
        """Output tokens served over the duration."""
        return Q_(self.qps_v * self.output_tokens * self.duration_s, "token")

    def _per_mtok(self, fig: Figure, unit: str) -> Figure:
        mtok = self.qps_v * self.output_tokens * self.duration_s / 1e6
        if fig.value is None:
            return missing(f"{fig.name} per million tokens", unit, fig.missing)
        return Figure(
            f"{fig.name} per million tokens",
            fig.value / mtok,
            unit,
            f"{fmt(fig.value, fig.unit)} / {fmt(mtok, 'Mtok')}",
            fig.sources,
        )

    @property
    def energy_per_mtok(self) -> Any:
        """Facility energy per million output tokens (kWh)."""
        return self._per_mtok(self.energy.figures["total"], "kWh").quantity()

    @property
    def carbon_per_mtok(self) -> Any:
        """Total carbon (operational + embodied) per million output tokens (kgCO2e)."""
        return self._per_mtok(self.carbon.figures["total"], "kgCO2e").quantity()

    @property
    def operational_carbon_per_mtok(self) -> Any:
        """Operational carbon per million output tokens (kgCO2e)."""
        return self._per_mtok(self.carbon.figures["operational"], "kgCO2e").quantity()

    @property
    def water_per_mtok(self) -> Any:
        """Water per million output tokens (L)."""
        return self._per_mtok(self.water.figures["total"], "L").quantity()

    @property
    def cost_per_mtok(self) -> Any:
        """Cloud cost per million output tokens (USD)."""
        return self._per_mtok(self.cost.figures["cloud"], "USD").quantity()

    @property
    def explanation(self) -> str:
        """Sizing and sustainability in two sentences."""
        c = self.capacity
        return (
            f"serving: {self.devices_n} × {self.hardware}"
            + (f" ({self.devices_n // c.tp} replicas of tp={c.tp})" if c.tp > 1 else "")
            + f" at batch {c.batch} "
            f"({c.tpot_s * 1e3:.3g} ms per token, {c.requests_per_s:.3g} requests/s each)\n"
            f"sustainability: {sustainability_sentence(self.carbon, self.region)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (``mlsysim schema --kind fleet``)."""
        c = self.capacity
        per = {}
        for key, fig, unit in (
            ("energy", self.energy.figures["total"], "kWh"),
            ("carbon", self.carbon.figures["total"], "kgCO2e"),
            ("water", self.water.figures["total"], "L"),
            ("cost", self.cost.figures["cloud"], "USD"),
        ):
            per[key] = self._per_mtok(fig, unit).to_dict()
        return {
            "schema": FLEET_SCHEMA_VERSION,
            "schema_version": FLEET_SCHEMA_VERSION,
            "model": self.model,
            "hardware": self.hardware,
            "devices": self.devices_n,
            "qps": self.qps_v,
            "duration": {"value": self.duration_s / 86400, "unit": "d"},
            "capacity": {
                "batch": c.batch,
                "tpot_ms": c.tpot_s * 1e3,
                "ttft_ms": c.ttft_s * 1e3,
                "requests_per_s": c.requests_per_s,
                "solver": c.source,
                "tp": c.tp,
                "limit": c.limit,
            },
            "region": self.region,
            "carbon_basis": self.basis,
            "energy": self.energy.to_dict(),
            "carbon": self.carbon.to_dict(),
            "water": self.water.to_dict(),
            "cost": self.cost.to_dict(),
            "per_million_tokens": per,
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)


def fleet_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`FleetResult.to_dict`."""
    from mlsysim.solvers.run.result import figure_schema

    props: dict[str, Any] = {
        "schema": {"const": FLEET_SCHEMA_VERSION},
        "schema_version": {"const": FLEET_SCHEMA_VERSION},
        "model": {"type": "string"},
        "hardware": {"type": "string"},
        "devices": {"type": "integer", "minimum": 1},
        "qps": {"type": "number"},
        "duration": {"type": "object"},
        "capacity": {"type": "object"},
        "region": {"type": "string"},
        "carbon_basis": {"type": "string"},
        "energy": part_schema(["device_power", "overhead_power", "it", "pue", "total"]),
        "carbon": part_schema(["intensity", "operational", "embodied", "total"]),
        "water": part_schema(["on_site", "off_site", "total"]),
        "cost": part_schema(["cloud", "capex", "energy", "facility", "owned"]),
        "per_million_tokens": {"type": "object", "additionalProperties": figure_schema()},
        "assumptions": {"type": "array", "items": {"type": "string"}},
        "warnings": {"type": "array", "items": {"type": "string"}},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/fleet-1.json",
        "title": "mlsysim serving fleet result",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


class ServingFleetSolver(BaseSolver):
    """Devices needed for a serving demand at an SLO, and their energy, carbon, water, cost."""

    name = "serving_fleet"
    walls = ("serving", "sustainability", "capital")
    sources = ("patterson2021", "luccioni2023", "li2023water", "barroso2018")

    def solve(
        self,
        model: Any,
        hardware: Any,
        *,
        slo: Any,
        duration: Any,
        region: Any,
        qps: Any = None,
        tokens_per_day: Any = None,
        prompt: int = 512,
        output: int = 256,
        precision: str | None = None,
        datacenter: Any = None,
        pue: Any = None,
        carbon_intensity: Any = None,
        pricing: str = "on_demand",
        tp: int = 1,
        max_batch: int | None = None,
    ) -> FleetResult:
        spec = Models[model] if isinstance(model, str) else model
        hw, node, _ = FP.resolve_system(hardware)
        for name, v in (("tp", tp), ("max_batch", 1 if max_batch is None else max_batch)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(
                    f"{name} must be an integer ≥ 1, got {v!r}",
                    where="serving_fleet",
                    fix=f"pass {name}=1 or more",
                )
        if tp > 1 and node is None:
            raise ConfigError(
                f"tp={tp} needs a node: a bare {hw.id} is one device",
                where="serving_fleet",
                fix=f"pass a node or cluster of {hw.id}s as the hardware, or tp=1",
            )
        if (qps is None) == (tokens_per_day is None):
            raise ConfigError(
                "give exactly one of qps= or tokens_per_day=",
                where="serving_fleet",
                fix="e.g. qps=50 or tokens_per_day=1e9",
            )
        for name, v in (("prompt", prompt), ("output", output)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(
                    f"{name} must be an integer ≥ 1, got {v!r}",
                    where="serving_fleet",
                    fix=f"pass {name}=256 or similar",
                )
        if qps is not None:
            q = si(qps, "request_rate", "qps") if hasattr(qps, "units") else float(qps)
        else:
            tpd = (
                si(tokens_per_day, "token", "tokens_per_day")
                if hasattr(tokens_per_day, "units")
                else float(tokens_per_day)
            )
            q = tpd / 86400 / output
        if not q > 0:
            raise ConfigError(
                "the demand must be positive",
                where="serving_fleet",
                fix="pass qps= or tokens_per_day= above zero",
            )
        slo_s = si(slo, "time", "slo")
        t = si(duration, "time", "duration")
        for name, secs in (("slo", slo_s), ("duration", t)):
            if not secs > 0:
                raise ConfigError(
                    f"{name} must be a positive time",
                    where="serving_fleet",
                    fix=f"e.g. {name}=50 ms" if name == "slo" else "e.g. 30 day",
                )
        cap = device_capacity(
            spec,
            hw,
            prompt=prompt,
            output=output,
            slo_s=slo_s,
            precision=precision,
            tp=tp,
            system=hardware,
            max_batch=max_batch,
        )
        n = math.ceil(q / (cap.requests_per_s * tp)) * tp  # whole replicas of tp devices
        warnings: list[str] = []
        site = FP.resolve_site(region, datacenter, pue, carbon_intensity)
        overhead = FP.overhead_power(None, None, node, hw, warnings)
        energy, E_it, E_fac = FP.energy(
            n,
            t,
            cap.power_w,
            f"decode at batch {cap.batch} (utilisation model)",
            ("fan2007", hw.source_of("tdp")),
            overhead,
            site,
            unit="kWh",
        )
        emb = [
            FP.Embodied(
                hw.id,
                n,
                None if hw.embodied_carbon is None else si(hw.embodied_carbon, "carbon", "e"),
                hw.source_of("embodied_carbon"),
                f"{hw.id} hardware",
            )
        ]
        carbon = FP.carbon(E_fac, site, t, emb, unit="kgCO2e")
        water = FP.water(E_it, E_fac, site)
        cost = FP.cost(
            hw, node, n, t, E_fac, n * (cap.power_w + (overhead.value or 0.0)), site, pricing
        )
        assumptions = [
            f"devices run at their serving load for the whole duration; capacity "
            f"from the {cap.source} solver (decode context {prompt + output // 2})"
        ]
        return FleetResult(
            spec.id,
            hw.id,
            n,
            cap,
            q,
            output,
            t,
            energy,
            carbon,
            water,
            cost,
            site.grid.id,
            site.basis,
            tuple(warnings),
            tuple(assumptions + site.assumptions) + cost.assumptions,
        )


_SOLVER = ServingFleetSolver()


def serving_fleet(model: Any, hardware: Any, **kwargs: Any) -> FleetResult:
    """Devices needed to serve ``qps`` (or ``tokens_per_day``) within ``slo`` (time per output
    token), and the fleet's energy, carbon, water and cost per million tokens over ``duration``.

    Keywords: ``slo``, ``duration``, ``region`` (required); ``qps`` or ``tokens_per_day``;
    ``prompt``/``output`` tokens per request (512/256); ``precision``, ``datacenter``, ``pue``,
    ``carbon_intensity``, ``pricing``; ``tp`` (replicas of ``tp`` devices of a node) and
    ``max_batch`` (the largest batch the capacity search tries).
    """
    return _SOLVER.solve(model, hardware, **kwargs)
