"""Data movement: ingestion from storage, CPU preprocessing, and locality in the hierarchy.

A training or serving step is fed by a pipeline (storage → preprocessing → device); the
slowest stage bounds the step rate. Locality decides which level of the memory hierarchy a
byte comes from, and so its time and energy.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.formulas._args import count, fraction, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "amat",
    "data_movement_energy",
    "ingestion_throughput",
    "preprocessing_throughput",
]


@formula(
    symbol=r"X_{\mathrm{io}} = \frac{B_{\mathrm{storage}}}{S_{\mathrm{sample}}}",
    substituted=r"\frac{ {{bandwidth}} }{ {{sample_size}} }",
    sources=("mohan2021datastalls",),
    citation="Mohan et al. (2021), Analyzing and Mitigating Data Stalls in DNN Training",
    result="[sample]/[time]",
)
def ingestion_throughput(bandwidth: Any, sample_size: Any) -> Any:
    """Samples per second storage can deliver: bandwidth ÷ bytes per sample.

    When it is below the accelerator's samples/s the step stalls on I/O. Source: Mohan et al.
    2021 (VLDB).
    """
    where = "ingestion_throughput"
    B = positive(si(bandwidth, "bandwidth", "bandwidth"), "bandwidth", where, strict=False)
    S = positive(si(sample_size, "[information]/[sample]", "sample_size"), "sample_size", where)
    X = B / S
    return from_si(X, "sample/s")


@formula(
    symbol=r"X_{\mathrm{prep}} = \frac{w}{t_{\mathrm{sample}}}",
    substituted=r"\frac{ {{workers}} }{ {{sample_time}} }",
    sources=("mohan2021datastalls",),
    citation="Mohan et al. (2021): CPU preprocessing stalls",
    result="[sample]/[time]",
)
def preprocessing_throughput(workers: Any, sample_time: Any) -> Any:
    """Samples per second w preprocessing workers deliver at t_sample CPU time per sample.

    Source: Mohan et al. 2021 (decode and augmentation stalls).
    """
    where = "preprocessing_throughput"
    w = count(workers, "workers", where)
    t = positive(si(sample_time, "[time]/[sample]", "sample_time"), "sample_time", where)
    X = w / t
    return from_si(X, "sample/s")


@formula(
    symbol=r"\mathrm{AMAT} = t_{\mathrm{hit}} + m\,t_{\mathrm{miss}}",
    substituted=r"{{hit_time}} + {{miss_rate}} \cdot {{miss_penalty}}",
    sources=("hennessy2017",),
    citation="Hennessy & Patterson (2017), Computer Architecture, 6th ed., §B.1",
    result="time",
)
def amat(hit_time: Any, miss_rate: Any, miss_penalty: Any) -> Any:
    """Average memory access time: hit time plus miss rate × miss penalty.

    Source: Hennessy & Patterson 2017.
    """
    where = "amat"
    t_hit = positive(si(hit_time, "time", "hit_time"), "hit_time", where, strict=False)
    m = fraction(miss_rate, "miss_rate", where)
    t_miss = positive(si(miss_penalty, "time", "miss_penalty"), "miss_penalty", where, strict=False)
    T = t_hit + m * t_miss
    return from_si(T, "s")


@formula(
    symbol=r"E = S \cdot e_{\mathrm{byte}}",
    substituted=r"{{size}} \cdot {{energy_per_byte}}",
    sources=("horowitz2014",),
    citation="Horowitz (2014), Computing's Energy Problem, ISSCC",
    result="energy",
)
def data_movement_energy(size: Any, energy_per_byte: Any) -> Any:
    """Energy to move S bytes at e per byte: off-chip DRAM costs orders of magnitude more
    per byte than on-chip SRAM or an arithmetic operation. Source: Horowitz 2014.
    """
    where = "data_movement_energy"
    S = positive(si(size, "information", "size"), "size", where, strict=False)
    e = positive(
        si(energy_per_byte, "[mass]*[length]**2/[time]**2/[information]", "energy_per_byte"),
        "energy_per_byte",
        where,
        strict=False,
    )
    E = S * e
    return from_si(E, "J")
