"""What a split costs, as the placement model needs it: per-site overhead, VPN gateways and links, and the
price of a GB between two locations. Built once per plan from the embedded network prices and what each
provider says its sites and links are made of (``NetworkShape``), so placement never imports a provider.

Prices are the published list prices of ``cloudorch/catalog/data/network.csv`` at the marginal (first paid)
tier: account-wide free allowances (the first 100 GB of internet egress a month) belong to the account,
not to one stack, and are not credited to it. A price that is not published is not guessed: the item is
left out of the objective and named in ``unpriced``, which the plan lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from cloudorch.catalog.model import Catalog
from cloudorch.catalog.network import GIB_PER_GB, VPN_EGRESS_ITEM, NetworkPrices, path_scopes
from cloudorch.errors import InfeasiblePlacement
from cloudorch.placement.model import HOURS_PER_MONTH

#: the kinds of path a GB can take from a source location
PathKind = Literal["same-region", "same-cloud", "cross-cloud"]
PATH_KINDS: tuple[PathKind, ...] = ("same-region", "same-cloud", "cross-cloud")


@dataclass(frozen=True)
class Charge:
    """``quantity`` of a price-list item (``cloudorch.rendering.meters.Meter`` without the import)."""

    item: str
    quantity: float = 1.0
    scope: str | None = None


@dataclass(frozen=True)
class GatewayLimit:
    """At most ``links`` VPN links end on one site's gateway of a cloud, and why, in the cloud's words."""

    links: int
    why: str
    #: an account quota the user may have raised (``Config.vpn_links_per_site`` then says by how much)
    adjustable: bool = False

    def refusal(self, site: tuple[str, str, str], links: int, lead: str = "", more: int = 0) -> InfeasiblePlacement:
        """The error for a placement that ends ``links`` VPN links on the gateway of ``site`` (network, cloud,
        region), and of ``more`` other sites like it, past this limit."""
        network, cloud, region = site
        raise_it = (f"; if you raised the {cloud} quota, say how many links a gateway takes now in cloudorch.toml "
                    f"(vpn_links_per_site = {{{cloud} = N}})") if self.adjustable else ""
        return InfeasiblePlacement(
            f"{lead}{network}@{cloud}/{region} would end {links} VPN link{'s' * (links != 1)}, at most {self.links}"
            + (f" (and {more} more site{'s' * (more != 1)})" if more else "") + f": {self.why}",
            conflicts=["placement.cross_cloud"],
            hint="keep flows between fewer locations of other clouds (placement.cross_cloud: forbid, or narrow "
                 "placement.clouds / placement.regions)" + raise_it)


@dataclass(frozen=True)
class NatPerVm:
    """A NAT gateway billed by the VMs using it (GCP Cloud NAT): ``per_vm`` a month each up to ``up_to``
    VMs, a flat ``beyond`` a month for more (None: no cap published). A gateway no VM uses bills nothing
    for them."""

    per_vm: float
    up_to: int | None = None
    beyond: float | None = None

    def __post_init__(self) -> None:
        # the model rebates a site past the cap (``Formulation.nat_rebates``): a flat rate above the per-VM
        # price of the first VM past it would be a surcharge, which it does not model
        if self.capped and self.beyond > self.per_vm * (self.up_to + 1):
            raise ValueError(f"a NAT's flat rate past {self.up_to} VMs (${self.beyond:.2f} a month) is above the "
                             f"per-VM price of {self.up_to + 1} VMs: the price list is inconsistent")

    def monthly(self, vms: int) -> float:
        if not self.capped or vms <= self.up_to:
            return self.per_vm * vms
        return self.beyond

    def rebate(self, vms: int) -> float:
        """What the cap takes off ``vms`` VMs at the per-VM price: 0 up to the cap."""
        return self.per_vm * vms - self.monthly(vms)

    @property
    def capped(self) -> bool:
        return self.up_to is not None and self.beyond is not None


@dataclass(frozen=True)
class TunnelAllowance:
    """A VPN gateway whose price includes its first ``included`` tunnels and bills each one beyond at ``beyond``
    a month (Azure: ten site-to-site tunnels): what a gateway's tunnels add is its count's, not each link's."""

    included: int
    beyond: float

    def monthly(self, tunnels: int) -> float:
        return self.beyond * max(0, tunnels - self.included)


