"""The network's part of the bill: the terms the model optimises (``NetworkTerms``) and, for a placement,
what they come to (``network_cost``), line by line, with the same prices and the same rules, so the
placement's total is exactly the objective the optimiser minimised (up to its tie-break)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from cloudorch.graph import flows_of
from cloudorch.placement.model import NetworkCost, NetworkCostLine, PlacementResult, cents
from cloudorch.placement.problem import Demand, FlowTerm, NetworkTerms, Option
from cloudorch.placement.rates import PATH_KINDS, NetworkRates
from cloudorch.spec.models import Compute, Database, Stack

Site = tuple[str, str, str]  # network, cloud, region


def public_facing(spec: Compute | Database) -> bool:
    """Has a public address (an ingress from the internet or a public CIDR): its egress skips the NAT."""
    return any(rule.from_outside_private_space for rule in spec.ingress)


def through_nat(spec: Compute | Database) -> bool:
    """Whether what a resource sends to the internet passes its site's NAT gateway (and pays its processing):
    not with a public address of its own, and not when it is served -- its replicas answer their balancers,
    which send the responses out themselves."""
    return not public_facing(spec) and getattr(spec, "serve", None) is None


def network_terms(stack: Stack, demands: tuple[Demand, ...], rates: NetworkRates,
                  global_clouds: frozenset[str] = frozenset()) -> NetworkTerms:
    placed = {d.name: d for d in demands}
    served_by_nat = nat_members(stack, placed)
    member_of = {name: spec.network for name, spec in sorted(stack.resources.items())
                 if isinstance(spec, (Compute, Database)) and name in placed}
    flows = tuple(FlowTerm(f.source, f.target, f.gb_month) for f in flows_of(stack)
                  if f.source in placed and f.target in placed)
    extra: dict[str, dict[tuple[str, str], float]] = {}
    egress: dict[str, dict[tuple[str, str], float]] = {}
    serving_gb: dict[str, dict[tuple[str, str], float]] = {}
    fixed: dict[str, dict[str, float]] = {}
    for name, d in placed.items():
        spec = stack.resources[name]
        for loc in sorted({o.location for o in d.options}):
            usd = 0.0
            if spec.egress_gb_month:
                rate = rates.internet_gb.get(loc, 0.0)
                if through_nat(spec):
                    rate += rates.nat_gb.get(loc[0], 0.0)
                usd = spec.egress_gb_month / d.count * rate
                egress.setdefault(name, {})[loc] = usd
            if isinstance(spec, Compute):
                if loc[0] in rates.nat_per_vm and name in served_by_nat:
                    usd += rates.nat_per_vm[loc[0]].per_vm
                traffic = _serving_per_replica(stack, spec, d.count, rates.serving.get(loc[0], {}))
                if traffic:
                    serving_gb.setdefault(name, {})[loc] = traffic
                    usd += traffic
            if usd:
                extra.setdefault(name, {})[loc] = usd
        if isinstance(spec, Compute) and spec.serve is not None:
            fixed[name] = {c: _serving_fixed(stack, spec, c, rates.serving) for c in sorted({o.cloud for o in d.options})}
    zone = {}
    names = {stack.resources[n].serve.name for n in fixed} - {None}
    if stack.dns and names:
        at = rates.serving.get(stack.dns.provider, {})
        zone = {stack.dns.provider: at.get("zone", 0.0) + len(names) * at.get("name", 0.0)}
    return NetworkTerms(member_of=member_of, flows=flows, site=dict(rates.site), vpn_site=dict(rates.vpn_site),
                        vpn_link_side=dict(rates.vpn_link_side), vpn_tunnel=dict(rates.vpn_tunnel),
                        vpn_interfaces=dict(rates.vpn_interfaces), per_gb=_monotone(rates.per_gb), replica_extra=extra,
                        vpn_links={cloud: limit.links for cloud, limit in rates.vpn_gateways.items()},
                        replica_egress=egress, location_fixed=fixed,
                        replica_egress_gb={n: stack.resources[n].egress_gb_month / d.count for n, d in placed.items()
                                           if stack.resources[n].egress_gb_month}, replica_serving=serving_gb, stack_fixed=zone,
                        global_clouds=global_clouds, cross_cloud_forbidden=stack.placement.cross_cloud == "forbid",
                        nat_capped={c: nat for c, nat in sorted(rates.nat_per_vm.items()) if nat.capped},
                        nat_members=served_by_nat, tunnel_allowance=dict(rates.tunnel_allowance))


def nat_members(stack: Stack, names) -> dict[str, str]:
    """Resource -> its network, for those whose replicas are VMs their site's NAT serves: compute without a
    public address (one with an address reaches out through it, and GCP counts only VMs the NAT serves)."""
    return {name: spec.network for name, spec in sorted(stack.resources.items())
            if name in names and isinstance(spec, Compute) and not public_facing(spec)}


def _layer(spec: Compute) -> str:
    return "network" if spec.serve is not None and spec.serve.protocol == "tcp" else "application"


def _serving_fixed(stack: Stack, spec: Compute, cloud: str, serving: Mapping[str, Mapping[str, float]]) -> float:
    """A location's balancer of ``spec`` on ``cloud``, its web firewall, and the zone's health check of it."""
    serve, own = spec.serve, serving.get(cloud, {})
    assert serve is not None
    waf = serve.waf_on(stack.policies.packs)
    usd = _part(own, _layer(spec), waf) + len(serve.listen_ports) * own.get("listener", 0.0)
    if waf:
        usd += own.get("waf", 0.0)
    if serve.name and stack.dns is not None:
        zone = serving.get(stack.dns.provider, {})
        usd += zone.get("name_check" if cloud == stack.dns.provider else "name_check_external", 0.0)
    return usd


def _part(serving: Mapping[str, float], part: str, waf: bool) -> float:
    """A balancer's charge, at its rate with a web firewall (``<part>_waf``) where its cloud has one."""
    return serving.get(f"{part}_waf", serving.get(part, 0.0)) if waf else serving.get(part, 0.0)


