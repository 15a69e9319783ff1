"""Modeling defaults, each stated once: the format, recomputation, optimizer and gradient
format when none is given, and the serving engine's (vLLM-style continuous batching).
"""

from __future__ import annotations

from mlsysim.core.constants.formats import HALF_PRECISIONS
from mlsysim.core.constants.sourced import sourced as _c

__all__ = [
    "DEFAULT_GRADIENT_PRECISION",
    "DEFAULT_KV_BLOCK_SIZE",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_MEMORY_UTILIZATION",
    "DEFAULT_OPTIMIZER",
    "DEFAULT_PRECISION",
    "DEFAULT_RECOMPUTE",
    "RECOMPUTE_POLICIES",
]

# --- modeling defaults (each stated once; formulas, plans and solvers read these names) ------
#: The numeric format when none is given (:data:`HALF_PRECISIONS` ``[0]``; a solve on a device
#: without it falls back along :data:`HALF_PRECISIONS`).
DEFAULT_PRECISION = HALF_PRECISIONS[0]
#: Activation recomputation when none is given: ``"selective"`` — attention internals are
#: recomputed in the backward pass (Korthikanti et al. 2022), as FlashAttention does (Dao 2023).
DEFAULT_RECOMPUTE = "selective"
#: Recompute policies (Korthikanti et al. 2022): none, selective (attention core), full (layer).
RECOMPUTE_POLICIES: tuple[str, ...] = ("none", "selective", "full")
#: The optimizer when none is given: mixed-precision Adam.
DEFAULT_OPTIMIZER = "adam"
#: Gradient format when none is given: fp32 accumulation (Megatron-LM's main gradients), the
#: 18 B/param accounting of Korthikanti et al. 2022 for bf16 weights with Adam.
DEFAULT_GRADIENT_PRECISION = "fp32"

# --- serving engines (the defaults of vLLM-style continuous batching) ----------------------------
#: Tokens per KV-cache block (PagedAttention's page; vLLM and Sarathi-Serve default to 16).
DEFAULT_KV_BLOCK_SIZE = _c(16, "token", "sarathi_serve_engine_args", "EngineArgs.block_size")
#: Most sequences decoding together (vLLM's and Sarathi-Serve's max_num_seqs).
DEFAULT_MAX_BATCH = _c(256, "", "sarathi_serve_engine_args", "EngineArgs.max_num_seqs")
#: Most tokens one continuous-batching iteration carries, decodes and prefill chunks together
#: (TensorRT-LLM's max_num_tokens).
DEFAULT_MAX_TOKENS = _c(8192, "token", "trtllm_llm_args", "BaseLlmArgs.max_num_tokens")
#: Share of device memory the engine takes for weights, activations and KV blocks.
DEFAULT_MEMORY_UTILIZATION = _c(
    0.9, "", "sarathi_serve_engine_args", "EngineArgs.gpu_memory_utilization"
)
