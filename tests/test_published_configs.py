"""The parallelism search against configurations of published large-scale runs.

Cases: ``tests/data/published_configs.toml`` (Narayanan et al. 2021 Tables 1–2, Korthikanti
et al. 2022 Table 5, MT-NLG, Llama 3 405B, BLOOM, Megatron Bridge FP8) and
``tests/data/published_configs_more.toml`` (llm-foundry's FSDP runs, MegaScale's Megatron-LM
baseline). For each, the best configuration ``optimize_parallelism`` finds — every parallel
keyword free, the same model, system, devices, batch, sequence, precision and plan options —
must predict at least the throughput the model predicts for the published configuration
(under the same model: a relative check, robust to changes of the single-step physics). A
published configuration the model says does not fit is a case with ``expect_fits = false``
and its ``known_gap`` (stale expectations fail).

``python tests/test_published_configs.py`` prints both predictions against the measurement.

The case files (these and ``distributed_measurements.toml``) are read by :func:`read_table`:
a text several cases share is stated once in the file's ``[texts]`` table and a case's
``conditions``, ``measured_gap`` or ``known_gap`` refers to it — ``{ text = "name" }``, or an
array of such references and strings, joined by spaces.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import mlsysim
from mlsysim.solvers.optimize.parallel import ParallelSearch, optimize_parallelism

_DATA = Path(__file__).parent / "data"
FILES = ("published_configs.toml", "published_configs_more.toml")
#: Case fields whose text may refer to the file's ``[texts]``.
TEXT_FIELDS = ("conditions", "measured_gap", "known_gap")


def _text(value: Any, texts: dict[str, Any], used: set[str], where: str, out: list[str]) -> Any:
    """One field's text: a string, a ``{ text = name }`` reference, or an array of both
    (joined by spaces); each problem is appended to ``out`` (with ``where``)."""
    parts = value if isinstance(value, list) else [value]
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, dict) and set(part) == {"text"} and part["text"] in texts:
            used.add(part["text"])
            pieces.append(texts[part["text"]])
        elif isinstance(part, dict) and set(part) == {"text"}:
            known = ", ".join(sorted(texts)) or "none"
            out.append(f"{where}: no text {part['text']!r} in [texts] (known: {known})")
        else:
            form = 'a string, { text = "name" } or an array of them'
            out.append(f"{where}: {form}, got {part!r}")
    return " ".join(pieces)


def read_table(path: Path) -> dict[str, Any]:
    """A case file with its shared texts resolved: every case field of :data:`TEXT_FIELDS`
    a plain string. A ValueError lists every unknown or malformed reference and every text
    of ``[texts]`` no case uses, each with the file and the case."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    texts = table.pop("texts", {})
    problems = [
        f"{path.name}: [texts] {name} must be a string"
        for name, text in texts.items()
        if not isinstance(text, str)
    ]
    used: set[str] = set()
    for case in table.get("case", []):
        for field in TEXT_FIELDS:
            if field in case:
                where = f"{path.name}: case {case.get('id', '?')!r}: {field}"
                case[field] = _text(case[field], texts, used, where, problems)
    problems += [f"{path.name}: [texts] {name} is used by no case" for name in texts.keys() - used]
    if problems:
        raise ValueError("\n".join(problems))
    return table


def load_configs() -> dict[str, Any]:
    """Every file's ``sources`` and ``case`` tables, merged (ids stay unique across files)."""
    merged: dict[str, Any] = {"sources": {}, "case": []}
    for name in FILES:
        table = read_table(_DATA / name)
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


def test_shared_texts_resolve(tmp_path: Path) -> None:
    f = tmp_path / "cases.toml"
    f.write_text(
        '[texts]\nshared = "Stated once."\n'
        '[[case]]\nid = "a"\nconditions = { text = "shared" }\n'
        '[[case]]\nid = "b"\nconditions = [{ text = "shared" }, "And more."]\n'
        'measured_gap = "plain"\n',
        encoding="utf-8",
    )
    a, b = read_table(f)["case"]
    assert a["conditions"] == "Stated once."
    assert b["conditions"] == "Stated once. And more." and b["measured_gap"] == "plain"


def test_shared_text_problems_are_all_reported(tmp_path: Path) -> None:
    f = tmp_path / "cases.toml"
    f.write_text(
        '[texts]\nunused = "x"\nshared = "y"\n'
        '[[case]]\nid = "a"\nconditions = { text = "shraed" }\n'
        '[[case]]\nid = "b"\nknown_gap = { name = "shared" }\nconditions = [3]\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        read_table(f)
    lines = str(err.value).splitlines()
    assert len(lines) == 5, lines
    assert "cases.toml: case 'a': conditions: no text 'shraed'" in lines[0]
    assert "case 'b': conditions" in lines[1] and "case 'b': known_gap" in lines[2]
    assert {line.split("[texts] ")[1] for line in lines[3:]} == {
        "unused is used by no case",
        "shared is used by no case",
    }


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