def _serving_per_replica(stack: Stack, spec: Compute, count: int, serving: Mapping[str, float]) -> float:
    """A replica's share of its balancer's traffic charges: the GBs it processes and the requests its WAF
    inspects are spread over the replicas, so each location bills its replicas' share."""
    serve = spec.serve
    if serve is None:
        return 0.0
    usd = serve.gb_month / count * _part(serving, f"{_layer(spec)}_gb", serve.waf_on(stack.policies.packs))
    if serve.waf_on(stack.policies.packs):
        usd += serve.requests_million_month / count * serving.get("waf_million", 0.0)
    return usd


def _monotone(per_gb: Mapping[tuple[str, str, str], float]) -> dict[tuple[str, str, str], float]:
    """A farther path never priced below a nearer one. The model lets a GB take any path the target's
    locations allow and pays the cheapest, while a real GB takes the nearest; with prices that rise with
    distance the two agree. Published prices do; a missing one (counted as 0 and listed as unpriced) would
    not, so it is raised to the nearer path's price."""
    out = dict(per_gb)
    for cloud, region in {(c, r) for c, r, _ in per_gb}:
        floor = 0.0
        for kind in PATH_KINDS:
            key = (cloud, region, kind)
            floor = out[key] = max(out.get(key, 0.0), floor)
    return out


def path_kind(source: tuple[str, str], target, target_clouds) -> str:
    """The path a GB sent from ``source`` takes: to the target's nearest location (``target``: its locations,
    ``target_clouds``: their clouds)."""
    return PATH_KINDS[path_index(source, target, target_clouds)]


def path_index(source: tuple[str, str], target, target_clouds) -> int:
    """``path_kind``'s position in ``PATH_KINDS`` (what the ledger's per-location price tuples are read by)."""
    return 0 if source in target else 1 if source[0] in target_clouds else 2


