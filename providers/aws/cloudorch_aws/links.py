"""The AWS sides of the network plan's links: inter-region VPC peering, and site-to-site VPN with BGP.

Peering rather than a transit gateway between two AWS sites: a peering connection has no hourly charge
and bills only the inter-region transfer every path pays anyway, while a transit gateway adds $0.05 per
attachment-hour (two attachments per pair, ~$73 a month) and $0.02 per GB processed on top
(``cloudorch/catalog/data/network.csv``, rows aws/transit_gateway_*). A transit gateway pays off for
transitive routing among many VPCs; cloudorch links only the pairs a flow joins, and a VPC may hold up to
125 active peerings (``PEERINGS_PER_VPC``), so peering is the cheaper and simpler fit.

A VPN side is one virtual private gateway per VPC (AWS attaches at most one to a VPC, so every VPN link
of a site shares it, rendered with the network in ``render_vpn_gateway``), and per link two customer
gateways (one per address of the peer's HA gateway) with one VPN connection each: four tunnels, each
with its own AWS outside address (hence ``vpn_interfaces = 4``). Routes are dynamic (BGP): the gateway
propagates what the peer announces into every route table of the VPC and announces the VPC's own block,
never a default route. One caveat the AWS side cannot switch off: a gateway with several VPN connections
also passes the routes learned on one to the others (what AWS calls VPN CloudHub,
docs.aws.amazon.com/vpn/latest/s2svpn/site-site-architectures.html), so a peer may learn a third site's
block through AWS with a longer AS path; it never learns a default route, and where the same block is also
peered, the VPC's static peering route wins over the propagated one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from cloudorch.network.allocation import InsideAddressing, excluding
from cloudorch.network.model import Link, Site, VpnSide
from cloudorch.placement.rates import GatewayLimit
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.links import IpsecPolicy, LinkElement, preshared_key

from cloudorch_aws.naming import CLOUD, logical, provider_name, slug, tags
from cloudorch_aws.network import route_tables, vpc_name
from cloudorch_aws.roles import ROLES

PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
ROUTE = "aws:ec2/route:Route"
VPN_GATEWAY = "aws:ec2/vpnGateway:VpnGateway"
PROPAGATION = "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation"
CUSTOMER_GATEWAY = "aws:ec2/customerGateway:CustomerGateway"
VPN_CONNECTION = "aws:ec2/vpnConnection:VpnConnection"

#: tags that say which link (and side, and tunnels) a link resource belongs to, so its facts are read from
#: the rendering alone. AWS tag values allow letters, digits, spaces and ``_ . : / = + - @`` only, so the
#: link id's ``~`` is written as a space (site names hold none).
LINK_TAG, SIDE_TAG, TUNNELS_TAG = "cloudorch-link", "cloudorch-link-side", "cloudorch-link-tunnels"

#: Active VPC peering connections per VPC: 50 by default, raisable to 125 and no further (Amazon VPC
#: quotas, docs.aws.amazon.com/general/latest/gr/vpc-service.html, read 2026-06)
PEERINGS_PER_VPC = 125

#: a tunnel's inside /30: any of 169.254.0.0/16 but seven reserved ones, unique among the VPN connections of
#: one virtual private gateway ("Tunnel options for your Site-to-Site VPN connection", AWS Site-to-Site VPN
#: User Guide, and AWS re:Post "vpn-custom-psk-inside-tunnel-ip", read 2026-12-07: "The CIDR block must be
#: unique across all Site-to-Site VPN connections that use the same virtual private gateway")
RESERVED_INSIDE = ("169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30",
                   "169.254.5.0/30", "169.254.169.252/30")
INSIDE = InsideAddressing(ranges=excluding("169.254.0.0/16", RESERVED_INSIDE), scope="site")

#: "Site-to-Site VPN connections per virtual private gateway": 10 by default, adjustable ("Site-to-Site VPN
#: quotas", AWS Site-to-Site VPN User Guide, read 2026-12-07); each link is two connections
CONNECTIONS_PER_GATEWAY = 10
GATEWAY_LIMIT = GatewayLimit(
    links=CONNECTIONS_PER_GATEWAY // 2, adjustable=True,
    why=f"a virtual private gateway takes {CONNECTIONS_PER_GATEWAY} Site-to-Site VPN connections (AWS's default quota "
        "'Site-to-Site VPN connections per virtual private gateway', which can be raised), and each link is two")

#: tunnels per AWS VPN connection: a connection faces one customer gateway (one peer address)
TUNNELS_PER_CONNECTION = 2

#: IpsecPolicy in the words of the VpnConnection's tunnel options (pulumi-aws 7.51.1 schema: encryption
#: ``AES256-GCM-16``, integrity ``SHA2-384``, DH group numbers, phase 1 lifetime 900-28800 s, phase 2
#: 900-3600 s). Both phases get the same set, so nothing weaker is ever negotiated.
_ENCRYPTION = {"aes256-gcm16": "AES256-GCM-16"}
_INTEGRITY = {"sha2-384": "SHA2-384"}


def _tunnel_options(number: int) -> dict[str, Any]:
    t = f"tunnel{number}"
    phase = {
        f"{t}Phase{p}{what}": value
        for p in (1, 2)
        for what, value in (("EncryptionAlgorithms", [_ENCRYPTION[IpsecPolicy.encryption]]),
                            ("IntegrityAlgorithms", [_INTEGRITY[IpsecPolicy.integrity]]),
                            ("DhGroupNumbers", [IpsecPolicy.dh_group if p == 1 else IpsecPolicy.pfs_group]))
    }
    return phase | {
        f"{t}IkeVersions": [IpsecPolicy.ike_version],
        f"{t}Phase1LifetimeSeconds": IpsecPolicy.ike_lifetime,
        f"{t}Phase2LifetimeSeconds": IpsecPolicy.ipsec_lifetime,
        # Both ends are cloud gateways: AWS starts IKE itself (by default it waits for the customer
        # gateway) and restarts it after a dead-peer timeout rather than dropping the tunnel.
        f"{t}StartupAction": "start",
        f"{t}DpdTimeoutAction": "restart",
    }


#: what every VPN connection sets beyond its own gateways, addresses and keys
TUNNEL_OPTIONS: dict[str, Any] = _tunnel_options(1) | _tunnel_options(2)


# -- names and the shared constructor ----------------------------------------------------------------------
def link_resource_name(link: Link, index: int, part: str) -> str:
    """A link resource's logical name: the link's slug, the side ("a"/"b": two AWS sides of a peering never
    collide, even in one region) and what it is; the other cloud's side names its own."""
    return f"{link.slug}-{'ab'[index]}-{slug(part)}"


