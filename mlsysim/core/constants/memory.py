"""Training memory: master weights, optimizer state and activations per layer."""

from __future__ import annotations

from mlsysim.core.constants.sourced import Constant
from mlsysim.core.constants.sourced import sourced as _c

__all__ = [
    "ACT_ATTENTION_BYTES",
    "ACT_FULL_RECOMPUTE_BYTES",
    "ACT_PARALLEL_BYTES",
    "ACT_REPLICATED_BYTES",
    "ACT_SBH_BYTES",
    "MASTER_WEIGHT_BYTES",
    "OPTIMIZERS",
    "OPTIMIZER_MOMENT_BYTES",
    "OPTIMIZER_STATE_BYTES",
    "OPTIMIZER_UPDATE_FLOPS",
]

# --- training memory ---------------------------------------------------------------------------
#: fp32 master copy of the weights kept by mixed-precision training (none when the weights
#: themselves are fp32).
MASTER_WEIGHT_BYTES = _c(4, "B/param", "micikevicius2018", "fp32 master weights")
#: Optimizer moment bytes per parameter (fp32 unless stated), master copy not included.
OPTIMIZER_MOMENT_BYTES: dict[str, Constant] = {
    "adam": _c(8, "B/param", "rajbhandari2020", "fp32 momentum + variance"),
    "adamw": _c(8, "B/param", "loshchilov2019", "as Adam: decoupled decay adds no state"),
    "sgd": _c(0, "B/param", "micikevicius2018", "plain SGD keeps no optimizer state"),
    "sgd_momentum": _c(4, "B/param", "micikevicius2018", "fp32 momentum buffer"),
    "adam_8bit": _c(2, "B/param", "dettmers2022", "8-bit momentum and variance"),
}
#: Optimizer names, in the order above.
OPTIMIZERS: tuple[str, ...] = tuple(OPTIMIZER_MOMENT_BYTES)
#: Optimizer state bytes per parameter with the fp32 master copy of mixed precision:
#: K = master + moments (ZeRO's K = 12 for Adam, Rajbhandari et al. 2020).
OPTIMIZER_STATE_BYTES: dict[str, Constant] = {
    name: _c(
        MASTER_WEIGHT_BYTES.value + m.value,
        "B/param",
        m.source,
        f"fp32 master weights + {m.note}",
    )
    for name, m in OPTIMIZER_MOMENT_BYTES.items()
}
#: FLOPs per parameter of one optimizer update, counted from each algorithm's update rule.
OPTIMIZER_UPDATE_FLOPS: dict[str, Constant] = {
    "adam": _c(12, "FLOP/param", "kingma2015", "Alg. 1: two moments, bias corrections, step"),
    "adamw": _c(14, "FLOP/param", "loshchilov2019", "Adam's 12 plus the decoupled decay"),
    "sgd": _c(2, "FLOP/param", "micikevicius2018", "w -= lr * g"),
    "sgd_momentum": _c(4, "FLOP/param", "micikevicius2018", "v = mu*v + g; w -= lr * v"),
    "adam_8bit": _c(16, "FLOP/param", "dettmers2022", "Adam's 12 plus de/quantizing 2 moments"),
}
#: Activation bytes per s·b·h per layer (16-bit activations, 1-byte dropout masks), SP + selective.
ACT_SBH_BYTES = _c(34, "B", "korthikanti2022", "Eq. 1: sbh(34 + 5as/h)")
#: Part of the 34 not split by tensor parallelism (layer norms, dropouts) unless SP is on.
ACT_REPLICATED_BYTES = _c(10, "B", "korthikanti2022", "Eq. 2: sbh(10 + 24/t + 5as/(ht))")
#: Part of the 34 split by tensor parallelism (GEMM inputs inside attention and MLP).
ACT_PARALLEL_BYTES = _c(24, "B", "korthikanti2022", "Eq. 2")
#: Attention score/softmax/dropout bytes per a·s²·b (removed by selective recompute).
ACT_ATTENTION_BYTES = _c(5, "B", "korthikanti2022", "the 5as/h term of Eq. 1")
#: Bytes per s·b·h per layer kept under full recomputation (the layer input, 16-bit).
ACT_FULL_RECOMPUTE_BYTES = _c(2, "B", "korthikanti2022", "§4.1: 2sbhL")
