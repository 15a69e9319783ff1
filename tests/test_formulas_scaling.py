"""Scaling laws against GPT-3, Chinchilla and Kaplan et al."""

from __future__ import annotations

import pytest

from mlsysim import Q_
from mlsysim.core.constants import CHINCHILLA_E
from mlsysim.core.formulas import (
    best_of_n,
    chinchilla_loss,
    chinchilla_optimal,
    inference_flops,
    kaplan_loss,
    moe_flops,
    reasoning_flops,
    training_flops,
    training_time,
)


def test_gpt3_training_flops():
    # Brown et al. 2020, Table D.1: 175B on 300B tokens -> 3.14e23 FLOP (6ND = 3.15e23)
    c = training_flops(params=175e9, tokens=300e9).to("FLOP").magnitude
    assert c == pytest.approx(3.15e23)
    assert c == pytest.approx(3.14e23, rel=0.005)
    q = training_flops(params=Q_("175 Gparam"), tokens=Q_("300 Gtoken"))
    assert q.to("FLOP").magnitude == pytest.approx(c)


def test_chinchilla_70b_on_1_4t_tokens():
    # Hoffmann et al. 2022: Gopher's budget (5.76e23 FLOP) is compute-optimal at 70B / 1.4T
    point = chinchilla_optimal(compute=Q_("5.76e23 FLOP"))
    assert point.params.to("param").magnitude == pytest.approx(70e9, rel=0.02)
    assert point.tokens.to("token").magnitude == pytest.approx(1.4e12, rel=0.02)


def test_loss_fits_decrease_toward_their_floors():
    assert chinchilla_loss(params=70e9, tokens=1.4e12) < chinchilla_loss(params=7e9, tokens=1.4e12)
    assert chinchilla_loss(params=1e30, tokens=1e30) == pytest.approx(CHINCHILLA_E.value, abs=1e-3)
    # Kaplan Eq. 1.5 reduces to Eq. 1.1 (N_c/N)^α_N as D -> ∞
    assert kaplan_loss(params=1e9, tokens=1e40) == pytest.approx((8.8e13 / 1e9) ** 0.076, rel=1e-6)


def test_inference_compute():
    assert inference_flops(params=7e9, tokens=1).to("FLOP").magnitude == 14e9
    # Mixtral 8x7B: ~12.9B active parameters per token
    assert moe_flops(active_params=12.9e9, tokens=1).to("FLOP").magnitude == pytest.approx(25.8e9)
    base = reasoning_flops(params=70e9, prompt_tokens=1000, generated_tokens=0)
    more = reasoning_flops(params=70e9, prompt_tokens=1000, generated_tokens=8000, samples=4)
    assert (more - base).to("FLOP").magnitude == pytest.approx(2 * 70e9 * 32000)
    assert best_of_n(p=0.1, samples=1) == pytest.approx(0.1)
    assert best_of_n(p=0.1, samples=10) == pytest.approx(1 - 0.9**10)


def test_training_time():
    t = training_time(flops=Q_("3.14e23 FLOP"), devices=1024, peak=Q_("312 TFLOP/s"), mfu=0.5)
    assert t.to("s").magnitude == pytest.approx(3.14e23 / (1024 * 312e12 * 0.5))
