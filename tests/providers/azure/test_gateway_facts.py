"""An Application Gateway's (and a Standard Load Balancer's) inline listeners, backends and certificates read
into parts."""

from __future__ import annotations

import dataclasses
import json

import pytest

from cloudorch import api
from cloudorch.policy import PolicySubject, evaluate
from cloudorch.rendering.facts import BackendFacts, GraphOf, ListenerFacts
from cloudorch.rendering.inputs import UNKNOWN
from cloudorch.rendering.model import ref
from cloudorch.rendering.roles import Role
from cloudorch_azure import gateway_facts
from cloudorch_azure.balancer import APP_GATEWAY, LOAD_BALANCER
from cloudorch_azure.provider import Provider
from cloudorch_policies import baseline
from tests.providers.azure.test_balancer import _balancer, _webshop_on_azure
from tests.support import webshop_context


def _render(protocol: str = "https"):
    b = _balancer("azure", "westeurope").model_copy(update={"protocol": protocol})
    if protocol == "tcp":
        b = b.model_copy(update={"listeners": tuple(x.model_copy(update={"protocol": "tcp", "action": "forward"})
                                                    for x in b.listeners[1:])})
    ctx = dataclasses.replace(webshop_context("azure"), balancers=(b,))
    resources = Provider().render_balancer(ctx, b).resources
    return next(r for r in resources if r.type in (APP_GATEWAY, LOAD_BALANCER))


@pytest.fixture(scope="module")
def gateway():
    return _render()


def _with(gateway, **changes):
    """The gateway with some inputs replaced (a deep copy: the fixture is shared)."""
    inputs = json.loads(json.dumps(gateway.inputs)) | changes
    return gateway.model_copy(update={"inputs": inputs})


def _parts(res, role=None):
    facts = Provider().describe(res, GraphOf([res]))
    return {p.path: p.facts for p in facts.parts if role is None or p.role == role}


def _child(collection, name):
    return {"id": ref("rg", "id", suffix=f"/providers/Microsoft.Network/applicationGateways/gw/{collection}/{name}")}


def test_the_rendered_gateway_has_a_redirecting_listener_a_tls12_listener_a_probed_backend_and_a_certificate(gateway):
    parts = _parts(gateway)
    # the operator's Key Vault certificate: Azure neither issues nor validates it
    certificate = parts.pop("sslCertificates[0]")
    assert certificate.validation == "operator" and "Key Vault" in certificate.notes["validation"]
    assert parts == {
        "httpListeners[0]": ListenerFacts(port=80, protocol="http", redirects_to_https=True, min_tls=None),
        "httpListeners[1]": ListenerFacts(port=443, protocol="https", redirects_to_https=None, min_tls="1.2"),
        "backendHttpSettingsCollection[0]": BackendFacts(health_check=True),
    }


@pytest.mark.parametrize("policy, tls", [
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"}, "1.0"),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20170401"}, "1.1"),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20170401S"}, "1.2"),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20220101S"}, "1.2"),
    ({"policyName": "AppGwSslPolicy20150501"}, "1.0"),  # a name alone is a predefined policy
    ({"policyType": "CustomV2", "minProtocolVersion": "TLSv1_3"}, "1.3"),
    ({"policyType": "Custom", "minProtocolVersion": "TLSv1_1"}, "1.1"),
    ({"policyType": "Custom", "disabledSslProtocols": ["TLSv1_0"]}, "1.1"),  # accepts what it does not disable
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy2099"}, UNKNOWN),
    ({"policyType": "Predefined", "policyName": ref("config", "policy")}, UNKNOWN),
    (None, "1.2"),  # API 2024-05-01's default, AppGwSslPolicy20220101
])
def test_the_lowest_tls_version_follows_the_gateways_policy(gateway, policy, tls):
    inputs = {k: v for k, v in gateway.inputs.items() if k != "sslPolicy"} | ({"sslPolicy": policy} if policy else {})
    listener = _parts(gateway.model_copy(update={"inputs": inputs}))["httpListeners[1]"]
    assert listener.min_tls is tls if tls is UNKNOWN else listener.min_tls == tls
    assert ("min_tls" in listener.notes) == (tls not in (UNKNOWN, "1.2", "1.3"))


