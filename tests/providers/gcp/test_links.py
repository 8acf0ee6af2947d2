"""GCP's side of the links: HA VPN towards the other clouds, VPC peering between stack networks, nothing
between two regions of one network (the VPC is global), and what each side announces, exports and costs.

The three-clouds stack is placed and planned for real; AWS and Azure endpoints are stand-ins that export
what the contract declares (their own plugins render them on their branches), so these tests judge only
GCP's resources and pin the references that cross to the other side.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import ClassVar

import pytest
from cloudorch_gcp.links import CIPHER_SUITE, peering_name
from cloudorch_gcp.provider import Provider

from cloudorch import api
from cloudorch.graph import flows_of
from cloudorch.network.allocation import Allocation, TunnelDemand, allocate_tunnels
from cloudorch.network.links import plan_network
from cloudorch.network.model import Link, NetworkPlan, Site, VpnSide, tunnel_interfaces
from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement
from cloudorch.provider import CloudProvider
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.assemble import render_stack
from cloudorch.rendering.elements import EndpointRendering, EndpointView, check_exports
from cloudorch.rendering.facts import GraphOf, LinkFacts, RouteFacts
from cloudorch.rendering.links import IpsecPolicy, link_elements, preshared_key
from cloudorch.rendering.meters import NAT_GATEWAY, Meter, Unmetered
from cloudorch.rendering.roles import Role
from cloudorch.spec.loader import load_stack
from cloudorch.spec.models import Stack
from tests.providers.gcp.test_render import gcp_schema
from tests.support import OUTSIDE_SCHEMA_SUBSET, ROOT, LoneGraph, describe_alone

THREE_CLOUDS = ROOT / "tests" / "network" / "stacks" / "three-clouds.yaml"
#: the public addresses each cloud's HA VPN ends tunnels on, as their plugins declare (AWS: 4)
INTERFACES = {"aws": 4, "azure": 2, "gcp": 2}
LINK_TYPES = {"gcp:compute/haVpnGateway:HaVpnGateway", "gcp:compute/externalVpnGateway:ExternalVpnGateway",
              "gcp:compute/vPNTunnel:VPNTunnel", "gcp:compute/routerInterface:RouterInterface",
              "gcp:compute/routerPeer:RouterPeer", "gcp:compute/networkPeering:NetworkPeering"}


class StandIn(CloudProvider):
    """Another cloud's side of a link: one address per tunnel, keys on side 0, exactly the declared exports."""

    name: ClassVar[str] = "stand-in"
    display_name: ClassVar[str] = "Stand-in"
    pulumi_plugins = ()
    images = ("ubuntu-24.04",)

    def __init__(self, cloud: str) -> None:
        self.cloud = cloud

    def render(self, ctx):
        return []

    def render_endpoint(self, ctx, view: EndpointView) -> EndpointRendering:
        link, side, cloud = view.element.link, view.index, self.cloud
        base = f"{cloud}-{link.slug}-{side}"
        if link.kind == "peering":
            peering = RenderedResource(name=base, type=f"{cloud}:x:Peering", cloud=cloud)
            exports = {"network": ref(base)} | ({"connection": ref(base)} if side == 0 else {})
            return EndpointRendering((peering,), exports)
        out = [RenderedResource(name=f"{base}-address-{t.index}", type=f"{cloud}:x:Address", cloud=cloud)
               for t in link.tunnels]
        exports = {"addresses": [ref(r.name, "ip") for r in out], "asn": (link.a_side, link.b_side)[side].asn}
        if side == 0:
            keys = [preshared_key(f"{base}-key-{t.index}", cloud, None) for t in link.tunnels]
            out += keys
            exports["keys"] = [ref(k.name, "result") for k in keys]
        return EndpointRendering(tuple(out), exports)