def vpn_gateway_name(network: str, region: str) -> str:
    return logical(network, region, "vgw")


def link_tags(ctx: RenderContext, link: Link, index: int, name: str, tunnels: Iterable[int] = ()) -> dict[str, str]:
    marks = {LINK_TAG: link.id.replace("~", " "), SIDE_TAG: str(index)}
    if tunnels:
        marks[TUNNELS_TAG] = " ".join(str(t) for t in tunnels)
    return tags(ctx, link.sites()[index].network, name) | marks


def _resource(type_: str, name: str, site: Site, inputs: dict[str, Any]) -> RenderedResource:
    return RenderedResource(name=name, type=type_, role=ROLES[type_], cloud=CLOUD, region=site.region,
                            source=site.network, provider=provider_name(site.region), inputs=inputs)


# -- the site's VPN gateway ----------------------------------------------------------------------------------
def site_vpn_links(ctx: RenderContext, network: str, region: str) -> list[Link]:
    key = (network, CLOUD, region)
    return [link for link in ctx.links(region, kind="vpn") if key in (link.a.key, link.b.key)]


def render_vpn_gateway(ctx: RenderContext, network: str, region: str) -> list[RenderedResource]:
    """The virtual private gateway of a site with VPN links, attached to its VPC, and the propagation of the
    routes it learns over BGP into every route table of the VPC; nothing for a site without VPN links."""
    links = site_vpn_links(ctx, network, region)
    if not links:
        return []
    key = (network, CLOUD, region)
    asns = {(link.a_side if link.a.key == key else link.b_side).asn for link in links}  # type: ignore[union-attr]
    if len(asns) != 1:
        raise ValueError(f"site {network}@{CLOUD}/{region} has several BGP ASNs {sorted(asns)}: one gateway has one")
    site = Site(network=network, cloud=CLOUD, region=region, cidr="")
    vgw = vpn_gateway_name(network, region)
    out = [_resource(VPN_GATEWAY, vgw, site, {
        # the VPC attachment is part of the gateway: AWS attaches one virtual private gateway per VPC
        "vpcId": ref(vpc_name(network, region)), "amazonSideAsn": str(asns.pop()), "tags": tags(ctx, network, vgw),
    })]
    for table in route_tables(network, region).values():
        out.append(_resource(PROPAGATION, f"{table}-vgw-propagation", site, {
            "vpnGatewayId": ref(vgw), "routeTableId": ref(table),
        }))
    return out


