"""Azure's side of the links: the three-clouds stack (two Azure regions peered, VPNs to AWS and GCP).

The network plan is made by the core from the real placement, with the interface counts the other clouds
declare on their own branches (AWS: four addresses per link; GCP: one global network, two interfaces), so
both ways tunnels land on Azure are rendered: one tunnel per local network gateway (AWS) and two (GCP).
The other clouds' exports are stood in for by references to fake resources, so every placeholder resolves
and the resources can be read and schema-checked as the assembled plan would hold them.
"""

from __future__ import annotations

import ipaddress

import pytest
from cloudorch_azure import links
from cloudorch_azure.provider import Provider

from cloudorch.catalog.network import network_prices
from cloudorch.network.model import Link, NetworkPlan, Site, Tunnel, VpnSide
from cloudorch.placement.model import NetworkBlock
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.elements import (
    EndpointView,
    check_exports,
    is_peer_ref,
    resolve,
)
from cloudorch.rendering.facts import GraphOf, LinkFacts
from cloudorch.rendering.links import IpsecPolicy, LinkElement, link_elements
from cloudorch.rendering.meters import BILLABLE_ROLES, NAT_GATEWAY, Meter
from cloudorch.rendering.model import REF
from cloudorch.rendering.roles import Role
from tests.network.three_clouds import planned
from tests.support import ROOT

STACK = ROOT / "tests" / "network" / "stacks" / "three-clouds.yaml"
APIPA = (ipaddress.IPv4Network("169.254.21.0/24"), ipaddress.IPv4Network("169.254.22.0/24"))


def _planned():
    """The three-clouds stack as `plan` places it and plans its network (planned once for every test)."""
    result = planned()
    return result.loaded, result.placement, result.network


def context(network: NetworkPlan | None = None) -> RenderContext:
    loaded, placement, planned = _planned()
    network = network or planned
    return RenderContext(stack=loaded.stack, placement=placement, cloud="azure", source=loaded,
                         elements=link_elements(network), network=network)


def render_all(ctx: RenderContext):
    """(site resources, {(link id, side): endpoint rendering}, every resource resolved against stand-ins)."""
    provider = Provider()
    rendered = provider.render(ctx)
    endpoints, exports, stand_ins = {}, {}, []
    for element in ctx.elements_at():
        for index, endpoint in enumerate(element.endpoints):
            if endpoint.cloud == "azure":
                part = provider.render_endpoint(ctx, EndpointView(element, index))
                endpoints[(element.id, index)] = part
                exports[(element.id, index)] = part.exports
            else:
                exports[(element.id, index)], fake = _stand_in(element, index)
                stand_ins += fake
    every = [*rendered, *(r for part in endpoints.values() for r in part.resources)]
    return rendered, endpoints, resolve(every, exports), stand_ins


def _stand_in(element: LinkElement, index: int):
    """What another cloud's side exports, as references to resources of its own (fakes)."""
    tag = f"{element.endpoints[index].cloud}-{index}-{element.id}"
    fakes = [RenderedResource(name=f"{tag}-gw-{t.index}", type="other:vpn:Tunnel", cloud=element.endpoints[index].cloud)
             for t in element.link.tunnels]
    out = {"addresses": [ref(f.name, "outsideAddress") for f in fakes],
           "asn": (element.link.a_side if index == 0 else element.link.b_side).asn}
    if index == 0:
        keys = [RenderedResource(name=f"{tag}-psk-{t.index}", type="random:index/randomPassword:RandomPassword",
                                 role=Role.SECRET, cloud=element.endpoints[index].cloud) for t in element.link.tunnels]
        out["keys"] = [ref(k.name, "result") for k in keys]
        fakes += keys
    return out, fakes


@pytest.fixture(scope="module")
def three():
    ctx = context()
    rendered, endpoints, resolved, stand_ins = render_all(ctx)
    return ctx, rendered, endpoints, resolved, GraphOf([*resolved, *stand_ins])


def azure_links(ctx, kind):
    return [link for link in ctx.network.links if link.kind == kind and "azure" in (link.a.cloud, link.b.cloud)]


# -- the plan ------------------------------------------------------------------------------------------------
def test_the_stack_needs_both_kinds_of_link_on_azure(three):
    ctx = three[0]
    assert len(azure_links(ctx, "peering")) == 1
    peers = {link.a.cloud if link.b.cloud == "azure" else link.b.cloud for link in azure_links(ctx, "vpn")}
    assert peers == {"aws", "gcp"}


