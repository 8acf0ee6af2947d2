"""Why each resource went where it went: the chosen offerings, the next alternatives, every exclusion.

Everything here is read off the solution, not guessed from prices: an alternative is the chosen placement
with one slot moved to another offering, kept only if the stack's constraints still hold (spread, near,
apart, and the resources that are `near` this one); an unused region's reason says which constraint or
price kept replicas out of it.
"""

from __future__ import annotations

from collections import Counter

from cloudorch.placement.model import HOURS_PER_MONTH, Alternative, Exclusion, Explanation
from cloudorch.placement.problem import Demand, Option, Problem, Solution, apart_group, near_group, spread_group
from cloudorch.spec.models import Stack

ALTERNATIVES = 3
#: offerings tried per chosen slot when looking for alternatives (cheapest first)
SCAN = 24


def explain(stack: Stack, problem: Problem, solution: Solution,
            region_exclusions: list[Exclusion], option_exclusions: dict[str, tuple[Exclusion, ...]]) -> dict[str, Explanation]:
    locations = {name: {o.location for o, _ in chosen} for name, chosen in solution.assignment.items()}
    network_delta = _network_delta(problem, solution)
    demands = {d.name: d for d in problem.demands}
    cheapest: dict[int, dict[tuple[str, str], float]] = {}
    ranked: dict[int, list[Option]] = {}
    out = {}
    for demand in problem.demands:
        chosen = solution.assignment.get(demand.name, ())
        if id(demand.options) not in cheapest:  # shared by resources with the same requirements
            ranked[id(demand.options)] = sorted(demand.options, key=lambda o: o.sort_key)
            cheapest[id(demand.options)] = _cheapest_per_location(demand.options)
        rules = _Rules(demand, demands, locations, problem)
        out[demand.name] = Explanation(
            resource=demand.name,
            chosen=tuple(f"{n} x {o.instance_type}{' (spot)' if o.spot else ''} in {o.cloud}/{o.region}"
                         for o, n in chosen),
            alternatives=_alternatives(chosen, ranked[id(demand.options)], rules, network_delta(demand.name)),
            excluded=tuple(sorted(
                [*region_exclusions, *option_exclusions.get(demand.name, ()),
                 *_unused_regions(demand, chosen, cheapest[id(demand.options)], rules)],
                key=lambda e: (e.cloud, e.region or "", e.reason))),
        )
    return out


def _network_delta(problem: Problem, solution: Solution):
    """For a resource, what moving its replicas changes in the network's bill (sites, links, traffic): an
    alternative is priced whole, as the placement was. Cached per resulting set of locations."""
    from cloudorch.placement.bill import network_cost

    terms = problem.network
    if terms is None:
        return lambda name: None
    base = network_cost(terms, solution.assignment).monthly_usd

    def for_demand(name: str):
        cache: dict[tuple, float] = {}

        def delta(new_chosen: tuple[tuple[Option, int], ...]) -> float:
            key = tuple(sorted((o.location, n) for o, n in new_chosen))
            if key not in cache:
                changed = dict(solution.assignment) | {name: new_chosen}
                cache[key] = network_cost(terms, changed).monthly_usd - base
            return cache[key]

        return delta

    return for_demand


def _cheapest_per_location(options) -> dict[tuple[str, str], float]:
    best: dict[tuple[str, str], float] = {}
    for o in options:
        if o.hourly_usd < best.get(o.location, float("inf")):
            best[o.location] = o.hourly_usd
    return best