def tunnel_allowance(prices: NetworkPrices, cloud: str, charge: Charge) -> TunnelAllowance | None:
    """The allowance a count-priced tunnel item's tiers publish: free tiers from 0, then one open-ended price.
    None when the item is not published, or its tiers say more than that (the model would not be linear)."""
    tiers = prices.tiers(cloud, charge.item, charge.scope)
    paid = [t for t in tiers if t.usd > 0]
    if len(paid) != 1 or paid[0].to_gb is not None:
        return None
    return TunnelAllowance(included=int(paid[0].from_gb), beyond=paid[0].usd * HOURS_PER_MONTH)


@dataclass(frozen=True)
class NetworkShape:
    """What one cloud's sites and links are made of, in price-list items (a provider's ``network_shape``)."""

    #: every site (one network in one region): NAT gateway and its public address
    site: tuple[Charge, ...] = ()
    #: a site with at least one VPN link: its VPN gateway and public addresses
    vpn_site: tuple[Charge, ...] = ()
    #: this cloud's side of one VPN link whatever its tunnels (AWS: two connections; Azure: in the gateway)
    vpn_link_side: tuple[Charge, ...] = ()
    #: this cloud's side of one tunnel of a VPN link (GCP bills each tunnel), times ``tunnels_per_link``
    vpn_tunnel: tuple[Charge, ...] = ()
    #: one tunnel ending on a VPN site's gateway, where the gateway is billed by how many end there (its
    #: item's tiers: a free allowance, then per tunnel; ``TunnelAllowance``) rather than per link
    vpn_gateway_tunnel: Charge | None = None
    #: public addresses its VPN gateway ends tunnels on: ``CloudProvider.vpn_interfaces``, which
    #: ``api.network_shapes`` puts here whatever a plugin's shape says
    vpn_interfaces: int = 2
    #: a NAT gateway billed per VM using it (GCP Cloud NAT) rather than flat
    nat_per_vm: bool = False
    #: serving (``rendering.service``), part -> its charges: ``application`` / ``network`` (a location's
    #: balancer of that layer), ``listener`` (each port it listens on), ``application_gb`` / ``network_gb``
    #: (per GB it processes), ``application_waf`` / ``application_gb_waf`` (the same when a web firewall
    #: rides on the balancer at other rates; default: the plain ones), ``waf`` (a location's web firewall),
    #: ``waf_million`` (per million requests it inspects); as the zone's cloud: ``zone`` (the stack's zone),
    #: ``name`` (each global name), ``name_check`` / ``name_check_external`` (a health check of a balancer
    #: on this cloud / on another)
    serving: Mapping[str, tuple[Charge, ...]] = field(default_factory=dict)
    #: how many VPN links one site's gateway takes (None: no limit cloudorch knows of)
    vpn_gateway: GatewayLimit | None = None


@dataclass(frozen=True)
class NetworkRates:
    """Monthly USD of the network's parts per cloud, and USD per GB of each path kind per source location."""

    site: Mapping[str, float] = field(default_factory=dict)
    vpn_site: Mapping[str, float] = field(default_factory=dict)
    vpn_link_side: Mapping[str, float] = field(default_factory=dict)
    #: cloud -> monthly USD of its side of one tunnel; cloud -> its gateway's public addresses
    vpn_tunnel: Mapping[str, float] = field(default_factory=dict)
    vpn_interfaces: Mapping[str, int] = field(default_factory=dict)
    #: cloud -> what a site's NAT costs by the VMs using it, where it is billed per VM
    nat_per_vm: Mapping[str, NatPerVm] = field(default_factory=dict)
    #: (cloud, region, path kind) -> USD per GB sent
    per_gb: Mapping[tuple[str, str, PathKind], float] = field(default_factory=dict)
    #: (cloud, region) -> USD per GB sent to the internet (egress, plus NAT processing where it goes through one)
    internet_gb: Mapping[tuple[str, str], float] = field(default_factory=dict)
    nat_gb: Mapping[str, float] = field(default_factory=dict)
    #: cloud -> serving part (``NetworkShape.serving``) -> monthly USD (per GB / per million for volume parts)
    serving: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    #: (cloud, region) -> continent, for the same-continent assumption of same-cloud paths
    continent: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: (cloud, region, path kind) whose price per GB is not published (counted as 0, listed where used)
    unknown_gb: frozenset[tuple[str, str, str]] = frozenset()
    #: cloud -> part ("site", "vpn_site", "vpn_link_side") -> price-list items of it that are not published
    unknown_items: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    #: cloud -> how many VPN links one site's gateway takes (``NetworkShape.vpn_gateway``), where limited
    vpn_gateways: Mapping[str, GatewayLimit] = field(default_factory=dict)
    #: cloud -> its internet egress tiers, where published
    egress: Mapping[str, EgressTiers] = field(default_factory=dict)
    #: cloud -> the tunnels its VPN gateway's price includes and what each beyond costs, where billed so
    tunnel_allowance: Mapping[str, TunnelAllowance] = field(default_factory=dict)

    def gb(self, cloud: str, region: str, kind: PathKind) -> float:
        return self.per_gb.get((cloud, region, kind), 0.0)

    def link(self, cloud_a: str, cloud_b: str) -> float:
        """Monthly cost of one VPN link between the two clouds: both sides' connections or tunnels."""
        return link_price(self.vpn_link_side, self.vpn_tunnel, self.vpn_interfaces, cloud_a, cloud_b)


