"""Execution engines as sourced data: how fast a device runs a step under TensorRT, a compiled
graph, an eager framework, llama.cpp or an MCU runtime.

An engine (``hardware/data/engines.toml``, schema ``mlsysim.engine/1``) says

* how it *fuses* (``fusion``): ``"fused"`` engines (TensorRT, XLA, torch.compile, TFLite
  Micro) fold batch norm into convolutions and run element-wise chains in their neighbours'
  epilogues; ``"unfused"`` engines (PyTorch or TensorFlow eager) run every framework
  operation as its own kernel, each reading and writing its tensors;
* how it *launches* kernels (``launch``): ``"graph"`` (a CUDA graph replays the step: a fixed
  cost per replay and a small one per node), ``"async"`` (one host launch per kernel,
  hidden behind the previous kernel unless that kernel is shorter) or ``"sync"`` (the core
  that launches also computes: an MCU interpreter);
* the device kinds or architectures it runs on, the phases it runs (TensorRT does not train),
  the device classes it is the default for, and
* its achievable efficiencies per *device class* — a ``profile`` per architecture
  (``"hopper"``, ``"cortex_m7"``), per kind (``"gpu"``, ``"mcu"``) and a ``"default"``,
  looked up most specific first, field by field. Every figure cites its source.

:func:`engine_for` picks the engine a solve runs under (the one named, else the default for
the device kind, phase and model family: TensorRT for GPU inference, eager PyTorch for CNN
training, Megatron-style fused kernels for transformer training, CMSIS-NN on Cortex-M);
:func:`efficiencies` gives its float efficiencies on a device (cached per engine and device).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import KERNEL_NODE_TIME
from mlsysim.core.exceptions import ConfigError, RegistryDataError
from mlsysim.core.registry import Registry, generation, register_kind
from mlsysim.core.types import Spec

__all__ = [
    "ENGINE_FIELDS",
    "FAMILIES",
    "PHASE_GROUPS",
    "Efficiencies",
    "EngineProfile",
    "EngineSpec",
    "Engines",
    "efficiencies",
    "engine_for",
    "family_of",
]

if TYPE_CHECKING:
    _Time = Any
else:
    from mlsysim.core.types import Q

    _Time = Q["time"]

_FROZEN = ConfigDict(defer_build=True, frozen=True, extra="forbid", arbitrary_types_allowed=True)

#: How a solve's phase maps onto an engine's ``phases`` and ``default_for`` keys.
PHASE_GROUPS = {
    "prefill": "inference",
    "decode": "inference",
    "inference": "inference",
    "training": "training",
}

#: Model families an engine may be the default for: decoder LLMs, encoders, CNN/KWS models.
FAMILIES = ("llm", "encoder", "cnn")

#: The efficiency fields of a profile (fractions, then times), in the order solves report them.
ENGINE_FIELDS = (
    "gemm",
    "attention",
    "elementwise",
    "memory",
    "quantized_memory",
    "kernel_overhead",
    "step_overhead",
)
_FRACTION_FIELDS = ENGINE_FIELDS[:5]


class EngineProfile(BaseModel):
    """An engine's achievable efficiencies on one device class (unset fields fall through).

    ``gemm``/``attention``/``elementwise`` are fractions of the dense peak the kind of
    operation reaches (``elementwise`` also times depthwise convolutions and pooling: 1 on
    GPUs, where they are memory-bound, the SIMD efficiency on an MCU core); ``memory`` the
    fraction of memory bandwidth; ``quantized_memory`` the fraction of ``memory`` that
    weight-only quantized (dequantizing) GEMMs keep; ``gemm_formats`` a GEMM efficiency per
    math format where it differs (``tf32``, ``fp8``); ``quantized_memory_formats`` a
    ``quantized_memory`` per stored weight format where the engine's kernels differ
    (llama.cpp's Q8_0 against its Q4_0); ``kernel_overhead`` the cost per kernel
    (per node of a CUDA graph, per framework operation when eager); ``step_overhead`` a cost
    per step (a graph replay); ``tile`` the GEMM tile ``[t_m, t_n, t_k]`` of the wave model
    (``[]``: no wave quantization, e.g. one core).
    """

    model_config = _FROZEN

    gemm: float | None = None
    attention: float | None = None
    elementwise: float | None = None
    memory: float | None = None
    quantized_memory: float | None = None
    kernel_overhead: _Time | None = None
    step_overhead: _Time | None = None
    tile: tuple[int, ...] | None = None
    gemm_formats: dict[str, float] = {}
    quantized_memory_formats: dict[str, float] = {}

    @field_validator(*_FRACTION_FIELDS)
    @classmethod
    def _fraction(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 < value <= 1.0:
            raise ValueError(f"an efficiency is a fraction in (0, 1], got {value!r}")
        return value

    @field_validator("gemm_formats", "quantized_memory_formats")
    @classmethod
    def _formats(cls, value: dict[str, float]) -> dict[str, float]:
        from mlsysim.core.constants import PRECISIONS

        for fmt, eta in value.items():
            if fmt not in PRECISIONS:
                raise ValueError(f"unknown format {fmt!r}; known: {', '.join(PRECISIONS)}")
            if not 0.0 < eta <= 1.0:
                raise ValueError(f"{fmt} must be a fraction in (0, 1], got {eta}")
        return value

    @field_validator("tile")
    @classmethod
    def _tile(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and len(value) not in (0, 3):
            raise ValueError("tile is [t_m, t_n, t_k] (t_k = 0: no split-K), or [] for none")
        if value and (value[0] < 1 or value[1] < 1 or value[2] < 0):
            raise ValueError(f"tile sizes must be positive, got {list(value)}")
        return value


class EngineSpec(Spec):
    """An execution engine: fusion, launch mechanism, where it runs and its efficiencies.

    ``quant_layouts`` gives the engine's own quantized formats (``[group, scale bits, zero
    bits]``: llama.cpp's Q4_0 is blocks of 32 with an fp16 scale); ``quantize_head`` whether a
    quantized checkpoint quantizes the embedding and the LM head too (MLC does; vLLM, TensorRT
    and AWQ keep them 16-bit); ``quantized_kernels`` which quantized GEMMs run the engine's
    dequantizing kernels at ``quantized_memory``: ``"weight_only"`` ones (W4A16; W8A8 runs
    native integer or FP8 GEMMs) or ``"all"`` (llama.cpp's own kernels for every format);
    ``end_to_end_formats`` the GEMM formats the engine keeps through every operation — the
    residual stream, norms and attention too (TensorRT's INT8 CNNs and encoders); otherwise
    those stay in the 16-bit format. ``wide_elementwise`` the kinds of a transformer's
    element-wise operations (``"norm"``, ``"activation"``) the engine runs in FP32 around
    16-bit GEMMs, with a cast kernel on the way in and out (TensorFlow's automatic mixed
    precision graph rewrite keeps LayerNorm's Mean and GELU's Pow in FP32).
    """

    fusion: Literal["fused", "unfused"]
    launch: Literal["graph", "async", "sync"]
    runs_on: tuple[str, ...]
    phases: tuple[Literal["inference", "training"], ...] = ("inference", "training")
    default_for: tuple[str, ...] = ()
    quant_layouts: dict[str, tuple[int, float, float]] = Field(default_factory=dict)
    quantize_head: bool = False
    quantized_kernels: Literal["weight_only", "all"] = "weight_only"
    end_to_end_formats: tuple[str, ...] = ()
    wide_elementwise: tuple[Literal["norm", "activation"], ...] = ()
    profiles: dict[str, EngineProfile]

    @model_validator(mode="after")
    def _complete(self) -> EngineSpec:
        base = self.profiles.get("default")
        if base is None:
            raise ValueError("an engine needs a [ID.profiles.default] table")
        missing = [f for f in ENGINE_FIELDS if getattr(base, f) is None]
        if missing or base.tile is None:
            raise ValueError(
                "the default profile must give every field; missing: "
                + ", ".join(missing + ([] if base.tile is not None else ["tile"]))
            )
        for key in self.default_for:
            parts = key.split(".")
            bad_phase = len(parts) > 1 and parts[1] not in ("inference", "training")
            bad_family = len(parts) > 2 and parts[2] not in FAMILIES
            if len(parts) > 3 or bad_phase or bad_family:
                raise ValueError(
                    f"default_for {key!r}: use CLASS, CLASS.PHASE or CLASS.PHASE.FAMILY (CLASS a "
                    "device kind or architecture, PHASE inference or training, FAMILY "
                    "llm, encoder or cnn)"
                )
        return self

    def runs(self, hw: Any) -> bool:
        """Whether the engine runs on ``hw`` (its kind or architecture is in ``runs_on``)."""
        return hw.kind in self.runs_on or getattr(hw, "architecture", None) in self.runs_on

    def profile_chain(self, hw: Any) -> list[str]:
        """The profile keys that apply to ``hw``, most specific first."""
        keys = [k for k in (getattr(hw, "architecture", None), hw.kind) if k in self.profiles]
        return [*keys, "default"]


Engines: Registry[EngineSpec] = register_kind(
    "engine", EngineSpec, "engine", Path(__file__).parent / "data"
)


class Efficiencies(NamedTuple):
    """An engine's efficiencies on one device as floats (seconds for the overheads)."""

    engine: str
    fusion: str
    overlap: bool  # launches hide behind the previous kernel (async, graph)
    gemm: float
    attention: float
    elementwise: float
    memory: float
    quantized_memory: float
    kernel_overhead: float
    step_overhead: float
    tile_m: float  # 0: no wave quantization
    tile_n: float
    tile_k: float
    units: float  # the device's compute units (0 when unknown: no wave quantization)
    gemm_formats: tuple[tuple[str, float], ...]
    sources: tuple[tuple[str, str], ...]  # (field, citation id)
    quantized_memory_formats: tuple[tuple[str, float], ...] = ()
    # device time per kernel beyond its work when launches overlap (KERNEL_NODE_TIME, s)
    kernel_node: float = 0.0

    def gemm_for(self, fmt: str) -> float:
        """The GEMM efficiency for math format ``fmt``."""
        for name, eta in self.gemm_formats:
            if name == fmt:
                return eta
        return self.gemm

    def quantized_memory_for(self, fmt: str) -> float:
        """The dequantizing kernels' bandwidth fraction for stored weight format ``fmt``."""
        for name, eta in self.quantized_memory_formats:
            if name == fmt:
                return eta
        return self.quantized_memory

    def source_of(self, field: str) -> str:
        for name, sid in self.sources:
            if name == field:
                return sid
        return ""


_EFF = DerivedCache("hardware.engine_efficiencies")
_US = 1e-6  # seconds per microsecond (KERNEL_NODE_TIME's unit)


def efficiencies(engine: EngineSpec, hw: Any) -> Efficiencies:
    """The efficiencies of ``engine`` on device ``hw`` (cached per engine and device)."""
    key = (id(engine), id(hw))
    hit = _EFF.get(key)
    if hit is not None and hit[0] is engine and hit[1] is hw:
        return hit[2]
    eff = _build(engine, hw)
    _EFF.put(key, (engine, hw, eff))
    return eff


def _build(engine: EngineSpec, hw: Any) -> Efficiencies:
    from mlsysim.core.units import si

    chain = engine.profile_chain(hw)
    values: dict[str, Any] = {}
    sources: list[tuple[str, str]] = []
    for field in (*ENGINE_FIELDS, "tile"):
        for key in chain:
            value = getattr(engine.profiles[key], field)
            if value is not None:
                values[field] = value
                sources.append((field, engine.source_of(f"profiles.{key}.{field}")))
                break
    formats: dict[str, float] = {}
    stored: dict[str, float] = {}
    for key in reversed(chain):
        profile = engine.profiles[key]
        formats.update(profile.gemm_formats)
        for fmt in profile.gemm_formats:
            sources.append((f"gemm.{fmt}", engine.source_of(f"profiles.{key}.gemm_formats.{fmt}")))
        stored.update(profile.quantized_memory_formats)
        for fmt in profile.quantized_memory_formats:
            where = f"profiles.{key}.quantized_memory_formats.{fmt}"
            sources.append((f"quantized_memory.{fmt}", engine.source_of(where)))
    tile = values["tile"]
    units = float(hw.compute_units) if getattr(hw, "compute_units", None) and tile else 0.0
    t_m, t_n, t_k = (float(t) for t in tile) if tile else (0.0, 0.0, 0.0)
    return Efficiencies(
        engine.id,
        engine.fusion,
        engine.launch != "sync",
        values["gemm"],
        values["attention"],
        values["elementwise"],
        values["memory"],
        values["quantized_memory"],
        si(values["kernel_overhead"], "time", "kernel_overhead"),
        si(values["step_overhead"], "time", "step_overhead"),
        t_m,
        t_n,
        t_k,
        units,
        tuple(formats.items()),
        tuple(sources),
        tuple(stored.items()),
        0.0 if engine.launch == "sync" else KERNEL_NODE_TIME.value * _US,
    )


_DEFAULTS = DerivedCache("hardware.engine_defaults")


def _defaults() -> dict[str, EngineSpec]:
    """``default_for`` key → engine, checked for clashes once per registry generation."""
    hit = _DEFAULTS.get("defaults")
    if hit is not None and hit[0] == generation():
        return hit[1]
    table: dict[str, EngineSpec] = {}
    for eng in Engines:
        for key in eng.default_for:
            other = table.get(key)
            if other is not None:
                raise RegistryDataError(
                    f"engines {other.id} and {eng.id} both claim default_for {key!r}",
                    file=str(Engines.file_of(eng.id)),
                    entry=eng.id,
                    field="default_for",
                    fix="give each device class, phase and family one default engine",
                )
            table[key] = eng
    _DEFAULTS.put("defaults", (generation(), table))
    return table


def family_of(task: str) -> str:
    """The engine family of a model task: ``"llm"``, ``"encoder"`` or ``"cnn"``."""
    return task if task in ("llm", "encoder") else "cnn"


def engine_for(hw: Any, phase: str, family: str, engine: str | None = None) -> EngineSpec:
    """The engine a solve of ``family`` (:data:`FAMILIES`) runs under on ``hw``.

    ``engine`` names one (an id or alias: ``"tensorrt"``, ``"vllm"``, ``"pytorch"``); else the
    default for the device kind, phase and family. An engine that does not run on the device
    kind or the phase is a ConfigError saying which engines do.
    """
    group = PHASE_GROUPS[phase]
    if engine is None:
        table = _defaults()
        for cls in (getattr(hw, "architecture", None) or "", hw.kind):
            for key in (f"{cls}.{group}.{family}", f"{cls}.{group}", cls):
                hit = table.get(key)
                if hit is not None and hit.runs(hw) and group in hit.phases:
                    return hit
        raise ConfigError(
            f"no default engine for a {hw.kind} ({group})",
            where="solve",
            fix="pass engine= (one of " + ", ".join(Engines.ids()) + ")",
        )
    eng = Engines[engine]
    if not eng.runs(hw) or group not in eng.phases:
        fits = [e.id for e in Engines if e.runs(hw) and group in e.phases]
        raise ConfigError(
            f"engine {eng.id} does not run {group} on a {hw.kind} ({hw.id})",
            where="solve",
            why=f"{eng.id} runs {', '.join(eng.phases)} on {', '.join(eng.runs_on)}",
            fix="pass one of: " + ", ".join(fits) if fits else "pass no engine",
        )
    return eng
