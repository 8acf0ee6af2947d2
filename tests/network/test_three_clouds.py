"""A stack forced over two regions of each of the three clouds (``stacks/three-clouds.yaml``) plans with every
flow proved, renders both sides of every link on the right cloud, conforms to the Pulumi schemas, keeps its
pre-shared keys out of the plan, routes nothing but the sites' blocks over a link, allocates ASNs and tunnel
addresses without collisions, and plans byte for byte the same twice."""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter, defaultdict
from functools import cache

import pytest

from cloudorch import api
from cloudorch.network.links import check_gateway_limits
from cloudorch.placement.rates import GatewayLimit
from cloudorch.rendering.facts import GraphOf, RouteFacts
from cloudorch.rendering.inputs import is_world
from cloudorch.rendering.model import is_ref
from cloudorch.rendering.schema_check import PackageSchema
from tests.network.three_clouds import STACK, describe, link_facts, planned, providers
from tests.support import OUTSIDE_SCHEMA_SUBSET, SCHEMAS, require_shared

LINK_ROLES = {"link", "vpn-gateway", "peer-gateway", "bgp-peer", "route", "route-propagation", "secret"}
SCHEMA_FILES = {"aws": "aws.json", "azure-native": "azure-native.json", "gcp": "gcp.json", "random": "random.json",
                "tls": "tls.json"}
KEY_INPUT = re.compile(r"^(sharedKey|sharedSecret|tunnel\d+PresharedKey)$")


@cache
def plan_json() -> dict:
    return json.loads(planned().plan.to_json())