def test_rendering_is_deterministic():
    ctx = context()
    first, second = render_all(ctx), render_all(context())
    assert first[2] == second[2]
    assert first[0] == second[0]


def test_every_endpoint_exports_what_its_kind_declares(three):
    ctx, rendered, endpoints, _, _ = three
    for (link_id, index), part in endpoints.items():
        element = next(e for e in ctx.elements if e.id == link_id)
        # the shared resources (the virtual network, the site's gateway) count as this side's: the core
        # change asked for in the report; without it no side could export its network
        check_exports(element, index, part.__class__(resources=(*part.resources, *rendered), exports=part.exports))
        assert set(part.exports) == set(element.exports(index))


# -- peering ---------------------------------------------------------------------------------------------------
def test_each_side_of_a_peering_peers_its_own_network_with_the_other_and_nothing_more(three):
    ctx, _, endpoints, resolved, graph = three
    link = azure_links(ctx, "peering")[0]
    peerings = [r for r in resolved if r.type == links.PEERING]
    assert len(peerings) == 2
    vnets = {index: f"net-azure-{site.region}-vnet" for index, site in enumerate(link.sites())}
    for index in (0, 1):
        (res,) = endpoints[(link.id, index)].resources
        peering = graph.rendered(res.name)
        assert peering.role is Role.LINK and peering.provider == f"azure-{link.sites()[index].region}"
        assert peering.inputs["virtualNetworkName"] == ref(vnets[index], "name")
        assert peering.inputs["remoteVirtualNetwork"] == {"id": ref(vnets[1 - index], "id")}
        assert peering.inputs["allowVirtualNetworkAccess"] is True
        assert peering.inputs["allowForwardedTraffic"] is False
        assert peering.inputs["useRemoteGateways"] is False and peering.inputs["allowGatewayTransit"] is False
    assert endpoints[(link.id, 0)].exports["connection"] == ref(endpoints[(link.id, 0)].resources[0].name, "id")


def test_a_peering_reads_as_its_side_of_the_link_offering_its_block(three):
    ctx, _, endpoints, _, graph = three
    link = azure_links(ctx, "peering")[0]
    for index, site in enumerate(link.sites()):
        facts = Provider().describe(graph.rendered(endpoints[(link.id, index)].resources[0].name), graph)
        assert facts == LinkFacts(link=link.id, side=index, kind="peering", advertises=(site.cidr,), routes_learned=True)


# -- the site's VPN gateway --------------------------------------------------------------------------------------
def vpn_sites(ctx):
    return sorted({s for link in azure_links(ctx, "vpn") for s in link.sites() if s.cloud == "azure"}, key=lambda s: s.key)


def test_every_vpn_site_gets_one_active_active_bgp_gateway_in_its_gateway_subnet(three):
    ctx, rendered, _, _, _ = three
    for site in vpn_sites(ctx):
        here = [r for r in rendered if r.region == site.region]
        (gateway,) = [r for r in here if r.type == links.GATEWAY]
        (subnet,) = [r for r in here if r.type == links.SUBNET and r.inputs.get("subnetName") == "GatewaySubnet"]
        ips = [r for r in here if r.name.startswith(f"net-azure-{site.region}-vpn-ip-")]
        inputs = gateway.inputs
        assert (inputs["gatewayType"], inputs["vpnType"], inputs["sku"]["name"]) == ("Vpn", "RouteBased", "VpnGw1AZ")
        assert inputs["activeActive"] is True and inputs["enableBgp"] is True
        asn = {link.a_side.asn if link.a == site else link.b_side.asn for link in azure_links(ctx, "vpn") if site in link.sites()}
        assert inputs["bgpSettings"]["asn"] == asn.pop() and not asn
        assert [c["publicIPAddress"] for c in inputs["ipConfigurations"]] == [{"id": ref(ip.name, "id")} for ip in ips]
        assert all(c["subnet"] == {"id": ref(subnet.name, "id")} for c in inputs["ipConfigurations"])
        for ip in ips:
            assert ip.inputs["sku"]["name"] == "Standard" and ip.inputs["publicIPAllocationMethod"] == "Static"
            assert ip.inputs["zones"] == ["1", "2", "3"]  # both regions have zones: zone-redundant
        # the gateway subnet: inside the block, clear of every other subnet, and without a security group
        prefix = ipaddress.IPv4Network(subnet.inputs["addressPrefix"])
        assert prefix.subnet_of(ipaddress.IPv4Network(site.cidr)) and prefix.prefixlen <= 27
        others = [ipaddress.IPv4Network(r.inputs["addressPrefix"]) for r in here
                  if r.type == links.SUBNET and r is not subnet]
        assert others and not any(prefix.overlaps(o) for o in others)
        assert "networkSecurityGroup" not in subnet.inputs
        assert subnet.depends_on  # after the site's other subnets: Azure refuses concurrent subnet changes


