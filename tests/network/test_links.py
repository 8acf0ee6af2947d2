"""The network plan's links get their tunnels' inside addresses per gateway, as each cloud asks."""

from __future__ import annotations

import ipaddress

from cloudorch.graph import flows_of
from cloudorch.network.allocation import SHARED_TUNNEL_RANGES, Allocation, InsideAddressing, _stable
from cloudorch.network.links import plan_network
from cloudorch.placement.model import PlacementResult, ResourcePlacement, Slot
from cloudorch.spec.loader import parse_stack

STACK = """\
stack: pair
resources:
  net: {kind: network, cidr: 10.70.0.0/16}
  web: {kind: compute, network: net, cpu: 2, memory_gb: 4}
  db: {kind: database, network: net, engine: postgres, version: "16", ingress: [{port: 5432, from: web}]}
"""
SITE_SCOPED = {c: InsideAddressing(scope="site") for c in ("aws", "azure")}
SHARED_GROUPS = sum(r.num_addresses for r in SHARED_TUNNEL_RANGES) // 16


def _plan(web: tuple[str, str], db: tuple[str, str], allocation: Allocation, stack: str = STACK):
    loaded = parse_stack(stack, "stacks/pair.yaml")
    slot = lambda cloud, region: Slot(cloud=cloud, region=region, instance_type="x", count=1, vcpus=2,  # noqa: E731
                                      memory_gib=4, hourly_usd=0.1, monthly_usd=73.0)
    placement = PlacementResult(objective="cost", placements={
        "web": ResourcePlacement(resource="web", kind="compute", slots=(slot(*web),)),
        "db": ResourcePlacement(resource="db", kind="database", slots=(slot(*db),))})
    return plan_network(loaded.stack, placement, flows_of(loaded.stack), allocation=allocation, inside=SITE_SCOPED)


def test_a_departed_link_frees_its_addresses_for_other_gateways_and_keeps_them_on_its_own():
    allocation = Allocation()
    (gone,) = _plan(("azure", "westeurope"), ("aws", "eu-west-1"), allocation).links
    group = allocation.tunnel_groups[gone.id]
    # a later plan whose only link joins two other gateways, and whose id hashes to the departed link's group
    region = next(f"r{i}" for i in range(10_000)
                  if _stable(f"net@aws/{'x' + str(i)}~net@azure/{'r' + str(i)}", SHARED_GROUPS) == group)
    i = region[1:]
    (other,) = _plan(("azure", region), ("aws", f"x{i}"), allocation).links
    assert gone.id in allocation.tunnel_groups  # still recorded: reserved for its return
    # the departed link's gateways are read back from its id, so only those keep its addresses
    assert allocation.tunnel_groups[other.id] == group
    # while a new link on the departed link's AWS gateway stays clear of them
    (beside,) = _plan(("azure", "northeurope"), ("aws", "eu-west-1"), allocation).links
    mine = {ipaddress.ip_network(t.inside_cidr) for t in gone.tunnels}
    assert mine.isdisjoint(ipaddress.ip_network(t.inside_cidr) for t in beside.tunnels)


def test_tcp_and_udp_on_one_port_are_two_flows_of_the_link():
    """Found by a user audit: `links[].flows` held one id for both, so only one flow seemed to force the link."""
    two = STACK.replace("ingress: [{port: 5432, from: web}]",
                        "ingress: [{port: 53, from: web}, {port: 53, protocol: udp, from: web}]")
    network = _plan(("azure", "westeurope"), ("aws", "eu-west-1"), Allocation(), two)
    assert [(r.flow, r.protocol) for r in network.flows] == [("web->db:53", "tcp"), ("web->db:53/udp", "udp")]
    (link,) = network.links
    assert link.flows == ("web->db:53", "web->db:53/udp")
