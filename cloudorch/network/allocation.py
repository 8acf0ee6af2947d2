"""Addresses that never move: a block per site, a BGP ASN per VPN site, inside /30s per VPN link (unique on
each gateway it ends on).

Changing any of them replaces a network, a gateway or a tunnel and everything behind it, so each is
allocated once and kept: an earlier allocation (``Allocation``, read from the record file ``record.py``
writes beside the project) is honoured first, and only what is new is allocated. A new item takes the slot
a stable hash of its name picks, probing onward past taken slots; with the record, nothing ever taken moves
(a location that leaves keeps its block reserved, so it gets it back when it returns).
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from cloudorch.errors import InfeasiblePlacement, UsageError
from cloudorch.network.model import TUNNELS_PER_LINK, NetworkBlock, Renumbering, Tunnel
from cloudorch.placement.problem import BlocksLeft

#: private ASNs the sites' gateways use; Azure reserves 65515 and 65517-65520, so the range stops below
ASN_FIRST, ASN_LAST = 64600, 65499
#: where tunnels' inside /30s come from: link-local space, the range every cloud accepts first (Azure takes
#: custom BGP (APIPA) addresses only in 169.254.21.0-169.254.22.255), then the rest of 169.254.0.0/16 in
#: address order for links whose two sides both accept more. A recorded group is an index into this order,
#: so records written when the first range was all there was keep their meaning.
SHARED_TUNNEL_RANGES = (ipaddress.IPv4Network("169.254.21.0/24"), ipaddress.IPv4Network("169.254.22.0/24"))
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")

SiteKey = tuple[str, str, str]  # network, cloud, region


@dataclass
class Allocation:
    """Everything allocated for one stack so far: what the record file holds."""

    #: site -> (the network's CIDR when allocated, the block)
    blocks: dict[SiteKey, tuple[str, str]] = field(default_factory=dict)
    asns: dict[SiteKey, int] = field(default_factory=dict)
    #: link id -> index of its group of four /30s
    tunnel_groups: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Allocation:
        return Allocation(dict(self.blocks), dict(self.asns), dict(self.tunnel_groups))


def _stable(key: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % n


def _probe(key: str, n: int, taken: set[int]) -> int | None:
    start = _stable(key, n)
    for step in range(n):
        slot = (start + step) % n
        if slot not in taken:
            return slot
    return None


def block_size(network_cidr: str) -> int:
    """The prefix of a site's block: a quarter of the network or less, never smaller than a /24."""
    return _block_prefix(ipaddress.IPv4Network(network_cidr).prefixlen)


def _block_prefix(prefixlen: int) -> int:
    return min(max(prefixlen + 2, 20) if prefixlen <= 18 else prefixlen + 2, 24)


def blocks_in(prefixlen: int) -> int:
    """How many sites' blocks a network of this prefix holds."""
    return 2 ** (_block_prefix(prefixlen) - prefixlen)


#: no private range is larger than 10.0.0.0/8, so no larger network is worth suggesting
LARGEST_PREFIX = 8


def larger_network(prefixlen: int) -> int | None:
    """The prefix of the smallest network holding four times the blocks of a /``prefixlen`` (else a /8, the
    largest private one); None for a /8. A block is a quarter of a /18 to /20 network but a /20 in any larger
    one, so a /18, a /19 and a /20 all hold four: "two bits shorter" is not always more."""
    if prefixlen <= LARGEST_PREFIX:
        return None
    wanted = 4 * blocks_in(prefixlen)
    return next((q for q in range(prefixlen - 1, LARGEST_PREFIX, -1) if blocks_in(q) >= wanted), LARGEST_PREFIX)


