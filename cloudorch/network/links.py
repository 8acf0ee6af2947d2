"""From a placement to a network plan: the sites, their blocks, and a link wherever a flow crosses sites.

A flow (``graph.Flow``) joins every location of its source to every location of its target: a replica may
talk to any replica. Each pair of distinct sites gets a link unless the cloud's network already spans it
(a GCP VPC is global: two regions of one stack network are one network there). Two sites of one cloud are
peered; two clouds are joined by a site-to-site VPN. Nothing else is linked: resources without a flow
between them stay apart, as do networks the stack did not link (the loader refuses flows between them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from cloudorch.graph import Flow
from cloudorch.network.allocation import (
    Allocation, InsideAddressing, TunnelDemand, allocate_asns, allocate_blocks, allocate_tunnels, blocks_left,
    common_ranges, renumberings,
)
from cloudorch.network.model import FlowRoute, Link, NetworkPlan, Site, VpnSide, tunnel_interfaces
from cloudorch.placement.model import PlacementResult
from cloudorch.placement.problem import BlocksLeft
from cloudorch.placement.rates import GatewayLimit, tunnels_per_link
from cloudorch.spec.models import Network, Stack


def plan_network(stack: Stack, placement: PlacementResult, flows: tuple[Flow, ...], *,
                 global_clouds: frozenset[str] = frozenset(), vpn_interfaces: Mapping[str, int] | None = None,
                 allocation: Allocation | None = None, first_host_clouds: frozenset[str] = frozenset(),
                 inside: Mapping[str, InsideAddressing] | None = None) -> NetworkPlan:
    """The network plan of a placed stack. ``allocation`` (what earlier plans allocated) is kept and
    updated in place with what is new; ``global_clouds`` are the clouds whose one network spans regions;
    ``vpn_interfaces``: cloud -> the public addresses its HA VPN gateway's tunnels end on (default 2);
    ``first_host_clouds``: clouds whose gateway always takes the first inside address of a tunnel (AWS);
    ``inside``: cloud -> what its gateways accept as tunnels' inside addresses (default ``InsideAddressing()``)."""
    allocation = allocation if allocation is not None else Allocation()
    interfaces = dict(vpn_interfaces or {})
    networks = {name: spec.cidr for name, spec in stack.resources.items() if isinstance(spec, Network)}
    member_network = {name: spec.network for name, spec in stack.resources.items() if getattr(spec, "network", None)}
    sites = set()
    for name, network in member_network.items():
        if name in placement.placements:
            sites |= {(network, cloud, region) for cloud, region in placement.placements[name].locations}
    recorded = dict(allocation.blocks)
    blocks = allocate_blocks(networks, sites, allocation)
    cidr_of = {(b.network, b.cloud, b.region): b.cidr for b in blocks}

    def site(key: tuple[str, str, str]) -> Site:
        return Site(network=key[0], cloud=key[1], region=key[2], cidr=cidr_of[key])

    needed: dict[tuple, tuple[Site, Site, set[str]]] = {}
    routes = []
    for flow in flows:
        src_net, dst_net = member_network.get(flow.source), member_network.get(flow.target)
        pairs = []
        if src_net and dst_net and flow.source in placement.placements and flow.target in placement.placements:
            for s_loc in placement.placements[flow.source].locations:
                for t_loc in placement.placements[flow.target].locations:
                    s, t = site((src_net, *s_loc)), site((dst_net, *t_loc))
                    key = _link_key(s, t, global_clouds)
                    if key is not None:
                        a, b = sorted((s, t), key=lambda x: x.key)
                        needed.setdefault(key, (a, b, set()))[2].add(flow.id)
                    pairs.append((str(s), str(t), _link_id(key)))
        routes.append(FlowRoute(flow=flow.id, source=flow.source, target=flow.target, port=flow.port,
                                last_port=flow.last_port, protocol=flow.protocol, gb_month=flow.gb_month,
                                pairs=tuple(sorted(set(pairs), key=lambda p: (p[0], p[1], p[2] or "")))))

    vpn_keys = [k for k, (a, b, _) in needed.items() if a.cloud != b.cloud]
    asns = allocate_asns([s.key for k in vpn_keys for s in needed[k][:2]], allocation)
    tunnels = allocate_tunnels([_tunnel_demand(k, inside or {}) for k in vpn_keys], allocation,
                               _departed(allocation, {_link_id(k) for k in vpn_keys}, inside or {}))
    links = []
    for key, (a, b, why) in sorted(needed.items(), key=lambda kv: _link_id(kv[0])):
        link_id = _link_id(key)
        if a.cloud == b.cloud:
            links.append(Link(id=link_id, kind="peering", a=a, b=b, flows=tuple(sorted(why))))
            continue
        ia, ib = interfaces.get(a.cloud, 2), interfaces.get(b.cloud, 2)
        swap = b.cloud in first_host_clouds and a.cloud not in first_host_clouds
        wired = tuple(t.model_copy(update=dict(zip(("a_interface", "b_interface"), tunnel_interfaces(t.index, ia, ib)))
                                   | ({"a_address": t.b_address, "b_address": t.a_address} if swap else {}))
                      for t in tunnels[link_id][:tunnels_per_link(ia, ib)])
        links.append(Link(id=link_id, kind="vpn", a=a, b=b, flows=tuple(sorted(why)),
                          a_side=VpnSide(asn=asns[a.key], interfaces=ia), b_side=VpnSide(asn=asns[b.key], interfaces=ib),
                          tunnels=wired))
    return NetworkPlan(blocks=blocks, links=tuple(links), flows=tuple(routes),
                       renumbered=renumberings(networks, recorded, blocks))


