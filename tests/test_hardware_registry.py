"""Hardware registry: every entry loads, is sourced, and matches the published datasheets.

Expected figures are those of /work/shared/reference/validation.md ("Datasheets" table),
written here as the datasheets print them; they are never computed from our own data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mlsysim
from mlsysim import Q_, Hardware
from mlsysim.core import registry
from mlsysim.core.registry import catalog
from mlsysim.hardware.registry import PRECISIONS

STABLE_IDS = [
    "H100",
    "H200",
    "B200",
    "A100",
    "A100_40GB",
    "V100",
    "T4",
    "MI300X",
    "TPUv4",
    "TPUv5e",
    "TPUv5p",
    "JetsonAGXOrin",
    "JetsonOrinNano",
    "STM32H743",
    "ESP32S3",
]
FABRICS = {
    "NVLink2",
    "NVLink3",
    "NVLink4",
    "NVLink5",
    "PCIe3",
    "PCIe4",
    "PCIe5",
    "InfinityFabric",
    "ICI_v4",
    "ICI_v5e",
    "ICI_v5p",
}

# (id, dotted field or (precision, sparse), expected as printed) — validation.md datasheet table
DATASHEET = [
    ("H100", ("bf16", False), "989.4 TFLOP/s"),
    ("H100", ("fp16", False), "989.4 TFLOP/s"),
    ("H100", ("bf16", True), "1979 TFLOP/s"),
    ("H100", ("fp8", False), "1979 TFLOP/s"),
    ("H100", ("fp64_tensor", False), "66.9 TFLOP/s"),
    ("H100", "memory.capacity", "80 GB"),
    ("H100", "memory.bandwidth", "3.35 TB/s"),
    ("H100", "tdp", "700 W"),
    ("H100", "interconnect.bandwidth", "900 GB/s"),
    ("A100", ("bf16", False), "312 TFLOP/s"),
    ("A100", ("fp16", False), "312 TFLOP/s"),
    ("A100", ("int8", False), "624 TOPS"),
    ("A100", ("tf32", False), "156 TFLOP/s"),
    ("A100", ("fp32", False), "19.5 TFLOP/s"),
    ("A100", "memory.capacity", "80 GB"),
    ("A100", "memory.bandwidth", "2039 GB/s"),
    ("A100", "tdp", "400 W"),
    ("A100", "interconnect.bandwidth", "600 GB/s"),
    ("A100_40GB", ("bf16", False), "312 TFLOP/s"),
    ("A100_40GB", "memory.capacity", "40 GB"),
    ("A100_40GB", "memory.bandwidth", "1555 GB/s"),
    ("MI300X", ("fp16", False), "1307.4 TFLOP/s"),
    ("MI300X", ("bf16", False), "1307.4 TFLOP/s"),
    ("MI300X", ("bf16", True), "2614.9 TFLOP/s"),
    ("MI300X", "memory.capacity", "192 GB"),
    ("MI300X", "memory.bandwidth", "5.3 TB/s"),
    ("MI300X", "tdp", "750 W"),
    ("TPUv4", ("bf16", False), "275 TFLOP/s"),
    ("TPUv4", "memory.capacity", "32 GiB"),
    ("TPUv4", "memory.bandwidth", "1200 GB/s"),
    ("TPUv5e", ("bf16", False), "197 TFLOP/s"),
    ("TPUv5e", ("int8", False), "393 TOPS"),
    ("TPUv5e", "memory.capacity", "16 GB"),
    ("TPUv5e", "memory.bandwidth", "819 GB/s"),
    ("TPUv5p", ("bf16", False), "459 TFLOP/s"),
    ("TPUv5p", "memory.capacity", "95 GB"),
    ("TPUv5p", "memory.bandwidth", "2765 GB/s"),
    ("JetsonAGXOrin", ("int8", True), "275 TOPS"),
    ("JetsonAGXOrin", "memory.bandwidth", "204.8 GB/s"),
    ("JetsonAGXOrin", "tdp", "60 W"),
    ("JetsonAGXOrin", "power_min", "15 W"),
    ("STM32H743", "clock", "480 MHz"),
    ("STM32H743", "memory.capacity", "1 MB"),
]


def _field(spec: object, dotted: str) -> Any:
    obj = spec
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(
    ("hw_id", "what", "expected"),
    DATASHEET,
    ids=[f"{h}-{w if isinstance(w, str) else '-'.join(map(str, w))}" for h, w, _ in DATASHEET],
)
def test_matches_published_datasheet(hw_id: str, what: object, expected: str) -> None:
    hw = Hardware[hw_id]
    got: Any
    if isinstance(what, tuple):
        got = hw.peak_flops(what[0], sparse=what[1])
    else:
        got = _field(hw, str(what))
    want = Q_(expected)
    assert got.dimensionality == want.dimensionality
    assert got.to(want.units).magnitude == pytest.approx(want.magnitude, rel=1e-12)


def test_binary_prefix_kept_as_written() -> None:
    assert str(Hardware.TPUv4.memory.capacity) == "32 GiB"
    assert str(Hardware.H100.memory.capacity) == "80 GB"


def test_stm32_flash_is_a_level() -> None:
    flash = Hardware.STM32H743.memory.level("flash")
    assert flash.capacity == Q_("2 MB")
    assert Hardware.STM32H743.memory.level("sram").capacity == Q_("1 MB")


@pytest.mark.parametrize("hw_id", STABLE_IDS)
def test_stable_ids_exist(hw_id: str) -> None:
    assert hw_id in Hardware
    assert getattr(Hardware, hw_id).id == hw_id


def test_phone_class_npu_present() -> None:
    assert any(h.kind in ("npu", "soc") and h.vendor not in ("NVIDIA",) for h in Hardware)


@pytest.mark.parametrize("hw", list(Hardware), ids=lambda h: h.id)
def test_entry_is_complete_and_sourced(hw) -> None:
    sources = catalog().sources
    assert hw.source in sources, f"{hw.id}: entry source {hw.source!r} does not resolve"
    for field in hw.provenance:
        assert hw.source_of(field) in sources, f"{hw.id}.{field}"
    cite = sources[hw.source]
    assert cite.title and cite.year and (cite.authors or cite.publisher)
    assert hw.peak.dense, f"{hw.id} has no dense rate"
    assert set(hw.peak.dense) <= set(PRECISIONS) and set(hw.peak.sparse) <= set(PRECISIONS)
    assert hw.memory.capacity.magnitude > 0
    if hw.list_price is not None:
        assert hw.as_of_of("list_price") is not None, f"{hw.id}: list_price needs as_of"
    if hw.kind == "mcu":
        assert hw.clock is not None and hw.interconnect is None
        kinds = {lvl.kind for lvl in hw.memory.levels}
        assert {"sram", "flash"} <= kinds
    if hw.kind in ("gpu", "tpu"):
        assert hw.interconnect is not None and hw.interconnect.fabric in FABRICS
        assert hw.memory.bandwidth is not None


def test_every_citation_has_url() -> None:
    hw_sources = {h.source_of(f) for h in Hardware for f in ("", *h.provenance)}
    for sid in hw_sources:
        assert catalog().sources[sid].url, sid


def test_aliases_resolve() -> None:
    assert Hardware["H100 SXM"] is Hardware.H100
    assert Hardware["h100-sxm5"] is Hardware.H100
    assert Hardware["A100 40GB"] is Hardware.A100_40GB
    assert Hardware["Jetson AGX Orin"] is Hardware.JetsonAGXOrin
    assert Hardware["ESP32-S3"] is Hardware.ESP32S3
    assert Hardware.resolve("TPU v5e") == "TPUv5e"


def test_list_filters() -> None:
    mcus = {h.id for h in Hardware.list(kind="mcu")}
    assert mcus == {"STM32H743", "STM32H7A3", "ESP32S3"}
    tpus = {h.id for h in Hardware.list(kind="tpu")}
    assert {"TPUv4", "TPUv5e", "TPUv5p"} <= tpus
    assert {h.id for h in Hardware.list(vendor="AMD")} == {"MI300X"}


def test_unknown_name_suggests() -> None:
    with pytest.raises(mlsysim.UnknownNameError) as err:
        Hardware["H10"]
    assert "H100" in err.value.suggestions
    assert isinstance(err.value, KeyError)
    assert "did you mean" in str(err.value)


def test_unknown_name_suggests_h200_too() -> None:
    with pytest.raises(mlsysim.UnknownNameError) as err:
        Hardware["H10"]
    assert {"H100", "H200"} <= set(err.value.suggestions)


def test_unsupported_precision_lists_what_device_has() -> None:
    with pytest.raises(mlsysim.UnsupportedPrecisionError) as err:
        Hardware.T4.peak_flops("fp8")
    msg = str(err.value)
    for p in ("fp32", "fp16", "int8", "int4"):
        assert p in msg
    assert err.value.available == sorted(["fp32", "fp16", "int8", "int4"])


def test_dense_and_sparse_never_stand_in(tmp_path: Path) -> None:
    # Jetson AGX Orin: 275 TOPS INT8 is the sparse figure; the dense one is stated separately.
    orin = Hardware.JetsonAGXOrin
    assert orin.peak_flops("int8", sparse=True) == Q_("275 TOPS")
    assert orin.peak_flops("int8") == Q_("137.5 TOPS")
    # A device whose data gives only a sparse rate never answers a dense question with it.
    (tmp_path / "sparse_only.toml").write_text(
        'schema = "mlsysim.hardware/1"\n'
        '[sources.s]\ntitle = "t"\npublisher = "p"\nyear = 2024\n'
        '[SparseOnly]\nkind = "accelerator"\nvendor = "x"\nsource = "s"\n'
        'peak.dense = { fp32 = "1 TFLOP/s" }\npeak.sparse = { bf16 = "10 TFLOP/s" }\n'
        'memory = { type = "HBM3", capacity = "1 GB", bandwidth = "1 TB/s" }\n'
    )
    mlsysim.add_data_dir(tmp_path)
    try:
        with pytest.raises(mlsysim.UnsupportedPrecisionError, match="dense"):
            Hardware.SparseOnly.peak_flops("bf16")
        assert Hardware.SparseOnly.peak_flops("bf16", sparse=True) == Q_("10 TFLOP/s")
    finally:
        registry._extra_dirs.clear()
        registry.reset()
    # TPUs and V100 have no sparse mode at all.
    with pytest.raises(mlsysim.UnsupportedPrecisionError, match="sparse"):
        Hardware.TPUv5e.peak_flops("bf16", sparse=True)
    assert not Hardware.V100.supports_2_4_sparsity
    assert Hardware.A100.supports_2_4_sparsity


def test_missing_optional_figure_is_a_teaching_error() -> None:
    with pytest.raises(mlsysim.MlsysimError, match=r"ESP32S3 has no memory\.bandwidth"):
        Hardware.ESP32S3.require("memory.bandwidth")
    assert Hardware.H100.require("memory.bandwidth") == Q_("3.35 TB/s")


def test_file_of_points_at_data_file() -> None:
    assert Hardware.file_of("H100").name == "nvidia_datacenter.toml"
    assert Hardware.file_of("STM32H743").name == "microcontrollers.toml"


def test_interconnect_fabrics_exist_in_systems_registry() -> None:
    fabrics = mlsysim.Fabrics
    for hw in Hardware:
        if hw.interconnect is not None and hw.interconnect.fabric is not None:
            assert hw.interconnect.fabric in fabrics, f"{hw.id}: {hw.interconnect.fabric}"
