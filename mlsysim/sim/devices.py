"""Device fleets: an application's model running on a duty cycle on every device of a fleet.

For one device, the single-device solver (``mlsysim.solve``) times the workload and says
whether it fits in memory; where the solver cannot time it (a registry entry lacks a figure
it needs), the application's published measurement on that deployment stands in, and says
so. The device is active for rate × latency of its time and idle otherwise
(:func:`~mlsysim.core.formulas.duty_cycle_power`); a unit that is switched off part of the
day (a parked vehicle) duty-cycles again at that scale. The fleet's energy, carbon, water,
money and failures follow through the formulas, with every input's source.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core import formulas as F
from mlsysim.core.exceptions import MlsysimError
from mlsysim.core.units import Q_
from mlsysim.hardware.facts import device_facts
from mlsysim.sim.device_accounts import (
    DeviceRun,
    fleet_economics,
    fleet_footprint,
    fleet_reliability,
)
from mlsysim.sim.figures import Evaluation, figure, fmt, source_of, unknown, value_text, watts

__all__ = ["DeviceRun", "evaluate_devices"]

_DAY_S = 86400.0


def _solve(run: DeviceRun, ev: Evaluation) -> Any:
    """The solver's result for one inference, or None (the reason is recorded)."""
    import mlsysim

    w = run.app.workload
    if run.hw.memory.bandwidth is None:
        ev.warn(
            f"the single-device solver cannot time {run.model.id} on {run.hw.id}: the registry "
            f"gives no memory bandwidth for {run.hw.id} (its datasheet states none)"
        )
        return None
    try:
        r = mlsysim.solve(
            run.model,
            run.hw,
            phase=w.phase,
            batch=run.batch,
            seq_len=w.seq_len,
            precision=run.precision,
        )
    except MlsysimError as exc:
        ev.warn(f"the single-device solver cannot time {run.model.id} on {run.hw.id}: {exc.what}")
        return None
    if not r.feasible:
        m = r.memory
        ev.warn(
            f"{run.model.id} does not fit on {run.hw.id}: it needs {fmt(m.total_bytes / 1e6, 'MB')}"
            f" of {fmt(m.capacity_bytes / 1e6, 'MB')} (memory capacity wall)"
        )
    return r


def _latency(run: DeviceRun, r: Any, ev: Evaluation) -> tuple[float | None, str, tuple[str, ...]]:
    dep = run.app.deployment
    if r is not None and r.feasible:
        return (
            r.latency_s,
            f"solve({run.model.id}, {run.hw.id}) ({r.binding_wall} wall)",
            (
                "williams2009",
                run.hw.source,
            ),
        )
    if r is not None:  # does not fit: no latency, whatever was measured elsewhere
        why = f"{run.model.id} does not fit in {run.hw.id}'s memory; use larger hardware"
        return None, why, ()
    if run.on_default_hardware and dep.measured_latency is not None:
        t = float(dep.measured_latency.to("s").magnitude)
        ev.assume(
            f"latency is the published measurement on {run.hw.id} "
            f"({fmt(t * 1e3, 'ms')}): the solver cannot time this device"
        )
        return t, f"measured on {run.hw.id}", (source_of(run.app, "deployment.measured_latency"),)
    return (
        None,
        (
            f"the solver cannot time {run.model.id} on {run.hw.id} and no measurement is given; "
            f"add the missing hardware figure or deployment.measured_latency to {run.app.id}"
        ),
        (),
    )


def _rate(run: DeviceRun) -> tuple[float, str, tuple[str, ...]]:
    w = run.app.workload
    if w.rate is not None:
        r = float(w.rate.to("1/s").magnitude)
        return r, f"{fmt(r, '/s')} ({run.app.id} workload)", (source_of(run.app, "workload.rate"),)
    if w.events_per_day is not None and w.inferences_per_event is not None:
        r = w.events_per_day * w.inferences_per_event / _DAY_S
        der = (
            f"{w.events_per_day:g} events/day × {w.inferences_per_event:g} inferences/event "
            f"/ 86,400 s"
        )
        return (
            r,
            der,
            (
                source_of(run.app, "workload.events_per_day"),
                source_of(run.app, "workload.inferences_per_event"),
            ),
        )
    return 0.0, "no rate given", ()


_State = tuple[float | None, str, tuple[str, ...]]