def allocate_blocks(networks: Mapping[str, str], sites: Iterable[SiteKey], allocation: Allocation) -> tuple[NetworkBlock, ...]:
    """A block for every site (``networks``: name -> CIDR), keeping every block ``allocation`` holds for an
    unchanged network; ``allocation`` is updated with the new ones."""
    out = []
    by_network: dict[str, list[SiteKey]] = {}
    for site in sorted(set(sites)):
        by_network.setdefault(site[0], []).append(site)
    for network, wanted in sorted(by_network.items()):
        cidr = networks[network]
        net = ipaddress.IPv4Network(cidr)
        subnets, kept = _kept(network, cidr, allocation)
        # a network whose CIDR changed is a new network: its old blocks mean nothing now
        for site in [s for s in allocation.blocks if s[0] == network and s not in kept]:
            del allocation.blocks[site]
        taken = set(kept.values())
        for site in wanted:
            if site not in kept:
                slot = _probe(f"{site[1]}/{site[2]}", len(subnets), taken)
                if slot is None:
                    raise InfeasiblePlacement(
                        f"network {network!r} ({cidr}) has no block left for {site[1]}/{site[2]}: each location gets "
                        f"a /{subnets[0].prefixlen}, {len(subnets)} in all, and {len(taken)} are taken",
                        conflicts=[f"resources.{network}.cidr"],
                        hint=_larger_hint(net.prefixlen) + "narrow placement.regions / spread (blocks of locations no "
                             "longer used stay reserved in .cloudorch/<stack>.network.json; delete their entries to "
                             "free them)")
                kept[site] = slot
                taken.add(slot)
                allocation.blocks[site] = (cidr, str(subnets[slot]))
            out.append(NetworkBlock(network=network, cloud=site[1], region=site[2], cidr=str(subnets[kept[site]])))
    return tuple(out)


def blocks_left(networks: Mapping[str, str], allocation: Allocation) -> dict[str, BlocksLeft]:
    """What each network (name -> CIDR) has left for placement to keep to: the locations whose blocks
    ``allocate_blocks`` would keep, and how many blocks it has in all."""
    out = {}
    for network, cidr in sorted(networks.items()):
        subnets, kept = _kept(network, cidr, allocation)
        out[network] = BlocksLeft(cidr=cidr, blocks=len(subnets), reserved=frozenset(site[1:] for site in kept))
    return out


def _kept(network: str, cidr: str, allocation: Allocation) -> tuple[list[ipaddress.IPv4Network], dict[SiteKey, int]]:
    """The network's blocks, and the recorded sites whose block stays theirs (the index of it): those of the
    network's current CIDR; a network whose CIDR changed is a new network, its old blocks mean nothing now."""
    subnets = list(ipaddress.IPv4Network(cidr).subnets(new_prefix=block_size(cidr)))
    index = {str(s): i for i, s in enumerate(subnets)}
    return subnets, {site: index[block] for site, (was, block) in allocation.blocks.items()
                     if site[0] == network and was == cidr and block in index}


def renumberings(networks: Mapping[str, str], recorded: Mapping[SiteKey, tuple[str, str]],
                 blocks: Iterable[NetworkBlock]) -> tuple[Renumbering, ...]:
    """What ``allocate_blocks`` did to the ``recorded`` blocks (``Allocation.blocks`` before it ran) of
    networks whose CIDR changed: it let them go, so the sites among ``blocks`` got new ones."""
    now = {(b.network, b.cloud, b.region): b.cidr for b in blocks}
    planned = {site[0] for site in now}
    changed: dict[tuple[str, str], list[SiteKey]] = {}
    for site, (was, _) in recorded.items():
        # a network without sites in this plan keeps its record as it is (allocate_blocks never looks at it)
        if site[0] in planned and was != networks[site[0]]:
            changed.setdefault((site[0], was), []).append(site)
    out = []
    for (network, was), sites in sorted(changed.items()):
        moved = tuple((f"{s[1]}/{s[2]}", recorded[s][1], now[s]) for s in sorted(sites)
                      if s in now and now[s] != recorded[s][1])
        released = tuple(f"{s[1]}/{s[2]}" for s in sorted(sites) if s not in now)
        if moved or released:
            out.append(Renumbering(network=network, recorded_cidr=was, cidr=networks[network], moved=moved,
                                   released=released))
    return tuple(out)


def _larger_hint(prefixlen: int) -> str:
    larger = larger_network(prefixlen)
    if larger is None:
        return ""
    return f"a larger network holds more blocks (a /{larger} holds {blocks_in(larger)}), or "


