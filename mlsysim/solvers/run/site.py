"""Where devices run and on what: the site (grid, datacenter, PUE, carbon intensity), the
device, node and cluster of a system, and the host and network power beside each device.

The run and fleet solvers resolve these once (:func:`resolve_site`, :func:`resolve_system`,
:func:`overhead_power`) and :mod:`mlsysim.solvers.run.footprint` computes energy, carbon, water
and money from them. Overrides come first, then registry data, each with its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlsysim.core import formulas as F
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.units import Q_, si
from mlsysim.hardware.registry import Hardware, HardwareSpec
from mlsysim.infra.registry import Datacenters, Grids
from mlsysim.solvers.quantities import J_PER_KWH
from mlsysim.solvers.run.ledger import Figure, fmt, missing
from mlsysim.systems.registry import Clusters, Nodes

__all__ = ["DEFAULT_DATACENTER", "Site", "overhead_power", "resolve_site", "resolve_system"]

#: Datacenter assumed when none is given (stated in every result that uses it).
DEFAULT_DATACENTER = "IndustryAverage"


@dataclass
class Site:
    """Where the devices run: grid region, datacenter, and the effective PUE and intensity."""

    grid: Any
    datacenter: Any
    pue: float
    pue_derivation: str
    pue_sources: tuple[str, ...]
    intensity: float  # gCO2e per J
    intensity_derivation: str
    intensity_sources: tuple[str, ...]
    basis: str
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _spec(registry: Any, value: Any, what: str) -> Any:
    if isinstance(value, str):
        return registry[value]
    if value is None:
        raise ConfigError(f"{what} is required", fix=f"pass {what}='…' (a registry id)")
    return value


def resolve_site(region: Any, datacenter: Any, pue: Any, carbon_intensity: Any) -> Site:
    """The grid, datacenter, PUE and carbon intensity, overrides first, then registry data."""
    grid = _spec(Grids, region, "region")
    assumptions: list[str] = []
    dc: Any
    if datacenter is None and pue is None:
        dc = Datacenters[DEFAULT_DATACENTER]
        assumptions.append(f"datacenter not given: assumed {dc.name} (PUE {dc.pue:g})")
    else:
        dc = None if datacenter is None else _spec(Datacenters, datacenter, "datacenter")
    if pue is not None:
        pue_v = F.facility_energy(Q_(1.0, "J"), pue).to("J").magnitude
        pue_d, pue_s = f"{pue_v:g} (given)", ("user",)
    else:
        pue_v, pue_d, pue_s = dc.pue, f"{dc.pue:g} ({dc.id})", (dc.source_of("pue"),)
    if carbon_intensity is not None:
        ci = si(carbon_intensity, "carbon_intensity", "carbon_intensity")
        ci_d = f"{fmt(ci * J_PER_KWH, 'gCO2e/kWh')} (given)"
        ci_s: tuple[str, ...] = ("user",)
        basis = "as given"
    else:
        ci = si(grid.carbon_intensity, "carbon_intensity", "carbon_intensity")
        ci_d = f"{fmt(ci * J_PER_KWH, 'gCO2e/kWh')} ({grid.id}, {grid.carbon_basis} basis)"
        ci_s = (grid.source_of("carbon_intensity"),)
        basis = grid.carbon_basis
    return Site(grid, dc, pue_v, pue_d, pue_s, ci, ci_d, ci_s, basis, assumptions)


def resolve_system(system: Any) -> tuple[Any, Any, Any]:
    """(device, node or None, cluster or None) for a device, node or cluster id or spec."""
    if isinstance(system, str):
        for reg in (Hardware, Nodes, Clusters):
            if system in reg:
                return resolve_system(reg[system])
        Hardware[system]  # raises UnknownNameError with suggestions
    if isinstance(system, HardwareSpec):
        return system, None, None
    if hasattr(system, "node_spec"):
        node = system.node_spec()
        return node.hardware(), node, system
    if hasattr(system, "accelerators") and hasattr(system, "hardware"):
        return system.hardware(), system, None
    raise ConfigError(
        f"system must be a device, node or cluster, got {system!r}",
        where="training_run",
        fix="pass a registry id such as 'H100', 'DGX_H100' or 'H100_1024'",
    )


def overhead_power(
    power: Any, overhead_power: Any, node: Any, hw: Any, warnings: list[str]
) -> Figure:
    """Host and network power per device: given, included in a given ``power``, or the
    node's host and network power shared over its devices (an unknown figure for a bare
    device or a node without the data; ``warnings`` says what is not counted)."""
    name = "host + network power"
    if overhead_power is not None:
        return Figure(name, si(overhead_power, "power", "overhead_power"), "W", "given", ("user",))
    if power is not None:
        return Figure(name, 0.0, "W", "included in the given power", ("user",))
    if node is None:
        warnings.append(
            "system is a bare device: host and network power are not counted "
            "(pass a node as the system, or overhead_power=)"
        )
        return missing(
            name,
            "W",
            f"{hw.id} is a bare device with no node data; pass a node "
            "as the system or overhead_power=",
        )
    n = node.accelerators
    srcs: list[str] = []
    if node.host_power is not None:
        host = si(node.host_power, "power", "host_power") / n
        der = f"{node.host_power:~P} / {n}"
        srcs.append(node.source_of("host_power"))
    elif node.power is not None and hw.tdp is not None:
        host = (si(node.power, "power", "power") - n * si(hw.tdp, "power", "tdp")) / n
        der = f"({node.power:~P} maximum − {n} × {hw.tdp:~P}) / {n}, an upper bound"
        srcs += [node.source_of("power"), hw.source_of("tdp")]
    else:
        warnings.append(f"{node.id} gives neither host_power nor power: host power not counted")
        return missing(
            name,
            "W",
            f"{node.id} has no host_power or power; add host_power to "
            "the node entry or pass overhead_power=",
        )
    if node.network_power is not None:
        host += si(node.network_power, "power", "network_power") / n
        der += f" + {node.network_power:~P} / {n} network"
        srcs.append(node.source_of("network_power"))
    else:
        warnings.append(f"{node.id} gives no network_power: switch power is not counted")
    return Figure(name, max(host, 0.0), "W", der, tuple(srcs))
