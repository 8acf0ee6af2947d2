"""AWS serving (``cloudorch_aws.balancer``, ``dns``): a balancer per location, what it is made of, the replicas
behind it, and the Route 53 side over balancers on any cloud."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudorch.placement.model import NetworkBlock, PlacementResult, ResourcePlacement, Slot
from cloudorch.rendering import RenderContext, RenderedResource
from cloudorch.rendering.assemble import render_stack
from cloudorch.rendering.elements import PEER, EndpointView
from cloudorch.rendering.roles import Role
from cloudorch.rendering.schema_check import PackageSchema
from cloudorch.rendering.service import Balancer
from cloudorch.spec.loader import parse_stack
from cloudorch_aws import dns
from cloudorch_aws.balancer import MANAGED_RULE_GROUPS, TLS_POLICY
from cloudorch_aws.provider import Provider
from tests.providers.serving import https_balancer, names_over
from tests.support import OUTSIDE_SCHEMA_SUBSET, ROOT, SCHEMAS, require_shared, webshop_placement

WEBSHOP = (ROOT / "stacks" / "webshop.yaml").read_text(encoding="utf-8")
LB = "aws:lb/loadBalancer:LoadBalancer"


def _on_aws(**edits: tuple[str, str]) -> str:
    text = WEBSHOP.replace("clouds: [aws, azure, gcp]", "clouds: [aws]")
    for old, new in edits.values():
        assert old in text
        text = text.replace(old, new)
    return text


def _render(text: str, placement: PlacementResult | None = None) -> tuple[RenderedResource, ...]:
    if placement is None:
        placement = webshop_placement("aws", served=True)[1]
    return render_stack(parse_stack(text, "webshop.yaml"), placement, {"aws": Provider()})


@cache
def served() -> tuple[RenderedResource, ...]:
    return _render(_on_aws(waf=("requests_million_month: 30", "requests_million_month: 30\n      waf: true")))


@cache
def served_tcp() -> tuple[RenderedResource, ...]:
    return _render(_on_aws(protocol=("      protocol: https ", "      protocol: tcp "),
                           health=("health: {path: /healthz}", "health: {}"), name=("      name: www ", "      # ")))


def _of(rendered, type_: str, region: str | None = None) -> list[RenderedResource]:
    return [r for r in rendered if r.type == type_ and (region is None or r.region == region)]


@cache
def aws_schema() -> PackageSchema:
    return PackageSchema.load(require_shared(SCHEMAS / "aws.json"))


# -- structure -------------------------------------------------------------------------------------------------
@pytest.mark.shared
@pytest.mark.parametrize("which", [served, served_tcp])
def test_everything_served_conforms_to_the_aws_schema(which):
    checked = [r for r in which() if not r.is_provider and r.type.startswith("aws:")
               and r.type not in OUTSIDE_SCHEMA_SUBSET]
    assert [str(v) for r in checked for v in aws_schema().check(r)] == []
    assert len(checked) > 40


@pytest.mark.parametrize("which", [served, served_tcp])
def test_rendering_is_deterministic(which):
    first = which()
    which.cache_clear()
    assert which() == first
    assert len({r.name for r in first}) == len(first)


def test_an_https_alb_ends_tls_1_2_redirects_http_and_logs_and_filters_every_request():
    rendered = served()
    by = {r.name: r for r in rendered}
    for region in ("eu-west-1", "eu-central-1"):
        (lb,) = _of(rendered, LB, region)
        assert (lb.inputs["loadBalancerType"], lb.inputs["internal"]) == ("application", False)
        assert lb.inputs["enableDeletionProtection"] is True and lb.inputs["dropInvalidHeaderFields"] is True
        assert lb.inputs["accessLogs"]["enabled"] is True
        assert by[lb.inputs["accessLogs"]["bucket"]["$ref"]].role == Role.BUCKET
        listeners = {r.inputs["port"]: r.inputs for r in _of(rendered, "aws:lb/listener:Listener", region)}
        assert set(listeners) == {80, 443}
        assert listeners[443]["protocol"] == "HTTPS" and listeners[443]["sslPolicy"] == TLS_POLICY
        assert by[listeners[443]["certificateArn"]["$ref"]].type == "aws:acm/certificateValidation:CertificateValidation"
        assert listeners[80]["defaultActions"] == [{"type": "redirect", "redirect": {
            "protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
        (cert,) = _of(rendered, "aws:acm/certificate:Certificate", region)
        assert (cert.inputs["domainName"], cert.inputs["validationMethod"]) == ("www.shop.example.com", "DNS")
        (group,) = _of(rendered, "aws:lb/targetGroup:TargetGroup", region)
        assert group.inputs["port"] == 8080 and group.inputs["healthCheck"]["path"] == "/healthz"
        asgs = [r for r in rendered if r.role == Role.INSTANCE_GROUP and r.source == "web" and r.region == region]
        assert asgs and all(a.inputs["targetGroupArns"] == [{"$ref": group.name, "output": "arn"}] for a in asgs)
        (acl,) = _of(rendered, "aws:wafv2/webAcl:WebAcl", region)
        assert [r["name"] for r in acl.inputs["rules"]] == list(MANAGED_RULE_GROUPS)
        (attached,) = _of(rendered, "aws:wafv2/webAclAssociation:WebAclAssociation", region)
        assert attached.inputs["resourceArn"]["$ref"] == lb.name and attached.inputs["webAclArn"]["$ref"] == acl.name


def test_served_replicas_have_no_public_address_and_admit_their_balancer_alone():
    rendered = served()
    templates = [r for r in rendered if r.role == Role.INSTANCE_TEMPLATE and r.source == "web"]
    assert templates and all(nic["associatePublicIpAddress"] == "false"
                             for t in templates for nic in t.inputs["networkInterfaces"])
    ingress = [r.inputs for r in rendered if r.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
               and r.inputs["securityGroupId"]["$ref"] == f"web-aws-{r.region}-sg"]
    # the backend port from the balancer's group; nothing from an address outside the network's own block
    from_lb = [r for r in ingress if r.get("referencedSecurityGroupId")]
    assert sorted((r["fromPort"], r["referencedSecurityGroupId"]["$ref"]) for r in from_lb) == [
        (8080, "web-aws-eu-central-1-lb-sg"), (8080, "web-aws-eu-west-1-lb-sg")]
    assert all(r["cidrIpv4"].startswith("10.40.") for r in ingress if "cidrIpv4" in r)
    assert not [r for r in ingress if "cidrIpv6" in r]


def test_tcp_is_a_network_balancer_without_certificate_or_waf():
    rendered = served_tcp()
    lbs = _of(rendered, LB)
    assert {lb.inputs["loadBalancerType"] for lb in lbs} == {"network"} and len(lbs) == 2
    assert {r.inputs["protocol"] for r in _of(rendered, "aws:lb/listener:Listener")} == {"TCP"}
    assert not _of(rendered, "aws:acm/certificate:Certificate") and not _of(rendered, "aws:wafv2/webAcl:WebAcl")
    assert {r.inputs["healthCheck"]["protocol"] for r in _of(rendered, "aws:lb/targetGroup:TargetGroup")} == {"TCP"}


def test_a_network_balancer_bills_its_hours_and_nlcus():
    """Regression: the NLB's hourly charge was missing from the price list, so a tcp balancer was unpriced.
    $0.0225 an hour all month, and an NLCU-hour ($0.006) per GB an hour of its share of the declared traffic."""
    from cloudorch.catalog.network import HOURS_PER_MONTH, network_prices

    prices = network_prices()
    for lb in _of(served_tcp(), LB):
        meters = Provider().meters(lb)
        assert [m.item for m in meters] == ["net_load_balancer_hour", "net_load_balancer_lcu_hour"]
        gb_month = float(lb.inputs["tags"]["cloudorch-gb-month"])
        assert gb_month > 0
        monthly = sum(prices.monthly("aws", m.item, m.quantity, m.scope) for m in meters)
        assert monthly == pytest.approx(HOURS_PER_MONTH * 0.0225 + gb_month * 0.006)


REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1")


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(REGIONS), st.sampled_from(("m6i.xlarge", "m7i.xlarge")),
                          st.integers(1, 3)), min_size=1, max_size=5))
def test_every_location_with_replicas_gets_exactly_one_balancer(slots):
    stack, base = webshop_placement("aws", served=True)
    regions = sorted({region for region, _, _ in slots})
    placement = PlacementResult(objective="cost", placements={**base.placements, "web": ResourcePlacement(
        resource="web", kind="compute", slots=tuple(
            Slot(cloud="aws", region=region, instance_type=itype, count=n, vcpus=4, memory_gib=16, hourly_usd=0.2,
                 monthly_usd=146) for region, itype, n in slots))},
        networks=tuple(NetworkBlock(network="net", cloud="aws", region=r, cidr=f"10.40.{16 * i}.0/20")
                       for i, r in enumerate(sorted(set(regions) | {"eu-west-1", "eu-central-1"}))))
    rendered = _render(_on_aws(geo=("  geo: [eu]", "  # geo")), placement)
    assert sorted(r.region for r in rendered if r.role == Role.BALANCER) == regions
    records = [r for r in rendered if r.role == Role.DNS_RECORD and r.inputs["name"] == "www.shop.example.com"]
    assert len(records) == len(regions)


# -- the global name -------------------------------------------------------------------------------------------
def _names_over(steering: str, *bs: Balancer, order: tuple[str, ...] = ()):
    names = names_over("aws", steering, *bs, order=order)
    stack, placement = webshop_placement("aws", served=True)
    ctx = RenderContext(stack=stack, placement=placement, cloud="aws", elements=(names,), balancers=bs)
    return dns.render_global_name(ctx, EndpointView(names, 0)).resources


CROSS = (https_balancer("aws", "eu-west-1", kind="hostname", validations=1),
         https_balancer("gcp", "europe-west4", replicas=4), https_balancer("azure", "westeurope", replicas=3))


@pytest.mark.parametrize("steering", ["latency", "weighted", "failover"])
def test_route53_steers_over_balancers_on_every_cloud(steering):
    out = _names_over(steering, *CROSS, order=("westeurope", "eu-west-1") if steering == "failover" else ())
    assert all(r.region is None and r.provider == dns.GLOBAL_PROVIDER for r in out if not r.is_provider)
    (provider,) = [r for r in out if r.is_provider]
    assert provider.name == dns.GLOBAL_PROVIDER and provider.inputs["region"] == dns.HOME
    checks = [r for r in out if r.type == "aws:route53/healthCheck:HealthCheck"]
    assert len(checks) == 3 and all(c.inputs["resourcePath"] == "/healthz" for c in checks)
    assert sorted("fqdn" in c.inputs for c in checks) == [False, False, True]  # the ALB by name, the others by address
    records = [r.inputs for r in out if r.role == Role.DNS_RECORD]
    # addresses and names mix: each address gets a name of its own, the steered records are CNAMEs
    addresses = [r for r in records if r["type"] == "A"]
    assert sorted(r["name"] for r in addresses) == ["lb-web-azure-westeurope.www.shop.example.com",
                                                    "lb-web-gcp-europe-west4.www.shop.example.com"]
    steered = [r for r in records if r.get("setIdentifier")]
    assert {r["type"] for r in steered} == {"CNAME"}
    if steering == "latency":
        assert sorted(r["latencyRoutingPolicies"][0]["region"] for r in steered) == ["eu-central-1", "eu-central-1",
                                                                                       "eu-west-1"]
    elif steering == "weighted":
        assert sorted(r["weightedRoutingPolicies"][0]["weight"] for r in steered) == [2, 3, 4]
    else:  # a chain: azure first, then AWS, then the rest
        primary = next(r for r in steered if r["name"] == "www.shop.example.com"
                       and r["failoverRoutingPolicies"] == [{"type": "PRIMARY"}])
        assert primary["records"] == ["lb-web-azure-westeurope.www.shop.example.com"]
        assert len(steered) == 4 and all(r.get("healthCheckId") or r.get("aliases") for r in steered)
    (validation,) = [r for r in records if r["type"] == "CNAME" and not r.get("setIdentifier")]
    assert validation["name"][PEER] == "global-names" and validation["name"]["endpoint"] == 1
