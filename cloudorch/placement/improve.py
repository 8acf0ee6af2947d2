"""A placement made cheaper by local moves, under the whole bill: how a stack too large for branch and
bound is placed (``planner._solve_part``).

Pricing the network couples every resource to the ones it talks to, and a large stack's model is then too
big for branch and bound to improve in useful time (benchmarks/README.md, "Network"). Local search is not:
from a feasible placement (the cheapest machines that keep every constraint), each move takes the replicas
one resource has in one location (all of them, or one) to another location -- where a flow partner runs,
or where its machines are cheapest -- and is kept when the whole bill (machines, sites, VPN gateways and links, traffic, per
replica egress and NAT) goes down and every constraint still holds. Moves are tried in a fixed order, so a
stack always gives the same placement. A location is also closed when moving all it holds pays together.
The result is a placement, not a proof: the plan reports its gap to a proven lower bound (``floor``).

Where a cloud limits the VPN links one site's gateway ends (``NetworkTerms.vpn_links``), the ledger charges
each link beyond a limit more than any move saves, and one more kind of move drops such a link: everything
on one side of it that talks across it leaves for another location together (``shed``).

Where a network keeps to the address blocks it has left (``blocks``), no move or closing kept opens a
location beyond them (``Ledger.delta`` refuses such a move; an attempt of several may pass through one).

Most tries find no move. A resource is tried again only when something its moves are priced by has changed
since its last try (``Changes``): at 1,000 resources this skips three tries in four, and the search makes
exactly the moves it would make trying every resource again (the tests hold the two equal).
"""

from __future__ import annotations

import heapq
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace

from cloudorch.placement.changes import Changes
from cloudorch.placement.ledger import OVER_LIMIT_USD, Ledger, Location, Picks
from cloudorch.placement.moving import Rules, cheapest_locations, merge, move, placed
from cloudorch.placement.problem import Demand, Option, Problem
from cloudorch.placement.shed import shed

#: a location-closing attempt asks, every this many resources moved, whether the rest could still make it pay
CLOSING_CHECKED_EVERY = 16


class Limit:
    """When local search stops short of a placement no move improves: after ``moves_per_resource`` moves
    tried per resource -- the same on every machine, so the plan is too -- or, only so that nothing ever
    hangs, at ``deadline`` (a ``time.monotonic`` value; the plan then depends on the machine's speed)."""

    def __init__(self, moves_per_resource: int = 300, deadline: float | None = None) -> None:
        self.moves_per_resource = moves_per_resource
        self.deadline = deadline
        self.reason: str | None = None

    def reached(self, bill: Ledger, resources: int) -> bool:
        if bill.evaluations > self.moves_per_resource * resources:
            self.reason = f"{self.moves_per_resource} moves tried per resource"
        elif self.deadline is not None and time.monotonic() > self.deadline:
            self.reason = "its time limit"
        return self.reason is not None


def improve(problem: Problem, assignment: Mapping[str, Picks], limit: Limit | None = None) -> dict[str, Picks]:
    """A placement no single move makes cheaper (or the best found within ``limit``: ``limit.reason`` then
    says why it stopped).

    Where clouds limit the VPN links a site's gateway takes, the search runs first as if they did not; from
    there, it drops the links beyond a limit (``shed``), then searches on within them. Charged for every
    link beyond a limit from the start, it spent its moves shedding links a placement made cheap by moves
    never has (at 1,000 resources and 1,500 flows: 12.8 s against 5.6 s, and a dearer placement)."""
    limit = limit or Limit()
    network = problem.network
    if network is not None and network.vpn_links:
        unlimited = replace(problem, network=replace(network, vpn_links={}))
        assignment = _search(unlimited, assignment, limit)
        if limit.reason is None and Ledger(problem, assignment).over:
            return _search(problem, assignment, limit, shed_first=True)
        return assignment
    return _search(problem, assignment, limit)