@cache
def three_clouds():
    session = api.Session()
    loaded = load_stack(THREE_CLOUDS, session.vocabulary())
    providers = session.providers()
    from cloudorch.placement.candidates import PlacementSettings
    from cloudorch.placement.planner import plan_placement

    settings = PlacementSettings(clouds=tuple(sorted(providers)), unsupported=api._asking(providers))
    placement = plan_placement(loaded.stack, session.catalog, settings)
    network = plan_network(loaded.stack, placement, flows_of(loaded.stack), global_clouds=frozenset({"gcp"}),
                           vpn_interfaces=INTERFACES)
    stand_ins = {cloud: Provider() if cloud == "gcp" else StandIn(cloud) for cloud in providers}
    return network, render_stack(loaded, placement, stand_ins, network=network)


def gcp_resources():
    return [r for r in three_clouds()[1] if r.cloud == "gcp"]


def by_name():
    return {r.name: r for r in three_clouds()[1]}


def gcp_vpn_links() -> list[Link]:
    return [link for link in three_clouds()[0].links if link.kind == "vpn" and "gcp" in (link.a.cloud, link.b.cloud)]


def of_link(link: Link) -> list[RenderedResource]:
    return [r for r in gcp_resources() if r.name.startswith(f"{link.slug}-gcp-")]


def block(network: NetworkPlan, site: Site) -> str:
    return next(b.cidr for b in network.blocks if (b.network, b.cloud, b.region) == site.key)


# -- what is linked ----------------------------------------------------------------------------------------
def test_two_regions_of_one_network_are_one_vpc_no_link():
    network, _ = three_clouds()
    gcp_regions = {b.region for b in network.blocks if b.cloud == "gcp"}
    assert len(gcp_regions) == 2
    assert [link.id for link in network.links if link.a.cloud == link.b.cloud == "gcp"] == []
    assert Provider.global_network is True and Provider.vpn_interfaces == 2
    assert [r.name for r in gcp_resources() if r.type == "gcp:compute/networkPeering:NetworkPeering"] == []


def test_every_vpn_link_with_a_gcp_side_renders_one_gateway_its_tunnels_and_bgp_per_tunnel():
    links = gcp_vpn_links()
    assert {link.a.cloud for link in links} == {"aws", "azure"}  # both peers are exercised
    for link in links:
        types = [r.type.rsplit(":", 1)[1] for r in of_link(link)]
        # four towards AWS (an address per tunnel), two towards Azure (two addresses, face to face)
        tunnels = {"aws": 4, "azure": 2}[link.a.cloud]
        assert len(link.tunnels) == tunnels
        assert sorted(types) == sorted(["HaVpnGateway", "ExternalVpnGateway"] + ["VPNTunnel", "RouterInterface",
                                                                                   "RouterPeer"] * tunnels), link.id
        assert {r.role for r in of_link(link)} == {Role.VPN_GATEWAY, Role.PEER_GATEWAY, Role.LINK, Role.BGP_PEER}
        assert all(r.provider for r in of_link(link))


def test_the_external_gateway_has_the_peers_addresses_by_its_redundancy():
    rendered = by_name()
    for link in gcp_vpn_links():
        peer = link.a.cloud
        external = rendered[f"{link.slug}-gcp-peer-gw"]
        assert external.inputs["redundancyType"] == {4: "FOUR_IPS_REDUNDANCY", 2: "TWO_IPS_REDUNDANCY"}[INTERFACES[peer]]
        interfaces = external.inputs["interfaces"]
        assert [i["id"] for i in interfaces] == list(range(INTERFACES[peer]))
        for i in interfaces:  # the address of a tunnel that ends on that peer interface
            tunnel = next(t for t in link.tunnels if t.a_interface == i["id"])
            assert i["ipAddress"] == ref(f"{peer}-{link.slug}-0-address-{tunnel.index}", "ip")


