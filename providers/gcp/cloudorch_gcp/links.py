"""GCP's side of the links between sites: VPC Network Peering within GCP, HA VPN towards the other clouds.

Two regions of one stack network need nothing: the VPC is global (``Provider.global_network``), so the
core plans no link between them. Two *different* stack networks on GCP are peered. A VPC peering joins
two networks, not two regions, so several links between the same two networks (different region pairs)
share ONE peering per side: the link whose id sorts first renders it, and the others render nothing and
export the same references (which needs the core change described in ``dedupe_exports``).

A VPN side is, per link, an HA VPN gateway (two interfaces), an external VPN gateway describing the
peer's public addresses, the link's tunnels (four to AWS, two to Azure) and a BGP interface and peer per
tunnel, on the site's VPN Cloud
Router (``network.vpn_router_name``, rendered with the site's network because every link of the site
shares it). The gateway is per link, not per site, because a side's ``addresses`` export must refer to
resources of that link's own rendering; HA VPN gateways cost nothing by themselves (billed through
tunnels), and a gateway per link keeps one link's replacement from touching the others.
"""

from __future__ import annotations

from typing import Any

from cloudorch.network.allocation import InsideAddressing, excluding
from cloudorch.network.model import Link, Tunnel, VpnSide
from cloudorch.placement.rates import GatewayLimit
from cloudorch.rendering import RenderContext, ref
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.links import LinkElement, preshared_key

from cloudorch_gcp.naming import CLOUD, labels, resource, rfc1035
from cloudorch_gcp.network import network_name, vpn_router_name

PEERING = "gcp:compute/networkPeering:NetworkPeering"
HA_VPN_GATEWAY = "gcp:compute/haVpnGateway:HaVpnGateway"
EXTERNAL_VPN_GATEWAY = "gcp:compute/externalVpnGateway:ExternalVpnGateway"
VPN_TUNNEL = "gcp:compute/vPNTunnel:VPNTunnel"
ROUTER_INTERFACE = "gcp:compute/routerInterface:RouterInterface"
ROUTER_PEER = "gcp:compute/routerPeer:RouterPeer"

#: Pulumi auto-names a resource "<logical name>-<7 hex>", and GCP names are at most 63 characters
MAX_LOGICAL = 55

#: IpsecPolicy in Cloud VPN's words (Google Cloud, "Supported IKE ciphers",
#: cloud.google.com/network-connectivity/docs/vpn/concepts/supported-ike-ciphers, read 2026-12-07):
#: AES-GCM is an AEAD cipher, so no integrity algorithm is listed on either phase. Cloud VPN's SA lifetimes
#: are fixed (phase 1 10 h, phase 2 3 h) and not settable; each side rekeys on its own lifetime.
CIPHER_SUITE = {
    "phase1": {"encryptions": ["AES-GCM-16-256"], "prves": ["PRF-HMAC-SHA2-384"], "dhs": ["Group-20"]},
    "phase2": {"encryptions": ["AES-GCM-16-256"], "pfs": ["Group-20"]},
}

#: a BGP session's /30: anywhere in 169.254.0.0/16, "unique among all Cloud Routers in all regions of a VPC
#: network" ("Create an HA VPN gateway to a peer VPN gateway", Google Cloud, read 2026-12-07). No range is
#: documented as reserved; the /24 of the metadata server (169.254.169.254) is left out all the same.
INSIDE = InsideAddressing(ranges=excluding("169.254.0.0/16", ("169.254.169.0/24",)), scope="network")

#: a Cloud Router takes at most 128 BGP peers ("Quotas and limits", Cloud Router, Google Cloud, read
#: 2026-12-07), and every link of a site has its peers (up to four) on the site's one VPN router
ROUTER_PEERS = 128
GATEWAY_LIMIT = GatewayLimit(
    links=ROUTER_PEERS // 4,
    why=f"a Cloud Router takes at most {ROUTER_PEERS} BGP peers, and a link has up to four on the site's router")

