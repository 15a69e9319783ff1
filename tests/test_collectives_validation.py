"""Collectives on the topology against public nccl-tests measurements (not tuned to them).

The cases live in ``tests/data/nccl_tests_measurements.toml`` with their sources. For every
case the line-rate bound is never beaten by the measurement, and the achievable estimate
lands inside the stated band (achievable/measured bus bandwidth, or small-message time).
Cases whose figure also set a registry efficiency are marked ``calibration``.

``python tests/test_collectives_validation.py`` prints the comparison table.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import mlsysim
from mlsysim.core.units import Q_
from mlsysim.systems.collectives import CollectiveResult

_DATA = Path(__file__).parent / "data" / "nccl_tests_measurements.toml"
_TABLE: dict[str, Any] = tomllib.loads(_DATA.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = _TABLE["case"]
BANDS: dict[str, list[float]] = _TABLE["band"]


def _system(case: dict[str, Any]) -> Any:
    node = mlsysim.Nodes[case["node"]]
    update = {k: case[k] for k in ("nics", "accelerator", "accelerators") if k in case}
    if update:
        update["id"] = f"{node.id}_{'_'.join(str(v) for v in update.values())}"
        return node.model_copy(update=update)
    return node


def _run(case: dict[str, Any]) -> CollectiveResult:
    return mlsysim.collective(
        case["op"], case["size"], _system(case), case["devices"], case["algorithm"]
    )


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in cases]


BW_CASES = [c for c in CASES if "measured_busbw" in c]
TIME_CASES = [c for c in CASES if "measured_time" in c]


def test_every_case_is_sourced() -> None:
    for case in CASES:
        assert case["source"].startswith("https://") and case["source_title"], case["id"]


@pytest.mark.parametrize("case", BW_CASES, ids=_ids(BW_CASES))
def test_bound_never_beaten(case: dict[str, Any]) -> None:
    r = _run(case)
    measured = Q_(case["measured_busbw"]).to("GB/s").magnitude
    assert r.busbw_bound.to("GB/s").magnitude >= measured, (
        f"{case['id']}: measured {measured} GB/s beats the bound {r.busbw_bound:.4g~P}"
    )


@pytest.mark.parametrize("case", BW_CASES, ids=_ids(BW_CASES))
def test_busbw_within_band(case: dict[str, Any]) -> None:
    r = _run(case)
    measured = Q_(case["measured_busbw"]).to("GB/s").magnitude
    ratio = r.busbw.to("GB/s").magnitude / measured
    lo, hi = BANDS["busbw"]
    assert lo <= ratio <= hi, f"{case['id']}: achievable/measured = {ratio:.3f} ({r})"
    if "expected_algorithm" in case:
        assert r.algorithm == case["expected_algorithm"]


@pytest.mark.parametrize("case", TIME_CASES, ids=_ids(TIME_CASES))
def test_small_message_time_within_band(case: dict[str, Any]) -> None:
    r = _run(case)
    measured = Q_(case["measured_time"]).to("us").magnitude
    ratio = r.time.to("us").magnitude / measured
    lo, hi = BANDS["latency"]
    assert lo <= ratio <= hi, f"{case['id']}: achievable/measured = {ratio:.3f} ({r})"
    assert r.time_bound.to("us").magnitude <= measured


def test_nvls_beats_the_ring_bound_but_not_its_own() -> None:
    # the case: 480 GB/s measured on 8x H100 with NVLS exceeds the 450 GB/s ring bound
    ring = mlsysim.collective("all_reduce", "8 GB", "DGX_H100", algorithm="ring")
    auto = mlsysim.collective("all_reduce", "8 GB", "DGX_H100")
    assert ring.busbw_bound.to("GB/s").magnitude == pytest.approx(450.0, rel=1e-6)
    assert auto.algorithm == "nvls" and auto.busbw_bound.to("GB/s").magnitude > 480.0


def main() -> None:  # pragma: no cover - a report for humans
    print(f"{'case':32s} {'algorithm':12s} {'measured':>10s} {'ours':>10s} {'bound':>10s} ratio")
    for case in CASES:
        r = _run(case)
        if "measured_busbw" in case:
            m = Q_(case["measured_busbw"]).to("GB/s").magnitude
            ours, bound = r.busbw.to("GB/s").magnitude, r.busbw_bound.to("GB/s").magnitude
            unit = "GB/s"
        else:
            m = Q_(case["measured_time"]).to("us").magnitude
            ours, bound = r.time.to("us").magnitude, r.time_bound.to("us").magnitude
            unit = "us"
        flag = " (calibration)" if case.get("calibration") else ""
        print(
            f"{case['id']:32s} {r.algorithm:12s} {m:8.4g}{unit:>2s} {ours:8.4g}{unit:>2s} "
            f"{bound:8.4g}{unit:>2s} {ours / m:.3f}{flag}"
        )


if __name__ == "__main__":  # pragma: no cover
    main()