# -- endpoints ---------------------------------------------------------------------------------------------
def render_link_endpoint(ctx: RenderContext, view: EndpointView) -> EndpointRendering:
    element = view.element
    if not isinstance(element, LinkElement):
        raise NotImplementedError(f"the {CLOUD} provider renders no {element.kind} endpoints")
    if element.kind == "peering":
        return _peering(ctx, element.link, view)
    return _vpn(ctx, element.link, view)


def _peering(ctx: RenderContext, link: Link, view: EndpointView) -> EndpointRendering:
    index = view.index
    site, other = link.sites()[index], link.sites()[1 - index]
    vpc = ref(vpc_name(site.network, site.region))
    out: list[RenderedResource] = []
    if index == 0:
        name = link_resource_name(link, index, "peering")
        inputs: dict[str, Any] = {"vpcId": vpc, "peerVpcId": view.peer_output("network")}
        if other.region != site.region:
            inputs["peerRegion"] = other.region
        # Side 1 accepts in its own region: AWS refuses autoAccept on a request across regions.
        out.append(_resource(PEERING, name, site, inputs | {
            "autoAccept": False, "tags": link_tags(ctx, link, index, name)}))
        target = ref(name)
        exports = {"network": vpc, "connection": ref(name)}
    else:
        name = link_resource_name(link, index, "accepter")
        out.append(_resource(ACCEPTER, name, site, {
            "vpcPeeringConnectionId": view.peer_output("connection"), "autoAccept": True,
            "tags": link_tags(ctx, link, index, name)}))
        # through the accepter, so the routes wait until the peering is active (AWS refuses a route to a
        # peering still pending acceptance)
        target = ref(name, "vpcPeeringConnectionId")
        exports = {"network": vpc}
    for tier, table in route_tables(site.network, site.region).items():
        out.append(_resource(ROUTE, link_resource_name(link, index, f"{tier}-route"), site, {
            "routeTableId": ref(table), "destinationCidrBlock": other.cidr, "vpcPeeringConnectionId": target,
        }))
    return EndpointRendering(resources=tuple(out), exports=exports)


