"""Logical names, the shared resource constructor and the zone/subnet layout every module agrees on.

Network, compute and database rendering all need to know which zones a region's subnets cover and what
each subnet is called; keeping that in one place is what lets compute reference a subnet by name without
re-deriving the network's layout.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from typing import Any

from cloudorch.rendering import RenderContext, RenderedResource

from cloudorch_aws.roles import ROLES

CLOUD = "aws"
#: RDS needs a subnet group spanning two zones; three is the most every commercial region offers.
MIN_ZONES, MAX_ZONES = 2, 3
#: an availability-zone ID (`use1-az1`): the same physical zone in every account, unlike a zone name
ZONE_ID = re.compile(r"^[a-z]+\d+-az\d+$")
#: subnets per tier: the block is cut in eighths, the lower half public, the upper half private
TIER_SLOTS = 4


def provider_name(region: str) -> str:
    return f"{CLOUD}-{region}"


def region_provider(ctx: RenderContext, region: str) -> RenderedResource:
    """The explicit provider of one region. Default tags reach what the rendering cannot tag itself
    (routes, associations, attachments)."""
    from cloudorch.rendering.roles import Role

    return RenderedResource(name=provider_name(region), type="pulumi:providers:aws", role=Role.PROVIDER, cloud=CLOUD,
                            region=region, inputs={"region": region, "defaultTags": {"tags": ctx.tags()}})


def logical(source: str, region: str, part: str) -> str:
    return f"{source}-{CLOUD}-{region}-{slug(part)}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def resource(
    type_: str, source: str, region: str, part: str, inputs: dict[str, Any], **extra: Any
) -> RenderedResource:
    return RenderedResource(
        name=logical(source, region, part), type=type_, role=ROLES[type_], cloud=CLOUD, region=region, source=source,
        provider=provider_name(region), inputs=inputs, **extra,
    )


def tags(ctx: RenderContext, source: str, name: str) -> dict[str, str]:
    # `Name` is what the EC2 console shows in every list; the logical name is the useful thing to see there.
    return ctx.tags(source) | {"Name": name}


def policy_json(document: dict[str, Any]) -> str:
    """IAM documents as canonical JSON strings: stable across renders, and the form every IAM input accepts."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def assume_role_policy(service: str) -> str:
    return policy_json({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    })


# -- zones and subnets -----------------------------------------------------------------------------------
def network_zones(ctx: RenderContext, network: str, region: str) -> tuple[str, ...]:
    """The zones a network's subnets cover in a region: those the planner put replicas in, topped up.

    Without discovery the only zones known to exist are the ones the catalog placed slots in; the
    `<region>a/b` fallbacks exist in every commercial region created so far. When the catalog speaks in
    zone IDs the top-up is in IDs too: a name and an ID may denote the same physical zone (names are
    shuffled per account), and two subnets in one zone would not satisfy RDS's two-zone rule.
    """
    return ctx.memo(("aws-network-zones", network, region), lambda: _network_zones(ctx, network, region))


def _network_zones(ctx: RenderContext, network: str, region: str) -> tuple[str, ...]:
    found: set[str] = set()
    for name, placement in ctx.placement.placements.items():
        spec = ctx.stack.resources.get(name)
        if getattr(spec, "network", None) != network:
            continue
        for slot in placement.slots:
            if slot.cloud == CLOUD and slot.region == region:
                found |= set(slot.zones)
    zones = sorted(found)[:MAX_ZONES]
    ids = [z for z in zones if is_zone_id(z)]
    fallbacks = [f"{ids[0].rsplit('-az', 1)[0]}-az{n}" for n in (1, 2, 3)] if ids else \
        [f"{region}{letter}" for letter in "abc"]
    for zone in fallbacks:
        if len(zones) >= MIN_ZONES:
            break
        if zone not in zones:
            zones.append(zone)
    return tuple(sorted(zones))


def is_zone_id(zone: str) -> bool:
    return bool(ZONE_ID.match(zone))


def zone_input(zone: str) -> dict[str, str]:
    """The subnet input naming ``zone``: SkyPilot's AWS catalogs carry zone IDs, which EC2 rejects as names."""
    return {"availabilityZoneId": zone} if is_zone_id(zone) else {"availabilityZone": zone}


def zone_suffix(zone: str, region: str) -> str:
    return zone[len(region):] if zone.startswith(region) and len(zone) > len(region) else slug(zone)


def subnet_part(region: str, zone: str, tier: str) -> str:
    return f"{tier}-{zone_suffix(zone, region)}"


def subnet_name(network: str, region: str, zone: str, tier: str) -> str:
    return logical(network, region, subnet_part(region, zone, tier))


def zone_slots(zones: tuple[str, ...]) -> dict[str, int]:
    """zone -> its subnet slot (0-3), which stays put when other zones come or go.

    A slot taken by position among the sorted zones moves every later zone when an earlier one is added,
    and a moved CIDR replaces the subnet and everything in it. The preferred slot is the zone's own
    ordinal (`a`/`az1` -> 0, `b`/`az2` -> 1, ...; any other shape a stable hash), probing onwards only
    when two zones want the same slot. An ordinal rather than a hash for the usual shapes: with four
    slots a hash makes neighbours like us-east-1a and us-east-1b collide, and a collision is a move.
    """
    out: dict[str, int] = {}
    for zone in sorted(zones):
        slot = _preferred_slot(zone)
        while slot in out.values():
            slot = (slot + 1) % TIER_SLOTS
        out[zone] = slot
    return out


def _preferred_slot(zone: str) -> int:
    if is_zone_id(zone):
        return (int(zone.rsplit("-az", 1)[1]) - 1) % TIER_SLOTS
    if re.fullmatch(r"[a-z]+(?:-[a-z]+)+-\d+[a-z]", zone):
        return (ord(zone[-1]) - ord("a")) % TIER_SLOTS
    return int.from_bytes(hashlib.sha256(zone.encode()).digest()[:4], "big") % TIER_SLOTS


def subnet_cidrs(block: str, zones: tuple[str, ...]) -> dict[tuple[str, str], str]:
    """(tier, zone) -> CIDR: the block cut in eighths, public subnets first, private ones in the upper half.

    Fixed eighths (not "as many as needed") and per-zone slots (`zone_slots`) keep every subnet's range
    stable when a zone is added later.
    """
    if len(zones) > TIER_SLOTS:
        raise ValueError(f"at most {TIER_SLOTS} zones fit a network block, {len(zones)} asked")
    eighths = list(ipaddress.ip_network(block).subnets(prefixlen_diff=3))
    out = {}
    for zone, slot in zone_slots(zones).items():
        out["public", zone] = str(eighths[slot])
        out["private", zone] = str(eighths[TIER_SLOTS + slot])
    return out


def subnets_for(ctx: RenderContext, network: str, region: str, tier: str, zones: tuple[str, ...] = ()) -> list[str]:
    """Names of a network's subnets of one tier, restricted to ``zones`` when any of them are covered."""
    covered = network_zones(ctx, network, region)
    chosen = [z for z in covered if z in zones] or list(covered)
    return [subnet_name(network, region, z, tier) for z in chosen]
