"""Workload layer: ML models as sourced architecture data.

Entries live in ``workload/data/*.toml`` (schema ``mlsysim.model/1``). Transformer entries give
their architecture (layers, hidden size, heads, KV heads, FFN size and gating, vocabulary,
experts); the parameter count stated by the source is checked against the count the
architecture implies (``workload/arch.py``) when the entry loads. CNN/KWS entries give FLOPs per
inference as published and, optionally, their layer stack (``[ID.cnn]``, :class:`CNNArch`),
checked against the stated parameters and FLOPs at load (``workload/cnn.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Q, Spec

if TYPE_CHECKING:  # mypy sees Any (pint Quantities are untyped); pydantic checks dimensions
    _Parameter = Any
    _Computation = Any
else:
    _Parameter = Q["parameter"]
    _Computation = Q["computation"]


__all__ = ["CNNArch", "CNNRow", "MLAArch", "ModelSpec", "Models", "TransformerArch"]

_FROZEN = ConfigDict(defer_build=True, frozen=True, extra="forbid", arbitrary_types_allowed=True)


class MLAArch(BaseModel):
    """Multi-head latent attention (DeepSeek-V2/V3): low-rank KV and query compression."""

    model_config = _FROZEN

    kv_lora_rank: int
    q_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int


class TransformerArch(BaseModel):
    """Decoder/encoder transformer architecture, as in the model's config or paper."""

    model_config = _FROZEN

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int | None = None  # default hidden // heads
    ffn: int  # intermediate size of a dense FFN
    ffn_gated: bool  # SwiGLU/GeGLU: three matrices instead of two
    vocab: int
    tied_embeddings: bool = False
    max_seq_len: int
    norm: Literal["layernorm", "rmsnorm"] = "rmsnorm"
    position: Literal["rope", "learned", "alibi", "relative"] = "rope"
    bias: bool = False  # linear layers carry biases (GPT-2/3, BERT)
    # mixture of experts (1/1 for dense models)
    experts: int = 1
    active_experts: int = 1
    shared_experts: int = 0
    moe_ffn: int | None = None  # intermediate size of one expert
    dense_layers: int = 0  # leading layers with a dense FFN in an MoE model
    mla: MLAArch | None = None
    # smaller architectural details that matter for an exact parameter count
    type_vocab: int = 0  # segment (token-type) embeddings, BERT: 2
    pooler: bool = False  # BERT's [CLS] pooler (a dense h×h layer with bias)
    final_norm: bool = True  # a norm after the last layer (pre-LN models)
    embedding_norm: bool = False  # a norm on the embeddings (BERT)

    @property
    def head_size(self) -> int:
        """Per-head dimension (``head_dim`` or ``hidden // heads``)."""
        return self.head_dim or self.hidden // self.heads

    @property
    def is_moe(self) -> bool:
        return self.experts > 1

    @property
    def attention(self) -> str:
        """``mha``, ``gqa``, ``mqa`` or ``mla``."""
        if self.mla is not None:
            return "mla"
        if self.kv_heads == self.heads:
            return "mha"
        return "mqa" if self.kv_heads == 1 else "gqa"


class CNNRow(BaseModel):
    """One row of a CNN stack: a layer or a block, repeated ``n`` times (``workload/cnn.py``).

    ``op``: ``conv`` (``k``, ``c``, ``s``), ``dwconv`` (``k``, ``s``), ``dwsep`` (``k``, ``c``,
    ``s``: depthwise then pointwise), ``bottleneck`` (ResNet: ``mid``, ``c``, ``s``,
    ``stride_at``), ``inverted_residual`` (MobileNetV2: ``t``, ``c``, ``s``), ``maxpool``
    (``k``, ``s``), ``avgpool`` (global) or ``fc`` (``c`` outputs). ``k`` and ``s`` are an
    integer or ``[height, width]``; the stride applies to the first of the ``n`` repeats.
    """

    model_config = _FROZEN

    op: Literal[
        "conv", "dwconv", "dwsep", "bottleneck", "inverted_residual", "maxpool", "avgpool", "fc"
    ]
    c: int = 0  # output channels (features for fc)
    k: int | tuple[int, int] = 1  # kernel size
    s: int | tuple[int, int] = 1  # stride of the first repeat
    n: int = 1  # repeats
    t: int = 1  # expansion factor (inverted_residual)
    mid: int = 0  # bottleneck width (bottleneck)
    act: Literal["relu", "relu6", "none"] = "relu"  # conv, dwconv, dwsep, fc
    bn: bool = True  # a batch norm follows the conv (conv, dwconv)
    bias: bool = False  # the conv has a bias (conv, dwconv)
    stride_at: Literal["1x1", "3x3"] = "1x1"  # ResNet v1 strides the first 1x1; v1.5 the 3x3


class CNNArch(BaseModel):
    """A CNN's layer stack as rows over the entry's ``input_shape`` (height, width, channels)."""

    model_config = _FROZEN

    layers: tuple[CNNRow, ...]


class ModelSpec(Spec):
    """A model: stated parameter count plus architecture (transformer) or per-inference FLOPs."""

    kind: Literal["transformer", "cnn"]
    task: Literal["llm", "encoder", "vision", "audio"]
    release_year: int | None = None
    params: _Parameter
    active_params: _Parameter | None = None  # stated active count for MoE models
    transformer: TransformerArch | None = None
    flops_per_inference: _Computation | None = None  # CNN/KWS: forward pass, one sample
    input_shape: tuple[int, ...] | None = None  # CNN/KWS input (e.g. 224, 224, 3)
    cnn: CNNArch | None = None  # CNN/KWS layer stack (optional; see workload/cnn.py)

    @model_validator(mode="after")
    def _architecture_matches(self) -> ModelSpec:
        if self.kind == "transformer" and self.transformer is None:
            raise ValueError("a transformer entry needs a [ID.transformer] table")
        if self.kind == "cnn" and self.flops_per_inference is None:
            raise ValueError("a cnn entry needs flops_per_inference (e.g. '7.6 GFLOP')")
        if self.transformer is not None:
            from mlsysim.workload.arch import check_stated_counts

            check_stated_counts(self)
        if self.cnn is not None:
            if self.kind != "cnn":
                raise ValueError("a [ID.cnn] layer table needs kind = 'cnn'")
            from mlsysim.workload import cnn

            cnn.check_stated_counts(self)
        return self

    @property
    def arch(self) -> TransformerArch:
        """The transformer architecture (error for CNN entries)."""
        if self.transformer is None:
            raise AttributeError(f"{self.id} is a {self.kind}, not a transformer")
        return self.transformer

    def __getattr__(self, name: str) -> Any:  # convenience: Llama2_7B.layers
        arch = self.__dict__.get("transformer")
        if arch is not None and name in type(arch).model_fields:
            return getattr(arch, name)
        return super().__getattr__(name)  # type: ignore[misc]


Models: Registry[ModelSpec] = register_kind(
    "model", ModelSpec, "model", Path(__file__).parent / "data"
)
