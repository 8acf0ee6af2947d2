"""AWS routes and link resources read into neutral facts (``RouteFacts``, ``LinkFacts``).

Read from the rendered graph alone: a route's target is whatever its reference points at, a link's id and
side are the tags the rendering puts on it (``links.LINK_TAG``), the block a side offers is its VPC's, and
"routes learned" means every route table of the VPC has the virtual private gateway's propagation.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

from cloudorch.rendering.facts import BgpSession, LinkFacts, Reader, RenderedGraph, RouteFacts
from cloudorch.rendering.inputs import UNKNOWN, get, items
from cloudorch.rendering.links import IpsecPolicy
from cloudorch.rendering.model import REF, RenderedResource, is_ref

from cloudorch_aws.links import (
    ACCEPTER, LINK_TAG, PEERING, PROPAGATION, ROUTE, SIDE_TAG, TUNNEL_OPTIONS, TUNNELS_TAG, VPN_CONNECTION, VPN_GATEWAY,
)

VPC = "aws:ec2/vpc:Vpc"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"

#: route target input -> the neutral word for where the traffic leaves (a peering is refined to "link")
_TARGETS = {
    "natGatewayId": "nat", "vpcPeeringConnectionId": "peering", "transitGatewayId": "transit-gateway",
    "egressOnlyGatewayId": "internet", "networkInterfaceId": "instance", "vpcEndpointId": "endpoint",
    "carrierGatewayId": "carrier", "localGatewayId": "local-gateway", "coreNetworkArn": "core-network",
}


def _target(graph: RenderedGraph, value: Any) -> RenderedResource | None:
    return graph.rendered(value[REF]) if is_ref(value) else None


def _link_of(resource: RenderedResource | None) -> str | None:
    mark = get(resource.inputs, f"tags.{LINK_TAG}") if resource is not None else None
    return mark.replace(" ", "~") if isinstance(mark, str) else None


# -- routes ------------------------------------------------------------------------------------------------
def _route(res: RenderedResource, graph: RenderedGraph) -> RouteFacts:
    table = res.inputs.get("routeTableId")
    return replace(_routed(res, graph), table=table[REF] if is_ref(table) else None)


def _routed(res: RenderedResource, graph: RenderedGraph) -> RouteFacts:
    inputs = res.inputs
    destination = get(inputs, "destinationCidrBlock")
    if destination is None:
        destination = get(inputs, "destinationIpv6CidrBlock")
    if destination is None:
        destination = get(inputs, "destinationPrefixListId")
    gateway = inputs.get("gatewayId")
    if gateway is not None:
        target = _target(graph, gateway)
        if gateway == "local":
            return RouteFacts(destination=destination, via="local")
        if target is not None and target.type == VPN_GATEWAY:
            return RouteFacts(destination=destination, via="vpn-gateway",
                              notes={"via": f"gatewayId names the virtual private gateway {target.name}"})
        # an internet gateway, or a gateway id only known at deploy time (the usual spelling of one)
        return RouteFacts(destination=destination, via="internet")
    for key, via in _TARGETS.items():
        if key in inputs:
            if key == "vpcPeeringConnectionId":
                link = _link_of(_target(graph, inputs[key]))
                if link is not None:
                    return RouteFacts(destination=destination, via="link", link=link)
            return RouteFacts(destination=destination, via=via)
    return RouteFacts(destination=destination, via=None, notes={"via": "the route names no target cloudorch knows"})


# -- links -------------------------------------------------------------------------------------------------
def _vpc_block(graph: RenderedGraph, vpc_ref: Any) -> tuple[str, ...]:
    vpc = _target(graph, vpc_ref)
    cidr = get(vpc.inputs, "cidrBlock") if vpc is not None and vpc.type == VPC else None
    return (cidr,) if isinstance(cidr, str) else ()


def _marks(res: RenderedResource) -> dict[str, Any]:
    side = get(res.inputs, f"tags.{SIDE_TAG}")
    tunnels = get(res.inputs, f"tags.{TUNNELS_TAG}")
    return {
        "link": _link_of(res) or res.name,
        "side": int(side) if isinstance(side, str) and side.isdigit() else 0,
        "tunnels": tuple(int(t) for t in tunnels.split()) if isinstance(tunnels, str) else (),
    }


def _static_routes(res: RenderedResource, graph: RenderedGraph, vpc_ref: Any) -> tuple[str, ...]:
    """The prefixes routed into the peering from EVERY route table of the side's VPC: a subnet whose table
    lacks the route cannot use the link, so a prefix routed from only some tables is not routed."""
    routes = graph.referrers(res.name, ROUTE)
    if not is_ref(vpc_ref):
        return ()
    tables = {t.name for t in graph.referrers(vpc_ref[REF], ROUTE_TABLE)}
    by_table: dict[str, set[str]] = {t: set() for t in tables}
    for r in routes:
        table, destination = r.inputs.get("routeTableId"), get(r.inputs, "destinationCidrBlock")
        if is_ref(table) and table[REF] in by_table and isinstance(destination, str):
            by_table[table[REF]].add(destination)
    common = set.intersection(*by_table.values()) if by_table else set()
    return tuple(sorted(common))


def _peering(res: RenderedResource, graph: RenderedGraph) -> LinkFacts:
    """Either side of a peering: the requester names its VPC; the accepter's is its routes' tables' VPC."""
    if res.type == PEERING:
        vpc_ref = res.inputs.get("vpcId")
    else:
        tables = [_target(graph, r.inputs.get("routeTableId")) for r in graph.referrers(res.name, ROUTE)]
        vpcs = {t.inputs.get("vpcId")[REF] for t in tables if t is not None and is_ref(t.inputs.get("vpcId"))}
        vpc_ref = {REF: sorted(vpcs)[0]} if len(vpcs) == 1 else None
    offered = _vpc_block(graph, vpc_ref) if vpc_ref is not None else ()
    return LinkFacts(**_marks(res), kind="peering", advertises=offered,
                     static_routes=_static_routes(res, graph, vpc_ref))


