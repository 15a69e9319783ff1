"""Convolutional networks as per-layer shapes: the ``[ID.cnn]`` table expanded into layers.

A CNN entry lists its stack as rows (``workload/data/*.toml``, grammar in
:class:`~mlsysim.workload.registry.CNNArch`): plain layers (``conv``, ``dwconv``, ``maxpool``,
``avgpool``, ``fc``) and the blocks of the three reference families, each row repeated ``n``
times with its stride ``s`` on the first repeat only:

* ``bottleneck`` — ResNet (He et al. 2016, Table 1 and Fig. 5): 1×1 ``mid`` → 3×3 ``mid`` →
  1×1 ``c``, each followed by batch norm; a 1×1 projection shortcut on the first block when
  the shape changes (option B); ReLU after the residual add. ``stride_at = "1x1"`` is the
  original v1 placement (stride on the first 1×1 conv), ``"3x3"`` the later v1.5.
* ``inverted_residual`` — MobileNetV2 (Sandler et al. 2018, Table 1 and Table 2): 1×1 expansion
  to ``t·c_in`` (omitted when ``t = 1``), 3×3 depthwise (the paper's fixed kernel size),
  linear 1×1 projection to ``c``; ReLU6 after the first two; a residual add when the stride
  is 1 and ``c_in = c``.
* ``dwsep`` — a depthwise-separable layer (Howard et al. 2017; the DS-CNN of Zhang et al. 2017):
  ``k×k`` depthwise then 1×1 pointwise to ``c``, batch norm and ReLU after each.

Padding is "same" throughout (output size ``⌈in / stride⌉``), as in the reference
implementations. Counting rules (the papers' conventions): MACs of convolutions and the
classifier only (``h_o·w_o·k_h·k_w·c_in/groups·c_out``); parameters are kernels, biases (the
classifier; convs marked ``bias``) and two per channel for each batch norm (γ, β — running
statistics are buffers, not parameters). :func:`check_stated_counts` compares both with the
entry's stated ``params`` and ``flops_per_inference`` (2 FLOP per MAC) when it loads.

Consecutive identical blocks (the 2nd..n-th repeat of a row) are emitted once with a
``repeat`` count, so ResNet-50 expands to ~30 distinct layer records, not ~70.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core.constants import FLOPS_PER_MAC

__all__ = [
    "CNN_COUNT_TOLERANCE",
    "Layer",
    "check_stated_counts",
    "count_cnn_macs",
    "count_cnn_params",
    "expand",
]

#: Stated vs. counted parameters and FLOPs. Published figures carry two significant digits
#: (3.4M, 3.8e9: up to ±1.5 % from rounding) and differ in what they count — batch-norm
#: parameters (0.2-1 %), biases, pooling and element-wise operations (DS-CNN's 5.4M operations
#: include ~2 % of non-MAC work); the largest legitimate gap is MobileNetV2's parameters (3.1 %).
#: 5 % passes those and catches a wrong stage width, stride or input size and most missing or
#: extra blocks (a ResNet-50 conv5_x block is 17 % of its parameters), though not every single
#: block of the cheapest stages.
CNN_COUNT_TOLERANCE = 0.05


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer instance (``repeat`` identical instances run in sequence).

    ``kind``: ``conv`` (dense, groups = 1), ``dwconv`` (depthwise, groups = channels), ``fc``,
    ``maxpool``, ``avgpool`` (global) or ``add`` (residual). Shapes are per sample, HWC.
    ``act`` is the activation applied to the output (after the residual add for ``add``).
    Layers of one expanded block share ``block``; a block's first layer reads the block's input
    and its last layer (or residual add) produces the block's output.
    """

    name: str
    kind: str
    h_in: int
    w_in: int
    c_in: int
    h_out: int
    w_out: int
    c_out: int
    k: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    bn: bool = False
    bias: bool = False
    act: str = "none"
    repeat: int = 1
    block: str = ""  # the block (residual / separable) this layer belongs to, if any

    @property
    def in_elems(self) -> int:
        return self.h_in * self.w_in * self.c_in

    @property
    def out_elems(self) -> int:
        return self.h_out * self.w_out * self.c_out

    @property
    def kernel_elems(self) -> int:
        """Weight elements of the kernel (no bias, no batch norm)."""
        kh, kw = self.k
        if self.kind == "conv":
            return kh * kw * self.c_in * self.c_out
        if self.kind == "dwconv":
            return kh * kw * self.c_out
        if self.kind == "fc":
            return self.c_in * self.c_out
        return 0

    @property
    def params(self) -> int:
        """Parameters: kernel, bias, and γ and β of a following batch norm."""
        return (
            self.kernel_elems
            + (self.c_out if self.bias else 0)
            + (2 * self.c_out if self.bn else 0)
        )

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one instance for one sample."""
        if self.kind == "fc":
            return self.kernel_elems
        if self.kind in ("conv", "dwconv"):
            return self.h_out * self.w_out * self.kernel_elems
        return 0


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


class _Stack:
    """Running shape while the rows expand."""

    def __init__(self, h: int, w: int, c: int) -> None:
        self.h, self.w, self.c = h, w, c
        self.layers: list[Layer] = []
        self.block = ""

    def conv(
        self,
        name: str,
        c: int,
        k: tuple[int, int],
        s: tuple[int, int],
        act: str,
        repeat: int,
        bn: bool = True,
        bias: bool = False,
        depthwise: bool = False,
    ) -> None:
        h_o, w_o = math.ceil(self.h / s[0]), math.ceil(self.w / s[1])
        kind = "dwconv" if depthwise else "conv"
        c_out = self.c if depthwise else c
        self.layers.append(
            Layer(
                name,
                kind,
                self.h,
                self.w,
                self.c,
                h_o,
                w_o,
                c_out,
                k,
                s,
                bn,
                bias,
                act,
                repeat,
                self.block,
            )
        )
        self.h, self.w, self.c = h_o, w_o, c_out

    def add(self, name: str, act: str, repeat: int) -> None:
        h, w, c = self.h, self.w, self.c
        self.layers.append(
            Layer(name, "add", h, w, c, h, w, c, act=act, repeat=repeat, block=self.block)
        )


def _bottleneck(st: _Stack, row: Any, name: str, i: int, repeat: int) -> None:
    s = _pair(row.s) if i == 0 else (1, 1)
    h, w, c_in = st.h, st.w, st.c
    s1, s3 = (s, (1, 1)) if row.stride_at == "1x1" else ((1, 1), s)
    st.conv(f"{name}.conv1", row.mid, (1, 1), s1, "relu", repeat)
    st.conv(f"{name}.conv2", row.mid, (3, 3), s3, "relu", repeat)
    st.conv(f"{name}.conv3", row.c, (1, 1), (1, 1), "none", repeat)
    if c_in != row.c or s != (1, 1):
        out = (st.h, st.w, st.c)
        st.h, st.w, st.c = h, w, c_in
        st.conv(f"{name}.shortcut", row.c, (1, 1), s, "none", repeat)
        st.h, st.w, st.c = out
    st.add(f"{name}.add", "relu", repeat)


def _inverted_residual(st: _Stack, row: Any, name: str, i: int, repeat: int) -> None:
    s = _pair(row.s) if i == 0 else (1, 1)
    c_in = st.c
    if row.t != 1:
        st.conv(f"{name}.expand", c_in * row.t, (1, 1), (1, 1), "relu6", repeat)
    st.conv(f"{name}.dw", 0, (3, 3), s, "relu6", repeat, depthwise=True)
    st.conv(f"{name}.project", row.c, (1, 1), (1, 1), "none", repeat)
    if s == (1, 1) and c_in == row.c:
        st.add(f"{name}.add", "none", repeat)


def _dwsep(st: _Stack, row: Any, name: str, i: int, repeat: int) -> None:
    s = _pair(row.s) if i == 0 else (1, 1)
    st.conv(f"{name}.dw", 0, _pair(row.k), s, row.act, repeat, depthwise=True)
    st.conv(f"{name}.pw", row.c, (1, 1), (1, 1), row.act, repeat)


_BLOCKS = {"bottleneck": _bottleneck, "inverted_residual": _inverted_residual, "dwsep": _dwsep}


def expand(model: Any) -> tuple[Layer, ...]:
    """Per-layer shapes of a CNN entry (``model.cnn`` rows over ``model.input_shape``)."""
    arch = model.cnn
    h, w, c = model.input_shape
    st = _Stack(h, w, c)
    for j, row in enumerate(arch.layers):
        base = f"{j}.{row.op}"
        block = _BLOCKS.get(row.op)
        if block is not None:
            st.block = f"{base}[0]"
            block(st, row, st.block, 0, 1)
            if row.n > 1:
                st.block = f"{base}[1:{row.n}]"
                block(st, row, st.block, 1, row.n - 1)
            st.block = ""
            continue
        if row.op in ("conv", "dwconv"):
            dw = row.op == "dwconv"
            st.conv(base, row.c, _pair(row.k), _pair(row.s), row.act, 1, row.bn, row.bias, dw)
            if row.n > 1:
                name = f"{base}[1:{row.n}]"
                st.conv(name, row.c, _pair(row.k), (1, 1), row.act, row.n - 1, row.bn, row.bias, dw)
        elif row.op == "maxpool":
            kk, s = _pair(row.k), _pair(row.s)
            h_o, w_o = math.ceil(st.h / s[0]), math.ceil(st.w / s[1])
            st.layers.append(Layer(base, "maxpool", st.h, st.w, st.c, h_o, w_o, st.c, kk, s))
            st.h, st.w = h_o, w_o
        elif row.op == "avgpool":
            st.layers.append(Layer(base, "avgpool", st.h, st.w, st.c, 1, 1, st.c, (st.h, st.w)))
            st.h = st.w = 1
        else:  # fc: flattens what is left
            c_in = st.h * st.w * st.c
            st.layers.append(Layer(base, "fc", 1, 1, c_in, 1, 1, row.c, bias=True, act=row.act))
            st.h, st.w, st.c = 1, 1, row.c
    return tuple(st.layers)


def count_cnn_params(layers: tuple[Layer, ...]) -> int:
    """Parameters of an expanded stack (batch-norm γ and β included)."""
    return sum(layer.params * layer.repeat for layer in layers)


def count_cnn_macs(layers: tuple[Layer, ...]) -> int:
    """Multiply-accumulates of one forward pass of one sample."""
    return sum(layer.macs * layer.repeat for layer in layers)


def check_stated_counts(model: Any) -> None:
    """Raise ``ValueError`` when the layer table does not reproduce the stated params and FLOPs
    within :data:`CNN_COUNT_TOLERANCE` (used by the model registry at load time)."""
    if model.input_shape is None or len(model.input_shape) != 3:
        raise ValueError(
            "a [ID.cnn] layer table needs input_shape = [height, width, channels], "
            "e.g. [224, 224, 3]"
        )
    layers = expand(model)
    if not layers:
        raise ValueError("the [ID.cnn] table has no layers; list the stack's rows")
    stated_p = float(model.params.to("param").magnitude)
    counted_p = count_cnn_params(layers)
    err = abs(counted_p - stated_p) / stated_p
    if err > CNN_COUNT_TOLERANCE:
        raise ValueError(
            f"the layer table implies {counted_p:,} parameters but params states "
            f"{stated_p:,.0f} ({err:.1%} apart, tolerance {CNN_COUNT_TOLERANCE:.0%}); check "
            "the rows' channels (c, mid, t), kernel sizes and repeats against the paper's "
            "architecture table, or correct params"
        )
    stated_f = float(model.flops_per_inference.to("FLOP").magnitude)
    counted_f = FLOPS_PER_MAC.value * count_cnn_macs(layers)
    err = abs(counted_f - stated_f) / stated_f
    if err > CNN_COUNT_TOLERANCE:
        raise ValueError(
            f"the layer table implies {counted_f:,.0f} FLOP per inference (2 per MAC) but "
            f"flops_per_inference states {stated_f:,.0f} ({err:.1%} apart, tolerance "
            f"{CNN_COUNT_TOLERANCE:.0%}); check strides (s), input_shape and repeats (n), or "
            "correct flops_per_inference"
        )