def _search(problem: Problem, assignment: Mapping[str, Picks], limit: Limit, shed_first: bool = False) -> dict[str, Picks]:
    bill = Ledger(problem, assignment)
    rules = Rules(problem, bill)
    demands = sorted(problem.demands, key=lambda d: d.name)
    by_options: dict[int, dict[Location, list[Option]]] = {}  # resources with the same requirements share theirs
    for d in demands:
        if id(d.options) not in by_options:
            by_options[id(d.options)] = _cheapest_by_location(problem, d)
    cheapest = {d.name: by_options[id(d.options)] for d in demands}
    by_name = {d.name: d for d in demands}
    neighbours: dict[str, set[str]] = defaultdict(set)
    for flow in bill.flows:
        neighbours[flow.source].add(flow.target)
        neighbours[flow.target].add(flow.source)
    for d in demands:
        for other in ([d.near] if d.near else []) + list(d.apart):
            if other in by_name:
                neighbours[d.name].add(other)
                neighbours[other].add(d.name)
    # a resource is tried again only when something it depends on moved: its flow partners, near, apart
    queue = [d.name for d in demands]
    waiting = set(queue)
    changes = Changes(bill, rules, neighbours)
    while shed_first and bill.over and not limit.reached(bill, len(demands)):
        # the cheapest way to drop each link beyond a limit, before any single move: each single move
        # it would take to get there is priced by the charge for those links, and most are taken back later
        if not shed(demands, bill, rules, cheapest, changes):
            break
    while queue:
        if limit.reached(bill, len(demands)):
            break
        name = heapq.heappop(queue)
        waiting.discard(name)
        if not changes.unchanged_since_failed(name) and _best_move(by_name[name], bill, rules, cheapest[name], changes):
            for other in sorted(neighbours[name] - waiting):
                heapq.heappush(queue, other)
                waiting.add(other)
        if not queue and (_consolidate(demands, bill, rules, cheapest, limit, changes)
                          or (bill.over and shed(demands, bill, rules, cheapest, changes))):
            queue = [d.name for d in demands]
            waiting = set(queue)
    return dict(bill.picks)


def _cheapest_by_location(problem: Problem, d: Demand) -> dict[Location, list[Option]]:
    """Per location, the demand's options in objective order (ties: the catalog's order)."""
    by_location: dict[Location, list[Option]] = defaultdict(list)
    for o in sorted(d.options, key=lambda o: (problem.replica_cost(o, 0), o.sort_key)):
        by_location[o.location].append(o)
    return dict(sorted(by_location.items()))


def _best_move(d: Demand, bill: Ledger, rules: Rules, options: dict[Location, list[Option]], changes: Changes) -> bool:
    """Try moving the replicas ``d`` has in each of its locations to each candidate location; keep the move
    that lowers the bill most. Returns whether one was kept."""
    refused: dict[int, float] = {}  # quota -> the fewest vCPUs it refused: a move may pay once it has that room
    current = bill.picks[d.name]
    here = sorted(bill.at[d.name])
    candidates = _candidates(d, bill, options)
    # no move can save more of the network than what d's flows, links and sites cost now: a move whose
    # machines cost more than that is skipped without being tried
    share = bill.network_share(d.name)
    before = bill.machines[d.name]
    best: tuple[float, Picks] | None = None
    for source, moving in _departures(current, here):
        staying = _without(current, source, moving)
        kept = bill.replicas_cost(d.name, staying) - before - share
        free = d.name in rules.free
        for target in candidates:
            if target == source:
                continue
            if not free:
                at = dict(bill.at[d.name])
                if at[source] == moving:
                    del at[source]
                else:
                    at[source] -= moving
                at[target] = at.get(target, 0) + moving
                if not rules.places_allow(d, at):
                    continue
            too_big = float("inf")  # vCPUs of an option the quotas refused here: as many or more fail too
            nat_net = bill.terms.nat_members.get(d.name)
            gain = bill.nat_gain((nat_net, *target), moving) if nat_net is not None else 0.0
            for option in options[target]:
                # options come cheapest first: once one cannot pay, none after it can
                floor = kept + bill.replicas_cost(d.name, ((option, moving),)) - gain
                if floor > -1e-6 or (best is not None and floor >= best[0]):
                    picks = None
                    break
                if option.vcpus >= too_big:
                    continue
                picks = merge(staying, option, moving)
                if rules.quotas_allow(d, picks):
                    break
                for i, vcpus in rules.refusing(d, picks).items():
                    refused[i] = min(vcpus, refused.get(i, vcpus))
                too_big = option.vcpus
            else:
                continue
            if picks is None:
                continue
            delta = bill.delta(d.name, picks)
            if delta < -1e-6 and (best is None or delta < best[0] - 1e-9):
                best = (delta, picks)
    if best is None:
        changes.failed_at(d, candidates, refused)
        return False
    rules.moved(d, current, best[1])
    bill.move(d.name, best[1])
    changes.kept()
    return True


