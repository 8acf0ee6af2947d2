"""What the network must cost at least, whatever the placement: the part of a lower bound that needs no
search of its own.

What each replica pays wherever the others run -- its egress and NAT, and every GB it sends at the price
of the nearest path its target could take -- is linear in the placement: ``per_replica_terms`` hands it to
the machines' exact solve (the same constraints), whose optimum then bounds machines and that part
together. ``network_floor`` bounds the rest from each resource's spread rules alone: the sites, a link,
and what the spread rules force a flow's GBs to pay above that price (replicas that must sit outside
their partner's region or cloud). Both hold for every placement, so their sum bounds the whole bill (the minimum
of a sum is at least the sum of the minima). It is much weaker than a proof and much cheaper than the
model's LP relaxation on a large stack -- minutes there (benchmarks/README.md) -- and it counts what that
relaxation misses most: traffic the spread rules force across regions and clouds (a relaxation may split
a single replica over every location its partners use).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from cloudorch.placement.bill import path_kind
from cloudorch.placement.problem import Demand, NetworkTerms, Problem, apart_group, spread_group

CLOUDS_AT_MOST = 3  # aws, azure, gcp: how many clouds any resource can use


def network_floor(problem: Problem) -> float:
    """USD a month that every placement of ``problem`` pays for its network at least beyond what
    ``per_replica_terms`` prices (the bound adds the optimum of the machines with that part; 0 without a
    network): sites, balancers, links, and what the spread rules force a flow's GBs to pay above the price
    of their nearest path."""
    net = problem.network
    if net is None or problem.objective == "availability":
        return 0.0
    demands = {d.name: d for d in problem.demands}
    usd = _sites_floor(problem, demands) + _balancers_floor(problem, demands)
    flows = _member_flows(problem, demands)
    for f in flows:
        source, target = demands[f.source], demands[f.target]
        away, across = _forced_replicas(problem, source, target)
        if f.gb_month <= 0 or away == 0:
            continue
        nearest = _nearest_prices(problem, source, target)
        # never below nothing: where the target cannot be near, the nearest price is already the farther one
        above = {kind: min(max(0.0, net.per_gb.get((*loc, kind), 0.0) - usd_gb) for loc, usd_gb in nearest.items())
                 for kind in ("same-cloud", "cross-cloud")}
        usd += f.gb_month / source.count * ((away - across) * above["same-cloud"] + across * above["cross-cloud"])
    return usd + _link_floor(problem, demands, flows)


def per_replica_terms(problem: Problem) -> NetworkTerms:
    """The part of the network each replica pays wherever every other resource runs: its egress and NAT
    (``_replica_extra``: a capped NAT's per-VM price left out where its site may pass the cap), and every GB
    it sends at its location's price for the nearest path its target could take (its own region, unless the target has no option there or an apart rule keeps the two apart: prices rise with
    distance, ``bill._monotone``). It is linear in the placement, so the machines' exact solve carries
    it, under every quota and spread rule: the optimum of machines plus this part bounds them together far
    better than the two minima apart (a flow's GBs from AWS pay $0.01 even beside their target, from Azure
    nothing), and its placement starts local search where the network pulls."""
    net = problem.network
    assert net is not None
    demands = {d.name: d for d in problem.demands}
    extra = {d.name: _replica_extra(problem, d) for d in problem.demands if d.name in net.replica_extra}
    for f in _member_flows(problem, demands):
        if f.gb_month <= 0:
            continue
        source = demands[f.source]
        mine = extra.setdefault(f.source, {})
        for loc, usd in _nearest_prices(problem, source, demands[f.target]).items():
            mine[loc] = mine.get(loc, 0.0) + f.gb_month / source.count * usd
    return replace(net, member_of={}, flows=(), site={}, vpn_site={}, vpn_link_side={}, vpn_tunnel={},
                   tunnel_allowance={}, location_fixed={}, replica_extra=extra, replica_egress={}, replica_serving={},
                   stack_fixed={}, nat_capped={}, nat_members={})


def _nearest_prices(problem: Problem, source: Demand, target: Demand) -> dict[tuple[str, str], float]:
    """Per location ``source`` may use, the least a GB it sends to ``target`` from there costs: the bill's
    nearest path (``bill.path_kind``) to the places ``target``'s options allow, less the source's own region
    where an apart rule keeps the two apart."""
    net = problem.network
    apart = ((target.name in source.apart and problem.enabled(apart_group(source.name, target.name)))
             or (source.name in target.apart and problem.enabled(apart_group(target.name, source.name))))
    at = {o.location for o in target.options}
    clouds = Counter(cloud for cloud, _ in at)
    out = {}
    for loc in {o.location for o in source.options}:
        near, near_clouds = at, clouds.keys()
        if apart and loc in at:
            near, near_clouds = at - {loc}, clouds.keys() if clouds[loc[0]] > 1 else clouds.keys() - {loc[0]}
        out[loc] = net.per_gb.get((*loc, path_kind(loc, near, near_clouds)), 0.0)
    return out


def _caps(problem: Problem, d: Demand) -> tuple[int, int, int]:
    """Most replicas per region and per cloud, and fewest clouds, the demand's active spread rules allow."""
    active = problem.active(d)
    per_region = d.max_per_region if spread_group(d.name, "max_per_region") in active else d.count
    per_cloud = d.max_per_cloud if spread_group(d.name, "max_per_cloud") in active else d.count
    min_clouds = d.min_clouds if spread_group(d.name, "min_clouds") in active else 1
    return per_region, per_cloud, min_clouds


