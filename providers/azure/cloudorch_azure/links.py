"""Azure's side of the stack's links: global VNet peering within Azure, site-to-site VPN to other clouds.

Peering: each side is a ``VirtualNetworkPeering`` in its own virtual network pointing at the other one.
Peered networks learn each other's address space without any route of ours, and nothing else crosses:
no forwarded traffic, no gateway transit, so a peer never reaches a third site through this one.

VPN: a virtual network has at most one VPN gateway, so the gateway is the *site's*, shared by every VPN
link of the site and rendered with the network (``render_gateways``): a ``GatewaySubnet``, two zone-
redundant public IPs and one active-active, BGP-speaking ``VirtualNetworkGateway``. Each link's endpoint
adds one ``LocalNetworkGateway`` per public address of the peer and one IPsec connection to each.

How a link's tunnels land on Azure (``Tunnel.a_interface`` / ``b_interface`` decide):
- a peer with an address per tunnel (AWS): four tunnels, four local network gateways, one tunnel each;
  the Azure instance of tunnel t is t // 2, as the peer's customer gateway k is Azure's address k.
- a peer with two addresses (GCP's HA VPN): two tunnels, instance k to the peer's address k, and two
  local network gateways. A local network gateway holds ONE BGP peer address, so each carries exactly one
  tunnel with its session; a mesh of four would leave two tunnels without one (billed by GCP, alarming
  as down for ever). Azure's active-active gateway still dials each local network gateway from its other
  instance too; the peer has no tunnel for that address pair, so that attempt never comes up, as in
  Google's documented topology for a peer with two addresses.

BGP addresses: the gateway lists, per instance (ipConfiguration), this side's inside address of every
tunnel that ends on it (Azure accepts custom APIPA addresses only in 169.254.21.0-169.254.22.255, which is
where the core allocates them); each connection picks, per instance, the address of the tunnel it carries
there (``gatewayCustomBgpIpAddresses``). Azure then advertises the virtual network's address space (the
site's block) and installs what the peer announces: no route table of ours carries a link route.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloudorch.network.allocation import InsideAddressing
from cloudorch.network.model import Link, Site, Tunnel
from cloudorch.placement.rates import GatewayLimit
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.links import IpsecPolicy, preshared_key

from cloudorch_azure.database import databases_in
from cloudorch_azure.naming import (
    CLOUD, GATEWAY_SUBNET, ZONAL_REGIONS, gateway_prefix, logical, make, resource_group, rg_ref,
)
from cloudorch_azure.network import balancer_subnet_name, hosts_balancer, subnet_name, vnet_name

PEERING = "azure-native:network:VirtualNetworkPeering"
GATEWAY = "azure-native:network:VirtualNetworkGateway"
LOCAL_GATEWAY = "azure-native:network:LocalNetworkGateway"
CONNECTION = "azure-native:network:VirtualNetworkGatewayConnection"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
SUBNET = "azure-native:network:Subnet"

#: custom APIPA addresses: only 169.254.21.0-169.254.22.255 ("How to configure BGP for Azure VPN Gateway",
#: Microsoft Learn, read 2026-12-07), and unique on the gateway. The page asks them unique "across your
#: on-premises VPN devices and all connected VPN gateways": what a gateway's BGP speaker sees is its own
#: tunnels' addresses and its peers' over those tunnels, and the core keeps a link's /30 apart from every
#: other link of both its sides' gateways, so no address either side sees is seen twice
INSIDE = InsideAddressing(ranges=("169.254.21.0/24", "169.254.22.0/24"), scope="site")
#: an active-active gateway's two instances, each with its own public address and ipConfiguration
INSTANCES = 2
#: zone-redundant gateway SKU: active-active, BGP, custom IPsec policies, up to 30 site-to-site tunnels
#: (schema enum VirtualNetworkGatewaySkuName of azure-native 3.29.0; priced as ``vpn_gateway_hour`` in
#: catalog/data/network.csv, source az-vpn)
GATEWAY_SKU = "VpnGw1AZ"
#: VpnGw1AZ ends at most 30 site-to-site tunnels ("About gateway SKUs", Microsoft Learn, read 2026-12-07; the
#: VPN Gateway FAQ counts two redundant tunnels to one peer as two), and a link is at most four connections
#: (one per peer address: four to AWS, two to GCP), the count ``GATEWAY_TUNNELS_TAG`` carries too
GATEWAY_TUNNELS = 30
GATEWAY_LIMIT = GatewayLimit(
    links=GATEWAY_TUNNELS // 4,
    why=f"a {GATEWAY_SKU} gateway ends at most {GATEWAY_TUNNELS} site-to-site tunnels, and a link takes four")

#: tags carrying what a connection is part of, read back by ``link_facts`` (a rendered resource has no other
#: place for it, and operators see the same words in the portal)
LINK_TAG, SIDE_TAG, TUNNELS_TAG = "cloudorch-link", "cloudorch-link-side", "cloudorch-link-tunnels"
#: on the gateway: how many tunnels its links have, which ``meters`` bills beyond the ones its SKU includes
GATEWAY_TUNNELS_TAG = "cloudorch-tunnels"

#: ``IpsecPolicy`` in Azure's words (enum values of azure-native 3.29.0's IkeEncryption, IkeIntegrity, DhGroup,
#: IpsecEncryption, IpsecIntegrity, PfsGroup). With GCM the integrity of phase 2 is the cipher itself.
#: Azure fixes the IKE SA lifetime at 28,800 s (``IpsecPolicy.ike_lifetime``), so only phase 2's is set;
#: saDataSizeKilobytes is required by the schema: 102,400,000 KB is Azure's default for it.
AZURE_IPSEC_POLICY: dict[str, Any] = {
    "ikeEncryption": "GCMAES256", "ikeIntegrity": "SHA384", "dhGroup": "ECP384",
    "ipsecEncryption": "GCMAES256", "ipsecIntegrity": "GCMAES256", "pfsGroup": "ECP384",
    "saLifeTimeSeconds": IpsecPolicy.ipsec_lifetime, "saDataSizeKilobytes": 102_400_000,
}


# -- names -------------------------------------------------------------------------------------------------
def gateway_name(network: str, region: str) -> str:
    return logical(network, region, "vpn-gw")


def gateway_subnet_name(network: str, region: str) -> str:
    return logical(network, region, "gateway-subnet")


def gateway_ip_name(network: str, region: str, instance: int) -> str:
    return logical(network, region, f"vpn-ip-{instance}")


def ip_configuration(instance: int) -> str:
    return f"vpn-ipconfig-{instance}"


# -- which tunnel ends where, seen from one side -----------------------------------------------------------
@dataclass(frozen=True)
class Side:
    """One side of a VPN link as its Azure endpoint sees it."""

    link: Link
    index: int

    @property
    def site(self) -> Site:
        return self.link.a if self.index == 0 else self.link.b

    @property
    def asn(self) -> int:
        side = self.link.a_side if self.index == 0 else self.link.b_side
        assert side is not None, f"VPN link {self.link.id} without its sides' ASNs"
        return side.asn

    @property
    def peer_asn(self) -> int:
        side = self.link.b_side if self.index == 0 else self.link.a_side
        assert side is not None, f"VPN link {self.link.id} without its sides' ASNs"
        return side.asn

    def instance(self, t: Tunnel) -> int:
        return t.a_interface if self.index == 0 else t.b_interface

    def peer_interface(self, t: Tunnel) -> int:
        return t.b_interface if self.index == 0 else t.a_interface

    def address(self, t: Tunnel) -> str:
        return t.a_address if self.index == 0 else t.b_address

    def peer_address(self, t: Tunnel) -> str:
        return t.b_address if self.index == 0 else t.a_address

    def peer_gateways(self) -> list[tuple[int, tuple[Tunnel, ...]]]:
        """(peer address index, the tunnels ending on it), one per local network gateway, in order."""
        ends = sorted({self.peer_interface(t) for t in self.link.tunnels})
        return [(k, tuple(t for t in self.link.tunnels if self.peer_interface(t) == k)) for k in ends]

    def bgp_tunnel(self, k: int, tunnels: tuple[Tunnel, ...]) -> Tunnel:
        """The tunnel whose BGP session a local network gateway's one peer address serves (module docstring)."""
        return next((t for t in tunnels if self.instance(t) == k % INSTANCES), tunnels[0])