#: tunnels of a link between two gateways of two public addresses each (Azure's active-active gateway,
#: GCP's HA VPN): one per address pair facing each other, Google's documented topology for a peer with two
#: addresses ("HA VPN topologies"). A gateway with an address per tunnel (AWS: two connections of two
#: tunnels) makes four.
TWO_ADDRESS_TUNNELS, TUNNELS = 2, 4


def tunnels_per_link(a_interfaces: int, b_interfaces: int) -> int:
    """How many tunnels a VPN link between gateways of these many public addresses has.

    Two sides of two addresses each get two tunnels, not a mesh of four: Azure's local network gateway
    holds ONE BGP peer address, so of a mesh's four only two could run BGP, and the two others would be
    billed (GCP) and alarm as down for ever."""
    return TWO_ADDRESS_TUNNELS if max(a_interfaces, b_interfaces) <= TWO_ADDRESS_TUNNELS else TUNNELS


def link_price(side: Mapping[str, float], tunnel: Mapping[str, float], interfaces: Mapping[str, int],
               cloud_a: str, cloud_b: str) -> float:
    """One VPN link's monthly price: each side's charges per link, and per tunnel times its tunnels."""
    per_tunnel = tunnel.get(cloud_a, 0.0) + tunnel.get(cloud_b, 0.0)
    tunnels = tunnels_per_link(interfaces.get(cloud_a, 2), interfaces.get(cloud_b, 2)) if per_tunnel else 0
    return side.get(cloud_a, 0.0) + side.get(cloud_b, 0.0) + per_tunnel * tunnels


@dataclass(frozen=True)
class EgressTiers:
    """A cloud's published tiers of data sent to the internet, per GB of a month's volume.

    The placement prices every GB at the first paid tier (``first``): linear, so the exact search and the
    ledger stay what they are. The bill then takes off what the later, cheaper tiers save on the stack's
    declared egress per cloud (``discount``; ``bill.network_cost``), and the same figure is taken off the
    placement's total, so the two agree, and off its lower bound as much as any placement could get
    (``bill.most_taken_off``). Free allowances are the account's, not the stack's, and are not credited
    (tiers below the first paid one count at its rate)."""

    #: USD per GB of the first paid tier
    first: float
    #: (from GB, to GB or None, USD per GB) of each tier after the first paid one
    later: tuple[tuple[float, float | None, float], ...] = ()

    def discount(self, gb: float) -> float:
        """USD the later tiers take off ``gb`` priced at ``first``. Past the last tier published here (Azure's
        stop at 10 TB), a GB stays at the first paid tier's price: no cheaper price was found, and a price
        above the bill is the estimate a budget can trust (found by review: taking those GB off whole
        billed them at $0)."""
        return sum((self.first - usd) * (min(gb, high if high is not None else gb) - low)
                   for low, high, usd in self.later if gb > low)


def egress_tiers(prices: NetworkPrices, cloud: str) -> EgressTiers | None:
    rows = prices.tiers(cloud, VPN_EGRESS_ITEM)
    paid = [r for r in rows if r.usd > 0]
    if not paid:
        return None
    per_gb = (lambda x: x / GIB_PER_GB) if paid[0].per_gib else (lambda x: x)  # GiB -> GB of volume
    usd = (lambda x: x * GIB_PER_GB) if paid[0].per_gib else (lambda x: x)  # per GiB -> per GB
    later = tuple((per_gb(r.from_gb), None if r.to_gb is None else per_gb(r.to_gb), usd(r.usd)) for r in paid[1:])
    return EgressTiers(first=usd(paid[0].usd), later=later)


def monthly(prices: NetworkPrices, cloud: str, charges: Iterable[Charge], unknown: list[str]) -> float:
    """Monthly USD of fixed charges (hourly items run all month); items without a price go to ``unknown``."""
    total = 0.0
    for c in charges:
        usd = prices.monthly(cloud, c.item, c.quantity, c.scope)
        if usd is None:
            unknown.append(c.item)
        else:
            total += usd
    return total


