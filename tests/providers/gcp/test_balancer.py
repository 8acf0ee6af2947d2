"""GCP serving (``cloudorch_gcp.balancer``, ``dns``): a balancer per location, what it is made of, the replicas
behind it, the Cloud DNS side over balancers on any cloud, facts and meters; and a plan of the webshop forced
onto gcp that proves every flow and every service path."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement, Slot
from cloudorch.rendering import RenderContext, RenderedResource
from cloudorch.rendering.assemble import render_stack
from cloudorch.rendering.elements import PEER, EndpointView
from cloudorch.rendering.facts import BALANCER_PEER, GraphOf
from cloudorch.rendering.roles import Role
from cloudorch.rendering.meters import DNS_QUERIES, Meter
from cloudorch.rendering.schema_check import PackageSchema
from cloudorch.rendering.service import Balancer, balancers, global_names
from cloudorch.spec.loader import parse_stack
from cloudorch_gcp import dns
from cloudorch_gcp.balancer import LB_RANGES, NLB_HEALTH_RANGES, WAF_RULE_SETS
from cloudorch_gcp.meters import ARMOR_RULES
from cloudorch_gcp.provider import Provider
from tests.providers.serving import https_balancer, names_over
from tests.support import ROOT, SCHEMAS, require_shared, webshop_placement

WEBSHOP = (ROOT / "stacks" / "webshop.yaml").read_text(encoding="utf-8")


def _on_gcp(text: str = WEBSHOP, **edits: str) -> str:
    """The webshop (or ``text``) forced onto gcp, its zone in Cloud DNS, with any further ``old=new`` edits."""
    text = text.replace("clouds: [aws, azure, gcp]", "clouds: [gcp]").replace("  provider: aws", "  provider: gcp")
    text = text.replace("min_clouds: 2 ", "min_regions: 2")  # one cloud: two regions of it
    for old, new in edits.values():
        assert old in text
        text = text.replace(old, new)
    return text


def _render(text: str, placement: PlacementResult | None = None) -> tuple[RenderedResource, ...]:
    loaded = parse_stack(text, "webshop.yaml")
    if placement is None:
        placement = webshop_placement("gcp")[1]
    return render_stack(loaded, placement, {"gcp": Provider()})


@cache
def served() -> tuple[RenderedResource, ...]:
    return _render(_on_gcp(waf=("requests_million_month: 30", "requests_million_month: 30\n      waf: true")))


@cache
def served_tcp() -> tuple[RenderedResource, ...]:
    text = _on_gcp(serve=("      protocol: https ", "      protocol: tcp "), path=("health: {path: /healthz}", "health: {}"),
                   name=("      name: www ", "      # "))
    return _render(text)


def _of(rendered, token: str) -> list[RenderedResource]:
    return [r for r in rendered if r.type.endswith(token)]


@cache
def gcp_schema() -> PackageSchema:
    return PackageSchema.load(require_shared(SCHEMAS / "gcp.json"))


# -- structure -------------------------------------------------------------------------------------------------
@pytest.mark.shared
@pytest.mark.parametrize("which", [served, served_tcp])
def test_everything_served_conforms_to_the_gcp_schema(which):
    checked = [r for r in which() if not r.is_provider and not r.type.startswith("random:")]
    assert [str(v) for r in checked for v in gcp_schema().check(r)] == []
    assert {r.type for r in checked} <= set(gcp_schema().resources)


@pytest.mark.parametrize("which", [served, served_tcp])
def test_rendering_is_deterministic_and_names_are_gcp_names(which):
    first = which()
    which.cache_clear()
    assert which() == first
    names = [r.name for r in first]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z]([-a-z0-9]{0,53}[a-z0-9])?", n) for n in names if not n.startswith("gcp-"))


def test_an_https_balancer_is_a_url_map_behind_two_listeners_sharing_one_address():
    rendered = served()
    by = {r.name: r for r in rendered}
    for region in ("europe-west1", "europe-west4"):
        (lb,) = [r for r in rendered if r.role == Role.BALANCER and r.region == region]
        service = by[lb.inputs["defaultService"]["$ref"]]
        assert service.inputs["loadBalancingScheme"] == "EXTERNAL_MANAGED"
        assert service.inputs["logConfig"] == {"enable": True, "sampleRate": 1.0}
        assert [b["group"]["$ref"] for b in service.inputs["backends"]] == [f"web-gcp-{region}-mig"]
        armor = by[service.inputs["securityPolicy"]["$ref"]]
        expressions = [r["match"].get("expr", {}).get("expression", "") for r in armor.inputs["rules"]]
        assert any("sqli" in e for e in expressions) and armor.inputs["rules"][-1]["action"] == "allow"
        assert all(r["action"] == "deny(403)" for r in armor.inputs["rules"][:-1])
        listeners = [r for r in rendered if r.role == Role.BALANCER_LISTENER and r.region == region]
        assert sorted(r.inputs["portRange"] for r in listeners) == ["443", "80"]
        assert len({r.inputs["ipAddress"]["$ref"] for r in listeners}) == 1  # 80 answers where 443 does
        for rule in listeners:
            proxy = by[rule.inputs["target"]["$ref"]]
            url_map = by[proxy.inputs["urlMap"]["$ref"]]
            if rule.inputs["portRange"] == "443":
                assert url_map is lb
                assert by[proxy.inputs["sslPolicy"]["$ref"]].inputs["minTlsVersion"] == "TLS_1_2"
                cert = by[proxy.inputs["sslCertificates"][0]["$ref"]]
                assert cert.inputs["managed"] == {"domains": ["www.shop.example.com"]}
            else:  # plain HTTP only redirects, and forwards nothing
                assert url_map.inputs["defaultUrlRedirect"]["httpsRedirect"] is True
                assert "defaultService" not in url_map.inputs


def test_no_public_address_on_served_replicas_and_only_googles_balancers_reach_them():
    rendered = served()
    templates = [r for r in rendered if r.type.endswith("InstanceTemplate") and r.source == "web"]
    assert templates and all("accessConfigs" not in t.inputs["networkInterfaces"][0] for t in templates)
    (rule,) = [r for r in _of(rendered, "Firewall") if r.source == "web"]
    assert rule.inputs["sourceRanges"] == list(LB_RANGES)
    assert rule.inputs["allows"] == [{"protocol": "tcp", "ports": ["8080"]}]
    groups = [r for r in rendered if r.role == Role.INSTANCE_GROUP and r.source == "web"]
    assert all(g.inputs["namedPorts"] == [{"name": "serve", "port": 8080}] for g in groups)
    assert all(g.inputs["autoHealingPolicies"]["healthCheck"]["$ref"].endswith("-lb-hc") for g in groups)


def test_a_tcp_service_is_a_passthrough_balancer_its_replicas_see_clients_through():
    rendered = served_tcp()
    (lb,) = [r for r in rendered if r.role == Role.BALANCER and r.region == "europe-west1"]
    assert lb.type == "gcp:compute/forwardingRule:ForwardingRule" and lb.inputs["ports"] == ["8080"]
    assert lb.inputs["loadBalancingScheme"] == "EXTERNAL"
    rules = {r.name: r.inputs for r in _of(rendered, "Firewall") if r.source == "web"}
    assert rules["web-gcp-lb-health"]["sourceRanges"] == list(NLB_HEALTH_RANGES)
    assert rules["web-gcp-lb-clients"]["sourceRanges"] == ["0.0.0.0/0"]
    assert rules["web-gcp-lb-clients"]["allows"] == [{"protocol": "tcp", "ports": ["8080"]}]
    assert not any(r.role == Role.DNS_ZONE for r in rendered)  # no name asked for


def test_a_tcp_port_the_replicas_do_not_listen_on_is_refused_at_its_line():
    from cloudorch.errors import SpecError

    text = _on_gcp(serve=("      protocol: https ", "      protocol: tcp\n      port: 9000 "),
                   path=("health: {path: /healthz}", "health: {}"), name=("      name: www ", "      # "))
    with pytest.raises(SpecError) as raised:
        _render(text)
    (problem,) = raised.value.problems
    assert problem.path == "resources.web.serve.port" and "passthrough" in problem.message


REGIONS = ("us-central1", "us-east1", "europe-west1", "europe-west4", "asia-southeast1")


@settings(max_examples=12, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(REGIONS), st.sampled_from(("e2-standard-4", "n2-standard-4")),
                          st.integers(1, 3)), min_size=1, max_size=5))
def test_every_location_with_replicas_gets_exactly_one_balancer(slots):
    stack, base = webshop_placement("gcp")
    regions = sorted({region for region, _, _ in slots})
    placement = PlacementResult(objective="cost", placements={**base.placements, "web": ResourcePlacement(
        resource="web", kind="compute", slots=tuple(
            Slot(cloud="gcp", region=region, instance_type=itype, count=n, vcpus=4, memory_gib=16, hourly_usd=0.2,
                 monthly_usd=146) for region, itype, n in slots))},
        networks=tuple(NetworkBlock(network="net", cloud="gcp", region=r, cidr=f"10.40.{16 * i}.0/20")
                       for i, r in enumerate(sorted(set(regions) | {"europe-west1", "europe-west4"}))))
    rendered = _render(_on_gcp(), placement)
    assert sorted(r.region for r in rendered if r.role == Role.BALANCER) == regions
    for region in regions:
        backend = next(r for r in rendered if r.role == Role.BALANCER_BACKEND and r.region == region)
        groups = [g for g in rendered if g.role == Role.INSTANCE_GROUP and g.source == "web" and g.region == region]
        assert sorted(b["group"]["$ref"] for b in backend.inputs["backends"]) == sorted(g.name for g in groups)


# -- the global name --------------------------------------------------------------------------------------------
def test_the_zone_steers_over_every_balancer_with_one_health_check_probing_each():
    rendered = served()
    (zone,) = [r for r in rendered if r.role == Role.DNS_ZONE]
    assert zone.inputs["dnsName"] == "shop.example.com." and zone.region is None
    (record,) = [r for r in rendered if r.role == Role.DNS_RECORD]
    assert record.inputs["name"] == "www.shop.example.com." and record.inputs["type"] == "A"
    geos = record.inputs["routingPolicy"]["geos"]
    assert [g["location"] for g in geos] == ["europe-west1", "europe-west4"]
    addresses = [g["healthCheckedTargets"]["externalEndpoints"][0]["$ref"] for g in geos]
    assert addresses == ["web-gcp-europe-west1-lb-ip", "web-gcp-europe-west4-lb-ip"]
    check = next(r for r in rendered if r.name == record.inputs["routingPolicy"]["healthCheck"]["$ref"])
    assert check.inputs["httpsHealthCheck"] == {"port": 443, "requestPath": "/healthz", "host": "www.shop.example.com"}
    assert len(check.inputs["sourceRegions"]) == 3 and check.inputs["checkIntervalSec"] >= 30


_balancer = https_balancer


def _names_over(steering: str, *bs: Balancer, order: tuple[str, ...] = ()):
    names = names_over("gcp", steering, *bs, order=order)
    stack, placement = webshop_placement("gcp")
    ctx = RenderContext(stack=stack, placement=placement, cloud="gcp", elements=(names,), balancers=bs)
    return ctx, names


@pytest.mark.parametrize("steering", ["latency", "weighted", "failover"])
def test_the_records_point_at_balancers_on_other_clouds(steering):
    here, there = _balancer("gcp", "europe-west4", replicas=3), _balancer("azure", "eastus", validations=1)
    ctx, names = _names_over(steering, here, there, order=("eastus",) if steering == "failover" else ())
    assert dns.check_names(ctx) == []
    out = dns.render_global_name(ctx, EndpointView(names, 0)).resources
    (record,) = [r for r in out if r.role == Role.DNS_RECORD and r.inputs["type"] == "A"]
    policy = record.inputs["routingPolicy"]

    def endpoint(targets: dict) -> list[int]:
        return [t["endpoint"] for t in targets["externalEndpoints"] if PEER in t]

    if steering == "latency":  # azure's eastus is placed at the GCP region of its geography
        assert {g["location"]: endpoint(g["healthCheckedTargets"]) for g in policy["geos"]} == \
            {"europe-west4": [1], "us-east4": [2]}
    elif steering == "weighted":
        assert [(w["weight"], endpoint(w["healthCheckedTargets"])) for w in policy["wrrs"]] == [(3, [1]), (2, [2])]
    else:  # the order names azure's region first: it is the primary
        assert endpoint(policy["primaryBackup"]["primary"]) == [2]
        assert [endpoint(g["healthCheckedTargets"]) for g in policy["primaryBackup"]["backupGeos"]] == [[1]]
    (validation,) = [r for r in out if r.role == Role.DNS_RECORD and r.inputs["type"] == "CNAME"]
    assert validation.inputs["name"][PEER] == "global-names" and validation.inputs["name"]["endpoint"] == 2


def test_a_zone_over_balancers_reached_by_host_name_is_refused_at_dns_provider():
    ctx, _ = _names_over("latency", _balancer("gcp", "europe-west4"), _balancer("aws", "eu-west-1", kind="hostname"))
    (problem,) = dns.check_names(ctx)
    assert problem.path == "dns.provider" and "aws" in problem.message


# -- facts, prices, and the proof ---------------------------------------------------------------------------------
def test_facts_judge_the_balancer_its_listeners_and_backend():
    rendered = served()
    graph, provider = GraphOf(rendered), Provider()
    facts = {r.name: provider.describe(r, graph) for r in rendered
             if r.role in (Role.BALANCER, Role.BALANCER_LISTENER, Role.BALANCER_BACKEND, Role.FIREWALL_RULE)}
    lb = facts["web-gcp-europe-west4-lb"]
    assert (lb.public, lb.layer, lb.access_logs, lb.waf, lb.deletion_protected) == (True, "application", True, True, True)
    assert (facts["web-gcp-europe-west4-lb-https-443"].protocol, facts["web-gcp-europe-west4-lb-https-443"].min_tls) == ("https", "1.2")
    assert facts["web-gcp-europe-west4-lb-http-80"].redirects_to_https is True
    assert facts["web-gcp-europe-west4-lb-backend"].health_check is True
    assert all(BALANCER_PEER in rule.peers for rule in facts["web-gcp-lb-health"].rules)


def test_what_serving_costs_on_gcp_is_priced_cloud_armor_included():
    from cloudorch.catalog.network import network_prices

    rendered, provider, prices = served(), Provider(), network_prices()
    for res in (r for r in rendered if r.source in ("web", "dns") and r.role != Role.INSTANCE_TEMPLATE):
        meters = provider.meters(res)
        assert meters is not None, res.name
        if isinstance(meters, tuple):
            assert all(prices.price("gcp", m.item, m.scope) is not None for m in meters if isinstance(m, Meter)), res.name
    listener = next(r for r in rendered if r.name == "web-gcp-europe-west4-lb-https-443")
    items = {m.item: m.quantity for m in provider.meters(listener)}
    assert items["forwarding_rules_base_hour"] == 0.2 and items["lb_processed_gb"] == pytest.approx(300 * 10**9 / 2**30)
    zone = next(r for r in rendered if r.role == Role.DNS_ZONE)
    assert [m.item for m in provider.meters(zone) if isinstance(m, Meter)] == ["dns_zone_month"]
    assert DNS_QUERIES in provider.meters(zone)  # queries: a volume nobody declares


def test_a_cloud_armor_policy_bills_itself_its_rules_and_the_declared_requests():
    """Regression: Cloud Armor was unpriced (None). Standard tier: $5 a policy, $1 a rule, $0.75 per million
    requests; each location's policy carries its balancer's share of the stack's requests_million_month (30
    here, over two locations) for its meter."""
    from cloudorch.catalog.network import network_prices

    rendered, provider, prices = served(), Provider(), network_prices()
    policies = [r for r in rendered if r.type == "gcp:compute/securityPolicy:SecurityPolicy"]
    assert len(policies) == 2
    total = 0.0
    for policy in policies:
        meters = provider.meters(policy)
        rules = len(policy.inputs["rules"])
        assert rules == len(WAF_RULE_SETS) + 1 == ARMOR_RULES  # the placement's shape counts the same rules
        assert {m.item: m.quantity for m in meters} == {"waf_web_acl_month": 1, "waf_rule_month": rules,
                                                        "waf_requests": 15}
        total += sum(prices.monthly("gcp", m.item, m.quantity, m.scope) for m in meters)
    assert total == pytest.approx(2 * (5.0 + 11 * 1.0) + 30 * 0.75)


@pytest.fixture(scope="module")
def gcp_plan(tmp_path_factory):
    from cloudorch import api

    path = Path(tmp_path_factory.mktemp("stacks")) / "webshop.yaml"
    path.write_text(_on_gcp(packs=("packs: [baseline]", "packs: [baseline, pci-dss]")), encoding="utf-8")
    return api.plan(path)


def test_a_plan_of_the_webshop_on_gcp_proves_every_flow_and_every_service_path(gcp_plan):
    proof = gcp_plan.proof
    assert proof.flows and all(f.status == "proved" for f in proof.flows)
    assert {(s.region, s.status) for s in proof.services} == {(r, "proved") for r in
                                                               {s.region for s in proof.services}}
    assert len(proof.services) == len({r.region for r in gcp_plan.rendered if r.role == Role.BALANCER}) >= 2
    assert proof.undeclared == ()  # no other internet path: nothing admits the internet the stack did not ask for
    failing = {f.policy for f in gcp_plan.report.failures}
    # pci-dss: no replica with a public address, and the balancers pass every balancer policy
    assert not failing & {"compute.public-ip", "encryption.lb-https", "logging.lb-access-logs", "network.lb-waf",
                          "network.lb-deletion-protection", "network.lb-health-check"}


def test_the_proof_breaks_when_no_listener_takes_a_served_port(gcp_plan):
    """Regression for reach.py: a balancer without a firewall of its own is reached on its listeners' ports
    only -- without the https listener the path is broken, not proved (nor merely unverified)."""
    from cloudorch.rendering.reach import prove

    first, second = sorted(s.region for s in gcp_plan.proof.services)
    kept = [r for r in gcp_plan.rendered if not r.name.endswith(f"{first}-lb-https-443")]
    provider = Provider()
    proof = prove(gcp_plan.loaded.stack, gcp_plan.network, kept, provider.describe, frozenset({"gcp"}),
                  lambda cloud, kind, block: provider.address_range(kind, block))
    by_region = {s.region: s for s in proof.services}
    assert by_region[first].status == "broken" and "443" in by_region[first].reason
    assert by_region[second].status == "proved"


def test_balancers_carry_gcp_shapes_from_the_provider():
    stack, placement = webshop_placement("gcp", served=True)
    made = balancers(stack, placement, {"gcp": (Provider.balancer_target, Provider.balancer_validations)})
    assert {(b.target_kind, b.validation_records) for b in made} == {("ipv4", 0)}
    assert global_names(stack, made) is not None


def test_declared_dns_queries_are_priced_at_the_routing_policy_rate():
    """A stack that declares its DNS queries has them priced: every record cloudorch writes on Cloud DNS
    answers through a routing policy ($0.70 per million, first billion); the label keeps the figure."""
    from cloudorch.catalog.network import network_prices

    rendered = _render(_on_gcp(queries=("  steering: latency", "  queries_million_month: 2.5\n  steering: latency")))
    zone = next(r for r in rendered if r.role == Role.DNS_ZONE)
    assert zone.inputs["labels"]["cloudorch-queries-million-month"] == "2_5"
    meters = Provider().meters(zone)
    assert [(m.item, m.quantity, m.scope) for m in meters] == [("dns_zone_month", 1.0, None),
                                                                ("dns_queries_million", 2.5, "routing")]
    assert network_prices().monthly("gcp", "dns_queries_million", 2.5, "routing") == pytest.approx(2.5 * 0.7)
