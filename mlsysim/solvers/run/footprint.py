"""Energy, carbon, water and money of devices running for a time, through the infra data.

Shared by the run solver (:mod:`.training`) and the fleet solver (:mod:`.fleet`): given how many
devices draw how much power for how long, in which grid region and datacenter, compute each
figure through :mod:`mlsysim.core.formulas` and say where every input came from. An input the
registry lacks makes its figure *unknown* (with the reason and the fix), never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core import formulas as F
from mlsysim.core.constants import (
    DATACENTER_CAPEX_PER_WATT,
    DATACENTER_DEPRECIATION,
    HARDWARE_LIFETIME,
    HARDWARE_UTILIZATION,
    SERVER_DEPRECIATION,
)
from mlsysim.core.units import from_si, si
from mlsysim.infra.money import to_usd
from mlsysim.infra.registry import CloudRates
from mlsysim.solvers.quantities import J_PER_KWH, J_PER_MWH
from mlsysim.solvers.run.ledger import (
    CarbonPart,
    CostPart,
    EnergyPart,
    Figure,
    WaterPart,
    fmt,
    missing,
)
from mlsysim.solvers.run.site import (
    DEFAULT_DATACENTER,
    Site,
    overhead_power,
    resolve_site,
    resolve_system,
)

__all__ = [
    "DEFAULT_DATACENTER",
    "Embodied",
    "Site",
    "carbon",
    "cost",
    "energy",
    "overhead_power",
    "resolve_site",
    "resolve_system",
    "water",
]


def energy(
    n: float,
    seconds: float,
    device_w: float,
    device_derivation: str,
    device_sources: tuple[str, ...],
    overhead: Figure,
    site: Site,
    unit: str = "MWh",
) -> tuple[EnergyPart, float, float]:
    """The energy part, IT joules and facility joules of n devices for ``seconds``."""
    scale = J_PER_MWH if unit == "MWh" else J_PER_KWH
    over_w = overhead.value or 0.0
    per_w = device_w + over_w
    E_it = si(F.it_energy(from_si(per_w, "W"), from_si(seconds, "s"), n), "energy", "E")
    E_fac = si(F.facility_energy(from_si(E_it, "J"), site.pue), "energy", "E")
    over_txt = fmt(over_w, "W") if overhead.value is not None else "0 W (unknown, not counted)"
    figs = {
        "device_power": Figure("device power", device_w, "W", device_derivation, device_sources),
        "overhead_power": overhead,
        "it": Figure(
            "IT energy",
            E_it / scale,
            unit,
            f"n·(P_dev + P_host+net)·t = {fmt(n, '')} × ({fmt(device_w, 'W')} + {over_txt}) × "
            f"{fmt(seconds / 3600, 'h')}",
            ("patterson2021", *device_sources, *overhead.sources),
        ),
        "pue": Figure("PUE", site.pue, "", site.pue_derivation, site.pue_sources),
        "total": Figure(
            "facility energy",
            E_fac / scale,
            unit,
            f"PUE·E_IT = {site.pue:g} × {fmt(E_it / scale, unit)}",
            ("thegreengrid2012", *site.pue_sources),
        ),
    }
    return EnergyPart(figs), E_it, E_fac


@dataclass(frozen=True)
class Embodied:
    """Hardware whose manufacturing carbon a run carries: count × footprint each."""

    label: str
    count: float
    grams: float | None  # per unit; None when the registry has no figure
    source: str
    where: str  # registry entry to add the figure to


def carbon(
    E_fac: float, site: Site, seconds: float, hardware: list[Embodied], unit: str = "tCO2e"
) -> CarbonPart:
    """Operational (facility energy × intensity), embodied (amortised) and total carbon."""
    scale = 1e6 if unit == "tCO2e" else 1e3
    op = si(
        F.operational_carbon(from_si(E_fac, "J"), from_si(site.intensity, "gCO2e/J")), "carbon", "C"
    )
    figs: dict[str, Figure] = {
        "intensity": Figure(
            "carbon intensity",
            site.intensity * J_PER_KWH,
            "gCO2e/kWh",
            site.intensity_derivation,
            site.intensity_sources,
        ),
        "operational": Figure(
            "operational carbon",
            op / scale,
            unit,
            f"E·I = {fmt(E_fac / J_PER_MWH, 'MWh')} × {site.intensity_derivation}",
            ("patterson2021", "luccioni2023", *site.intensity_sources),
        ),
    }
    absent = [h for h in hardware if h.grams is None]
    if absent:
        h = absent[0]
        figs["embodied"] = missing(
            "embodied carbon",
            unit,
            f"no embodied_carbon for {h.label} in the registry; add embodied_carbon = "
            f'"… kgCO2e" (with its source) to the {h.where} entry',
        )
    else:
        life = HARDWARE_LIFETIME.quantity
        u = HARDWARE_UTILIZATION.value
        total_g = sum(h.count * (h.grams or 0.0) for h in hardware)
        emb = si(
            F.embodied_carbon(from_si(total_g, "gCO2e"), life, from_si(seconds, "s"), u),
            "carbon",
            "C",
        )
        parts = " + ".join(
            f"{fmt(h.count, '')} × {fmt((h.grams or 0) / 1e3, 'kgCO2e')}" for h in hardware
        )
        figs["embodied"] = Figure(
            "embodied carbon",
            emb / scale,
            unit,
            f"C_mfg·t/(u·T_life) = ({parts}) × {fmt(seconds / 3600, 'h')} / ({u:g} × "
            f"{HARDWARE_LIFETIME.value:g} yr)",
            ("gupta2021", "luccioni2023", *(h.source for h in hardware)),
        )
    emb_f = figs["embodied"]
    if emb_f.value is None:
        figs["total"] = missing(
            "total carbon", unit, "the embodied part is unknown; " + _fix_of(emb_f.missing)
        )
    else:
        figs["total"] = Figure(
            "total carbon",
            op / scale + emb_f.value,
            unit,
            f"operational + embodied = {fmt(op / scale, unit)} + {fmt(emb_f.value, unit)}",
            (*figs["operational"].sources, *emb_f.sources),
        )
    return CarbonPart(figs, site.basis)


def _fix_of(reason: str) -> str:
    return reason.partition("; ")[2] or reason


def water(E_it: float, E_fac: float, site: Site) -> WaterPart:
    """On-site (IT energy × WUE) and off-site (facility energy × grid water intensity) water."""
    dc, grid = site.datacenter, site.grid
    figs: dict[str, Figure] = {}
    wue = None if dc is None or dc.wue is None else si(dc.wue, "water_intensity", "wue")
    ewif = (
        None
        if grid.water_intensity is None
        else si(grid.water_intensity, "water_intensity", "water_intensity")
    )
    if wue is None:
        which = "no datacenter given" if dc is None else f"{dc.id} has no wue"
        figs["on_site"] = missing(
            "on-site water",
            "L",
            f"{which}; pass datacenter= an entry with wue, or add "
            'wue = "… L/kWh" with its source to the datacenter entry',
        )
    else:
        figs["on_site"] = Figure(
            "on-site water",
            E_it * wue * 1e3,
            "L",
            f"E_IT·WUE = {fmt(E_it / J_PER_MWH, 'MWh')} × {fmt(wue * J_PER_KWH * 1e3, 'L/kWh')}",
            ("thegreengrid2011wue", dc.source_of("wue")),
        )
    if ewif is None:
        figs["off_site"] = missing(
            "off-site water",
            "L",
            f"grid {grid.id} has no water_intensity; add "
            f'water_intensity = {{ value = "… L/kWh", source = "…", as_of = … }} to {grid.id}',
        )
    else:
        figs["off_site"] = Figure(
            "off-site water",
            E_fac * ewif * 1e3,
            "L",
            f"E_facility·EWIF = {fmt(E_fac / J_PER_MWH, 'MWh')} × "
            f"{fmt(ewif * J_PER_KWH * 1e3, 'L/kWh')}",
            ("li2023water", grid.source_of("water_intensity")),
        )
    on, off = figs["on_site"], figs["off_site"]
    if on.value is None or off.value is None:
        gap = on if on.value is None else off
        figs["total"] = missing(
            "total water", "L", f"{gap.name} is unknown; {_fix_of(gap.missing)}"
        )
    else:
        figs["total"] = Figure(
            "total water",
            on.value + off.value,
            "L",
            f"on-site + off-site = {fmt(on.value, 'L')} + {fmt(off.value, 'L')}",
            (*on.sources, *off.sources),
        )
    return WaterPart(figs)


def cost(
    hw: Any,
    node: Any,
    n: float,
    seconds: float,
    E_fac: float,
    critical_w: float,
    site: Site,
    pricing: str = "on_demand",
) -> CostPart:
    """Cloud rental at the registry's rate; owning as amortised capex + energy + facility."""
    figs: dict[str, Figure] = {}
    assumptions: list[str] = []
    hours = seconds / 3600
    rates = [r for r in CloudRates if r.hardware == hw.id and r.pricing == pricing]
    if not rates:
        have = sorted({r.pricing for r in CloudRates if r.hardware == hw.id})
        figs["cloud"] = missing(
            "cloud cost",
            "USD",
            f"no {pricing} cloud rate for {hw.id} in the registry"
            + (f" (it has {', '.join(have)})" if have else "")
            + f"; add a cloud_rate entry for {hw.id} or pass pricing= one it has",
        )
    else:
        rate = min(rates, key=lambda r: si(r.price, "price_per_time", "price"))
        c = si(F.cloud_cost(rate.price, from_si(seconds, "s"), n), "currency", "cost")
        figs["cloud"] = Figure(
            "cloud cost",
            c,
            "USD",
            f"n·r·t = {fmt(n, '')} × {rate.price:~P} ({rate.id}, as of "
            f"{rate.as_of_of('price')}) × {fmt(hours, 'h')}",
            ("armbrust2010", rate.source_of("price")),
        )
    # owning: capex
    price, price_src, price_note = None, "", ""
    if hw.list_price is not None:
        price, price_src = si(hw.list_price, "currency", "list_price"), hw.source_of("list_price")
        price_note = f"{hw.id} list price {hw.list_price:~P}"
        if node is not None and node.list_price is not None:
            extra = si(node.list_price, "currency", "p") / node.accelerators
            price, price_note = extra, f"{node.id} list price / {node.accelerators}"
            price_src = node.source_of("list_price")
    elif node is not None and node.list_price is not None:
        price = si(node.list_price, "currency", "list_price") / node.accelerators
        price_src = node.source_of("list_price")
        price_note = f"{node.id} list price {node.list_price:~P} / {node.accelerators} devices"
    if price is None:
        where = f"the {hw.id} hardware entry" + (f" or the {node.id} node" if node else "")
        figs["capex"] = missing(
            "capex",
            "USD",
            f"no list price for {hw.id}"
            + (f" or {node.id}" if node else "")
            + f'; add list_price = {{ value = "… USD", source = "…", as_of = … }} to {where}',
        )
    else:
        dep = SERVER_DEPRECIATION.quantity
        c = si(
            F.amortized_capex(from_si(n * price, "USD"), dep, from_si(seconds, "s")),
            "currency",
            "capex",
        )
        figs["capex"] = Figure(
            "capex",
            c,
            "USD",
            f"n·P·t/T = {fmt(n, '')} × {fmt(price, 'USD')} ({price_note}) × {fmt(hours, 'h')} "
            f"/ {SERVER_DEPRECIATION.value:g} yr",
            ("barroso2018", price_src),
        )
        assumptions.append(
            f"hardware depreciated over {SERVER_DEPRECIATION.value:g} years (Barroso et al. 2018)"
        )
    # owning: energy at the region's price
    grid = site.grid
    if grid.electricity_price is None:
        figs["energy"] = missing(
            "energy cost",
            "USD",
            f"grid {grid.id} has no electricity_price; add "
            f'electricity_price = {{ value = "… USD/kWh" (or EUR/kWh), source = "…", as_of = … }}'
            f" and price_basis to {grid.id}",
        )
    else:
        conv = to_usd(grid.electricity_price, grid.as_of_of("electricity_price"))
        p = si(conv.value, "price_per_energy", "price")
        c = si(F.energy_cost(from_si(E_fac, "J"), conv.value), "currency", "cost")
        note = f" ({conv.note})" if conv.note else ""
        figs["energy"] = Figure(
            "energy cost",
            c,
            "USD",
            f"E·p = {fmt(E_fac / J_PER_MWH, 'MWh')} × {fmt(p * J_PER_KWH, 'USD/kWh')}{note}",
            ("barroso2018", grid.source_of("electricity_price"))
            + (("ecb_reference_rates", conv.rate.source) if conv.rate else ()),
        )
        assumptions.append(f"electricity at {grid.id}'s {grid.price_basis} price")
    # owning: the facility (space, power distribution and cooling plant)
    cap = DATACENTER_CAPEX_PER_WATT.value * critical_w
    c = si(
        F.amortized_capex(
            from_si(cap, "USD"), DATACENTER_DEPRECIATION.quantity, from_si(seconds, "s")
        ),
        "currency",
        "facility",
    )
    figs["facility"] = Figure(
        "facility",
        c,
        "USD",
        f"({DATACENTER_CAPEX_PER_WATT.value:g} USD/W × {fmt(critical_w / 1e3, 'kW')}) × "
        f"{fmt(hours, 'h')} / {DATACENTER_DEPRECIATION.value:g} yr",
        ("barroso2018",),
    )
    assumptions += [
        f"datacenter built at {DATACENTER_CAPEX_PER_WATT.value:g} USD per critical watt, "
        f"depreciated over {DATACENTER_DEPRECIATION.value:g} years (Barroso et al. 2018); "
        "cooling energy is in the PUE",
        "network: NICs are in the node price; switches, cabling and staff are not counted",
    ]
    parts = [figs[k] for k in ("capex", "energy", "facility")]
    gap = next((f for f in parts if f.value is None), None)
    if gap is not None:
        figs["owned"] = missing(
            "owned cost", "USD", f"{gap.name} is unknown; {_fix_of(gap.missing)}"
        )
    else:
        figs["owned"] = Figure(
            "owned cost",
            sum(f.value or 0.0 for f in parts),
            "USD",
            " + ".join(f"{fmt(f.value or 0.0, 'USD')} {f.name}" for f in parts),
            tuple(s for f in parts for s in f.sources),
        )
    return CostPart(figs, tuple(assumptions))