def test_each_gateway_instance_holds_this_sides_inside_address_of_every_tunnel_ending_on_it(three):
    ctx, rendered, _, _, _ = three
    for site in vpn_sites(ctx):
        (gateway,) = [r for r in rendered if r.type == links.GATEWAY and r.region == site.region]
        want = {0: set(), 1: set()}
        for link in azure_links(ctx, "vpn"):
            if site in link.sites():
                side = link.side_of(site.key)
                for t in link.tunnels:
                    want[t.a_interface if side == 0 else t.b_interface].add(t.a_address if side == 0 else t.b_address)
        got = gateway.inputs["bgpSettings"]["bgpPeeringAddresses"]
        assert [set(p["customBgpIpAddresses"]) for p in got] == [want[0], want[1]]
        assert all(any(ipaddress.IPv4Address(a) in r for r in APIPA) for p in got for a in p["customBgpIpAddresses"])
        # the gateway's own ipConfigurations by resource id: the resource group's id and a fixed path
        assert got[1]["ipconfigurationId"][REF] == f"three-clouds-azure-{site.region}-rg"
        assert got[1]["ipconfigurationId"]["suffix"].endswith(f"/virtualNetworkGateways/{gateway.name}/ipConfigurations/vpn-ipconfig-1")
        assert gateway.inputs["virtualNetworkGatewayName"] == gateway.name


# -- VPN endpoints -------------------------------------------------------------------------------------------------
def connections_of(endpoints, link, index, graph):
    return [graph.rendered(r.name) for r in endpoints[(link.id, index)].resources if r.type == links.CONNECTION]


def _azure_side(link: Link) -> int:
    return 0 if link.a.cloud == "azure" else 1


def test_a_peer_with_an_address_per_tunnel_gets_a_local_gateway_and_connection_per_tunnel(three):
    ctx, _, endpoints, _, graph = three
    for link in (x for x in azure_links(ctx, "vpn") if "aws" in (x.a.cloud, x.b.cloud)):
        index = _azure_side(link)
        other = f"aws-{1 - index}-{link.id}"
        conns = connections_of(endpoints, link, index, graph)
        assert len(conns) == 4
        for t, conn in zip(link.tunnels, conns, strict=True):
            lng = graph.rendered(conn.inputs["localNetworkGateway2"]["id"][REF])
            assert lng.inputs["gatewayIpAddress"] == ref(f"{other}-gw-{t.index}", "outsideAddress")
            peer = t.a_address if index == 1 else t.b_address
            mine = t.b_address if index == 1 else t.a_address
            assert lng.inputs["bgpSettings"] == {"asn": (link.a_side if index == 1 else link.b_side).asn,
                                                 "bgpPeeringAddress": peer}
            assert lng.inputs["localNetworkAddressSpace"] == {"addressPrefixes": []}
            custom = {c["ipConfigurationId"]["path"][0]: c["customBgpIpAddress"] for c in conn.inputs["gatewayCustomBgpIpAddresses"]}
            assert custom[t.b_interface if index == 1 else t.a_interface] == mine
            # side 1: the key is the peer's generated key for this very tunnel
            assert conn.inputs["sharedKey"] == ref(f"{other}-psk-{t.index}", "result")
        assert endpoints[(link.id, index)].exports["addresses"] == [
            ref(f"net-azure-{(link.b if index else link.a).region}-vpn-ip-{t.index // 2}", "ipAddress") for t in link.tunnels]