def _walk(value, path=()):
    """(path, key, value) of every dict entry under ``value``, and (path, None, item) of every list item."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield path, None, item
            yield from _walk(item, (*path, i))


def test_the_stack_plans_over_two_regions_of_each_cloud_with_every_flow_proved():
    result = planned()
    sites = {(b.cloud, b.region) for b in result.network.blocks}
    assert Counter(cloud for cloud, _ in sites) == {"aws": 2, "azure": 2, "gcp": 2}
    assert {f.status for f in result.proof.flows} == {"proved"} and len(result.proof.flows) == 2
    assert result.proof.undeclared == ()
    assert {f["status"] for f in plan_json()["network"]["flows"]} == {"proved"}
    # GCP's two regions are one global network: every other pair of sites carrying a flow is linked
    kinds = Counter(link.kind for link in result.network.links)
    assert kinds["peering"] == 2 and kinds["vpn"] >= 6
    assert {s.key for link in result.network.links for s in link.sites()} == {
        (b.network, b.cloud, b.region) for b in result.network.blocks}


def test_every_site_renders_its_side_of_each_of_its_links_on_its_own_cloud():
    result = planned()
    by_name = {r.name: r for r in result.rendered}
    sides: dict[tuple[str, int], list[str]] = {}
    tunnels: dict[tuple[str, int], Counter] = {}
    for name, facts in link_facts(result.rendered).items():
        for link_id in (facts.link, *facts.also):
            sides.setdefault((link_id, facts.side), []).append(name)
            tunnels.setdefault((link_id, facts.side), Counter()).update(facts.tunnels)
    links = {link.id: link for link in result.network.links}
    assert {link_id for link_id, _ in sides} == set(links)  # nothing rendered for a link the plan lacks
    for link in links.values():
        for side, site in enumerate(link.sites()):
            names = sides.get((link.id, side))
            assert names, f"{site} renders no side of {link.id}"
            for name in names:
                assert by_name[name].cloud == site.cloud
                assert by_name[name].region in (None, site.region) or site.cloud == "gcp", name
            if link.kind == "vpn":
                # each tunnel carried exactly once on each side
                assert tunnels[(link.id, side)] == Counter(t.index for t in link.tunnels), (link.id, side)
                # two addresses facing two (Azure's active-active gateway, GCP's HA VPN): two tunnels
                assert len(link.tunnels) == (2 if {link.a.cloud, link.b.cloud} == {"azure", "gcp"} else 4)


@cache
def _schema(package: str) -> PackageSchema:
    return PackageSchema.load(SCHEMAS / SCHEMA_FILES[package])


@pytest.mark.shared
def test_every_resource_of_the_link_roles_conforms_to_its_provider_schema():
    require_shared(SCHEMAS)
    checked, violations = Counter(), []
    for resource in planned().rendered:
        if resource.role not in LINK_ROLES or resource.type in OUTSIDE_SCHEMA_SUBSET:
            continue
        violations += [str(v) for v in _schema(resource.type.split(":")[0]).check(resource)]
        checked[resource.role] += 1
    assert violations == []
    assert set(checked) == LINK_ROLES and sum(checked.values()) > 150, checked


def test_preshared_keys_are_only_references_to_secrets_generated_in_the_engine():
    resources = {r["name"]: r for r in plan_json()["resources"]}
    keys = [(r["name"], key, value) for r in resources.values() for _, key, value in _walk(r["inputs"])
            if key and KEY_INPUT.match(key)]
    # AWS: two keys per connection (12), Azure one per connection (18), GCP one per tunnel (12 to AWS, 6 to
    # Azure: two a link)
    assert len(keys) == 12 * 2 + 18 + 18
    for name, key, value in keys:
        assert isinstance(value, dict) and set(value) == {"$ref", "output"}, (name, key, value)
        secret = resources[value["$ref"]]
        assert secret["role"] == "secret" and value["output"] in secret["secret_outputs"], (name, key)
    # and no generated secret's value is anywhere in the plan: no input holds a literal where a key goes
    text = json.dumps(plan_json())
    assert not re.search(r'"(sharedKey|sharedSecret|tunnel\d+PresharedKey)": "', text)


def test_nothing_routes_or_advertises_the_world_over_a_link():
    result = planned()
    graph = GraphOf(result.rendered)
    over_links = 0
    for res in result.rendered:
        if res.role == "route":
            facts = describe(res, graph)
            assert isinstance(facts, RouteFacts)
            if facts.via in ("link", "vpn-gateway"):
                over_links += 1
                assert not is_world(facts.destination), res.name
        elif res.role in LINK_ROLES - {"route", "secret"} or res.role == "router":
            found = [(path, value) for path, _, value in _walk(res.inputs) if isinstance(value, str) and is_world(value)]
            assert found == [], (res.name, found)
    assert over_links == 4  # the AWS peering's two route tables on each side
    for facts in link_facts(result.rendered).values():
        assert not any(is_world(p) for p in (*facts.advertises, *facts.static_routes))
        site_blocks = {b.cidr for b in result.network.blocks}
        assert set(facts.advertises) <= site_blocks | {
            str(n) for b in site_blocks for n in ipaddress.ip_network(b).subnets(1)}, facts


def _asn_inputs(res) -> list[int]:
    return [int(value) for _, key, value in _walk(res.inputs)
            if key in ("asn", "bgpAsn", "peerAsn", "amazonSideAsn") and not is_ref(value)]


def test_the_two_sides_of_every_vpn_have_their_own_asn_and_every_peer_record_names_the_other_sides():
    result = planned()
    vpns = [link for link in result.network.links if link.kind == "vpn"]
    site_asn = {}
    for link in vpns:
        assert link.a_side.asn != link.b_side.asn, link.id
        for site, side in zip(link.sites(), (link.a_side, link.b_side), strict=True):
            assert site_asn.setdefault(site.key, side.asn) == side.asn  # one ASN per site
    assert len(set(site_asn.values())) == len(site_asn)  # and no two sites share one
    seen = Counter()
    for res in result.rendered:
        asns = _asn_inputs(res)
        if not asns or res.region is None:
            continue
        own = site_asn[(res.source, res.cloud, res.region)]
        if res.role in ("vpn-gateway", "router"):
            assert set(asns) == {own}, res.name
        elif res.role in ("peer-gateway", "bgp-peer"):
            assert own not in asns and set(asns) <= set(site_asn.values()), res.name
        seen[res.role] += 1
    assert seen["vpn-gateway"] + seen["router"] >= 4 and seen["peer-gateway"] >= 12 and seen["bgp-peer"] >= 18, seen


def test_every_tunnel_has_its_own_inside_30_on_each_gateway_and_the_rendering_uses_exactly_those():
    result = planned()
    tunnels = [t for link in result.network.links for t in link.tunnels]
    cidrs = [ipaddress.ip_network(t.inside_cidr) for t in tunnels]
    assert len(cidrs) == sum(2 if {link.a.cloud, link.b.cloud} == {"azure", "gcp"} else 4
                             for link in result.network.links if link.kind == "vpn")
    assert all(c.prefixlen == 30 and c.subnet_of(ipaddress.ip_network("169.254.0.0/16")) for c in cidrs)
    # unique where each cloud asks: per site's gateway (AWS, Azure), per network (GCP's Cloud Routers)
    on_gateway = defaultdict(list)
    for link in result.network.links:
        for site in link.sites():
            inside = providers()[site.cloud].vpn_inside
            on_gateway[inside.gateway(site.key)] += [ipaddress.ip_network(t.inside_cidr) for t in link.tunnels]
            assert all(any(ipaddress.ip_network(t.inside_cidr).subnet_of(ipaddress.ip_network(r)) for r in inside.ranges)
                       for t in link.tunnels), (link.id, site.cloud)
    for there in on_gateway.values():
        assert not any(a.overlaps(b) for i, a in enumerate(there) for b in there[i + 1:])
    for t, cidr in zip(tunnels, cidrs, strict=True):
        assert {t.a_address, t.b_address} == {str(h) for h in cidr.hosts()}
    # the /30s and addresses the providers render are the plan's, each /30 once per cloud side
    rendered = Counter()
    for res in result.rendered:
        for _, key, value in _walk(res.inputs):
            if key and re.fullmatch(r"tunnel\d+InsideCidr|ipRange", key) and isinstance(value, str):
                rendered[(res.cloud, res.region, str(ipaddress.ip_network(value, strict=False)))] += 1
    assert rendered and max(rendered.values()) == 1
    assert {cidr for _, _, cidr in rendered} <= {str(c) for c in cidrs}
    # every inside address rendered (a BGP address, an interface's address/30) is one the plan gave a tunnel
    known = {a for t in tunnels for a in (t.a_address, t.b_address)} | {str(c.network_address) for c in cidrs}
    used = {value.split("/")[0] for res in result.rendered for _, _, value in _walk(res.inputs)
            if isinstance(value, str) and value.startswith("169.254.")}
    assert used and used <= known, used - known


def test_the_plan_is_byte_identical_across_two_runs():
    again = api.plan(STACK, api.Session())
    assert again.plan.to_json() == planned().plan.to_json()


def test_no_site_ends_more_vpn_links_than_its_gateway_takes_and_a_config_that_says_fewer_refuses(tmp_path):
    result = planned()
    shapes = {name: p.network_shape() for name, p in providers().items()}
    per_site = Counter(str(s) for link in result.network.links if link.kind == "vpn" for s in link.sites())
    assert per_site and all(n <= shapes[site.split("@")[1].split("/")[0]].vpn_gateway.links for site, n in per_site.items())
    # the network stage's own check, for placements made without network prices: one link fewer than the most
    site, most = max(per_site.items(), key=lambda kv: (kv[1], kv[0]))
    cloud = site.split("@")[1].split("/")[0]
    if most > 1:
        with pytest.raises(api.InfeasiblePlacement, match=f"{re.escape(site)} would end {most} VPN links, at most {most - 1}"):
            check_gateway_limits(result.network, {cloud: GatewayLimit(most - 1, "one fewer")})
    # AWS web replicas in two regions each talk to api on Azure and GCP: a gateway of one link cannot hold that
    (tmp_path / "cloudorch.toml").write_text("[vpn_links_per_site]\naws = 1\n")
    with pytest.raises(api.InfeasiblePlacement, match=r"net@aws/[a-z0-9-]+ would end \d VPN links, at most 1") as refused:
        api.plan(STACK, api.Session(api.Options(config_path=str(tmp_path / "cloudorch.toml"))))
    assert refused.value.exit_code == 5 and "vpn_links_per_site = {aws = N}" in refused.value.hint
