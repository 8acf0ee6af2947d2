"""Logical names, the shared resource constructor and the zone/subnet layout every module agrees on.

Network, compute and database rendering all need to know which zones a region's subnets cover and what
each subnet is called; keeping that in one place is what lets compute reference a subnet by name without
re-deriving the network's layout.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from cloudorch.rendering import RenderContext, RenderedResource

CLOUD = "aws"
#: RDS needs a subnet group spanning two zones; three is the most every commercial region offers.
MIN_ZONES, MAX_ZONES = 2, 3


def provider_name(region: str) -> str:
    return f"{CLOUD}-{region}"


def logical(source: str, region: str, part: str) -> str:
    return f"{source}-{CLOUD}-{region}-{slug(part)}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def resource(
    type_: str, source: str, region: str, part: str, inputs: dict[str, Any], **extra: Any
) -> RenderedResource:
    return RenderedResource(
        name=logical(source, region, part), type=type_, cloud=CLOUD, region=region, source=source,
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

    Without discovery the only zone names known to exist are the ones the catalog placed slots in; the
    `<region>a/b` fallbacks exist in every commercial region created so far.
    """
    found: set[str] = set()
    for name, placement in ctx.placement.placements.items():
        spec = ctx.stack.resources.get(name)
        if getattr(spec, "network", None) != network:
            continue
        for slot in placement.slots:
            if slot.cloud == CLOUD and slot.region == region:
                found |= set(slot.zones)
    zones = sorted(found)[:MAX_ZONES]
    for letter in "abc":
        if len(zones) >= MIN_ZONES:
            break
        if f"{region}{letter}" not in zones:
            zones.append(f"{region}{letter}")
    return tuple(sorted(zones))


def zone_suffix(zone: str, region: str) -> str:
    return zone[len(region):] if zone.startswith(region) and len(zone) > len(region) else slug(zone)


def subnet_part(region: str, zone: str, tier: str) -> str:
    return f"{tier}-{zone_suffix(zone, region)}"


def subnet_name(network: str, region: str, zone: str, tier: str) -> str:
    return logical(network, region, subnet_part(region, zone, tier))


def subnet_cidrs(block: str, zones: tuple[str, ...]) -> dict[tuple[str, str], str]:
    """(tier, zone) -> CIDR: the block cut in eighths, public subnets first, private ones in the upper half.

    Fixed eighths (not "as many as needed") keep every subnet's range stable when a zone is added later.
    """
    eighths = list(ipaddress.ip_network(block).subnets(prefixlen_diff=3))
    out = {}
    for i, zone in enumerate(zones):
        out["public", zone] = str(eighths[i])
        out["private", zone] = str(eighths[4 + i])
    return out


def subnets_for(ctx: RenderContext, network: str, region: str, tier: str, zones: tuple[str, ...] = ()) -> list[str]:
    """Names of a network's subnets of one tier, restricted to ``zones`` when any of them are covered."""
    covered = network_zones(ctx, network, region)
    chosen = [z for z in covered if z in zones] or list(covered)
    return [subnet_name(network, region, z, tier) for z in chosen]