def test_a_peer_with_two_addresses_gets_two_local_gateways_each_with_the_bgp_session_of_its_one_tunnel(three):
    ctx, _, endpoints, _, graph = three
    gcp = [x for x in azure_links(ctx, "vpn") if "gcp" in (x.a.cloud, x.b.cloud)]
    assert gcp
    for link in gcp:
        assert _azure_side(link) == 0  # "azure" sorts before "gcp": Azure makes the keys
        conns = connections_of(endpoints, link, 0, graph)
        # two tunnels, instance k to the peer's address k: every tunnel is its local gateway's one BGP
        # session (a mesh of four left two without one: found by review)
        assert [c.inputs["tags"][links.TUNNELS_TAG] for c in conns] == ["0", "1"]
        t = {x.index: x for x in link.tunnels}
        assert [(x.a_interface, x.b_interface) for x in link.tunnels] == [(0, 0), (1, 1)]
        lngs = [graph.rendered(c.inputs["localNetworkGateway2"]["id"][REF]) for c in conns]
        assert [g.inputs["bgpSettings"]["bgpPeeringAddress"] for g in lngs] == [t[0].b_address, t[1].b_address]
        assert [g.inputs["gatewayIpAddress"]["$ref"] for g in lngs] == [f"gcp-1-{link.id}-gw-0", f"gcp-1-{link.id}-gw-1"]
        for k, conn in enumerate(conns):
            # Azure asks an address per instance; the other instance dials nothing the peer answers
            custom = [c["customBgpIpAddress"] for c in conn.inputs["gatewayCustomBgpIpAddresses"]]
            assert custom[k] == t[k].a_address and custom == [t[0].a_address, t[1].a_address]
        keys = endpoints[(link.id, 0)].exports["keys"]
        assert keys == [conns[0].inputs["sharedKey"], conns[1].inputs["sharedKey"]] and keys[0] != keys[1]
        secrets = [r for r in endpoints[(link.id, 0)].resources if r.role is Role.SECRET]
        assert {ref(s.name, "result")[REF] for s in secrets} == {k[REF] for k in keys}
        assert all(s.secret_outputs == ("result",) for s in secrets)


def test_every_connection_is_ikev2_with_bgp_and_the_one_policy_and_no_key_in_clear(three):
    ctx, _, endpoints, resolved, _ = three
    conns = [r for r in resolved if r.type == links.CONNECTION]
    assert len(conns) == sum(4 if "aws" in (x.a.cloud, x.b.cloud) else 2 for x in azure_links(ctx, "vpn"))
    for conn in conns:
        inputs = conn.inputs
        assert (inputs["connectionType"], inputs["connectionProtocol"], inputs["enableBgp"]) == ("IPsec", "IKEv2", True)
        assert inputs["ipsecPolicies"] == [{
            "ikeEncryption": "GCMAES256", "ikeIntegrity": "SHA384", "dhGroup": "ECP384", "ipsecEncryption": "GCMAES256",
            "ipsecIntegrity": "GCMAES256", "pfsGroup": "ECP384", "saLifeTimeSeconds": 3600, "saDataSizeKilobytes": 102400000}]
        assert inputs["sharedKey"].get("output") == "result" and not is_peer_ref(inputs["sharedKey"])
        assert inputs["useLocalAzureIpAddress"] is False


def test_connections_read_as_the_tunnels_they_carry_and_every_tunnel_is_carried(three):
    ctx, _, endpoints, _, graph = three
    provider = Provider()
    for link in azure_links(ctx, "vpn"):
        index = _azure_side(link)
        site = link.sites()[index]
        carried = []
        for conn in connections_of(endpoints, link, index, graph):
            facts = provider.describe(conn, graph)
            assert isinstance(facts, LinkFacts)
            assert (facts.link, facts.side, facts.kind) == (link.id, index, "vpn")
            assert facts.advertises == (site.cidr,) and facts.routes_learned is True and facts.static_routes == ()
            assert facts.ike_version == "ikev2" and facts.ciphers == IpsecPolicy.names
            assert facts.preshared_key == "generated"
            carried += facts.tunnels
        assert sorted(carried) == [t.index for t in link.tunnels] and len(carried) in (2, 4)


def test_a_connection_with_a_literal_key_or_no_bgp_reads_so(three):
    ctx, _, endpoints, _, graph = three
    link = azure_links(ctx, "vpn")[0]
    conn = connections_of(endpoints, link, _azure_side(link), graph)[0]
    bad = conn.model_copy(update={"inputs": conn.inputs | {"sharedKey": "hunter2", "enableBgp": False,
                                                           "ipsecPolicies": [], "connectionProtocol": "IKEv1"}})
    facts = Provider().describe(bad, graph)
    assert (facts.preshared_key, facts.routes_learned, facts.advertises) == ("literal", False, ())
    assert (facts.ike_version, facts.ciphers) == ("ikev1", ())


