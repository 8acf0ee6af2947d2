"""The reachability proof (the rendering stage proves what it rendered): from the rendered resources alone, every declared flow can flow, and nothing
admits the internet that the stack did not ask for.

Read through the providers' neutral facts (``rendering.facts``), never their type tokens, so a fourth cloud
is proved like the three. For each flow and each pair of its source's and target's sites:

- routable: the two sites are one site (or one global network), or the link between them is whole on both
  sides (a peering resource on each; every tunnel of a VPN, each routing statically or over a BGP session
  whose two sides agree on each other's ASN and inside address: ``reach_bgp``) and each side routes the
  other side's block into it -- statically (``LinkFacts.static_routes``, a ``RouteFacts`` via the link) or
  by installing what the other side announces (``routes_learned`` and the other side's ``advertises``),
  and no route of a table that wins over those (longest prefix; static over learned) takes part of the
  block elsewhere; a database behind a service peering (``ServicePeeringFacts``: Cloud SQL) answers the far
  side of a VPN only if the peering passes on the routes learned over it. Both directions: a connection
  needs its replies;
- permitted: a firewall rule of the target, on its cloud and in its region, admits the flow's ports from a
  range that holds the source site's block, reaches the target's machines (target tags) and is not shadowed
  by a deny weighed before it; and where the source has egress rules, one lets it out, no deny first
  (``reach_rules``).

A pair is *proved*, *broken* (with the reason) or *unverified* (a fact that decides it is only known at
deploy time). A broken pair is a bug in cloudorch or a provider: the plan stops (exit 1), never ships it.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from cloudorch.network.model import Link, NetworkPlan, Site
from cloudorch.rendering.facts import (
    BgpSession,
    Describe,
    FirewallFacts,
    GraphOf,
    InstanceFacts,
    LinkFacts,
    ListenerFacts,
    RouteFacts,
    ServicePeeringFacts,
)
from cloudorch.rendering.inputs import UNKNOWN
from cloudorch.rendering.model import RenderedResource
from cloudorch.rendering.reach_bgp import tunnel_sessions
from cloudorch.rendering.reach_rules import holds, permitted
from cloudorch.rendering.roles import Role
from cloudorch.rendering.service import served_ports
from cloudorch.spec.models import Compute, Database, Stack

Status = Literal["proved", "broken", "unverified"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PathProof(_Frozen):
    """One pair of sites a flow joins: the path, the resources that carry it, and the verdict."""

    source_site: str
    target_site: str
    link: str | None = None
    status: Status
    reason: str | None = None
    carried_by: tuple[str, ...] = ()


class FlowProof(_Frozen):
    flow: str
    source: str
    target: str
    port: int
    last_port: int
    protocol: str
    status: Status
    paths: tuple[PathProof, ...]


class Exposure(_Frozen):
    """A rendered resource that admits the internet, and whether the stack asked for it."""

    resource: str
    source: str | None
    ports: tuple[tuple[int, int], ...]
    declared: bool


class ServiceProof(_Frozen):
    """One location of a served resource: internet -> balancer -> replicas, and no other way in."""

    resource: str
    cloud: str
    region: str
    status: Status
    reason: str | None = None
    carried_by: tuple[str, ...] = ()


class NetworkProof(_Frozen):
    flows: tuple[FlowProof, ...] = ()
    exposure: tuple[Exposure, ...] = ()
    services: tuple[ServiceProof, ...] = ()

    @property
    def broken_services(self) -> tuple[ServiceProof, ...]:
        return tuple(s for s in self.services if s.status == "broken")

    @property
    def broken(self) -> tuple[FlowProof, ...]:
        return tuple(f for f in self.flows if f.status == "broken")

    @property
    def undeclared(self) -> tuple[Exposure, ...]:
        return tuple(e for e in self.exposure if not e.declared)


class MissingResources(ValueError):
    """The rendered graph refers to resources that were not rendered: no flow over them can be proved."""

    def __init__(self, dangling: list[str]) -> None:
        super().__init__("rendered resources refer to missing ones: " + ", ".join(dangling[:5])
                         + (f" (and {len(dangling) - 5} more)" if len(dangling) > 5 else ""))
        self.dangling = dangling


def prove(stack: Stack, network: NetworkPlan, rendered: Sequence[RenderedResource], describe: Describe,
          global_clouds: frozenset[str] = frozenset(),
          address_range: Callable[[str, str, str], str] | None = None) -> NetworkProof:
    """``address_range(cloud, kind, block)``: where a resource of ``kind`` takes its addresses inside its
    site's block on ``cloud`` (``CloudProvider.address_range``; default the whole block). Routes must reach
    that range, and firewalls admit the source's."""
    ranged = address_range or (lambda cloud, kind, block: block)

    def at(site: Site, resource: str) -> Site:
        spec = stack.resources.get(resource)
        kind = spec.kind if spec is not None else "compute"
        return site.model_copy(update={"cidr": ranged(site.cloud, kind, site.cidr)})

    graph = GraphOf(rendered)
    dangling = sorted({f"{r.name} -> {d}" for r in rendered for d in r.dependencies if graph.rendered(d) is None})
    if dangling:
        # a part of a link (a gateway, a peer record) is missing: nothing built on it can carry anything
        raise MissingResources(dangling)
    sides: dict[tuple[str, int], list[tuple[str, LinkFacts]]] = defaultdict(list)
    sessions: dict[tuple[str, int, int], list[BgpSession]] = defaultdict(list)
    routes: dict[tuple[str, str], list[tuple[str, RouteFacts]]] = defaultdict(list)
    firewalls: list[tuple[RenderedResource, FirewallFacts]] = []
    listeners: dict[tuple[str | None, str, str | None], list[tuple[str, int]]] = defaultdict(list)
    carriers: dict[tuple[str | None, str], list[tuple[str | None, InstanceFacts]]] = defaultdict(list)
    services: dict[tuple[str | None, str], list[tuple[str, ServicePeeringFacts]]] = defaultdict(list)
    for res in rendered:
        if res.role == Role.BALANCER_LISTENER:
            heard = describe(res, graph)
            if isinstance(heard, ListenerFacts) and isinstance(heard.port, int):
                listeners[(res.source, res.cloud, res.region)].append((res.name, heard.port))
        if res.role in (Role.INSTANCE, Role.INSTANCE_TEMPLATE):
            # only clouds whose firewalls select machines by tag describe them (None elsewhere)
            machine = describe(res, graph)
            if isinstance(machine, InstanceFacts):
                carriers[(res.source, res.cloud)].append((res.region, machine))
            continue
        if res.role == Role.SERVICE_PEERING:
            behind = describe(res, graph)
            if isinstance(behind, ServicePeeringFacts):
                services[(res.source, res.cloud)].append((res.name, behind))
            continue
        if res.role not in (Role.LINK, Role.ROUTE, Role.FIREWALL_RULE, Role.SECURITY_GROUP):
            continue
        facts = describe(res, graph)
        if isinstance(facts, LinkFacts):
            for link_id in (facts.link, *facts.also):
                sides[(link_id, facts.side)].append((res.name, facts))
                for session in facts.sessions:
                    sessions[(link_id, facts.side, session.tunnel)].append(session)
        elif isinstance(facts, RouteFacts):
            routes[(res.cloud, res.region or "")].append((res.name, facts))
        elif isinstance(facts, FirewallFacts):
            firewalls.append((res, facts))
    links = {link.id: link for link in network.links}
    # once per link, not per flow: a large stack sends hundreds of flows over one link
    bgp = {link.id: tunnel_sessions(link, sessions) for link in network.links if link.kind == "vpn"}
    diverted: dict = {}
    sites = {str(Site(network=b.network, cloud=b.cloud, region=b.region, cidr=b.cidr)):
             Site(network=b.network, cloud=b.cloud, region=b.region, cidr=b.cidr) for b in network.blocks}

    by_source: dict[str | None, list[tuple[RenderedResource, FirewallFacts]]] = defaultdict(list)
    for res, facts in firewalls:
        by_source[res.source].append((res, facts))
    networks = {name: spec.network for name, spec in stack.resources.items() if isinstance(getattr(spec, "network", None), str)}
    databases = {name for name, spec in stack.resources.items() if isinstance(spec, Database)}
    flows = []
    for route in network.flows:
        paths = []
        for src_name, dst_name, link_id in route.pairs:
            src, dst = at(sites[src_name], route.source), at(sites[dst_name], route.target)
            carried: list[str] = []
            status, reason = _routable(src, dst, links.get(link_id) if link_id else None, sides, routes, bgp,
                                       diverted, carried)
            link = links.get(link_id) if link_id else None
            if status != "broken" and link is not None and link.kind == "vpn":
                status, reason = _answers(route, src, dst, link, networks, databases, services, carried) or (status, reason)
            if status != "broken":
                # a path unverified on its routes is still broken by a firewall that refuses it
                allowed, why = permitted(route, src, dst, by_source, carriers, networks, global_clouds, carried)
                if allowed == "broken" or status == "proved":
                    status, reason = allowed, why
            paths.append(PathProof(source_site=src_name, target_site=dst_name, link=link_id, status=status,
                                   reason=reason, carried_by=tuple(sorted(set(carried)))))
        verdicts = {p.status for p in paths}
        overall: Status = "broken" if "broken" in verdicts else "unverified" if "unverified" in verdicts else "proved"
        if not paths:
            overall = "broken"
        flows.append(FlowProof(flow=route.flow, source=route.source, target=route.target, port=route.port,
                               last_port=route.last_port, protocol=route.protocol, status=overall, paths=tuple(paths)))
    return NetworkProof(flows=tuple(flows), exposure=_exposure(stack, firewalls),
                        services=_services(stack, rendered, firewalls, global_clouds, listeners))


