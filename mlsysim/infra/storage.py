"""Storage systems that checkpoints are written to: bandwidth and latency, as data.

Entries live in ``infra/data/storage.toml`` (schema ``mlsysim.storage/1``). ``scope`` says
whose bandwidth the figure is: the whole system (``aggregate``: a parallel or distributed file
system shared by every writer) or one node (``node``: local NVMe, which scales with the nodes).
A checkpoint of S bytes written by n nodes takes S / min(B_aggregate, n·B_node).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

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

__all__ = ["Storage", "StorageSpec"]


class StorageSpec(Spec):
    """A storage system: sustained write bandwidth at a stated scope, optional peak and latency."""

    kind: Literal["distributed_fs", "parallel_fs", "object_store", "local_nvme"]
    scope: Literal["aggregate", "node"]
    write_bandwidth: _Bandwidth  # sustained
    peak_bandwidth: _Bandwidth | None = None
    read_bandwidth: _Bandwidth | None = None
    latency: _Time | None = None
    capacity: _Information | None = None
    operator: str | None = None

    def write_bandwidth_s(self, nodes: int) -> float:
        """Bytes per second a checkpoint written by ``nodes`` nodes gets (float)."""
        from mlsysim.core.units import si

        bw = si(self.write_bandwidth, "bandwidth", "write_bandwidth")
        return bw * nodes if self.scope == "node" else bw


Storage: Registry[StorageSpec] = register_kind(
    "storage", StorageSpec, "storage system", Path(__file__).parent / "data"
)
