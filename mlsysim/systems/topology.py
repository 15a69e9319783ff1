"""The system a distributed workload runs on, and where each group of devices sits in it.

:func:`resolve_system` turns a device, a node or a cluster (an id or a spec) and a device
count into a :class:`SystemView`: accelerators per node, nodes, and the two link levels as
float facts — the intra-node fabric (NVLink/NVSwitch, per device and direction) and each
device's share of the node's NICs into the inter-node fabric. A node id with more devices
than one node means that many nodes on the node's NIC fabric, non-blocking; a cluster adds
its oversubscription between pods and whether its switches reduce in the network (SHARP).

Placement (:meth:`SystemView.group`): ranks are numbered node by node, and a parallel group
is ``size`` ranks ``stride`` apart. With tensor parallelism innermost (stride 1), then
context, expert, pipeline and data parallelism, TP sits inside a node first, PP next, and DP
spans nodes rail-aligned (rank ``i`` of every node on the same NIC rail). A :class:`Group`
records how many of its ranks share a node, how many nodes and pods it spans, and so which
links its collectives cross (:mod:`mlsysim.systems.collectives`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from mlsysim.core.exceptions import ConfigError, UnknownNameError
from mlsysim.core.registry import generation
from mlsysim.hardware.registry import Hardware, HardwareSpec
from mlsysim.systems.registry import Clusters, ClusterSpec, FabricSpec, Nodes, NodeSpec

__all__ = ["Group", "Link", "SystemView", "link", "lookup_system", "resolve_system"]


@dataclass(frozen=True, slots=True)
class Link:
    """One link level as one device sees it: per-direction bandwidth (B/s), α (s) and the
    achievable fraction of the line rate (1.0 when no measurement is recorded)."""

    fabric: str
    bandwidth: float
    latency: float
    efficiency: float
    efficiency_known: bool
    in_network: str | None  # "nvls" or "sharp" where the fabric's switches reduce
    latency_ll128: float | None = None  # NCCL's LL128 protocol per step (s), if recorded
    latency_simple: float | None = None  # NCCL's Simple protocol per step (s), if recorded
    #: NCCL's tree hop latencies (s) for LL, LL128 and Simple, where recorded (else None)
    tree_latency: tuple[float | None, float | None, float | None] | None = None


_LINKS: dict[tuple[int, float], tuple[Any, Link]] = {}
#: Entries each memo table keeps before it starts afresh (a sweep must not accumulate).
_CACHE_LIMIT = 4096


def link(fabric: FabricSpec, share: float = 1.0) -> Link:
    """Float facts of ``fabric`` for one device; ``share`` scales its bandwidth (NICs/GPU)."""
    key = (id(fabric), share)
    hit = _LINKS.get(key)
    if hit is not None and hit[0] is fabric:
        return hit[1]
    from mlsysim.core.units import si

    bw = si(fabric.device_bandwidth_per_direction, "bandwidth", "bandwidth_per_direction")
    lat = si(fabric.latency, "time", "latency") if fabric.latency is not None else 0.0
    eff = fabric.efficiency
    ll128, simple = fabric.latency_ll128, fabric.latency_simple
    tree = (fabric.tree_latency, fabric.tree_latency_ll128, fabric.tree_latency_simple)
    made = Link(
        fabric.id,
        bw * share,
        lat,
        eff if eff is not None else 1.0,
        eff is not None,
        fabric.in_network_reduction,
        None if ll128 is None else si(ll128, "time", "latency_ll128"),
        None if simple is None else si(simple, "time", "latency_simple"),
        None
        if tree[0] is None
        else (
            si(tree[0], "time", "tree_latency"),
            None if tree[1] is None else si(tree[1], "time", "tree_latency_ll128"),
            None if tree[2] is None else si(tree[2], "time", "tree_latency_simple"),
        ),
    )
    _LINKS[key] = (fabric, made)
    return made


@dataclass(frozen=True, slots=True)
class Group:
    """A parallel group placed on the system: ``n`` ranks, ``per_node`` of them in each of
    ``nodes`` nodes, spanning ``pods`` non-blocking pods (``nodes_per_pod`` of its nodes in
    each)."""

    n: int
    per_node: int
    nodes: int
    pods: int
    nodes_per_pod: int
    intra: Link | None
    inter: Link | None
    oversubscription: float
    sharp: bool  # the cluster's switches reduce in the network
    pods_known: bool = False  # the cluster names its non-blocking pods (pod_nodes)

    @property
    def crosses_nodes(self) -> bool:
        return self.nodes > 1


@dataclass(frozen=True, slots=True)
class SystemView:
    """The devices of one solve: ``devices`` accelerators, ``per_node`` per node, ``nodes``."""

    id: str
    kind: str  # "device", "node" or "cluster"
    hardware: Any
    devices: int
    per_node: int
    nodes: int
    intra: Link | None
    inter: Link | None
    oversubscription: float
    pod_nodes: int | None
    sharp: bool
    name: str = ""

    def group(self, size: int, stride: int = 1) -> Group:
        """The group of ``size`` ranks ``stride`` apart (rank 0's group; all are alike).

        Both are whole numbers ≥ 1 and the group's block of ``size × stride`` ranks fits the
        view's devices; anything else is a ConfigError saying what fits.
        """
        if not _fits(size, stride, self.devices):
            raise _misfit(self, size, stride)
        G = self.per_node
        if size == 1:
            return self._place(1, 1, 1)
        if stride >= G:
            per_node, node_step = 1, stride // G
        else:
            per_node, node_step = min(size, max(1, G // stride)), 1
        nodes = -(-size // per_node)
        return self._place(size, per_node, (nodes - 1) * node_step + 1)

    def group_of(self, layout: tuple[int, ...], members: tuple[bool, ...]) -> Group:
        """The group of the dimensions marked in ``members`` of the rank ``layout``.

        ``layout`` lists the parallel degrees innermost first (rank = Σ cᵢ·strideᵢ); a group
        holds the ranks that differ only in its member dimensions (rank 0's group).
        """
        key = (id(self), layout, members)
        hit = _GROUPS.get(key)
        if hit is not None and hit[0] is self:
            return hit[1]
        n = 1
        r_max = 0
        stride = 1
        for size, member in zip(layout, members, strict=True):
            if member:
                n *= size
                r_max += (size - 1) * stride
            stride *= size
        per_node = 0
        for r in range(min(self.per_node, self.devices)):  # the group's ranks in node 0
            rest, inside = r, True
            for size, member in zip(layout, members, strict=True):
                if rest % size and not member:
                    inside = False
                    break
                rest //= size
            per_node += inside
        grp = self._place(n, max(1, per_node), r_max // self.per_node + 1)
        if len(_GROUPS) > _CACHE_LIMIT:
            _GROUPS.clear()
        _GROUPS[key] = (self, grp)
        return grp

    def _place(self, n: int, per_node: int, span: int) -> Group:
        """A group of ``n`` ranks, ``per_node`` per node, over ``span`` consecutive nodes."""
        if n <= 1:
            return Group(1, 1, 1, 1, 1, self.intra, self.inter, 1.0, self.sharp)
        nodes = -(-n // per_node)
        pod = self.pod_nodes
        pods = 1 if pod is None else -(-span // pod)
        return Group(
            n,
            per_node,
            nodes,
            pods,
            max(1, nodes // pods),
            self.intra,
            self.inter,
            self.oversubscription if nodes > 1 else 1.0,
            self.sharp,
            pod is not None,
        )


def _fits(size: Any, stride: Any, devices: int) -> bool:
    """Whether ``size`` ranks ``stride`` apart (whole numbers ≥ 1) fit ``devices`` devices."""
    if not (_whole(size) and _whole(stride)):
        return False
    return size >= 1 and stride >= 1 and size * stride <= devices


def _whole(x: Any) -> bool:
    """An integer (Python's or numpy's) that is not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _misfit(view: SystemView, size: Any, stride: Any) -> ConfigError:
    """The error of a group that is not ``size`` ranks ``stride`` apart inside ``view``."""
    n = view.devices
    if not (_whole(size) and _whole(stride)) or size < 1 or stride < 1:
        why = "a group's size and stride are whole numbers of ranks, each at least 1"
    else:
        why = (
            f"{size} ranks {stride} apart take a block of {size} × {stride} = {size * stride} "
            f"ranks, more than the {n} the system has"
        )
    return ConfigError(
        f"a group of size={size!r} and stride={stride!r} does not fit {view.id} ({n} devices)",
        where="SystemView.group",
        why=why,
        fix=f"pass size ≥ 1 and stride ≥ 1 with size × stride ≤ {n} (group({n}, 1) is all of them)",
    )


_GROUPS: dict[tuple[int, tuple[int, ...], tuple[bool, ...]], tuple[Any, Group]] = {}
_VIEWS: dict[tuple[int, int | None, type], tuple[Any, SystemView]] = {}


_NAMES: dict[str, tuple[int, Any]] = {}


def lookup_system(system: Any) -> Any:
    """The cluster, node or device spec named by ``system`` (specs pass through)."""
    if not isinstance(system, str):
        return system
    gen = generation()
    hit = _NAMES.get(system)
    if hit is not None and hit[0] == gen:
        return hit[1]
    for registry in (Clusters, Nodes, Hardware):
        if system in registry:
            spec = registry[system]
            if len(_NAMES) > _CACHE_LIMIT:
                _NAMES.clear()
            _NAMES[system] = (gen, spec)
            return spec
    candidates = [*Clusters.ids(), *Nodes.ids(), *Hardware.ids()]
    raise UnknownNameError(
        "system",
        system,
        candidates,
        fix="pass a device (e.g. 'H100'), a node (e.g. 'DGX_H100') or a cluster "
        "(e.g. 'H100_1024') id",
    )


def resolve_system(system: Any, devices: int | None = None) -> SystemView:
    """The :class:`SystemView` of ``system`` (id or spec) with ``devices`` accelerators."""
    spec = lookup_system(system)
    key = (id(spec), devices, type(devices))  # (True == 1 as a number, not as a count)
    hit = _VIEWS.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    if isinstance(spec, ClusterSpec):
        view = _cluster(spec, devices)
    elif isinstance(spec, NodeSpec):
        view = _node(spec, devices)
    elif isinstance(spec, HardwareSpec):
        view = _device(spec, devices)
    else:
        raise ConfigError(
            f"solve needs a device, node or cluster, got {type(spec).__name__}",
            where="solve",
            fix="pass a registry id such as 'A100', 'DGX_A100' or 'SuperPOD_A100'",
        )
    if len(_VIEWS) > _CACHE_LIMIT:
        _VIEWS.clear()
    _VIEWS[key] = (spec, view)
    return view


def _count(devices: int | None, default: int) -> int:
    if devices is None:
        return default
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ConfigError(
            f"devices must be an integer ≥ 1, got {devices!r}",
            where="solve",
            fix="pass devices=8 (or another whole number of accelerators)",
        )
    return devices


def _device(hw: HardwareSpec, devices: int | None) -> SystemView:
    n = _count(devices, 1)
    if n != 1:
        raise ConfigError(
            f"{hw.id} is one device, so it cannot hold devices={n}",
            where="solve",
            why="a device id means one accelerator; several need the links between them",
            fix="pass a node (e.g. 'DGX_H100': N devices on N/8 nodes over its NICs) or a "
            "cluster id as the system",
        )
    return SystemView(hw.id, "device", hw, 1, 1, 1, None, None, 1.0, None, False, hw.name)


def _nic(node: NodeSpec) -> Link | None:
    fabric = node.nic()
    if fabric is None or node.nics == 0:
        return None
    return link(fabric, node.nics / node.accelerators)


def _spread(node: NodeSpec, n: int, where: str, limit: int | None) -> tuple[int, int]:
    G = node.accelerators
    if limit is not None and n > limit:
        raise ConfigError(
            f"{where} holds {limit} accelerators, fewer than devices={n}",
            where="solve",
            fix=f"pass devices ≤ {limit}, or a larger cluster",
        )
    if n <= G:
        return n, 1
    if n % G:
        raise ConfigError(
            f"devices={n} is not a whole number of {node.id} nodes ({G} accelerators each)",
            where="solve",
            fix=f"pass devices as a multiple of {G} (e.g. {n // G * G or G} or {(n // G + 1) * G})",
        )
    if node.nic() is None or node.nics == 0:
        raise ConfigError(
            f"{node.id} has no compute NICs, so devices={n} cannot span several nodes",
            where="solve",
            fix=f"pass devices ≤ {G}, or a node with a nic_fabric",
        )
    return G, n // G


def _node(node: NodeSpec, devices: int | None) -> SystemView:
    node.check_references()
    n = _count(devices, node.accelerators)
    per_node, nodes = _spread(node, n, node.id, None)
    return SystemView(
        node.id,
        "node",
        node.hardware(),
        n,
        per_node,
        nodes,
        link(node.intra()),
        _nic(node) if nodes > 1 else None,
        1.0,
        None,
        False,
        node.name,
    )


def _cluster(cluster: ClusterSpec, devices: int | None) -> SystemView:
    cluster.check_references()
    node = cluster.node_spec()
    n = _count(devices, cluster.accelerators)
    per_node, nodes = _spread(node, n, cluster.id, cluster.accelerators)
    inter = None
    if nodes > 1:
        fabric = cluster.inter()
        inter = link(fabric, node.nics / node.accelerators)
    return SystemView(
        cluster.id,
        "cluster",
        node.hardware(),
        n,
        per_node,
        nodes,
        link(node.intra()),
        inter,
        cluster.oversubscription,
        cluster.pod_nodes,
        cluster.in_network_reduction,
        cluster.name,
    )
