"""Why each resource went where it went: the chosen offerings, the next alternatives, every exclusion.

Everything here is read off the solution, not guessed from prices: an alternative is the chosen placement
with one slot moved to another offering, kept only if the stack's constraints still hold (spread, near,
apart, and the resources that are `near` this one); an unused region's reason says which constraint or
price kept replicas out of it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from functools import partial
from typing import NamedTuple

from cloudorch.catalog.model import Catalog
from cloudorch.placement.blocks import no_block_left, others_at
from cloudorch.placement.milp import searched_locally
from cloudorch.placement.candidates import OfferingIndex, cheapest_fits, compute_options, database_options
from cloudorch.placement.capability import CapabilityFilter, requirements_of
from cloudorch.placement.model import HOURS_PER_MONTH, Alternative, Exclusion, Explanation
from cloudorch.placement.rates import NetworkRates
from cloudorch.placement.problem import (BlockLimit, Demand, Option, Problem, Solution, apart_group, near_group,
                                        quota_covers, spread_group, vcpus_under)
from cloudorch.spec.models import Compute, Stack

ALTERNATIVES = 3
#: other types shown per chosen region (cheapest first)
TYPES_HERE = 2
#: offerings tried per chosen slot when looking for alternatives (cheapest first), and per other cloud
SCAN = 24


def explain(stack: Stack, problem: Problem, solution: Solution,
            region_exclusions: list[Exclusion], option_exclusions: dict[str, tuple[Exclusion, ...]],
            every_fit: EveryFit | None = None, rates: NetworkRates | None = None,
            buckets: Mapping[str, tuple[tuple[str, str], float]] | None = None) -> dict[str, Explanation]:
    """``every_fit``: the offerings that fit a resource in one location, the dominated ones included (the
    problem's options leave those out), for the other types in each chosen region; see ``every_fit``.
    ``rates`` and ``buckets``: the bill's, so a move's network change counts what the egress tiers take off."""
    locations = {name: {o.location for o, _ in chosen} for name, chosen in solution.assignment.items()}
    network_delta = _network_delta(problem, solution, rates, buckets)
    priced = problem.network is not None
    locally = searched_locally(problem)
    used = {key: vcpus_under(key, problem.demands, solution.assignment) for key in problem.quotas}
    apart_from, near_to = _Rules.others(problem)
    limit_of = {name: limit for limit in problem.block_limits for name in limit.members}
    # per network kept to its blocks: how many of its members use each location
    held = {limit.network: Counter(loc for name in limit.members for loc in locations.get(name, ()))
            for limit in problem.block_limits}
    ranked: dict[int, _Ranked] = {}
    out = {}
    for demand in problem.demands:
        chosen = solution.assignment.get(demand.name, ())
        if id(demand.options) not in ranked:  # shared by resources with the same requirements
            ranked[id(demand.options)] = _Ranked(demand.options)
        options = ranked[id(demand.options)]
        limit = limit_of.get(demand.name)
        rules = _Rules(demand, locations, apart_from.get(demand.name, []), near_to.get(demand.name, []),
                       None if limit is None else (limit, others_at(held[limit.network], locations[demand.name])))
        out[demand.name] = Explanation(
            resource=demand.name,
            chosen=tuple(f"{n} x {_label(o)} in {o.cloud}/{o.region}" for o, n in chosen),
            alternatives=_alternatives(chosen, options, rules, network_delta(demand.name),
                                       partial(every_fit, demand.name) if every_fit is not None else None),
            excluded=tuple(sorted(
                [*collapse_outside_geo(region_exclusions, stack.placement.geo), *option_exclusions.get(demand.name, ()),
                 *_unused_regions(demand, chosen, options.cheapest_at, rules, problem.objective,
                                  partial(_fits_quota, problem, used, demand, chosen),
                                  network_delta(demand.name) if priced else None, locally)],
                key=lambda e: (e.cloud, e.region or "", e.reason))),
        )
    return out


#: ``every_fit``'s answer: (name, location, spot, take) -> the first ``take`` offerings that fit resource
#: ``name`` in ``location`` with that spot flag, dominated ones included, in ``Option.sort_key`` order
EveryFit = Callable[[str, tuple[str, str], bool, int], tuple[Option, ...]]


def every_fit(stack: Stack, catalog: Catalog, index: OfferingIndex, capability: CapabilityFilter,
              across: frozenset[str] = frozenset(), beside: frozenset[str] = frozenset()) -> EveryFit:
    """Every offering that fits a resource where its cloud can host it, dominated ones included, asked for
    one location at a time: an explanation names only the next few types in each chosen region."""
    databases: dict[str, tuple[Option, ...]] = {}

    def fits(name: str, location: tuple[str, str], spot: bool, take: int) -> tuple[Option, ...]:
        spec = stack.resources[name]
        hosts = capability.hosts(requirements_of(stack, name, across, beside))
        if isinstance(spec, Compute):
            return cheapest_fits(spec, hosts, index, location, spot, take)
        if name not in databases:  # a database catalog is small: all of its classes, once per resource
            databases[name] = tuple(sorted(database_options(spec, hosts, catalog, prune=False)[0],
                                           key=lambda o: o.sort_key))
        return tuple(o for o in databases[name] if o.location == location and o.spot == spot)[:take]

    return fits


#: restricted types named per region and resource; the rest are counted
RESTRICTED_SHOWN = 3


def restricted(stack: Stack, catalog: Catalog, settings, capability: CapabilityFilter) -> dict[str, tuple[Exclusion, ...]]:
    """``name`` -> one exclusion per allowed region where offerings that would fit the compute resource are
    refused to the account (the live catalog's restrictions: Azure's reason codes, AWS types no zone
    offers), each type with the cloud's reason. The fit is the placement's own filter, run over them."""
    if not catalog.restricted:
        return {}
    from dataclasses import replace

    reasons: dict[tuple[str, str, str], list[str]] = {}
    for o, reason in catalog.restricted:
        reasons.setdefault((o.cloud, o.region, o.instance_type), []).append(reason)
    index = OfferingIndex(replace(catalog, offerings=tuple(o for o, _ in catalog.restricted)), settings)
    out = {}
    for name, spec in sorted(stack.resources.items()):
        if not isinstance(spec, Compute):
            continue
        fits: dict[tuple[str, str], dict[str, None]] = {}
        for o in compute_options(spec, capability.hosts(requirements_of(stack, name)), index, prune=False)[0]:
            fits.setdefault(o.location, {})[o.instance_type] = None
        out[name] = tuple(
            Exclusion(cloud=cloud, region=region, reason="restricted",
                      detail="; ".join(f"{t} ({', '.join(reasons[(cloud, region, t)])})" for t in list(types)[:RESTRICTED_SHOWN])
                             + (f"; and {len(types) - RESTRICTED_SHOWN} more" if len(types) > RESTRICTED_SHOWN else ""))
            for (cloud, region), types in sorted(fits.items()))
    return out


def collapse_outside_geo(exclusions: list[Exclusion], geo: list[str] | None) -> list[Exclusion]:
    """One line per cloud for its regions outside ``placement.geo`` ("37 regions outside eu"), not one each:
    nobody reads 37 lines to learn that the stack stays in the EU."""
    outside = Counter(e.cloud for e in exclusions if e.reason == "geo" and e.region is not None)
    out = [e for e in exclusions if not (e.reason == "geo" and outside[e.cloud] > 1)]
    out += [Exclusion(cloud=cloud, reason="geo", detail=f"{n} regions outside {', '.join(geo or ())}")
            for cloud, n in sorted(outside.items()) if n > 1]
    return out


def _network_delta(problem: Problem, solution: Solution, rates: NetworkRates | None = None,
                   buckets: Mapping[str, tuple[tuple[str, str], float]] | None = None):
    """For a resource, what moving its replicas changes in the network's bill (sites, links, traffic, each
    replica's egress and NAT, and what the egress tiers take off its clouds' volumes): an alternative is
    priced whole, as the placement was, to the cent. Worked out by local search's ledger, which prices
    exactly what ``bill.network_cost`` prices but only what the move touches: pricing the whole bill again
    per alternative took minutes at 200 resources. ``rates`` and ``buckets``: the bill's (the tiers count the
    buckets' egress too). Cached per resulting set of locations."""
    from cloudorch.placement.bill import egress_tiers_off, egress_volume, network_cost
    from cloudorch.placement.ledger import Ledger

    net = problem.network
    if net is None:
        return lambda name: None
    bill = Ledger(problem, solution.assignment)
    # the bill's total is the sum of its lines (each to 1/100 of a cent), shown to the cent: an alternative's
    # is that sum with the move's change, shown the same way
    lines = sum(line.monthly_usd for line in network_cost(net, solution.assignment, rates, buckets).lines)
    tiered = rates is not None and bool(rates.egress)
    volume = egress_volume(net, solution.assignment, buckets) if tiered else {}
    now_off = egress_tiers_off(volume, rates) if tiered else 0.0

    def for_demand(name: str):
        cache: dict[tuple, float | None] = {}
        chosen_now = solution.assignment.get(name, ())
        machines_now = sum(problem.replica_cost(o, 0) * n for o, n in chosen_now)
        sends = net.replica_egress_gb.get(name, 0.0) if tiered else 0.0

        def tiers_change(new_chosen: tuple[tuple[Option, int], ...]) -> float:
            if not sends:
                return 0.0
            moved = defaultdict(float, volume)
            for o, n in chosen_now:
                moved[o.cloud] -= sends * n
            for o, n in new_chosen:
                moved[o.cloud] += sends * n
            return now_off - egress_tiers_off(moved, rates)

        def delta(new_chosen: tuple[tuple[Option, int], ...]) -> float | None:
            key = tuple(sorted((o.location, n) for o, n in new_chosen))
            if key not in cache:
                # the ledger's delta is the whole bill's at the first paid egress tier: less the machines,
                # what is left is the network's, to which the tiers add what the move changes in their saving
                machines = sum(problem.replica_cost(o, 0) * n for o, n in new_chosen) - machines_now
                change, over = bill.delta_over(name, new_chosen)
                # None: more VPN links on a site's gateway than it takes, which no placement may have
                cache[key] = None if over > 0 else (round(lines + change - machines + tiers_change(new_chosen), 2)
                                                    - round(lines, 2))
            return cache[key]

        return delta

    return for_demand


