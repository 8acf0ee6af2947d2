"""Regressions from the provider review: zone IDs, subnet ranges that survive growth, one public-address
rule, and the database's deletion protection and final snapshot."""

from __future__ import annotations

import ipaddress
import re

import pytest

from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement, Slot
from cloudorch.rendering import RenderContext
from cloudorch.spec.models import Stack
from cloudorch_aws.provider import Provider

SUBNET = "aws:ec2/subnet:Subnet"


def _slot(itype: str, zones: tuple[str, ...]) -> Slot:
    return Slot(cloud="aws", region="us-east-1", instance_type=itype, count=2, vcpus=2, memory_gib=8,
                zones=zones, hourly_usd=0.2, monthly_usd=146.0)


def _context(zones: tuple[str, ...] = ("us-east-1a", "us-east-1b"), *, ingress: list[dict] | None = None,
             stack: str = "grow", db: dict | None = None) -> RenderContext:
    resources: dict = {
        "net": {"kind": "network", "cidr": "10.40.0.0/16"},
        "app": {"kind": "compute", "network": "net", "count": 2, "cpu": 2, "memory_gb": 8, "ingress": ingress or []},
    }
    placements = {"app": ResourcePlacement(resource="app", kind="compute", slots=(_slot("m7i.large", zones),))}
    if db is not None:
        resources["db"] = {"kind": "database", "network": "net", "engine": "postgres", "version": "16", **db}
        placements["db"] = ResourcePlacement(resource="db", kind="database", slots=(_slot("db.m6g.large", zones),))
    networks = (NetworkBlock(network="net", cloud="aws", region="us-east-1", cidr="10.40.0.0/20"),)
    return RenderContext(stack=Stack.model_validate({"stack": stack, "resources": resources}),
                         placement=PlacementResult(objective="cost", placements=placements, networks=networks),
                         cloud="aws")


def _subnets(ctx: RenderContext) -> dict[str, dict]:
    return {r.name: r.inputs for r in Provider().render(ctx) if r.type == SUBNET}


# -- 1. zone IDs ------------------------------------------------------------------------------------------
def test_zone_ids_render_as_availability_zone_ids():
    subnets = _subnets(_context(("use1-az1", "use1-az4")))
    assert {s["availabilityZoneId"] for s in subnets.values()} == {"use1-az1", "use1-az4"}
    assert not any("availabilityZone" in s for s in subnets.values())


def test_zone_names_render_as_availability_zones():
    subnets = _subnets(_context(("us-east-1a", "us-east-1b")))
    assert {s["availabilityZone"] for s in subnets.values()} == {"us-east-1a", "us-east-1b"}
    assert not any("availabilityZoneId" in s for s in subnets.values())


def test_a_single_zone_id_is_topped_up_with_another_id_not_a_name():
    # a name and an ID might be the same physical zone, and RDS needs two distinct ones
    subnets = _subnets(_context(("use1-az4",)))
    assert {s["availabilityZoneId"] for s in subnets.values()} == {"use1-az1", "use1-az4"}


# -- 2. stable subnet ranges ------------------------------------------------------------------------------
@pytest.mark.parametrize(("before", "after"), [
    (("us-east-1c", "us-east-1d"), ("us-east-1b", "us-east-1c", "us-east-1d")),
    (("us-east-1b", "us-east-1c"), ("us-east-1a", "us-east-1b", "us-east-1c")),
    (("use1-az2", "use1-az4"), ("use1-az1", "use1-az2", "use1-az4")),
])
def test_adding_a_zone_keeps_the_other_subnets(before, after):
    old, new = _subnets(_context(before)), _subnets(_context(after))
    for name, inputs in old.items():
        assert new[name]["cidrBlock"] == inputs["cidrBlock"], name
    nets = [ipaddress.ip_network(s["cidrBlock"]) for s in new.values()]
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


def test_zone_slots_probe_on_collision():
    from cloudorch_aws.naming import subnet_cidrs

    cidrs = subnet_cidrs("10.0.0.0/20", ("us-east-1a", "us-east-1e", "us-east-1f"))  # a and e want slot 0
    assert len(set(cidrs.values())) == 6
    with pytest.raises(ValueError):
        subnet_cidrs("10.0.0.0/20", tuple(f"us-east-1{z}" for z in "abcde"))


# -- 3. public addresses ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("ingress", "public"), [
    ([{"port": 443, "from": "internet"}], True),
    ([{"port": 443, "from": "52.94.0.0/16"}], True),  # a public range that is not "the world"
    # documentation (RFC 5737) and CGNAT ranges are not private space: Python's is_private says otherwise
    ([{"port": 443, "from": "203.0.113.0/24"}], True),
    ([{"port": 443, "from": "100.64.0.0/10"}], True),
    ([{"port": 443, "from": "10.0.0.0/8"}], False),
    ([], False),
])
def test_public_subnet_and_address_exactly_when_public_facing(ingress, public):
    ctx = _context(ingress=ingress)
    rendered = {r.name: r for r in Provider().render(ctx)}
    template = rendered["app-aws-us-east-1-m7i-large-lt"].inputs
    group = rendered["app-aws-us-east-1-m7i-large-asg"].inputs
    assert template["networkInterfaces"][0]["associatePublicIpAddress"] == ("true" if public else "false")
    tiers = {s["$ref"].split("-")[-2] for s in group["vpcZoneIdentifiers"]}
    assert tiers == {"public" if public else "private"}
    assert ctx.public_facing(ctx.stack.resources["app"]) is public


def test_the_public_address_decision_is_the_shared_one(monkeypatch):
    monkeypatch.setattr(RenderContext, "public_facing", staticmethod(lambda spec: True))
    template = {r.name: r for r in Provider().render(_context())}["app-aws-us-east-1-m7i-large-lt"].inputs
    assert template["networkInterfaces"][0]["associatePublicIpAddress"] == "true"


# -- 4. databases -----------------------------------------------------------------------------------------
def _db(**kw) -> dict:
    return next(r.inputs for r in Provider().render(_context(**kw)) if r.type == "aws:rds/instance:Instance")


@pytest.mark.parametrize("protected", [True, False])
def test_deletion_protection_follows_the_spec(protected):
    assert _db(db={"deletion_protection": protected})["deletionProtection"] is protected


def test_final_snapshot_is_kept_under_a_valid_per_stack_name():
    one, other = _db(db={}, stack="shop"), _db(db={}, stack="shop-staging")
    assert one["skipFinalSnapshot"] is False
    assert one["finalSnapshotIdentifier"] == _db(db={}, stack="shop")["finalSnapshotIdentifier"]
    # the same database name in two stacks of one account and region must not collide
    assert one["finalSnapshotIdentifier"] != other["finalSnapshotIdentifier"]
    for name in (one["finalSnapshotIdentifier"], other["finalSnapshotIdentifier"]):
        assert re.fullmatch(r"[a-z](?:-?[a-z0-9])*", name) and len(name) <= 255
