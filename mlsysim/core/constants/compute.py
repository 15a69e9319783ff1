"""FLOP counting: per parameter and token, per kernel and per element, experts, scaling laws."""

from __future__ import annotations

from mlsysim.core.constants.sourced import Constant
from mlsysim.core.constants.sourced import sourced as _c

__all__ = [
    "BACKWARD_FORWARD_RATIO",
    "BATCHNORM_BUFFERS",
    "CHINCHILLA_A",
    "CHINCHILLA_ALPHA",
    "CHINCHILLA_B",
    "CHINCHILLA_BETA",
    "CHINCHILLA_E",
    "CHINCHILLA_TOKENS_PER_PARAM",
    "DROPOUT_MASK_BYTES",
    "ELEMENTWISE_FLOPS",
    "ELEMENTWISE_TOUCHES",
    "EXPERT_IMBALANCE",
    "FLASH_QUERY_BLOCK",
    "FLOPS_PER_MAC",
    "FORWARD_ATTENTION_FLOPS",
    "FORWARD_FLOPS_PER_PARAM",
    "FP8_CAST_COPIES",
    "KAPLAN_ALPHA_D",
    "KAPLAN_ALPHA_N",
    "KAPLAN_D_C",
    "KAPLAN_N_C",
    "KERNEL_NODE_TIME",
    "SMALLEST_GEMM_TILE",
    "TRAINING_FLOPS_PER_PARAM",
]

# --- FLOP counting -----------------------------------------------------------------------------
#: Forward-pass FLOPs per parameter per token (one multiply-add per weight).
FORWARD_FLOPS_PER_PARAM = _c(2, "FLOP/param/token", "kaplan2020", "C_forward ≈ 2N")
#: Backward pass costs twice the forward pass.
BACKWARD_FORWARD_RATIO = _c(2, "", "kaplan2020", "C_backward ≈ 2 C_forward")
#: Training FLOPs per parameter per token: forward + backward = 6.
TRAINING_FLOPS_PER_PARAM = _c(6, "FLOP/param/token", "kaplan2020", "C ≈ 6ND")
#: Forward attention FLOPs per (layer · head · head-dim · context) per token: PaLM's 12LHQT / 3.
FORWARD_ATTENTION_FLOPS = _c(4, "FLOP", "chowdhery2022", "PaLM App. B: 6N + 12LHQT per token")

#: Device time a GPU spends on each kernel beyond its work (dispatching its blocks, draining
#: the last wave before the next dependent kernel starts): a CUDA graph replays a chain of
#: empty kernels at ~0.58 us per node, where the host's enqueue is not in the way.
KERNEL_NODE_TIME = _c(
    0.58, "us", "solver_ocannl_cuda_graphs", "CUDA graph replay of no-op kernels: ~0.58 us a node"
)

#: FP8 copies a training cast of a GEMM operand writes: the operand in FP8 for its own GEMM
#: and its FP8 transpose for the weight-gradient GEMM (Transformer Engine's
#: ``fp8_cast_transpose_fused`` on each Linear input and ``fp8_cast_transpose_bgrad_fused``
#: on each output gradient; where the norm before a GEMM writes FP8 itself, only the
#: transpose remains, made in the backward pass).
FP8_CAST_COPIES = _c(
    2, "", "solver_te_fp8_linear", "Transformer Engine v1.12 Linear: FP8 copy and FP8 transpose"
)

#: Queries per thread block of a fused attention kernel's forward pass: its grid is one block
#: per (sequence, head, 128-query block), the parallelism a short prompt has to fill a GPU.
FLASH_QUERY_BLOCK = _c(
    128, "token", "solver_dao2023_flashattention2", "FlashAttention-2 forward: 128-row Q blocks"
)

#: The smallest side of cuBLASLt's GEMM tiles (``cublasLtMatmulTile_t``: 8×8 up to 512×64, in
#: powers of two): a library runs a dimension shorter than its large tile on the smallest
#: power-of-two tile that holds it (a batch-1 decode GEMM is not padded to 128 rows).
SMALLEST_GEMM_TILE = _c(
    8, "", "solver_cublaslt_matmul_tile", "cublasLtMatmulTile_t: tile sides 8 to 512"
)

#: FLOPs per multiply-accumulate: a GEMM M×K·K×N does 2·M·K·N FLOPs.
FLOPS_PER_MAC = _c(2, "FLOP", "williams2009", "one multiply and one add")

