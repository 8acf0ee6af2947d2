"""A placement made cheaper by local moves, under the whole bill: the start the priced search needs.

Pricing the network couples every resource to the ones it talks to, and a large stack's model is then too
big for branch and bound to improve in useful time (benchmarks/README.md, "Network"). Local search is not:
from a feasible placement (the cheapest machines that keep every constraint), each move takes the replicas
one resource has in one location to another location -- where a flow partner runs, or where its machines
are cheapest -- and is kept when the whole bill (machines, sites, VPN gateways and links, traffic, per
replica egress and NAT) goes down and every constraint still holds. Moves are tried in a fixed order, so a
stack always gives the same placement. The result is a placement, not a proof: the search that follows
(``milp``) may improve on it, and the plan reports the gap to the proven lower bound either way.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter, defaultdict
from collections.abc import Mapping

from cloudorch.placement.problem import Demand, FlowTerm, NetworkTerms, Option, Problem, apart_group, near_group, spread_group

Location = tuple[str, str]
Picks = tuple[tuple[Option, int], ...]

#: other locations tried per resource, besides its flow partners': its cheapest ones overall
CHEAPEST_TRIED = 3


class _Bill:
    """The whole bill of one placement, kept up to date move by move (``move`` returns what it changed)."""

    def __init__(self, problem: Problem, assignment: Mapping[str, Picks]) -> None:
        self.problem = problem
        self.terms: NetworkTerms = problem.network
        self.picks: dict[str, Picks] = {}
        self.at: dict[str, Counter] = {}
        self.flows_of: dict[str, list[FlowTerm]] = defaultdict(list)
        for f in self.terms.flows:
            if f.source in assignment and f.target in assignment:
                self.flows_of[f.source].append(f)
                self.flows_of[f.target].append(f)
        self.site_members: Counter = Counter()
        self.link_uses: Counter = Counter()
        self.gateway_links: Counter = Counter()
        self.total = 0.0
        self._unit: dict[tuple[str, Option], float] = {}
        for name, picks in sorted(assignment.items()):
            self.move(name, picks)

    def replicas_cost(self, name: str, picks: Picks) -> float:
        usd = 0.0
        for o, n in picks:
            unit = self._unit.get((name, o))
            if unit is None:
                extra = self.terms.replica_extra.get(name, {}).get(o.location, 0.0)
                unit = self._unit[(name, o)] = self.problem.replica_cost(o, 0) + extra
            usd += unit * n
        return usd

    def _flow_cost(self, f: FlowTerm) -> float:
        source, target = self.at.get(f.source), self.at.get(f.target)
        if not f.gb_month or not source or not target:
            return 0.0
        total = sum(source.values())
        clouds = {loc[0] for loc in target}
        usd = 0.0
        for loc, n in source.items():
            kind = "same-region" if loc in target else "same-cloud" if loc[0] in clouds else "cross-cloud"
            usd += f.gb_month * n / total * self.terms.per_gb.get((*loc, kind), 0.0)
        return usd

    def _flow_links(self, f: FlowTerm) -> list[tuple]:
        source, target = self.at.get(f.source), self.at.get(f.target)
        src_net, dst_net = self.terms.member_of.get(f.source), self.terms.member_of.get(f.target)
        if not source or not target or src_net is None or dst_net is None:
            return []
        links = []
        for ls in source:
            a = (src_net, *ls)
            for lt in target:
                if ls[0] != lt[0]:
                    b = (dst_net, *lt)
                    links.append((a, b) if a < b else (b, a))
        return links

    def network_share(self, name: str) -> float:
        """At most how much of the bill moving ``name``'s replicas could save, besides its machines: its flows'
        traffic, the links (with both gateways) they use, and the sites it is in."""
        usd = 0.0
        for f in self.flows_of.get(name, ()):
            usd += self._flow_cost(f)
            for a, b in self._flow_links(f):
                usd += self.terms.link(a[1], b[1]) + self.terms.vpn_site.get(a[1], 0.0) + self.terms.vpn_site.get(b[1], 0.0)
        if name in self.terms.member_of:
            usd += sum(self.terms.site.get(loc[0], 0.0) for loc in self.at[name])
        return usd

    def _use_link(self, link: tuple, step: int) -> float:
        before = self.link_uses[link]
        self.link_uses[link] += step
        if (before == 0) == (self.link_uses[link] == 0):
            return 0.0
        usd = self.terms.link(link[0][1], link[1][1]) * step
        for end in link:
            was = self.gateway_links[end]
            self.gateway_links[end] += step
            if (was == 0) != (self.gateway_links[end] == 0):
                usd += self.terms.vpn_site.get(end[1], 0.0) * step
        return usd

    def _use_sites(self, name: str, locations, step: int) -> float:
        net = self.terms.member_of.get(name)
        if net is None:
            return 0.0
        usd = 0.0
        for loc in locations:
            key = (net, *loc)
            before = self.site_members[key]
            self.site_members[key] += step
            if (before == 0) != (self.site_members[key] == 0):
                usd += self.terms.site.get(loc[0], 0.0) * step
        return usd

    def move(self, name: str, picks: Picks) -> float:
        """Place ``name`` on ``picks`` instead; returns how much the bill changed. A flow whose other end is
        not placed yet costs nothing until that end is (so building the bill counts each flow once)."""
        flows = self.flows_of.get(name, ())
        delta = 0.0
        if name in self.picks:
            old = self.picks[name]
            delta -= self.replicas_cost(name, old)
            for f in flows:
                delta -= self._flow_cost(f)
                for link in self._flow_links(f):
                    delta += self._use_link(link, -1)
            delta += self._use_sites(name, self.at[name], -1)
        self.picks[name] = picks
        at = Counter()
        for o, n in picks:
            at[o.location] += n
        self.at[name] = at
        delta += self.replicas_cost(name, picks)
        delta += self._use_sites(name, at, +1)
        for f in flows:
            delta += self._flow_cost(f)
            for link in self._flow_links(f):
                delta += self._use_link(link, +1)
        self.total += delta
        return delta


class _Rules:
    """Whether a demand's replicas may sit where a move puts them: spread, near, apart and vCPU quotas."""

    def __init__(self, problem: Problem, bill: _Bill) -> None:
        self.problem, self.bill = problem, bill
        self.demands = {d.name: d for d in problem.demands}
        self.near_me: dict[str, list[str]] = defaultdict(list)
        self.apart: dict[str, set[str]] = defaultdict(set)
        for d in problem.demands:
            if d.near and problem.enabled(near_group(d.name)):
                self.near_me[d.near].append(d.name)
            for t in d.apart:
                if problem.enabled(apart_group(d.name, t)):
                    self.apart[d.name].add(t)
                    self.apart[t].add(d.name)
        #: per demand: (min_regions, min_clouds, max_per_region, max_per_cloud, near) as its active rules say
        self.spread = {d.name: self._spread(d) for d in problem.demands}
        self.keys = problem.active_quotas()
        self.masks = problem.quota_masks(self.keys)
        self.used = [0.0] * len(self.keys)
        for name, picks in bill.picks.items():
            self._count(self.demands[name], picks, +1)

    def _spread(self, d: Demand) -> tuple:
        active = self.problem.active(d)
        rule = lambda name, value, default: value if spread_group(d.name, name) in active else default  # noqa: E731
        near = d.near if d.near and self.problem.enabled(near_group(d.name)) else None
        return (rule("min_regions", d.min_regions, 1), rule("min_clouds", d.min_clouds, 1),
                rule("max_per_region", d.max_per_region, d.count), rule("max_per_cloud", d.max_per_cloud, d.count), near)

    def _count(self, d: Demand, picks: Picks, step: int) -> None:
        if not d.counts_against_quota:
            return
        for o, n in picks:
            mask = self.masks[o.location]
            for i in range(len(self.keys)):
                if mask >> i & 1:
                    self.used[i] += step * o.vcpus * n

    def allows(self, d: Demand, picks: Picks) -> bool:
        at: Counter = Counter()
        clouds: Counter = Counter()
        for o, n in picks:
            at[o.location] += n
            clouds[o.cloud] += n
        min_regions, min_clouds, per_region, per_cloud, near = self.spread[d.name]
        if len(at) < min_regions or len(clouds) < min_clouds or max(at.values()) > per_region \
                or max(clouds.values()) > per_cloud:
            return False
        where = self.bill.at
        if near in where and not set(at) <= set(where[near]):
            return False
        if any(not set(where[r]) <= set(at) for r in self.near_me.get(d.name, ()) if r in where):
            return False
        if any(not set(at).isdisjoint(where.get(t, ())) for t in self.apart.get(d.name, ())):
            return False
        return self._quotas_allow(d, picks)

    def _quotas_allow(self, d: Demand, picks: Picks) -> bool:
        if not self.keys or not d.counts_against_quota:
            return True
        self._count(d, self.bill.picks[d.name], -1)
        self._count(d, picks, +1)
        fits = all(self.used[i] <= self.problem.quotas[k] + 1e-6 for i, k in enumerate(self.keys))
        self._count(d, picks, -1)
        self._count(d, self.bill.picks[d.name], +1)
        return fits

    def moved(self, d: Demand, old: Picks, new: Picks) -> None:
        self._count(d, old, -1)
        self._count(d, new, +1)


