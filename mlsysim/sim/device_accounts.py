"""What a device fleet's energy costs and emits, and how often its devices fail.

:class:`DeviceRun` is what the evaluation of a device fleet needs from the choices and the data
(:func:`~mlsysim.sim.devices.evaluate_devices` times the devices and sums their energy).

Given the fleet's energy over the evaluated duration (from :mod:`mlsysim.sim.devices`), the
sustainability figures (operational carbon on the grid's stated basis, embodied carbon
amortised over the deployment's lifetime, water), the economics (capex, opex, TCO, cost per
inference) and the reliability figures (MTBF, failures per year, availability) follow through
the formulas, each with its inputs' sources, or are stated unknown with what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core import formulas as F
from mlsysim.core.units import Q_
from mlsysim.sim.figures import Evaluation, figure, fmt, source_of, unknown, value_text

__all__ = ["DeviceRun", "fleet_economics", "fleet_footprint", "fleet_reliability"]

_YEAR = Q_(365.0, "d")


@dataclass(frozen=True)
class DeviceRun:
    """What the fleet evaluation needs from the choices and the data."""

    app: Any
    persona: Any
    hw: Any  # hardware spec
    model: Any  # model spec
    units: int  # units of the persona's scale
    devices: int
    duration_days: float
    grid: Any
    precision: str | None
    batch: int
    on_default_hardware: bool  # measurements in the data apply only to that hardware


def _grid_intensity(run: DeviceRun) -> tuple[Any, str, tuple[str, ...]]:
    g = run.grid
    return (
        g.carbon_intensity,
        f"{g.carbon_intensity:~P} ({g.id}, {g.carbon_basis} basis)",
        (g.source_of("carbon_intensity"),),
    )


def fleet_footprint(run: DeviceRun, ev: Evaluation, E: Any, t_run: Any) -> None:
    """Operational, embodied and total carbon and water of the fleet over ``t_run``, from
    its energy ``E`` (None: unknown)."""
    S = "sustainability"
    app, dep, hw, n = run.app, run.app.deployment, run.hw, run.devices
    energy = ev.get(S, "energy")
    ci, ci_der, ci_src = _grid_intensity(run)
    if E is None:
        why = "energy unknown; see energy"
        ev.put(S, "carbon", unknown(S, "carbon", "operational carbon", why))
    else:
        C = F.operational_carbon(E, ci)
        ev.put(
            S,
            "carbon",
            figure(
                S,
                "carbon",
                "operational carbon",
                C,
                f"E·I = {value_text(energy)} × {ci_der}",
                ("patterson2021", *energy.sources, *ci_src),
            ),
        )
    per_device = dep.embodied_carbon if dep.embodied_carbon is not None else hw.embodied_carbon
    emb_src = (
        source_of(app, "deployment.embodied_carbon")
        if dep.embodied_carbon is not None
        else hw.source_of("embodied_carbon")
    )
    if per_device is None or dep.lifetime is None:
        what = (
            f"no embodied_carbon for {hw.id} (hardware entry) or {app.id} (deployment)"
            if per_device is None
            else f"{app.id} gives no deployment.lifetime to amortise it over"
        )
        ev.put(
            S,
            "embodied_carbon",
            unknown(
                S,
                "embodied_carbon",
                "embodied carbon",
                f"{what}; add it with its source (e.g. a product carbon footprint)",
            ),
        )
    else:
        emb = F.embodied_carbon(per_device * n, dep.lifetime, t_run)
        ev.put(
            S,
            "embodied_carbon",
            figure(
                S,
                "embodied_carbon",
                "embodied carbon",
                emb,
                f"n·C_mfg·t/T = {fmt(n, '')} × {per_device:~P} × "
                f"{fmt(t_run.to('d').magnitude, 'd')} / {dep.lifetime:~P}",
                ("gupta2021", emb_src, source_of(app, "deployment.lifetime")),
            ),
        )
    op, emb_f = ev.get(S, "carbon"), ev.get(S, "embodied_carbon")
    if op.value is None or emb_f.value is None:
        gap = op if op.value is None else emb_f
        ev.put(
            S,
            "total_carbon",
            unknown(S, "total_carbon", "total carbon", f"{gap.name} is unknown; {gap.missing}"),
        )
    else:
        ev.put(
            S,
            "total_carbon",
            figure(
                S,
                "total_carbon",
                "total carbon",
                op.value + emb_f.value,
                f"operational + embodied = {value_text(op)} + {value_text(emb_f)}",
                (*op.sources, *emb_f.sources),
            ),
        )
    g = run.grid
    if E is None or g.water_intensity is None:
        why = (
            "energy unknown"
            if E is None
            else f"grid {g.id} has no water_intensity; add water_intensity = "
            f'{{ value = "… L/kWh", source = "…", as_of = … }} to {g.id}'
        )
        ev.put(S, "water", unknown(S, "water", "water", why))
    else:
        wat = F.water_usage(E, Q_(0.0, "L/kWh"), 1.0, g.water_intensity)
        ev.put(
            S,
            "water",
            figure(
                S,
                "water",
                "water",
                wat.total,
                f"on site 0 L (devices outside a datacenter use no cooling water) + E·EWIF = "
                f"{value_text(energy)} × {g.water_intensity:~P}",
                ("li2023water", g.source_of("water_intensity"), *energy.sources),
            ),
        )


def fleet_economics(run: DeviceRun, ev: Evaluation, E: Any, t_run: Any, inferences: float) -> None:
    """Capex (the devices' price amortised over ``t_run``), opex, TCO and cost per inference."""
    X = "economics"
    app, dep, hw, n = run.app, run.app.deployment, run.hw, run.devices
    if dep.unit_price is not None and run.on_default_hardware:
        price, p_src = dep.unit_price, source_of(app, "deployment.unit_price")
    elif hw.list_price is not None:
        price, p_src = hw.list_price, hw.source_of("list_price")
    else:
        price, p_src = None, ""
    if price is None or dep.lifetime is None:
        what = (
            f"no list_price for {hw.id} and no deployment.unit_price in {app.id}"
            if price is None
            else f"{app.id} gives no deployment.lifetime to amortise the price over"
        )
        ev.put(X, "capex", unknown(X, "capex", "capex", f"{what}; add it with its source"))
    else:
        cap = F.amortized_capex(price * n, dep.lifetime, t_run)
        ev.put(
            X,
            "capex",
            figure(
                X,
                "capex",
                "capex",
                cap,
                f"n·P·t/T = {fmt(n, '')} × {price:~P} × {fmt(t_run.to('d').magnitude, 'd')} / "
                f"{dep.lifetime:~P}",
                ("barroso2018", p_src, source_of(app, "deployment.lifetime")),
            ),
        )
    _opex_and_tco(run.grid, ev, E, inferences, ev.get("sustainability", "energy"))


def _opex_and_tco(grid: Any, ev: Evaluation, E: Any, inferences: float, energy: Any) -> None:
    """Opex (energy at the grid's price), TCO (capex + opex) and cost per inference."""
    from mlsysim.infra.money import to_usd

    X = "economics"
    if E is None or grid.electricity_price is None:
        why = (
            "energy unknown"
            if E is None
            else f"grid {grid.id} has no electricity_price; add electricity_price "
            f"(with price_basis, source and as_of) to {grid.id}"
        )
        ev.put(X, "opex", unknown(X, "opex", "opex (energy)", why))
    else:
        conv = to_usd(grid.electricity_price, grid.as_of_of("electricity_price"))
        ev.put(
            X,
            "opex",
            figure(
                X,
                "opex",
                "opex (energy)",
                F.energy_cost(E, conv.value),
                f"E·p = {value_text(energy)} × {conv.value:~P} ({grid.id}, {grid.price_basis})",
                ("barroso2018", grid.source_of("electricity_price")),
            ),
        )
    cap, opx = ev.get(X, "capex"), ev.get(X, "opex")
    if cap.value is None or opx.value is None:
        gap = cap if cap.value is None else opx
        ev.put(X, "tco", unknown(X, "tco", "TCO", f"{gap.name} is unknown; {gap.missing}"))
        ev.put(
            X,
            "cost_per_inference",
            unknown(X, "cost_per_inference", "cost per inference", "TCO unknown; see tco"),
        )
        return
    tco = cap.value + opx.value
    ev.put(
        X,
        "tco",
        figure(
            X,
            "tco",
            "TCO",
            tco,
            f"capex + opex = {value_text(cap)} + {value_text(opx)}",
            (*cap.sources, *opx.sources),
        ),
    )
    if inferences <= 0:
        ev.put(
            X,
            "cost_per_inference",
            unknown(X, "cost_per_inference", "cost per inference", "no inferences served"),
        )
    else:
        ev.put(
            X,
            "cost_per_inference",
            figure(
                X,
                "cost_per_inference",
                "cost per inference",
                tco / inferences,
                f"TCO / inferences = {fmt(tco, 'USD')} / {fmt(inferences, '')}",
                (*cap.sources, *opx.sources),
            ),
        )


def fleet_reliability(run: DeviceRun, ev: Evaluation) -> None:
    """Device MTBF, the fleet's failures per year and a device's availability."""
    R = "reliability"
    app, dep, n = run.app, run.app.deployment, run.devices
    if dep.mtbf is None:
        why = (
            f"{app.id} gives no deployment.mtbf for {run.hw.id} (no field-failure data in the "
            "registry); add mtbf (and mttr) with their source"
        )
        for key, name in (("mtbf", "MTBF"), ("failures_per_year", "failures per year")):
            ev.put(R, key, unknown(R, key, name, why))
        ev.put(R, "availability", unknown(R, "availability", "availability", why))
        return
    m_src = source_of(app, "deployment.mtbf")
    ev.put(R, "mtbf", figure(R, "mtbf", "device MTBF", dep.mtbf, f"{app.id} deployment", (m_src,)))
    fleet_m = F.job_mtbf(1.0 / dep.mtbf, n)
    ev.put(
        R,
        "failures_per_year",
        figure(
            R,
            "failures_per_year",
            "failures per year",
            F.expected_failures(_YEAR, fleet_m),
            f"n·T/M = {fmt(n, '')} × 365 d / {dep.mtbf:~P}",
            ("oconnor2012", m_src),
        ),
    )
    if dep.mttr is None:
        ev.put(
            R,
            "availability",
            unknown(R, "availability", "availability", f"no deployment.mttr in {app.id}; add it"),
        )
    else:
        ev.put(
            R,
            "availability",
            figure(
                R,
                "availability",
                "availability",
                F.availability(dep.mtbf, dep.mttr),
                f"MTBF/(MTBF + MTTR) = {dep.mtbf:~P} / ({dep.mtbf:~P} + {dep.mttr:~P})",
                ("oconnor2012", m_src, source_of(app, "deployment.mttr")),
            ),
        )
