"""Regressions from the provider review: stable database subnets, one public-address rule, no
encryption-at-host, and the storage account's shared-key switch."""

from __future__ import annotations

import pytest

from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement, Slot
from cloudorch.rendering import RenderContext
from cloudorch.spec.models import Stack
from cloudorch_azure.provider import Provider

from .contexts import mixed_context


def _slot(itype: str) -> Slot:
    return Slot(cloud="azure", region="westeurope", instance_type=itype, count=1, vcpus=2, memory_gib=8,
                zones=("1", "2", "3"), hourly_usd=0.1, monthly_usd=73.0)


def _context(databases: list[str], ingress: list[dict] | None = None) -> RenderContext:
    resources: dict = {
        "net": {"kind": "network", "cidr": "10.40.0.0/16"},
        "app": {"kind": "compute", "network": "net", "count": 1, "cpu": 2, "memory_gb": 8,
                "ingress": ingress or []},
    }
    placements = {"app": ResourcePlacement(resource="app", kind="compute", slots=(_slot("Standard_D2s_v5"),))}
    for name in databases:
        resources[name] = {"kind": "database", "network": "net", "engine": "postgres", "version": "16"}
        placements[name] = ResourcePlacement(resource=name, kind="database", slots=(_slot("Standard_D2ds_v5"),))
    stack = Stack.model_validate({"stack": "grow", "resources": resources})
    networks = (NetworkBlock(network="net", cloud="azure", region="westeurope", cidr="10.40.0.0/20"),)
    placement = PlacementResult(objective="cost", placements=placements, networks=networks)
    return RenderContext(stack=stack, placement=placement, cloud="azure")


def _prefixes(ctx: RenderContext) -> dict[str, str]:
    return {r.source: r.inputs["addressPrefix"] for r in Provider().render(ctx)
            if r.type == "azure-native:network:Subnet" and r.source != "net"}


def test_adding_an_earlier_named_database_keeps_the_others_subnets():
    before = _prefixes(_context(["orders"]))
    after = _prefixes(_context(["accounts", "orders"]))
    assert after["orders"] == before["orders"]
    assert after["accounts"] != after["orders"]


def test_database_slots_are_stable_distinct_and_bounded():
    from cloudorch_azure.naming import database_prefix, database_slots

    names = ["a", "b", "c"]
    # a /24's second half holds four /27s: three for databases, the last for the GatewaySubnet
    slots = database_slots("10.0.0.0/24", names)
    assert sorted(slots.values()) == [0, 1, 2]
    assert database_slots("10.0.0.0/24", names) == slots
    with pytest.raises(ValueError):
        database_slots("10.0.0.0/24", [*names, "e"])
    with pytest.raises(ValueError):
        database_prefix("10.0.0.0/24", -1)


@pytest.mark.parametrize(("ingress", "public"), [
    ([{"port": 443, "from": "internet"}], True),
    ([{"port": 443, "from": "52.94.0.0/16"}], True),  # a public range that is not "the world"
    # documentation (RFC 5737) and CGNAT ranges are not private space: Python's is_private says otherwise
    ([{"port": 443, "from": "203.0.113.0/24"}], True),
    ([{"port": 443, "from": "100.64.0.0/10"}], True),
    ([{"port": 443, "from": "10.0.0.0/8"}], False),
    ([], False),
])
def test_public_ip_exactly_when_public_facing(ingress, public):
    ctx = _context([], ingress)
    (vmss,) = [r for r in Provider().render(ctx) if r.type.endswith(":VirtualMachineScaleSet")]
    nic = vmss.inputs["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"][0]
    assert ("publicIPAddressConfiguration" in nic["ipConfigurations"][0]) is public
    assert ctx.public_facing(ctx.stack.resources["app"]) is public


def test_the_public_ip_decision_is_the_shared_one(monkeypatch):
    monkeypatch.setattr(RenderContext, "public_facing", staticmethod(lambda spec: spec.kind == "compute"))
    for vmss in (r for r in Provider().render(mixed_context()) if r.type.endswith(":VirtualMachineScaleSet")):
        nic = vmss.inputs["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"][0]
        assert "publicIPAddressConfiguration" in nic["ipConfigurations"][0], vmss.name


def test_no_encryption_at_host():
    for vmss in (r for r in Provider().render(mixed_context()) if r.type.endswith(":VirtualMachineScaleSet")):
        assert "securityProfile" not in vmss.inputs["virtualMachineProfile"], vmss.name


def test_shared_key_access_left_at_its_default():
    # no rendered identity can read blobs through Entra ID, so account keys stay the way in
    for account in (r for r in Provider().render(mixed_context()) if r.type.endswith(":StorageAccount")):
        assert "allowSharedKeyAccess" not in account.inputs
