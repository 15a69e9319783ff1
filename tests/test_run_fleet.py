"""training_run and serving_fleet: modes, missing data, explainers, napkin, CLI, schemas."""

from __future__ import annotations

import json

import jsonschema
import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.cli.main import main
from mlsysim.core.exceptions import ConfigError, DimensionError, MissingDataError
from mlsysim.solvers.run.fleet import fleet_json_schema
from mlsysim.solvers.run.result import run_json_schema


def _run(**kw):
    args = {"devices": 1, "tokens": 1e9, "region": "Iowa", "batch": 4, "seq_len": 2048}
    args.update(kw)
    return mlsysim.training_run("Llama3_2_1B", "A100", **args)


def test_tokens_mode_single_device_is_steps_of_a_solve():
    r = _run()
    step = mlsysim.solve("Llama3_2_1B", "A100", phase="training", batch=4, seq_len=2048)
    assert r.steps == pytest.approx(1e9 / (4 * 2048), abs=1)
    assert r.compute_time.to("s").magnitude == pytest.approx(r.steps * step.latency_s)
    # wall time = failure-free time / goodput, and goodput < 1
    wall = r.wall_time.to("s").magnitude
    assert wall == pytest.approx(r.compute_time.to("s").magnitude / r.reliability.goodput)
    assert r.reliability.goodput < 1
    assert r.energy.device_power.to("W").magnitude == pytest.approx(step.power_w)
    assert r.binding_wall in {"fragility", "checkpoint"}


def test_tokens_mode_needs_exactly_one_of_tokens_and_duration():
    with pytest.raises(ConfigError, match="exactly one"):
        mlsysim.training_run("Llama3_2_1B", "A100", devices=1, region="Iowa")
    with pytest.raises(ConfigError, match="devices"):
        mlsysim.training_run("Llama3_2_1B", "A100", tokens=1e9, region="Iowa")


def test_tokens_mode_on_many_devices_uses_the_distributed_solve():
    # full recompute: with selective recompute and no SP the 1F1B activations do not fit
    r = mlsysim.training_run(
        "GPT3_175B",
        "H100_1024",
        tokens=300e9,
        devices=1024,
        tp=8,
        pp=8,
        batch=1536,
        seq_len=2048,
        recompute="full",
        region="Virginia",
    )
    assert r.step.step_time.to("s").magnitude > 0
    # 6·N·D = 3.15e23 FLOP over 1,024 H100s at 989 TFLOP/s is 3.6 days at 100 % MFU
    assert 3.6 / 0.6 < r.wall_time.to("d").magnitude < 3.6 / 0.2


def test_missing_data_is_unknown_never_zero():
    r = mlsysim.training_run(
        "Llama3_405B", "H100", duration=Q_(10, "d"), devices=1024, region="Germany"
    )
    for read in (
        lambda: r.water.off_site,
        lambda: r.water.total,
        lambda: r.cost.owned,
        lambda: r.carbon.embodied,
        lambda: r.carbon.total,
    ):
        with pytest.raises(MissingDataError) as e:
            read()
        assert "add" in str(e.value)  # says how to supply it
    d = r.to_dict()
    assert d["water"]["total"]["value"] is None and d["water"]["total"]["missing"]
    assert d["carbon"]["operational"]["value"] > 0


def test_eur_prices_convert_at_a_dated_rate():
    r = mlsysim.training_run(
        "Llama3_2_1B", "DGX_A100", duration=Q_(1, "d"), devices=8, region="Finland"
    )
    f = r.cost.figures["energy"]
    assert "EUR_USD_2023" in f.derivation and "ecb_reference_rates" in f.sources
    assert r.cost.energy.to("USD").magnitude > 0
    with pytest.raises(DimensionError):
        Q_(1, "EUR") + Q_(1, "USD")


def test_explainers_name_the_walls_and_a_cleaner_region():
    r = mlsysim.training_run(
        "Llama3_405B",
        "H100",
        duration=Q_(54, "d"),
        devices=16_384,
        region="Germany",
        restart_time=Q_(10, "min"),
    )
    text = r.explanation
    assert "of wall time is lost to failures" in text and "checkpoint every" in text
    assert "moving to Quebec cuts it" in text
    walls = dict(r.walls())
    assert walls["fragility"].startswith(f"{r.reliability.lost_to_failures * 100:.2g} %")


def test_comparing_bases_warns():
    r = mlsysim.training_run(
        "Llama3_2_1B", "A100", duration=Q_(1, "d"), devices=8, region="Virginia"
    )
    assert "not comparable" in dict(r.walls())["sustainability"]


