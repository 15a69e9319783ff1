"""Systems layer: interconnect fabrics, multi-accelerator nodes and clusters as sourced data.

Entries live in ``systems/data/*.toml`` with schemas ``mlsysim.fabric/1``, ``mlsysim.node/1``
and ``mlsysim.cluster/1``.

Bandwidth direction is explicit: a fabric's ``bandwidth_per_direction`` is what one direction
carries (what a ring all-reduce step sends while it receives the same), at the ``scope`` the
entry names — all links of one ``device``, one ``link``, or one NIC ``port``. Vendors usually
quote the bidirectional sum (NVLink4 "900 GB/s" per H100 is 450 GB/s each way);
:attr:`FabricSpec.bandwidth_bidirectional` gives that figure back.

Nodes and clusters refer to hardware and fabric entries by id. References are checked lazily
(:meth:`NodeSpec.check_references`, :meth:`ClusterSpec.check_references`) so that data files
of different kinds can load in any order.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Q, Spec

if TYPE_CHECKING:  # mypy sees Any (pint Quantities are untyped); pydantic checks dimensions
    _Bandwidth = Any
    _Time = Any
    _Information = Any
    _Power = Any
    _Currency = Any
    _Carbon = Any
else:
    _Bandwidth = Q["bandwidth"]
    _Time = Q["time"]
    _Information = Q["information"]
    _Power = Q["power"]
    _Currency = Q["currency"]
    _Carbon = Q["carbon"]


__all__ = ["ClusterSpec", "Clusters", "FabricSpec", "Fabrics", "NodeSpec", "Nodes"]


class FabricSpec(Spec):
    """An interconnect generation: per-direction bandwidth at a stated scope, and latency.

    ``latency`` is α of the α–β model: the end-to-end time of one step of a collective (one
    small message between two devices through the communication library), not an adapter's
    datasheet figure. For a fabric NCCL drives, ``latency`` is its low-latency (LL) protocol's
    per-step figure and ``latency_ll128`` / ``latency_simple`` those of its LL128 and Simple
    protocols (NCCL prices each and picks the fastest for a message); ``tree_latency``,
    ``tree_latency_ll128`` and ``tree_latency_simple`` are the per-hop figures of its double
    binary tree, which NCCL's model keeps apart from the ring's. ``efficiency`` is the
    fraction of the line rate a collective library achieves on large messages (protocol
    overhead), where a measurement or the library's own model gives it.
    ``in_network_reduction`` names reduction inside the switch the fabric supports:
    ``"nvls"`` (NVLink SHARP in NVSwitch) or ``"sharp"`` (InfiniBand SHARP).
    """

    kind: Literal[
        "nvlink", "pcie", "infiniband", "omnipath", "ethernet", "roce", "infinity_fabric", "ici"
    ]
    scope: Literal["device", "link", "port"]
    bandwidth_per_direction: _Bandwidth
    links: int | None = Field(default=None, ge=1)  # links per device (scope "device" or "link")
    latency: _Time | None = None  # α: what it measures is said in notes
    latency_ll128: _Time | None = None  # α of NCCL's LL128 protocol (``latency`` is LL's)
    latency_simple: _Time | None = None  # α of NCCL's Simple protocol
    tree_latency: _Time | None = None  # α of a tree hop, NCCL's LL protocol
    tree_latency_ll128: _Time | None = None  # α of a tree hop, LL128
    tree_latency_simple: _Time | None = None  # α of a tree hop, Simple
    efficiency: float | None = Field(default=None, gt=0.0, le=1.0)
    in_network_reduction: Literal["nvls", "sharp"] | None = None
    release_year: int | None = None

    @property
    def bandwidth_bidirectional(self) -> Any:
        """Both directions together (full duplex), the figure vendors usually quote."""
        return 2 * self.bandwidth_per_direction

    @property
    def device_bandwidth_per_direction(self) -> Any:
        """Per-direction bandwidth of one device: ``links × per-link`` for link-scoped entries."""
        if self.scope == "link" and self.links is not None:
            return self.links * self.bandwidth_per_direction
        return self.bandwidth_per_direction


def _resolve(kind: str, name: str) -> Any:
    return Registry(kind)[name]


class NodeSpec(Spec):
    """A server: accelerators joined by an intra-node fabric, NICs into the inter-node fabric."""

    drifting = ("list_price",)

    accelerator: str  # hardware id
    accelerators: int = Field(ge=1)
    intra_fabric: str  # fabric id joining the accelerators
    nic_fabric: str | None = None  # fabric id of the compute NICs
    nics: int = Field(default=0, ge=0)  # compute NICs (storage/management NICs excluded)
    cpu: str | None = None
    host_memory: _Information | None = None
    power: _Power | None = None  # system maximum power
    list_price: _Currency | None = None
    host_power: _Power | None = None  # average draw of everything but the accelerators
    network_power: _Power | None = None  # the node's share of switch power
    embodied_carbon: _Carbon | None = None  # manufacturing footprint without the accelerators

    def hardware(self) -> Any:
        """The accelerator's hardware entry."""
        return _resolve("hardware", self.accelerator)

    def intra(self) -> FabricSpec:
        """The intra-node fabric entry."""
        return _resolve("fabric", self.intra_fabric)

    def nic(self) -> FabricSpec | None:
        """The NIC fabric entry (None for a node without compute NICs)."""
        if self.nic_fabric is None:
            return None
        return _resolve("fabric", self.nic_fabric)

    @property
    def injection_bandwidth_per_direction(self) -> Any:
        """Node-to-network bandwidth per direction: ``nics × port bandwidth``."""
        fabric = self.nic()
        if fabric is None:
            return None
        return self.nics * fabric.bandwidth_per_direction

    def references(self) -> dict[str, str]:
        """Ids this entry refers to, as ``{"hardware": …, "fabric": …}`` pairs by field."""
        refs = {"accelerator": self.accelerator, "intra_fabric": self.intra_fabric}
        if self.nic_fabric is not None:
            refs["nic_fabric"] = self.nic_fabric
        return refs

    def check_references(self) -> None:
        """Resolve every referenced id (an UnknownNameError with suggestions if one is missing)."""
        self.hardware()
        self.intra()
        self.nic()


