"""Cloud applications: a training run stated by public estimates, and a serving demand.

The training part is ``mlsysim.training_run`` in its duration mode (the reported or estimated
wall time on the stated devices); the serving part is ``mlsysim.serving_fleet`` when the model
is in the registry and one device can serve it. A model too large for one device, or one the
registry cannot lower, leaves the serving figures unknown with the reason (and the smallest
replica its weights need), never a guess. Ledger figures are the run's and the fleet's own,
converted to the ledger's units; a figure of both parts is their sum, unknown if either is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core import formulas as F
from mlsysim.core.exceptions import MlsysimError
from mlsysim.core.units import Q_
from mlsysim.sim.figures import Evaluation, figure, fmt, source_of, unknown, value_text
from mlsysim.solvers.run.ledger import Figure

__all__ = ["CloudRun", "EstimatedModel", "evaluate_cloud"]

_DAY_S = 86400.0
_YEAR = Q_(365.0, "d")

# ledger figure <- (run or fleet part, figure key); the unit conversion follows UNITS
_FROM_RESULT: dict[tuple[str, str], tuple[str, str]] = {
    ("sustainability", "energy"): ("energy", "total"),
    ("sustainability", "carbon"): ("carbon", "operational"),
    ("sustainability", "embodied_carbon"): ("carbon", "embodied"),
    ("sustainability", "total_carbon"): ("carbon", "total"),
    ("sustainability", "water"): ("water", "total"),
    ("economics", "capex"): ("cost", "capex"),
    ("economics", "opex"): ("cost", "energy"),
    ("economics", "tco"): ("cost", "owned"),
    ("economics", "cloud_cost"): ("cost", "cloud"),
}


@dataclass(frozen=True)
class EstimatedModel:
    """A model known only by estimates (not in the model registry): its id and size."""

    id: str
    params: Any


@dataclass(frozen=True)
class CloudRun:
    """What the cloud evaluation needs from the choices and the data."""

    app: Any
    persona: Any
    units: int
    duration_days: float
    region: str
    datacenter: str | None
    part: str
    hardware: str | None  # overrides the training and serving hardware


def _convert(section: str, key: str, fig: Figure, label: str) -> Figure:
    if fig.value is None:
        return unknown(section, key, f"{label} {fig.name}", fig.missing, fig.sources)
    q = Q_(fig.value, fig.unit) if fig.unit else fig.value
    return figure(section, key, f"{label} {fig.name}", q, fig.derivation, fig.sources)


def _model(app: Any) -> Any:
    from mlsysim.workload.registry import Models

    spec = Models.get(app.workload.model)
    if spec is not None:
        return spec
    if app.training is not None:
        return EstimatedModel(app.workload.model, app.training.params)
    return None


def _training(run: CloudRun, ev: Evaluation) -> dict[tuple[str, str], Figure]:
    import mlsysim

    t = run.app.training
    hw = run.hardware or t.hardware
    region = t.region if run.region is None else run.region
    result = mlsysim.training_run(
        _model(run.app),
        hw,
        duration=t.duration,
        devices=t.devices,
        region=region,
        datacenter=run.datacenter or t.datacenter,
        tp=t.tp,
        pp=t.pp,
    )
    for a in result.assumptions:
        ev.assume(f"training: {a}")
    for w in result.warnings:
        ev.warn(f"training: {w}")
    out: dict[tuple[str, str], Figure] = {}
    for (section, key), (part, fkey) in _FROM_RESULT.items():
        out[section, key] = _convert(section, key, getattr(result, part).figures[fkey], "training")
    days = result.wall_s / _DAY_S
    p_src = (source_of(run.app, "training.duration"), source_of(run.app, "training.devices"))
    out["performance", "wall_time"] = figure(
        "performance", "wall_time", "training wall time", days, "as estimated", p_src
    )
    if t.tokens is not None:
        rate = t.tokens / Q_(result.wall_s, "s")
        out["performance", "training_throughput"] = figure(
            "performance",
            "training_throughput",
            "training throughput",
            rate,
            f"tokens / wall time = {t.tokens:~P} / {fmt(days, 'd')}",
            (source_of(run.app, "training.tokens"), *p_src),
        )
    energy = result.energy.figures["total"]
    if energy.value is not None:
        e_j = energy.value * 3.6e9  # MWh -> J
        out["sustainability", "average_power"] = figure(
            "sustainability",
            "average_power",
            "average facility power while training",
            Q_(e_j / result.wall_s, "W"),
            f"E / t = {value_text(energy)} / {fmt(days, 'd')}",
            energy.sources,
        )
    rel = result.reliability.figures
    m = rel["mtbf"]
    out["reliability", "mtbf"] = _convert("reliability", "mtbf", m, "training")
    if m.value is not None:
        mtbf = Q_(m.value, m.unit)
        out["reliability", "failures_per_year"] = figure(
            "reliability",
            "failures_per_year",
            "job failures per year of training",
            F.expected_failures(_YEAR, mtbf),
            f"T/M = 365 d / {value_text(m)}",
            m.sources,
        )
        r = rel["restart_time"]
        if r.value is None:
            out["reliability", "availability"] = unknown(
                "reliability", "availability", "job availability", r.missing
            )
        else:
            out["reliability", "availability"] = figure(
                "reliability",
                "availability",
                "job availability",
                F.availability(mtbf, Q_(r.value, r.unit)),
                f"M/(M + R) = {value_text(m)} / ({value_text(m)} + {value_text(r)})",
                (*m.sources, *r.sources),
            )
    ev.fleet["training"] = {"system": result.system, "devices": result.devices}
    return out


def _serving(run: CloudRun, ev: Evaluation) -> dict[tuple[str, str], Figure]:
    import mlsysim
    from mlsysim.hardware.registry import Hardware

    s = run.app.serving
    hw_id = run.hardware or s.hardware
    spec = _model(run.app)
    out: dict[tuple[str, str], Figure] = {}
    why = ""
    result = None
    if spec is None or isinstance(spec, EstimatedModel):
        why = f"{run.app.workload.model} is not in the model registry, so no solver can lower it"
    else:
        try:
            result = mlsysim.serving_fleet(
                spec,
                hw_id,
                qps=s.requests_per_day / _DAY_S,
                slo=s.slo,
                duration=Q_(run.duration_days, "d"),
                region=run.region,
                datacenter=run.datacenter,
                prompt=s.prompt_tokens or 512,
                output=s.output_tokens or 256,
            )
        except MlsysimError as exc:
            why = f"serving_fleet could not size the fleet: {exc.what}"
    if result is None:
        hw = Hardware.get(hw_id)
        if s.weights is not None and hw is not None:
            need = math.ceil(float((s.weights / hw.memory.capacity).to("").magnitude))
            out["performance", "min_devices_per_replica"] = figure(
                "performance",
                "min_devices_per_replica",
                "devices one replica's weights need",
                need,
                f"⌈weights / capacity⌉ = ⌈{s.weights:~P} / {hw.memory.capacity:~P}⌉",
                (source_of(run.app, "serving.weights"), hw.source_of("memory.capacity")),
            )
            if need > 1:
                why += (
                    f"; its weights need at least {need} × {hw.id} per replica, and serving_fleet "
                    "sizes fleets of single devices (a multi-device serving model is not in this "
                    "build)"
                )
        reason = why + "; evaluate part='training' for the training run alone"
        for section, key in _FROM_RESULT:
            out[section, key] = unknown(section, key, f"serving {key.replace('_', ' ')}", reason)
        out["performance", "latency"] = unknown("performance", "latency", "serving latency", reason)
        out["performance", "throughput"] = unknown(
            "performance", "throughput", "serving throughput", reason
        )
        out["economics", "cost_per_inference"] = unknown(
            "economics", "cost_per_inference", "cost per request", reason
        )
        ev.warn(f"serving: {why}")
        return out
    for a in result.assumptions:
        ev.assume(f"serving: {a}")
    for w in result.warnings:
        ev.warn(f"serving: {w}")
    for (section, key), (part, fkey) in _FROM_RESULT.items():
        out[section, key] = _convert(section, key, getattr(result, part).figures[fkey], "serving")
    cap = result.capacity
    out["performance", "latency"] = figure(
        "performance",
        "latency",
        "time per output token",
        Q_(cap.tpot_s, "s"),
        f"decode step at batch {cap.batch} on {hw_id} ({cap.source} solver)",
        ("williams2009",),
    )
    out["performance", "throughput"] = figure(
        "performance",
        "throughput",
        "requests per second served",
        result.qps_v,
        f"{s.requests_per_day:g} requests/day / 86,400 s on {result.devices} × {hw_id}",
        (source_of(run.app, "serving.requests_per_day"),),
    )
    owned = result.cost.figures["owned"]
    if owned.value is not None:
        n_req = result.qps_v * result.duration_s
        out["economics", "cost_per_inference"] = figure(
            "economics",
            "cost_per_inference",
            "cost per request",
            owned.value / n_req,
            f"owned cost / requests = {value_text(owned)} / {fmt(n_req, '')}",
            owned.sources,
        )
    ev.fleet["serving"] = {"hardware": hw_id, "devices": result.devices}
    return out


def _sum(section: str, key: str, parts: list[Figure]) -> Figure:
    gap = next((f for f in parts if f.value is None), None)
    name = key.replace("_", " ")
    if gap is not None:
        return unknown(section, key, name, f"{gap.name} is unknown; {gap.missing}")
    if len(parts) == 1:
        return parts[0]
    total = sum(f.value or 0.0 for f in parts)
    return Figure(
        name,
        total,
        parts[0].unit,
        " + ".join(f"{value_text(f)} ({f.name})" for f in parts),
        tuple(dict.fromkeys(s for f in parts for s in f.sources)),
    )


def evaluate_cloud(run: CloudRun, ev: Evaluation) -> None:
    """Fill ``ev`` with the figures of the training run, the serving fleet, or both."""
    app = run.app
    parts: list[dict[tuple[str, str], Figure]] = []
    if app.training is not None and run.part in ("both", "training"):
        parts.append(_training(run, ev))
    if app.serving is not None and run.part in ("both", "serving"):
        parts.append(_serving(run, ev))
    if not parts:
        from mlsysim.core.exceptions import ConfigError

        have = [p for p in ("training", "serving") if getattr(app, p) is not None]
        raise ConfigError(
            f"{app.id} has no {run.part} part",
            where="evaluate",
            fix=f"part= one of {', '.join(have)} or 'both'",
        )
    keys = list(dict.fromkeys(k for p in parts for k in p))
    summed = {
        k
        for k in keys
        if k[0] in ("sustainability", "economics") and k[1] not in ("average_power",)
    }
    for section, key in keys:
        figs = [p[section, key] for p in parts if (section, key) in p]
        if (section, key) in summed:
            # a total needs every part: a part without the figure makes the total unknown
            missing_parts = len(parts) - len(figs)
            fig = _sum(section, key, figs)
            if missing_parts and fig.value is not None:
                fig = unknown(section, key, key, f"one part gives no {key}")
            ev.put(section, key, fig)
        else:
            ev.put(section, key, figs[0] if len(figs) == 1 else figs[-1])
    _targets(run, ev)
    _per_unit(run, ev)
    ev.fleet.update({"units": run.units, "unit": run.persona.scale_unit})


def _targets(run: CloudRun, ev: Evaluation) -> None:
    P = "performance"
    w = run.app.workload
    figs = ev.figures[P]
    figs.setdefault("latency", unknown(P, "latency", "latency", "this part serves no requests"))
    figs.setdefault(
        "throughput", unknown(P, "throughput", "throughput", "this part serves no requests")
    )
    slo = run.app.serving.slo if run.app.serving is not None else w.latency_target
    if slo is not None:
        path = "serving.slo" if run.app.serving is not None else "workload.latency_target"
        figs["latency_target"] = figure(
            P, "latency_target", "latency objective", slo, run.app.id, (source_of(run.app, path),)
        )
    lat = figs["latency"]
    if lat.value is None or slo is None:
        figs["slo_met"] = unknown(P, "slo_met", "SLO met", "latency or objective unknown")
    else:
        ok = lat.value <= float(slo.to("ms").magnitude)
        figs["slo_met"] = figure(
            P,
            "slo_met",
            "SLO met",
            1.0 if ok else 0.0,
            f"{value_text(lat)} {'≤' if ok else '>'} {slo:~P}",
            lat.sources,
        )
    X = "economics"
    ev.figures[X].setdefault(
        "opex", unknown(X, "opex", "opex", "see tco: the run's owned cost holds energy")
    )
    ev.figures[X].setdefault(
        "cost_per_inference",
        unknown(X, "cost_per_inference", "cost per inference", "a training run serves none"),
    )
    R = "reliability"
    for key in ("mtbf", "availability", "failures_per_year"):
        ev.figures[R].setdefault(key, unknown(R, key, key, "no part states it"))
    S = "sustainability"
    ev.figures[S].setdefault(
        "average_power", unknown(S, "average_power", "average power", "no training part")
    )


def _per_unit(run: CloudRun, ev: Evaluation) -> None:
    power = ev.figures["sustainability"]["average_power"]
    unit = run.persona.scale_unit
    if power.value is not None:
        ev.per_unit["power"] = figure(
            "constraints",
            "power",
            f"facility power per {unit}",
            Q_(power.value / run.units, "W"),
            power.derivation,
            power.sources,
        )
    lat = ev.figures["performance"]["latency"]
    if lat.value is not None:
        ev.per_unit["latency"] = lat
    tco = ev.figures["economics"]["tco"]
    if tco.value is not None:
        years = max(run.duration_days / 365.0, 1e-9)
        ev.per_unit["cost"] = figure(
            "constraints",
            "cost",
            f"owned cost per {unit}-year",
            tco.value / run.units / years,
            f"{value_text(tco)} / {fmt(run.units, '')} {unit}s / {years:g} yr",
            tco.sources,
        )
