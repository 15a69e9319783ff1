"""Sustainability: facility energy (PUE), device power, operational and embodied carbon, water.

Carbon is its own dimension (gCO2e), never plain mass; grid intensities are gCO2e per energy
(``57 gCO2e/kWh``); water intensities are volume per energy (``1.8 L/kWh``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core.constants import ACCELERATOR_IDLE_POWER_FRACTION
from mlsysim.core.formulas._args import count, fraction, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "Water",
    "device_power",
    "device_power_W",
    "duty_cycle_power",
    "embodied_carbon",
    "facility_energy",
    "it_energy",
    "operational_carbon",
    "water_usage",
]


def _pue(pue: Any, where: str) -> float:
    return fraction(pue, "pue", where, low=1.0, high=float("inf"))


@formula(
    symbol=r"E_{\mathrm{facility}} = \mathrm{PUE} \cdot E_{\mathrm{IT}}",
    substituted=r"{{pue}} \cdot {{it_energy}}",
    sources=("thegreengrid2012",),
    citation="The Green Grid (2012), PUE: a comprehensive examination of the metric",
    result="energy",
)
def facility_energy(it_energy: Any, pue: Any) -> Any:
    """Facility energy = PUE × IT energy (PUE ≥ 1; Google fleet ≈ 1.10, industry ≈ 1.57)."""
    where = "facility_energy"
    E_it = positive(si(it_energy, "energy", "it_energy"), "it_energy", where, strict=False)
    E = _pue(pue, where) * E_it
    return from_si(E, "J")


def device_power_W(tdp: float, utilization: float, idle_fraction: float) -> float:
    """Float fast path of :func:`device_power`: W, fraction, fraction → W."""
    P = tdp * (idle_fraction + (1.0 - idle_fraction) * utilization)
    return P


@formula(
    symbol=r"P = P_{\mathrm{TDP}}\left(f_{\mathrm{idle}} + (1 - f_{\mathrm{idle}})\,u\right)",
    substituted=(
        r"{{tdp}} \left({{idle_fraction}} + (1 - {{idle_fraction}}) \cdot "
        r"{{utilization}}\right)"
    ),
    sources=("fan2007", "jouppi2017"),
    citation="Fan, Weber & Barroso (2007), linear idle-to-peak power model",
    result="power",
)
def device_power(
    tdp: Any, utilization: Any, idle_fraction: Any = ACCELERATOR_IDLE_POWER_FRACTION.value
) -> Any:
    """Average power at utilization u: the idle floor f·TDP plus the rest scaling linearly.

    The default idle fraction is an accelerator's, 1/6 (Jouppi et al. 2017: a K80 GPU die
    idles at 25 W of its 150 W); pass a device's own (its measured ``power_idle / tdp``) when
    the registry gives one, or Barroso & Hölzle's 0.5 for a whole server
    (``IDLE_POWER_FRACTION``). ``power_min`` — the lowest configurable power limit — is not
    idle power. Source: Fan, Weber & Barroso 2007.
    """
    where = "device_power"
    P_tdp = positive(si(tdp, "power", "tdp"), "tdp", where)
    u = fraction(utilization, "utilization", where)
    f = fraction(idle_fraction, "idle_fraction", where)
    P = device_power_W(P_tdp, u, f)
    return from_si(P, "W")


@formula(
    symbol=r"C_{\mathrm{op}} = E \cdot I_{\mathrm{grid}}",
    substituted=r"{{energy}} \cdot {{intensity}}",
    sources=("luccioni2023", "patterson2021"),
    citation="Patterson et al. (2021); Luccioni, Viguier & Ligozat (2023)",
    result="carbon",
)
def operational_carbon(energy: Any, intensity: Any) -> Any:
    """Operational emissions = energy × grid carbon intensity.

    BLOOM: 433 MWh × 57 gCO2e/kWh ≈ 24.7 tCO2e. Sources: Patterson et al. 2021; Luccioni et al.
    2023.
    """
    where = "operational_carbon"
    E = positive(si(energy, "energy", "energy"), "energy", where, strict=False)
    I = positive(si(intensity, "carbon_intensity", "intensity"), "intensity", where, strict=False)
    C = E * I
    return from_si(C, "gCO2e")


@formula(
    symbol=r"C_{\mathrm{emb}} = C_{\mathrm{mfg}}\,\frac{t}{u\,T_{\mathrm{life}}}",
    substituted=(r"{{embodied}} \cdot \frac{ {{duration}} }{ {{utilization}} \cdot {{lifetime}} }"),
    sources=("gupta2021", "luccioni2023"),
    citation="Gupta et al. (2021), Chasing Carbon; amortisation as in Luccioni et al. (2023)",
    result="carbon",
)
def embodied_carbon(embodied: Any, lifetime: Any, duration: Any, utilization: Any = 1.0) -> Any:
    """Manufacturing emissions amortised linearly over the hours the hardware is used.

    Hardware busy a fraction u of its lifetime T carries its whole manufacturing footprint over
    u·T hours of use (Luccioni et al. 2023 take T = 6 years and u = 85 % for BLOOM's cluster).
    """
    where = "embodied_carbon"
    C_mfg = positive(si(embodied, "carbon", "embodied"), "embodied", where, strict=False)
    T = positive(si(lifetime, "time", "lifetime"), "lifetime", where)
    t = positive(si(duration, "time", "duration"), "duration", where, strict=False)
    u = fraction(utilization, "utilization", where)
    if u == 0.0:
        u = positive(u, "utilization", where)
    C = C_mfg * t / (u * T)
    return from_si(C, "gCO2e")


@formula(
    symbol=r"E_{\mathrm{IT}} = n\,P\,t",
    substituted=r"{{n}} \cdot {{power}} \cdot {{duration}}",
    sources=("patterson2021", "luccioni2023"),
    citation="Patterson et al. (2021), Eq. 1: processors × average power × time",
    result="energy",
)
def it_energy(power: Any, duration: Any, n: Any = 1) -> Any:
    """IT energy of n devices drawing an average ``power`` each for ``duration``.

    GPT-3: 10,000 V100 × 330 W × 14.8 days = 1,172 MWh before PUE (Patterson et al. 2021).
    """
    where = "it_energy"
    P = positive(si(power, "power", "power"), "power", where, strict=False)
    t = positive(si(duration, "time", "duration"), "duration", where, strict=False)
    N = count(n, "n", where)
    E = N * P * t
    return from_si(E, "J").to("MWh")


@dataclass(frozen=True)
class Water:
    """Water consumed on site (cooling) and off site (electricity generation)."""

    on_site: Any
    off_site: Any
    total: Any

    @property
    def value(self) -> Any:
        """The headline result, the field ``total``."""
        return self.total

    def __str__(self) -> str:
        return f"{self.total:~P} (on-site {self.on_site:~P}, off-site {self.off_site:~P})"


@formula(
    symbol=(
        r"V = E_{\mathrm{IT}}\,\mathrm{WUE} + \mathrm{PUE}\,E_{\mathrm{IT}}\,"
        r"\mathrm{EWIF}"
    ),
    substituted=(
        r"{{it_energy}} \cdot {{wue}} + {{pue}} \cdot {{it_energy}} \cdot "
        r"{{grid_water_intensity}}"
    ),
    sources=("thegreengrid2011wue", "li2023water"),
    citation="The Green Grid (2011), WUE; Li et al. (2023), Making AI Less Thirsty",
    result="volume",
)
def water_usage(it_energy: Any, wue: Any, pue: Any, grid_water_intensity: Any) -> Water:
    """On-site water (IT energy × WUE) plus off-site water (facility energy × grid EWIF)."""
    where = "water_usage"
    E_it = positive(si(it_energy, "energy", "it_energy"), "it_energy", where, strict=False)
    wue_ = positive(si(wue, "water_intensity", "wue"), "wue", where, strict=False)
    ewif = positive(
        si(grid_water_intensity, "water_intensity", "grid_water_intensity"),
        "grid_water_intensity",
        where,
        strict=False,
    )
    V_on = E_it * wue_
    V_off = _pue(pue, where) * E_it * ewif
    V = V_on + V_off
    return Water(*(from_si(v, "m**3").to("L") for v in (V_on, V_off, V)))


@formula(
    symbol=r"\bar{P} = d\,P_{\mathrm{active}} + (1 - d)\,P_{\mathrm{idle}}",
    substituted=(r"{{duty}} \cdot {{active_power}} + (1 - {{duty}}) \cdot {{idle_power}}"),
    sources=("atmel_picopower",),
    citation="time-weighted average of a duty-cycled device's power states (Atmel picoPower)",
    result="power",
)
def duty_cycle_power(active_power: Any, idle_power: Any, duty: Any) -> Any:
    """Average power of a device active a fraction d of the time and idle (asleep) otherwise.

    Atmel's picoPower tutorial: an ATmega164P at 1.8 V awake 10 µs every second at 0.5 mA and
    in power-save at 0.65 µA averages 0.655 µA (1.18 µW). Source: Atmel picoPower tutorial.
    """
    where = "duty_cycle_power"
    P_a = positive(si(active_power, "power", "active_power"), "active_power", where, strict=False)
    P_i = positive(si(idle_power, "power", "idle_power"), "idle_power", where, strict=False)
    d = fraction(duty, "duty", where)
    P = d * P_a + (1.0 - d) * P_i
    return from_si(P, "W")