#: External VPN gateway redundancy by how many public addresses the peer's tunnels end on
REDUNDANCY = {1: "SINGLE_IP_INTERNALLY_REDUNDANT", 2: "TWO_IPS_REDUNDANCY", 4: "FOUR_IPS_REDUNDANCY"}

#: a tunnel's description names its link, side and index: the only free-text input a tunnel has, and
#: labels cannot hold a link id's "@", "/" and "~"; ``facts`` reads it back
TUNNEL_DESCRIPTION = "cloudorch link {link} side {side} tunnel {tunnel}"


def link_name(link: Link, *parts: str) -> str:
    return rfc1035(link.slug, CLOUD, *parts, max_len=MAX_LOGICAL)


def render_link_endpoint(ctx: RenderContext, view: EndpointView) -> EndpointRendering:
    element = view.element
    if not isinstance(element, LinkElement):
        raise NotImplementedError(f"the {CLOUD} provider renders no {element.kind} endpoints")
    if element.kind == "peering":
        return _peering(ctx, element.link, view.index, view)
    return _vpn(ctx, element.link, view.index, view)


# -- peering ---------------------------------------------------------------------------------------------
def primary_peering(ctx: RenderContext, link: Link) -> Link:
    """The link that renders the one peering between ``link``'s two networks: the first id in sort order."""
    same_pair = [other for other in ctx.links(kind="peering")
                 if (other.a.network, other.b.network) == (link.a.network, link.b.network)]
    return min(same_pair, key=lambda other: other.id)


def peering_name(link: Link, side: int) -> str:
    return link_name(link, "peering", str(side))


def _peering(ctx: RenderContext, link: Link, side: int, view: EndpointView) -> EndpointRendering:
    primary = primary_peering(ctx, link)
    name = peering_name(primary, side)
    exports: dict[str, Any] = {"network": ref(name, "network")}
    if side == 0:
        exports["connection"] = ref(name, "id")
    if primary.id != link.id:
        return dedupe_exports(exports)
    own, peer = link.sites()[side], link.sites()[1 - side]
    # Side 0 names the peer's VPC directly (this provider renders it), side 1 asks for side 0's export:
    # both asking would make each peering wait for the other (a cycle), and side 1 waiting for side 0 is
    # what GCP wants anyway, one peering operation on a network at a time.
    peer_network = ref(network_name(peer.network), "selfLink") if side == 0 else view.peer_output("network")
    peering = resource(name, PEERING, None, own.network, {
        "network": ref(network_name(own.network), "selfLink"),
        "peerNetwork": peer_network,
        # subnet routes only: what one network learned over its VPNs (custom routes) must not reach the
        # other through the peering; each side learns the other's subnetworks and nothing else
        "exportCustomRoutes": False,
        "importCustomRoutes": False,
    })
    return EndpointRendering(resources=(peering,), exports=exports)


def dedupe_exports(exports: dict[str, Any]) -> EndpointRendering:
    """A second link between two networks already peered: nothing to render, the primary link's references.

    The core's ``check_exports`` refuses references to resources outside this endpoint's own rendering, so
    this needs it to accept any resource the same provider rendered (see the report on branch links-gcp).
    """
    return EndpointRendering(resources=(), exports=exports)


