"""Economics (TCO, rent vs own) and compression bounds."""

from __future__ import annotations

import pytest

from mlsysim import Q_
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas import (
    amortized_capex,
    cloud_cost,
    egress_cost,
    energy_cost,
    opex,
    quantization_speedup,
    quantization_sqnr,
    quantized_weights_bytes,
    rent_vs_own_crossover,
    sparse_math_speedup,
    sparse_speedup_bound,
    sparse_weight_bytes,
    tco,
    weight_streaming_time,
)


def test_capex_opex_cloud_egress():
    assert amortized_capex(price=Q_("30000 USD"), lifetime=Q_("4 yr"), duration=Q_("1 yr")).to(
        "USD"
    ).magnitude == pytest.approx(7500)
    assert energy_cost(energy=Q_("1 MWh"), price=Q_("0.08 USD/kWh")).to("USD").magnitude == (
        pytest.approx(80)
    )
    o = opex(
        energy=Q_("1 MWh"),
        energy_price=Q_("0.08 USD/kWh"),
        price=Q_("30000 USD"),
        maintenance_rate=Q_("0.05 / yr"),
        duration=Q_("1 yr"),
    )
    assert o.to("USD").magnitude == pytest.approx(80 + 1500)
    assert cloud_cost(rate=Q_("2 USD/h"), duration=Q_("10 h"), n=8).to("USD").magnitude == (
        pytest.approx(160)
    )
    assert egress_cost(size=Q_("10 TB"), price=Q_("0.09 USD/GB")).to("USD").magnitude == (
        pytest.approx(900)
    )


def test_tco_and_crossover():
    t = tco(
        price=Q_("30000 USD"),
        power=Q_("1 kW"),
        energy_price=Q_("0.10 USD/kWh"),
        lifetime=Q_("1 yr"),
        pue=1.5,
    )
    assert t.energy.to("USD").magnitude == pytest.approx(1.5 * 8766 * 0.10)
    assert t.total == t.capex + t.energy + t.maintenance
    assert t.hourly.to("USD/h").magnitude == pytest.approx(t.total.to("USD").magnitude / 8766)
    x = rent_vs_own_crossover(
        price=Q_("30000 USD"), rental_rate=Q_("3 USD/h"), own_rate=Q_("0.5 USD/h")
    )
    assert x.to("h").magnitude == pytest.approx(12000)
    with pytest.raises(FormulaDomainError, match="rental_rate"):
        rent_vs_own_crossover(price=Q_("1 USD"), rental_rate=Q_("1 USD/h"), own_rate=Q_("2 USD/h"))


def test_quantization_bounds():
    assert quantization_speedup(from_precision="fp16", to_precision="int4") == 4.0
    # elements alone (group_size=0), and with AWQ/GPTQ's fp16 scale and 4-bit zero per 128
    assert (
        quantized_weights_bytes(params=7e9, precision="int4", group_size=0).to("GB").magnitude
        == 3.5
    )
    grouped = quantized_weights_bytes(params=7e9, precision="int4").to("GB").magnitude
    assert grouped == pytest.approx(7e9 * (4 + 20 / 128) / 8 / 1e9)
    # uniform quantizer on a full-scale sine: 6.02·b + 1.76 dB (≈ 49.9 dB at 8 bits)
    assert quantization_sqnr(bits=8) == pytest.approx(49.92)


def test_sparsity_bounds():
    # 2:4 (Mishra et al. 2021): half the values plus 2-bit indices; 2× sparse math
    assert sparse_weight_bytes(params=1e9, precision="fp16").to("B").magnitude == (
        pytest.approx(1e9 * 0.5 * (2 + 0.25))
    )
    assert sparse_speedup_bound(precision="fp16") == pytest.approx(2 / 1.125)
    assert sparse_math_speedup(pattern="2:4") == 2.0
    # unstructured at 50 % with 32-bit indices moves more bytes than dense fp16
    assert sparse_speedup_bound(precision="fp16", density=0.5, pattern="unstructured") < 1
    assert sparse_math_speedup(density=0.1, pattern="unstructured") == pytest.approx(10)
    with pytest.raises(FormulaDomainError, match="2:4"):
        sparse_weight_bytes(params=1e9, density=0.3, pattern="2:4")


def test_weight_streaming():
    t = weight_streaming_time(size=Q_("140 GB"), bandwidth=Q_("64 GB/s"))
    assert t.to("s").magnitude == pytest.approx(140 / 64)