class _Ranked:
    """One set of options (resources with the same requirements share it) in ``Option.sort_key`` order,
    with what every explanation reads off it, worked out once per set rather than per resource and slot."""

    def __init__(self, options) -> None:
        self.all = sorted(options, key=lambda o: o.sort_key)
        #: cloud -> its first SCAN options: the candidates for "the best on <cloud>"
        self.per_cloud: dict[str, list[Option]] = {}
        #: location -> its cheapest option (the first there in ``sort_key`` order)
        self.cheapest_at: dict[tuple[str, str], Option] = {}
        for o in self.all:
            first = self.per_cloud.setdefault(o.cloud, [])
            if len(first) < SCAN:
                first.append(o)
            if o.location not in self.cheapest_at:
                self.cheapest_at[o.location] = o


class _Rules:
    """The constraints one resource's placement must meet, given where everything else went."""

    def __init__(self, demand: Demand, locations, apart_from: list[str], near_to: list[str],
                 blocks: tuple[BlockLimit, set[tuple[str, str]]] | None = None) -> None:
        """``apart_from``: the resources that keep apart from this one; ``near_to``: those placed near it
        (``_Rules.others``); ``blocks``: the blocks its network has left, where placement kept to them, and
        the locations the rest of the network uses."""
        self.demand = demand
        self.near = locations.get(demand.near, set()) if demand.near else None
        self.apart = {name: locations.get(name, set()) for name in demand.apart}
        self.apart.update({name: locations.get(name, set()) for name in apart_from})
        # resources placed `near` this one need it to stay in each of their regions
        self.needed_by = {name: locations.get(name, set()) for name in near_to}
        self.blocks = blocks[0] if blocks is not None else None
        # the unreserved locations the rest of its network holds blocks in
        self.others_new = blocks[1] - blocks[0].left.reserved if blocks is not None else set()

    def beyond_blocks(self, counts: dict[tuple[str, str], int]) -> str | None:
        """Why these replica counts per location take more blocks than the network has left, if they do."""
        if self.blocks is None:
            return None
        new = self.others_new | (counts.keys() - self.blocks.left.reserved)
        return no_block_left(self.blocks, self.others_new) if len(new) > self.blocks.left.free else None

    @staticmethod
    def others(problem: Problem) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """name -> the resources that keep apart from it, and those placed near it, in the problem's order
        (an explanation names the first that blocks a region): one pass, not one per resource."""
        apart_from: dict[str, list[str]] = {}
        near_to: dict[str, list[str]] = {}
        for d in problem.demands:
            for name in d.apart:
                apart_from.setdefault(name, []).append(d.name)
            if d.near:
                near_to.setdefault(d.near, []).append(d.name)
        return apart_from, near_to

    def violation(self, counts: dict[tuple[str, str], int]) -> str | None:
        """The constraint group these replica counts per location would break, if any."""
        d = self.demand
        regions = counts.keys()
        clouds: dict[str, int] = {}
        for (cloud, _), n in counts.items():
            clouds[cloud] = clouds.get(cloud, 0) + n
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
        if self.blocks is not None and self.beyond_blocks(counts) is not None:
            return f"resources.{self.blocks.network}.cidr"
        return None


