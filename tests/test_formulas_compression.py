"""Compression: quantized group layouts by hand, their derivations, and 2:4 density refusals.

Found by mutation testing: a group of one weight, the group-size override shown in a
derivation, and the refusal of a 2:4 density other than 0.5 had no test; formats without group
scales rendered their derivation as a division by zero (now g = ∞, the limit it stands for).
"""

from __future__ import annotations

import math

import pytest

from mlsysim import Q_
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas import (
    FORMULAS,
    quantized_bits_per_weight,
    quantized_weights_bytes,
    sparse_math_speedup,
    sparse_speedup_bound,
    sparse_weight_bytes,
)
from mlsysim.viz.derivation import render_derivation


def test_a_group_of_one_weight_carries_its_own_scale_and_zero_point():
    # GPTQ/AWQ int4: an fp16 scale and a 4-bit zero point per group; g = 1 -> 4 + 16 + 4 bits
    assert quantized_bits_per_weight(precision="int4", group_size=1) == pytest.approx(24.0)
    assert quantized_bits_per_weight(precision="int4", group_size=2) == pytest.approx(14.0)


def test_bits_per_weight_fall_with_the_group_size_towards_the_element():
    b = [quantized_bits_per_weight(precision="int4", group_size=g) for g in (1, 32, 128, 4096)]
    assert b == sorted(b, reverse=True)
    assert b[-1] == pytest.approx(4 + 20 / 4096)
    # g = 0 is one scale per tensor: the element's 4 bits, the g → ∞ limit
    assert quantized_bits_per_weight(precision="int4", group_size=0) == 4.0


@pytest.mark.parametrize(
    ("precision", "group_size"),
    [("int4", None), ("int4", 64), ("int4", 1), ("int4", 0), ("fp4", None), ("fp16", None)],
)
def test_derivation_operands_reproduce_the_result(precision, group_size):
    info = FORMULAS["quantized_bits_per_weight"].formula
    args = info.bind(precision=precision, group_size=group_size)
    ops = info.operands(args)
    result = quantized_bits_per_weight(precision=precision, group_size=group_size)
    g = ops["group_size"]
    assert g > 0
    assert ops["bits"] + (ops["scale_bits"] + ops["zero_bits"]) / g == pytest.approx(result)
    if group_size:
        assert g == group_size  # the author's override, not the format's default
    latex = render_derivation(info, args, result).latex
    assert r"{ 0 }" not in latex.partition(" = ")[2], latex  # never a division by zero


def test_a_format_without_group_scales_shows_none():
    info = FORMULAS["quantized_bits_per_weight"].formula
    ops = info.operands(info.bind(precision="fp16"))
    assert (ops["bits"], ops["scale_bits"], ops["zero_bits"]) == (16, 0, 0)
    assert ops["group_size"] == math.inf
    latex = render_derivation(info, info.bind(precision="fp16"), 16.0).latex
    assert r"16 + \frac{ 0 + 0 }{ \infty }" in latex, latex


def test_quantized_weight_bytes_with_a_group_override():
    # 7B int4 in groups of 64: 7e9 · (4 + 20/64) / 8 bytes
    m = quantized_weights_bytes(params=7e9, precision="int4", group_size=64)
    assert m.to("B").magnitude == pytest.approx(7e9 * (4 + 20 / 64) / 8)
    info = FORMULAS["quantized_weights_bytes"].formula
    ops = info.operands(info.bind(params=7e9, precision="int4", group_size=64))
    assert ops["bytes_per_element"].to("B").magnitude == pytest.approx((4 + 20 / 64) / 8)


@pytest.mark.parametrize(
    ("fn", "kwargs"),
    [
        (sparse_weight_bytes, {"params": Q_("1e9 param"), "density": 0.3}),
        (sparse_speedup_bound, {"density": 0.25}),
        (sparse_math_speedup, {"density": 0.75}),
    ],
)
def test_2_4_sparsity_at_another_density_is_refused_with_a_fix(fn, kwargs):
    with pytest.raises(FormulaDomainError) as info:
        fn(pattern="2:4", **kwargs)
    exc = info.value
    assert exc.where == fn.__name__
    assert f"got {kwargs['density']:g}" in exc.what
    assert "2 of every 4" in exc.why
    assert "density=0.5" in exc.fix and "pattern='unstructured'" in exc.fix
    fn(pattern="unstructured", **kwargs)  # the same density is fine without the pattern