# -- VPN -------------------------------------------------------------------------------------------------
def _vpn(ctx: RenderContext, link: Link, side: int, view: EndpointView) -> EndpointRendering:
    own, peer = link.sites()[side], link.sites()[1 - side]
    own_side, peer_side = _sides(link, side)
    region, source = own.region, own.network
    router = vpn_router_name(own.network, region)
    gateway, peer_gateway = link_name(link, "gw"), link_name(link, "peer-gw")
    tags = labels(ctx, source)

    out = [
        resource(gateway, HA_VPN_GATEWAY, region, source, {
            "network": ref(network_name(own.network), "id"),
            "region": region,
            "stackType": "IPV4_ONLY",
            "description": f"cloudorch link {link.id}",
            "labels": tags,
        }),
        resource(peer_gateway, EXTERNAL_VPN_GATEWAY, None, source, {
            "redundancyType": REDUNDANCY[peer_side.interfaces],
            "interfaces": _peer_interfaces(link, side, peer_side, view),
            "description": f"{peer} side of cloudorch link {link.id}",
            "labels": tags,
        }),
    ]
    keys = []
    for tunnel in link.tunnels:
        mine, theirs = _interfaces(tunnel, side)
        own_address, peer_address = _addresses(tunnel, side)
        if side == 0:
            key = preshared_key(link_name(link, "psk", str(tunnel.index)), CLOUD, region, source)
            out.append(key)
            keys.append(ref(key.name, "result"))
            secret = ref(key.name, "result")
        else:
            secret = view.peer_output("keys", tunnel.index)
        name, interface = link_name(link, "tunnel", str(tunnel.index)), link_name(link, "if", str(tunnel.index))
        out += [
            resource(name, VPN_TUNNEL, region, source, {
                "region": region,
                "vpnGateway": ref(gateway, "id"),
                "vpnGatewayInterface": mine,
                "peerExternalGateway": ref(peer_gateway, "id"),
                "peerExternalGatewayInterface": theirs,
                "router": ref(router, "id"),
                "ikeVersion": 2,
                "sharedSecret": secret,
                "cipherSuite": CIPHER_SUITE,
                "description": TUNNEL_DESCRIPTION.format(link=link.id, side=side, tunnel=tunnel.index),
                "labels": tags,
            }, secret_outputs=("sharedSecret",)),
            resource(interface, ROUTER_INTERFACE, region, source, {
                "router": ref(router, "name"),
                "region": region,
                "ipRange": f"{own_address}/{tunnel.inside_cidr.split('/')[1]}",
                "vpnTunnel": ref(name, "name"),
            }),
            resource(link_name(link, "bgp", str(tunnel.index)), ROUTER_PEER, region, source, {
                "router": ref(router, "name"),
                "region": region,
                "interface": ref(interface, "name"),
                "ipAddress": own_address,
                "peerIpAddress": peer_address,
                "peerAsn": view.peer_output("asn"),
                # the same priority on all four sessions: the peer spreads traffic over every tunnel up
                "advertisedRoutePriority": 100,
            }),
        ]
    exports: dict[str, Any] = {
        "addresses": [ref(gateway, "vpnInterfaces", path=(_interfaces(t, side)[0], "ipAddress")) for t in link.tunnels],
        "asn": own_side.asn,
    }
    if side == 0:
        exports["keys"] = keys
    return EndpointRendering(resources=tuple(out), exports=exports)


def _sides(link: Link, side: int) -> tuple[VpnSide, VpnSide]:
    a, b = link.a_side, link.b_side
    assert a is not None and b is not None, f"VPN link {link.id} has no sides"
    return (a, b) if side == 0 else (b, a)


def _interfaces(tunnel: Tunnel, side: int) -> tuple[int, int]:
    """(this side's interface, the peer's interface) of ``tunnel``."""
    return (tunnel.a_interface, tunnel.b_interface) if side == 0 else (tunnel.b_interface, tunnel.a_interface)


def _addresses(tunnel: Tunnel, side: int) -> tuple[str, str]:
    return (tunnel.a_address, tunnel.b_address) if side == 0 else (tunnel.b_address, tunnel.a_address)


def _peer_interfaces(link: Link, side: int, peer_side: VpnSide, view: EndpointView) -> list[dict]:
    """One entry per public address of the peer: the address of the first tunnel ending on it."""
    first: dict[int, int] = {}
    for tunnel in link.tunnels:
        first.setdefault(_interfaces(tunnel, side)[1], tunnel.index)
    missing = sorted(set(range(peer_side.interfaces)) - set(first))
    assert not missing, f"link {link.id}: no tunnel ends on peer interfaces {missing}"
    return [{"id": i, "ipAddress": view.peer_output("addresses", first[i])} for i in sorted(first)]