def _departures(current: Picks, here: list[Location]) -> list[tuple[Location, int]]:
    """What may leave each location: all its replicas, or one (a resource talking to partners in several
    locations is cheapest split like them)."""
    out = []
    for source in here:
        n = sum(k for o, k in current if o.location == source)
        out += [(source, n)] + ([(source, 1)] if n > 1 else [])
    return out


def _without(current: Picks, source: Location, n: int) -> Picks:
    """``current`` less ``n`` replicas at ``source`` (its costliest there first)."""
    out, left = [], n
    for o, k in sorted(current, key=lambda item: item[0].sort_key, reverse=True):
        if o.location == source and left:
            taken = min(k, left)
            left -= taken
            k -= taken
        if k:
            out.append((o, k))
    return tuple(sorted(out, key=lambda item: item[0].sort_key))


def _candidates(d: Demand, bill: Ledger, options: dict[Location, list[Option]]) -> list[Location]:
    """Where a move may take ``d``'s replicas: where its flow partners run, and its cheapest locations."""
    partners = {loc for i in bill.flows_of.get(d.name, ()) for loc in bill.at.get(bill.partner(i, d.name), ())}
    return sorted((partners & options.keys()) | cheapest_locations(bill.problem, d, options))


def _consolidate(demands: list[Demand], bill: Ledger, rules: Rules, cheapest: dict[str, dict[Location, list[Option]]],
                 limit: Limit, changes: Changes) -> bool:
    """Close a location: every resource's replicas there move to another location in use, each to its
    cheapest option there that its rules allow (a resource that may not move stays). One resource at a time
    no move pays -- leaving alone keeps the site, its gateway and links -- while all of them together may.
    Returns whether a location was closed."""
    present: dict[Location, list[Demand]] = defaultdict(list)
    for d in demands:
        for loc in bill.at[d.name]:
            present[loc].append(d)
    replicas = {loc: sum(bill.at[d.name][loc] for d in ds) for loc, ds in present.items()}
    for source in sorted(present, key=lambda loc: (replicas[loc], loc)):
        for target in sorted(present):
            if target == source:
                continue
            if limit.reached(bill, len(demands)):
                return False
            if _move_together(present[source], source, target, bill, rules, cheapest, changes):
                return True
    return False


def _move_together(movers: list[Demand], source: Location, target: Location, bill: Ledger, rules: Rules,
                   cheapest: dict[str, dict[Location, list[Option]]], changes: Changes) -> bool:
    """``_together``, kept when the bill goes down, taken back otherwise. Returns whether it was kept."""
    delta, undo, cut = _together(movers, source, target, bill, rules, cheapest)
    if delta < -1e-6 and not cut and not bill.beyond_blocks:
        bill.keep()
        changes.kept()
        return True
    changes.take_back(undo)
    return False


def _together(movers: list[Demand], source: Location, target: Location, bill: Ledger, rules: Rules,
              cheapest: dict[str, dict[Location, list[Option]]]) -> tuple[float, list, bool]:
    """Move, tentatively, every one of ``movers``' replicas at ``source`` to ``target``, each to its cheapest
    option there that its rules allow (one that may not move stays): what the bill changed by, what to undo,
    and whether the attempt was cut short because it cannot pay (then it must be taken back)."""
    bill.tentatively()
    machines_least = _machines_least(bill, rules, movers, source, target, cheapest)
    if not movers or _hopeless(bill, 0.0, machines_least[0], movers, source, target):
        return 0.0, [], True
    undo, delta = [], 0.0
    for k, d in enumerate(movers):
        if k and k % CLOSING_CHECKED_EVERY == 0 and _hopeless(bill, delta, machines_least[k], movers[k:], source, target):
            return delta, undo, True  # even if the moves so far pay: the attempt is all of them or none
        picks = placed(d, source, (target,), bill, rules, cheapest[d.name])
        if picks is not None:
            delta += move(d, picks, bill, rules, undo)
    return delta, undo, False


