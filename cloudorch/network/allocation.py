"""Addresses that never move: a block per site, a BGP ASN per VPN site, inside /30s per VPN link.

Changing any of them replaces a network, a gateway or a tunnel and everything behind it, so each is
allocated once and kept: an earlier allocation (``Allocation``, read from the record file ``record.py``
writes beside the project) is honoured first, and only what is new is allocated. A new item takes the slot
a stable hash of its name picks, probing onward past taken slots; with the record, nothing ever taken moves
(a location that leaves keeps its block reserved, so it gets it back when it returns).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cloudorch.errors import InfeasiblePlacement
from cloudorch.network.model import TUNNELS_PER_LINK, NetworkBlock, Tunnel

#: private ASNs the sites' gateways use; Azure reserves 65515 and 65517-65520, so the range stops below
ASN_FIRST, ASN_LAST = 64600, 65499
#: inside addresses of tunnels: Azure accepts custom BGP (APIPA) addresses only in 169.254.21.0 -
#: 169.254.22.255, and AWS and GCP accept any /30 of 169.254.0.0/16 outside their reserved ones, which
#: lie elsewhere (AWS: 169.254.0.0/30-169.254.5.0/30, 169.254.169.252/30)
TUNNEL_RANGES = (ipaddress.IPv4Network("169.254.21.0/24"), ipaddress.IPv4Network("169.254.22.0/24"))

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
    net = ipaddress.IPv4Network(network_cidr)
    return min(max(net.prefixlen + 2, 20) if net.prefixlen <= 18 else net.prefixlen + 2, 24)


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
        subnets = list(net.subnets(new_prefix=block_size(cidr)))
        index = {str(s): i for i, s in enumerate(subnets)}
        kept = {site: index[block] for site, (was, block) in allocation.blocks.items()
                if site[0] == network and was == cidr and block in index}
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
                        hint=f"a larger network (a /{max(net.prefixlen - 2, 8)}) holds four times as many, or narrow "
                             "placement.regions / spread (blocks of locations no longer used stay reserved in "
                             ".cloudorch/<stack>.network.json; delete their entries to free them)")
                kept[site] = slot
                taken.add(slot)
                allocation.blocks[site] = (cidr, str(subnets[slot]))
            out.append(NetworkBlock(network=network, cloud=site[1], region=site[2], cidr=str(subnets[kept[site]])))
    return tuple(out)


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


def _tunnel_slots() -> list[ipaddress.IPv4Network]:
    return [s for r in TUNNEL_RANGES for s in r.subnets(new_prefix=30)]


def allocate_tunnels(links: Iterable[str], allocation: Allocation) -> dict[str, tuple[Tunnel, ...]]:
    """Four inside /30s per VPN link, none shared by two links of the stack, kept once given.

    Side a's address is the first host of each /30 and side b's the second (``links`` swaps them where only
    side b's cloud insists on the first)."""
    slots = _tunnel_slots()
    groups = len(slots) // TUNNELS_PER_LINK
    taken = set(allocation.tunnel_groups.values())
    out = {}
    for link in sorted(set(links)):
        if link not in allocation.tunnel_groups:
            group = _probe(link, groups, taken)
            if group is None:
                raise InfeasiblePlacement(
                    f"more than {groups} cross-cloud links: the inside addresses every cloud accepts "
                    f"(169.254.21.0-169.254.22.255) hold four tunnels for each of {groups} links",
                    conflicts=["placement.cross_cloud"],
                    hint="keep flows within fewer cross-cloud pairs of locations (placement.cross_cloud: forbid, "
                         "or narrow placement.regions)")
            taken.add(group)
            allocation.tunnel_groups[link] = group
        group = allocation.tunnel_groups[link]
        tunnels = []
        for i in range(TUNNELS_PER_LINK):
            cidr = slots[group * TUNNELS_PER_LINK + i]
            hosts = list(cidr.hosts())
            tunnels.append(Tunnel(index=i, inside_cidr=str(cidr), a_address=str(hosts[0]), b_address=str(hosts[1])))
        out[link] = tuple(tunnels)
    return out