class _Rules:
    """The constraints one resource's placement must meet, given where everything else went."""

    def __init__(self, demand: Demand, demands: dict[str, Demand], locations, problem: Problem) -> None:
        self.demand = demand
        self.near = locations.get(demand.near, set()) if demand.near else None
        self.apart = {name: locations.get(name, set()) for name in demand.apart}
        self.apart.update({d.name: locations.get(d.name, set()) for d in problem.demands if demand.name in d.apart})
        # resources placed `near` this one need it to stay in each of their regions
        self.needed_by = {d.name: locations.get(d.name, set()) for d in problem.demands if d.near == demand.name}

    def violation(self, counts: Counter) -> str | None:
        """The constraint group these replica counts per location would break, if any."""
        d = self.demand
        regions = set(counts)
        clouds = Counter()
        for (cloud, _), n in counts.items():
            clouds[cloud] += n
        if d.max_per_region is not None and max(counts.values()) > d.max_per_region:
            return spread_group(d.name, "max_per_region")
        if d.max_per_cloud is not None and max(clouds.values()) > d.max_per_cloud:
            return spread_group(d.name, "max_per_cloud")
        if len(clouds) < d.min_clouds:
            return spread_group(d.name, "min_clouds")
        if len(regions) < d.min_regions:
            return spread_group(d.name, "min_regions")
        if self.near is not None and not regions <= self.near:
            return near_group(d.name)
        for name, theirs in self.apart.items():
            if regions & theirs:
                return apart_group(d.name, name) if name in d.apart else apart_group(name, d.name)
        for name, theirs in self.needed_by.items():
            if not theirs <= regions:
                return near_group(name)
        return None


def _alternatives(chosen, ranked: list[Option], rules: _Rules, network_delta=None) -> tuple[Alternative, ...]:
    total = sum(o.monthly_usd * n for o, n in chosen)
    chosen_keys = {(o.cloud, o.region, o.instance_type, o.spot) for o, _ in chosen}
    base = Counter()
    for o, n in chosen:
        base[o.location] += n
    found: dict[tuple, Alternative] = {}
    for slot, n in chosen:
        tried = 0
        for o in ranked:
            key = (o.cloud, o.region, o.instance_type, o.spot)
            if key in chosen_keys:
                continue
            tried += 1
            if tried > SCAN:
                break
            counts = base.copy()
            counts[slot.location] -= n
            if not counts[slot.location]:
                del counts[slot.location]
            counts[o.location] += n
            if rules.violation(counts) is not None:
                continue
            cost = total - slot.monthly_usd * n + o.monthly_usd * n
            if network_delta is not None:
                moved = tuple((p, m) for p, m in chosen if p is not slot) + ((o, n),)
                cost += network_delta(moved)  # egress and NAT per VM included: network_cost prices them
            cost = round(cost, 2)
            if key not in found or cost < found[key].monthly_usd:
                found[key] = Alternative(
                    cloud=o.cloud, region=o.region, instance_type=o.instance_type, spot=o.spot, monthly_usd=cost,
                    replaces=f"{n} x {slot.instance_type}{' (spot)' if slot.spot else ''} in {slot.cloud}/{slot.region}",
                )
    return tuple(sorted(found.values(), key=lambda a: (a.monthly_usd, a.cloud, a.region, a.instance_type))[:ALTERNATIVES])


def _unused_regions(demand: Demand, chosen, cheapest_at: dict, rules: _Rules) -> list[Exclusion]:
    used = {o.location for o, _ in chosen}
    dearest = max((o.hourly_usd for o, _ in chosen), default=0.0)
    spread = demand.has_spread
    out = []
    for cloud, region in sorted(set(cheapest_at) - used):
        best = cheapest_at[(cloud, region)]
        per_replica = f"${best * HOURS_PER_MONTH:,.2f}/month per replica"
        if rules.near is not None and (cloud, region) not in rules.near:
            reason, detail = "near", f"does not host {demand.near}"
        elif blocker := next((n for n, theirs in rules.apart.items() if (cloud, region) in theirs), None):
            reason, detail = "apart", f"hosts {blocker}"
        elif best < dearest - 1e-9:
            # cheaper than something chosen, yet unused: a coupling constraint decided
            if spread:
                reason, detail = "spread", f"cheapest fit {per_replica}, but the spread rules send replicas elsewhere"
            else:
                reason, detail = "capacity", f"cheapest fit {per_replica}, but a vCPU quota is used up"
        elif best <= dearest + 1e-9:
            reason, detail = "tie", f"as cheap as a chosen offering ({per_replica}); equal prices are broken by catalog order"
        else:
            reason, detail = "price", f"cheapest fit {per_replica}"
        out.append(Exclusion(cloud=cloud, region=region, reason=reason, detail=detail))
    return out
