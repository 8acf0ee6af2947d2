"""The AWS sides of the network plan's links: peering between two AWS regions, VPNs to Azure and GCP.

A hand-made placement (web in two AWS regions, Azure and GCP; the database beside the AWS web replicas in
eu-west-1) gives one peering and two VPN links, planned by the real network stage; the AWS provider renders
its sides alone, and once more assembled with stand-in Azure/GCP sides so the peer outputs resolve.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from functools import cache
from typing import Any, ClassVar

import pytest

from cloudorch.graph import flows_of
from cloudorch.network.allocation import Allocation, TunnelDemand, allocate_tunnels
from cloudorch.network.links import plan_network
from cloudorch.network.model import Link, NetworkPlan, Site, VpnSide
from cloudorch.placement.model import PlacementResult, ResourcePlacement, Slot
from cloudorch.policy import Context, PolicySubject
from cloudorch.provider import CloudProvider
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.assemble import render_stack
from cloudorch.rendering.elements import PEER, EndpointRendering, EndpointView, check_exports, resolve
from cloudorch.rendering.facts import LinkFacts, RouteFacts
from cloudorch.rendering.links import IpsecPolicy, LinkElement, link_elements
from cloudorch.rendering.meters import NAT_GATEWAY, Meter, Unmetered
from cloudorch.rendering.schema_check import PackageSchema
from cloudorch.spec.loader import parse_stack
from cloudorch_aws import links as aws_links
from cloudorch_aws.provider import Provider
from tests.support import OUTSIDE_SCHEMA_SUBSET, SCHEMAS, require_shared

STACK = """\
stack: mesh
tags: {team: net}
resources:
  net: {kind: network, cidr: 10.70.0.0/16}
  web:
    kind: compute
    network: net
    count: 4
    cpu: 2
    memory_gb: 4
    ingress: [{port: 443, from: internet}]
  db:
    kind: database
    network: net
    engine: postgres
    version: "16"
    ingress: [{port: 5432, from: web}]