def _routable(src: Site, dst: Site, link: Link | None, sides, routes, bgp, diverted,
              carried: list[str]) -> tuple[Status, str | None]:
    if link is None:
        return "proved", None
    pending: set[int] = set()
    for index, site in enumerate(link.sites()):
        facts = sides.get((link.id, index), [])
        carried += [name for name, _ in facts]
        if not facts:
            return "broken", f"no rendered resource carries side {index} ({site}) of {link.kind} link {link.id}"
        if link.kind == "vpn":
            # a tunnel counts when a resource carries it and routes over it: static routes, or what it learns
            # over a BGP session that comes up (both sides agree on each other's ASN and inside address)
            sessions = bgp.get(link.id, {})
            static = {t for _, f in facts if f.static_routes for t in f.tunnels}
            learned = {t for _, f in facts if f.routes_learned for t in f.tunnels} - static
            up = {t for t in learned if sessions.get(t, ("broken",))[0] == "proved"}
            pending |= {t for t in learned if sessions.get(t, ("broken",))[0] == "unverified"}
            missing = {t.index for t in link.tunnels} - static - up - pending
            if missing:
                down = "; ".join(why for t in sorted(missing & learned) if (why := sessions.get(t, (None, None))[1]))
                return "broken", (f"tunnel(s) {sorted(missing)} of {link.id} are not rendered, or route nothing, at {site}"
                                  + (f" (BGP session down: {down})" if down else ""))
    for here, there in ((src, dst), (dst, src)):
        side, other = link.side_of(here.key), 1 - link.side_of(here.key)
        mine = sides[(link.id, side)]
        # the provider says which prefixes its side routes into the link (every route table of the site,
        # not just one); the routes themselves are listed as what carries the flow
        static = {p for _, f in mine for p in f.static_routes}
        carried += [name for name, r in routes.get((here.cloud, here.region), [])
                    if r.via == "link" and r.link == link.id and holds(r.destination, there.cidr)]
        learned = set()
        if any(f.routes_learned for _, f in mine):
            learned = {p for _, f in sides[(link.id, other)] for p in f.advertises}
        if not any(holds(p, there.cidr) for p in static | learned):
            return "broken", f"{here} has no route to {there.cidr} over {link.id}"
        key = (here.cloud, here.region, link.id, there.cidr)
        if key not in diverted:  # once per site, link and block: many flows ask the same
            diverted[key] = _diverted(routes.get((here.cloud, here.region), []), link.id, there.cidr, learned)
        if diverted[key] is not None:
            name, r = diverted[key]
            return "broken", (f"{name} at {here} sends {r.destination} ({there.cidr} is {link.id}'s) to {r.via or 'a target'}"
                              f", and it wins over the route into the link")
    if pending:
        whys = sorted({why for t in pending if (why := bgp[link.id][t][1])})
        return "unverified", "; ".join(whys)
    return "proved", None


