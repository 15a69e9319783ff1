"""Safety and privacy: the systems cost of differentially private training (DP-SGD).

DP-SGD clips each example's gradient to norm C and adds Gaussian noise of standard deviation
σC to their sum; per-example gradients are what make it expensive in memory and time.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.constants import DEFAULT_GRADIENT_PRECISION
from mlsysim.core.formulas._args import bytes_per_element, count, positive
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = ["dpsgd_noise_std", "per_example_gradient_bytes"]


@formula(
    symbol=r"\sigma_{\bar{g}} = \frac{\sigma\,C}{B}",
    substituted=r"\frac{ {{noise_multiplier}} \cdot {{clip_norm}} }{ {{batch}} }",
    sources=("abadi2016",),
    citation="Abadi et al. (2016), Deep Learning with Differential Privacy, Algorithm 1",
    result="dimensionless",
)
def dpsgd_noise_std(noise_multiplier: Any, clip_norm: Any, batch: Any) -> float:
    """Standard deviation of the noise on the averaged DP-SGD gradient, σC/B (per coordinate).

    Larger batches dilute the noise, which is why DP training wants very large batches.
    Source: Abadi et al. 2016.
    """
    where = "dpsgd_noise_std"
    sigma = positive(
        count(noise_multiplier, "noise_multiplier", where, minimum=0),
        "noise_multiplier",
        where,
        strict=False,
    )
    C = positive(count(clip_norm, "clip_norm", where, minimum=0), "clip_norm", where)
    B = count(batch, "batch", where, dim="sample")
    std = sigma * C / B
    return std


@formula(
    symbol=r"M_{\mathrm{pe}} = B\,N\,\beta",
    substituted=r"{{batch}} \cdot {{params}} \cdot {{bytes_per_element}}",
    sources=("yousefpour2021", "abadi2016"),
    citation="Yousefpour et al. (2021), Opacus: per-sample gradients",
    result="information",
    expand=lambda a: {"bytes_per_element": from_si(bytes_per_element(a["precision"]), "B")},
)
def per_example_gradient_bytes(
    params: Any, batch: Any, precision: str = DEFAULT_GRADIENT_PRECISION
) -> Any:
    """Memory for materialized per-example gradients: B copies of an N-parameter gradient.

    The naive DP-SGD cost (Opacus stores per-sample gradients of each layer); ghost clipping
    avoids most of it. Source: Yousefpour et al. 2021.
    """
    where = "per_example_gradient_bytes"
    N = count(params, "params", where, dim="parameter", minimum=0)
    B = count(batch, "batch", where, dim="sample")
    M = B * N * bytes_per_element(precision)
    return from_si(M, "B")
