"""The whole bill of one placement, kept up to date resource by resource, for local search (``improve``).

It prices exactly what ``bill.network_cost`` prices (the tests hold the two equal), but incrementally:
what a move would change -- one resource's replicas, its sites, its flows' traffic, the links those flows
need and their gateways -- is worked out without touching the ledger (``delta``), and only a move that is
kept is written (``move``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

from cloudorch.placement.bill import path_index
from cloudorch.placement.problem import FlowTerm, NetworkTerms, Option, Problem
from cloudorch.placement.rates import PATH_KINDS

Location = tuple[str, str]
Picks = tuple[tuple[Option, int], ...]
Site = tuple[str, str, str]  # network, cloud, region
Link = tuple[Site, Site]

_EMPTY: dict = {}
#: what local search charges a month for each VPN link beyond what a site's gateway takes
#: (``NetworkTerms.vpn_links``): more than any move can save, so no kept move adds one and a placement that
#: starts with some sheds them first. Never part of a bill: the planner refuses a placement left with any.
OVER_LIMIT_USD = 1e7


class Ledger:
    def __init__(self, problem: Problem, assignment: Mapping[str, Picks]) -> None:
        self.problem = problem
        self.terms: NetworkTerms = problem.network
        self.picks: dict[str, Picks] = {}
        #: resource -> replicas per location (no location with none)
        self.at: dict[str, dict[Location, int]] = {}
        self.flows: list[FlowTerm] = [f for f in self.terms.flows if f.source in assignment and f.target in assignment]
        #: resource -> indices of the flows it is an end of
        self.flows_of: dict[str, list[int]] = defaultdict(list)
        member_of = self.terms.member_of
        #: per flow: (source, target, GB a month, source's network, target's network), read in the inner loop
        self._ends = [(f.source, f.target, f.gb_month, member_of.get(f.source), member_of.get(f.target))
                      for f in self.flows]
        #: location -> its per-GB prices in ``PATH_KINDS`` order
        self._rates: dict[Location, tuple[float, ...]] = {}
        for i, f in enumerate(self.flows):
            self.flows_of[f.source].append(i)
            self.flows_of[f.target].append(i)
        #: per flow: its traffic's cost and the links it needs, as placed now
        self.flow_cost: list[float] = [0.0] * len(self.flows)
        self.flow_links: list[list[Link]] = [[] for _ in self.flows]
        self.site_members: Counter = Counter()
        self.link_uses: Counter = Counter()
        self.gateway_links: Counter = Counter()
        #: the tunnels each site's gateway ends, where its cloud's gateway price includes some
        #: (``NetworkTerms.tunnel_allowance``): the links' together decide what the gateway adds
        self.gateway_tunnels: Counter = Counter()
        #: VMs each site's NAT serves, where it is billed per VM with a cap (``NetworkTerms.nat_capped``)
        self.site_vms: Counter = Counter()
        #: above this many VMs a site's count decides no move's price: its cap plus a resource's replicas
        counts = [d.count for d in problem.demands if d.name in self.terms.nat_members]
        self._nat_window = max((n.up_to for n in self.terms.nat_capped.values()), default=0) + max(counts, default=0)
        #: VPN links beyond what their sites' gateways take, over all sites (each costs ``OVER_LIMIT_USD``)
        self.over = 0
        #: resource -> the blocks its network has left, where placement keeps to them (``Problem.block_limits``)
        self.limit_of = {name: limit for limit in problem.block_limits for name in limit.members}
        #: for those networks: (network, location) -> members there, and network -> unreserved locations used
        self.block_members: Counter = Counter()
        self.new_sites: Counter = Counter()
        #: unreserved locations beyond what their networks have blocks for: each costs ``OVER_LIMIT_USD`` while
        #: an attempt of several moves passes through it, and no move (``delta``) or attempt kept leaves one
        self.beyond_blocks = 0
        self.total = 0.0
        #: moves worked out so far (``improve.Limit`` counts them)
        self.evaluations = 0
        #: what moves changed that another resource's moves are priced by (``improve._Changes``): the moved
        #: resource, sites' member counts, links' and gateways' use counts -- each with the lowest count it
        #: passed through (a resource's move is priced by whether the others' count is zero or not); a
        #: gateway's tunnels with the lowest and highest count they passed through
        self.changed: dict[tuple, int | tuple[int, int]] = {}
        #: what each move since ``tentatively`` replaced, to take them back (None: moves are final)
        self._journal: list | None = None
        self._unit: dict[tuple[str, int], float] = {}
        #: resource -> what its replicas cost where they are now (``replicas_cost`` of its picks)
        self.machines: dict[str, float] = {}
        for name, picks in sorted(assignment.items()):
            self.move(name, picks)

    def partner(self, index: int, name: str) -> str:
        f = self.flows[index]
        return f.target if f.source == name else f.source

    def replicas_cost(self, name: str, picks: Picks) -> float:
        """The objective's price of these replicas, with each one's egress and NAT where it runs."""
        usd = 0.0
        units = self._unit
        for o, n in picks:
            # by the option's identity: a problem's options live as long as it does, and hashing one hashes
            # every field
            unit = units.get((name, id(o)))
            if unit is None:
                extra = self.terms.replica_extra.get(name, {}).get(o.location, 0.0)
                unit = units[(name, id(o))] = self.problem.replica_cost(o, 0) + extra
            usd += unit * n
        return usd

    def delta(self, name: str, picks: Picks) -> float:
        """How much the bill would change if ``name`` were placed on ``picks`` (nothing is changed); infinite
        for a move that takes a block its network has not got: a hard limit, where a link beyond a gateway's
        is a charge (a move shedding such links must not pay for itself with a block)."""
        delta, *_, blocks_over = self._evaluate(name, picks)
        return delta if blocks_over <= 0 else float("inf")

    def delta_over(self, name: str, picks: Picks) -> tuple[float, int]:
        """``delta`` without what links beyond the gateways' limits are charged, and how many more such links
        the move would make (negative: fewer)."""
        delta, _, _, _, _, over, *_, blocks_over = self._evaluate(name, picks)
        return delta - OVER_LIMIT_USD * (over + blocks_over), over + blocks_over

    def move(self, name: str, picks: Picks) -> float:
        """Place ``name`` on ``picks``; returns how much the bill changed."""
        delta, at, flows, link_change, gateway_change, over, vms_change, tunnel_change, blocks_step, blocks_over = \
            self._evaluate(name, picks)
        net = self.terms.member_of.get(name)
        note = self._note
        note(("resource", name), 0)
        old_at = self.at.get(name, _EMPTY)
        if self._journal is not None:
            self._journal.append((name, self.picks.get(name), old_at, self.machines.get(name),
                                  {i: (self.flow_cost[i], self.flow_links[i]) for i in flows},
                                  link_change, gateway_change, delta, over, vms_change, tunnel_change, blocks_step,
                                  blocks_over))
        site_vms = self.site_vms
        for site, step in vms_change.items():
            before = site_vms[site]
            site_vms[site] = before + step
            # a NAT-using resource's move is priced by the others' count only where the change takes it across
            # the window in which the resource's own VMs pass the cap (``Changes``): by how far the lowest count
            # passed through was above the cap, with the highest passed through (negated, as for gateways); a
            # count that stays above the cap by more than any resource's VMs changes no move's price
            low = min(before, before + step)
            if low <= self._nat_window:
                note(("nat", site, max(0, low - self.terms.nat_capped[site[1]].up_to)), -max(before, before + step))
        if net is not None:
            members = self.site_members
            for loc in old_at.keys() ^ at.keys():
                site = (net, *loc)
                before = members[site]
                members[site] = after = before + (1 if loc in at else -1)
                note(("site", site), min(before, after))
        limit = self.limit_of.get(name) if self.limit_of else None
        if limit is not None:
            members, reserved, opened = self.block_members, limit.left.reserved, False
            for loc in old_at.keys() ^ at.keys():
                before = members[(limit.network, loc)]
                members[(limit.network, loc)] = after = before + (1 if loc in at else -1)
                opened |= loc not in reserved and not (before and after)
            self.new_sites[limit.network] += blocks_step
            if opened:
                # a member's move is priced by whether it needs a block, and by whether one is left
                note(("blocks", limit.network), 0)
        self.beyond_blocks += blocks_over
        for i, (cost, links) in flows.items():
            self.flow_cost[i], self.flow_links[i] = cost, links
        uses = self.link_uses
        for link, step in link_change.items():
            if step:
                before = uses[link]
                uses[link] = before + step
                note(("link", link), min(before, before + step))
        gateways, limits = self.gateway_links, self.terms.vpn_links
        for end, step in gateway_change.items():
            if step:
                before = gateways[end]
                gateways[end] = before + step
                note(("gateway", end), min(before, before + step))
                if end[1] in limits:
                    # a move is priced by the count itself once it nears the limit: the highest count passed
                    # through, negated so that the lowest level is again what matters (``Changes``)
                    note(("gateway-high", end), -max(before, before + step))
        tunnels = self.gateway_tunnels
        for end, step in tunnel_change.items():
            if step:
                before = tunnels[end]
                tunnels[end] = before + step
                self._note_range(("tunnels", end), before, before + step)
        self.picks[name], self.at[name] = picks, at
        self.machines[name] = self.replicas_cost(name, picks)
        self.total += delta
        self.over += over
        return delta

    def tentatively(self) -> None:
        """Moves from now on may be taken back together (``take_back``) or kept (``keep``)."""
        self._journal = []

    def keep(self) -> None:
        self._journal = None

    def take_back(self) -> None:
        """Undo every move since ``tentatively``, newest first, restoring exactly what each one changed
        (undoing by moving back would price every move again)."""
        journal, self._journal = self._journal or [], None
        members, uses, gateways, site_vms = self.site_members, self.link_uses, self.gateway_links, self.site_vms
        for (name, picks, at, machines, flows, link_change, gateway_change, delta, over, vms_change, tunnel_change,
             blocks_step, blocks_over) in reversed(journal):
            net = self.terms.member_of.get(name)
            if net is not None:
                for loc in at.keys() ^ self.at[name].keys():
                    members[(net, *loc)] += 1 if loc in at else -1
            limit = self.limit_of.get(name) if self.limit_of else None
            if limit is not None:
                for loc in at.keys() ^ self.at[name].keys():
                    self.block_members[(limit.network, loc)] += 1 if loc in at else -1
                self.new_sites[limit.network] -= blocks_step
            self.beyond_blocks -= blocks_over
            for i, (cost, links) in flows.items():
                self.flow_cost[i], self.flow_links[i] = cost, links
            for link, step in link_change.items():
                uses[link] -= step
            for end, step in gateway_change.items():
                gateways[end] -= step
            for site, step in vms_change.items():
                site_vms[site] -= step
            for end, step in tunnel_change.items():
                self.gateway_tunnels[end] -= step
            self.picks[name], self.at[name], self.machines[name] = picks, at, machines
            self.total -= delta
            self.over -= over

    def _note(self, key: tuple, level: int) -> None:
        changed = self.changed
        if level < changed.get(key, level + 1):
            changed[key] = level

    def _note_range(self, key: tuple, before: int, after: int) -> None:
        """A count that went from ``before`` to ``after``: the range it passed through since the changes were
        last read (a move near a gateway's tunnel allowance is priced by where the count is: ``Changes``)."""
        low, high = min(before, after), max(before, after)
        found = self.changed.get(key)
        self.changed[key] = (low, high) if found is None else (min(found[0], low), max(found[1], high))

    def _evaluate(self, name: str, picks: Picks):
        # the inner loop of local search (~130,000 calls at 1,000 resources): plain dicts, each set worked out
        # once, and the same additions in the same order as before, so the same moves are kept
        self.evaluations += 1
        at: dict[Location, int] = {}
        for o, n in picks:
            loc = o.location
            at[loc] = at.get(loc, 0) + n
        old_at = self.at.get(name) or _EMPTY
        delta = self.replicas_cost(name, picks) - self.machines.get(name, 0.0)
        changed = at.keys() ^ old_at.keys()
        terms = self.terms
        blocks_step = blocks_over = 0
        if changed:
            net = terms.member_of.get(name)
            if net is not None:
                members = self.site_members
                for loc in changed:
                    count = members[(net, *loc)]
                    if loc in at and count == 0:
                        delta += terms.site.get(loc[0], 0.0)
                    elif loc in old_at and count == 1:
                        delta -= terms.site.get(loc[0], 0.0)
            fixed = terms.location_fixed.get(name, _EMPTY)
            for loc in changed:
                delta += fixed.get(loc[0], 0.0) * (1 if loc in at else -1)
            limit = self.limit_of.get(name) if self.limit_of else None
            if limit is not None:
                blocks_step, blocks_over = self._blocks(limit, changed, at, old_at)
                if blocks_over:
                    delta += OVER_LIMIT_USD * blocks_over
        vms_change: dict[Site, int] = {}
        nat_net = terms.nat_members.get(name) if terms.nat_capped else None
        if nat_net is not None:
            capped, site_vms = terms.nat_capped, self.site_vms
            for loc in at.keys() | old_at.keys():
                step = at.get(loc, 0) - old_at.get(loc, 0)
                nat = capped.get(loc[0])
                if step and nat is not None:
                    site = (nat_net, *loc)
                    before = site_vms[site]
                    # each VM is charged the per-VM price with its replica; a site past the cap gets it back
                    delta -= nat.rebate(before + step) - nat.rebate(before)
                    vms_change[site] = step
        flows: dict[int, tuple[float, list[Link]]] = {}
        link_change: dict[Link, int] = {}
        same_places = not changed  # then no flow needs another link
        placed, ends = self.at, self._ends
        for i in self.flows_of.get(name, ()):
            src, dst, gb, src_net, dst_net = ends[i]
            source = at if src == name else placed.get(src)
            target = at if dst == name else placed.get(dst)
            cost = self._traffic(gb, source, target)
            delta += cost - self.flow_cost[i]
            if same_places:
                flows[i] = (cost, self.flow_links[i])
                continue
            links = self._links(src_net, dst_net, source, target)
            for link in links:
                link_change[link] = link_change.get(link, 0) + 1
            for link in self.flow_links[i]:
                link_change[link] = link_change.get(link, 0) - 1
            flows[i] = (cost, links)
        gateway_change: dict[Site, int] = {}
        tunnel_change: dict[Site, int] = {}
        uses, allowance = self.link_uses, terms.tunnel_allowance
        for link, step in link_change.items():
            before = uses[link]
            after = before + step
            if (before == 0) != (after == 0):
                sign = 1 if after else -1
                delta += sign * terms.link(link[0][1], link[1][1])
                for end in link:
                    gateway_change[end] = gateway_change.get(end, 0) + sign
                    if end[1] in allowance:
                        tunnel_change[end] = tunnel_change.get(end, 0) + sign * terms.link_tunnels(link[0][1], link[1][1])
        over = 0
        limits = terms.vpn_links
        for end, step in gateway_change.items():
            before = self.gateway_links[end]
            if (before == 0) != (before + step == 0):
                delta += (1 if step > 0 else -1) * terms.vpn_site.get(end[1], 0.0)
            limit = limits.get(end[1])
            if limit is not None and step:
                over += max(0, before + step - limit) - max(0, before - limit)
        if over:
            delta += OVER_LIMIT_USD * over
        for end, step in tunnel_change.items():
            if step:
                before = self.gateway_tunnels[end]
                delta += terms.gateway_tunnels(end[1], before + step) - terms.gateway_tunnels(end[1], before)
        return delta, at, flows, link_change, gateway_change, over, vms_change, tunnel_change, blocks_step, blocks_over

    def _blocks(self, limit, changed, at: Mapping[Location, int], old_at: Mapping[Location, int]) -> tuple[int, int]:
        """How a move of one member changes the unreserved locations its network uses (``changed``: the
        locations it enters or leaves), and the locations beyond the network's blocks."""
        members, reserved, step = self.block_members, limit.left.reserved, 0
        for loc in changed:
            if loc not in reserved:
                count = members[(limit.network, loc)]
                if loc in at and count == 0:
                    step += 1
                elif loc in old_at and count == 1:
                    step -= 1
        if not step:
            return 0, 0
        before, free = self.new_sites[limit.network], limit.left.free
        return step, max(0, before + step - free) - max(0, before - free)

    def _traffic(self, gb: float, source: Mapping[Location, int] | None, target: Mapping[Location, int] | None) -> float:
        """A flow's traffic cost (``gb`` a month), its ends placed at ``source`` and ``target``: each GB at the
        nearest path (``bill.path_kind``)."""
        if not gb or not source or not target:
            return 0.0
        usd = 0.0
        total = sum(source.values())
        clouds = {loc[0] for loc in target}
        rates = self._rates
        for loc, n in source.items():
            rate = rates.get(loc) or self._rates_at(loc)
            usd += gb * n / total * rate[path_index(loc, target, clouds)]
        return usd

    def _rates_at(self, loc: Location) -> tuple[float, ...]:
        found = self._rates[loc] = tuple(self.terms.per_gb.get((*loc, kind), 0.0) for kind in PATH_KINDS)
        return found

    @staticmethod
    def _links(src_net: str | None, dst_net: str | None, source: Mapping[Location, int] | None,
               target: Mapping[Location, int] | None) -> list[Link]:
        """The VPN links a flow needs: one per pair of its ends' sites in different clouds."""
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

    def beyond_limit(self, link: Link) -> int:
        """How many of the link's two ends hold more links than their gateway takes (what dropping it could
        shed)."""
        limits, gateways = self.terms.vpn_links, self.gateway_links
        return sum(1 for end in link if end[1] in limits and gateways[end] > limits[end[1]])

    def tunnels_share(self, link: Link) -> float:
        """The most dropping the link takes off what its ends' gateways charge for tunnels past their allowance."""
        allowance = self.terms.tunnel_allowance
        ends = [end for end in link if end[1] in allowance]
        if not ends:
            return 0.0
        return sum(allowance[end[1]].beyond for end in ends) * self.terms.link_tunnels(link[0][1], link[1][1])

    def nat_gain(self, site: Site, vms: int) -> float:
        """What ``vms`` more VMs at ``site`` would get back from its capped NAT (none where it has none): the
        most moving them there saves beyond their replicas' price (a move away only loses rebate)."""
        before = self.site_vms[site]
        return self.terms.nat_rebate(site, before + vms) - self.terms.nat_rebate(site, before)

    def network_share(self, name: str) -> float:
        """At most how much of the bill moving ``name``'s replicas could save, besides its machines: its flows'
        traffic, the links (with their gateways) only its flows use, and the sites it is in."""
        usd = 0.0
        mine: Counter = Counter()
        for i in self.flows_of.get(name, ()):
            usd += self.flow_cost[i]
            mine.update(self.flow_links[i])
        for link, uses in mine.items():
            if uses == self.link_uses[link]:  # nothing else keeps this link
                a, b = link
                usd += self.terms.link(a[1], b[1]) + self.terms.vpn_site.get(a[1], 0.0) + self.terms.vpn_site.get(b[1], 0.0)
                usd += OVER_LIMIT_USD * self.beyond_limit(link) + self.tunnels_share(link)
        if name in self.terms.member_of:
            usd += sum(self.terms.site.get(loc[0], 0.0) for loc in self.at[name])
        fixed = self.terms.location_fixed.get(name, {})
        usd += OVER_LIMIT_USD * self.beyond_blocks  # never any between kept moves: a bound all the same
        return usd + sum(fixed.get(loc[0], 0.0) for loc in self.at.get(name, ()))
