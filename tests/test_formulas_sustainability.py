"""Energy, carbon and water against BLOOM (Luccioni et al. 2023) and published PUEs."""

from __future__ import annotations

import pytest

from mlsysim import Q_
from mlsysim.core.constants import (
    ACCELERATOR_IDLE_POWER_FRACTION,
    IDLE_POWER_FRACTION,
    PUE_GOOGLE_FLEET,
    PUE_INDUSTRY_AVERAGE,
)
from mlsysim.core.exceptions import DimensionError, FormulaDomainError
from mlsysim.core.formulas import (
    device_power,
    embodied_carbon,
    facility_energy,
    operational_carbon,
    water_usage,
)


def test_bloom_dynamic_energy_carbon():
    # Luccioni et al. 2023: 433 MWh at 57 gCO2e/kWh -> 24.7 tCO2e
    c = operational_carbon(energy=Q_("433 MWh"), intensity=Q_("57 gCO2e/kWh"))
    assert c.to("tCO2e").magnitude == pytest.approx(24.7, abs=0.05)


def test_carbon_is_not_mass():
    with pytest.raises(DimensionError, match="intensity"):
        operational_carbon(energy=Q_("433 MWh"), intensity=Q_("57 g/kWh"))


def test_pue_scales_it_energy():
    # Google fleet PUE 1.10; industry average 1.57 (Uptime Institute 2021)
    it = Q_("433 MWh")
    assert facility_energy(it_energy=it, pue=PUE_GOOGLE_FLEET.value).to("MWh").magnitude == (
        pytest.approx(476.3)
    )
    assert facility_energy(it_energy=it, pue=PUE_INDUSTRY_AVERAGE.value).to("MWh").magnitude == (
        pytest.approx(679.81)
    )
    with pytest.raises(FormulaDomainError, match="pue"):
        facility_energy(it_energy=it, pue=0.9)


def test_device_power_linear_model():
    tdp = Q_("700 W")
    assert device_power(tdp=tdp, utilization=1.0).to("W").magnitude == pytest.approx(700)
    # an accelerator idles at 1/6 of its TDP (Jouppi et al. 2017: K80 die 25 W of 150 W)
    assert ACCELERATOR_IDLE_POWER_FRACTION.value == pytest.approx(25 / 150)
    assert device_power(tdp=tdp, utilization=0.0).to("W").magnitude == pytest.approx(700 * 25 / 150)
    # a whole server idles at about half its peak (Barroso & Hölzle 2007)
    server = device_power(tdp=tdp, utilization=0.0, idle_fraction=IDLE_POWER_FRACTION.value)
    assert server.to("W").magnitude == pytest.approx(350)
    assert device_power(tdp=tdp, utilization=0.5, idle_fraction=0.1).to("W").magnitude == (
        pytest.approx(70 + 0.5 * 630)
    )


def test_embodied_amortisation():
    c = embodied_carbon(embodied=Q_("6 tCO2e"), lifetime=Q_("6 yr"), duration=Q_("1 yr"))
    assert c.to("tCO2e").magnitude == pytest.approx(1.0)


def test_water_on_and_off_site():
    w = water_usage(
        it_energy=Q_("1 GWh"), wue=Q_("0.5 L/kWh"), pue=1.2, grid_water_intensity=Q_("3 L/kWh")
    )
    assert w.on_site.to("L").magnitude == pytest.approx(0.5e6)
    assert w.off_site.to("L").magnitude == pytest.approx(3.6e6)
    assert w.total.to("L").magnitude == pytest.approx(4.1e6)