def test_tunnels_pair_interfaces_as_the_plan_says_and_use_the_peers_keys():
    rendered = by_name()
    for link in gcp_vpn_links():
        peer = link.a.cloud
        for t in link.tunnels:
            tunnel = rendered[f"{link.slug}-gcp-tunnel-{t.index}"].inputs
            mine, theirs = tunnel_interfaces(t.index, INTERFACES[peer], 2)[::-1]
            assert (tunnel["vpnGatewayInterface"], tunnel["peerExternalGatewayInterface"]) == (mine, theirs)
            assert tunnel["sharedSecret"] == ref(f"{peer}-{link.slug}-0-key-{t.index}", "result")
            assert tunnel["ikeVersion"] == 2 and tunnel["cipherSuite"] == CIPHER_SUITE
            assert tunnel["router"] == ref(f"net-gcp-{link.b.region}-vpn-router", "id")
        pairs = {(rendered[f"{link.slug}-gcp-tunnel-{t.index}"].inputs["vpnGatewayInterface"],
                  rendered[f"{link.slug}-gcp-tunnel-{t.index}"].inputs["peerExternalGatewayInterface"])
                 for t in link.tunnels}
        assert len(pairs) == len(link.tunnels) and {p[0] for p in pairs} == {0, 1}  # both HA interfaces, no pair twice


def test_bgp_sessions_use_the_inside_addresses_and_the_peers_asn():
    rendered = by_name()
    for link in gcp_vpn_links():
        for t in link.tunnels:
            interface = rendered[f"{link.slug}-gcp-if-{t.index}"].inputs
            peer = rendered[f"{link.slug}-gcp-bgp-{t.index}"].inputs
            assert interface["ipRange"] == f"{t.b_address}/30"
            assert ipaddress.ip_address(t.b_address) in ipaddress.ip_network(t.inside_cidr)
            assert (peer["ipAddress"], peer["peerIpAddress"]) == (t.b_address, t.a_address)
            assert peer["peerAsn"] == link.a_side.asn  # a value export arrives as the value


# -- routes ------------------------------------------------------------------------------------------------
def test_each_vpn_router_announces_its_sites_block_and_nothing_else():
    network, _ = three_clouds()
    rendered = by_name()
    for link in gcp_vpn_links():
        router = rendered[f"net-gcp-{link.b.region}-vpn-router"]
        bgp = router.inputs["bgp"]
        assert bgp["advertiseMode"] == "CUSTOM" and "advertisedGroups" not in bgp
        assert [r["range"] for r in bgp["advertisedIpRanges"]] == [block(network, link.b)]
        assert bgp["asn"] == link.b_side.asn
        assert router.name != f"net-gcp-{link.b.region}-router"  # not the NAT's router
    assert rendered["net-gcp-network"].inputs["routingMode"] == "GLOBAL"


def test_nothing_gcp_renders_for_a_link_says_0_0_0_0():
    def strings(value):
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [value] if isinstance(value, str) else []

    linked = [r for r in gcp_resources() if r.type in LINK_TYPES or r.name.endswith("-vpn-router")]
    assert linked
    assert [r.name for r in linked if any("0.0.0.0" in s or s == "::/0" for s in strings(r.inputs))] == []


def test_the_private_service_access_range_is_inside_the_databases_site_block_and_announced():
    network, _ = three_clouds()
    rendered = by_name()
    sql = next(r for r in gcp_resources() if r.type == "gcp:sql/databaseInstance:DatabaseInstance")
    range_name = sql.inputs["settings"]["ipConfiguration"]["allocatedIpRange"]["$ref"]
    psa = rendered[range_name].inputs
    psa_net = ipaddress.ip_network(f"{psa['address']}/{psa['prefixLength']}")
    site = next(b for b in network.blocks if (b.cloud, b.region) == ("gcp", sql.region))
    assert psa_net.subnet_of(ipaddress.ip_network(site.cidr))
    others = [ipaddress.ip_network(b.cidr) for b in network.blocks if b is not site]
    assert not any(psa_net.overlaps(o) for o in others)
    subnet = ipaddress.ip_network(rendered[f"net-gcp-{sql.region}-subnet"].inputs["ipCidrRange"])
    assert not psa_net.overlaps(subnet)
    router = rendered[f"net-gcp-{sql.region}-vpn-router"]
    assert any(psa_net.subnet_of(ipaddress.ip_network(r["range"])) for r in router.inputs["bgp"]["advertisedIpRanges"])
    assert rendered["net-gcp-psa-connection"].inputs["reservedPeeringRanges"] == [ref(range_name, "name")]


