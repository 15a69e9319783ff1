"""Power and facilities: idle power, PUE, hardware lifetimes and the costs of a datacenter."""

from __future__ import annotations

from mlsysim.core.constants.sourced import sourced as _c

__all__ = [
    "ACCELERATOR_IDLE_POWER_FRACTION",
    "DATACENTER_CAPEX_PER_WATT",
    "DATACENTER_DEPRECIATION",
    "HARDWARE_LIFETIME",
    "HARDWARE_UTILIZATION",
    "IDLE_POWER_FRACTION",
    "PUE_GOOGLE_FLEET",
    "PUE_INDUSTRY_AVERAGE",
    "SERVER_DEPRECIATION",
]

# --- power and facilities ----------------------------------------------------------------------
#: Power drawn at idle as a fraction of peak (servers draw about half their peak doing nothing).
IDLE_POWER_FRACTION = _c(0.5, "", "barroso2007", "linear idle/active power model")
#: An accelerator's idle power as a fraction of its TDP when its entry gives no measured
#: ``power_idle``: the K80 GPU die of Jouppi et al. 2017 (Table 2) idles at 25 W of 150 W.
ACCELERATOR_IDLE_POWER_FRACTION = _c(
    25 / 150, "", "jouppi2017", "Table 2: K80 die idle 25 W, TDP 150 W (Haswell 41/145 W)"
)
PUE_GOOGLE_FLEET = _c(1.10, "", "google2023env", "trailing-twelve-month fleet average")
PUE_INDUSTRY_AVERAGE = _c(1.57, "", "uptime2021", "Uptime Institute global survey 2021")
#: Years over which hardware's manufacturing carbon is amortised (an assumption of the source).
HARDWARE_LIFETIME = _c(6, "yr", "luccioni2023", "BLOOM: 6-year lifetime of Jean Zay's hardware")
#: Fraction of its lifetime hardware is busy, over which embodied carbon is spread.
HARDWARE_UTILIZATION = _c(0.85, "", "luccioni2023", "BLOOM: 85 % average cluster utilisation")
#: Straight-line depreciation period of servers in a TCO (Barroso et al.: 3-4 years).
SERVER_DEPRECIATION = _c(4, "yr", "barroso2018", "ch. 8: servers depreciated over 3-4 years")
#: Datacenter construction cost per watt of critical (IT) power (Barroso et al.: $9-13/W).
DATACENTER_CAPEX_PER_WATT = _c(10, "USD/W", "barroso2018", "ch. 6/8: $9-13 per critical watt")
#: Depreciation period of the datacenter building, power and cooling plant.
DATACENTER_DEPRECIATION = _c(12, "yr", "barroso2018", "ch. 8: facilities depreciated 12-15 yr")