def test_run_json_validates_against_its_schema():
    for r in (
        _run(),
        mlsysim.training_run(
            "Llama3_405B", "H100", duration=Q_(54, "d"), devices=16_384, region="Quebec"
        ),
    ):
        jsonschema.validate(r.to_dict(), run_json_schema())


def test_serving_fleet_sizes_by_the_single_device_capacity():
    f = mlsysim.serving_fleet(
        "Llama2_7B", "H100", qps=20, slo=Q_(50, "ms"), duration=Q_(30, "d"), region="Virginia"
    )
    cap = f.capacity
    assert cap.tpot_s <= 0.050
    assert f.devices == -(-20 // cap.requests_per_s)
    assert f.energy_per_mtok.to("kWh").magnitude > 0
    assert f.cost_per_mtok.to("USD").magnitude > 0
    with pytest.raises(MissingDataError, match="water"):
        _ = f.water_per_mtok
    jsonschema.validate(f.to_dict(), fleet_json_schema())
    g = mlsysim.serving_fleet(
        "Llama2_7B",
        "H100",
        tokens_per_day=20 * 256 * 86400,
        slo=Q_(50, "ms"),
        duration=Q_(30, "d"),
        region="Virginia",
    )
    assert g.devices == f.devices


def test_serving_fleet_slo_too_tight_is_infeasible():
    with pytest.raises(mlsysim.InfeasibleError, match="cannot meet the SLO"):
        mlsysim.serving_fleet(
            "Llama2_7B", "H100", qps=1, slo=Q_(1, "ms"), duration=Q_(1, "d"), region="Iowa"
        )


def test_napkin_language_reaches_runs_and_fleets():
    from mlsysim.book import Document

    doc = Document("run.md")
    res = doc.block(
        "bloom = training_run(BLOOM_176B, JeanZay_A100, duration=2820.3 h, devices=384, "
        "region=France, power=400 W, pue=1.0, carbon_intensity=57 gCO2e/kWh)\n"
        "24.7 tCO2e ~ bloom.carbon.operational\n"
        "433 MWh ~ bloom.energy.total\n"
        "fleet = serving_fleet(Llama2_7B, H100, qps=20, slo=50 ms, duration=30 day, "
        "region=Virginia)\n"
        "check(fleet.devices >= 1, 'a fleet has devices')\n",
        1,
    )
    assert not res.failures, [f.message for f in res.failures]
    bad = doc.inline("bloom.water.total", 7)
    assert not bad.ok and "unknown" in bad.failure.message


def test_cli_run_fleet_and_schema(capsys):
    assert (
        main(
            [
                "run",
                "Llama3_405B",
                "H100",
                "--devices",
                "16384",
                "--duration",
                "54 day",
                "--region",
                "USAverage",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, run_json_schema())
    assert data["schema_version"] == "mlsysim.run/1"
    assert (
        main(
            [
                "run",
                "Llama3_405B",
                "H100",
                "--devices",
                "16384",
                "--duration",
                "54 day",
                "--region",
                "USAverage",
            ]
        )
        == 0
    )
    assert "fragility:" in capsys.readouterr().out
    assert (
        main(
            [
                "fleet",
                "Llama2_7B",
                "H100",
                "--qps",
                "20",
                "--slo",
                "50 ms",
                "--duration",
                "30 day",
                "--region",
                "Virginia",
                "--json",
            ]
        )
        == 0
    )
    jsonschema.validate(json.loads(capsys.readouterr().out), fleet_json_schema())
    for kind in ("run", "fleet"):
        assert main(["schema", "--kind", kind]) == 0
        assert json.loads(capsys.readouterr().out)["title"].startswith("mlsysim")
    assert (
        main(
            [
                "run",
                "Llama3_405B",
                "H100",
                "--devices",
                "8",
                "--duration",
                "1 day",
                "--region",
                "Atlantis",
            ]
        )
        == 2
    )


@pytest.mark.parametrize(
    "kw",
    [
        {"checkpoint": Q_(-3, "min")},
        {"tp": 0},
        {"pue": 0.5},
        {"power": Q_(-5, "W")},
        {"carbon_intensity": Q_(5, "W")},
        {"utilization": 1.5},
        {"restart_time": Q_(1, "GB")},
        {"checkpoint": "hourly"},
    ],
)
def test_bad_inputs_are_errors_not_numbers(kw):
    with pytest.raises(mlsysim.MlsysimError):
        mlsysim.training_run(
            "Llama3_8B", "H100", duration=Q_(1, "d"), devices=8, region="Iowa", **kw
        )
