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
from mlsysim.core.exceptions import UnknownNameError
from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Spec

__all__ = ["MigProfiles", "PartitionSpec", "mig"]


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
        return Registry("hardware")[self.device]

    def check_references(self) -> None:
        """Resolve the device id (did-you-mean when it is unknown)."""
        self.hardware()


_SLICES = DerivedCache("hardware.partitions.slices")


def mig(hardware: Any, profile: str) -> Any:
    """The MIG instance ``profile`` of ``hardware`` as a device of its own.

    Peak rates scale by the compute fraction (SMs), memory capacity and bandwidth by the
    memory fraction (memory slices); TDP by the compute fraction (an assumption: MIG
    instances share the board's power limit, which no profile table splits). A slice has no
    NVLink peer access, so no interconnect.
    """
    from mlsysim.hardware.registry import Hardware, HardwareSpec, PeakRates

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
    peak = PeakRates(
        dense={p: r * fc for p, r in hw.peak.dense.items()},
        sparse={p: r * fc for p, r in hw.peak.sparse.items()},
    )
    bw = hw.memory.bandwidth
    memory = hw.memory.model_copy(
        update={
            "capacity": hw.memory.capacity * fm,
            "bandwidth": None if bw is None else bw * fm,
            "levels": (),
        }
    )
    update: dict[str, Any] = {
        "id": f"{hw.id}[{profile}]",
        "name": f"{hw.name}, MIG {profile}",
        "aliases": (),
        "peak": peak,
        "memory": memory,
        "tdp": None if hw.tdp is None else hw.tdp * fc,
        "power_idle": None if hw.power_idle is None else hw.power_idle * fc,
        "interconnect": None,
        "list_price": None,
        "embodied_carbon": None,
        "notes": (
            f"MIG {profile} of {hw.id} ({part.id}): {part.sms} of {part.device_sms} SMs "
            f"({fc:.1%} of the peak rates), {part.memory_slices} of "
            f"{part.device_memory_slices} memory slices ({fm:.1%} of capacity and "
            f"bandwidth); TDP scaled by the compute fraction (assumed)."
        ),
    }
    spec = hw.model_copy(update=update)
    _SLICES.put(key, (hw, spec))
    return spec


MigProfiles: Registry[PartitionSpec] = register_kind(
    "mig_profile", PartitionSpec, "MIG profile", Path(__file__).parent / "data"
)