def test_a_database_in_a_block_too_small_to_split_is_the_users_problem():
    stack = Stack.model_validate({"stack": "tiny", "resources": {
        "net": {"kind": "network", "cidr": "10.0.0.0/20"},
        "db": {"kind": "database", "network": "net", "engine": "postgres", "version": "16"}}})
    from tests.providers.gcp.test_render import _slot

    placement = PlacementResult(objective="cost", placements={"db": ResourcePlacement(
        resource="db", kind="database", slots=(_slot("gcp", "europe-west1", "db-custom-2-8192", 1),))},
        networks=(NetworkBlock(network="net", cloud="gcp", region="europe-west1", cidr="10.0.0.0/24"),))
    [problem] = Provider().check(RenderContext(stack=stack, placement=placement, cloud="gcp"))
    # the allocator never cuts a /24 from a valid network; a block recorded by an older plan could be one
    assert problem.path == "resources.net.cidr" and "10.0.0.0/24" in problem.message
    wide = placement.model_copy(update={"networks": (NetworkBlock(network="net", cloud="gcp", region="europe-west1",
                                                                  cidr="10.0.0.0/23"),)})
    assert Provider().check(RenderContext(stack=stack, placement=wide, cloud="gcp")) == []


# -- exports -----------------------------------------------------------------------------------------------
def test_exports_are_the_gateway_interface_of_each_tunnel_and_the_asn():
    network, _ = three_clouds()
    ctx = RenderContext(stack=load_stack(THREE_CLOUDS).stack, placement=None, cloud="gcp", network=network)
    for element in link_elements(network):
        if element.kind != "vpn" or element.link not in gcp_vpn_links():
            continue
        rendering = Provider().render_endpoint(ctx, EndpointView(element, 1))
        check_exports(element, 1, rendering)
        gateway = f"{element.link.slug}-gcp-gw"
        assert rendering.exports["addresses"] == [ref(gateway, "vpnInterfaces", path=(t.b_interface, "ipAddress"))
                                                  for t in element.link.tunnels]
        assert rendering.exports["asn"] == element.link.b_side.asn and "keys" not in rendering.exports


def hand_made(links: tuple[Link, ...], networks: dict[str, str]) -> RenderContext:
    stack = Stack.model_validate({"stack": "hand", "resources": {
        name: {"kind": "network", "cidr": cidr} for name, cidr in networks.items()}})
    blocks = tuple(NetworkBlock(network=s.network, cloud=s.cloud, region=s.region, cidr=s.cidr)
                   for link in links for s in link.sites())
    return RenderContext(stack=stack, placement=PlacementResult(objective="cost", placements={}), cloud="gcp",
                         network=NetworkPlan(blocks=tuple(sorted(set(blocks), key=str)), links=links))


def side_zero_vpn() -> tuple[RenderContext, Link]:
    """GCP as side a (its network sorts first) of a VPN to AWS: it generates the keys."""
    a = Site(network="a", cloud="gcp", region="europe-west1", cidr="10.1.0.0/20")
    b = Site(network="z", cloud="aws", region="eu-west-1", cidr="10.2.0.0/20")
    link_id = "a@gcp/europe-west1~z@aws/eu-west-1"
    wired = ("a_interface", "b_interface")
    tunnels = tuple(t.model_copy(update=dict(zip(wired, tunnel_interfaces(t.index, 2, 4))))
                    for t in allocate_tunnels([TunnelDemand(link_id, (str(a), str(b)), ("169.254.0.0/16",))], Allocation())[link_id])
    link = Link(id=link_id, kind="vpn", a=a, b=b, a_side=VpnSide(asn=64700), b_side=VpnSide(asn=64800, interfaces=4),
                tunnels=tunnels)
    return hand_made((link,), {"a": "10.1.0.0/16", "z": "10.2.0.0/16"}), link


