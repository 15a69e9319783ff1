"""CNN layer tables (``[ID.cnn]``) reproduce the papers' shapes, parameters and MACs."""

from __future__ import annotations

import textwrap

import pytest

import mlsysim
from mlsysim.workload.cnn import CNN_COUNT_TOLERANCE, count_cnn_macs, count_cnn_params, expand


def _layers(model_id: str):
    return expand(mlsysim.Models[model_id])


# Published figures: torchvision's model cards (parameters with batch-norm gamma/beta) and the
# papers' multiply-add counts.
@pytest.mark.parametrize(
    "model_id, params, macs, rel_macs",
    [
        ("ResNet50", 25_557_032, 3.8e9, 0.02),  # torchvision; He et al. 2016 Table 1
        ("MobileNetV2", 3_504_872, 300e6, 0.01),  # torchvision; Sandler et al. 2018 Table 4
        ("DSCNN_KWS", 23_180, 2.7e6, 0.02),  # Hello Edge: 5.4M ops = 2.7M MACs
    ],
)
def test_counts_match_published(model_id: str, params: int, macs: float, rel_macs: float) -> None:
    layers = _layers(model_id)
    assert count_cnn_params(layers) == params  # DS-CNN: 64-channel table of ML-KWS-for-MCU
    assert count_cnn_macs(layers) == pytest.approx(macs, rel=rel_macs)


def test_resnet50_stage_output_sizes() -> None:
    # He et al. 2016 Table 1: conv1 112x112, conv2_x 56x56, conv3_x 28x28, conv4_x 14x14,
    # conv5_x 7x7 (2048 channels), then average pool and a 1000-way fc
    layers = _layers("ResNet50")
    assert (layers[0].h_out, layers[0].c_out) == (112, 64)
    adds = [layer for layer in layers if layer.kind == "add"]
    sizes = [(a.h_out, a.c_out) for a in adds]
    assert sizes == [
        (56, 256),
        (56, 256),
        (28, 512),
        (28, 512),
        (14, 1024),
        (14, 1024),
        (7, 2048),
        (7, 2048),
    ]
    assert sum(a.repeat for a in adds) == 3 + 4 + 6 + 3
    convs = sum(layer.repeat for layer in layers if layer.kind == "conv")
    assert convs == 1 + 3 * 16 + 4  # stem, three per bottleneck, four projection shortcuts
    assert layers[-1].kind == "fc" and (layers[-1].c_in, layers[-1].c_out) == (2048, 1000)


def test_mobilenetv2_table2_shapes() -> None:
    # Sandler et al. 2018 Table 2: the last bottleneck gives 7x7x320, then 1x1 conv to 1280
    layers = _layers("MobileNetV2")
    project = [layer for layer in layers if layer.name.endswith(".project")]
    assert (project[-1].h_out, project[-1].c_out) == (7, 320)
    dw = [layer for layer in layers if layer.kind == "dwconv"]
    assert sum(layer.repeat for layer in dw) == 17  # 1 + 2 + 3 + 4 + 3 + 3 + 1 bottlenecks
    adds = sum(layer.repeat for layer in layers if layer.kind == "add")
    assert adds == 10  # stride-1 repeats with equal channels
    assert [(layer.h_out, layer.c_out) for layer in layers if layer.name.startswith("8.")] == [
        (7, 1280)
    ]


def test_dscnn_memory_matches_hello_edge() -> None:
    # Hello Edge: DS-CNN small needs 38.6 KB at 8-bit weights and activations: weights and
    # biases (batch norm folded) plus two ping-pong activation buffers of 25x5x64
    layers = _layers("DSCNN_KWS")
    assert (layers[0].h_out, layers[0].w_out, layers[0].c_out) == (25, 5, 64)
    weighted = [layer for layer in layers if layer.kind in ("conv", "dwconv", "fc")]
    folded = sum((layer.kernel_elems + layer.c_out) * layer.repeat for layer in weighted)
    buffers = 2 * max(layer.out_elems for layer in layers)
    assert (folded + buffers) / 1e3 == pytest.approx(38.6, abs=0.05)


def test_resnet_v15_moves_the_stride() -> None:
    # torchvision's ResNet-50 (v1.5) strides the 3x3 conv: 4.09 GMACs (its model card)
    m = mlsysim.Models.ResNet50
    rows = tuple(
        r.model_copy(update={"stride_at": "3x3"}) if r.op == "bottleneck" else r
        for r in m.cnn.layers
    )
    v15 = m.model_copy(update={"cnn": m.cnn.model_copy(update={"layers": rows})})
    assert count_cnn_macs(expand(v15)) == pytest.approx(4.09e9, rel=0.01)


