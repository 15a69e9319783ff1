"""Reliability: Young 1974 and Daly 2006 checkpoint intervals, series MTBF, goodput."""

from __future__ import annotations

import math

import pytest

from mlsysim import Q_
from mlsysim.core import formulas as F
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


# The float fast paths the run solver uses (solvers/run/training.py, run/result.py), against the
# same hand-derived numbers as the formulas above. Found by mutation testing: nothing checked them.


def test_fast_paths_give_young_and_daly_worked_examples():
    # δ = 300 s, M = 86 400 s: Young τ = 7200 s; Daly Eq. 37 by hand 7001.4 s
    assert F.young_s(300.0, 86400.0) == pytest.approx(7200.0)
    assert F.daly_s(300.0, 86400.0) == pytest.approx(7001.4, abs=0.1)


@pytest.mark.parametrize("delta", [1.0, 60.0, 3600.0, 40_000.0])
def test_daly_fast_path_equals_daly_across_its_domain(delta):
    M = 86400.0
    tau = daly(checkpoint_time=Q_(delta, "s"), mtbf=Q_(M, "s")).to("s").magnitude
    assert F.daly_s(delta, M) == pytest.approx(tau, rel=1e-12)


@pytest.mark.parametrize("ratio", [2.0, 2.5, 10.0])
def test_daly_fast_path_is_none_where_daly_refuses(ratio):
    # Daly's expansion is valid for δ < 2M only: at δ = 2M exactly the formula refuses too.
    assert F.daly_s(ratio * 3600.0, 3600.0) is None
    with pytest.raises(FormulaDomainError):
        daly(checkpoint_time=Q_(ratio * 3600.0, "s"), mtbf=Q_(3600.0, "s"))


def test_goodput_fast_path_with_a_restart_by_hand():
    # τ = 2 h, δ = 5 min, M = 24 h, R = 30 min:
    # loss = ((7200 + 300)/2 + 1800) / 86 400 = 5550 / 86 400; G = 7200/7500 · (1 − loss)
    expected = 7200 / 7500 * (1 - 5550 / 86400)
    assert F.goodput_s(7200.0, 300.0, 86400.0, 1800.0) == pytest.approx(expected)
    g = checkpoint_goodput(
        interval=Q_("2 h"), checkpoint_time=Q_("5 min"), mtbf=Q_("24 h"), restart_time=Q_("30 min")
    )
    assert g == pytest.approx(expected)


def test_goodput_fast_path_is_none_once_failures_take_the_whole_run():
    # loss = ((1 + 1)/2 + 0)/1 = 1 exactly: no useful work is left, as the formula says.
    assert F.goodput_s(1.0, 1.0, 1.0, 0.0) is None
    assert F.goodput_s(2.0, 1.0, 1.0, 0.0) is None  # loss 1.5
    assert F.goodput_s(1.0, 1.0, 1.0, 0.5) is None  # the restart alone tips it over
    with pytest.raises(FormulaDomainError):
        checkpoint_goodput(interval=Q_("1 s"), checkpoint_time=Q_("1 s"), mtbf=Q_("1 s"))


def test_goodput_falls_as_the_restart_grows():
    g = [F.goodput_s(7200.0, 300.0, 86400.0, R) for R in (0.0, 600.0, 1800.0)]
    assert g[0] > g[1] > g[2]


def test_job_mtbf_fast_path_sums_rates_over_kinds():
    # Kokolis et al. 2024: 6.5 failures per 1,000 node-days on 2,048 nodes -> 1.8 h
    day = 86400.0
    assert F.job_mtbf_s([6.5e-3 / day], [2048]) / 3600 == pytest.approx(1.80, rel=0.01)
    # two kinds in series: 1 / (n₁λ₁ + n₂λ₂), by hand 1 / (4·0.25 + 2·0.5) = 0.5
    assert F.job_mtbf_s([0.25, 0.5], [4, 2]) == pytest.approx(0.5)


def test_job_mtbf_fast_path_of_units_that_never_fail_is_infinite():
    assert F.job_mtbf_s([0.0], [1000]) == math.inf
    assert F.job_mtbf_s([], []) == math.inf


def test_job_mtbf_fast_path_refuses_rates_and_counts_of_different_lengths():
    # Truncating would silently drop a component kind from the sum.
    with pytest.raises(ValueError):
        F.job_mtbf_s([1e-6, 2e-6], [8])