def _answers(route, src: Site, dst: Site, link: Link, networks, databases, services, carried: list[str]):
    """A database behind a service peering (Cloud SQL) at either end of a VPN path answers the far side only
    if the peering passes on the routes its network learns over the link: (status, reason), or None."""
    for end, site, far in ((route.target, dst, src), (route.source, src, dst)):
        peerings = [(name, f) for name, f in services.get((networks.get(end), site.cloud), ())
                    if "database" in f.holds]
        if not peerings or end not in databases:
            continue
        carried += [name for name, f in peerings if f.exports_learned is True]
        if any(f.exports_learned is True for _, f in peerings):
            continue
        if any(f.exports_learned is UNKNOWN for _, f in peerings):
            return "unverified", f"whether {end}'s service peering passes on the routes it learns is known at deploy time"
        name = peerings[0][0]
        return "broken", (f"{end} sits behind {name}, which does not pass on the routes {site} learns over "
                          f"{link.id}: it never answers {far.cidr}")
    return None


def _diverted(here_routes, link_id: str, cidr: str, learned: set[str]):
    """A route of a table at the site that takes some of ``cidr`` elsewhere than the link and wins over the
    table's routes into it: it is more specific (the longest prefix wins), or as specific as a route the
    site only learned (a static route beats a propagated one of the same length). (name, facts), or None."""
    into: dict[object, list[str]] = defaultdict(list)
    for _, r in here_routes:
        if r.via == "link" and r.link == link_id and isinstance(r.destination, str):
            into[r.table].append(r.destination)
    block = _network(cidr)
    for name, r in here_routes:
        # a route to the site's own VPN gateway still leaves over its VPN links
        if (r.via == "link" and r.link == link_id) or r.via == "vpn-gateway" or not isinstance(r.destination, str):
            continue
        taken = _network(r.destination)
        if block is None or taken is None or taken.version != block.version or not taken.overlaps(block):
            continue
        part = taken if taken.subnet_of(block) else block  # type: ignore[arg-type]
        static = max((n.prefixlen for p in into[r.table] if (n := _network(p)) and part.subnet_of(n)), default=-1)
        heard = max((n.prefixlen for p in learned if (n := _network(p)) and part.subnet_of(n)), default=-1)
        # a table with no way into the link for the block is another site's (two VPCs of one region share the
        # routes' index); one of this site's missing its route is caught already (``static_routes``)
        if (static >= 0 or heard >= 0) and static < taken.prefixlen and heard <= taken.prefixlen:
            return name, r
    return None