def test_an_ssl_profile_overrides_the_gateways_policy(gateway):
    listeners = json.loads(json.dumps(gateway.inputs["httpListeners"]))
    listeners[1]["sslProfile"] = _child("sslProfiles", "legacy")
    changed = _with(gateway, httpListeners=listeners, sslProfiles=[
        {"name": "legacy", "sslPolicy": {"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"}}])
    listener = _parts(changed)["httpListeners[1]"]
    assert listener.min_tls == "1.0" and "legacy" in listener.notes["min_tls"]


def test_a_plain_http_listener_routed_to_the_backend_does_not_redirect(gateway):
    rules = json.loads(json.dumps(gateway.inputs["requestRoutingRules"]))
    rules[0] = {k: v for k, v in rules[0].items() if k != "redirectConfiguration"} | {
        "backendAddressPool": rules[1]["backendAddressPool"], "backendHttpSettings": rules[1]["backendHttpSettings"]}
    listener = _parts(_with(gateway, requestRoutingRules=rules))["httpListeners[0]"]
    assert listener.redirects_to_https is False and "rule-80" in listener.notes["redirects_to_https"]


@pytest.mark.parametrize("target, redirects", [
    ({"targetUrl": "https://www.example.com"}, True),
    ({"targetUrl": "http://www.example.com"}, False),
    ({"targetListener": _child("httpListeners", "listener-80")}, False),  # to itself: still plain HTTP
    ({"targetListener": {"id": ref("gw", "id")}}, UNKNOWN),  # an id only known at deploy time
])
def test_where_a_redirect_sends_clients(gateway, target, redirects):
    changed = _with(gateway, redirectConfigurations=[{"name": "to-https", "redirectType": "Permanent", **target}])
    assert _parts(changed)["httpListeners[0]"].redirects_to_https is redirects


def test_a_path_map_redirects_only_when_every_path_does(gateway):
    rules = json.loads(json.dumps(gateway.inputs["requestRoutingRules"]))
    rules[0] = {"name": "rule-80", "ruleType": "PathBasedRouting", "httpListener": rules[0]["httpListener"],
                "urlPathMap": _child("urlPathMaps", "paths")}
    redirect = _child("redirectConfigurations", "to-https")

    def paths(*rules_of_paths):
        return [{"name": "paths", "defaultRedirectConfiguration": redirect, "pathRules": list(rules_of_paths)}]

    everywhere = _with(gateway, requestRoutingRules=rules, urlPathMaps=paths({"paths": ["/a"], "redirectConfiguration": redirect}))
    assert _parts(everywhere)["httpListeners[0]"].redirects_to_https is True
    one_forwards = _with(gateway, requestRoutingRules=rules, urlPathMaps=paths(
        {"paths": ["/api"], "backendHttpSettings": _child("backendHttpSettingsCollection", "replicas")}))
    assert _parts(one_forwards)["httpListeners[0]"].redirects_to_https is False
    # the setting that path forwards through is now in use, so it is judged
    assert "backendHttpSettingsCollection[0]" in _parts(one_forwards)


def test_a_listener_no_rule_answers_does_not_redirect(gateway):
    rules = [r for r in gateway.inputs["requestRoutingRules"] if r["name"] != "rule-80"]
    assert _parts(_with(gateway, requestRoutingRules=rules))["httpListeners[0]"].redirects_to_https is False