def _vpn_connection(res: RenderedResource, graph: RenderedGraph) -> LinkFacts:
    inputs, notes = res.inputs, {}
    gateway = _target(graph, inputs.get("vpnGatewayId"))
    vpc_ref = gateway.inputs.get("vpcId") if gateway is not None else None
    learned = _routes_learned(graph, gateway, vpc_ref)
    if not learned:
        notes["routes_learned"] = "some route table of the VPC has no route propagation from the virtual private gateway"
    static = get(inputs, "staticRoutesOnly")
    if static is True:
        notes["advertises"] = "staticRoutesOnly is true: no BGP session announces anything"
    marks = _marks(res)
    return LinkFacts(
        **marks, kind="vpn",
        advertises=() if static is True else _vpc_block(graph, vpc_ref),
        routes_learned=learned and static is not True,
        sessions=() if static is True else _sessions(res, graph, gateway, marks["tunnels"], notes),
        ike_version=_ike_version(inputs, notes), ciphers=_ciphers(inputs, notes),
        preshared_key=_preshared_key(inputs), notes=notes,
    )


#: the ASN a virtual private gateway takes when amazonSideAsn is not set (AWS Site-to-Site VPN User Guide)
DEFAULT_AMAZON_ASN = 64512


def _sessions(res: RenderedResource, graph: RenderedGraph, gateway: RenderedResource | None,
              tunnels: tuple[int, ...], notes: dict[str, str]) -> tuple[BgpSession, ...]:
    """Each tunnel's BGP session as AWS runs it: the gateway's ASN (amazonSideAsn), the first host of the
    tunnel's inside /30 for itself and the second for the customer gateway, whose bgpAsn is the peer's."""
    inputs = res.inputs
    own_asn = get(gateway.inputs, "amazonSideAsn", str(DEFAULT_AMAZON_ASN)) if gateway is not None else None
    customer = _target(graph, inputs.get("customerGatewayId"))
    peer_asn = get(customer.inputs, "bgpAsn") if customer is not None else None
    out = []
    for number, tunnel in enumerate(tunnels[:2], start=1):
        cidr = get(inputs, f"tunnel{number}InsideCidr")
        if cidr is None:
            # AWS then picks a /30 of its own when it creates the connection: known only then
            notes["sessions"] = f"tunnel{number}InsideCidr is not set: AWS picks the inside addresses at deploy time"
            own = peer = UNKNOWN
        elif cidr is UNKNOWN:
            own = peer = UNKNOWN
        else:
            try:
                hosts = ipaddress.ip_network(str(cidr)).hosts()
                own, peer = str(next(hosts)), str(next(hosts))
            except (ValueError, StopIteration):
                own = peer = None
        out.append(BgpSession(tunnel=tunnel, asn=own_asn, address=own, peer_asn=peer_asn, peer_address=peer))
    return tuple(out)