# A closing attempt that cannot pay is skipped or cut short. What the resources left to move add to the bill
# is at least, for their machines (``_machines_least``), the exact change for each one that surely moves to
# the target's cheapest option -- no spread, near or apart rule ties it and no vCPU quota covers the target
# -- and, for the others, the saving they would make there if they moved (they may stay); minus, for the
# network (``_network_left``), their flows' traffic and everything at the location they leave: a move only
# ever removes sites, gateways and links where the resource was, and what it adds where it goes is left out;
# and what a capped NAT at the target gives back for their VMs (``_nat_gain``).

def _machines_least(bill: Ledger, rules: Rules, movers: list[Demand], source: Location, target: Location,
                    cheapest: dict[str, dict[Location, list[Option]]]) -> list[float]:
    """Per position in ``movers``: at least what the machines (and balancers) of it and those after it add to
    the bill by leaving ``source`` for ``target`` (negative: what they may save). Asked before they move."""
    sure = not rules.masks[target]  # no quota can refuse a replica there
    added = []
    for d in movers:
        name = d.name
        usd = -bill.terms.location_fixed.get(name, {}).get(source[0], 0.0)
        options = cheapest[name].get(target)
        if options:
            here = tuple((o, n) for o, n in bill.picks[name] if o.location == source)
            there = ((options[0], sum(n for _, n in here)),)
            change = bill.replicas_cost(name, there) - bill.replicas_cost(name, here)
            usd += change if name in rules.free and (sure or not d.counts_against_quota) else min(0.0, change)
        added.append(usd)
    least, total = [0.0] * len(added), 0.0
    for k in range(len(added) - 1, -1, -1):
        total += added[k]
        least[k] = total
    return least


def _hopeless(bill: Ledger, delta: float, machines_least: float, rest: list[Demand], source: Location,
              target: Location) -> bool:
    """Whether the attempt cannot pay: what its moves so far added (``delta``) and the least the rest can add
    (their machines at least ``machines_least``) stay above zero (by a cent, for rounding)."""
    return delta + machines_least - _network_left(bill, rest, source) - _nat_gain(bill, rest, source, target) >= 0.01


def _nat_gain(bill: Ledger, rest: list[Demand], source: Location, target: Location) -> float:
    """The most a capped NAT at ``target`` gives back for the VMs the rest bring there (leaving ``source``
    only loses rebate there)."""
    members = bill.terms.nat_members
    if target[0] not in bill.terms.nat_capped:
        return 0.0
    bringing: dict[str, int] = {}
    for d in rest:
        if d.name in members:
            bringing[members[d.name]] = bringing.get(members[d.name], 0) + bill.at[d.name].get(source, 0)
    return sum(bill.nat_gain((net, *target), vms) for net, vms in bringing.items())


def _network_left(bill: Ledger, rest: list[Demand], source: Location) -> float:
    terms = bill.terms
    flows: set[int] = set()
    for d in rest:
        flows.update(bill.flows_of.get(d.name, ()))
    usd = sum(bill.flow_cost[i] for i in flows)
    for (_, cloud, region), members in bill.site_members.items():
        if members and (cloud, region) == source:
            usd += terms.site.get(cloud, 0.0) + terms.vpn_site.get(cloud, 0.0)
    for (a, b), uses in bill.link_uses.items():
        if uses and (a[1:] == source or b[1:] == source):
            usd += terms.link(a[1], b[1]) + terms.vpn_site.get(a[1], 0.0) + terms.vpn_site.get(b[1], 0.0)
            usd += OVER_LIMIT_USD * bill.beyond_limit((a, b)) + bill.tunnels_share((a, b))
    # an attempt that took a block its network has not got (a location the next moves close) may give it back
    return usd + OVER_LIMIT_USD * bill.beyond_blocks
