"""Formulas of runs against their sources' own numbers, and the data behind them."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.core.exceptions import DimensionError, RegistryDataError, UnknownNameError
from mlsysim.core.formulas import (
    convert_currency,
    embodied_carbon,
    expected_failures,
    failure_rate,
    it_energy,
    job_mtbf,
)


def test_failure_rate_of_llama3_faulty_gpus():
    # Dubey et al. 2024, Table 5: 148 faulty-GPU interruptions, 16,384 GPUs, 54 days
    assert failure_rate(148, 16384, Q_(54, "d")).to("1/d").magnitude == pytest.approx(
        148 / (16384 * 54)
    )


def test_job_mtbf_projection_of_kokolis():
    # Kokolis et al. 2024: 6.5 failures per 1,000 node-days, 2,048 nodes -> 1.8 h
    assert job_mtbf(Q_(6.5e-3, "1/d"), 2048).to("h").magnitude == pytest.approx(1.80, rel=0.01)


def test_expected_failures_over_a_run():
    assert expected_failures(Q_(54, "d"), Q_(54 * 24 / 419, "h")) == pytest.approx(419)


def test_it_energy_of_gpt3():
    # Patterson et al. 2021: 10,000 × 330 W × 14.8 days = 1,172 MWh before the 1.10 PUE
    assert it_energy(Q_(330, "W"), Q_(14.8, "d"), 10_000).to("MWh").magnitude == pytest.approx(
        1172.16
    )


def test_embodied_carbon_of_bloom():
    # Luccioni et al. 2023: (384 × 150 kg + 48 × 2.5 t) over 118 days of a 6-year life at 85 %
    c = embodied_carbon(Q_(177.6, "tCO2e"), Q_(6, "yr"), Q_(1_082_990 / 384, "h"), 0.85)
    assert c.to("tCO2e").magnitude == pytest.approx(11.2, rel=0.01)


def test_convert_currency_needs_eur_and_a_rate():
    usd = convert_currency(Q_(0.089, "EUR/kWh"), Q_(1.0813, "USD/EUR"))
    assert usd.to("USD/kWh").magnitude == pytest.approx(0.0962, rel=1e-3)
    with pytest.raises(DimensionError):
        convert_currency(Q_(0.089, "USD/kWh"), Q_(1.0813, "USD/EUR"))


def test_failure_study_data():
    s = mlsysim.FailureStudies.Llama3_405B_Pretraining
    assert sum(s.failures.values()) == 419 and s.planned == 47
    assert s.failures["gpu"] == 148 and s.failures["hbm"] == 72
    assert s.rate("hbm").to("1/d").magnitude == pytest.approx(72 / (16384 * 54))


def test_failure_study_asked_for_a_component_it_did_not_count():
    # Found by mutation testing: the error's kind, name and suggestions had no test.
    s = mlsysim.FailureStudies.Llama3_405B_Pretraining
    assert "hbm" in s.components()
    with pytest.raises(UnknownNameError) as info:
        s.rate("hbn")
    exc = info.value
    assert exc.kind == "component of Llama3_405B_Pretraining"
    assert exc.name == "hbn"
    assert "hbm" in exc.suggestions
    assert set(exc.suggestions) <= set(s.components())
    assert str(exc).startswith("no component of Llama3_405B_Pretraining 'hbn'; did you mean ")
    assert "COMPONENTS" in exc.fix


def test_failure_study_rejects_unknown_components(tmp_path):
    (tmp_path / "bad.toml").write_text(
        'schema = "mlsysim.failure_study/1"\n[Bad]\nsource = "dubey2024llama3"\n'
        'per = "device"\npopulation = 8\nobserved = "1 d"\nfailures = { flux_capacitor = 1 }\n'
    )
    mlsysim.add_data_dir(tmp_path)
    try:
        with pytest.raises(RegistryDataError, match="unknown component"):
            mlsysim.FailureStudies.ids()
    finally:
        from mlsysim.core import registry

        registry._extra_dirs.remove(tmp_path.resolve())
        registry.reset()


def test_every_grid_states_its_basis_and_eur_prices_stay_eur():
    for g in mlsysim.Grids:
        assert g.carbon_basis in {"lifecycle", "combustion"}
    assert "[currency_eur]" in mlsysim.Grids.Finland.electricity_price.dimensionality