def stack_blocks_left(stack: Stack, allocation: Allocation) -> dict[str, BlocksLeft]:
    """What each of the stack's networks has left of its address blocks after ``allocation`` (what earlier
    plans allocated): what placement keeps to, so that ``plan_network`` finds a block for every site."""
    return blocks_left({name: spec.cidr for name, spec in stack.resources.items() if isinstance(spec, Network)},
                       allocation)


def check_gateway_limits(network: NetworkPlan, limits: Mapping[str, GatewayLimit]) -> None:
    """No site's gateway may end more VPN links than its cloud lets it (``limits``: cloud -> limit). Placement
    keeps to that where it prices the network; this catches a placement made without network prices."""
    per_site = Counter(site.key for link in network.links if link.kind == "vpn" for site in link.sites())
    for site, links in sorted(per_site.items()):
        limit = limits.get(site[1])
        if limit is not None and links > limit.links:
            raise limit.refusal(site, links)


def _link_key(s: Site, t: Site, global_clouds: frozenset[str]) -> tuple | None:
    """Which link a pair of sites needs, as a sortable key; None when they are one network already."""
    if s.key == t.key:
        return None
    if s.cloud == t.cloud and s.network == t.network and s.cloud in global_clouds:
        return None
    return tuple(sorted((s.key, t.key)))


def _tunnel_demand(key: tuple, inside: Mapping[str, InsideAddressing]) -> TunnelDemand:
    a, b = (inside.get(site[1], InsideAddressing()) for site in key)
    return TunnelDemand(link=_link_id(key), gateways=(a.gateway(key[0]), b.gateway(key[1])),
                        ranges=common_ranges(a.ranges, b.ranges))


def _departed(allocation: Allocation, present: set[str], inside: Mapping[str, InsideAddressing]) -> list[TunnelDemand]:
    """The recorded VPN links this plan no longer has, read back from their ids (``_link_id``)."""
    out = []
    for link in allocation.tunnel_groups.keys() - present:
        key = _link_key_of(link)
        if key is not None:
            out.append(_tunnel_demand(key, inside))
    return out


def _link_key_of(link_id: str) -> tuple | None:
    """The key ``_link_id`` made ``link_id`` of; None when it is not one (a hand-edited record)."""
    sites = []
    for side in link_id.split("~"):
        network, _, location = side.partition("@")
        cloud, _, region = location.partition("/")
        if not (network and cloud and region):
            return None
        sites.append((network, cloud, region))
    return tuple(sites) if len(sites) == 2 else None


def _link_id(key: tuple | None) -> str | None:
    if key is None:
        return None
    (an, ac, ar), (bn, bc, br) = key
    return f"{an}@{ac}/{ar}~{bn}@{bc}/{br}"