class _Moved(NamedTuple):
    """An Alternative's fields: tens of thousands are weighed at 1,000 resources and few shown, so only
    those become (validated) models."""

    cloud: str
    region: str
    instance_type: str
    spot: bool
    monthly_usd: float
    why: str
    replaces: str


def _alternatives(chosen, ranked: _Ranked, rules: _Rules, network_delta=None,
                  here_first: Callable[[tuple[str, str], bool, int], tuple[Option, ...]] | None = None,
                  ) -> tuple[Alternative, ...]:
    """What a user compares the choice with: the next types in each chosen region ("why t3.xlarge and not
    m6i.xlarge?"), the best placement on each other cloud, and the next cheapest placements overall --
    each the chosen placement with one slot moved, kept only if every constraint still holds."""
    total = sum(o.monthly_usd * n for o, n in chosen)
    chosen_keys = {_key(o) for o, _ in chosen}
    base: dict[tuple[str, str], int] = {}
    for o, n in chosen:
        base[o.location] = base.get(o.location, 0) + n

    def machines(slot: Option, n: int, o: Option) -> float:
        return total - slot.monthly_usd * n + o.monthly_usd * n

    def moved(slot: Option, n: int, o: Option, why: str) -> _Moved | None:
        counts = dict(base)
        counts[slot.location] -= n
        if not counts[slot.location]:
            del counts[slot.location]
        counts[o.location] = counts.get(o.location, 0) + n
        if rules.violation(counts) is not None:
            return None
        cost = machines(slot, n, o)
        if network_delta is not None and o.location != slot.location:
            rest = tuple((p, m) for p, m in chosen if p is not slot) + ((o, n),)
            network = network_delta(rest)  # egress and NAT per VM included: network_cost prices them
            if network is None:
                return None
            cost += network
        if o.spot_score is not None:
            why += f" ({_score(o)})"
        return _Moved(o.cloud, o.region, o.instance_type, o.spot, round(cost, 2), why,
                      f"{n} x {_label(slot)} in {slot.cloud}/{slot.region}")

    def best_on(cloud: str, slot: Option, n: int) -> _Moved | None:
        best = None
        for o in ranked.per_cloud[cloud]:
            # cheapest first: without a network term no later one can cost less than the best found
            if network_delta is None and best is not None and round(machines(slot, n, o), 2) > best.monthly_usd:
                break
            if (a := moved(slot, n, o, f"the best on {cloud}")) is not None and (best is None or _order(a) < _order(best)):
                best = a
        return best

    shown: dict[tuple, _Moved] = {}
    cheapest: dict[tuple, _Moved] = {}
    for slot, n in chosen:
        # the chosen types come first where they are the cheapest: enough asked for to skip them all
        first = here_first(slot.location, slot.spot, TYPES_HERE + len(chosen_keys)) if here_first else ()
        for o in [o for o in first if _key(o) not in chosen_keys][:TYPES_HERE]:
            _keep(shown, moved(slot, n, o, f"another type in {o.cloud}/{o.region}"))
        for cloud in sorted(ranked.per_cloud.keys() - {o.cloud for o, _ in chosen}):
            _keep(shown, best_on(cloud, slot, n))
        tried = 0
        for o in ranked.all:
            if _key(o) in chosen_keys:
                continue
            tried += 1
            if tried > SCAN:
                break
            _keep(cheapest, moved(slot, n, o, "one of the next cheapest"))
    for a in sorted(cheapest.values(), key=_order)[:ALTERNATIVES]:
        _keep(shown, a, replace_why=False)
    return tuple(Alternative(**a._asdict()) for a in sorted(shown.values(), key=_order))


