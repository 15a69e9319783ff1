"""Offload tiers: where weights live when they do not fit on the device, and how fast they
come back — host memory over the CPU–GPU link (PCIe, NVLink-C2C) or an NVMe drive.

Entries live in ``systems/data/offload_tiers.toml`` (schema ``mlsysim.offload_tier/1``). A
tier's effective read bandwidth into one device is the slower of its link (a fabric id, or a
``link_bandwidth`` per direction of its own) and its medium (``read_bandwidth``: the DRAM's or
the drive's). :func:`tier_facts` gives those as floats for the serving solver's weight
streaming (Sheng et al. 2023, FlexGen).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlsysim.core.exceptions import ConfigError
from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Q, Spec

if TYPE_CHECKING:
    _Bandwidth = Any
    _Time = Any
    _Information = Any
else:
    _Bandwidth = Q["bandwidth"]
    _Time = Q["time"]
    _Information = Q["information"]

__all__ = ["OffloadTierSpec", "OffloadTiers", "TierFacts", "offload_tier", "tier_facts"]


class OffloadTierSpec(Spec):
    """A place weights are streamed from: its medium, its link to the device and its size."""

    medium: Literal["host_memory", "nvme", "unified_memory"]
    link: str | None = None  # fabric id of the CPU–GPU link
    link_bandwidth: _Bandwidth | None = None  # per direction, when the link is no fabric entry
    read_bandwidth: _Bandwidth | None = None  # the medium's own read bandwidth
    latency: _Time | None = None
    capacity: _Information | None = None

    def link_spec(self) -> Any:
        """The link's fabric entry (None when the tier states its own link bandwidth)."""
        return None if self.link is None else Registry("fabric")[self.link]

    def check_references(self) -> None:
        """Resolve the link's fabric id (did-you-mean when it is unknown)."""
        self.link_spec()


@dataclass(frozen=True)
class TierFacts:
    """A tier as floats: effective read bandwidth into one device (B/s), latency (s), what it
    holds (bytes, None when not recorded) and what binds the bandwidth."""

    id: str
    bandwidth_Bps: float
    latency_s: float
    capacity_B: float | None
    bound_by: str  # "link" or "medium"


def offload_tier(value: Any, where: str = "generate") -> OffloadTierSpec:
    """The tier named by ``value`` (an id or a spec)."""
    if isinstance(value, OffloadTierSpec):
        return value
    if isinstance(value, str):
        return OffloadTiers[value]
    raise ConfigError(
        f"offload must be an offload tier id, got {type(value).__name__} {value!r}",
        where=where,
        fix="pass one of " + ", ".join(OffloadTiers.ids()),
    )


def tier_facts(tier: OffloadTierSpec) -> TierFacts:
    """Float facts of ``tier``: min(link per direction, medium read bandwidth)."""
    from mlsysim.core.units import si

    fabric = tier.link_spec()
    if fabric is not None:
        link = si(fabric.device_bandwidth_per_direction, "bandwidth", "link")
    elif tier.link_bandwidth is not None:
        link = si(tier.link_bandwidth, "bandwidth", "link_bandwidth")
    else:
        raise ConfigError(
            f"offload tier {tier.id} states neither a link nor a link_bandwidth",
            where="offload",
            fix=f"add link = 'PCIe5' (a fabric id) or link_bandwidth to {tier.id}",
        )
    medium = si(tier.read_bandwidth, "bandwidth", "read_bandwidth") if tier.read_bandwidth else None
    if medium is not None and medium < link:
        bw, bound = medium, "medium"
    else:
        bw, bound = link, "link"
    lat = si(tier.latency, "time", "latency") if tier.latency is not None else 0.0
    cap = si(tier.capacity, "information", "capacity") if tier.capacity is not None else None
    return TierFacts(tier.id, bw, lat, cap, bound)


OffloadTiers: Registry[OffloadTierSpec] = register_kind(
    "offload_tier", OffloadTierSpec, "offload tier", Path(__file__).parent / "data"
)
