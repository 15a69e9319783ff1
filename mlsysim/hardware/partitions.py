"""Hardware partitions: Multi-Instance GPU (MIG) profiles as sourced data, and the slice of a
device each one is.

Entries live in ``hardware/data/mig_profiles.toml`` (schema ``mlsysim.mig_profile/1``): the
device, the profile name (``1g.10gb``), its streaming multiprocessors against the whole
device's, its memory slices against the device's eight, and how many such instances fit. MIG
gives each instance its own SMs and its own path through the memory system — crossbar ports,
L2 banks, memory controllers and DRAM (NVIDIA MIG User Guide) — so a slice is modelled as a
device with the compute fraction of the peak rates and the memory fraction of the capacity
and the bandwidth. :func:`mig` returns that device, usable wherever a device is (``solve``,
``generate``, ``serve``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from mlsysim.core.cache import DerivedCache
from mlsysim.core.exceptions import ConfigError, UnknownNameError
from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Spec
from mlsysim.hardware.registry import Hardware, HardwareSpec, PeakRates

__all__ = ["MigProfiles", "PartitionSpec", "mig", "share_of"]


class PartitionSpec(Spec):
    """One MIG profile of one device: its SMs and memory slices, and how many instances fit."""

    device: str  # hardware id
    profile: str  # e.g. "1g.10gb"
    sms: int = Field(ge=1)
    device_sms: int = Field(ge=1)
    memory_slices: int = Field(ge=1)
    device_memory_slices: int = Field(ge=1)
    instances: int = Field(ge=1)  # most instances of this profile on one device

    @property
    def compute_fraction(self) -> float:
        """The slice's share of the device's peak rates: its SMs over the device's."""
        return self.sms / self.device_sms

    @property
    def memory_fraction(self) -> float:
        """The slice's share of memory capacity and bandwidth: memory slices over eight."""
        return self.memory_slices / self.device_memory_slices

    def hardware(self) -> Any:
        """The whole device's entry."""
        return Hardware[self.device]

    def check_references(self) -> None:
        """Resolve the device id (did-you-mean when it is unknown)."""
        self.hardware()


_SLICES = DerivedCache("hardware.partitions.slices")


def mig(hardware: Any, profile: str) -> HardwareSpec:
    """The MIG instance ``profile`` of ``hardware`` as a device of its own.

    Peak rates scale by the compute fraction (SMs), memory capacity and bandwidth by the
    memory fraction (memory slices); TDP by the compute fraction (an assumption: MIG
    instances share the board's power limit, which no profile table splits). A slice has no
    NVLink peer access, so no interconnect.
    """
    hw = hardware if isinstance(hardware, HardwareSpec) else Hardware[hardware]
    key = (id(hw), profile)
    hit = _SLICES.get(key)
    if hit is not None and hit[0] is hw:
        return hit[1]
    part = next((p for p in MigProfiles.list() if p.device == hw.id and p.profile == profile), None)
    if part is None:
        known = [p.profile for p in MigProfiles.list() if p.device == hw.id]
        raise UnknownNameError(
            f"MIG profile of {hw.id}",
            str(profile),
            known,
            fix=(
                "use one of " + ", ".join(known)
                if known
                else f"{hw.id} has no MIG profiles in the registry; add them to a "
                "mlsysim.mig_profile/1 data file"
            ),
        )
    fc, fm = part.compute_fraction, part.memory_fraction
    update: dict[str, Any] = {
        "name": f"{hw.name}, MIG {profile}",
        "interconnect": None,
        "notes": (
            f"MIG {profile} of {hw.id} ({part.id}): {part.sms} of {part.device_sms} SMs "
            f"({fc:.1%} of the peak rates), {part.memory_slices} of "
            f"{part.device_memory_slices} memory slices ({fm:.1%} of capacity and "
            f"bandwidth); TDP scaled by the compute fraction (assumed)."
        ),
    }
    spec = _scaled(hw, fc, fm, profile, update)
    _SLICES.put(key, (hw, spec))
    return spec


def _scaled(hw: Any, compute: float, memory: float, suffix: str, update: dict[str, Any]) -> Any:
    peak = PeakRates(
        dense={p: r * compute for p, r in hw.peak.dense.items()},
        sparse={p: r * compute for p, r in hw.peak.sparse.items()},
    )
    bw = hw.memory.bandwidth
    mem = hw.memory.model_copy(
        update={
            "capacity": hw.memory.capacity * memory,
            "bandwidth": None if bw is None else bw * memory,
            "levels": (),
        }
    )
    base: dict[str, Any] = {
        "id": f"{hw.id}[{suffix}]",
        "aliases": (),
        "peak": peak,
        "memory": mem,
        "tdp": None if hw.tdp is None else hw.tdp * compute,
        "power_idle": None if hw.power_idle is None else hw.power_idle * compute,
        "list_price": None,
        "embodied_carbon": None,
    }
    return hw.model_copy(update=base | update)


def share_of(hardware: Any, share: float, memory: float | None = None) -> HardwareSpec:
    """A co-located tenant's share of a device: ``share`` of its peak rates and bandwidth
    (the time the other tenants leave it, as kernels of several processes interleave) and
    ``memory`` (default ``share``) of its capacity. Unlike a MIG slice nothing is isolated:
    the share is what the tenant gets on average."""
    hw = hardware if isinstance(hardware, HardwareSpec) else Hardware[hardware]
    m = share if memory is None else memory
    for name, v in (("share", share), ("memory share", m)):
        if not 0.0 < v <= 1.0:
            raise ConfigError(
                f"a tenant's {name} must be in (0, 1], got {v!r}",
                where="share_of",
                fix="pass the fraction of the device the tenant gets, e.g. 0.5",
            )
    key = (id(hw), "share", share, m)
    hit = _SLICES.get(key)
    if hit is not None and hit[0] is hw:
        return hit[1]
    spec = _scaled(
        hw,
        share,
        m,
        f"share {share:g}",
        {
            "name": f"{hw.name}, {share:.0%} share",
            "notes": f"{share:.0%} of {hw.id}'s compute and bandwidth and {m:.0%} of its "
            "memory: one tenant of several co-located on the device.",
        },
    )
    _SLICES.put(key, (hw, spec))
    return spec


MigProfiles: Registry[PartitionSpec] = register_kind(
    "mig_profile", PartitionSpec, "MIG profile", Path(__file__).parent / "data"
)