def vpn_sides(ctx: RenderContext, site: Site) -> list[Side]:
    """Every VPN link of an Azure site, as this site's side, by link id."""
    return [Side(link, link.side_of(site.key)) for link in ctx.links(site.region, kind="vpn")
            if site.key in (link.a.key, link.b.key)]


def vpn_sites(ctx: RenderContext) -> list[Site]:
    """The Azure sites with at least one VPN link, sorted."""
    found = {s for link in ctx.links(kind="vpn") for s in link.sites() if s.cloud == CLOUD}
    return sorted(found, key=lambda s: s.key)


# -- the site's gateway ------------------------------------------------------------------------------------
def render_gateways(ctx: RenderContext) -> list[RenderedResource]:
    """GatewaySubnet, two public IPs and the VPN gateway of every Azure site with a VPN link."""
    out: list[RenderedResource] = []
    for site in vpn_sites(ctx):
        out += _gateway(ctx, site, vpn_sides(ctx, site))
    return out


def _gateway(ctx: RenderContext, site: Site, sides: list[Side]) -> list[RenderedResource]:
    stack, network, region, tags = ctx.stack.stack, site.network, site.region, ctx.tags(site.network)
    rg = rg_ref(stack, region)
    subnet, gateway = gateway_subnet_name(network, region), gateway_name(network, region)
    # Azure refuses concurrent changes to one virtual network's subnets: this one comes after the others
    databases = databases_in(ctx, network, region)
    after = logical(databases[-1], region, "subnet") if databases else subnet_name(network, region)
    if hosts_balancer(ctx, network, region):
        after = balancer_subnet_name(network, region)
    # No network security group on it: Azure's built-in policy "Gateway subnets should not be configured
    # with a network security group" (35f9c03a-cc27-418e-9c0c-539ff999d010) says one stops the gateway.
    out = [make(subnet, SUBNET, region, network, {
        "resourceGroupName": rg, "virtualNetworkName": ref(vnet_name(network, region), "name"),
        "subnetName": GATEWAY_SUBNET, "addressPrefix": gateway_prefix(site.cidr),
    }, depends_on=(after,))]
    for instance in range(INSTANCES):
        ip: dict[str, Any] = {
            "resourceGroupName": rg, "location": region,
            # AZ gateway SKUs take only Standard static addresses; zone-redundant where the region has zones
            "sku": {"name": "Standard", "tier": "Regional"},
            "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4", "tags": tags,
        }
        if region in ZONAL_REGIONS:
            ip["zones"] = ["1", "2", "3"]
        out.append(make(gateway_ip_name(network, region, instance), PUBLIC_IP, region, network, ip))
    peering_addresses = [{
        "ipconfigurationId": ip_configuration_id(stack, region, gateway, instance),
        "customBgpIpAddresses": sorted({s.address(t) for s in sides for t in s.link.tunnels if s.instance(t) == instance}),
    } for instance in range(INSTANCES)]
    out.append(make(gateway, GATEWAY, region, network, {
        "resourceGroupName": rg, "location": region,
        # named, not auto-named: the BGP addresses above name its ipConfigurations by resource id
        "virtualNetworkGatewayName": gateway,
        "gatewayType": "Vpn", "vpnType": "RouteBased", "vpnGatewayGeneration": "Generation1",
        "sku": {"name": GATEWAY_SKU, "tier": GATEWAY_SKU},
        "activeActive": True, "enableBgp": True,
        "bgpSettings": {"asn": sides[0].asn, "bgpPeeringAddresses": peering_addresses},
        "ipConfigurations": [{
            "name": ip_configuration(instance), "privateIPAllocationMethod": "Dynamic",
            "subnet": {"id": ref(subnet, "id")},
            "publicIPAddress": {"id": ref(gateway_ip_name(network, region, instance), "id")},
        } for instance in range(INSTANCES)],
        "tags": tags | {GATEWAY_TUNNELS_TAG: str(sum(len(s.link.tunnels) for s in sides))},
    }))
    return out