def _vpn_links(terms: NetworkTerms, counts: Mapping[str, Mapping[tuple[str, str], int]]) -> set[tuple[Site, Site]]:
    """The VPN links a placement needs (``counts``: resource -> replicas per location): one per pair of a
    flow's ends' sites in different clouds, as (site, site) in order."""
    links = set()
    for f in terms.flows:
        src_net, dst_net = terms.member_of.get(f.source), terms.member_of.get(f.target)
        if src_net is None or dst_net is None:
            continue
        for ls in counts.get(f.source, {}):
            for lt in counts.get(f.target, {}):
                if ls[0] != lt[0]:
                    a, c = sorted(((src_net, *ls), (dst_net, *lt)))
                    links.add((a, c))
    return links


def gateway_tunnels(terms: NetworkTerms, links: Iterable[tuple[Site, Site]]) -> Counter:
    """Per site, the tunnels its VPN gateway ends: its links' together (the ledger keeps the same count)."""
    out: Counter = Counter()
    for a, c in links:
        n = terms.link_tunnels(a[1], c[1])
        out[a] += n
        out[c] += n
    return out


def _vms_per_site(members: Mapping[str, str], counts: Mapping[str, Mapping[tuple[str, str], int]]) -> dict[Site, int]:
    """Per site, the VMs its NAT serves (``members``: resource -> its network, ``nat_members``; ``counts``:
    resource -> replicas per location)."""
    out: dict[Site, int] = defaultdict(int)
    for name, net in members.items():
        for loc, n in counts.get(name, {}).items():
            out[(net, *loc)] += n
    return dict(sorted(out.items()))


def nat_vms(terms: NetworkTerms, counts: Mapping[str, Mapping[tuple[str, str], int]]) -> dict[Site, int]:
    """``_vms_per_site`` on the clouds whose NAT bills per VM with a cap (``NetworkTerms.nat_capped``); the
    ledger keeps the same count move by move."""
    return {site: n for site, n in _vms_per_site(terms.nat_members, counts).items() if site[1] in terms.nat_capped}


def nat_site_vms(stack: Stack, placement: PlacementResult) -> dict[Site, int]:
    """Per site, the VMs its NAT serves as placed: what a NAT billed per VM is billed for."""
    counts = {name: {loc: sum(s.count for s in p.slots if (s.cloud, s.region) == loc) for loc in p.locations}
              for name, p in placement.placements.items() if p.slots}
    return _vms_per_site(nat_members(stack, placement.placements), counts)


def _counts(assignment: Mapping[str, tuple[tuple[Option, int], ...]]) -> dict[str, dict[tuple[str, str], int]]:
    """Resource -> its replicas per location."""
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for name, chosen in assignment.items():
        at = counts.setdefault(name, {})
        for o, n in chosen:
            at[o.location] = at.get(o.location, 0) + n
    return counts


def beyond_limits(terms: NetworkTerms, assignment: Mapping[str, tuple[tuple[Option, int], ...]]) -> list[tuple[Site, int, int]]:
    """The sites whose gateway would carry more VPN links than its cloud lets it (``NetworkTerms.vpn_links``):
    (site, links, limit), in site order."""
    if not terms.vpn_links:
        return []
    per_site = Counter(end for link in _vpn_links(terms, _counts(assignment)) for end in link)
    return [(site, n, terms.vpn_links[site[1]]) for site, n in sorted(per_site.items())
            if site[1] in terms.vpn_links and n > terms.vpn_links[site[1]]]