def _power_states(run: DeviceRun, r: Any, ev: Evaluation) -> tuple[_State, _State]:
    dep = run.app.deployment
    hw = run.hw
    active: _State
    idle: _State
    if run.on_default_hardware and dep.active_power is not None:
        active = (
            float(dep.active_power.to("W").magnitude),
            f"measured active power on {hw.id}",
            (source_of(run.app, "deployment.active_power"),),
        )
    elif r is not None and r.power_w is not None and r.feasible:
        active = (
            r.power_w,
            f"solver utilisation power model of {hw.id} (TDP {hw.tdp:~P})",
            ("fan2007", hw.source_of("tdp")),
        )
    else:
        active = (
            None,
            f"{hw.id} has no tdp in the registry and {run.app.id} gives no active_power for it; "
            f"add tdp to the {hw.id} entry or deployment.active_power to {run.app.id}",
            (),
        )
    if run.on_default_hardware and dep.idle_power is not None:
        idle = (
            float(dep.idle_power.to("W").magnitude),
            f"idle power on {hw.id}",
            (source_of(run.app, "deployment.idle_power"),),
        )
    elif hw.tdp is not None:
        # the solvers' idle model: a measured power_idle, else the sourced fraction of TDP
        # (power_min is the lowest configurable power limit, not idle power)
        facts = device_facts(hw)
        idle = (
            facts.idle_fraction * float(hw.tdp.to("W").magnitude),
            f"{hw.id} idle: {facts.idle_fraction:.3g} of its TDP",
            (facts.idle_source, hw.source_of("tdp")),
        )
    else:
        idle = (
            None,
            f"{hw.id} has no tdp or power_idle and {run.app.id} gives no idle_power for it; "
            "add one",
            (),
        )
    return active, idle


def evaluate_devices(run: DeviceRun, ev: Evaluation) -> None:
    """Fill ``ev`` with the performance, sustainability, economics and reliability figures."""
    app, dep, w, hw = run.app, run.app.deployment, run.app.workload, run.hw
    n = run.devices
    seconds = run.duration_days * _DAY_S
    t_run = Q_(seconds, "s")
    ev.fleet.update(
        {"units": run.units, "unit": run.persona.scale_unit, "devices": n, "hardware": hw.id}
    )
    r = _solve(run, ev)

    # -- performance ----------------------------------------------------------------------
    lat, lat_der, lat_src = _latency(run, r, ev)
    P = "performance"
    if lat is None:
        ev.put(P, "latency", unknown(P, "latency", "latency", lat_der))
    else:
        ev.put(P, "latency", figure(P, "latency", "latency", Q_(lat, "s"), lat_der, lat_src))
    if run.on_default_hardware and dep.measured_latency is not None:
        ev.put(
            P,
            "measured_latency",
            figure(
                P,
                "measured_latency",
                "measured latency",
                dep.measured_latency,
                f"published measurement on {hw.id}",
                (source_of(app, "deployment.measured_latency"),),
            ),
        )
    rate, rate_der, rate_src = _rate(run)
    on = (dep.hours_per_day or 24.0) / 24.0
    on_src = (source_of(app, "deployment.hours_per_day"),) if dep.hours_per_day else ()
    ev.put(
        P,
        "throughput",
        figure(
            P,
            "throughput",
            "fleet throughput",
            rate * on * n,
            f"n·r·on = {fmt(n, '')} devices × {rate_der} × {on:g} of the day on",
            (*rate_src, *on_src),
        ),
    )
    target = w.latency_target
    if target is not None:
        ev.put(
            P,
            "latency_target",
            figure(
                P,
                "latency_target",
                "latency target",
                target,
                f"{app.id} workload",
                (source_of(app, "workload.latency_target"),),
            ),
        )
    if target is None or lat is None:
        why = "no latency target" if target is None else "the latency is unknown"
        ev.put(P, "slo_met", unknown(P, "slo_met", "SLO met", f"{why}; see latency"))
    else:
        t_target = float(target.to("s").magnitude)
        ok = lat <= t_target
        ev.put(
            P,
            "slo_met",
            figure(
                P,
                "slo_met",
                "SLO met",
                1.0 if ok else 0.0,
                f"latency {fmt(lat * 1e3, 'ms')} {'≤' if ok else '>'} target "
                f"{fmt(t_target * 1e3, 'ms')}",
                (*lat_src, source_of(app, "workload.latency_target")),
            ),
        )

    # -- power and energy -----------------------------------------------------------------
    S = "sustainability"
    (pa, pa_der, pa_src), (pi, pi_der, pi_src) = _power_states(run, r, ev)
    duty = None if lat is None else rate * lat
    if duty is not None and lat is not None:
        if duty > 1.0:
            ev.warn(
                f"{hw.id} cannot keep up: {fmt(rate, '/s')} × {fmt(lat * 1e3, 'ms')} = "
                f"{duty:.3g} of its time (above 1); the device is counted as always active"
            )
            duty = 1.0
        ev.put(
            P,
            "duty",
            figure(
                P,
                "duty",
                "active fraction",
                duty,
                f"r·t = {rate_der} × {fmt(lat * 1e3, 'ms')}",
                (*rate_src, *lat_src),
            ),
        )
    if pa is not None and lat is not None:
        ev.put(
            S,
            "energy_per_inference",
            figure(
                S,
                "energy_per_inference",
                "energy per inference",
                Q_(pa * lat, "J"),
                f"P_active·t = {watts(pa)} × {fmt(lat * 1e3, 'ms')}",
                (*pa_src, *lat_src),
            ),
        )
    if run.on_default_hardware and dep.measured_energy is not None:
        ev.put(
            S,
            "measured_energy",
            figure(
                S,
                "measured_energy",
                "measured energy per inference",
                dep.measured_energy,
                f"published measurement on {hw.id}",
                (source_of(app, "deployment.measured_energy"),),
            ),
        )
    p_avg: float | None = None
    if pa is None or pi is None or duty is None:
        gap = pa_der if pa is None else pi_der if pi is None else "the latency is unknown"
        ev.put(S, "average_power", unknown(S, "average_power", "average power", gap))
    else:
        p_on = float(F.duty_cycle_power(Q_(pa, "W"), Q_(pi, "W"), duty).to("W").magnitude)
        der = (
            f"d·P_active + (1 − d)·P_idle = {duty:.3g} × {watts(pa)} ({pa_der}) + "
            f"(1 − {duty:.3g}) × {watts(pi)} ({pi_der})"
        )
        srcs = ("atmel_picopower", *pa_src, *pi_src, *rate_src, *lat_src)
        if dep.hours_per_day is not None and dep.off_power is not None:
            p_off = float(dep.off_power.to("W").magnitude)
            p_avg = float(F.duty_cycle_power(Q_(p_on, "W"), Q_(p_off, "W"), on).to("W").magnitude)
            der = (
                f"{on:g}·P_on + (1 − {on:g})·P_off = {on:g} × {watts(p_on)} [{der}] + "
                f"(1 − {on:g}) × {watts(p_off)} (off)"
            )
            srcs = (*srcs, *on_src, source_of(app, "deployment.off_power"))
        else:
            p_avg = p_on
        ev.put(
            S,
            "average_power",
            figure(S, "average_power", "average power per device", Q_(p_avg, "W"), der, srcs),
        )
    avg = ev.get(S, "average_power")
    if p_avg is None:
        ev.put(S, "energy", unknown(S, "energy", "energy", f"average power unknown: {avg.missing}"))
        E = None
    else:
        E = F.it_energy(Q_(p_avg, "W"), t_run, n)
        ev.put(
            S,
            "energy",
            figure(
                S,
                "energy",
                "fleet energy",
                E,
                f"n·P̄·t = {fmt(n, '')} × {watts(p_avg)} × {fmt(seconds / 3600, 'h')}",
                ("patterson2021", *avg.sources),
            ),
        )
        ev.assume(
            f"{app.id}: energy is counted at the device ({dep.supply} supply): no datacenter, "
            "no PUE; charger and power-supply losses are not counted"
        )
    if dep.battery is not None and p_avg:
        life = dep.battery / Q_(p_avg, "W")
        ev.put(
            S,
            "battery_life",
            figure(
                S,
                "battery_life",
                "battery life",
                life,
                f"battery / P̄ = {dep.battery:~P} / {watts(p_avg)}",
                (source_of(app, "deployment.battery"), *avg.sources),
            ),
        )
    fleet_footprint(run, ev, E, t_run)
    fleet_economics(run, ev, E, t_run, rate * on * n * seconds)
    fleet_reliability(run, ev)
    _per_unit(run, ev, p_avg, lat, lat_src)