def test_side_zero_generates_one_secret_key_per_tunnel_and_exports_them():
    ctx, _ = side_zero_vpn()
    [element] = link_elements(ctx.network)
    rendering = Provider().render_endpoint(ctx, EndpointView(element, 0))
    check_exports(element, 0, rendering)
    keys = [r for r in rendering.resources if r.role == Role.SECRET]
    assert len(keys) == 4 and all(k.secret_outputs == ("result",) for k in keys)
    assert rendering.exports["keys"] == [ref(k.name, "result") for k in keys]
    tunnels = [r for r in rendering.resources if r.type == "gcp:compute/vPNTunnel:VPNTunnel"]
    assert [t.inputs["sharedSecret"] for t in tunnels] == rendering.exports["keys"]
    assert all(t.secret_outputs == ("sharedSecret",) for t in tunnels)
    assert [t.inputs["vpnGatewayInterface"] for t in tunnels] == [0, 0, 1, 1]  # AWS: connection k on interface k
    assert [t.inputs["peerExternalGatewayInterface"] for t in tunnels] == [0, 1, 2, 3]


# -- peering between two stack networks ------------------------------------------------------------------
def two_networks(region_pairs) -> tuple[RenderContext, tuple[Link, ...]]:
    links = []
    for ra, rb in region_pairs:
        a = Site(network="alpha", cloud="gcp", region=ra, cidr={"europe-west1": "10.1.0.0/20"}.get(ra, "10.1.16.0/20"))
        b = Site(network="beta", cloud="gcp", region=rb, cidr={"europe-west1": "10.2.0.0/20"}.get(rb, "10.2.16.0/20"))
        links.append(Link(id=f"alpha@gcp/{ra}~beta@gcp/{rb}", kind="peering", a=a, b=b))
    return hand_made(tuple(links), {"alpha": "10.1.0.0/16", "beta": "10.2.0.0/16"}), tuple(links)


def test_a_peering_between_two_networks_is_one_peering_per_side_without_a_cycle():
    ctx, (link,) = two_networks([("europe-west1", "europe-west1")])
    element = link_elements(ctx.network)[0]
    side0 = Provider().render_endpoint(ctx, EndpointView(element, 0))
    side1 = Provider().render_endpoint(ctx, EndpointView(element, 1))
    check_exports(element, 0, side0)
    check_exports(element, 1, side1)
    [p0], [p1] = side0.resources, side1.resources
    assert p0.inputs["network"] == ref("alpha-gcp-network", "selfLink")
    assert p0.inputs["peerNetwork"] == ref("beta-gcp-network", "selfLink")  # direct: no wait on side 1
    assert p1.inputs["network"] == ref("beta-gcp-network", "selfLink")
    assert p1.inputs["peerNetwork"] == {"$peer": link.id, "endpoint": 0, "output": "network"}
    assert side0.exports == {"network": ref(p0.name, "network"), "connection": ref(p0.name, "id")}
    assert not p0.inputs["exportCustomRoutes"] and not p0.inputs["importCustomRoutes"]
    assert p0.region is None and p0.provider == "gcp-global"


def test_several_links_between_two_networks_render_one_peering_by_the_first_link_id():
    ctx, links = two_networks([("europe-west1", "europe-west1"), ("europe-west1", "europe-west4"),
                               ("europe-west4", "europe-west1")])
    elements = link_elements(ctx.network)
    first = min(links, key=lambda link: link.id)
    renderings = {(e.id, i): Provider().render_endpoint(ctx, EndpointView(e, i)) for e in elements for i in (0, 1)}
    rendered = [r for part in renderings.values() for r in part.resources]
    assert sorted(r.name for r in rendered) == sorted([peering_name(first, 0), peering_name(first, 1)])
    for (element, side), part in renderings.items():  # every link exports the one peering's references
        assert part.exports == renderings[(first.id, side)].exports


def test_several_links_between_two_networks_assemble():
    ctx, _ = two_networks([("europe-west1", "europe-west1"), ("europe-west1", "europe-west4")])
    _assemble(ctx)


def test_one_link_between_two_networks_assembles_and_reads_as_a_link():
    ctx, (link,) = two_networks([("europe-west1", "europe-west1")])
    rendered = _assemble(ctx)
    graph = GraphOf(rendered)
    peerings = [r for r in rendered if r.type == "gcp:compute/networkPeering:NetworkPeering"]
    assert peerings[1].inputs["peerNetwork"] == ref(peerings[0].name, "network")  # resolved, ordered after
    for side, peering in enumerate(peerings):
        facts = Provider().describe(peering, graph)
        assert isinstance(facts, LinkFacts)
        assert (facts.link, facts.side, facts.kind, facts.routes_learned) == (link.id, side, "peering", True)
        subnet = "10.1.0.0/21" if side == 0 else "10.2.0.0/21"
        assert facts.advertises == (subnet,)