def network_cost(terms: NetworkTerms, assignment: Mapping[str, tuple[tuple[Option, int], ...]],
                 rates: NetworkRates | None = None,
                 buckets: Mapping[str, tuple[tuple[str, str], float]] | None = None) -> NetworkCost:
    """What the network of a placement costs a month, by the model's own rules; what it needed but could not
    price (``rates``' unknowns, where this placement uses them) is listed as unpriced. ``buckets``: each
    bucket's location and the GB a month it sends to the internet (``bucket_egress``), placed after the rest."""
    unpriced: dict[str, str] = {}
    counts = _counts(assignment)
    lines: list[NetworkCostLine] = []
    sites = sorted({(terms.member_of[name], *loc) for name in assignment if name in terms.member_of
                    for loc in counts[name]})
    for net, cloud, region in sites:
        lines.append(NetworkCostLine(kind="site", what=f"{net}@{cloud}/{region}", cloud=cloud,
                                     monthly_usd=terms.site.get(cloud, 0.0)))
    for name, fixed in sorted(terms.location_fixed.items()):
        for loc in sorted(counts.get(name, {})):
            lines.append(NetworkCostLine(kind="balancer", what=f"{name}@{loc[0]}/{loc[1]}", cloud=loc[0],
                                         monthly_usd=fixed.get(loc[0], 0.0)))
    for cloud, usd in sorted(terms.stack_fixed.items()):
        lines.append(NetworkCostLine(kind="dns-zone", what="the stack's DNS zone", cloud=cloud, monthly_usd=usd))
    links = _vpn_links(terms, counts)
    gateways = {end for link in links for end in link}
    traffic: dict[tuple[str, str], float] = defaultdict(float)
    for f in terms.flows:
        if terms.member_of.get(f.source) is None or terms.member_of.get(f.target) is None:
            continue
        if f.gb_month > 0:
            total = sum(counts[f.source].values())
            target = counts.get(f.target, {})
            for loc, n in sorted(counts[f.source].items()):
                kind = path_kind(loc, target, {t[0] for t in target})
                usd = f.gb_month * n / total * terms.per_gb.get((*loc, kind), 0.0)
                traffic[(f"{f.source}->{f.target}", loc[0])] += usd
                if rates is not None and (*loc, kind) in rates.unknown_gb:
                    unpriced[f"{loc[0]}/{loc[1]}: {kind} traffic"] = (f"no published per-GB price for {kind} "
                                                                     f"traffic from {loc[1]}: {f.source}->{f.target}")
    tunnels = gateway_tunnels(terms, links)
    for a in sorted(gateways):
        lines.append(NetworkCostLine(kind="vpn-gateway", what=f"{a[0]}@{a[1]}/{a[2]}", cloud=a[1],
                                     monthly_usd=terms.vpn_site.get(a[1], 0.0) + terms.gateway_tunnels(a[1], tunnels[a])))
    for a, c in sorted(links):
        lines.append(NetworkCostLine(kind="vpn-link", what=f"{a[0]}@{a[1]}/{a[2]} ~ {c[0]}@{c[1]}/{c[2]}",
                                     cloud=f"{a[1]}+{c[1]}", monthly_usd=terms.link(a[1], c[1])))
    for (flow, cloud), usd in sorted(traffic.items()):
        lines.append(NetworkCostLine(kind="traffic", what=flow, cloud=cloud, monthly_usd=usd))
    capped = terms.nat_capped
    for name, chosen in sorted(assignment.items()):
        extra, egress = terms.replica_extra.get(name, {}), terms.replica_egress.get(name, {})
        serving = terms.replica_serving.get(name, {})
        by_cloud: dict[tuple[str, str], float] = defaultdict(float)
        for o, n in chosen:
            by_cloud[("egress", o.cloud)] += egress.get(o.location, 0.0) * n
            by_cloud[("balancer-traffic", o.cloud)] += serving.get(o.location, 0.0) * n
            if o.cloud not in capped:  # a capped NAT is priced per site, below
                by_cloud[("nat-per-vm", o.cloud)] += (extra.get(o.location, 0.0) - egress.get(o.location, 0.0)
                                                      - serving.get(o.location, 0.0)) * n
        for (kind, cloud), usd in sorted(by_cloud.items()):
            if usd > 1e-9:
                lines.append(NetworkCostLine(kind=kind, what=name, cloud=cloud, monthly_usd=usd))
    for (net, cloud, region), vms in sorted(nat_vms(terms, counts).items()):
        lines.append(NetworkCostLine(kind="nat-per-vm", what=f"{net}@{cloud}/{region} ({vms} VMs)", cloud=cloud,
                                     monthly_usd=capped[cloud].monthly(vms)))
    for name, (loc, gb) in sorted((buckets or {}).items()):
        if rates is not None and gb:
            lines.append(NetworkCostLine(kind="egress", what=name, cloud=loc[0],
                                         monthly_usd=gb * rates.internet_gb.get(loc, 0.0)))
    if rates is not None:
        lines += _egress_tiers(egress_volume(terms, assignment, buckets), rates)
        used = {"site": {c for _, c, _ in sites}, "vpn_site": {c for _, c, _ in gateways}}
        for part, clouds in (*used.items(), ("vpn_link_side", {c for link in links for _, c, _ in link})):
            for cloud in sorted(clouds):
                for item in rates.unknown_items.get(cloud, {}).get(part, ()):
                    unpriced[f"{cloud}: {item}"] = "no published price in the embedded price list"
    lines = [line.model_copy(update={"monthly_usd": round(line.monthly_usd, 4)}) for line in lines]
    return NetworkCost(lines=tuple(lines), monthly_usd=cents(sum(line.monthly_usd for line in lines)),
                       unpriced=dict(sorted(unpriced.items())))