# --- element-wise kernels (memory-bound: the FLOP counts only set their arithmetic intensity) --
_DL_PERF = "solver_nvidia_dl_performance"
_BN = "solver_ioffe2015_batchnorm"
#: FLOPs per element of the element-wise kernels, counted from each kernel's definition.
ELEMENTWISE_FLOPS: dict[str, Constant] = {
    "norm": _c(4, "FLOP", _DL_PERF, "RMS/LayerNorm: square, accumulate, scale, weight"),
    "residual_add": _c(1, "FLOP", _DL_PERF, "one add (fused into the next norm)"),
    "rope": _c(4, "FLOP", _DL_PERF, "rotate pairs: two multiplies, an add, the table read"),
    "activation": _c(5, "FLOP", _DL_PERF, "SiLU/GELU and the gate product"),
    "loss": _c(5, "FLOP", _DL_PERF, "softmax (exp, sum, divide) and log-likelihood"),
    "softmax": _c(5, "FLOP", _DL_PERF, "attention softmax: scale, mask, exp, sum, divide"),
    "permute": _c(1, "FLOP", _DL_PERF, "MoE token permutation: one copy"),
    "batchnorm": _c(6, "FLOP", _BN, "Alg. 1: sum, sum of squares, subtract, scale, γ, β"),
    "batchnorm_inference": _c(2, "FLOP", _BN, "§3.1: a fixed per-channel scale and shift"),
    "relu": _c(1, "FLOP", _DL_PERF, "one comparison"),
    "add": _c(1, "FLOP", _DL_PERF, "one add"),
}
#: Element touches (reads + writes of the tensor) of one pass of each kernel.
ELEMENTWISE_TOUCHES: dict[str, Constant] = {
    "norm": _c(4, "", _DL_PERF, "residual add fused in: read x and residual, write both"),
    "rope": _c(2, "", _DL_PERF, "read, write"),
    "loss": _c(3, "", _DL_PERF, "read logits, write probabilities, read for the gradient"),
    "permute": _c(4, "", _DL_PERF, "scatter to experts and gather back: read and write twice"),
    "batchnorm_forward": _c(3, "", _BN, "statistics pass (read), normalize pass (read, write)"),
    "batchnorm_backward": _c(5, "", _BN, "reductions (read dY, Y), gradient (read dY, Y; write)"),
    "relu_forward": _c(2, "", _DL_PERF, "read, write"),
    "relu_backward": _c(3, "", _DL_PERF, "read dY and the output, write dX"),
    "add_forward": _c(3, "", _DL_PERF, "two reads, one write"),
    "add_backward": _c(3, "", _DL_PERF, "two gradient reads where branches split, one write"),
}

#: Per-channel tensors of a batch norm an unfused (eager) engine keeps at inference.
BATCHNORM_BUFFERS = _c(4, "", _BN, "γ, β, running mean and running variance per channel")

#: Bytes of one dropout-mask element kept for the backward pass.
DROPOUT_MASK_BYTES = _c(1, "B", "korthikanti2022", "§4.1: a 1-byte mask per dropped element")

# --- scaling laws ------------------------------------------------------------------------------
CHINCHILLA_TOKENS_PER_PARAM = _c(20, "token/param", "hoffmann2022", "70B on 1.4T tokens")
CHINCHILLA_E = _c(1.69, "", "hoffmann2022", "Approach 3 fit, Eq. 10: irreducible loss")
CHINCHILLA_A = _c(406.4, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
CHINCHILLA_B = _c(410.7, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
CHINCHILLA_ALPHA = _c(0.34, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
CHINCHILLA_BETA = _c(0.28, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
KAPLAN_N_C = _c(8.8e13, "param", "kaplan2020", "Eq. 1.1, non-embedding parameters")
KAPLAN_D_C = _c(5.4e13, "token", "kaplan2020", "Eq. 1.2")
KAPLAN_ALPHA_N = _c(0.076, "", "kaplan2020", "Eq. 1.1")
KAPLAN_ALPHA_D = _c(0.095, "", "kaplan2020", "Eq. 1.2")

# --- mixture of experts ------------------------------------------------------------------------
#: Load of the busiest expert over the mean when none is given: the capacity factor Switch
#: Transformers provision (1.0-1.25; Fedus et al. 2022 §2.1, GShard's Lepikhin et al. 2021 §2.2).
EXPERT_IMBALANCE = _c(
    1.25, "", "fedus2022", "Switch Transformers capacity factor: expert buffers 1.0-1.25x the mean"
)
