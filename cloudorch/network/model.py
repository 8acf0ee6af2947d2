"""What the network stage decides: the address block of every site, the links between sites, the flows.

A *site* is one stack network in one cloud and region: one VPC / virtual network / subnetwork set with
its own block. A *link* joins two sites that carry a flow: a peering within a cloud, a site-to-site VPN
(IKEv2, BGP, two or four tunnels) across clouds. Everything here is plain data decided before rendering, so every
provider renders its side of a link from the same facts and the plan can show them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cloudorch.placement.model import NetworkBlock
from cloudorch.placement.rates import TUNNELS

__all__ = ["Link", "NetworkBlock", "NetworkPlan", "Renumbering", "Site", "Tunnel", "VpnSide"]

#: at most, tunnels of one cross-cloud link: towards AWS (two connections of two tunnels, an address per
#: tunnel); between two gateways of two addresses each (Azure's active-active gateway, GCP's HA VPN) a link
#: has two (``rates.tunnels_per_link``). Inside addresses are allocated in groups of this many either way.
TUNNELS_PER_LINK = TUNNELS


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Site(_Frozen):
    network: str
    cloud: str
    region: str
    cidr: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.network, self.cloud, self.region)

    def __str__(self) -> str:
        return f"{self.network}@{self.cloud}/{self.region}"


class Tunnel(_Frozen):
    """One IPsec tunnel of a VPN link, with its BGP session's inside addresses (a /30 of 169.254.0.0/16)."""

    index: int
    inside_cidr: str
    #: the inside address of side a and of side b
    a_address: str
    b_address: str
    #: which of each side's VPN interfaces (public addresses) the tunnel ends on (``tunnel_interfaces``)
    a_interface: int = 0
    b_interface: int = 0


class VpnSide(_Frozen):
    """One side of a VPN link: its BGP ASN and how many public addresses its tunnels end on."""

    asn: int
    interfaces: int = 2


def tunnel_interfaces(index: int, a_interfaces: int, b_interfaces: int) -> tuple[int, int]:
    """The interfaces of side a and side b that tunnel ``index`` joins.

    A side with an address per tunnel (AWS: two connections of two tunnels, each tunnel its own address)
    uses ``index``; a side with two addresses facing such a side uses ``index // 2`` (AWS's connection k
    faces one customer gateway, the peer's address k); two sides of two addresses each join them face to
    face (address k to address k: the link's two tunnels).
    """
    if a_interfaces >= TUNNELS_PER_LINK and b_interfaces >= TUNNELS_PER_LINK:
        return index, index
    if a_interfaces >= TUNNELS_PER_LINK:
        return index, index // 2
    if b_interfaces >= TUNNELS_PER_LINK:
        return index // 2, index
    return index, index


class Link(_Frozen):
    """A private link between two sites. ``a`` sorts before ``b`` (stable ids)."""

    id: str
    kind: Literal["peering", "vpn"]
    a: Site
    b: Site
    #: the declared flows (``Flow.id``) that need this link: why it exists
    flows: tuple[str, ...] = ()
    #: VPN only
    a_side: VpnSide | None = None
    b_side: VpnSide | None = None
    tunnels: tuple[Tunnel, ...] = ()

    @property
    def slug(self) -> str:
        """A short name for resource names: the locations, and the networks when they differ."""
        nets = self.a.network if self.a.network == self.b.network else f"{self.a.network}-{self.b.network}"
        return f"{nets}-{self.a.cloud}-{self.a.region}-{self.b.cloud}-{self.b.region}"

    def sites(self) -> tuple[Site, Site]:
        return (self.a, self.b)

    def side_of(self, site_key: tuple[str, str, str]) -> int:
        return 0 if self.a.key == site_key else 1

    def other(self, site_key: tuple[str, str, str]) -> Site:
        return self.b if self.a.key == site_key else self.a


class FlowRoute(_Frozen):
    """Where one declared flow goes: between which sites and over which link (None: within a site or one
    global network)."""

    flow: str
    source: str
    target: str
    port: int
    last_port: int
    protocol: str
    gb_month: float
    pairs: tuple[tuple[str, str, str | None], ...] = Field(
        default=(), description="(source site, target site, link id or None) for every pair of their locations")


class Renumbering(_Frozen):
    """A recorded network whose CIDR the stack changed: its recorded blocks mean nothing now, so its sites
    get new blocks (``allocation.allocate_blocks``), which replaces each site's network once applied."""

    network: str
    recorded_cidr: str
    cidr: str
    #: (cloud/region, recorded block, new block) of every site of this plan whose block moves
    moved: tuple[tuple[str, str, str], ...] = ()
    #: locations not in this plan whose reserved blocks are let go
    released: tuple[str, ...] = ()

    def describe(self) -> str:
        what = [f"network {self.network!r} is {self.cidr} now, recorded as {self.recorded_cidr}: a changed CIDR "
                "is a new network"]
        if self.moved:
            what.append("the blocks of " + ", ".join(f"{where} ({was} -> {now})" for where, was, now in self.moved)
                        + " move, which replaces those sites' networks and everything in them once applied")
        if self.released:
            what.append(f"the blocks reserved for {', '.join(self.released)} are let go")
        return "; ".join(what) + (f" (to keep the recorded blocks, put its cidr back to {self.recorded_cidr}; to "
                                  "grow, add another network and link it)")


class NetworkPlan(_Frozen):
    blocks: tuple[NetworkBlock, ...] = ()
    links: tuple[Link, ...] = ()
    flows: tuple[FlowRoute, ...] = ()
    #: recorded networks whose CIDR changed, and what that moves
    renumbered: tuple[Renumbering, ...] = ()

    def site(self, network: str, cloud: str, region: str) -> Site | None:
        for b in self.blocks:
            if (b.network, b.cloud, b.region) == (network, cloud, region):
                return Site(network=network, cloud=cloud, region=region, cidr=b.cidr)
        return None

    def links_of(self, cloud: str, region: str | None = None) -> tuple[Link, ...]:
        return tuple(link for link in self.links
                     if any(s.cloud == cloud and (region is None or s.region == region) for s in link.sites()))