def _score(o: Option) -> str:
    return f"spot placement score {o.spot_score}/10, availability {o.availability:g}"


def _label(o: Option) -> str:
    """An offering as the explanation names it: the spot placement score it was weighed with, if any."""
    if not o.spot:
        return o.instance_type
    return f"{o.instance_type} (spot{', ' + _score(o) if o.spot_score is not None else ''})"


def _key(o) -> tuple:
    return (o.cloud, o.region, o.instance_type, o.spot)


def _order(a: _Moved) -> tuple:
    return (a.monthly_usd, a.cloud, a.region, a.instance_type)


def _keep(found: dict[tuple, _Moved], alternative: _Moved | None, replace_why: bool = True) -> None:
    """Keep the cheapest way to each offering; a reason already given to it stays (unless ``replace_why``)."""
    if alternative is None:
        return
    key = _key(alternative)
    if key not in found or (replace_why and alternative.monthly_usd < found[key].monthly_usd):
        found[key] = alternative


def _fits_quota(problem: Problem, used: dict[str, float], demand: Demand, chosen, option: Option,
                everyone: bool = False) -> bool:
    """Whether one of ``demand``'s replicas (``everyone``: all of them) could move onto ``option``, its own
    vCPUs elsewhere freed first."""
    if not demand.counts_against_quota:
        return True
    moving = demand.count if everyone else 1
    for key, limit in problem.quotas.items():
        if quota_covers(key, option.cloud, option.region):
            under = [(o.vcpus, n) for o, n in chosen if quota_covers(key, o.cloud, o.region)]
            mine = sum(v * n for v, n in under) if everyone else min((v for v, _ in under), default=0.0)
            if used[key] - mine + option.vcpus * moving > limit + 1e-6:
                return False
    return True


