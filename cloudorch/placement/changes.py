"""Which resources local search need not try again (``improve``): the certain failures.

A resource whose last try found no paying move fails again while nothing its moves are priced by has
changed; the ledger says what each kept move changed (``Ledger.changed``), and this keeps who depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping

from cloudorch.placement.ledger import Ledger, Location, Picks
from cloudorch.placement.moving import Rules
from cloudorch.placement.problem import Demand


class Changes:
    """Which resources cannot have a paying move since they were last tried and none paid, so trying them
    again is skipped: the same search, the same moves kept, only the certain failures are not repeated.

    What a resource's moves cost, and whether its rules allow them, depends on where its flow partners and
    the resources near or apart from it are; on whether the sites it may use hold other members; on whether
    the links between its possible locations and its partners' locations, and their gateways, are used by
    anything else; and on the room left in the vCPU quotas that refused it. The ledger lists what kept moves
    changed, each count with the lowest value it passed through (``Ledger.changed``); a resource whose own
    share of a count is ``k`` sees the others' share go to or from zero only if that lowest value is at most
    ``k``. Where a cloud limits the links a site's gateway takes, a move is also priced by how close a
    gateway's count is to that limit: the ledger lists the highest count each passed through (negated, so
    the lowest level is again what matters), and a resource depends on it once it nears the limit by less
    than the links its moves could add there; likewise a capped NAT (GCP's: per VM up to 32, flat beyond)
    prices a move by its site's count while the others' VMs there and the resource's could pass the cap
    ("nat"), a gateway whose price includes some tunnels (Azure's) by its count of them while the tunnels
    the resource's moves could add or drop there could take it across the allowance: the ledger lists the
    range each count passed through, and a resource depends on the counts at which its moves' price
    changes ("tunnels": a window; below it they pay nothing past the allowance, above it each tunnel), and
    where its network keeps to the blocks it has left, by how many of them are used ("blocks"). A
    resource none of whose dependencies changed that way since its last failure, and none of whose
    refusing quotas has room now for the smallest move it refused, would fail again."""

    #: counts above this are recorded as this (a resource's own share of a count is rarely higher)
    LEVELS = 8

    def __init__(self, bill: Ledger, rules: Rules, neighbours: Mapping[str, set[str]]) -> None:
        self.bill, self.rules, self.neighbours = bill, rules, neighbours
        self.clock = 0
        #: resource -> (clock at its last failure, quota -> least vCPUs refused), while nothing it depends on
        #: has changed since
        self.failed: dict[str, tuple[int, dict[int, float]]] = {}
        #: (kind, what) -> a failed resource's own share of it -> [(resource, clock at that failure)]: who to
        #: forget when it changes (entries of a resource that failed again since are stale and dropped)
        self.dependents: dict[tuple, dict[int, list[tuple[str, int]]]] = {}
        bill.changed.clear()

    def kept(self) -> None:
        """Moves were kept: forget the failures of every resource whose share of what they changed is at
        least the lowest count it passed through."""
        self.clock += 1
        failed, dependents = self.failed, self.dependents
        for key, level in self.bill.changed.items():
            by_share = dependents.get(key)
            if not by_share:
                continue
            if key[0] == "tunnels":  # the range passed through meets the window
                hit = [window for window in by_share if level[0] <= window[1] and level[1] >= window[0]]
            else:
                level = min(level, self.LEVELS)
                hit = [share for share in by_share if share >= level]
            for share in hit:
                for name, when in by_share.pop(share):
                    found = failed.get(name)
                    if found is not None and found[0] == when:
                        del failed[name]
        self.bill.changed.clear()

    def take_back(self, undo: list[tuple[Demand, Picks, Picks]]) -> None:
        """Take back the moves tried since ``Ledger.tentatively`` (``undo``: each demand with its picks before
        and after, in the order moved): the ledger and the quotas' counts are as they were, nothing to stamp."""
        self.bill.take_back()
        for d, before, after in reversed(undo):
            self.rules.moved(d, after, before)
        self.bill.changed.clear()

    def failed_at(self, d: Demand, candidates: list[Location], refused: dict[int, float]) -> None:
        bill = self.bill
        at, member_of = bill.at, bill.terms.member_of
        here = at[d.name]
        # itself too: closing a location moves resources without their own search
        others = {d.name} | self.neighbours.get(d.name, set()) | set(self.rules.near_me.get(d.name, ()))
        depends: dict[tuple, int | tuple[int, int]] = {("resource", other): 0 for other in others}
        net = member_of.get(d.name)
        if net is not None:
            places = set(here).union(candidates)
            for loc in places:
                depends[("site", (net, *loc))] = 1 if loc in here else 0
            mine: dict[tuple, int] = {}  # d's own uses of each link, and of links at each gateway
            for i in bill.flows_of.get(d.name, ()):
                for link in bill.flow_links[i]:
                    mine[("link", link)] = mine.get(("link", link), 0) + 1
            allowance = bill.terms.tunnel_allowance
            # per gateway that includes some tunnels: those d's links end there (what its moves could drop),
            # and those its moves could add
            drop: dict[tuple, int] = {}
            add: dict[tuple, int] = {}
            for key in list(mine):
                for end in key[1]:
                    mine[("gateway", end)] = mine.get(("gateway", end), 0) + 1
                    if end[1] in allowance:
                        drop[end] = drop.get(end, 0) + bill.terms.link_tunnels(key[1][0][1], key[1][1][1])
            theirs = set()  # the sites its partners are at (a hub's partners share a few)
            for i in bill.flows_of.get(d.name, ()):
                partner = bill.partner(i, d.name)
                partner_net = member_of.get(partner)
                if partner_net is not None:
                    theirs.update((partner_net, *loc) for loc in at.get(partner, ()))
            limits = bill.terms.vpn_links
            for b in theirs:
                for loc in places:
                    if loc[0] != b[1]:
                        a = (net, *loc)
                        for key in (("link", (a, b) if a < b else (b, a)), ("gateway", a), ("gateway", b)):
                            depends[key] = mine.get(key, 0)
                        # near a gateway's limit a move is priced by the count itself: one of d's moves adds at
                        # most one link at a partner's site, and at most one per partner site at its own; below
                        # the limit less that, no count changes its price (see ``Ledger.move``)
                        for end, adds in ((a, sum(1 for t in theirs if t[1] != loc[0])), (b, 1)):
                            if end[1] in limits:
                                key = ("gateway-high", end)
                                depends[key] = max(depends.get(key, -limits[end[1]] - 1), adds - limits[end[1]] - 1)
                        # tunnels likewise: at its own site a link to each partner site, at a partner's one
                        tunnels = bill.terms.link_tunnels(loc[0], b[1])
                        if a[1] in allowance:
                            add[a] = add.get(a, 0) + tunnels
                        if b[1] in allowance:
                            add[b] = max(add.get(b, 0), tunnels)
            # a move there changes its count C by -drop..+add: what it pays past the allowance I depends on C
            # only for I - add < C < I + drop (below, nothing past it; above, the same for each tunnel)
            for end in sorted(add.keys() | drop.keys()):
                included = allowance[end[1]].included
                depends[("tunnels", end)] = (included - add.get(end, 0) + 1, included + drop.get(end, 0) - 1)
        limit = bill.limit_of.get(d.name)
        if limit is not None:
            # a move that needs a block is refused while its network's blocks are all used (``Ledger._blocks``)
            depends[("blocks", limit.network)] = 0
        nat_net, capped = bill.terms.nat_members.get(d.name), bill.terms.nat_capped
        if nat_net is not None and capped:
            # a capped NAT prices d's move there by the others' count O only for O in [cap + 1 - d.count, cap]
            # (below, none of d's VMs pass the cap; above, all ride free): a change matters when the lowest
            # count passed through (O + mine) was at most cap + mine and the highest at least cap + 1 - d.count
            # + mine -- keyed by the first's excess over the cap, levelled by the second
            for loc in set(here).union(candidates):
                nat = capped.get(loc[0])
                if nat is not None:
                    mine = here.get(loc, 0)
                    for excess in range(mine + 1):
                        depends[("nat", (nat_net, *loc), excess)] = d.count - mine - nat.up_to - 1
        self.failed[d.name] = (self.clock, refused)
        entry = (d.name, self.clock)
        dependents = self.dependents
        for key, share in depends.items():
            by_share = dependents.get(key)
            if by_share is None:
                by_share = dependents[key] = {}
            by_share.setdefault(share, []).append(entry)

    def unchanged_since_failed(self, name: str) -> bool:
        found = self.failed.get(name)
        if found is None:
            return False
        refused = found[1]
        if refused:
            rules = self.rules
            quotas, keys, used = rules.problem.quotas, rules.keys, rules.used
            if any(used[i] + least <= quotas[keys[i]] + 1e-6 for i, least in refused.items()):
                return False
        return True