@lru_cache(maxsize=4096)
def _network(cidr: str):
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


def _here(res: RenderedResource, site: Site, global_clouds: frozenset[str]) -> bool:
    return res.cloud in global_clouds or res.region in (None, site.region)


def _exposure(stack: Stack, firewalls: Iterable[tuple[RenderedResource, FirewallFacts]]) -> tuple[Exposure, ...]:
    out = []
    for res, facts in firewalls:
        ports = tuple(sorted({p for rule in facts.rules if rule.admits and rule.from_world for p in rule.ports}))
        if not ports:
            continue
        spec = stack.resources.get(res.source) if res.source else None
        asked = [(rule.protocol, rule.port, rule.last_port) for rule in getattr(spec, "ingress", [])
                 if isinstance(spec, (Compute, Database)) and rule.is_world_open]
        if facts.balancer:  # a balancer's rules answer to what it serves, never to the replicas' ingress
            asked = [("tcp", p, p) for p in served_ports(spec)]
        # every exposed range must lie inside one the stack asked for, of the same protocol (an all-ports rule
        # on a resource that asked for 443 is not declared; nor is tcp on a port it asked udp for, found by
        # review); a rule of every protocol is declared by nothing
        exposed = {(rule.protocol, lo, hi) for rule in facts.rules if rule.admits and rule.from_world
                   for lo, hi in rule.ports}
        declared = all(any(proto == ap and a <= lo and hi <= b for ap, a, b in asked)
                       for proto, lo, hi in exposed) if asked else False
        out.append(Exposure(resource=res.name, source=res.source, ports=ports, declared=declared))
    return tuple(sorted(out, key=lambda e: e.resource))


