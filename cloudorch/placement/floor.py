"""What the network must cost at least, whatever the placement: the part of a lower bound that needs no solve.

The machines' optimum (the same constraints, the network left out) bounds the machines; this bounds the
network, from each resource's spread rules alone (and each replica's egress and NAT where they are
cheapest). Both hold for every placement, so their sum bounds the
whole bill (the minimum of a sum is at least the sum of the minima). It is much weaker than a proof and
much cheaper than the model's LP relaxation on a large stack -- minutes there (benchmarks/README.md) --
and it counts exactly what the LP relaxation misses most: traffic the spread rules force across regions and
clouds (a relaxation may split a single replica over every location its partners use).
"""

from __future__ import annotations

from cloudorch.placement.problem import Demand, Problem, spread_group

CLOUDS_AT_MOST = 3  # aws, azure, gcp: how many clouds any resource can use


def network_floor(problem: Problem) -> float:
    """USD a month that every placement of ``problem`` pays for its network at least (0 without one)."""
    net = problem.network
    if net is None or problem.objective == "availability":
        return 0.0
    demands = {d.name: d for d in problem.demands}
    usd = _sites_floor(problem, demands)
    for d in problem.demands:  # each replica's internet egress and NAT, where they are cheapest
        extra = net.replica_extra.get(d.name, {})
        if extra:
            usd += d.count * min(extra.get(o.location, 0.0) for o in d.options)
    forced_link = False
    for f in net.flows:
        source, target = demands.get(f.source), demands.get(f.target)
        if source is None or target is None or f.source not in net.member_of or f.target not in net.member_of:
            continue
        away, across = _forced_replicas(problem, source, target)
        forced_link |= across > 0
        if f.gb_month <= 0 or away == 0:
            continue
        rate = {kind: min(net.per_gb.get((*o.location, kind), 0.0) for o in source.options)
                for kind in ("same-region", "same-cloud", "cross-cloud")}
        stay = source.count - away
        usd += f.gb_month / source.count * (stay * rate["same-region"] + (away - across) * rate["same-cloud"]
                                           + across * rate["cross-cloud"])
    if forced_link:
        # one link at least, and a gateway at each of its ends
        clouds = sorted({o.cloud for d in problem.demands for o in d.options})
        cheapest_pair = min((net.link(a, b) + net.vpn_site.get(a, 0.0) + net.vpn_site.get(b, 0.0)
                             for i, a in enumerate(clouds) for b in clouds[i + 1:]), default=0.0)
        usd += cheapest_pair
    return usd


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
    put at most its per-region / per-cloud cap."""
    per_region, per_cloud, min_clouds = _caps(problem, source)
    target_regions = target.count
    target_clouds = min(target.count, CLOUDS_AT_MOST, len({o.cloud for o in target.options}))
    away = max(0, source.count - target_regions * per_region)
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
        per_region, _, _ = _caps(problem, d)
        least = -(-d.count // max(1, per_region))
        if spread_group(d.name, "min_regions") in problem.active(d):
            least = max(least, d.min_regions)
        regions_needed[network] = max(regions_needed.get(network, 1), least)
    return cheapest_site * sum(regions_needed.values())