def _network_reason(per_replica: str, machines: float, network: float | None, locally: bool) -> tuple[str, str]:
    """Why a region with a cheaper machine holds none of a resource, by what moving all its replicas there
    changes: ``machines`` (negative: saved) and ``network`` (None: beyond a gateway's VPN links);
    ``locally``: the placement came from local search, which may miss a paying move an exact search cannot."""
    if network is None:
        return "network", f"cheapest fit {per_replica}, but its sites would need more VPN links than their gateways take"
    if machines + network >= -0.005:
        return "network", (f"cheapest fit {per_replica}: all its replicas there save ${-machines:,.2f}/month of "
                           f"machines and add ${network:,.2f}/month of network (sites, VPN links, traffic)")
    saved = -(machines + network)
    if locally:  # local search stops where no move it tries pays; this one, tried alone, would
        return "search", (f"cheapest fit {per_replica}: all its replicas there would cost ${saved:,.2f}/month less on "
                          "the whole bill, a move local search (on a stack this size) did not make")
    # an exact search's placement: what keeps the move out is a rule this one move alone does not show (a
    # gateway's links, another resource's spread)
    return "price", (f"cheapest fit {per_replica}: all its replicas there would cost ${saved:,.2f}/month less "
                     "alone, but not with what the rules then ask of the rest")