def _routes_learned(graph: RenderedGraph, gateway: RenderedResource | None, vpc_ref: Any) -> bool:
    if gateway is None or not is_ref(vpc_ref):
        return False
    tables = {t.name for t in graph.referrers(vpc_ref[REF], ROUTE_TABLE)}
    propagated = {p.inputs["routeTableId"][REF] for p in graph.referrers(gateway.name, PROPAGATION)
                  if is_ref(p.inputs.get("routeTableId"))}
    return bool(tables) and tables <= propagated


def _ike_version(inputs: dict[str, Any], notes: dict[str, str]) -> Any:
    versions = [items(inputs, f"tunnel{n}IkeVersions") for n in (1, 2)]
    if any(v == [UNKNOWN] for v in versions):
        return UNKNOWN
    if any(not v for v in versions):
        notes["ike_version"] = "a tunnel sets no tunnelNIkeVersions: AWS's default allows IKEv1 and IKEv2"
        return None
    allowed = {str(v).lower() for vs in versions for v in vs}
    if allowed == {"ikev2"}:
        return "ikev2"
    notes["ike_version"] = f"tunnelNIkeVersions allow {', '.join(sorted(allowed))}"
    return "ikev1" if "ikev1" in allowed else None


#: the tunnel options that say which ciphers a tunnel allows (IKE versions and lifetimes excluded)
_CIPHER_KEYS = tuple(k for k in TUNNEL_OPTIONS if "Algorithms" in k or "DhGroupNumbers" in k)


def _ciphers(inputs: dict[str, Any], notes: dict[str, str]) -> tuple[str, ...]:
    """``IpsecPolicy.names`` when both tunnels allow exactly that policy; otherwise the AWS words allowed
    (empty when nothing is set: AWS's defaults, which still include AES128, SHA1 and DH group 2)."""
    if all(inputs.get(k) == TUNNEL_OPTIONS[k] for k in _CIPHER_KEYS):
        return IpsecPolicy.names
    allowed = sorted({f"dh{v}" if "DhGroup" in k else str(v) for k in _CIPHER_KEYS for v in items(inputs, k)
                      if v is not UNKNOWN})
    notes["ciphers"] = "the tunnels' phase 1/2 algorithms differ from the policy every link uses" if allowed else \
        "no phase 1/2 algorithms are set: AWS's defaults apply"
    return tuple(allowed)


def _preshared_key(inputs: dict[str, Any]) -> Any:
    """"literal" if either tunnel's key is a plain value in the plan, "generated" if both are references to
    secrets made inside the engine, None otherwise (AWS then makes the key and keeps it in its own API)."""
    keys = [inputs.get(f"tunnel{n}PresharedKey") for n in (1, 2)]
    if any(isinstance(k, str) for k in keys):
        return "literal"
    return "generated" if all(is_ref(k) for k in keys) else None


READERS: dict[str, Reader] = {ROUTE: _route, PEERING: _peering, ACCEPTER: _peering, VPN_CONNECTION: _vpn_connection}