"""
WEB = (("aws", "eu-central-1"), ("aws", "eu-west-1"), ("azure", "westeurope"), ("gcp", "europe-west4"))
PEERING_ID = "net@aws/eu-central-1~net@aws/eu-west-1"
AZURE_ID = "net@aws/eu-west-1~net@azure/westeurope"
GCP_ID = "net@aws/eu-west-1~net@gcp/europe-west4"
INTERFACES = {"aws": Provider.vpn_interfaces, "azure": 2, "gcp": 2}
ROUTE = "aws:ec2/route:Route"
VPN = "aws:ec2/vpnConnection:VpnConnection"
CGW = "aws:ec2/customerGateway:CustomerGateway"
VGW = "aws:ec2/vpnGateway:VpnGateway"
PROPAGATION = "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation"
PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
PSK = "random:index/randomPassword:RandomPassword"
#: what AWS accepts in a tag value (EC2 user guide, "Tag restrictions")
TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")


def _slot(cloud: str, region: str, count: int = 1) -> Slot:
    return Slot(cloud=cloud, region=region, instance_type="x", count=count, vcpus=2, memory_gib=4,
                zones=(f"{region}a", f"{region}b") if cloud == "aws" else (), hourly_usd=0.1, monthly_usd=73.0)


def _mesh(web: tuple[tuple[str, str], ...] = WEB):
    loaded = parse_stack(STACK, "stacks/mesh.yaml")
    placement = PlacementResult(objective="cost", placements={
        "web": ResourcePlacement(resource="web", kind="compute", slots=tuple(_slot(c, r) for c, r in web)),
        "db": ResourcePlacement(resource="db", kind="database", slots=(_slot("aws", "eu-west-1"),)),
    })
    network = plan_network(loaded.stack, placement, flows_of(loaded.stack), vpn_interfaces=INTERFACES)
    return loaded, placement, network


def _context(loaded, placement, network: NetworkPlan) -> RenderContext:
    return RenderContext(stack=loaded.stack, placement=placement, cloud="aws", source=loaded,
                         elements=link_elements(network), network=network)


@cache
def rendered_alone():
    """The AWS share and every AWS endpoint, rendered without the other clouds (peer outputs unresolved)."""
    loaded, placement, network = _mesh()
    ctx = _context(loaded, placement, network)
    provider = Provider()
    resources = list(provider.render(ctx))
    endpoints: dict[tuple[str, int], EndpointRendering] = {}
    for element in ctx.elements:
        for index, endpoint in enumerate(element.endpoints):
            if endpoint.cloud == "aws":
                endpoints[element.id, index] = provider.render_endpoint(ctx, EndpointView(element, index))
                resources += endpoints[element.id, index].resources
    return loaded, placement, network, tuple(resources), endpoints


def _by_name() -> dict[str, RenderedResource]:
    return {r.name: r for r in rendered_alone()[3]}


def _link(link_id: str) -> Link:
    return next(link for link in rendered_alone()[2].links if link.id == link_id)


def _endpoint(link_id: str, index: int) -> EndpointRendering:
    return rendered_alone()[4][link_id, index]


def _of(link_id: str, index: int, type_: str) -> list[RenderedResource]:
    return [r for r in _endpoint(link_id, index).resources if r.type == type_]


def _peer(resource_input: Any) -> tuple[str, int, str, int | None]:
    assert isinstance(resource_input, dict) and PEER in resource_input, resource_input
    return resource_input[PEER], resource_input["endpoint"], resource_input["output"], resource_input.get("item")


def _facts_context(resources) -> Context:
    loaded, placement, *_ = rendered_alone()
    return Context(PolicySubject(loaded, placement, resources), today=dt.date(2026, 6, 1))


# -- the plan this file relies on ------------------------------------------------------------------------------
def test_the_aws_provider_declares_four_vpn_addresses_and_regional_networks():
    assert (Provider.vpn_interfaces, Provider.global_network) == (4, False)


def test_the_mesh_needs_one_peering_and_a_vpn_to_each_other_cloud():
    links = {link.id: link.kind for link in rendered_alone()[2].links}
    assert links == {PEERING_ID: "peering", AZURE_ID: "vpn", GCP_ID: "vpn"}
    assert set(rendered_alone()[4]) == {(PEERING_ID, 0), (PEERING_ID, 1), (AZURE_ID, 0), (GCP_ID, 0)}


# -- peering ---------------------------------------------------------------------------------------------------
def test_side_a_requests_the_peering_from_its_vpc_to_the_peers_in_the_other_region():
    link = _link(PEERING_ID)
    [peering] = _of(PEERING_ID, 0, PEERING)
    assert (peering.region, peering.provider, peering.source) == ("eu-central-1", "aws-eu-central-1", "net")
    assert peering.inputs["vpcId"] == ref("net-aws-eu-central-1-vpc")
    assert _peer(peering.inputs["peerVpcId"]) == (PEERING_ID, 1, "network", None)
    assert (peering.inputs["peerRegion"], peering.inputs["autoAccept"]) == (link.b.region, False)
    assert _endpoint(PEERING_ID, 0).exports == {"network": ref("net-aws-eu-central-1-vpc"), "connection": ref(peering.name)}


def test_side_b_accepts_in_its_own_region_and_exports_its_vpc():
    [accepter] = _of(PEERING_ID, 1, ACCEPTER)
    assert (accepter.region, accepter.provider) == ("eu-west-1", "aws-eu-west-1")
    assert _peer(accepter.inputs["vpcPeeringConnectionId"]) == (PEERING_ID, 0, "connection", None)
    assert accepter.inputs["autoAccept"] is True
    assert _endpoint(PEERING_ID, 1).exports == {"network": ref("net-aws-eu-west-1-vpc")}


@pytest.mark.parametrize("index", [0, 1])
def test_each_peering_side_routes_exactly_the_other_block_from_every_route_table(index):
    link = _link(PEERING_ID)
    site, other = link.sites()[index], link.sites()[1 - index]
    routes = _of(PEERING_ID, index, ROUTE)
    tables = {r.name for r in rendered_alone()[3] if r.type == "aws:ec2/routeTable:RouteTable" and r.region == site.region}
    assert tables == {f"net-aws-{site.region}-public-rt", f"net-aws-{site.region}-private-rt"}
    assert sorted(r.inputs["routeTableId"]["$ref"] for r in routes) == sorted(tables)
    assert {r.inputs["destinationCidrBlock"] for r in routes} == {other.cidr}
    target = ref(_of(PEERING_ID, 0, PEERING)[0].name) if index == 0 else \
        ref(_of(PEERING_ID, 1, ACCEPTER)[0].name, "vpcPeeringConnectionId")  # waits for the acceptance
    assert all(r.inputs["vpcPeeringConnectionId"] == target for r in routes)
    assert all(r.region == site.region and r.provider == f"aws-{site.region}" for r in routes)


# -- VPN -------------------------------------------------------------------------------------------------------
def test_one_virtual_private_gateway_per_site_with_vpn_links_propagating_into_every_route_table():
    by_name = _by_name()
    gateways = [r for r in by_name.values() if r.type == VGW]
    assert [g.name for g in gateways] == ["net-aws-eu-west-1-vgw"]  # eu-central-1 has only a peering
    [gateway] = gateways
    asn = _link(AZURE_ID).a_side.asn
    assert asn == _link(GCP_ID).a_side.asn and 64512 <= asn <= 65534
    assert gateway.inputs["amazonSideAsn"] == str(asn)
    assert gateway.inputs["vpcId"] == ref("net-aws-eu-west-1-vpc")
    propagated = sorted(r.inputs["routeTableId"]["$ref"] for r in by_name.values() if r.type == PROPAGATION)
    assert propagated == ["net-aws-eu-west-1-private-rt", "net-aws-eu-west-1-public-rt"]
    assert all(r.inputs["vpnGatewayId"] == ref(gateway.name) for r in by_name.values() if r.type == PROPAGATION)


@pytest.mark.parametrize("link_id", [AZURE_ID, GCP_ID])
def test_two_customer_gateways_face_the_peers_two_addresses_with_its_asn(link_id):
    link = _link(link_id)
    gateways = _of(link_id, 0, CGW)
    assert [_peer(g.inputs["ipAddress"]) for g in gateways] == [(link_id, 1, "addresses", 0), (link_id, 1, "addresses", 2)]
    assert {(g.inputs["bgpAsn"], g.inputs["type"]) for g in gateways} == {(str(link.b_side.asn), "ipsec.1")}
    # the pairing the core plans: tunnels 2k and 2k+1 end on the peer's address k
    assert [t.b_interface for t in link.tunnels] == [0, 0, 1, 1]


@pytest.mark.parametrize("link_id", [AZURE_ID, GCP_ID])
def test_two_vpn_connections_carry_the_four_tunnels_with_generated_keys_and_the_one_policy(link_id):
    link = _link(link_id)
    keys = _of(link_id, 0, PSK)
    assert len(keys) == 4 and all(k.secret_outputs == ("result",) for k in keys)
    connections = _of(link_id, 0, VPN)
    assert [c.inputs["customerGatewayId"] for c in connections] == [ref(g.name) for g in _of(link_id, 0, CGW)]
    for k, conn in enumerate(connections):
        inputs = conn.inputs
        first, second = link.tunnels[2 * k], link.tunnels[2 * k + 1]
        assert (inputs["tunnel1InsideCidr"], inputs["tunnel2InsideCidr"]) == (first.inside_cidr, second.inside_cidr)
        assert (inputs["tunnel1PresharedKey"], inputs["tunnel2PresharedKey"]) == (
            ref(keys[2 * k].name, "result"), ref(keys[2 * k + 1].name, "result"))
        assert (inputs["vpnGatewayId"], inputs["staticRoutesOnly"], inputs["type"]) == (
            ref("net-aws-eu-west-1-vgw"), False, "ipsec.1")
        assert inputs["tunnelInsideIpVersion"] == "ipv4"
        for n in (1, 2):
            assert inputs[f"tunnel{n}IkeVersions"] == ["ikev2"]
            for phase in (1, 2):
                assert inputs[f"tunnel{n}Phase{phase}EncryptionAlgorithms"] == ["AES256-GCM-16"]
                assert inputs[f"tunnel{n}Phase{phase}IntegrityAlgorithms"] == ["SHA2-384"]
                assert inputs[f"tunnel{n}Phase{phase}DhGroupNumbers"] == [20]
            assert (inputs[f"tunnel{n}Phase1LifetimeSeconds"], inputs[f"tunnel{n}Phase2LifetimeSeconds"]) == (28800, 3600)


@pytest.mark.parametrize("link_id", [AZURE_ID, GCP_ID])
def test_a_vpn_side_exports_an_address_per_tunnel_its_asn_and_the_keys(link_id):
    link = _link(link_id)
    connections = [c.name for c in _of(link_id, 0, VPN)]
    exports = _endpoint(link_id, 0).exports
    assert exports["addresses"] == [ref(connections[0], "tunnel1Address"), ref(connections[0], "tunnel2Address"),
                                    ref(connections[1], "tunnel1Address"), ref(connections[1], "tunnel2Address")]
    assert exports["asn"] == link.a_side.asn
    assert exports["keys"] == [ref(k.name, "result") for k in _of(link_id, 0, PSK)]
    element = next(e for e in link_elements(rendered_alone()[2]) if e.id == link_id)
    check_exports(element, 0, _endpoint(link_id, 0))  # the core's own check of shapes and ownership


def test_aws_takes_the_first_host_of_every_inside_cidr_which_the_plan_gives_side_a():
    for link_id in (AZURE_ID, GCP_ID):
        for t in _link(link_id).tunnels:
            net = ipaddress.ip_network(t.inside_cidr)
            assert net.prefixlen == 30 and t.a_address == str(next(net.hosts()))


def test_an_aws_side_b_is_refused_while_the_plan_gives_it_the_second_host():
    """AWS always assigns the first host of a tunnel's /30 to its gateway: an AWS side b (networks joined by
    ``network.links`` sort that way) would disagree with its peer about the BGP addresses."""
    a = Site(network="apps", cloud="gcp", region="europe-west4", cidr="10.1.0.0/20")
    b = Site(network="data", cloud="aws", region="eu-west-1", cidr="10.2.0.0/20")
    link_id = f"{a}~{b}"
    tunnels = allocate_tunnels([TunnelDemand(link_id, (str(a), str(b)), ("169.254.0.0/16",))], Allocation())[link_id]
    wired = tuple(t.model_copy(update={"a_interface": t.index // 2, "b_interface": t.index}) for t in tunnels)
    link = Link(id=link_id, kind="vpn", a=a, b=b, a_side=VpnSide(asn=64700, interfaces=2),
                b_side=VpnSide(asn=64701, interfaces=4), tunnels=wired)
    loaded, placement, _ = _mesh()
    element = LinkElement(kind="vpn", id=link_id, link=link, endpoints=link_elements(NetworkPlan(links=(link,)))[0].endpoints)
    ctx = RenderContext(stack=loaded.stack, placement=placement, cloud="aws", elements=(element,))
    with pytest.raises(ValueError, match="first host"):
        Provider().render_endpoint(ctx, EndpointView(element, 1))


# -- no default route, nothing but the peer's block ----------------------------------------------------------
def test_no_route_over_a_link_leads_anywhere_but_the_other_sites_block():
    ctx = _facts_context(rendered_alone()[3])
    blocks = {f"{b.network}@{b.cloud}/{b.region}": b.cidr for b in rendered_alone()[2].blocks}
    over_links = []
    for r in rendered_alone()[3]:
        if r.type != ROUTE:
            continue
        facts = ctx.facts(r)
        assert isinstance(facts, RouteFacts)
        if facts.via == "link":
            over_links.append(r.name)
            here = next(s for s in _link(facts.link).sites() if s.region == r.region)
            assert facts.destination == _link(facts.link).other(here.key).cidr
            assert facts.destination in blocks.values() and facts.destination != "0.0.0.0/0"
        else:
            assert (facts.destination, facts.via) in {("0.0.0.0/0", "internet"), ("0.0.0.0/0", "nat")}, r.name
    assert len(over_links) == 4  # two tables on each side of the peering; VPN routes are learned, not static


def test_default_routes_read_as_internet_and_nat():
    ctx = _facts_context(rendered_alone()[3])
    by_name = _by_name()
    assert ctx.facts(by_name["net-aws-eu-west-1-public-default"]) == RouteFacts(
        destination="0.0.0.0/0", via="internet", table="net-aws-eu-west-1-public-rt")
    assert ctx.facts(by_name["net-aws-eu-west-1-private-default"]) == RouteFacts(
        destination="0.0.0.0/0", via="nat", table="net-aws-eu-west-1-private-rt")


# -- link facts ------------------------------------------------------------------------------------------------
def test_the_peering_sides_read_as_the_link_offering_their_blocks_and_routing_the_peers():
    link = _link(PEERING_ID)
    ctx = _facts_context(rendered_alone()[3])
    [peering], [accepter] = _of(PEERING_ID, 0, PEERING), _of(PEERING_ID, 1, ACCEPTER)
    assert ctx.facts(peering) == LinkFacts(link=PEERING_ID, side=0, kind="peering", advertises=(link.a.cidr,),
                                           static_routes=(link.b.cidr,))
    assert ctx.facts(accepter) == LinkFacts(link=PEERING_ID, side=1, kind="peering", advertises=(link.b.cidr,),
                                            static_routes=(link.a.cidr,))


@pytest.mark.parametrize("link_id", [AZURE_ID, GCP_ID])
def test_each_vpn_connection_reads_as_two_tunnels_learning_routes_under_the_one_policy(link_id):
    link = _link(link_id)
    ctx = _facts_context(rendered_alone()[3])
    carried = []
    for conn in _of(link_id, 0, VPN):
        facts = ctx.facts(conn)
        assert (facts.link, facts.side, facts.kind) == (link_id, 0, "vpn")
        assert facts.advertises == (link.a.cidr,)  # the VPC's block, never 0.0.0.0/0
        assert (facts.routes_learned, facts.static_routes) == (True, ())
        assert (facts.ike_version, facts.ciphers, facts.preshared_key) == ("ikev2", IpsecPolicy.names, "generated")
        carried += facts.tunnels
    assert carried == [0, 1, 2, 3]


def _vpn_facts(change, drop: str | None = None) -> LinkFacts:
    conn = _of(AZURE_ID, 0, VPN)[0]
    conn = conn.model_copy(update={"inputs": change(dict(conn.inputs))})
    resources = [conn if r.name == conn.name else r for r in rendered_alone()[3] if r.name != drop]
    return _facts_context(resources).facts(conn)


def test_link_facts_see_weaker_settings_literal_keys_and_missing_propagation():
    weaker = _vpn_facts(lambda i: i | {"tunnel2IkeVersions": ["ikev1", "ikev2"], "tunnel1Phase1EncryptionAlgorithms": ["AES128"]})
    assert weaker.ike_version == "ikev1" and "AES128" in weaker.ciphers and weaker.ciphers != IpsecPolicy.names
    unset = _vpn_facts(lambda i: {k: v for k, v in i.items() if not k.startswith("tunnel2Phase")})
    assert unset.ciphers != IpsecPolicy.names
    assert _vpn_facts(lambda i: {k: v for k, v in i.items() if "IkeVersions" not in k}).ike_version is None
    assert _vpn_facts(lambda i: i | {"tunnel1PresharedKey": "letmein123"}).preshared_key == "literal"
    assert _vpn_facts(lambda i: i, drop="net-aws-eu-west-1-private-rt-vgw-propagation").routes_learned is False


# -- conformance and hygiene -----------------------------------------------------------------------------------
@pytest.mark.shared
def test_every_resource_the_links_add_conforms_to_its_pulumi_schema():
    require_shared(SCHEMAS)
    schemas = {name: PackageSchema.load(SCHEMAS / f"{name}.json") for name in ("aws", "random")}
    # the other clouds' sides, as references the schema check reads as set-but-unknown values
    exports: dict[tuple[str, int], Any] = dict(rendered_alone()[4])
    exports = {key: part.exports for key, part in exports.items()} | {
        (link_id, 1): {"addresses": [ref("peer-gateway", "ip")] * 4, "asn": 65000} for link_id in (AZURE_ID, GCP_ID)}
    checked = [r for r in resolve(list(rendered_alone()[3]), exports)
               if not r.is_provider and r.type not in OUTSIDE_SCHEMA_SUBSET]
    assert {VPN, CGW, VGW, PROPAGATION, PEERING, ACCEPTER, PSK} <= {r.type for r in checked}
    violations = [str(v) for r in checked for v in schemas[r.type.split(":")[0]].check(r)]
    assert violations == []


def test_link_resources_are_tagged_with_values_aws_accepts_and_rendering_is_deterministic():
    taggable = [r for r in rendered_alone()[3] if r.type in (VPN, CGW, VGW, PEERING, ACCEPTER)]
    assert taggable
    for r in taggable:
        assert r.inputs["tags"]["Name"] == r.name
        assert all(TAG_VALUE.match(v) for v in r.inputs["tags"].values()), r.inputs["tags"]
    rendered_alone.cache_clear()
    first = rendered_alone()[3]
    rendered_alone.cache_clear()
    assert rendered_alone()[3] == first


def test_a_site_beyond_the_vpc_peering_limit_is_a_located_problem(monkeypatch):
    loaded, placement, network = _mesh()
    ctx = _context(loaded, placement, network)
    assert Provider().check(ctx) == []
    monkeypatch.setattr(aws_links, "PEERINGS_PER_VPC", 0)
    problems = Provider().check(ctx)
    assert [p.path for p in problems] == ["resources.net", "resources.net"]  # both peered sites
    assert all("at most 0" in p.message for p in problems)


# -- meters ----------------------------------------------------------------------------------------------------
def test_meters_of_what_the_network_and_its_links_bill():
    provider = Provider()
    by_type = {r.type: provider.meters(r) for r in rendered_alone()[3]}
    assert by_type["aws:ec2/natGateway:NatGateway"] == (Meter(NAT_GATEWAY),)
    assert by_type["aws:ec2/eip:Eip"] == (Meter("public_ipv4_hour"),)
    assert by_type[VPN] == (Meter("vpn_connection_hour"),)
    assert by_type[VGW] == (Meter("vpn_gateway_hour"),)
    assert by_type[PEERING] == by_type[ACCEPTER] == by_type[ROUTE] == by_type[CGW] == ()
    assert isinstance(by_type["aws:ec2/flowLog:FlowLog"], Unmetered)
    assert isinstance(by_type["aws:cloudwatch/logGroup:LogGroup"], Unmetered)
    key = RenderedResource(name="k", type="aws:kms/key:Key", role="key", cloud="aws")
    balancer = RenderedResource(name="lb", type="aws:lb/loadBalancer:LoadBalancer", role="balancer", cloud="aws")
    assert (provider.meters(key), provider.meters(balancer)) == (
        (Meter("kms_key_month"),), (Meter("app_load_balancer_hour"), Meter("app_load_balancer_lcu_hour", 0.0)))


def test_every_meter_item_is_a_row_of_the_price_list():
    from pathlib import Path

    import cloudorch

    rows = (Path(cloudorch.__file__).parent / "catalog" / "data" / "network.csv").read_text().splitlines()
    items = {line.split(",")[1] for line in rows if line.startswith("aws,")} | {NAT_GATEWAY}
    from cloudorch_aws.meters import METERS

    used = {m.item for meters in METERS.values() if not isinstance(meters, Unmetered) for m in meters}
    assert used <= items


# -- assembled with the other clouds' sides --------------------------------------------------------------------
class Stand(CloudProvider):
    """A stand-in for another cloud's VPN side: a gateway with two addresses, tunnels 2k, 2k+1 on address k."""

    display_name: ClassVar[str] = "stand-in"
    pulumi_plugins = ()
    images = ()

    def __init__(self, name: str) -> None:
        self.name = name

    def render(self, ctx):
        return []

    def render_endpoint(self, ctx, view: EndpointView) -> EndpointRendering:
        gw = RenderedResource(name=f"{self.name}-{view.element.id}-gw", type=f"{self.name}:vpn:Gateway", cloud=self.name,
                              inputs={"keys": [view.peer_output("keys", t) for t in range(4)]})
        return EndpointRendering(resources=(gw,), exports={
            "addresses": [ref(gw.name, "ip", path=(t // 2,)) for t in range(4)], "asn": view.element.link.b_side.asn})


def test_assembled_with_the_peers_every_placeholder_resolves_to_the_other_sides_resources():
    loaded, placement, network = _mesh((("aws", "eu-west-1"), ("azure", "westeurope"), ("gcp", "europe-west4")))
    rendered = render_stack(loaded, placement, {"aws": Provider(), "azure": Stand("azure"), "gcp": Stand("gcp")},
                            network=network)
    by_name = {r.name: r for r in rendered}
    for link_id, cloud in ((AZURE_ID, "azure"), (GCP_ID, "gcp")):
        link = next(lk for lk in network.links if lk.id == link_id)
        cgws = [by_name[f"{link.slug}-a-cgw-{k}"] for k in (0, 1)]
        assert [g.inputs["ipAddress"] for g in cgws] == [ref(f"{cloud}-{link_id}-gw", "ip", path=(k,)) for k in (0, 1)]
        assert by_name[f"{cloud}-{link_id}-gw"].inputs["keys"] == [ref(f"{link.slug}-a-psk-{t}", "result") for t in range(4)]


def test_assembled_peering_exports_the_vpcs_the_network_rendered():
    loaded, placement, network = _mesh()
    providers = {"aws": Provider(), "azure": Stand("azure"), "gcp": Stand("gcp")}
    by_name = {r.name: r for r in render_stack(loaded, placement, providers, network=network)}
    link = _link(PEERING_ID)
    assert by_name[f"{link.slug}-a-peering"].inputs["peerVpcId"] == ref("net-aws-eu-west-1-vpc")
    assert by_name[f"{link.slug}-b-accepter"].inputs["vpcPeeringConnectionId"] == ref(f"{link.slug}-a-peering")