def nat_per_vm(prices: NetworkPrices, cloud: str) -> NatPerVm:
    """The cloud's per-VM NAT price up to its last published tier, and its flat rate beyond (GCP: $0.0014 an
    hour per VM up to 32 VMs, $0.044 an hour for more: ``nat_gateway_hourly`` prices the bill the same way)."""
    vm = prices.price(cloud, "nat_gateway_vm_hour")
    tiers = prices.tiers(cloud, "nat_gateway_vm_hour")
    up_to = int(tiers[-1].to_gb) if tiers and tiers[-1].to_gb is not None else None
    flat = prices.nat_gateway_hourly(cloud, up_to + 1) if up_to is not None else None
    return NatPerVm(per_vm=(vm or 0.0) * HOURS_PER_MONTH, up_to=up_to,
                    beyond=None if flat is None else flat * HOURS_PER_MONTH)


def network_rates(catalog: Catalog, shapes: Mapping[str, NetworkShape]) -> NetworkRates | None:
    """The rates of every cloud in ``shapes`` over the catalog's regions; None without network prices."""
    prices = catalog.network
    if prices is None:
        return None
    unknown_items: dict[str, dict[str, tuple[str, ...]]] = {}
    site, vpn_site, link_side, tunnel, nat_vm, nat_gb, serving, allowance = {}, {}, {}, {}, {}, {}, {}, {}
    for cloud, shape in sorted(shapes.items()):
        missing: dict[str, list[str]] = {"site": [], "vpn_site": [], "vpn_link_side": []}
        site[cloud] = monthly(prices, cloud, shape.site, missing["site"])
        vpn_site[cloud] = monthly(prices, cloud, shape.vpn_site, missing["vpn_site"])
        if shape.vpn_gateway_tunnel is not None:
            found = tunnel_allowance(prices, cloud, shape.vpn_gateway_tunnel)
            if found is None:
                missing["vpn_site"].append(shape.vpn_gateway_tunnel.item)
            else:
                allowance[cloud] = found
        link_side[cloud] = monthly(prices, cloud, shape.vpn_link_side, missing["vpn_link_side"])
        tunnel[cloud] = monthly(prices, cloud, shape.vpn_tunnel, missing["vpn_link_side"])
        serving[cloud] = {}
        for part, charges in sorted(shape.serving.items()):
            missing[f"serving:{part}"] = []
            serving[cloud][part] = monthly(prices, cloud, charges, missing[f"serving:{part}"])
        unknown_items[cloud] = {part: tuple(items) for part, items in missing.items() if items}
        if shape.nat_per_vm:
            nat_vm[cloud] = nat_per_vm(prices, cloud)
        nat_gb[cloud] = prices.price(cloud, "nat_processed_gb") or 0.0
    per_gb, internet, continent, unknown_gb = {}, {}, {}, set()
    for region in catalog.regions:
        if region.cloud not in shapes:
            continue
        key = (region.cloud, region.name)
        within = path_scopes(region.geo, region.geo, region.name, region.name)
        continent[key] = within[0].split(":", 1)[1]
        same = prices.price(region.cloud, "inter_zone_gb", "same-region")
        for kind, price in (("same-region", same),
                            ("same-cloud", prices.price(region.cloud, "inter_region_gb", within)),
                            ("cross-cloud", prices.price(region.cloud, VPN_EGRESS_ITEM))):
            per_gb[(*key, kind)] = price or 0.0
            if price is None:
                unknown_gb.add((*key, kind))
        out = per_gb[(*key, "cross-cloud")]
        internet[key] = out or 0.0
    limits = {cloud: shape.vpn_gateway for cloud, shape in sorted(shapes.items()) if shape.vpn_gateway}
    tiers = {cloud: t for cloud in sorted(shapes) if (t := egress_tiers(prices, cloud)) is not None}
    return NetworkRates(site=site, vpn_site=vpn_site, vpn_link_side=link_side, vpn_tunnel=tunnel,
                        vpn_interfaces={cloud: shape.vpn_interfaces for cloud, shape in sorted(shapes.items())},
                        nat_per_vm=nat_vm, per_gb=per_gb,
                        internet_gb=internet, nat_gb=nat_gb, serving=serving, continent=continent, unknown_gb=frozenset(unknown_gb),
                        unknown_items=unknown_items, vpn_gateways=limits, egress=tiers, tunnel_allowance=allowance)