_BROKEN = """\
schema = "mlsysim.model/1"

[sources.user_paper]
title = "My CNN"
authors = "Me"
year = 2024

[MyResNet]
name = "ResNet-50 with a fourth conv5_x block"
kind = "cnn"
task = "vision"
source = "user_paper"
params = "25.6e6 param"
flops_per_inference = "7.6 GFLOP"
input_shape = [224, 224, 3]

[MyResNet.cnn]
layers = [
  { op = "conv", k = 7, c = 64, s = 2 },
  { op = "maxpool", k = 3, s = 2 },
  { op = "bottleneck", mid = 64, c = 256, n = 3 },
  { op = "bottleneck", mid = 128, c = 512, n = 4, s = 2 },
  { op = "bottleneck", mid = 256, c = 1024, n = 6, s = 2 },
  { op = "bottleneck", mid = 512, c = 2048, n = 4, s = 2 },
  { op = "avgpool" },
  { op = "fc", c = 1000, act = "none" },
]
"""


def test_wrong_layer_table_fails_at_load(tmp_path, clean_registry) -> None:
    (tmp_path / "models.toml").write_text(textwrap.dedent(_BROKEN), encoding="utf-8")
    mlsysim.add_data_dir(tmp_path)
    with pytest.raises(mlsysim.RegistryDataError) as info:
        mlsysim.Models.ids()
    text = str(info.value)
    assert "layer table implies" in text and f"{CNN_COUNT_TOLERANCE:.0%}" in text


def test_eager_resnet50_kernels_read_and_write_their_tensors() -> None:
    # Eager (unfused) inference, batch 2, bf16: one kernel per framework layer, each reading
    # its input and writing its output. Found by mutation testing: this path had no test.
    r = mlsysim.solve("ResNet50", hardware="A100", phase="inference", batch=2, engine="eager")
    ops = {o.name: o for o in r.ops}
    b, beta = 2, 2  # batch, bytes per bf16 element
    X, Y = 3 * 224 * 224 * b, 64 * 112 * 112 * b  # the stem conv's input and output
    stem = ops["0.conv"]
    assert stem.bytes == (7 * 7 * 3 * 64 + X + Y) * beta  # no bias: batch norm follows
    # batch norm (scale and shift, 2 FLOP/element) and ReLU (1) each read and write Y
    assert ops["0.conv.bn"].bytes == ops["0.conv.relu"].bytes == 2 * Y * beta
    assert ops["0.conv.bn"].flops == pytest.approx(2 * ops["0.conv.relu"].flops)
    # ReLU's FLOPs over the conv's 2 FLOP per MAC: the calibration scale cancels
    macs = 7 * 7 * 3 * 64 * 112 * 112 * b
    assert ops["0.conv.relu"].flops / stem.flops == pytest.approx(Y / (2 * macs))
    # 3×3 max pooling: 64×112×112 in, 64×56×56 out
    assert ops["1.maxpool"].bytes == (64 * 112 * 112 + 64 * 56 * 56) * b * beta
    # the classifier: 2048×1000 weights and 1000 biases, 2048 in and 1000 out per image
    assert ops["7.fc"].bytes == (2048 * 1000 + 1000 + (2048 + 1000) * b) * beta
    # a residual add reads two tensors and writes one: 3 touches of 2048×7×7
    add = next(o for name, o in ops.items() if name.startswith("5.") and name.endswith(".add"))
    assert add.bytes == 3 * 2048 * 7 * 7 * b * beta


def test_eager_resnet50_stores_batch_norm_running_statistics() -> None:
    # torchvision's 25,557,032 parameters hold γ and β; eager inference also keeps the running
    # mean and variance of every batch-norm channel: 64 (stem) + 6w per bottleneck
    # (w, w, 4w) + 4w per stage's downsample, w = 64, 128, 256, 512 over 3, 4, 6, 3 blocks
    widths, blocks = (64, 128, 256, 512), (3, 4, 6, 3)
    bn = 64 + sum(6 * w * n + 4 * w for w, n in zip(widths, blocks, strict=True))
    assert bn == 26_560
    r = mlsysim.solve("ResNet50", hardware="A100", phase="inference", batch=1, engine="eager")
    assert r.memory.weights_bytes == (25_557_032 + 2 * bn) * 2
