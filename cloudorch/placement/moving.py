"""What local search may do with one resource (``improve``, ``shed``): whether a move keeps its spread, near
and apart rules and the vCPU quotas, where its replicas may go, and its picks once they move."""

from __future__ import annotations

from collections import Counter, defaultdict

from cloudorch.placement.ledger import Ledger, Location, Picks
from cloudorch.placement.problem import Demand, Option, Problem, apart_group, near_group, spread_group

#: other locations tried per resource, besides its flow partners': its cheapest ones overall
CHEAPEST_TRIED = 3


class Rules:
    """Whether a demand's replicas may sit where a move puts them: spread, near, apart and vCPU quotas."""

    def __init__(self, problem: Problem, bill: Ledger) -> None:
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
        #: demands no spread, near or apart rule ties to any place (most of a large stack): anywhere will do
        self.free = {d.name for d in problem.demands
                     if self.spread[d.name] == (1, 1, d.count, d.count, None) and d.name not in self.near_me
                     and d.name not in self.apart}
        self.keys = problem.active_quotas()
        self.masks = problem.quota_masks(self.keys)
        #: per location, the indices of the quotas that cover it (the masks' set bits, listed once)
        self.covering: dict[Location, tuple[int, ...]] = {}
        #: demand -> (its picks, what they count against each quota), for ``_leaving``
        self.leaving: dict[str, tuple[Picks, list[tuple[int, float]]]] = {}
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
            for i in self._covering(o.location):
                self.used[i] += step * o.vcpus * n

    def _covering(self, location: Location) -> tuple[int, ...]:
        found = self.covering.get(location)
        if found is None:
            mask = self.masks[location]
            found = self.covering[location] = tuple(i for i in range(len(self.keys)) if mask >> i & 1)
        return found

    def allows(self, d: Demand, picks: Picks) -> bool:
        at: Counter = Counter()
        for o, n in picks:
            at[o.location] += n
        return self.places_allow(d, at) and self.quotas_allow(d, picks)

    def places_allow(self, d: Demand, at: Counter) -> bool:
        """Spread, near and apart, for the demand's replicas per location ``at``."""
        if d.name in self.free:
            return True
        clouds: dict[str, int] = {}
        for loc, n in at.items():
            clouds[loc[0]] = clouds.get(loc[0], 0) + n
        min_regions, min_clouds, per_region, per_cloud, near = self.spread[d.name]
        if len(at) < min_regions or len(clouds) < min_clouds or max(at.values()) > per_region \
                or max(clouds.values()) > per_cloud:
            return False
        where = self.bill.at
        places = at.keys()
        if near in where and not places <= where[near].keys():
            return False
        if any(not where[r].keys() <= places for r in self.near_me.get(d.name, ()) if r in where):
            return False
        return not any(not places.isdisjoint(where.get(t, ())) for t in self.apart.get(d.name, ()))

    def quotas_allow(self, d: Demand, picks: Picks) -> bool:
        if not self.keys or not d.counts_against_quota:
            return True
        quotas, keys, used = self.problem.quotas, self.keys, self.used
        return all(used[i] + c <= quotas[keys[i]] + 1e-6 for i, c in self._change(d, picks).items() if c > 0)

    def refusing(self, d: Demand, picks: Picks) -> dict[int, float]:
        """The quotas (indices into ``keys``) that refuse ``picks``, with the vCPUs ``picks`` would add to each."""
        quotas, keys, used = self.problem.quotas, self.keys, self.used
        return {i: c for i, c in self._change(d, picks).items() if c > 0 and used[i] + c > quotas[keys[i]] + 1e-6}

    def _change(self, d: Demand, picks: Picks) -> dict[int, float]:
        """vCPUs per quota index that placing ``d`` on ``picks`` instead of where it is would add."""
        change: dict[int, float] = {}
        for o, n in picks:
            for i in self._covering(o.location):
                change[i] = change.get(i, 0.0) + o.vcpus * n
        for i, vcpus in self._leaving(d):
            change[i] = change.get(i, 0.0) - vcpus
        return change

    def _leaving(self, d: Demand) -> list[tuple[int, float]]:
        """What ``d``'s replicas where they are now count against each quota, in order: the same for every
        move tried from there (a search tries dozens), so worked out once per placement of ``d``."""
        current = self.bill.picks[d.name]
        found = self.leaving.get(d.name)
        if found is None or found[0] is not current:
            found = self.leaving[d.name] = (current, [(i, o.vcpus * n) for o, n in current
                                                      for i in self._covering(o.location)])
        return found[1]

    def moved(self, d: Demand, old: Picks, new: Picks) -> None:
        self._count(d, old, -1)
        self._count(d, new, +1)


def merge(staying: Picks, option: Option, n: int) -> Picks:
    """``staying`` with ``n`` more replicas on ``option``, in price order (so equal placements are equal)."""
    out = [(o, k + n) if o is option else (o, k) for o, k in staying]
    if not any(o is option for o, _ in staying):
        out.append((option, n))
        out.sort(key=lambda item: item[0].sort_key)
    return tuple(out)


def cheapest_locations(problem: Problem, d: Demand, options: dict[Location, list[Option]]) -> set[Location]:
    """The demand's ``CHEAPEST_TRIED`` cheapest locations, and its cheapest in each cloud: worked out once
    per option set (resources with the same requirements share one) and problem."""
    key = ("cheapest-locations", CHEAPEST_TRIED, id(d.options))  # the problem holds the options: ids stay theirs
    if key not in problem.memo:
        cheapest = sorted(options, key=lambda loc: (problem.replica_cost(options[loc][0], 0), loc))
        by_cloud: dict[str, Location] = {}
        for loc in cheapest:
            by_cloud.setdefault(loc[0], loc)
        problem.memo[key] = set(cheapest[:CHEAPEST_TRIED]) | set(by_cloud.values())
    return problem.memo[key]


def move(d: Demand, picks: Picks, bill: Ledger, rules: Rules, undo: list) -> float:
    """Place ``d`` on ``picks`` in the ledger and the quotas' counts, noting in ``undo`` how to take it back
    (``Changes.take_back``); returns how much the bill changed."""
    current = bill.picks[d.name]
    rules.moved(d, current, picks)
    undo.append((d, current, picks))
    return bill.move(d.name, picks)


def placed(d: Demand, source: Location, targets, bill: Ledger, rules: Rules,
           options: dict[Location, list[Option]]) -> Picks | None:
    """``d``'s picks with its replicas at ``source`` moved to one of ``targets``, each on its cheapest option
    there (``options``: per location, in price order) that its rules and the quotas allow: of one target, that
    one; of several, the one the bill is cheapest with. None where none is allowed."""
    current = bill.picks[d.name]
    moving = sum(n for o, n in current if o.location == source)
    staying = tuple((o, n) for o, n in current if o.location != source)
    best: tuple[float, Picks] | None = None
    for target in targets:
        if target not in options:
            continue
        at = Counter(bill.at[d.name])
        del at[source]
        at[target] += moving
        if not rules.places_allow(d, at):  # the same for every option there
            continue
        too_big = float("inf")  # vCPUs of an option the quotas refused: as many or more fail too
        for option in options[target]:
            if option.vcpus >= too_big:
                continue
            picks = merge(staying, option, moving)
            if not rules.quotas_allow(d, picks):
                too_big = option.vcpus
                continue
            if len(targets) == 1:
                return picks
            cost = bill.delta(d.name, picks)
            if best is None or cost < best[0] - 1e-9:
                best = (cost, picks)
            break
    return best[1] if best else None
