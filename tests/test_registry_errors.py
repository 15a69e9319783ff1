"""Malformed registry data fails at load with an error naming file, entry, field and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mlsysim
from mlsysim import Hardware
from mlsysim.core import registry

GOOD = """
schema = "mlsysim.hardware/1"

[sources.bad_spec]
title = "A test specification"
publisher = "Test"
year = 2025

[BadChip]
name = "Bad chip"
kind = "accelerator"
vendor = "Test"
source = "bad_spec"
tdp = "100 W"

[BadChip.peak.dense]
bf16 = "100 TFLOP/s"

[BadChip.memory]
type = "HBM3"
capacity = "16 GB"
bandwidth = "1 TB/s"
"""


def _load(d: Path, text: str) -> pytest.ExceptionInfo[Any]:
    (d / "bad.toml").write_text(text, encoding="utf-8")
    registry.reset()
    with pytest.raises(mlsysim.MlsysimError) as err:
        list(Hardware)
    return err


def test_good_file_loads(user_dir: Path) -> None:
    (user_dir / "bad.toml").write_text(GOOD, encoding="utf-8")
    registry.reset()
    assert Hardware.BadChip.tdp == mlsysim.Q_("100 W")


def test_bandwidth_given_as_bytes(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace('bandwidth = "1 TB/s"', 'bandwidth = "3.35 TB"'))
    e = err.value
    assert isinstance(e, mlsysim.RegistryDataError) and isinstance(e, ValueError)
    assert e.file.endswith("bad.toml") and e.entry == "BadChip"
    msg = str(e)
    for part in ("bad.toml", "BadChip", "3.35 TB", "information", "bandwidth", "time"):
        assert part in msg, part


def test_bandwidth_given_as_bytes_names_field(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace('bandwidth = "1 TB/s"', 'bandwidth = "3.35 TB"'))
    assert err.value.field == "memory.bandwidth"
    assert "memory.bandwidth" in str(err.value)


def test_unknown_precision(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace('bf16 = "100 TFLOP/s"', 'bfloat16 = "100 TFLOP/s"'))
    assert err.value.field == "peak.dense"
    assert "bfloat16" in str(err.value) and "bf16" in str(err.value)


def test_misspelled_field(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace('tdp = "100 W"', 'tdpp = "100 W"'))
    assert err.value.field == "tdpp"
    assert "spelling" in str(err.value)


def test_rate_with_wrong_dimension(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace('bf16 = "100 TFLOP/s"', 'bf16 = "100 TB/s"'))
    assert err.value.entry == "BadChip"
    assert "computation" in str(err.value) and "100 TB/s" in str(err.value)


def test_unparsable_unit(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace('tdp = "100 W"', 'tdp = "100 Watts-ish"'))
    assert err.value.entry == "BadChip" and "100 Watts-ish" in str(err.value)


def test_drifting_price_needs_as_of(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace('tdp = "100 W"', 'tdp = "100 W"\nlist_price = "10 USD"'))
    assert isinstance(err.value, mlsysim.RegistryDataError)
    assert err.value.field == "list_price" and "as_of" in str(err.value)


def test_unknown_citation(user_dir: Path) -> None:
    # Raised by the loader's cross-check (after every file is read), as a data error: never a
    # KeyError-like "no name" that a lookup could mistake for a missing registry id.
    err = _load(user_dir, GOOD.replace('source = "bad_spec"', 'source = "bad_specc"'))
    assert isinstance(err.value, mlsysim.RegistryDataError)
    assert not isinstance(err.value, KeyError)
    assert "unknown citation id 'bad_specc'; did you mean bad_spec?" in str(err.value)
    assert err.value.file.endswith("bad.toml") and err.value.entry == "BadChip"


def test_missing_schema(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace('schema = "mlsysim.hardware/1"', ""))
    assert "schema" in str(err.value) and err.value.file.endswith("bad.toml")


def test_invalid_toml(user_dir: Path) -> None:
    err = _load(user_dir, GOOD + "\n[broken\n")
    assert "not valid TOML" in str(err.value)


def test_gpu_without_tdp(user_dir: Path) -> None:
    text = GOOD.replace('kind = "accelerator"', 'kind = "gpu"').replace('tdp = "100 W"\n', "")
    err = _load(user_dir, text)
    assert err.value.entry == "BadChip" and "tdp" in str(err.value)


def test_entry_id_must_be_identifier(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace("[BadChip", '["Bad-Chip"'))
    assert "Python identifier" in str(err.value)


# -- the fix text follows the error's kind (never a unit example for a non-unit error) -------
_MODEL = """
schema = "mlsysim.model/1"

[sources.my_paper]
title = "My model"
authors = "Me"
year = 2024

[MyModel]
kind = "transformer"
task = "llm"
source = "my_paper"
params = "{params}"

[MyModel.transformer]
layers = {layers}
hidden = 4096
heads = 32
kv_heads = 32
ffn = 11008
ffn_gated = true
vocab = 32000
max_seq_len = 4096
"""


def _load_model(d: Path, params: str = "6.74e9 param", layers: str = "32") -> Any:
    (d / "bad.toml").write_text(_MODEL.format(params=params, layers=layers), encoding="utf-8")
    registry.reset()
    with pytest.raises(mlsysim.RegistryDataError) as err:
        mlsysim.Models.ids()
    return err.value


def test_stated_count_mismatch_has_no_unrelated_fix(user_dir: Path) -> None:
    """A count the shape does not reproduce: the message says what to check; no unit text."""
    e = _load_model(user_dir, params="9e9 param")
    assert "6,738,415,616" in str(e) and "correct params" in str(e)
    assert e.fix == "" and "TB/s" not in str(e) and "How to fix" not in str(e)


def test_wrong_dimension_fix_names_the_fields_dimension(user_dir: Path) -> None:
    e = _load_model(user_dir, params="6.74e9 W")
    assert e.field == "params" and "power" in str(e)
    assert e.fix == "write params with a unit of parameters", e.fix


def test_wrong_type_fix_points_at_the_grammar(user_dir: Path) -> None:
    e = _load_model(user_dir, layers='"many"')
    assert e.field == "transformer.layers"
    assert "registry-grammar" in e.fix and "TB/s" not in e.fix


def test_negative_figure_says_itself_what_to_change(user_dir: Path) -> None:
    err = _load(user_dir, GOOD.replace('tdp = "100 W"', 'tdp = "-100 W"'))
    assert "must not be negative" in str(err.value) and "TB/s" not in str(err.value)