def _forced_replicas(problem: Problem, source: Demand, target: Demand) -> tuple[int, int]:
    """Of ``source``'s replicas, how many must sit outside every region of ``target``, and how many outside
    every cloud of it. ``target`` can hold at most ``count`` regions and clouds; beside each, ``source`` can
    put at most its per-region / per-cloud cap; and every region ``source`` must use beyond those holds
    one of its replicas at least."""
    per_region, per_cloud, min_clouds = _caps(problem, source)
    target_regions = target.count
    target_clouds = min(target.count, CLOUDS_AT_MOST, len({o.cloud for o in target.options}))
    away = max(0, source.count - target_regions * per_region, _least_regions(problem, source) - target_regions)
    across = max(0, source.count - target_clouds * per_cloud, min_clouds - target_clouds)
    return max(away, across), across


def _sites_floor(problem: Problem, demands: dict[str, Demand]) -> float:
    """Each network has a site in every region one member must use at least: its min_regions, or as many as
    its per-region cap makes it spread over; each costs at least the cheapest site."""
    net = problem.network
    cheapest_site = min(net.site.values(), default=0.0)
    regions_needed: dict[str, int] = {}
    for name, network in net.member_of.items():
        d = demands.get(name)
        if d is None:
            continue
        regions_needed[network] = max(regions_needed.get(network, 1), _least_regions(problem, d))
    return cheapest_site * sum(regions_needed.values())


def _balancers_floor(problem: Problem, demands: dict[str, Demand]) -> float:
    """A served resource pays its location's fixed cost in every region it must use, each at least its
    cheapest cloud's."""
    usd = 0.0
    for name, fixed in problem.network.location_fixed.items():
        d = demands.get(name)
        if d is not None:
            usd += _least_regions(problem, d) * min(fixed.get(o.cloud, 0.0) for o in d.options)
    return usd


