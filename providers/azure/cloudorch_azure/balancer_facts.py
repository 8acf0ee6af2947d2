"""Azure balancers read into neutral facts: the Application Gateway (or Standard Load Balancer), and which
security rules guard a gateway's subnet rather than the replicas behind it.

An Application Gateway holds its listeners and backends inline, not as resources of their own, so the
listener and backend facts have no resource to hang on here: ``encryption.lb-https`` and
``network.lb-health-check`` judge Azure's serving at the spec level only.
"""

from __future__ import annotations

from typing import Any

from cloudorch.rendering.facts import BalancerFacts, RenderedGraph
from cloudorch.rendering.inputs import UNKNOWN, get, items
from cloudorch.rendering.model import REF, RenderedResource, is_ref

APP_GATEWAY = "azure-native:network:ApplicationGateway"
LOAD_BALANCER = "azure-native:network:LoadBalancer"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
SUBNET = "azure-native:network:Subnet"
_ACCESS_LOG = "ApplicationGatewayAccessLog"


def _balancer(res: RenderedResource, graph: RenderedGraph) -> BalancerFacts:
    notes = {"deletion_protected": "Azure has no deletion-protection switch on a balancer (a management lock "
                                   "would be one; this plugin does not render locks)"}
    if res.type == LOAD_BALANCER:
        return BalancerFacts(public=_public_frontend(res), layer="network", access_logs=None, waf=None,
                             deletion_protected=None, notes=notes | {
                                 "access_logs": "a Standard Load Balancer keeps no request log"})
    settings = graph.referrers(res.name, DIAGNOSTIC_SETTING)
    logs: Any = any(get(s, "category") == _ACCESS_LOG and get(s, "enabled") is not False
                    for d in settings for s in items(d.inputs, "logs"))
    if not logs:
        notes["access_logs"] = "no diagnostic setting sends ApplicationGatewayAccessLog anywhere"
    # a policy's id is an output (unknown here): an attached policy is one named at all
    policy = isinstance(res.inputs.get("firewallPolicy"), dict) and res.inputs["firewallPolicy"].get("id") is not None
    legacy = get(res.inputs, "webApplicationFirewallConfiguration.enabled")
    waf: Any = True if policy or legacy is True else UNKNOWN if legacy is UNKNOWN else False
    if waf is False:
        notes["waf"] = "no WAF policy is attached (firewallPolicy) and the inline WAF configuration is off"
    return BalancerFacts(public=_public_frontend(res), layer="application", access_logs=logs, waf=waf,
                         deletion_protected=None, notes=notes)


def _public_frontend(res: RenderedResource) -> Any:
    fronts = [f for f in items(res.inputs, "frontendIPConfigurations") if f is not UNKNOWN]
    return any(get(f, "publicIPAddress") is not None for f in fronts)


def guards_balancer(res: RenderedResource, graph: RenderedGraph) -> bool:
    """A security rule (or group) of the subnet an Application Gateway lives in."""
    group = res.name if res.type.endswith("NetworkSecurityGroup") else _ref_name(res.inputs.get("networkSecurityGroupName"))
    if group is None:
        return False
    return any(graph.referrers(subnet.name, APP_GATEWAY) for subnet in graph.referrers(group, SUBNET))


def _ref_name(value: Any) -> str | None:
    return value[REF] if is_ref(value) else None


READERS = {APP_GATEWAY: _balancer, LOAD_BALANCER: _balancer}