def allocate_asns(sites: Iterable[SiteKey], allocation: Allocation) -> dict[SiteKey, int]:
    """A private BGP ASN per VPN site, distinct within the stack and kept once given."""
    span = ASN_LAST - ASN_FIRST + 1
    taken = {asn - ASN_FIRST for asn in allocation.asns.values()}
    out = {}
    for site in sorted(set(sites)):
        if site not in allocation.asns:
            slot = _probe("/".join(site), span, taken)
            if slot is None:
                raise InfeasiblePlacement("more VPN sites than private ASNs", conflicts=["resources"])
            taken.add(slot)
            allocation.asns[site] = ASN_FIRST + slot
        out[site] = allocation.asns[site]
    return out


#: what to do about a record that was edited by hand (or merged) into something no cloud would take
RECORD_HINT = ("restore .cloudorch/<stack>.network.json from version control; if nothing of the stack was ever applied, "
               "delete its tunnels entries to allocate them afresh")


@dataclass(frozen=True)
class InsideAddressing:
    """What one cloud's VPN gateways accept as tunnels' inside addresses, and how far those must differ.

    ``scope`` "site": a tunnel's /30 must differ from every other tunnel on the same site's gateway, the one
    BGP speaker that sees them (AWS: per virtual private gateway; Azure: per VPN gateway). "network": from
    every tunnel of the whole network on that cloud, all regions (GCP: all Cloud Routers of a VPC). The
    default is the narrowest a cloud could ask: the range every cloud accepts, one address space per network.
    """

    ranges: tuple[str, ...] = tuple(str(r) for r in SHARED_TUNNEL_RANGES)
    scope: Literal["site", "network"] = "network"

    def gateway(self, site: SiteKey) -> str:
        """The name of the address space a tunnel at ``site`` lives in."""
        network, cloud, region = site
        return f"{network}@{cloud}/{region}" if self.scope == "site" else f"{network}@{cloud}"


@dataclass(frozen=True)
class TunnelDemand:
    """A VPN link asking for inside addresses: its id, the address spaces of its two sides
    (``InsideAddressing.gateway``) and the ranges both sides accept."""

    link: str
    gateways: tuple[str, str]
    ranges: tuple[str, ...]


