"""Local search's move for a VPN link beyond what a gateway takes (``improve``): everything on one side of
the link that talks across it leaves that location together."""

from __future__ import annotations

import math

from cloudorch.placement.changes import Changes
from cloudorch.placement.ledger import Ledger, Link, Location, Site
from cloudorch.placement.moving import Rules, cheapest_locations, move, placed
from cloudorch.placement.problem import Demand, Option

#: a link whose one side has more resources talking across it than this is not dropped by moving them all
SHED_MOVERS = 64

Cheapest = dict[str, dict[Location, list[Option]]]
#: a way to drop a link: what it changes the bill by, who moves, from where, to where
Drop = tuple[float, list[Demand], Location, Location]


def shed(demands: list[Demand], bill: Ledger, rules: Rules, cheapest: Cheapest, changes: Changes) -> bool:
    """Drop a VPN link at a gateway that holds more than its cloud lets it: every resource on one side of the
    link that talks across it (with what must stay near it) leaves that location, together -- for one other
    location, or, where its rules keep it from going there, for the one of the locations in use that costs
    least (one at a time none of them can drop the link: the others keep it). Links are tried fewest flows
    first, and the cheapest way found to drop the first droppable one is kept (the bill charges each link
    beyond a limit more than any move saves). Returns whether one was kept."""
    limits = bill.terms.vpn_links
    by_name = {d.name: d for d in demands}
    in_use = sorted({loc for at in bill.at.values() for loc in at})
    for site in sorted(site for site, n in bill.gateway_links.items() if site[1] in limits and n > limits[site[1]]):
        # the links fewest flows use first: the fewest resources to move, and the likeliest to pay
        for link in sorted((link for link, uses in bill.link_uses.items() if uses and site in link),
                           key=lambda link: (bill.link_uses[link], link)):
            best = _cheapest_drop(link, by_name, in_use, bill, rules, cheapest, changes)
            if best is not None:
                _, movers, source, target = best
                _evacuate(movers, source, target, in_use, bill, rules, cheapest)
                bill.keep()
                changes.kept()
                return True
    return False


def _cheapest_drop(link: Link, by_name: dict[str, Demand], in_use: list[Location], bill: Ledger, rules: Rules,
                   cheapest: Cheapest, changes: Changes) -> Drop | None:
    """The move that drops ``link`` and lowers the bill most, tried and taken back; None if none does."""
    member_of, limits = bill.terms.member_of, bill.terms.vpn_links
    ends = [(f.source, f.target) for f in (bill.flows[i] for i, links in enumerate(bill.flow_links) if link in links)]
    best: Drop | None = None
    for here, there in (link, link[::-1]):
        names = {end for pair in ends for end, other in (pair, pair[::-1])
                 if member_of.get(end) == here[0] and here[1:] in bill.at[end]
                 and member_of.get(other) == there[0] and there[1:] in bill.at[other]}
        direct = _with_near(names, here[1:], bill, rules)
        # where the link can go: beside the other side or into its cloud, to a site of this cloud whose gateway
        # has room, or to a new site of either cloud
        places = {loc for loc in in_use if loc[0] == there[1]
                  or (loc[0] == here[1] and bill.gateway_links[(here[0], *loc)] < limits.get(here[1], math.inf))}
        # those alone; or, if that drops nothing, with everything at that location they talk to (moving alone,
        # they would only take the link along)
        for group in dict.fromkeys((frozenset(direct), frozenset(_cluster(direct, here, bill, rules)))):
            if len(group) > SHED_MOVERS:
                continue
            movers = [by_name[name] for name in sorted(group)]
            fresh = {loc for d in movers for loc in cheapest_locations(bill.problem, d, cheapest[d.name])
                     if loc[0] in (here[1], there[1]) and loc not in in_use}
            found = None
            for target in sorted((places | fresh) - {here[1:]}):
                delta, undo, left = _evacuate(movers, here[1:], target, in_use, bill, rules, cheapest)
                # a block the network has not got is never traded for links beyond a gateway's limit
                left += bill.beyond_blocks
                changes.take_back(undo)
                if not left and delta < -1e-6 and (found is None or delta < found[0] - 1e-9):
                    found = (delta, movers, here[1:], target)
            if found is not None:
                best = found if best is None or found[0] < best[0] - 1e-9 else best
                break
    return best


def _cluster(names: set[str], site: Site, bill: Ledger, rules: Rules) -> set[str]:
    """``names`` and every resource of ``site`` that a flow or a near rule joins to one of them, directly or
    through others there."""
    network, location = site[0], site[1:]
    member_of, out, todo = bill.terms.member_of, set(names), list(names)
    while todo and len(out) <= SHED_MOVERS:
        name = todo.pop()
        for other in _with_near({bill.partner(i, name) for i in bill.flows_of.get(name, ())}, location, bill, rules):
            if other not in out and member_of.get(other) == network and location in bill.at.get(other, ()):
                out.add(other)
                todo.append(other)
    return out


def _with_near(names: set[str], source: Location, bill: Ledger, rules: Rules) -> set[str]:
    """``names`` and every resource at ``source`` that a near rule ties to one of them, either way."""
    out, todo = set(names), list(names)
    while todo:
        name = todo.pop()
        near = rules.spread[name][4]
        for other in [near] * bool(near) + rules.near_me.get(name, []):
            if other not in out and source in bill.at.get(other, ()):
                out.add(other)
                todo.append(other)
    return out


def _evacuate(movers: list[Demand], source: Location, target: Location, elsewhere: list[Location], bill: Ledger,
              rules: Rules, cheapest: Cheapest) -> tuple[float, list, int]:
    """Move, tentatively, every one of ``movers``' replicas at ``source`` to ``target`` -- or, where its rules or
    the quotas keep one from it, to the location of ``elsewhere`` the bill is cheapest with -- each on its
    cheapest allowed option there; a resource whose near partner has not moved yet is tried again after the
    others. Returns what the bill changed by, what to undo, and how many could not move."""
    bill.tentatively()
    undo, delta, pending = [], 0.0, list(movers)
    others = [loc for loc in elsewhere if loc not in (source, target)]
    for _ in range(2):
        blocked = []
        for d in pending:
            picks = (placed(d, source, (target,), bill, rules, cheapest[d.name])
                     or placed(d, source, others, bill, rules, cheapest[d.name]))
            if picks is None:
                blocked.append(d)
                continue
            delta += move(d, picks, bill, rules, undo)
        pending = blocked
        if not pending:
            break
    return delta, undo, len(pending)
