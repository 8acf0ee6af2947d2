"""Exact reductions of the placement MILP: the columns no optimal placement needs.

Each rule drops an option (or a whole region) only when another dominates it (``dominance``): it can take
every replica the dropped one could hold without breaking any constraint or raising the objective, so the
optimum is unchanged. They are what makes a 1,000-resource stack over a 100,000-offering catalog a model
HiGHS solves in seconds.
"""

from __future__ import annotations

from collections import defaultdict

from cloudorch.placement.dominance import Merit, dominates, undominated
from cloudorch.placement.model import HOURS_PER_MONTH
from cloudorch.placement.problem import Demand, Option, Problem, apart_group, near_group, spread_group


def useful_options(d: Demand, problem: Problem, linked: bool = False) -> list[Option]:
    """The options of ``d`` that some optimal placement may use, in ``Option.sort_key`` order.

    Option ``o`` is useless when another option dominates it in the same place as far as the demand's
    constraints can tell. "The same place" is the region when a region-level constraint (min_regions,
    max_per_region, near, apart) involves the demand, the cloud for cloud-level ones (min_clouds,
    max_per_cloud), and anywhere otherwise -- so an unconstrained resource keeps only its cheapest offerings
    across every region instead of the cheapest of each region: the main reason a 1,000-resource stack
    solves in seconds. Remembered on the demand, per the conditions that decide it.
    """
    quota_keys = problem.active_quotas() if d.counts_against_quota else ()
    place = _place(d, problem.active(d), linked)
    extra = problem.network.replica_extra.get(d.name) if problem.network is not None else None
    if extra and place != "location" and problem.objective != "cost" \
            and len({extra.get(o.location, 0.0) for o in d.options}) > 1:
        # a replica's egress and NAT differ by location, and only the cost objective adds them to a price
        # as is (the others weigh the machine's price by availability): compare options where they are equal
        place = "location"
    # under the cost objective options in different places compare by machine and network part together
    priced = tuple(sorted(extra.items())) if extra and problem.objective == "cost" and place != "location" else None
    key = ("useful", place, quota_keys, priced)
    if key not in d.memo:
        # resources with the same requirements share one option set (a 1,000-resource stack has ~47):
        # within a problem, each set is pruned once per place, quotas and prices
        shared = ("useful", id(d.options), place, quota_keys, priced)
        if shared not in problem.memo:
            problem.memo[shared] = _undominated(d.options, problem, place, quota_keys, dict(priced or ()))
        d.memo[key] = problem.memo[shared]
    return d.memo[key]


def _place(d: Demand, active: frozenset[str], linked: bool) -> str:
    """Where two options must be for one to take the other's replicas, as far as ``d``'s rules can tell."""
    region_level = (spread_group(d.name, "min_regions"), spread_group(d.name, "max_per_region"), near_group(d.name),
                    *(apart_group(d.name, t) for t in d.apart))
    cloud_level = (spread_group(d.name, "min_clouds"), spread_group(d.name, "max_per_cloud"))
    if linked or not active.isdisjoint(region_level):
        return "location"
    return "cloud" if not active.isdisjoint(cloud_level) else "anywhere"


def _undominated(options: tuple[Option, ...], problem: Problem, place: str, quota_keys: tuple[str, ...],
                 extra: dict[tuple[str, str], float]) -> list[Option]:
    masks = problem.quota_masks(quota_keys)
    where = {"location": lambda o: o.location, "cloud": lambda o: o.cloud, "anywhere": lambda o: None}[place]
    if extra:
        return undominated(options, where, lambda o: masks[o.location],
                           price=lambda o: o.hourly_usd + extra.get(o.location, 0.0) / HOURS_PER_MONTH)
    return undominated(options, where, lambda o: masks[o.location])


def dominated_regions(problem: Problem, linked: set[str]) -> dict[str, set[tuple[str, str]]]:
    """Regions that no optimal placement needs, per demand, for demands whose region matters.

    Take a group of demands tied by near / apart, N replicas in all. Region h dominates region g (same
    cloud) when, for every demand of the group, each option in g is dominated by an option in h. A placement
    uses at most N regions, so if N regions dominate g, one of them is unused by the whole group whenever g
    is used, and moving everything from g there keeps every spread, near and apart constraint (one region
    swapped for another of the same cloud), no quota fills up more and the objective does not rise. Such
    regions are dropped: exact, and for a 1,000-resource stack over ~90 regions it removes most of the
    region-linked columns.
    """
    import numpy as np

    ties = problem.ties()
    groups: dict[str, list[Demand]] = defaultdict(list)
    for d in problem.demands:
        if d.name in linked or d.near or d.apart or d.min_regions > 1 or d.max_per_region is not None:
            groups[ties.find(d.name)].append(d)
    keys = problem.active_quotas()
    out: dict[str, set[tuple[str, str]]] = {}
    for group in groups.values():
        total = sum(d.count for d in group)
        per_demand = []
        locations = sorted({o.location for d in group for o in useful_options(d, problem, d.name in linked)})
        if len(locations) <= total:
            continue
        at = {g: i for i, g in enumerate(locations)}
        dominated = np.ones((len(locations), len(locations)), dtype=bool)
        for d in group:
            opts = useful_options(d, problem, d.name in linked)
            if not opts:
                continue
            opts = sorted(opts, key=lambda o: at[o.location])
            region = np.array([at[o.location] for o in opts])
            masks = problem.quota_masks(keys if d.counts_against_quota else ())
            column = Merit(np.array([o.hourly_usd for o in opts]), np.array([o.availability for o in opts]),
                           np.array([o.vcpus for o in opts]), np.array([masks[o.location] for o in opts], dtype=np.int64))
            # dom[o, f]: option f can take the place of option o
            dom = dominates(Merit(*(a[None, :] for a in column)), Merit(*(a[:, None] for a in column)))
            starts = np.flatnonzero(np.r_[True, region[1:] != region[:-1]])
            present = region[starts]
            by_region = np.zeros((len(opts), len(locations)), dtype=bool)
            by_region[:, present] = np.logical_or.reduceat(dom, starts, axis=1)
            mine = np.ones((len(locations), len(locations)), dtype=bool)  # vacuous where d has no option
            mine[present, :] = np.logical_and.reduceat(by_region, starts, axis=0)
            dominated &= mine
            per_demand.append(d)
        clouds = np.array([c for c, _ in locations])
        same_cloud = clouds[:, None] == clouds[None, :]
        if problem.network is not None or problem.block_limits:
            # two regions are interchangeable for the network's terms only when they price them alike, and for
            # its blocks only when both hold one or neither does
            net = problem.network
            signature = [(tuple(net.per_gb.get((*loc, k), 0.0) for k in ("same-region", "same-cloud", "cross-cloud"))
                          + tuple(net.replica_extra.get(d.name, {}).get(loc, 0.0) for d in group) if net is not None else ())
                         + tuple(loc in limit.left.reserved for limit in problem.block_limits) for loc in locations]
            codes = {sig: i for i, sig in enumerate(sorted(set(signature)))}
            sig = np.array([codes[x] for x in signature])
            same_cloud &= sig[:, None] == sig[None, :]
        index = np.arange(len(locations))
        # strict: of two regions dominating each other, only the later one (by name) counts as dominated
        strict = dominated & same_cloud & (~dominated.T | (index[None, :] < index[:, None]))
        np.fill_diagonal(strict, False)
        drop = {locations[i] for i in np.flatnonzero(strict.sum(axis=1) >= total)}
        if drop:
            for d in per_demand:
                out[d.name] = drop
    return out