def _unused_regions(demand: Demand, chosen, cheapest_at: dict, rules: _Rules, objective: str,
                    fits_quota: Callable[[Option], bool], network_change=None, locally: bool = False) -> list[Exclusion]:
    """Why each region the resource could use holds none of it. ``network_change``: what moving all its
    replicas to one option changes in the network's bill (``_network_delta``), where the network is priced."""
    used = {o.location for o, _ in chosen}
    dearest = max((o.hourly_usd for o, _ in chosen), default=0.0)
    least_available = min((o.availability for o, _ in chosen), default=0.0)
    # a spot option the cloud scores low kept replicas out only where availability is weighed at all (not
    # under the cost objective), where the score is what made it less available than the chosen ones, and
    # where a vCPU quota would have let a replica in
    scored_low = {} if objective == "cost" else {
        o.location: o for o in sorted(demand.options, key=lambda o: o.sort_key, reverse=True)
        if o.spot_score is not None and o.spot_score < 10 and o.availability < least_available
        and o.availability * 10 / o.spot_score >= least_available and fits_quota(o)}
    spread = demand.has_spread
    out = []
    for cloud, region in sorted(set(cheapest_at) - used):
        option = cheapest_at[(cloud, region)]
        best = option.hourly_usd
        per_replica = f"${best * HOURS_PER_MONTH:,.2f}/month per replica"
        if rules.near is not None and (cloud, region) not in rules.near:
            reason, detail = "near", f"does not host {demand.near}"
        elif blocker := next((n for n, theirs in rules.apart.items() if (cloud, region) in theirs), None):
            reason, detail = "apart", f"hosts {blocker}"
        elif (low := scored_low.get((cloud, region))) is not None and low.hourly_usd < dearest - 1e-9:
            reason = "availability"
            detail = (f"cheapest fit {per_replica}, but {low.instance_type} (spot) has {_score(low)}: less available "
                      "than the chosen offering")
        elif best < dearest - 1e-9:
            # cheaper than something chosen, yet unused: a coupling constraint or the network decided
            if (full := rules.beyond_blocks({(cloud, region): demand.count})) is not None:
                reason, detail = "blocks", f"cheapest fit {per_replica}, but {full}"
            elif spread:
                reason, detail = "spread", f"cheapest fit {per_replica}, but the spread rules send replicas elsewhere"
            elif (broken := rules.violation({(cloud, region): demand.count})) is not None:
                # what is placed near it, or kept apart from it, holds it where it is
                reason = "near" if broken.endswith(".near") else "apart" if ".apart." in broken else "spread"
                detail = f"cheapest fit {per_replica}, but all its replicas there would break {broken}"
            elif not fits_quota(option) or (network_change is not None and not fits_quota(option, everyone=True)):
                reason, detail = "capacity", f"cheapest fit {per_replica}, but a vCPU quota is used up"
            elif objective != "cost":
                reason, detail = "availability", (f"cheapest fit {per_replica}; the {objective} objective weighs "
                                                  "availability, not cost alone")
            elif network_change is not None:
                machines = option.monthly_usd * demand.count - sum(o.monthly_usd * n for o, n in chosen)
                reason, detail = _network_reason(per_replica, machines, network_change(((option, demand.count),)),
                                                 locally)
            else:
                reason, detail = "price", f"cheapest fit {per_replica}, within the search's tolerance of the chosen"
        elif best <= dearest + 1e-9:
            reason, detail = "tie", f"as cheap as a chosen offering ({per_replica}); equal prices are broken by catalog order"
        else:
            reason, detail = "price", f"cheapest fit {per_replica}"
        out.append(Exclusion(cloud=cloud, region=region, reason=reason, detail=detail))
    return out