def _vpn(ctx: RenderContext, link: Link, view: EndpointView) -> EndpointRendering:
    index = view.index
    site = link.sites()[index]
    own, peer = (link.a_side, link.b_side) if index == 0 else (link.b_side, link.a_side)
    if own is None or peer is None:
        raise ValueError(f"VPN link {link.id!r} has no BGP side for one of its sites")
    _check_tunnels(link, index, own)

    out: list[RenderedResource] = []
    if index == 0:
        secrets = [preshared_key(link_resource_name(link, index, f"psk-{t.index}"), CLOUD, site.region, site.network)
                   for t in link.tunnels]
        out += secrets
        keys: list[Any] = [ref(s.name, "result") for s in secrets]
    else:
        keys = [view.peer_output("keys", t.index) for t in link.tunnels]

    vgw = ref(vpn_gateway_name(site.network, site.region))
    addresses = []
    for k in range(len(link.tunnels) // TUNNELS_PER_CONNECTION):
        first, second = link.tunnels[TUNNELS_PER_CONNECTION * k:TUNNELS_PER_CONNECTION * (k + 1)]
        cgw = link_resource_name(link, index, f"cgw-{k}")
        out.append(_resource(CUSTOMER_GATEWAY, cgw, site, {
            "type": "ipsec.1", "bgpAsn": str(peer.asn), "ipAddress": view.peer_output("addresses", first.index),
            "tags": link_tags(ctx, link, index, cgw),
        }))
        name = link_resource_name(link, index, f"vpn-{k}")
        out.append(_resource(VPN_CONNECTION, name, site, {
            "type": "ipsec.1", "vpnGatewayId": vgw, "customerGatewayId": ref(cgw),
            "staticRoutesOnly": False, "tunnelInsideIpVersion": "ipv4",
            "tunnel1InsideCidr": first.inside_cidr, "tunnel2InsideCidr": second.inside_cidr,
            "tunnel1PresharedKey": keys[first.index], "tunnel2PresharedKey": keys[second.index],
            **TUNNEL_OPTIONS,
            "tags": link_tags(ctx, link, index, name, (first.index, second.index)),
        }))
        addresses += [ref(name, "tunnel1Address"), ref(name, "tunnel2Address")]
    exports: dict[str, Any] = {"addresses": addresses, "asn": own.asn}
    if index == 0:
        exports["keys"] = keys
    return EndpointRendering(resources=tuple(out), exports=exports)


def _check_tunnels(link: Link, index: int, own: VpnSide) -> None:
    """The link's tunnels as AWS builds them, or a clear error (a core bug, never the user's).

    AWS gives each tunnel its own outside address, both tunnels of a connection face one customer gateway
    (so one peer address), and the virtual private gateway takes the first host of each inside /30, the
    peer the second (Microsoft's AWS-Azure BGP guide pairs AWS 169.254.21.1 with Azure 169.254.21.2 in
    169.254.21.0/30: learn.microsoft.com/azure/vpn-gateway/vpn-gateway-howto-aws-bgp, read 2026-06).
    """
    tunnels = link.tunnels
    if len(tunnels) % TUNNELS_PER_CONNECTION or [t.index for t in tunnels] != list(range(len(tunnels))):
        raise ValueError(f"VPN link {link.id!r}: AWS needs tunnels in pairs, indexed 0..n-1")
    for t in tunnels:
        own_interface, own_address = (t.a_interface, t.a_address) if index == 0 else (t.b_interface, t.b_address)
        first_host = str(next(ipaddress.ip_network(t.inside_cidr).hosts()))
        if own_interface != t.index or own.interfaces < len(tunnels):
            raise ValueError(f"VPN link {link.id!r}: tunnel {t.index} must end on AWS address {t.index}")
        if own_address != first_host:
            raise ValueError(
                f"VPN link {link.id!r}: tunnel {t.index} gives AWS the inside address {own_address}, but AWS always "
                f"takes the first host of {t.inside_cidr} ({first_host}); the network plan must give the AWS side "
                "the first host whichever side it is")
    for first, second in zip(tunnels[::2], tunnels[1::2], strict=True):
        peer_of = (lambda t: t.b_interface) if index == 0 else (lambda t: t.a_interface)
        if peer_of(first) != peer_of(second):
            raise ValueError(f"VPN link {link.id!r}: tunnels {first.index} and {second.index} share an AWS VPN "
                             "connection, so they must end on the same peer address")


# -- limits the user controls --------------------------------------------------------------------------------
def link_problems(ctx: RenderContext) -> list:
    """A site with more peerings than a VPC can hold: the user narrows the locations its flows join."""
    problems = []
    for network, _spec, block in ctx.network_blocks():
        key = (network, CLOUD, block.region)
        count = sum(1 for link in ctx.links(block.region, kind="peering") if key in (link.a.key, link.b.key))
        if count > PEERINGS_PER_VPC:
            problems.append(ctx.problem(("resources", network), (
                f"{network} in {CLOUD}/{block.region} needs {count} VPC peerings, but an AWS VPC holds at most "
                f"{PEERINGS_PER_VPC}: fewer regions for the resources whose flows it carries (placement.regions, "
                "spread) keep it within the limit")))
    return problems
