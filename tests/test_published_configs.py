"""The parallelism search against configurations of published large-scale runs.

Cases: ``tests/data/published_configs.toml`` (Narayanan et al. 2021 Tables 1–2, Korthikanti
et al. 2022 Table 5, MT-NLG, Llama 3 405B, BLOOM, Megatron Bridge FP8) and
``tests/data/published_configs_more.toml`` (llm-foundry's FSDP runs). For each, the best
configuration ``optimize_parallelism`` finds — every parallel keyword free, the same model,
system, devices, batch, sequence, precision and plan options — must predict at least the
throughput the model predicts for the published configuration (under the same model: a
relative check, robust to changes of the single-step physics). A published configuration
the model says does not fit is a case with ``expect_fits = false`` and its ``known_gap``
(stale expectations fail).

``python tests/test_published_configs.py`` prints both predictions against the measurement.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import mlsysim
from mlsysim.solvers.optimizers_parallel import ParallelSearch, optimize_parallelism

_DATA = Path(__file__).parent / "data"
FILES = ("published_configs.toml", "published_configs_more.toml")


def load_configs() -> dict[str, Any]:
    """Every file's ``sources`` and ``case`` tables, merged (ids stay unique across files)."""
    merged: dict[str, Any] = {"sources": {}, "case": []}
    for name in FILES:
        table = tomllib.loads((_DATA / name).read_text(encoding="utf-8"))
        merged["sources"].update(table["sources"])
        merged["case"] += table["case"]
    return merged


_TABLE: dict[str, Any] = load_configs()
CASES: list[dict[str, Any]] = _TABLE["case"]
_SHARED = ("devices", "batch", "seq_len", "precision")


def _common(case: dict[str, Any]) -> dict[str, Any]:
    kw = {k: case[k] for k in _SHARED if k in case}
    kw.update(case.get("options", {}))
    return kw


def published(case: dict[str, Any]) -> Any:
    return mlsysim.solve(
        case["model"], case["system"], phase="training", **_common(case), **case["published"]
    )


_SEARCHES: dict[str, ParallelSearch] = {}


def searched(case: dict[str, Any]) -> ParallelSearch:
    """The search under the case's conditions (cases that share them share one search)."""
    key = repr((case["model"], case["system"], sorted(_common(case).items())))
    hit = _SEARCHES.get(key)
    if hit is None:
        hit = optimize_parallelism(case["model"], case["system"], keep=1, **_common(case))
        _SEARCHES[key] = hit
    return hit


def _throughput(r: Any) -> float:
    return float(r.tokens_per_step / r.step_time_s)


def test_cases_are_sourced() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 25
    for c in CASES:
        assert c["source"] in _TABLE["sources"], c["id"]
        assert c["conditions"] and c["measured"]["kind"] in (
            "hardware_tflops",
            "model_tflops",
            "step_time",
            "tokens_per_s",
        )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_the_search_predicts_at_least_the_published_configuration(case: dict[str, Any]) -> None:
    pub = published(case)
    assert pub.feasible is case.get("expect_fits", True), (
        f"{case['id']}: the published configuration "
        + ("fits now: drop expect_fits/known_gap" if pub.feasible else "no longer fits")
    )
    best = searched(case)
    assert best.feasible, case["id"]
    if pub.feasible:
        assert best.throughput.magnitude >= _throughput(pub) * (1 - 1e-9), (
            case["id"],
            best.config,
        )


def _row(case: dict[str, Any]) -> str:
    pub, best = published(case), searched(case)
    m = case["measured"]
    per = 1e-12 / (pub.devices)
    if m["kind"] == "step_time":
        meas = f"{m['value']:.4g} s/step"
        ours = f"{pub.step_time_s:.4g} s" if pub.feasible else "does not fit"
        top = f"{best.result.step_time_s:.4g} s"
    elif m["kind"] == "tokens_per_s":
        meas = f"{m['value']:.5g} tok/s/GPU"
        ours = f"{_throughput(pub) / pub.devices:.5g}" if pub.feasible else "no fit"
        top = f"{_throughput(best.result) / best.result.devices:.5g}"
    else:
        hardware = m["kind"] == "hardware_tflops"
        meas = f"{m['value']:.4g} {'hw' if hardware else 'model'} TFLOP/s"
        field = "hardware_flops_per_step" if hardware else "model_flops_per_step"
        ours = f"{getattr(pub, field) / pub.step_time_s * per:.4g}" if pub.feasible else "no fit"
        b = best.result
        top = f"{getattr(b, field) / b.step_time_s * per:.4g}"
    gain = _throughput(best.result) / _throughput(pub) if pub.feasible else float("nan")
    cfg = " ".join(
        k if v is True else f"{k}={v}"
        for k, v in best.config.items()
        if v is not False and not (type(v) is int and v == 1)
    )
    return f"{case['id']:34s} {meas:>22s} {ours:>12s} {top:>10s} {gain:6.2f}×  {cfg}"


if __name__ == "__main__":
    print(f"{'case':34s} {'measured':>22s} {'published':>12s} {'best':>10s} {'gain':>7s}  best")
    for c in CASES:
        print(_row(c))
