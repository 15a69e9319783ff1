"""Units with real dimensions: mixing them is an error that names both sides."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Q_


@pytest.mark.parametrize(
    ("action", "left", "left_dim", "right", "right_dim"),
    [
        (lambda: Q_("1 GB") + Q_("1 USD"), "1 GB", "information", "1 USD", "currency"),
        (lambda: Q_("3.35 TB/s").to("Hz"), "3.35 TB/s", "information/time", "Hz", "1/time"),
        (lambda: Q_("80 GB") + Q_("8e9 param"), "80 GB", "information", "param", "parameter"),
        (lambda: Q_("1 kg") + Q_("1 kgCO2e"), "1 kg", "mass", "1 kgCO2e", "carbon"),
    ],
    ids=["GB+USD", "TB/s->Hz", "GB+param", "kg+kgCO2e"],
)
def test_mixing_dimensions_names_both(action, left, left_dim, right, right_dim) -> None:
    with pytest.raises(mlsysim.DimensionError) as err:
        action()
    e = err.value
    msg = str(e)
    assert isinstance(e, TypeError) and isinstance(e, mlsysim.MlsysimError)
    assert left in msg and right in msg
    assert left_dim in e.left_dim and right_dim in e.right_dim
    assert e.left_dim in msg and e.right_dim in msg
    assert "How to fix" in msg


def test_gib_stays_gib() -> None:
    assert str(Q_("80 GiB")) == "80 GiB"
    assert str(Q_("80 GB")) == "80 GB"
    assert str(Q_("80 GiB") * 2) == "160 GiB"


def test_gb_and_gib_are_distinct() -> None:
    assert Q_("1 GB") != Q_("1 GiB")
    assert Q_("1 GiB").to("B").magnitude == 2**30
    assert Q_("1 GB").to("B").magnitude == 10**9
    assert Q_("1 GiB") > Q_("1 GB")


def test_flop_and_ops_share_computation() -> None:
    assert Q_("1 TOPS").dimensionality == Q_("1 TFLOP/s").dimensionality
    assert Q_("9 POPS").to("TOPS").magnitude == pytest.approx(9000)


def test_carbon_is_not_mass() -> None:
    assert Q_("1 tCO2e").to("kgCO2e").magnitude == pytest.approx(1000)
    with pytest.raises(mlsysim.DimensionError):
        Q_("1 tCO2e").to("kg")