def egress_volume(terms: NetworkTerms, assignment: Mapping[str, tuple[tuple[Option, int], ...]],
                  buckets: Mapping[str, tuple[tuple[str, str], float]] | None = None) -> dict[str, float]:
    """GB a month each cloud sends to the internet, which its egress tiers count on: the declared egress of
    the replicas and of the buckets only. VPN traffic bills on the same meter, but how much of it crosses
    clouds is the placement's choice, and a lower bound would have to leave room for tiers on every GB any
    flow could send across; left at the first paid tier, it is a price a little above the bill at the largest
    volumes, never below."""
    volume: dict[str, float] = defaultdict(float)
    for name, chosen in sorted(assignment.items()):
        gb = terms.replica_egress_gb.get(name, 0.0)
        for o, n in chosen:
            volume[o.cloud] += gb * n
    for _, (loc, gb) in sorted((buckets or {}).items()):
        volume[loc[0]] += gb
    return volume


def egress_tiers_off(volume: Mapping[str, float], rates: NetworkRates) -> float:
    """What the egress tiers take off ``volume`` in all, as the bill's lines say it (each to 1/100 of a cent)."""
    return sum(round(-line.monthly_usd, 4) for line in _egress_tiers(volume, rates))


def _egress_tiers(volume: Mapping[str, float], rates: NetworkRates) -> list[NetworkCostLine]:
    """What each cloud's later, cheaper egress tiers take off its month's volume, priced above at the first
    paid tier (``rates.EgressTiers``)."""
    out = []
    for cloud, gb in sorted(volume.items()):
        tiers = rates.egress.get(cloud)
        if tiers is None or gb <= 0:
            continue
        off = tiers.discount(gb)
        if off > 1e-9:
            out.append(NetworkCostLine(kind="egress-tiers", cloud=cloud, monthly_usd=-off,
                                       what=f"{gb:,.0f} GB a month of internet egress out of {cloud} at its "
                                            "published tiers, not all at the first"))
    return out


def most_taken_off(gb: float, rates: NetworkRates, clouds: Iterable[str]) -> float:
    """The most the egress tiers can take off a placement whose ``clouds`` send ``gb`` a month to the
    internet between them: the tiers' saving grows faster than the volume (each later tier is cheaper), so
    it is largest with all of it on one cloud; what a lower bound must leave room for."""
    return max((rates.egress[c].discount(gb) for c in set(clouds) if c in rates.egress), default=0.0)


def bucket_egress(stack: Stack, placements: Mapping[str, Any]) -> dict[str, tuple[tuple[str, str], float]]:
    """Each bucket that declares internet egress: its location and GB a month (``network_cost``'s buckets)."""
    return {name: ((p.cloud, p.region), stack.resources[name].egress_gb_month) for name, p in sorted(placements.items())
            if p.kind == "bucket" and p.cloud and stack.resources[name].egress_gb_month}