def _services(stack: Stack, rendered: Sequence[RenderedResource],
              firewalls: Sequence[tuple[RenderedResource, FirewallFacts]],
              global_clouds: frozenset[str], listeners=None) -> tuple[ServiceProof, ...]:
    """Per location hosting replicas of a served resource: a balancer there; its firewall admits the internet
    on the listener ports (a balancer with no firewall of its own -- GCP's proxies -- is reached on exactly
    the ports its listeners name; one with neither is unverified on that hop);
    a rule of the replicas admits the backend port from the balancer (``BALANCER_PEER``) or from the site's
    addresses (balancers that proxy from the network); and -- when the resource asks for no public address
    of its own -- no rule of the replicas admits the internet."""
    out = []
    for name, spec in sorted(stack.resources.items()):
        serve = getattr(spec, "serve", None)
        if serve is None:
            continue
        where = sorted({(r.cloud, r.region or "") for r in rendered
                        if r.source == name and r.role in (Role.INSTANCE_GROUP, Role.INSTANCE)})
        for cloud, region in where:
            here = [(res, f) for res, f in firewalls if res.source == name and res.cloud == cloud
                    and (res.cloud in global_clouds or res.region in (None, region))]
            lbs = [r.name for r in rendered if r.source == name and r.role == Role.BALANCER
                   and r.cloud == cloud and r.region == region]
            heard = (listeners or {}).get((name, cloud, region), [])
            status, reason, carried = _service_path(spec, serve, here, lbs, heard)
            out.append(ServiceProof(resource=name, cloud=cloud, region=region, status=status, reason=reason,
                                    carried_by=tuple(sorted(set(carried)))))
    return tuple(out)


def _service_path(spec, serve, here, lbs: list[str], heard=()) -> tuple[Status, str | None, list[str]]:
    from cloudorch.rendering.facts import BALANCER_PEER
    from cloudorch.rendering.service import serve_only

    if len(lbs) != 1:
        return "broken", f"{len(lbs)} balancers where one belongs", lbs
    carried = list(lbs)
    front = [(res, rule) for res, f in here if f.balancer for rule in f.rules if rule.admits and rule.from_world]
    status: Status = "proved"
    reason = None
    for port in served_ports(spec):
        hits = [res.name for res, rule in front if rule.covers(port)]
        if not hits and any(f.balancer for _, f in here):
            return "broken", f"the balancer's firewall does not admit the internet on {port}", carried
        if not hits and heard:
            hits = [name for name, listening in heard if listening == port]
            if not hits:
                return "broken", f"no listener of the balancer listens on {port}", carried
        if not hits:
            status, reason = "unverified", "the balancer has no firewall of its own"
        carried += hits
    backend = [res.name for res, f in here if not f.balancer for rule in f.rules
               if rule.admits and rule.covers(serve.backend_port) and rule.carries("tcp")
               and any(p == BALANCER_PEER or (isinstance(p, str) and _private(p)) for p in rule.peers)]
    if not backend:
        return "broken", f"no rule of the replicas admits the balancer on {serve.backend_port}", carried
    carried += backend
    if serve_only(spec):
        open_ = sorted(res.name for res, f in here if not f.balancer
                       for rule in f.rules if rule.admits and rule.from_world)
        if open_:
            return "broken", f"the replicas admit the internet directly ({', '.join(open_)})", carried
    return status, reason, carried


def _private(cidr: str) -> bool:
    from cloudorch.spec.models import in_private_space

    try:
        return in_private_space(cidr)
    except ValueError:
        return False
