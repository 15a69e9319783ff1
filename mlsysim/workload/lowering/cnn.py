"""Per-layer lowering of convolutional networks (inference and training steps).

A CNN entry with a layer table (``[ID.cnn]``, expanded by :mod:`mlsysim.workload.cnn`) lowers
to one operation per layer record (identical repeated blocks share one op with a ``repeat``
count). ``b`` is the batch, ``β_w``/``β_a`` bytes per weight/activation element, ``X``/``Y`` a
layer's input/output activations (elements per sample), ``W`` its kernel elements.

Inference under a *fused* engine (TensorRT, compiled graphs, TFLite Micro; the engine decides,
:mod:`mlsysim.hardware.engines`):

* dense and pointwise convs and the classifier: implicit GEMMs (``kind="gemm"``),
  ``2·b·MACs`` FLOPs and their weights ``W·β_w``. Batch norm is folded into the conv's weights
  and bias (an affine map at inference: Ioffe & Szegedy 2015; Jacob et al. 2018 §3.2); the
  activation and a residual add run in the conv's epilogue — cuDNN's fused
  ``y = act(α₁·conv(x) + α₂·z + bias)`` (NVIDIA cuDNN API).
* a block (ResNet bottleneck, MobileNetV2 inverted residual, depthwise-separable pair) runs
  fused: it reads its input ``b·X·β_a`` once (charged to its first op) and writes its output
  ``b·Y·β_a`` once (charged to its last op); its inner tensors stay on chip, as in fused-layer
  execution (Alwani et al. 2016) and TensorRT's fused residual kernels, and it costs one
  kernel launch per convolution (TensorRT fuses each conv with its epilogue, not whole
  blocks). A plain layer (stem conv, pooling, classifier) reads and writes its tensors,
  and so does every layer of a block holding a depthwise conv: the depthwise conv runs on the
  vector units as its own kernel, not inside the tensor-core GEMM of its neighbours, so such
  blocks (MobileNetV2, DS-CNN) run layer by layer with the residual add in the projection's
  epilogue reading the shortcut.
  Charging every inner tensor to DRAM instead would make the roofline *bound* slower than
  measured fused engines (MLPerf ResNet-50 on an L4 moves at most ~23 MB per image; per-layer
  traffic is ~27 MB at int8), so per-layer traffic is not a valid lower bound.
* depthwise convs: ``2·b·MACs`` FLOPs; at ``k²`` MACs per output element their intensity is a
  few FLOP/B, under every device's ridge point. They are their own ops (``dw`` in the name)
  with ``kind="elementwise"``: the solver times non-GEMM kinds at compute efficiency 1, what a
  memory-bound op needs, and the result schema has no depthwise kind yet.
* pooling: element-wise ops reading ``X`` and writing ``Y``.
* wave quantization: a conv is an implicit GEMM of ``M = b·h_o·w_o`` rows, ``N = c_out``
  columns and ``K = k_h·k_w·c_in`` — forward convolution kernels do not split K, so a batch-1
  network leaves most SMs of a large GPU idle (:func:`~mlsysim.core.formulas.gemm_wave_efficiency`).

Inference under an *unfused* engine (PyTorch or TensorFlow eager): every layer is its own
kernel reading its input and writing its output — the conv (weights, input, output), batch
norm in inference mode (read and write), the activation (read and write), the residual add
(two reads, one write) and the activation after it — and batch norm keeps its four
per-channel parameters (γ, β, running mean and variance; Ioffe & Szegedy 2015).

Training (framework execution, batch norm in training mode cannot be folded):

* every conv/classifier: forward plus backward — data gradient and weight gradient, each the
  forward's FLOPs (Kaplan et al. 2020: backward = 2× forward); the first layer has no data
  gradient (the input needs none). Bytes: forward ``W + X + Y``, data gradient ``W + dY +
  dX``, weight gradient ``X + dY + dW``.
* batch norm: the statistics must be complete before any output is written, and a
  training-size tensor does not fit on chip, so the forward reads ``Y`` twice and writes once
  (3 touches) and the backward reads ``dY`` and ``Y`` for its reductions, then again to write
  ``dX`` (5 touches) (Ioffe & Szegedy 2015, Algorithm 1 and its backward).
* ReLU: forward read + write, backward reads ``dY`` and the output, writes ``dX``; residual
  add: forward two reads and a write, backward the sum of the two branches' gradients where
  they split (two reads, one write).
* then the optimizer update over every parameter (:func:`mlsysim.workload.lowering.lower`).

The FLOPs of the ops are scaled by ``stated / counted`` (within the 5 % load-time check of
:mod:`mlsysim.workload.cnn`), so a solve's forward FLOPs equal the published
``flops_per_inference`` that books quote; the layer table distributes them and sets the bytes.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.arrays import larger
from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import BACKWARD_FORWARD_RATIO, BATCHNORM_BUFFERS, FLOPS_PER_MAC
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.formulas.performance import model_flops_F
from mlsysim.workload.cnn import Layer, expand
from mlsysim.workload.lowering.facts import ModelFacts
from mlsysim.workload.lowering.ops import (
    ELEMENTWISE,
    TOUCHES,
    Lowered,
    MemoryBytes,
    Op,
    OpBuilder,
    add_optimizer_update,
    resident_weights,
    training_state,
)

__all__ = ["CNNLowering", "cnn_layers", "cnn_ops", "lower_cnn"]

#: FLOPs per element of the memory-bound CNN kernels (they set only the ops' intensity).
_BN_FWD_FLOPS = ELEMENTWISE["batchnorm"]
_BN_BWD_FLOPS = BACKWARD_FORWARD_RATIO.value * _BN_FWD_FLOPS  # backward = 2× forward
_RELU_FLOPS = ELEMENTWISE["relu"]
_BN_INFER_FLOPS = ELEMENTWISE["batchnorm_inference"]
_BN_BUFFERS = BATCHNORM_BUFFERS.value  # γ, β, running mean and variance per channel
_ADD_FLOPS = ELEMENTWISE["add"]
_MAC = FLOPS_PER_MAC.value

_new_op = tuple.__new__

_LAYERS = DerivedCache("workload.cnn_layers")


def cnn_layers(model: Any) -> tuple[tuple[Layer, ...], float]:
    """Expanded layers of a CNN spec and its FLOP scale ``stated / counted`` (cached)."""
    hit = _LAYERS.get(id(model))
    if hit is not None and hit[0] is model:
        return hit[1], hit[2]
    layers = expand(model)
    counted = 0.0
    for layer in layers:
        counted += _forward_flops(layer) * layer.repeat
    stated = float(model.flops_per_inference.to("FLOP").magnitude)
    scale = stated / counted
    _LAYERS.put(id(model), (model, layers, scale))
    return layers, scale


def _forward_flops(layer: Layer) -> float:
    """Forward FLOPs of one instance for one sample, before scaling (inference counting)."""
    if layer.kind in ("conv", "dwconv", "fc"):
        return _MAC * layer.macs
    if layer.kind == "maxpool":
        kh, kw = layer.k
        return float(layer.out_elems * kh * kw)
    if layer.kind == "avgpool":
        return float(layer.in_elems)
    return _ADD_FLOPS * layer.out_elems  # add (fused into the conv epilogue at inference)


class CNNLowering:
    """Ops and activation memory of one CNN step (what :func:`cnn_ops` returns)."""

    __slots__ = ("activations", "ops", "weights")

    def __init__(self, ops: list[Op], weights: float, activations: float) -> None:
        self.ops = ops
        self.weights = weights  # weight elements resident (inference: batch norm folded)
        self.activations = activations  # bytes


def cnn_ops(model: Any, training: bool, batch: int, rp: Any, B: Any) -> CNNLowering:
    """Per-layer ops of one inference or training step of a CNN spec with a layer table
    (``B``: the step's :class:`~mlsysim.workload.lowering.ops.OpBuilder`)."""
    layers, scale = cnn_layers(model)
    if training:
        return _training(layers, scale, batch * 1.0, rp, B)
    return _inference(layers, scale, batch * 1.0, rp, B.sparse_factor, B)


def _inference(
    layers: tuple[Layer, ...], scale: float, b: float, rp: Any, sparse_factor: float, B: Any
) -> CNNLowering:
    if rp.fusion == "unfused":
        return _inference_unfused(layers, scale, b, rp, sparse_factor, B)
    ba = rp.activation_bytes
    ops: list[Op] = []
    weights = 0.0
    peak_live = 0.0
    layer_by_layer = {layer.block for layer in layers if layer.kind == "dwconv" and layer.block}
    i = 0
    while i < len(layers):
        j = i + 1
        if layers[i].block and layers[i].block not in layer_by_layer:
            while j < len(layers) and layers[j].block == layers[i].block:
                j += 1
        # a block holding a depthwise conv runs layer by layer, its residual add reading the
        # shortcut from memory in the projection's epilogue
        group = layers[i:j]
        # a fused block reads its input and writes its output once; its inner tensors stay on
        # chip. A single layer reads its input and writes its output.
        X = b * group[0].in_elems
        Y = b * group[-1].out_elems
        live = 0.0
        for k, layer in enumerate(group):
            n = layer.repeat
            F = _forward_flops(layer) * b * scale
            io = (X if k == 0 else 0.0) * ba
            live = larger(live, b * (layer.in_elems + layer.out_elems))
            if layer.kind == "add":  # in the epilogue of the op just lowered
                last = ops[-1]
                z = 0.0 if len(group) > 1 else Y  # unfused: read the shortcut from memory
                ops[-1] = last._replace(
                    name=last.name + "+add", flops=last.flops + F, bytes=last.bytes + z * ba
                )
                continue
            if layer.kind in ("conv", "fc", "dwconv"):
                w = float(layer.kernel_elems + layer.c_out)  # bias, batch norm folded into it
                weights += w * n
                ops.append(_weight_op(layer, F, w, io, b, rp, sparse_factor, B))
            else:
                ops.append(_kernel(layer.name, F, io, n))
        if group[-1].kind != "add" or len(group) > 1:
            last = ops[-1]
            ops[-1] = last._replace(bytes=last.bytes + Y * ba)
        peak_live = larger(peak_live, X + Y + live)
        i = j
    return CNNLowering(ops, weights, peak_live * ba)


def _weight_op(
    layer: Layer, F: float, w: float, io: float, b: float, rp: Any, sparse_factor: float, B: Any
) -> Op:
    """The inference op of a conv, fc or depthwise-conv layer: ``w`` weights read at the
    plan's bytes (2:4-stored and dequantized when dense) and ``io`` activation bytes; a dense
    layer is an implicit GEMM, a depthwise conv an element-wise kernel."""
    dense = layer.kind != "dwconv"
    nbytes = w * rp.weight_bytes * (sparse_factor if dense else 1.0) + io
    kind = "gemm" if dense else "elementwise"
    waves = _conv_waves(layer, b, B) if dense else 1.0
    sparse, dq = rp.sparse and dense, rp.weight_only and dense
    op = (layer.name, kind, F, nbytes, 1.0, layer.repeat, sparse, 0, dq, waves, 1.0)
    return _new_op(Op, op)


def _conv_waves(layer: Layer, b: float, B: Any) -> float:
    """Wave quantization of a conv as an implicit GEMM (forward convolutions do not split K)."""
    M = b * layer.h_out * layer.w_out
    K = float(layer.kernel_elems // max(1, layer.c_out)) if layer.kind != "fc" else layer.c_in
    return B.waves(M, float(layer.c_out), K, split_k=layer.kind == "fc")


def _inference_unfused(
    layers: tuple[Layer, ...], scale: float, b: float, rp: Any, sparse_factor: float, B: Any
) -> CNNLowering:
    """Eager inference: one kernel per framework layer, each reading and writing its tensors."""
    ba = rp.activation_bytes
    ops: list[Op] = []
    weights = 0.0
    peak_live = 0.0
    for layer in layers:
        n = layer.repeat
        X = b * layer.in_elems
        Y = b * layer.out_elems
        F = _forward_flops(layer) * b * scale
        peak_live = larger(peak_live, X + Y)
        if layer.kind in ("conv", "fc", "dwconv"):
            w = float(layer.kernel_elems + (layer.c_out if layer.bias else 0))
            weights += (w + (_BN_BUFFERS * layer.c_out if layer.bn else 0.0)) * n
            ops.append(_weight_op(layer, F, w, (X + Y) * ba, b, rp, sparse_factor, B))
            if layer.bn:  # inference-mode batch norm: y = γ(x − μ)/σ + β, read and write
                ops.append(_kernel(layer.name + ".bn", Y * _BN_INFER_FLOPS * scale, 2 * Y * ba, n))
        elif layer.kind == "add":
            ops.append(_kernel(layer.name, F, Y * TOUCHES["add_forward"] * ba, n))
        else:
            ops.append(_kernel(layer.name, F, (X + Y) * ba, n))
        if layer.act != "none":
            name = layer.name + "." + layer.act
            ops.append(_kernel(name, Y * _RELU_FLOPS * scale, 2.0 * Y * ba, n))
    return CNNLowering(ops, weights, peak_live * ba)


def _kernel(name: str, flops: float, nbytes: float, repeat: int) -> Op:
    """One element-wise kernel of an eager framework (its own launch, reads and writes)."""
    return _new_op(Op, (name, "elementwise", flops, nbytes, 1.0, repeat, False, 0, False, 1.0, 1.0))


def _training(layers: tuple[Layer, ...], scale: float, b: float, rp: Any, B: Any) -> CNNLowering:
    sparse_factor = B.sparse_factor
    bw, ba = rp.weight_bytes, rp.activation_bytes
    sparse = rp.sparse
    full = rp.plan.recompute == "full"
    ops: list[Op] = []
    weights = 0.0
    stored = 0.0  # activation elements kept for the backward pass
    first = True
    for layer in layers:
        n = layer.repeat
        X = b * layer.in_elems
        Y = b * layer.out_elems
        F = _forward_flops(layer) * b * scale
        if layer.kind in ("conv", "fc", "dwconv"):
            w = float(layer.kernel_elems + (layer.c_out if layer.bias else 0))
            weights += (w + (2.0 * layer.c_out if layer.bn else 0.0)) * n
            dense = layer.kind != "dwconv"
            W = w * bw * (sparse_factor if dense else 1.0)
            fwd_b = W + (X + Y) * ba
            dgrad_b = 0.0 if first else W + (Y + X) * ba
            wgrad_b = (X + Y) * ba + w * bw
            passes = 2.0 if first else 3.0
            kind = "gemm" if dense else "elementwise"
            _add(
                ops,
                layer.name,
                kind,
                F,
                fwd_b,
                F * (passes - 1.0),
                dgrad_b + wgrad_b,
                passes,
                n,
                full,
                sparse and dense,
                _conv_waves(layer, b, B) if dense else 1.0,
            )
            stored += (X if full else X + Y) * n
            first = False
            if layer.bn:
                f_bn = Y * _BN_FWD_FLOPS * scale
                _add(
                    ops,
                    layer.name + ".bn",
                    "elementwise",
                    f_bn,
                    Y * TOUCHES["batchnorm_forward"] * ba,
                    Y * _BN_BWD_FLOPS * scale,
                    Y * TOUCHES["batchnorm_backward"] * ba,
                    2.0,
                    n,
                    full,
                )
            if layer.act != "none":
                _relu(ops, layer.name + "." + layer.act, Y, scale, ba, n, full)
        elif layer.kind == "add":
            _add(
                ops,
                layer.name,
                "elementwise",
                F,
                Y * TOUCHES["add_forward"] * ba,
                F,
                Y * TOUCHES["add_backward"] * ba,
                2.0,
                n,
                full,
            )
            if layer.act != "none":
                _relu(ops, layer.name + "." + layer.act, Y, scale, ba, n, full)
        else:  # pooling: backward reads dY (and the argmax), writes dX
            io = (X + Y) * ba
            _add(
                ops,
                layer.name,
                "elementwise",
                F,
                io,
                F,
                io + (Y * ba if layer.kind == "maxpool" else 0.0),
                2.0,
                n,
                full,
            )
            stored += X * n
    return CNNLowering(ops, weights, stored * ba)


def _relu(ops: list[Op], name: str, Y: float, scale: float, ba: float, n: int, full: bool) -> None:
    f = Y * _RELU_FLOPS * scale
    _add(
        ops,
        name,
        "elementwise",
        f,
        Y * TOUCHES["relu_forward"] * ba,
        f,
        Y * TOUCHES["relu_backward"] * ba,
        2.0,
        n,
        full,
    )


def _add(
    ops: list[Op],
    name: str,
    kind: str,
    f_fwd: float,
    b_fwd: float,
    f_bwd: float,
    b_bwd: float,
    kernels: float,
    repeat: int,
    recompute: bool,
    sparse: bool = False,
    waves: float = 1.0,
) -> None:
    """Append one forward+backward op; full recompute re-runs the forward."""
    flops = f_fwd + f_bwd + (f_fwd if recompute else 0.0)
    nbytes = b_fwd + b_bwd + (b_fwd if recompute else 0.0)
    k = kernels + (1.0 if recompute else 0.0)
    ops.append(_new_op(Op, (name, kind, flops, nbytes, k, repeat, sparse, 0, False, waves, k)))


def lower_cnn(model: Any, f: ModelFacts, phase: str, batch: int, rp: Any) -> Lowered:
    """Lower one CNN/KWS step: per layer when the entry has a layer table, else one fused op."""
    if phase in ("prefill", "decode"):
        raise ConfigError(
            f"phase {phase!r} applies to language models, not a {f.kind} ({f.task}) model",
            where="solve",
            fix="use phase='inference' (a forward pass) or phase='training'",
        )
    training = phase == "training"
    b = batch * 1.0  # a float, or a float array (a sweep)
    ba = rp.activation_bytes
    B = OpBuilder(rp, training, high_bytes=ba)  # a CNN keeps activations in the GEMM format
    if model.cnn is not None:
        low = cnn_ops(model, training, batch, rp, B)
        B.ops.extend(low.ops)
        weights = resident_weights(low.weights, rp, B.sparse_factor)
        activations = low.activations
    else:  # an entry without a layer table: one fused op over its stated FLOPs
        weights = resident_weights(f.params, rp, B.sparse_factor)
        nbytes = weights + b * f.input_elems * ba
        B.add("forward", "gemm", b * f.flops_per_sample, nbytes, 1, False, rp.sparse)
        activations = b * f.input_elems * ba
    gradients = optimizer = 0.0
    if training:
        add_optimizer_update(B, f.params, rp)
        _, gradients, optimizer = training_state(f.params, rp, B.sparse_factor)
    memory = MemoryBytes(weights, 0.0, activations, gradients, optimizer)
    forward = b * f.flops_per_sample  # the published forward FLOPs: model FLOPs (MFU)
    model_flops = model_flops_F(forward, training)
    full = training and rp.plan.recompute == "full"
    hardware_flops = model_flops + (forward if full else 0.0)
    return Lowered(tuple(B.ops), memory, b, "sample", model_flops, hardware_flops)
