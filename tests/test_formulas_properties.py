"""Property tests (hypothesis): monotonicity, bounds and dimension errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlsysim
from mlsysim import Q_
from mlsysim.core.exceptions import DimensionError
from mlsysim.core.formulas import (
    amdahl,
    daly,
    kv_cache_bytes,
    pipeline_bubble,
    ring_allreduce,
    ring_allreduce_s,
    young_daly,
)

SETTINGS = settings(max_examples=60, deadline=None)
pos = st.floats(min_value=1e-3, max_value=1e12, allow_nan=False, allow_infinity=False)
ranks = st.integers(min_value=2, max_value=100_000)


@SETTINGS
@given(
    m=pos,
    k=st.floats(min_value=1.01, max_value=100),
    n=ranks,
    bw=pos,
    alpha=st.floats(min_value=0, max_value=1e-3),
)
def test_ring_allreduce_grows_with_size_and_shrinks_with_bandwidth(m, k, n, bw, alpha):
    base = ring_allreduce_s(m, n, bw, alpha)
    assert ring_allreduce_s(m * k, n, bw, alpha) >= base
    assert ring_allreduce_s(m, n, bw * k, alpha) <= base
    assert ring_allreduce_s(m, n + 1, bw, alpha) >= base
    # the bandwidth term never exceeds twice the message time
    assert ring_allreduce_s(m, n, bw, 0.0) <= 2 * m / bw


@SETTINGS
@given(n=ranks)
def test_quantity_and_float_paths_agree(n):
    q = ring_allreduce(size=Q_("3 GiB"), n=n, bandwidth=Q_("25 GB/s"), latency=Q_("3 us"))
    assert q.to("s").magnitude == pytest.approx(ring_allreduce_s(3 * 2**30, n, 25e9, 3e-6))


@SETTINGS
@given(
    p=st.floats(min_value=0, max_value=0.999),
    s1=st.floats(min_value=1, max_value=1e6),
    k=st.floats(min_value=1, max_value=100),
)
def test_amdahl_monotone_and_bounded(p, s1, k):
    a = amdahl(p=p, speedup=s1)
    assert 1 - 1e-12 <= a <= 1 / (1 - p) * (1 + 1e-9)
    assert amdahl(p=p, speedup=s1 * k) >= a * (1 - 1e-12)


@SETTINGS
@given(p=st.integers(1, 128), m=st.integers(1, 1024), v=st.integers(1, 8))
def test_pipeline_bubble_is_a_fraction_that_shrinks_with_microbatches(p, m, v):
    f = pipeline_bubble(stages=p, microbatches=m, interleave=v)
    assert 0 <= f < 1
    assert pipeline_bubble(stages=p, microbatches=m + 1, interleave=v) <= f
    assert pipeline_bubble(stages=p, microbatches=m, interleave=v + 1) <= f


@SETTINGS
@given(delta=st.floats(1, 3600), mtbf=st.floats(3600, 1e7))
def test_checkpoint_intervals_grow_with_mtbf_and_daly_is_below_young_plus(delta, mtbf):
    y1 = young_daly(checkpoint_time=Q_(delta, "s"), mtbf=Q_(mtbf, "s"))
    y2 = young_daly(checkpoint_time=Q_(delta, "s"), mtbf=Q_(2 * mtbf, "s"))
    assert y2 > y1
    d = daly(checkpoint_time=Q_(delta, "s"), mtbf=Q_(mtbf, "s"))
    assert 0 < d.to("s").magnitude < y1.to("s").magnitude * 1.2


@SETTINGS
@given(ctx=st.integers(0, 131072), batch=st.integers(1, 256))
def test_kv_cache_linear_in_context_and_batch(ctx, batch):
    m = mlsysim.Models.Llama2_7B
    kv = kv_cache_bytes(model=m, context=ctx, batch=batch, precision="fp16")
    assert kv.to("B").magnitude == 524_288 * ctx * batch


units = st.sampled_from(["1 s", "1 USD", "1 W", "1 FLOP", "1 gCO2e", "1 param", "1 J"])


@SETTINGS
@given(u=units)
def test_wrong_dimensions_always_name_the_argument(u):
    with pytest.raises(DimensionError, match="size"):
        ring_allreduce(size=Q_(u), n=8, bandwidth=Q_("1 GB/s"))
    with pytest.raises(DimensionError, match="mtbf"):
        young_daly(checkpoint_time=Q_("1 min"), mtbf=Q_(u) if u != "1 s" else Q_("1 B"))