def _per_unit(
    run: DeviceRun, ev: Evaluation, p_avg: float | None, lat: float | None, lat_src: Any
) -> None:
    """Figures per unit of the persona's scale, for the persona's constraints."""
    k = run.app.deployment.devices_per_unit
    unit = run.persona.scale_unit
    avg = ev.get("sustainability", "average_power")
    if p_avg is not None:
        ev.per_unit["power"] = figure(
            "constraints",
            "power",
            f"average power per {unit}",
            Q_(p_avg * k, "W"),
            f"{k} device(s) × {watts(p_avg)}",
            avg.sources,
        )
    if lat is not None:
        ev.per_unit["latency"] = figure(
            "constraints", "latency", "latency", Q_(lat, "s"), "see performance.latency", lat_src
        )
    tco = ev.get("economics", "tco")
    if tco.value is not None:
        years = run.duration_days / 365.0
        ev.per_unit["cost"] = figure(
            "constraints",
            "cost",
            f"TCO per {unit}-year",
            tco.value / run.units / years,
            f"{value_text(tco)} / {fmt(run.units, '')} {unit}s / {years:g} yr",
            tco.sources,
        )
    life = ev.figures["sustainability"].get("battery_life")
    if life is not None and life.value is not None and math.isfinite(life.value):
        ev.per_unit["battery_life"] = life