def ip_configuration_id(stack: str, region: str, gateway: str, instance: int) -> dict[str, Any]:
    """The resource id of one of the gateway's own ipConfigurations, which its BGP settings must name.

    The gateway cannot refer to its own output, and azure-native resolves ``$self/...`` only in
    SubResource ids, not in this plain string; the id is the resource group's id (a reference: the
    subscription is known at deploy time only) followed by a fixed path. ``suffix`` asks the engine to
    append that path to the referenced value: a core change this plugin needs (see its report)."""
    return {**ref(resource_group(stack, region), "id"),
            "suffix": f"/providers/Microsoft.Network/virtualNetworkGateways/{gateway}/ipConfigurations/"
                      f"{ip_configuration(instance)}"}


# -- endpoints ---------------------------------------------------------------------------------------------
def render_endpoint(ctx: RenderContext, view: EndpointView) -> EndpointRendering:
    link = view.element.link  # type: ignore[attr-defined]
    if view.element.kind == "peering":
        return _peering(ctx, view, link)
    return _vpn(ctx, view, Side(link, view.index))


def _peering(ctx: RenderContext, view: EndpointView, link: Link) -> EndpointRendering:
    site = link.a if view.index == 0 else link.b
    network, region = site.network, site.region
    vnet = vnet_name(network, region)
    name = logical(link.slug, region, f"side{view.index}-peering")
    peering = make(name, PEERING, region, network, {
        "resourceGroupName": rg_ref(ctx.stack.stack, region),
        "virtualNetworkName": ref(vnet, "name"),
        "remoteVirtualNetwork": {"id": view.peer_output("network")},
        "allowVirtualNetworkAccess": True,
        # no transit: the peer reaches this network and nothing this network reaches
        "allowForwardedTraffic": False, "allowGatewayTransit": False, "useRemoteGateways": False,
    })
    exports: dict[str, Any] = {"network": ref(vnet, "id")}
    if view.index == 0:
        exports["connection"] = ref(name, "id")
    return EndpointRendering(resources=(peering,), exports=exports)