def _assemble(ctx: RenderContext) -> list[RenderedResource]:
    from cloudorch.spec.loader import LoadedStack

    loaded = LoadedStack(stack=ctx.stack, file="hand.yaml", text="")
    placement = ctx.placement.model_copy(update={"networks": ctx.network.blocks})
    return list(render_stack(loaded, placement, {"gcp": Provider()}, network=ctx.network))


# -- facts -------------------------------------------------------------------------------------------------
def test_every_tunnel_reads_as_its_link_side_and_tunnel_with_the_ipsec_policy():
    network, rendered = three_clouds()
    graph = GraphOf(rendered)
    for link in gcp_vpn_links():
        for t in link.tunnels:
            facts = Provider().describe(graph.rendered(f"{link.slug}-gcp-tunnel-{t.index}"), graph)
            assert isinstance(facts, LinkFacts)
            assert (facts.link, facts.side, facts.kind, facts.tunnels) == (link.id, 1, "vpn", (t.index,))
            assert facts.advertises == (block(network, link.b),)
            assert facts.routes_learned and facts.static_routes == ()
            assert "GLOBAL" in facts.notes["routes_learned"]
            assert (facts.ike_version, facts.ciphers, facts.preshared_key) == ("ikev2", IpsecPolicy.names, "generated")


def test_a_tunnel_with_a_literal_key_an_old_ike_or_the_default_ciphers_reads_so():
    facts = describe_alone("gcp", "gcp:compute/vPNTunnel:VPNTunnel", description="cloudorch link x side 0 tunnel 2",
                           sharedSecret="hunter2", ikeVersion=1)
    assert (facts.link, facts.tunnels, facts.preshared_key, facts.ike_version) == ("x", (2,), "literal", "ikev1")
    assert facts.ciphers == () and "default" in facts.notes["ciphers"]
    weaker = CIPHER_SUITE | {"phase2": {"encryptions": ["AES-CBC-128"], "integrities": ["HMAC-SHA1-96"]}}
    assert describe_alone("gcp", "gcp:compute/vPNTunnel:VPNTunnel", cipherSuite=weaker,
                          description="cloudorch link x side 0 tunnel 0").ciphers == ()


def test_routes_read_where_they_lead():
    internet = describe_alone("gcp", "gcp:compute/route:Route", destRange="0.0.0.0/0",
                              nextHopGateway="default-internet-gateway")
    assert internet == RouteFacts(destination="0.0.0.0/0", via="internet")
    tunnel = RenderedResource(name="t", type="gcp:compute/vPNTunnel:VPNTunnel", role=Role.LINK, cloud="gcp",
                              inputs={"description": "cloudorch link l1 side 1 tunnel 0"})
    route = RenderedResource(name="r", type="gcp:compute/route:Route", role=Role.ROUTE, cloud="gcp",
                             inputs={"destRange": "10.9.0.0/20", "nextHopVpnTunnel": ref("t", "selfLink")})
    assert Provider().describe(route, GraphOf([tunnel, route])) == RouteFacts(destination="10.9.0.0/20", via="link",
                                                                            link="l1")


def test_every_gcp_resource_of_a_role_with_facts_is_described():
    from cloudorch.rendering.facts import FACTS_OF_ROLE

    _, rendered = three_clouds()
    graph = GraphOf(rendered)
    for r in gcp_resources():
        expected = FACTS_OF_ROLE.get(r.role)
        if expected is not None:
            assert isinstance(Provider().describe(r, graph), expected), r.name


# -- schema ------------------------------------------------------------------------------------------------
@pytest.mark.shared
def test_every_gcp_resource_of_the_three_clouds_stack_conforms_to_the_schema():
    schema = gcp_schema()
    checked = [r for r in gcp_resources() if not r.is_provider and not r.type.startswith("random:")
               and r.type not in OUTSIDE_SCHEMA_SUBSET]
    assert LINK_TYPES - {"gcp:compute/networkPeering:NetworkPeering"} <= {r.type for r in checked}
    assert [str(v) for r in checked for v in schema.check(r)] == []


