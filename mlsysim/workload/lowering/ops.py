"""The builder that counts a lowered step's operations, and the optimizer's update.

The vocabulary (:class:`~.lowered.Op`, :class:`~.lowered.Lowered`, the phases and format
codes) is in :mod:`.lowered`, the resident memory (:class:`~.resident.MemoryBytes`, the
weights and training state) in :mod:`.resident`: all importable from here too. Each op carries
one instance's FLOPs and bytes and a ``repeat`` count (layers). :class:`OpBuilder` multiplies the
passes of a training step (forward plus a backward of twice the forward = 3 passes, Kaplan et
al. 2020; recomputed forward passes on top) and stores 2:4 sparse weights as the formulas do.
Every coefficient comes from :mod:`mlsysim.core.constants` and every equation from
:mod:`mlsysim.core.formulas` (float fast paths): this module only says which operations a step
has. Everything runs on floats in root units (FLOP, bytes): the solver's hot path; a sweep
passes arrays of batch and sequence length instead, and every count becomes an array
(element-wise, the same arithmetic: :mod:`mlsysim.core.arrays`).
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import (
    ELEMENTWISE_FLOPS,
    ELEMENTWISE_TOUCHES,
    FLOPS_PER_MAC,
    FP8_CAST_COPIES,
    OPTIMIZER_UPDATE_FLOPS,
)
from mlsysim.core.formulas.compression import sparse_weight_B
from mlsysim.core.formulas.kernels import gemm_wave_fraction, grouped_gemm_wave_fraction
from mlsysim.core.formulas.memory import optimizer_state_per_param_B
from mlsysim.workload.lowering.lowered import ATTENTION_FORMAT as ATTENTION_FORMAT
from mlsysim.workload.lowering.lowered import GEMM_FORMAT as GEMM_FORMAT
from mlsysim.workload.lowering.lowered import HIGH_FORMAT as HIGH_FORMAT
from mlsysim.workload.lowering.lowered import PHASES as PHASES
from mlsysim.workload.lowering.lowered import Lowered as Lowered
from mlsysim.workload.lowering.lowered import Op as Op
from mlsysim.workload.lowering.recompute import TRAINING_PASSES, added_passes, casts_gemm_inputs
from mlsysim.workload.lowering.resident import MemoryBytes as MemoryBytes
from mlsysim.workload.lowering.resident import resident_weights as resident_weights
from mlsysim.workload.lowering.resident import training_state as training_state

__all__ = [
    "ATTENTION_FORMAT",
    "ELEMENTWISE",
    "GEMM_FORMAT",
    "HIGH_FORMAT",
    "PHASES",
    "TOUCHES",
    "Lowered",
    "MemoryBytes",
    "Op",
    "OpBuilder",
    "add_optimizer_update",
    "optimizer_update",
    "resident_weights",
    "training_state",
]

#: FLOPs per element and element touches of the element-wise kernels, as plain floats.
ELEMENTWISE: dict[str, float] = {k: c.value for k, c in ELEMENTWISE_FLOPS.items()}
TOUCHES: dict[str, float] = {k: c.value for k, c in ELEMENTWISE_TOUCHES.items()}
_MAC = FLOPS_PER_MAC.value
_FP8_COPIES = FP8_CAST_COPIES.value


_new_op = tuple.__new__  # NamedTuple construction without its Python-level __new__
#: GEMM wave fractions by the device's units and the engine's tile, then by (M, N, K): the
#: same shapes recur in every solve of a structure (decode's M is the batch), so each is
#: computed once per registry generation.
_WAVES = DerivedCache("workload.gemm_waves")
_WAVES_LIMIT = 4096


def _wave_memo(units: float, tile: tuple[float, float, float]) -> dict[Any, float]:
    """The wave fractions computed so far on ``units`` compute units with GEMM ``tile``."""
    key = (units, *tile)
    memo = _WAVES.get(key)
    if memo is None:
        memo = {}
        _WAVES.put(key, memo)
    return memo


#: Cast kernels around an element-wise operation an engine runs wider than its neighbours:
#: one converts the 16-bit input to FP32, one converts the result back for the next GEMM
#: (TensorFlow's AMP rewrite inserts a Cast at each boundary of an FP32 region).
_CASTS_PER_WIDE_OP = 2.0


class OpBuilder:
    """Accumulates ops for one step (training multiplies passes).

    Built from a resolved plan: its formats' bytes (weights with their group scales, GEMM
    inputs, the 16-bit residual stream), its engine's fusion (an unfused engine runs each
    arithmetic step of an element-wise function as its own kernel, reading and writing the
    tensor) and the device's wave quantization (the engine's GEMM tile over the device's
    compute units). ``high_bytes`` overrides the residual stream's bytes (a CNN keeps every
    activation in the GEMMs' format).
    """

    __slots__ = (
        "attention_passes",
        "ba",
        "bh",
        "bw",
        "bw_high",
        "bwide",
        "casts",
        "dequant",
        "full_passes",
        "keep",
        "memo",
        "ops",
        "passes",
        "recompute",
        "sparse",
        "sparse_factor",
        "tile",
        "unfused",
        "units",
        "wide",
    )

    def __init__(self, rp: Any, training: bool, high_bytes: float | None = None) -> None:
        self.bw = rp.weight_bytes
        self.ba = rp.activation_bytes
        self.bh = rp.high_bytes if high_bytes is None else high_bytes
        # weights the engines keep unquantized (embedding, LM head) are stored in the 16-bit format
        self.keep = rp.weights != rp.high and not rp.quantized_head
        self.bw_high = rp.high_bytes if self.keep else rp.weight_bytes
        self.sparse = rp.sparse
        self.dequant = rp.weight_only
        # bytes stored per dense weight byte: the kept half plus its 2-bit indices (2:4)
        bw = self.bw
        self.sparse_factor = sparse_weight_B(1.0, bw) / bw if self.sparse else 1.0
        self.passes = TRAINING_PASSES if training else 1.0
        self.recompute = rp.plan.recompute if training else "none"
        # the passes of ops that full recompute re-runs, and of attention (any recompute)
        self.full_passes = self.passes + added_passes("full", self.recompute)
        # FP8 training: each GEMM's operands are cast per pass (GEMM inputs narrower than the
        # residual stream); inference engines fuse the quantization into the producer
        self.casts = training and casts_gemm_inputs(rp)
        self.attention_passes = self.passes + added_passes("any", self.recompute)
        self.unfused = rp.fusion == "unfused"
        self.wide = rp.wide_elementwise  # element-wise kinds run in FP32 (TF's AMP rewrite)
        self.bwide = rp.wide_bytes
        eff = rp.eff
        self.units = eff.units
        self.tile = (eff.tile_m, eff.tile_n, eff.tile_k)
        self.memo = _wave_memo(self.units, self.tile) if self.units > 0.0 else None
        self.ops: list[Op] = []

    def add(
        self,
        name: str,
        kind: str,
        flops: float,
        nbytes: float,
        repeat: int,
        extra_pass: bool,
        sparse: bool = False,
        fmt: int = GEMM_FORMAT,
        dequant: bool = False,
        waves: float = 1.0,
        kernels: float = 1.0,
    ) -> None:
        passes = self.passes + (1.0 if extra_pass else 0.0)
        self.emit(name, kind, flops, nbytes, repeat, passes, sparse, fmt, dequant, waves, kernels)

    def emit(
        self,
        name: str,
        kind: str,
        flops: float,
        nbytes: float,
        repeat: int,
        passes: float,
        sparse: bool,
        fmt: int,
        dequant: bool,
        waves: float,
        kernels: float,
    ) -> None:
        """Append an op of one pass's ``flops``, ``nbytes`` and ``kernels``, run ``passes``
        times (:meth:`add` with the passes counted)."""
        if passes != 1.0:  # (x · 1 is x: one pass skips two array multiplies in a sweep)
            flops = flops * passes
            nbytes = nbytes * passes
        op = (
            name,
            kind,
            flops,
            nbytes,
            kernels * passes,
            repeat,
            sparse,
            fmt,
            dequant,
            waves,
            passes,
        )
        self.ops.append(_new_op(Op, op))

    def waves(self, M: float, N: float, K: float, split_k: bool = True) -> float:
        """Wave-quantization efficiency of an M×K·K×N GEMM on the device (1: no model)."""
        memo = self.memo
        if memo is None:
            return 1.0
        t_m, t_n, t_k = self.tile
        if type(M) is not float or type(N) is not float or type(K) is not float:
            return gemm_wave_fraction(M, N, K, self.units, t_m, t_n, t_k if split_k else 0.0)
        # a pure function of floats: computed once per shape on the device's tiles
        key = (M, N, K) if split_k else (M, N, K, False)
        eta = memo.get(key)
        if eta is None:
            eta = gemm_wave_fraction(M, N, K, self.units, t_m, t_n, t_k if split_k else 0.0)
            if len(memo) >= _WAVES_LIMIT:  # a long scan of batches: stay bounded
                memo.clear()
            memo[key] = eta
        return eta

    def grouped_waves(self, M: float, row_tiles: float, t_m: float, N: float, K: float) -> float:
        """Wave efficiency of a grouped GEMM of ``M`` useful rows in ``row_tiles`` tiles of
        ``t_m`` rows over K×N weights (1: no model)."""
        if self.memo is None:
            return 1.0
        _, t_n, t_k = self.tile
        return grouped_gemm_wave_fraction(M, row_tiles, t_m, N, K, self.units, t_n, t_k)

    def gemm(
        self,
        name: str,
        M: float,
        K: float,
        N: float,
        repeat: int,
        weight_elems: float | None = None,
        high: bool = False,
        kernels: float = 1.0,
        waves: float | None = None,
        normed: bool = False,
        remat: bool = True,
    ) -> None:
        """A weight GEMM: weights at the quantized bytes (``high``: kept in the 16-bit format,
        as the LM head is), inputs in the GEMM format, outputs in the residual stream's.
        ``waves``: the launch's wave efficiency when it is not one M×K·K×N GEMM's (a grouped
        expert GEMM's, :meth:`grouped_waves`). In FP8 training the GEMM's casts follow it
        (:meth:`fp8_casts`; ``normed``: its input comes from a norm that writes FP8).
        ``remat`` false: full recomputation does not re-run it (the output layer's)."""
        w = K * N if weight_elems is None else weight_elems
        flops = _MAC * M * K * N
        if high and self.keep:
            nbytes = w * self.bw_high + M * K * self.bh + M * N * self.bh
            fmt, sparse, dq = HIGH_FORMAT, False, False
        else:
            nbytes = w * self.bw * self.sparse_factor + M * K * self.ba + M * N * self.bh
            fmt, sparse, dq = GEMM_FORMAT, self.sparse, self.dequant
        k = kernels if self.unfused else 1.0
        p = self.full_passes if remat else self.passes
        memo = self.memo  # (the memo's hit inline: a float shape seen before)
        eta = waves
        if eta is None and memo is not None and type(M) is float:
            eta = memo.get((M, N, K))
        if eta is None:
            eta = self.waves(M, N, K)
        self.emit(name, "gemm", flops, nbytes, repeat, p, sparse, fmt, dq, eta, k)
        if self.casts and fmt == GEMM_FORMAT:
            self.fp8_casts(name, M * K, M * N, repeat, normed, remat)

    def fp8_casts(
        self, name: str, x: float, dy: float, repeat: int, normed: bool, remat: bool = True
    ) -> None:
        """The FP8 casts of one training GEMM (Transformer Engine's Linear, citation
        ``solver_te_fp8_linear``): its ``x`` input elements read in 16 bits and written as
        an FP8 copy and an FP8 transpose in every forward pass (``normed``: the norm wrote
        FP8, and the backward only transposes it, reading and writing FP8), and its ``dy``
        output-gradient elements cast and transposed the same way in the backward pass.
        Weights are cast once per step, not per micro-batch: not counted here."""
        ba, bh = self.ba, self.bh
        if normed:
            fwd, x_bytes = 1.0, x * (ba + ba)
        else:
            p = self.full_passes if remat else self.passes
            fwd = p - TRAINING_PASSES + 1.0  # forward passes (recomputed too)
            x_bytes = x * (bh + _FP8_COPIES * ba) * fwd
        nbytes = x_bytes + dy * (bh + _FP8_COPIES * ba)
        self.emit(
            f"{name}_fp8_cast",
            "elementwise",
            0.0,
            nbytes,
            repeat,
            1.0,
            False,
            HIGH_FORMAT,
            False,
            1.0,
            fwd + 1.0,
        )

    def elementwise(
        self,
        name: str,
        elems: float,
        flops_per: float,
        touches: float,
        repeat: int,
        extra_bytes: float = 0.0,
        kind: str = "",
        remat: bool = True,
    ) -> None:
        """An element-wise kernel over ``elems`` (fused: ``touches`` reads and writes; an
        unfused engine runs one kernel per arithmetic step, each reading and writing). A
        ``kind`` the engine runs wide (FP32 around 16-bit GEMMs) touches FP32 elements and
        adds two cast kernels, each reading one format and writing the other. ``remat``
        false: full recomputation does not re-run it (the final norm's and the loss's)."""
        kernels = 1.0
        if self.unfused and flops_per > 1.0:
            kernels = flops_per
            touches = 2.0 * flops_per
        if kind and kind in self.wide:
            casts = _CASTS_PER_WIDE_OP
            nbytes = elems * (touches * self.bwide + casts * (self.bh + self.bwide)) + extra_bytes
            kernels += casts
        else:
            nbytes = elems * touches * self.bh + extra_bytes
        flops = elems * flops_per
        p = self.full_passes if remat else self.passes
        self.emit(
            name, "elementwise", flops, nbytes, repeat, p, False, HIGH_FORMAT, False, 1.0, kernels
        )

    def attention(
        self, name: str, flops: float, nbytes: float, repeat: int, waves: float = 1.0
    ) -> None:
        p = self.attention_passes
        self.emit(
            name, "attention", flops, nbytes, repeat, p, False, ATTENTION_FORMAT, False, waves, 1.0
        )


def add_optimizer_update(
    B: OpBuilder, params: float, rp: Any, grad_bytes: float | None = None
) -> None:
    """Append :func:`optimizer_update` to ``B``'s operations."""
    B.ops.append(optimizer_update(params, rp, grad_bytes))


def optimizer_update(
    params: float, rp: Any, grad_bytes: float | None = None, state_bytes: float | None = None
) -> Op:
    """One fused optimizer update over every parameter: read and write its state (master
    weights and moments), read the gradient, write the weights.

    Around the update, clipping by the global gradient norm reads every gradient once more and
    zeroing the gradient buffers for the next step writes it once (Pascanu et al. 2013;
    Megatron-LM's clip_grad_norm and zero_grad_buffer). ``grad_bytes`` is the gradients'
    format (default: the plan's, fp32 main gradients unless ``gradients=`` says otherwise);
    ``state_bytes`` the optimizer state per parameter, K, when the caller has it
    (:func:`~mlsysim.core.formulas.memory.optimizer_state_per_param_B` of the plan's optimizer
    and weights).
    """
    K = (
        optimizer_state_per_param_B(rp.plan.optimizer, rp.weights)
        if state_bytes is None
        else state_bytes
    )
    g = rp.gradient_bytes if grad_bytes is None else grad_bytes
    # state r/w, grad in (update, norm), grad zeroed, weight out
    per_param = 2.0 * K + 2.0 * g + g + rp.weight_bytes
    flops = OPTIMIZER_UPDATE_FLOPS[rp.plan.optimizer].value
    op = ("optimizer_update", "optimizer", params * flops, params * per_param, 1.0, 1, False)
    return _new_op(Op, (*op, GEMM_FORMAT, False, 1.0, 1.0))
