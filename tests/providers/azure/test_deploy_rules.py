"""Rules the real Azure APIs enforce that the schema cannot express, pinned after the deployability audit."""

from __future__ import annotations

import pytest

from cloudorch_azure.database import ha_mode
from cloudorch_azure.provider import Provider

from .contexts import mixed_context
from tests.support import webshop_context


def _by_name(ctx) -> dict:
    return {r.name: r for r in Provider().render(ctx)}


@pytest.mark.parametrize("make_ctx", [lambda: webshop_context("azure"), mixed_context])
def test_every_compute_subnet_leaves_through_a_nat_gateway(make_ctx):
    # Flexible scale sets get no default outbound access, and Azure retired it for new networks.
    rendered = _by_name(make_ctx())
    subnets = [r for r in rendered.values()
               if r.type == "azure-native:network:Subnet" and "delegations" not in r.inputs]
    assert subnets
    for subnet in subnets:
        nat = rendered[subnet.inputs["natGateway"]["id"]["$ref"]]
        assert nat.type == "azure-native:network:NatGateway" and nat.inputs["sku"] == {"name": "Standard"}
        (address,) = nat.inputs["publicIpAddresses"]
        ip = rendered[address["id"]["$ref"]]
        assert ip.inputs["sku"]["name"] == "Standard" and ip.inputs["publicIPAllocationMethod"] == "Static"
        assert nat.region == ip.region == subnet.region


def test_ha_is_zone_redundant_only_where_the_region_has_zones():
    assert ha_mode(True, "eastus", "GeneralPurpose") == "ZoneRedundant"
    assert ha_mode(True, "westcentralus", "GeneralPurpose") == "SameZone"
    assert ha_mode(False, "westcentralus", "Burstable") == "Disabled"


def test_burstable_servers_cannot_be_highly_available():
    with pytest.raises(ValueError, match="Burstable"):
        ha_mode(True, "eastus", "Burstable")