class ClusterSpec(Spec):
    """Many identical nodes joined by an inter-node fabric in a named topology."""

    node: str  # node id
    nodes: int = Field(ge=1)
    inter_fabric: str  # fabric id between nodes
    topology: str  # e.g. "rail-optimized fat tree, non-blocking"
    oversubscription: float = Field(default=1.0, ge=1.0)  # 1.0 = full bisection bandwidth
    # nodes per non-blocking domain (pod); traffic between pods is oversubscribed. None: the
    # oversubscription (if any) applies to all inter-node traffic
    pod_nodes: int | None = Field(default=None, ge=1)
    # the switches reduce in the network (InfiniBand SHARP) for the collective library
    in_network_reduction: bool = False

    def node_spec(self) -> NodeSpec:
        """The node entry."""
        return _resolve("node", self.node)

    def inter(self) -> FabricSpec:
        """The inter-node fabric entry."""
        return _resolve("fabric", self.inter_fabric)

    @property
    def accelerators(self) -> int:
        """Accelerators in the cluster: ``nodes × accelerators per node``."""
        return self.nodes * self.node_spec().accelerators

    def check_references(self) -> None:
        """Resolve the node (and its references) and the inter-node fabric."""
        self.node_spec().check_references()
        self.inter()


_DATA = Path(__file__).parent / "data"
Fabrics: Registry[FabricSpec] = register_kind("fabric", FabricSpec, "fabric", _DATA)
Nodes: Registry[NodeSpec] = register_kind("node", NodeSpec, "node", _DATA)
Clusters: Registry[ClusterSpec] = register_kind("cluster", ClusterSpec, "cluster", _DATA)

# the systems layer's other kinds register themselves on import
import mlsysim.systems.offload  # noqa: E402, F401