def improve(problem: Problem, assignment: Mapping[str, Picks], deadline: float | None = None) -> tuple[dict[str, Picks], float]:
    """A placement no single move makes cheaper (or the best found by ``deadline``, a ``time.monotonic``
    value), and its objective: the bill as the model counts it, without the tie-break."""
    bill = _Bill(problem, assignment)
    rules = _Rules(problem, bill)
    demands = sorted(problem.demands, key=lambda d: d.name)
    cheapest = {d.name: _cheapest_by_location(problem, d) for d in demands}
    by_name = {d.name: d for d in demands}
    neighbours: dict[str, set[str]] = defaultdict(set)
    for f in bill.flows_of.values():
        for flow in f:
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
    while queue:
        if deadline is not None and time.monotonic() > deadline:
            break
        name = heapq.heappop(queue)
        waiting.discard(name)
        if _best_move(by_name[name], bill, rules, cheapest[name]):
            for other in sorted(neighbours[name] - waiting):
                heapq.heappush(queue, other)
                waiting.add(other)
        if not queue and _consolidate(demands, bill, rules, cheapest, deadline):
            queue = [d.name for d in demands]
            waiting = set(queue)
    return dict(bill.picks), bill.total


def _cheapest_by_location(problem: Problem, d: Demand) -> dict[Location, list[Option]]:
    """Per location, the demand's options in objective order (ties: the catalog's order)."""
    by_location: dict[Location, list[Option]] = defaultdict(list)
    for o in sorted(d.options, key=lambda o: (problem.replica_cost(o, 0), o.sort_key)):
        by_location[o.location].append(o)
    return dict(sorted(by_location.items()))