def _vpn(ctx: RenderContext, view: EndpointView, side: Side) -> EndpointRendering:
    site, link = side.site, side.link
    network, region, stack = site.network, site.region, ctx.stack.stack
    rg, gateway = rg_ref(stack, region), gateway_name(network, region)
    out: list[RenderedResource] = []
    keys: dict[int, dict[str, Any]] = {}
    for k, tunnels in side.peer_gateways():
        bgp = side.bgp_tunnel(k, tunnels)
        lng, conn = logical(link.slug, region, f"peer-gw-{k}"), logical(link.slug, region, f"vpn-{k}")
        out.append(make(lng, LOCAL_GATEWAY, region, network, {
            "resourceGroupName": rg, "location": region,
            "gatewayIpAddress": view.peer_output("addresses", item=tunnels[0].index),
            # BGP alone decides what crosses: no static prefix of the peer here
            "localNetworkAddressSpace": {"addressPrefixes": []},
            "bgpSettings": {"asn": side.peer_asn, "bgpPeeringAddress": side.peer_address(bgp)},
            "tags": ctx.tags(network),
        }))
        if view.index == 0:
            psk = logical(link.slug, region, f"psk-{k}")
            out.append(preshared_key(psk, CLOUD, region, network))
            key: dict[str, Any] = ref(psk, "result")
            for t in tunnels:
                keys[t.index] = key
        else:
            key = view.peer_output("keys", item=bgp.index)
        out.append(make(conn, CONNECTION, region, network, {
            "resourceGroupName": rg, "location": region,
            "connectionType": "IPsec", "connectionProtocol": "IKEv2",
            "virtualNetworkGateway1": {"id": ref(gateway, "id")},
            "localNetworkGateway2": {"id": ref(lng, "id")},
            "enableBgp": True, "sharedKey": key,
            "ipsecPolicies": [dict(AZURE_IPSEC_POLICY)],
            "useLocalAzureIpAddress": False, "usePolicyBasedTrafficSelectors": False,
            "gatewayCustomBgpIpAddresses": [{
                "ipConfigurationId": ref(gateway, "ipConfigurations", path=(instance, "id")),
                "customBgpIpAddress": side.address(_on_instance(side, tunnels, instance)),
            } for instance in range(INSTANCES)],
            "tags": ctx.tags(network) | {
                LINK_TAG: link.id, SIDE_TAG: str(side.index), TUNNELS_TAG: ",".join(str(t.index) for t in tunnels),
            },
        }))
    exports: dict[str, Any] = {
        "addresses": [ref(gateway_ip_name(network, region, side.instance(t)), "ipAddress") for t in link.tunnels],
        "asn": side.asn,
    }
    if view.index == 0:
        exports["keys"] = [keys[t.index] for t in link.tunnels]
    return EndpointRendering(resources=tuple(out), exports=exports)


def _on_instance(side: Side, tunnels: tuple[Tunnel, ...], instance: int) -> Tunnel:
    """The tunnel a connection carries on one gateway instance; a connection that carries none there (a
    peer with an address per tunnel only accepts the instance it names) still gives that instance one of
    its own addresses for this link, as Azure asks for one per ipConfiguration."""
    carried = [t for t in tunnels if side.instance(t) == instance]
    if carried:
        return carried[0]
    return next(t for t in side.link.tunnels if side.instance(t) == instance)