@cache
def _pool() -> tuple[int, ...]:
    """The first address of every /30 of link-local space, in allocation order (see SHARED_TUNNEL_RANGES)."""
    shared = [int(r.network_address) + 4 * i for r in SHARED_TUNNEL_RANGES for i in range(r.num_addresses // 4)]
    first, taken = int(LINK_LOCAL.network_address), set(shared)
    rest = [a for a in range(first, first + LINK_LOCAL.num_addresses, 4) if a not in taken]
    return tuple(shared + rest)


def group_count() -> int:
    """How many groups of four /30s there are: a recorded group must be below this."""
    return len(_pool()) // TUNNELS_PER_LINK


@cache
def _groups_within(ranges: tuple[str, ...]) -> tuple[int, ...]:
    """The groups whose four /30s all lie inside ``ranges``, in allocation order."""
    nets = list(ipaddress.collapse_addresses(map(ipaddress.IPv4Network, ranges)))
    starts = [int(n.network_address) for n in nets]
    ends = [int(n.broadcast_address) for n in nets]
    pool = _pool()

    def inside(a: int) -> bool:
        i = bisect.bisect_right(starts, a) - 1
        return i >= 0 and a + 3 <= ends[i]

    return tuple(g for g in range(len(pool) // TUNNELS_PER_LINK)
                 if all(inside(pool[g * TUNNELS_PER_LINK + i]) for i in range(TUNNELS_PER_LINK)))


def excluding(whole: str, reserved: Iterable[str]) -> tuple[str, ...]:
    """``whole`` without the ``reserved`` CIDRs, as sorted CIDRs (a cloud's accepted inside ranges)."""
    left = [ipaddress.IPv4Network(whole)]
    for cut in map(ipaddress.IPv4Network, reserved):
        left = [piece for net in left if not net.subnet_of(cut)
                for piece in (net.address_exclude(cut) if cut.subnet_of(net) else (net,))]
    return tuple(str(n) for n in sorted(left))


def common_ranges(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """The ranges both ``a`` and ``b`` cover, as sorted CIDRs."""
    out = set()
    for x in ipaddress.collapse_addresses(map(ipaddress.IPv4Network, a)):
        for y in ipaddress.collapse_addresses(map(ipaddress.IPv4Network, b)):
            if x.overlaps(y):  # two CIDRs that overlap nest: the smaller is the overlap
                out.add(x if x.prefixlen >= y.prefixlen else y)
    return tuple(str(n) for n in sorted(out))


def allocate_tunnels(demands: Iterable[TunnelDemand], allocation: Allocation,
                     departed: Iterable[TunnelDemand] = ()) -> dict[str, tuple[Tunnel, ...]]:
    """Four inside /30s per VPN link, kept once given, none shared by two links that meet at a gateway.

    A new link takes, among the groups both its sides accept, the first free one on both its gateways: the
    range every cloud accepts first, from where a stable hash of its id points, then the rest in address
    order. ``departed``: recorded links this plan no longer has, whose groups stay reserved on their gateways
    (so a link that returns gets its addresses back); a recorded link in neither is reserved everywhere.
    Side a's address is the first host of each /30 and side b's the second (``links`` swaps them where only
    side b's cloud insists on the first)."""
    demands = {d.link: d for d in demands}
    known = {**{d.link: d for d in departed}, **demands}
    on_gateway: dict[str, set[int]] = {}
    everywhere: set[int] = set()
    holder: dict[tuple[str, int], str] = {}
    for link, group in sorted(allocation.tunnel_groups.items()):
        if link in known:
            if link in demands and group not in _groups_within(demands[link].ranges):
                raise UsageError(f"the allocation record gives the VPN link {link} inside addresses its gateways do not "
                                 f"accept (group {group}; they take {', '.join(demands[link].ranges) or 'none'})",
                                 hint=RECORD_HINT)
            for gateway in known[link].gateways:
                if (gateway, group) in holder:
                    raise UsageError(f"the allocation record gives the VPN links {holder[(gateway, group)]} and {link} the "
                                     f"same inside addresses (group {group}) on the gateway {gateway}", hint=RECORD_HINT)
                holder[(gateway, group)] = link
                on_gateway.setdefault(gateway, set()).add(group)
        else:
            everywhere.add(group)
    shared_groups = sum(r.num_addresses for r in SHARED_TUNNEL_RANGES) // 4 // TUNNELS_PER_LINK
    pool, out = _pool(), {}
    for link in sorted(demands):
        demand = demands[link]
        if link not in allocation.tunnel_groups:
            candidates = _groups_within(demand.ranges)
            shared = [g for g in candidates if g < shared_groups]
            start = _stable(link, len(shared)) if shared else 0
            taken = everywhere.union(*(on_gateway.get(g, set()) for g in demand.gateways))
            group = next((g for g in (*shared[start:], *shared[:start], *candidates[len(shared):]) if g not in taken), None)
            if group is None:
                a, b = demand.gateways
                raise InfeasiblePlacement(
                    f"no inside addresses left for the VPN link {link}: the gateways {a} and {b} already carry "
                    f"{len(taken)} other links' tunnels, and the addresses both accept ({', '.join(demand.ranges) or 'none'}) "
                    f"hold {len(candidates)} links' four /30s",
                    conflicts=["placement.cross_cloud"],
                    hint="keep flows within fewer cross-cloud pairs of locations (placement.cross_cloud: forbid, or "
                         "narrow placement.regions); recorded links that are gone keep their addresses reserved in "
                         ".cloudorch/<stack>.network.json: delete their entries to free them")
            allocation.tunnel_groups[link] = group
            for gateway in demand.gateways:
                on_gateway.setdefault(gateway, set()).add(group)
        group = allocation.tunnel_groups[link]
        tunnels = []
        for i in range(TUNNELS_PER_LINK):
            first = pool[group * TUNNELS_PER_LINK + i]
            cidr = ipaddress.IPv4Network((first, 30))
            tunnels.append(Tunnel(index=i, inside_cidr=str(cidr), a_address=str(ipaddress.IPv4Address(first + 1)),
                                  b_address=str(ipaddress.IPv4Address(first + 2))))
        out[link] = tuple(tunnels)
    return out
