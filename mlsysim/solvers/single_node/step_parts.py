"""The tables a step's result carries: memory by kind, operations, communication, collectives.

One device's solve (:class:`~mlsysim.solvers.single_node.results.SolveResult`) carries its
:class:`MemoryBreakdown` and one :class:`OpTiming` per lowered operation; a step over many
devices (:class:`~mlsysim.solvers.distributed.results.DistributedResult`) carries the
:class:`DeviceMemory` of its most loaded device, its exposed :class:`Communication` by parallel
dimension and one :class:`CollectiveTiming` per kind of collective. Each is a named tuple of
root-unit floats (``*_bytes``, ``*_s``) whose attributes read as Quantities (GB, ms), with its
JSON form.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.solvers.quantities import GB, MS, json_quantity, quantity

__all__ = ["CollectiveTiming", "Communication", "DeviceMemory", "MemoryBreakdown", "OpTiming"]

_KINDS = ("tp", "cp", "ep", "pp", "dp")


class MemoryBreakdown(NamedTuple):
    """Resident bytes of one step and the device's capacity (attributes are Quantities in GB)."""

    weights_bytes: float
    kv_cache_bytes: float
    activations_bytes: float
    gradients_bytes: float
    optimizer_bytes: float
    capacity_bytes: float

    @property
    def total_bytes(self) -> float:
        return (
            self.weights_bytes
            + self.kv_cache_bytes
            + self.activations_bytes
            + self.gradients_bytes
            + self.optimizer_bytes
        )

    @property
    def weights(self) -> Any:
        return quantity(self.weights_bytes, GB, "GB")

    @property
    def kv_cache(self) -> Any:
        return quantity(self.kv_cache_bytes, GB, "GB")

    @property
    def activations(self) -> Any:
        return quantity(self.activations_bytes, GB, "GB")

    @property
    def gradients(self) -> Any:
        return quantity(self.gradients_bytes, GB, "GB")

    @property
    def optimizer(self) -> Any:
        return quantity(self.optimizer_bytes, GB, "GB")

    @property
    def total(self) -> Any:
        return quantity(self.total_bytes, GB, "GB")

    @property
    def capacity(self) -> Any:
        return quantity(self.capacity_bytes, GB, "GB")

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.capacity_bytes

    def to_dict(self) -> dict[str, Any]:
        names = (
            "weights",
            "kv_cache",
            "activations",
            "gradients",
            "optimizer",
            "total",
            "capacity",
        )
        return {n: json_quantity(getattr(self, n + "_bytes"), GB, "GB") for n in names}


class OpTiming(NamedTuple):
    """One lowered operation, timed: totals over its ``repeat`` instances (root units).

    ``peak_flops_per_s`` is the peak of the format its math ran in, ``waves`` its
    wave-quantization efficiency on the device, ``kernels`` its kernel launches in total,
    ``dequant`` whether its weights ran the engine's dequantizing kernels."""

    name: str
    kind: str
    repeat: int
    flops: float
    bytes: float
    time_bound_s: float
    time_s: float
    overhead_s: float
    bound: str  # "compute" or "memory" (which roof limits the op)
    peak_flops_per_s: float = 0.0
    waves: float = 1.0
    kernels: float = 1.0
    dequant: bool = False

    @property
    def time(self) -> Any:
        return quantity(self.time_s, MS, "ms")

    @property
    def arithmetic_intensity(self) -> float:
        return self.flops / self.bytes if self.bytes else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "repeat": self.repeat,
            "flops": self.flops,
            "bytes": self.bytes,
            "time_bound_s": self.time_bound_s,
            "time_s": self.time_s,
            "overhead_s": self.overhead_s,
            "bound": self.bound,
            "peak_flops_per_s": self.peak_flops_per_s,
            "waves": self.waves,
            "kernels": self.kernels,
            "dequant": self.dequant,
        }


class DeviceMemory(NamedTuple):
    """Resident bytes per device (the most loaded pipeline stage) and its capacity (GB)."""

    weights_bytes: float
    gradients_bytes: float
    optimizer_bytes: float
    activations_bytes: float
    kv_cache_bytes: float
    capacity_bytes: float

    @property
    def total_bytes(self) -> float:
        return (
            self.weights_bytes
            + self.gradients_bytes
            + self.optimizer_bytes
            + self.activations_bytes
            + self.kv_cache_bytes
        )

    @property
    def weights(self) -> Any:
        return quantity(self.weights_bytes, GB, "GB")

    @property
    def gradients(self) -> Any:
        return quantity(self.gradients_bytes, GB, "GB")

    @property
    def optimizer(self) -> Any:
        return quantity(self.optimizer_bytes, GB, "GB")

    @property
    def activations(self) -> Any:
        return quantity(self.activations_bytes, GB, "GB")

    @property
    def kv_cache(self) -> Any:
        return quantity(self.kv_cache_bytes, GB, "GB")

    @property
    def total(self) -> Any:
        return quantity(self.total_bytes, GB, "GB")

    @property
    def capacity(self) -> Any:
        return quantity(self.capacity_bytes, GB, "GB")

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.capacity_bytes

    def to_dict(self) -> dict[str, Any]:
        names = (
            "weights",
            "gradients",
            "optimizer",
            "activations",
            "kv_cache",
            "total",
            "capacity",
        )
        return {n: json_quantity(getattr(self, n + "_bytes"), GB, "GB") for n in names}


class Communication(NamedTuple):
    """Exposed communication per step by parallel dimension (seconds; Quantities in ms)."""

    tp_s: float
    cp_s: float
    ep_s: float
    pp_s: float
    dp_s: float
    overlapped_s: float  # communication hidden behind computation

    @property
    def total_s(self) -> float:
        return self.tp_s + self.cp_s + self.ep_s + self.pp_s + self.dp_s

    @property
    def tp(self) -> Any:
        return quantity(self.tp_s, MS, "ms")

    @property
    def cp(self) -> Any:
        return quantity(self.cp_s, MS, "ms")

    @property
    def ep(self) -> Any:
        return quantity(self.ep_s, MS, "ms")

    @property
    def pp(self) -> Any:
        return quantity(self.pp_s, MS, "ms")

    @property
    def dp(self) -> Any:
        return quantity(self.dp_s, MS, "ms")

    @property
    def total(self) -> Any:
        return quantity(self.total_s, MS, "ms")

    @property
    def overlapped(self) -> Any:
        return quantity(self.overlapped_s, MS, "ms")

    def to_dict(self) -> dict[str, Any]:
        out = {k: json_quantity(getattr(self, k + "_s"), MS, "ms") for k in _KINDS}
        out["total"] = json_quantity(self.total_s, MS, "ms")
        out["overlapped"] = json_quantity(self.overlapped_s, MS, "ms")
        return out


class CollectiveTiming(NamedTuple):
    """One kind of collective in the step: calls, message size, algorithm and times."""

    name: str
    group: str  # tp, cp, ep, pp, dp, edp (expert data parallel)
    op: str
    algorithm: str
    size_bytes: float
    calls: float  # per step
    group_size: int
    nodes: int
    time_per_call_s: float
    total_s: float
    exposed_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "op": self.op,
            "algorithm": self.algorithm,
            "size_bytes": self.size_bytes,
            "calls": self.calls,
            "group_size": self.group_size,
            "nodes": self.nodes,
            "time_per_call_s": self.time_per_call_s,
            "total_s": self.total_s,
            "exposed_s": self.exposed_s,
        }
