"""Systems registry: fabrics (direction explicit), nodes and clusters, references resolve."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core import registry

FABRIC_IDS = [
    "NVLink2",
    "NVLink3",
    "NVLink4",
    "NVLink5",
    "PCIe3",
    "PCIe4",
    "PCIe5",
    "IB_HDR",
    "IB_NDR",
    "RoCE400",
    "Ethernet100",
    "Ethernet400",
    "OmniPath100",
    "InfinityFabric",
    "ICI_v4",
    "ICI_v5e",
    "ICI_v5p",
]


@pytest.mark.parametrize("fabric_id", FABRIC_IDS)
def test_fabrics_exist_and_are_sourced(fabric_id):
    fabric = mlsysim.Fabrics[fabric_id]
    assert fabric.source in registry.catalog().sources
    assert fabric.bandwidth_per_direction.to("GB/s").magnitude > 0


@pytest.mark.parametrize(
    ("fabric_id", "bidirectional_gb_s"),
    [
        ("NVLink2", 300),
        ("NVLink3", 600),
        ("NVLink4", 900),
        ("NVLink5", 1800),
        ("InfinityFabric", 896),
    ],
)
def test_vendor_bidirectional_figures(fabric_id, bidirectional_gb_s):
    # NVIDIA NVLink page; AMD MI300X datasheet (7 x 128 GB/s)
    fabric = mlsysim.Fabrics[fabric_id]
    assert fabric.bandwidth_bidirectional.to("GB/s").magnitude == pytest.approx(bidirectional_gb_s)


def test_port_rates():
    assert mlsysim.Fabrics.IB_NDR.bandwidth_per_direction.to("Gb/s").magnitude == 400
    assert mlsysim.Fabrics.IB_HDR.bandwidth_per_direction.to("GB/s").magnitude == 25
    assert mlsysim.Fabrics.PCIe5.bandwidth_per_direction.to("GB/s").magnitude == (
        pytest.approx(16 * 32 * 128 / 130 / 8, rel=1e-3)
    )


def test_ici_link_scope():
    ici = mlsysim.Fabrics.ICI_v5p
    assert ici.scope == "link"
    assert ici.device_bandwidth_per_direction.to("GB/s").magnitude == pytest.approx(540)


def test_dgx_h100_node():
    node = mlsysim.Nodes.DGX_H100
    assert (node.accelerator, node.accelerators, node.intra_fabric) == ("H100", 8, "NVLink4")
    assert (node.nic_fabric, node.nics) == ("IB_NDR", 8)
    assert node.injection_bandwidth_per_direction.to("Gb/s").magnitude == 3200


def test_jean_zay_node_network():
    # Le Scao et al. 2022, p. 18 and the tr11-176B-ml README: 4 Omni-Path 100 Gb/s links per
    # node of 8 A100s, a quarter of a DGX A100's 8 x 200 Gb/s HDR
    node = mlsysim.Nodes.JeanZay_A100
    assert (node.nic_fabric, node.nics) == ("OmniPath100", 4)
    assert node.injection_bandwidth_per_direction.to("Gb/s").magnitude == 400
    dgx = mlsysim.Nodes.DGX_A100.injection_bandwidth_per_direction
    assert (dgx / node.injection_bandwidth_per_direction).to("").magnitude == 4
    # NCCL enables LL128 across nodes only on a GPUDirect path the sources do not state
    assert mlsysim.Fabrics.OmniPath100.latency_ll128 is None


def test_cluster_sizes():
    assert mlsysim.Clusters.H100_1024.accelerators == 1024
    assert mlsysim.Clusters.H100_10K.accelerators == 10_000
    assert mlsysim.Clusters.Meta_H100_24K_RoCE.accelerators == 24_576  # Dubey et al. 2024


def test_node_and_cluster_references_resolve():
    fabrics = set(mlsysim.Fabrics.ids())
    for node in mlsysim.Nodes:
        assert node.intra_fabric in fabrics
        assert node.nic_fabric is None or node.nic_fabric in fabrics
        if node.accelerator in ("H100", "A100", "B200"):  # stable hardware ids
            assert node.hardware().id == node.accelerator
    for cluster in mlsysim.Clusters:
        assert cluster.node in mlsysim.Nodes
        assert cluster.inter_fabric in fabrics


def test_unknown_reference_suggests():
    node = mlsysim.Nodes.DGX_H100.model_copy(update={"intra_fabric": "NVLink9"})
    with pytest.raises(mlsysim.UnknownNameError, match="NVLink"):
        node.check_references()