def _best_move(d: Demand, bill: _Bill, rules: _Rules, options: dict[Location, list[Option]]) -> bool:
    """Try moving the replicas ``d`` has in each of its locations to each candidate location; keep the move
    that lowers the bill most. Returns whether one was kept."""
    current = bill.picks[d.name]
    here = sorted(bill.at[d.name])
    candidates = _candidates(d, bill, options)
    # no move can save more of the network than what d's flows, links and sites cost now: a move whose
    # machines cost more than that is skipped without being tried
    share = bill.network_share(d.name)
    before = bill.replicas_cost(d.name, current)
    best: tuple[float, Picks] | None = None
    for source, moving in _departures(current, here):
        staying = _without(current, source, moving)
        for target in candidates:
            if target == source:
                continue
            for option in options[target]:
                picks = _merge(staying, option, moving)
                if rules.allows(d, picks):
                    break
            else:
                continue
            floor = bill.replicas_cost(d.name, picks) - before - share
            if floor > -1e-6 or (best is not None and floor >= best[0]):
                continue
            delta = bill.move(d.name, picks)
            bill.move(d.name, current)
            if delta < -1e-6 and (best is None or delta < best[0] - 1e-9):
                best = (delta, picks)
    if best is None:
        return False
    rules.moved(d, current, best[1])
    bill.move(d.name, best[1])
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


def _merge(staying: Picks, option: Option, n: int) -> Picks:
    merged: Counter = Counter(dict(staying))
    merged[option] += n
    return tuple(sorted(merged.items(), key=lambda item: item[0].sort_key))


def _candidates(d: Demand, bill: _Bill, options: dict[Location, list[Option]]) -> list[Location]:
    """Where a move may take ``d``'s replicas: where its flow partners run, and its cheapest locations."""
    partners = {loc for f in bill.flows_of.get(d.name, ())
                for loc in bill.at.get(f.target if f.source == d.name else f.source, ())}
    cheapest = sorted(options, key=lambda loc: (bill.problem.replica_cost(options[loc][0], 0), loc))
    by_cloud = {}
    for loc in cheapest:
        by_cloud.setdefault(loc[0], loc)
    chosen = partners | set(cheapest[:CHEAPEST_TRIED]) | set(by_cloud.values())
    return sorted(loc for loc in chosen if loc in options)


def _consolidate(demands: list[Demand], bill: _Bill, rules: _Rules, cheapest: dict[str, dict[Location, list[Option]]],
                 deadline: float | None) -> bool:
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
            if deadline is not None and time.monotonic() > deadline:
                return False
            undo, delta = [], 0.0
            for d in present[source]:
                current = bill.picks[d.name]
                moving = sum(n for o, n in current if o.location == source)
                if target not in cheapest[d.name]:
                    continue
                staying = tuple((o, n) for o, n in current if o.location != source)
                for option in cheapest[d.name][target]:
                    picks = _merge(staying, option, moving)
                    if rules.allows(d, picks):
                        rules.moved(d, current, picks)
                        delta += bill.move(d.name, picks)
                        undo.append((d, current, picks))
                        break
            if delta < -1e-6:
                return True
            for d, current, picks in reversed(undo):
                rules.moved(d, picks, current)
                bill.move(d.name, current)
    return False