def test_a_backend_setting_without_a_probe_is_watched_by_the_default_probe_and_an_unused_one_is_not_judged(gateway):
    settings = json.loads(json.dumps(gateway.inputs["backendHttpSettingsCollection"]))
    del settings[0]["probe"]
    settings.append({"name": "spare", "port": 9000, "protocol": "Http"})
    backends = _parts(_with(gateway, backendHttpSettingsCollection=settings), Role.BALANCER_BACKEND)
    assert list(backends) == ["backendHttpSettingsCollection[0]"]
    # as an AWS target group without a healthCheck block has AWS's default check
    assert backends["backendHttpSettingsCollection[0]"].health_check is True
    assert "default probe" in backends["backendHttpSettingsCollection[0]"].notes["health_check"]


def test_rules_naming_settings_at_deploy_time_make_every_setting_judged(gateway):
    rules = json.loads(json.dumps(gateway.inputs["requestRoutingRules"]))
    rules[1]["backendHttpSettings"] = {"id": ref("settings", "id")}
    settings = [*gateway.inputs["backendHttpSettingsCollection"], {"name": "spare", "port": 9000, "protocol": "Http"}]
    backends = _parts(_with(gateway, requestRoutingRules=rules, backendHttpSettingsCollection=settings), Role.BALANCER_BACKEND)
    assert list(backends) == ["backendHttpSettingsCollection[0]", "backendHttpSettingsCollection[1]"]


def test_a_standard_load_balancers_rules_are_backends_checked_by_their_probes():
    lb = _render("tcp")
    assert {p: f.health_check for p, f in _parts(lb).items()} == {"loadBalancingRules[0]": True}
    rules = [{k: v for k, v in rule.items() if k != "probe"} for rule in lb.inputs["loadBalancingRules"]]
    bare = _parts(lb.model_copy(update={"inputs": lb.inputs | {"loadBalancingRules": rules}}))
    assert bare["loadBalancingRules[0]"].health_check is False and "no probe" in bare["loadBalancingRules[0]"].notes["health_check"]


def test_child_names_are_read_from_the_id_suffix_or_a_whole_id():
    whole = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/applicationGateways/gw/httpListeners/l-443"
    assert gateway_facts.child_name({"id": whole}, "httpListeners") == "l-443"
    assert gateway_facts.child_name(_child("httpListeners", "l-80"), "httpListeners") == "l-80"
    assert gateway_facts.child_name(_child("probes", "health"), "httpListeners") is UNKNOWN
    assert gateway_facts.child_name(None, "httpListeners") is None


# -- the rules over a whole plan ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    return api.plan(_webshop_on_azure(tmp_path_factory.mktemp("azure")))


def _gateways(planned):
    return [r for r in planned.rendered if r.type == APP_GATEWAY]


def test_the_gateways_listeners_and_backends_are_judged_by_the_rules_every_cloud_meets(planned):
    """encryption.lb-https and network.lb-health-check see each gateway's inline listeners and backend settings,
    named by the gateway and the entry's path in its inputs."""
    judged = {(f.policy, f.rendered, f.status) for f in planned.report.findings
              if f.cloud == "azure" and f.policy in ("encryption.lb-https", "network.lb-health-check")}
    gateways = [r.name for r in _gateways(planned)]
    assert gateways and judged == {(policy, f"{gw}.{path}", "pass") for gw in gateways for policy, path in (
        ("encryption.lb-https", "httpListeners[0]"), ("encryption.lb-https", "httpListeners[1]"),
        ("network.lb-health-check", "backendHttpSettingsCollection[0]"))}


def test_a_gateway_accepting_tls_1_0_fails_on_its_https_listener(planned):
    gw = _gateways(planned)[0]
    old = _with(gw, sslPolicy={"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"})
    rendered = [old if r.name == gw.name else r for r in planned.rendered]
    report = evaluate(PolicySubject(planned.loaded, planned.placement, rendered), [baseline.pack()])
    failed = [f for f in report.findings if f.policy == "encryption.lb-https" and f.status == "fail"]
    assert [(f.resource, f.rendered, f.cloud) for f in failed] == [("web", f"{gw.name}.httpListeners[1]", "azure")]
    assert failed[0].message == "the gateway's sslPolicy AppGwSslPolicy20150501 accepts TLS 1.0"