@pytest.mark.shared
def test_the_peering_conforms_to_the_schema():
    ctx, _ = two_networks([("europe-west1", "europe-west1")])
    schema = gcp_schema()
    resources = [r for r in _assemble(ctx) if r.type == "gcp:compute/networkPeering:NetworkPeering"]
    assert len(resources) == 2 and [str(v) for r in resources for v in schema.check(r)] == []


# -- meters ------------------------------------------------------------------------------------------------
def test_meters_of_what_bills():
    rendered = by_name()
    meters = Provider().meters
    link = gcp_vpn_links()[0]
    assert meters(rendered[f"{link.slug}-gcp-tunnel-0"]) == (Meter("vpn_tunnel_hour"),)
    assert meters(rendered[f"{link.slug}-gcp-gw"]) == (Meter("vpn_gateway_hour"),)
    assert meters(rendered[f"net-gcp-{link.b.region}-vpn-router"]) == (Meter("cloud_router_hour"),)
    assert meters(rendered[f"net-gcp-{link.b.region}-nat"]) == (Meter(NAT_GATEWAY), Meter("public_ipv4_hour"))
    assert isinstance(meters(rendered[f"net-gcp-{link.b.region}-subnet"]), Unmetered)
    for free in (f"{link.slug}-gcp-peer-gw", f"{link.slug}-gcp-if-0", f"{link.slug}-gcp-bgp-0", "net-gcp-network"):
        assert meters(rendered[free]) == (), free
    ctx, _ = two_networks([("europe-west1", "europe-west1")])
    assert meters(next(r for r in _assemble(ctx) if r.role == Role.LINK)) == ()


def test_meters_of_keys_and_addresses():
    def res(type_, **inputs):
        from cloudorch_gcp.roles import ROLES

        return RenderedResource(name="x", type=type_, role=ROLES[type_], cloud="gcp", inputs=inputs)

    meters = Provider().meters
    assert meters(res("gcp:kms/cryptoKey:CryptoKey")) == (Meter("kms_key_month"),)
    assert meters(res("gcp:kms/cryptoKey:CryptoKey", versionTemplate={"protectionLevel": "HSM", "algorithm": "x"})) \
        == (Meter("kms_key_month", scope="hsm"),)
    assert meters(res("gcp:compute/address:Address")) == (Meter("public_ipv4_hour"),)
    assert meters(res("gcp:compute/address:Address", addressType="INTERNAL")) == ()


def test_every_billable_role_rendered_has_meters_known():
    from cloudorch.rendering.meters import BILLABLE_ROLES

    unknown = [r.name for r in gcp_resources() if r.role in BILLABLE_ROLES and Provider().meters(r) is None]
    assert unknown == []


def test_lone_graph_reads_a_tunnel_without_its_router():
    facts = Provider().describe(RenderedResource(
        name="t", type="gcp:compute/vPNTunnel:VPNTunnel", role=Role.LINK, cloud="gcp",
        inputs={"description": "cloudorch link l side 1 tunnel 3", "cipherSuite": CIPHER_SUITE,
                "sharedSecret": ref("k", "result")}), LoneGraph())
    assert (facts.tunnels, facts.advertises, facts.ciphers, facts.preshared_key) == ((3,), (), IpsecPolicy.names,
                                                                                     "generated")


def test_cloud_sql_answers_clients_across_the_vpn():
    """Cloud SQL sits in Google's producer network: its peering must export the VPN-learned routes, or a
    client on another cloud reaches it and never hears back."""
    resources = {r.name: r for r in gcp_resources()}
    [routes] = [r for r in resources.values() if r.type in OUTSIDE_SCHEMA_SUBSET]
    assert routes.inputs["exportCustomRoutes"] is True and routes.inputs["importCustomRoutes"] is False
    assert resources[routes.inputs["peering"]["$ref"]].type == "gcp:servicenetworking/connection:Connection"
    assert routes.inputs["peering"]["output"] == "peering"