# -- routes and exposure -----------------------------------------------------------------------------------------------
def test_nothing_rendered_for_links_routes_or_admits_the_world(three):
    ctx, rendered, endpoints, resolved, _ = three
    link_parts = [r for part in endpoints.values() for r in part.resources]
    gateway_parts = [r for r in rendered if r.type in (links.GATEWAY, links.SUBNET) and "gateway" in r.name]
    for res in [*link_parts, *gateway_parts]:
        assert "0.0.0.0/0" not in repr(res.inputs), res.name
    assert not [r for r in resolved if r.role in (Role.ROUTE, Role.ROUTE_TABLE)]
    # the subnet's security group still closes on connected networks: only per-resource rules admit peers
    deny = next(r for r in rendered if r.name == f"net-azure-{vpn_sites(ctx)[0].region}-deny-vnet")
    assert (deny.inputs["access"], deny.inputs["sourceAddressPrefix"]) == ("Deny", "VirtualNetwork")


# -- meters -----------------------------------------------------------------------------------------------------------
def test_meters_price_the_gateway_its_addresses_and_the_nat_and_nothing_for_links(three):
    ctx, _, _, resolved, _ = three
    provider = Provider()
    by_type = {r.type: provider.meters(r) for r in resolved}
    # each gateway: its hour and its links' tunnels, which the price list bills past the ten the gateway
    # includes (SOURCES.md az-vpn); a count rather than nothing past ten (found by a user audit), and the
    # three-clouds stack has a gateway past it
    prices = network_prices()
    past = 0
    for gateway in (r for r in resolved if r.type == links.GATEWAY):
        site = next(s for s in links.vpn_sites(ctx) if links.gateway_name(s.network, s.region) == gateway.name)
        tunnels = sum(len(side.link.tunnels) for side in links.vpn_sides(ctx, site))
        assert gateway.inputs["tags"][links.GATEWAY_TUNNELS_TAG] == str(tunnels)
        assert provider.meters(gateway) == (Meter("vpn_gateway_hour"), Meter("vpn_gateway_tunnel_hour", tunnels))
        assert prices.monthly("azure", "vpn_gateway_tunnel_hour", tunnels) == pytest.approx(
            max(0, tunnels - 10) * 0.015 * 730)
        past += tunnels > 10
    assert past
    assert by_type[links.PUBLIC_IP] == (Meter("public_ipv4_hour"),)
    assert by_type["azure-native:network:NatGateway"] == (Meter(NAT_GATEWAY),)
    assert by_type[links.CONNECTION] == by_type[links.PEERING] == by_type[links.LOCAL_GATEWAY] == ()
    for res in resolved:
        if res.role in BILLABLE_ROLES:
            assert provider.meters(res) is not None, res.name


# -- schema -----------------------------------------------------------------------------------------------------------
@pytest.mark.shared
def test_every_link_resource_conforms_to_the_schema(three, schema):
    _, rendered, endpoints, resolved, _ = three
    names = {r.name for part in endpoints.values() for r in part.resources} | \
            {r.name for r in rendered if r.role in (Role.VPN_GATEWAY, Role.PUBLIC_IP) or "gateway-subnet" in r.name}
    checked = [r for r in resolved if r.name in names and r.type.startswith("azure-native:")]
    assert {r.type for r in checked} >= {links.GATEWAY, links.LOCAL_GATEWAY, links.CONNECTION, links.PEERING}
    assert [str(v) for r in checked for v in schema.check(r)] == []


# -- check -----------------------------------------------------------------------------------------------------------
def _one_link(cidr: str) -> NetworkPlan:
    a = Site(network="net", cloud="aws", region="eu-west-1", cidr="10.50.96.0/20")
    b = Site(network="net", cloud="azure", region="swedencentral", cidr=cidr)
    tunnels = tuple(Tunnel(index=i, inside_cidr=f"169.254.21.{4 * i}/30", a_address=f"169.254.21.{4 * i + 1}",
                           b_address=f"169.254.21.{4 * i + 2}", a_interface=i, b_interface=i // 2) for i in range(4))
    link = Link(id="net@aws/eu-west-1~net@azure/swedencentral", kind="vpn", a=a, b=b,
                a_side=VpnSide(asn=64600, interfaces=4), b_side=VpnSide(asn=64601), tunnels=tunnels)
    return NetworkPlan(blocks=(NetworkBlock(network="net", cloud="aws", region="eu-west-1", cidr=a.cidr),
                               NetworkBlock(network="net", cloud="azure", region="swedencentral", cidr=cidr)),
                       links=(link,))


def test_a_block_too_small_for_the_gateway_subnet_is_a_located_problem():
    assert Provider().check(context(_one_link("10.50.128.0/26"))) == []
    (problem,) = Provider().check(context(_one_link("10.50.128.0/27")))
    assert problem.path == "resources.net.cidr" and "GatewaySubnet" in problem.message
    assert problem.line is not None
