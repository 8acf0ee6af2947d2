"""The serving contract (``rendering.service``): one balancer per location with replicas, the global-name
element over them, the stack syntax's located errors, and the exports a provider owes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudorch.errors import SpecError
from cloudorch.placement.model import PlacementResult, ResourcePlacement, Slot
from cloudorch.rendering.elements import ElementProblem, EndpointRendering
from cloudorch.rendering.model import ref
from cloudorch.rendering.service import BALANCER_EXPORTS, balancers, check_balancer_exports, global_names, serve_only
from cloudorch.spec.loader import parse_stack
from cloudorch.spec.models import Stack

LOCATIONS = [("aws", "eu-west-1"), ("aws", "eu-central-1"), ("azure", "westeurope"), ("gcp", "europe-west4")]


def _stack(serve: dict, dns: dict | None = None, packs: tuple[str, ...] = ("baseline",), **web) -> Stack:
    data = {"stack": "s", "policies": {"packs": list(packs)}, "resources": {
        "net": {"kind": "network", "cidr": "10.0.0.0/16"},
        "web": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4, "count": 8, "serve": serve, **web},
        "api": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4, "count": 8}}}
    if dns:
        data["dns"] = dns
    return Stack.model_validate(data)


def _placement(counts: dict[str, dict[tuple[str, str], int]]) -> PlacementResult:
    return PlacementResult(objective="cost", placements={
        name: ResourcePlacement(resource=name, kind="compute", slots=tuple(
            Slot(cloud=c, region=r, instance_type=f"t{i}", count=n, vcpus=2, memory_gib=4, hourly_usd=0.1, monthly_usd=73)
            for i, ((c, r), n) in enumerate(where)))
        for name, where in ((name, sorted(v.items())) for name, v in counts.items())})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LOCATIONS), st.integers(1, 4)), min_size=1, max_size=8))
def test_every_location_with_replicas_gets_exactly_one_balancer(slots):
    """Several slots (instance types) in one location still make one balancer, holding all their replicas."""
    stack = _stack({"protocol": "https", "name": "www"}, {"zone": "shop.example.com", "provider": "aws"})
    placement = PlacementResult(objective="cost", placements={"web": ResourcePlacement(resource="web", kind="compute", slots=tuple(
        Slot(cloud=c, region=r, instance_type=f"t{i}", count=n, vcpus=2, memory_gib=4, hourly_usd=0.1, monthly_usd=73)
        for i, ((c, r), n) in enumerate(slots)))})
    made = balancers(stack, placement)
    wanted: dict[tuple[str, str], int] = {}
    for loc, n in slots:
        wanted[loc] = wanted.get(loc, 0) + n
    assert sorted((b.cloud, b.region) for b in made) == sorted(wanted)
    assert {(b.cloud, b.region): b.replicas for b in made} == wanted
    names = global_names(stack, made)
    assert names is not None and names.balancers == made
    assert [(e.cloud, e.region) for e in names.endpoints[1:]] == [(b.cloud, b.region) for b in made]
    assert names.endpoints[0].cloud == "aws" and names.endpoints[0].region is None


def test_what_a_balancer_carries():
    stack = _stack({"protocol": "https", "name": "www", "backend_port": 8080, "gb_month": 300,
                    "health": {"path": "/healthz", "interval_s": 10}},
                   {"zone": "shop.example.com", "provider": "aws"}, packs=("baseline", "pci-dss"))
    made = balancers(stack, _placement({"web": {("aws", "eu-west-1"): 2, ("aws", "eu-central-1"): 1}}))
    first = made[0]
    assert first.region == "eu-central-1" and first.hostname == "www.shop.example.com" and first.min_tls == "1.2"
    assert [(x.port, x.protocol, x.action) for x in first.listeners] == [(80, "http", "redirect"), (443, "https", "forward")]
    assert (first.health.protocol, first.health.port, first.health.path, first.health.interval_s) == ("http", 8080, "/healthz", 10)
    assert first.waf and first.access_logs and first.deletion_protection  # pci-dss turns the WAF on by default
    assert round(sum(b.gb_month for b in made), 6) == 300 and made[1].gb_month == 200


def test_waf_default_follows_the_pci_pack_unless_asked():
    place = _placement({"web": {("aws", "eu-west-1"): 1}})
    assert not balancers(_stack({"protocol": "http"}), place)[0].waf
    assert balancers(_stack({"protocol": "http"}, packs=("pci-dss",)), place)[0].waf
    assert not balancers(_stack({"protocol": "http", "waf": False}, packs=("pci-dss",)), place)[0].waf
    assert not balancers(_stack({"protocol": "tcp", "port": 5000}, packs=("pci-dss",)), place)[0].waf


def test_unnamed_services_and_unserved_resources_make_no_global_name():
    stack = _stack({"protocol": "tcp", "port": 5000})
    made = balancers(stack, _placement({"web": {("aws", "eu-west-1"): 1}, "api": {("aws", "eu-west-1"): 1}}))
    assert [b.resource for b in made] == ["web"] and made[0].listeners[0].port == 5000
    assert global_names(stack, made) is None


def test_failover_order_puts_named_locations_first():
    stack = _stack({"protocol": "https", "name": "www"},
                   {"zone": "shop.example.com", "provider": "aws", "steering": "failover", "order": ["westeurope", "aws"]})
    made = balancers(stack, _placement({"web": dict.fromkeys(LOCATIONS, 1)}))
    names = global_names(stack, made)
    order = [(b.cloud, b.region) for b in names.failover_order("www.shop.example.com")]
    assert order == [("azure", "westeurope"), ("aws", "eu-central-1"), ("aws", "eu-west-1"), ("gcp", "europe-west4")]


def test_serve_only_unless_an_ingress_asks_for_a_public_address():
    assert serve_only(_stack({"protocol": "http"}).resources["web"])
    assert not serve_only(_stack({"protocol": "http"}, ingress=[{"port": 22, "from": "203.0.113.0/24"}]).resources["web"])
    assert not serve_only(_stack({"protocol": "http"}).resources["api"])


def test_a_balancer_rendering_must_export_the_contract():
    made = balancers(_stack({"protocol": "http"}), _placement({"web": {("aws", "eu-west-1"): 1}}))[0]
    from cloudorch.rendering.model import RenderedResource

    lb = RenderedResource(name="lb", type="x:y:Z", cloud="aws", region="eu-west-1")
    good = {"target": ref("lb", "dnsName"), "validation_names": [], "validation_values": []}
    assert set(good) == set(BALANCER_EXPORTS)
    check_balancer_exports(made, EndpointRendering(resources=(lb,), exports=good))
    with pytest.raises(ElementProblem, match="does not export 'target'"):
        check_balancer_exports(made, EndpointRendering(resources=(lb,), exports={k: v for k, v in good.items() if k != "target"}))
    with pytest.raises(ElementProblem, match="did not render"):
        check_balancer_exports(made, EndpointRendering(resources=(), exports=good))


@pytest.mark.parametrize(("text", "where", "words"), [
    ("serve: {protocol: tcp, port: 5000, health: {path: /x}}", "resources.web.serve", "leave health.path out"),
    ("serve: {protocol: http, name: www}", "resources.web.serve.name", "add `dns:"),
    ("serve: {protocol: https}", "resources.web.serve.protocol", "https needs a name"),
    ("serve: {protocol: tcp, waf: true}", "resources.web.serve", "WAF inspects HTTP"),
    ("serve: {protocol: http, health: {interval_s: 1}}", "resources.web.serve.health.interval_s", "greater than or equal to 5"),
    ("serve: {protocol: http, nmae: www}", "resources.web.serve.nmae", ""),
])
def test_located_errors(text, where, words):
    stack = ("stack: s\nresources:\n  net: {kind: network, cidr: 10.0.0.0/16}\n  web:\n    kind: compute\n"
             f"    network: net\n    cpu: 2\n    memory_gb: 4\n    {text}\n")
    with pytest.raises(SpecError) as err:
        parse_stack(stack, "s.yaml")
    problems = err.value.problems
    assert [(p.line, p.path) for p in problems] == [(9, where)], problems
    assert words in problems[0].message


def test_dns_errors_are_located():
    stack = ("stack: s\ndns: {zone: shop.example.com, provider: aws, order: [eu-west-1]}\nresources:\n"
             "  net: {kind: network, cidr: 10.0.0.0/16}\n")
    with pytest.raises(SpecError) as err:
        parse_stack(stack, "s.yaml")
    assert [(p.line, p.path) for p in err.value.problems] == [(2, "dns")]
    assert "steering: failover" in err.value.problems[0].message