def _least_regions(problem: Problem, d: Demand) -> int:
    """How many regions the demand's active spread rules make it use at least."""
    per_region, _, min_clouds = _caps(problem, d)
    least = max(-(-d.count // max(1, per_region)), min_clouds)  # every cloud is a region of its own
    if spread_group(d.name, "min_regions") in problem.active(d):
        least = max(least, d.min_regions)
    return least


def coupled_floor(problem: Problem) -> float:
    """A lower bound on the whole bill that also counts what the LP relaxation counts best: two resources
    joined by a flow whose machines are cheapest in different places pay either a dearer machine or the
    traffic between them.

    Each resource's premium over its cheapest replica (egress and NAT included) is split evenly over its
    flows; each flow then takes, on its own, the cheapest placement of its two ends for its share of their
    premiums plus its traffic -- every replica placed freely, so no rule can make it cheaper. The sum of
    those minima, the resources' cheapest replicas, and the sites and link the spread rules force (as in
    ``network_floor``) bounds every placement: the bill is exactly that split, each part at least its
    minimum."""
    net = problem.network
    if net is None or problem.objective == "availability":
        return 0.0
    demands = {d.name: d for d in problem.demands}
    flows = _member_flows(problem, demands)
    degree: dict[str, int] = {}
    for f in flows:
        degree[f.source] = degree.get(f.source, 0) + 1
        degree[f.target] = degree.get(f.target, 0) + 1
    unit = {d.name: _cheapest_replica(problem, d) for d in problem.demands}
    usd = sum(d.count * min(unit[d.name].values()) for d in problem.demands)
    usd += _sites_floor(problem, demands) + _balancers_floor(problem, demands) + _link_floor(problem, demands, flows)
    for f in flows:
        usd += _flow_minimum(problem, f, demands, unit, degree)
    return usd


def _member_flows(problem: Problem, demands: dict[str, Demand]) -> list:
    """The flows between two placed members of stack networks: the ones sites, links and traffic price."""
    net = problem.network
    return [f for f in net.flows if f.source in demands and f.target in demands
            and f.source in net.member_of and f.target in net.member_of]


def _cheapest_replica(problem: Problem, d: Demand) -> dict[tuple[str, str], float]:
    """Per location, the demand's cheapest replica there: machine and its egress and NAT (``_replica_extra``)."""
    extra = _replica_extra(problem, d)
    out: dict[tuple[str, str], float] = {}
    for o in d.options:
        usd = problem.replica_cost(o, 0) + extra.get(o.location, 0.0)
        if usd < out.get(o.location, float("inf")):
            out[o.location] = usd
    return out


def _replica_extra(problem: Problem, d: Demand) -> dict[tuple[str, str], float]:
    """What a replica of ``d`` pays of the network wherever it runs (``NetworkTerms.replica_extra``), less a
    capped NAT's per-VM price where its network's NAT-using members could put more VMs in one site than the
    cap: past it a VM costs its NAT nothing, and the rebate is not linear. What is left is linear in the
    placement and below every bill, so an optimum over it stays a bound."""
    net = problem.network
    extra = dict(net.replica_extra.get(d.name, {}))
    network = net.nat_members.get(d.name)
    if network is None or not net.nat_capped:
        return extra
    key = ("nat-vms", network)
    if key not in problem.memo:
        problem.memo[key] = sum(x.count for x in problem.demands if net.nat_members.get(x.name) == network)
    for loc in extra:
        nat = net.nat_capped.get(loc[0])
        if nat is not None and problem.memo[key] > nat.up_to:
            extra[loc] -= nat.per_vm
    return extra


def _flow_minimum(problem: Problem, f, demands: dict[str, Demand], unit, degree) -> float:
    """The least a flow's share of its ends' premiums plus its traffic can be. The target is one replica in
    one location only when it has one replica; otherwise it may have one beside every source replica."""
    net = problem.network
    source, target = demands[f.source], demands[f.target]
    src_unit, dst_unit = unit[f.source], unit[f.target]
    src_min, dst_min = min(src_unit.values()), min(dst_unit.values())
    share = f.gb_month / source.count

    def replica(loc, kind):  # one source replica at loc: its premium share and its GBs' price
        return (src_unit[loc] - src_min) / degree[f.source] + share * net.per_gb.get((*loc, kind), 0.0)

    if target.count > 1:
        return source.count * min(replica(loc, "same-region") for loc in src_unit)
    same_cloud: dict[str, float] = {}
    elsewhere: dict[str, float] = {}
    for loc in src_unit:
        cost = replica(loc, "same-cloud")
        same_cloud[loc[0]] = min(same_cloud.get(loc[0], float("inf")), cost)
    clouds = set(same_cloud) | {loc[0] for loc in dst_unit}
    for cloud in clouds:
        elsewhere[cloud] = min((replica(loc, "cross-cloud") for loc in src_unit if loc[0] != cloud), default=float("inf"))
    best = float("inf")
    for loc, usd in dst_unit.items():
        per_replica = min(replica(loc, "same-region") if loc in src_unit else float("inf"),
                          same_cloud.get(loc[0], float("inf")), elsewhere[loc[0]])
        best = min(best, (usd - dst_min) / degree[f.target] + source.count * per_replica)
    return best


def _link_floor(problem: Problem, demands: dict[str, Demand], flows) -> float:
    """One link and its two gateways when some flow must cross clouds (``_forced_replicas``)."""
    net = problem.network
    if not any(_forced_replicas(problem, demands[f.source], demands[f.target])[1] > 0 for f in flows):
        return 0.0
    clouds = sorted({o.cloud for d in problem.demands for o in d.options})
    return min((net.link(a, b) + net.vpn_site.get(a, 0.0) + net.vpn_site.get(b, 0.0)
                for i, a in enumerate(clouds) for b in clouds[i + 1:]), default=0.0)
