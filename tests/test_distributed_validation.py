"""Distributed solver against published large-scale training measurements (not tuned to them).

Cases: ``tests/data/distributed_measurements.toml`` — Korthikanti et al. 2022 Table 5 (step
times, target within 8 %) and Fig. 1 (memory per GPU, within 10 %), Llama 3 405B on 8K and
16K GPUs (Dubey et al. 2024, Table 4), NeMo 24.12 FP8 pre-training throughput, and the
measured throughput of every published configuration in ``published_configs.toml`` and
``published_configs_more.toml`` (Narayanan et al. 2021 Tables 1-2 with ZeRO-3 against PTD-P,
MT-NLG, Llama 3, BLOOM, Megatron Bridge, llm-foundry's FSDP runs, MegaScale's Megatron-LM
baseline). For every case: no measurement beats the ideal bound; the estimate lands in its
class's band, or the case names its ``known_gap`` and is reported as XFAIL with its numbers
(a case with a gap that lands in band fails, so stale gaps are removed). A case whose source
leaves a keyword unstated lists its plausible values (``unstated``): it must land in band at
every one. A scaling pair (``[[scaling]]``: one source's runs at two scales) must reproduce
the measured ratio of their throughputs per GPU within the source's rounding, whatever the
level, or name its ``known_gap`` (XFAIL with its numbers; stale gaps fail as the cases' do).

``python tests/test_distributed_validation.py`` prints the comparison table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mlsysim
from mlsysim.core.formulas import layer_chunks
from mlsysim.solvers.distributed.results import DistributedResult

try:
    from tests.test_published_configs import load_configs, read_table
except ModuleNotFoundError:  # run as a script: python tests/test_distributed_validation.py
    from test_published_configs import load_configs, read_table  # type: ignore[no-redef]

_DATA = Path(__file__).parent / "data" / "distributed_measurements.toml"
_TABLE: dict[str, Any] = read_table(_DATA)
_CONFIGS: dict[str, Any] = load_configs()  # published_configs.toml and _more.toml
CLASSES: dict[str, dict[str, Any]] = _TABLE["class"]
SOURCES: dict[str, dict[str, str]] = {**_CONFIGS["sources"], **_TABLE["sources"]}


def _published_runs() -> list[dict[str, Any]]:
    """The measured throughput of every published configuration of
    ``published_configs*.toml`` (the optimizer's held-out set), as cases of this file: the
    configuration as published, its measurement, its ``measured_gap`` if it has one."""
    cases = []
    for c in _CONFIGS["case"]:
        m = c["measured"]
        if m["kind"] == "step_time" or not c.get("expect_fits", True):
            continue  # Korthikanti's step times are cases above; a no-fit has nothing to time
        keywords = {k: c[k] for k in ("devices", "batch", "seq_len", "precision") if k in c}
        solve = {"model": c["model"], "system": c["system"], "phase": "training"}
        cases.append(
            {
                "id": c["id"],
                "class": "published_runs",
                "source": c["source"],
                "conditions": c["conditions"],
                "measured": {f"{m['kind']}_per_gpu": float(m["value"])},
                "solve": {**solve, **keywords, **c.get("options", {}), **c["published"]},
                "known_gap": c.get("measured_gap", ""),
                **({"unstated": c["unstated"]} if "unstated" in c else {}),
            }
        )
    return cases


CASES: list[dict[str, Any]] = _TABLE["case"] + _published_runs()
TIMED = [c for c in CASES if c["class"] != "memory"]
MEMORY = [c for c in CASES if c["class"] == "memory"]
_GIB = 2.0**30
_RESULTS: dict[str, DistributedResult] = {}


def _solve(case: dict[str, Any]) -> DistributedResult:
    hit = _RESULTS.get(case["id"])
    if hit is None:
        hit = mlsysim.solve(**case["solve"])
        assert isinstance(hit, DistributedResult)
        _RESULTS[case["id"]] = hit
    return hit


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in cases]


def _compare(case: dict[str, Any]) -> tuple[str, float, float, float]:
    """(quantity, measured, achievable, bound) — the bound is optimistic for every kind."""
    r = _solve(case)
    ((kind, measured),) = case["measured"].items()
    if kind == "step_time":
        return kind, measured, r.step_time_s, r.step_time_bound_s
    if kind == "mfu":
        return kind, measured, r.mfu, r.mfu * r.step_time_s / r.step_time_bound_s
    if kind == "hfu":
        return kind, measured, r.hfu, r.hfu * r.step_time_s / r.step_time_bound_s
    if kind == "tokens_per_s_per_gpu":
        per_gpu = r.tokens_per_step / r.devices
        return kind, measured, per_gpu / r.step_time_s, per_gpu / r.step_time_bound_s
    if kind in ("hardware_tflops_per_gpu", "model_tflops_per_gpu"):
        flops = r.hardware_flops_per_step if kind[0] == "h" else r.model_flops_per_step
        per_gpu = flops / r.devices * 1e-12
        return kind, measured, per_gpu / r.step_time_s, per_gpu / r.step_time_bound_s
    m = r.memory
    if kind == "state_gib":
        state = m.weights_bytes + m.gradients_bytes + m.optimizer_bytes
        return kind, measured, state / _GIB, state / _GIB
    return kind, measured, m.activations_bytes / _GIB, m.activations_bytes / _GIB


def _ratio(kind: str, measured: float, ours: float) -> float:
    """Achievable over measured, as a time ratio (> 1: we are slower or larger)."""
    return (
        ours / measured
        if kind in ("step_time", "state_gib", "activations_gib")
        else (measured / ours)
    )


def test_cases_are_sourced_and_classified() -> None:
    for case in CASES:
        assert case["source"] in SOURCES, case["id"]
        assert case["class"] in CLASSES, case["id"]
        assert SOURCES[case["source"]]["url"].startswith("https://")
        assert len(case["measured"]) == 1


@pytest.mark.parametrize("case", TIMED, ids=_ids(TIMED))
def test_bound_never_beaten(case: dict[str, Any]) -> None:
    r = _solve(case)
    assert r.feasible, f"{case['id']}: infeasible ({r.explanation})"
    kind, measured, _, bound = _compare(case)
    if kind == "step_time":
        assert bound <= measured, f"{case['id']}: bound {bound:.4g} s beats measured {measured}"
    else:
        assert bound >= measured, f"{case['id']}: measured {measured} beats the bound {bound:.4g}"


def _variants(case: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The case solved at every plausible value of each keyword its source leaves unstated
    (``unstated = { keyword = [values] }``; the value the case assumes among them)."""
    out = []
    for key, values in case.get("unstated", {}).items():
        assumed = case["solve"].get(key, 1 if key == "chunks" else None)
        assert assumed in values, f"{case['id']}: the assumed {key}={assumed} is not in {values}"
        for v in values:
            if v != assumed:
                label = f"{key}={v}"
                solve = {**case["solve"], key: v}
                out.append((label, {**case, "id": f"{case['id']}[{label}]", "solve": solve}))
    return out


def _in_band(case: dict[str, Any]) -> tuple[bool, str]:
    """Whether the case lands in its class's band at the assumed configuration and at every
    plausible value of what its source leaves unstated, and the numbers that say so."""
    kind, measured, ours, _ = _compare(case)
    ratio = _ratio(kind, measured, ours)
    lo, hi = CLASSES[case["class"]]["band"]
    others = [(label, _ratio(*_compare(c)[:3])) for label, c in _variants(case)]
    inside = all(lo <= r <= hi for r in (ratio, *(r for _, r in others)))
    text = (
        f"{case['id']}: {kind} measured {measured:.4g}, ours {ours:.4g} (time ratio "
        f"{ratio:.3f}"
        + "".join(f"; {label}: {r:.3f}" for label, r in others)
        + f", band [{lo}, {hi}])"
    )
    return inside, text


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_within_class_band(case: dict[str, Any]) -> None:
    """In band at the assumed configuration and at every plausible value of what the source
    leaves unstated (the measurement cannot tell them apart)."""
    inside, text = _in_band(case)
    gap = case.get("known_gap", "")
    if gap and inside:
        pytest.fail(f"{text} is inside its band: remove the stale known_gap")
    if not inside:
        if gap:
            pytest.xfail(f"known gap — {text}: {gap}")
        pytest.fail(text)


def test_every_unstated_value_must_land_in_band() -> None:
    # Korthikanti's 530B row lands in band at 1 and 3 chunks; without recomputation (a value
    # its source rules out) it would not: listed as plausible, that value fails the case
    (case,) = (c for c in CASES if c["id"] == "k530b_full_recompute")
    assert _in_band(case)[0]
    inside, text = _in_band({**case, "unstated": {"recompute": ["full", "none"]}})
    assert not inside and "recompute=none: " in text
    with pytest.raises(AssertionError, match="assumed"):
        _variants({**case, "unstated": {"chunks": [2, 3]}})


SCALING: list[dict[str, Any]] = _TABLE.get("scaling", [])


def _per_gpu_throughput(r: DistributedResult) -> float:
    return r.model_flops_per_step / r.devices / r.step_time_s


@pytest.mark.parametrize("pair", SCALING, ids=[p["id"] for p in SCALING])
def test_scaling_pair_within_rounding(pair: dict[str, Any]) -> None:
    by_id = {c["id"]: c for c in CASES}
    small, large = (_solve(by_id[i]) for i in pair["cases"])
    ours = _per_gpu_throughput(large) / _per_gpu_throughput(small)
    a, b = pair["measured_tflops"]
    half = pair["resolution"] / 2
    lo, hi = (b - half) / (a + half), (b + half) / (a - half)
    assert pair["source"] in SOURCES
    text = (
        f"{pair['id']}: ours {ours:.4f} of the first run's throughput per GPU, measured "
        f"{b / a:.4f} (rounding: [{lo:.4f}, {hi:.4f}])"
    )
    inside, gap = lo <= ours <= hi, pair.get("known_gap", "")
    if gap and inside:
        pytest.fail(f"{text} is inside its rounding: remove the stale known_gap")
    if not inside:
        if gap:
            pytest.xfail(f"known gap — {text}: {gap}")
        pytest.fail(text)


def test_a_scaling_gap_inside_its_rounding_is_stale() -> None:
    (pair,) = (p for p in SCALING if p["id"] == "llama3_405b_8k_to_16k")
    with pytest.raises(pytest.fail.Exception, match="remove the stale known_gap"):
        test_scaling_pair_within_rounding({**pair, "known_gap": "a gap"})


def test_llama3_rows_run_the_one_layer_split() -> None:
    # Dubey et al. 2024, Section 3.3.2: the first/last model chunk holds only the embedding/
    # the loss, so a chunk is one layer's place; the rows' chunks are that split's
    rows = [c for c in CASES if c["source"] == "dubey2024"]
    assert len(rows) == 5
    for c in rows:
        s = c["solve"]
        layers = mlsysim.Models.get(s["model"]).layers
        assert s["chunks"] == layer_chunks(layers, s["pp"]), c["id"]


def test_korthikanti_recompute_ordering() -> None:
    # full recompute is slower than SP + selective for every model of Table 5 (as measured)
    table = {c["id"]: _solve(c).step_time_s for c in TIMED if c["class"] == "korthikanti_table5"}
    for size in ("22b", "175b", "530b", "1t"):
        assert table[f"k{size}_full_recompute"] > table[f"k{size}_sp_selective"]


def _ptd_and_zero3(run: str) -> tuple[float, float]:
    by_id = {c["id"]: c for c in CASES}
    z = _compare(by_id[f"narayanan2021-t2-zero3-{run}"])[2]
    p = _compare(by_id[f"narayanan2021-t2-ptd-{run}"])[2]
    return p, z


@pytest.mark.parametrize("run", ["175B-1536", "530B-2240"])
def test_ptd_outruns_zero3_at_equal_gpu_counts(run: str) -> None:
    # Narayanan et al. 2021 Table 2: PTD-P beats ZeRO-3 by about 3x at the largest scale
    p, z = _ptd_and_zero3(run)
    assert p > z, f"PTD-P {p:.4g} vs ZeRO-3 {z:.4g} hardware TFLOP/s per GPU"


@pytest.mark.xfail(
    strict=True,
    reason="known gap: at 384 GPUs the model ranks ZeRO-3 (170 TFLOP/s per GPU, inside its "
    "band) above PTD-P (163), where Narayanan et al. 2021 Table 2 measured 144 against 153: "
    "the 6 % the paper separates them by is inside the two estimates' errors",
)
def test_ptd_outruns_zero3_at_384_gpus() -> None:
    p, z = _ptd_and_zero3("175B-384")
    assert p > z, f"PTD-P {p:.4g} vs ZeRO-3 {z:.4g} hardware TFLOP/s per GPU"


def main() -> None:  # pragma: no cover - a report for humans
    print(f"{'case':40s} {'quantity':22s} {'measured':>10s} {'ours':>10s} {'bound':>10s} ratio")
    for case in CASES:
        kind, measured, ours, bound = _compare(case)
        ratio = _ratio(kind, measured, ours)
        lo, hi = CLASSES[case["class"]]["band"]
        flag = "" if lo <= ratio <= hi else "  (known gap)" if case.get("known_gap") else "  MISS"
        print(
            f"{case['id']:40s} {kind:22s} {measured:10.4g} {ours:10.4g} {bound:10.4g} "
            f"{ratio:.3f}{flag}"
        )
    by_id = {c["id"]: c for c in CASES}
    for pair in SCALING:
        small, large = (_solve(by_id[i]) for i in pair["cases"])
        a, b = pair["measured_tflops"]
        ours = _per_gpu_throughput(large) / _per_gpu_throughput(small)
        flag = "  (known gap)" if pair.get("known_gap") else ""
        print(f"scaling {pair['id']:32s} measured {b / a:.4f}, ours {ours:.4f}{flag}")


if __name__ == "__main__":  # pragma: no cover
    main()
