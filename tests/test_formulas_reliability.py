"""Reliability: Young 1974 and Daly 2006 checkpoint intervals, series MTBF, goodput."""

from __future__ import annotations

import math

import pytest

from mlsysim import Q_
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas import (
    checkpoint_goodput,
    checkpoint_time,
    daly,
    series_mtbf,
    young_daly,
)


def test_young_worked_example():
    # δ = 5 min, M = 24 h: τ = √(2 · 300 s · 86 400 s) = 7200 s = 2 h
    tau = young_daly(checkpoint_time=Q_("5 min"), mtbf=Q_("24 h"))
    assert tau.to("h").magnitude == pytest.approx(2.0)


def test_daly_worked_example():
    # Daly 2006 Eq. 37 by hand: x = δ/2M = 300/172800;
    # τ = 7200·(1 + √x/3 + x/9) − 300 = 7001.4 s
    x = 300 / 172800
    expected = 7200 * (1 + math.sqrt(x) / 3 + x / 9) - 300
    tau = daly(checkpoint_time=Q_("5 min"), mtbf=Q_("24 h"))
    assert tau.to("s").magnitude == pytest.approx(expected)
    assert tau.to("s").magnitude == pytest.approx(7001.4, abs=0.1)


def test_daly_approaches_young_when_checkpoints_are_cheap():
    y = young_daly(checkpoint_time=Q_("1 s"), mtbf=Q_("1000 h"))
    d = daly(checkpoint_time=Q_("1 s"), mtbf=Q_("1000 h"))
    assert d.to("s").magnitude == pytest.approx(y.to("s").magnitude, rel=0.01)


def test_daly_outside_its_domain_is_an_error():
    with pytest.raises(FormulaDomainError, match="2·mtbf"):
        daly(checkpoint_time=Q_("3 h"), mtbf=Q_("1 h"))


def test_series_mtbf():
    # 10,000 GPUs with a 5-year MTBF each fail every 5 yr / 10,000 ≈ 4.38 h
    m = series_mtbf(component_mtbf=Q_("5 yr"), n=10000)
    assert m.to("h").magnitude == pytest.approx(5 * 365.25 * 24 / 10000)


def test_goodput_is_best_near_the_young_interval():
    delta, mtbf = Q_("5 min"), Q_("24 h")
    best = young_daly(checkpoint_time=delta, mtbf=mtbf)
    g = {
        k: checkpoint_goodput(interval=best * k, checkpoint_time=delta, mtbf=mtbf)
        for k in (0.25, 1.0, 4.0)
    }
    assert g[1.0] > g[0.25] and g[1.0] > g[4.0]
    # first-order waste at the optimum ≈ √(2δ/M)
    assert 1 - g[1.0] == pytest.approx(math.sqrt(2 * 300 / 86400), rel=0.1)
    slower = checkpoint_goodput(
        interval=best, checkpoint_time=delta, mtbf=mtbf, restart_time=Q_("30 min")
    )
    assert slower < g[1.0]
    with pytest.raises(FormulaDomainError):
        checkpoint_goodput(interval=Q_("48 h"), checkpoint_time=delta, mtbf=mtbf)


def test_checkpoint_time():
    assert checkpoint_time(size=Q_("2.1 TB"), bandwidth=Q_("10 GB/s")).to("s").magnitude == (
        pytest.approx(210)
    )
