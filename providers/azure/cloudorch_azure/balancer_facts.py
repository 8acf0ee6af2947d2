"""Azure balancers read into neutral facts: the Application Gateway (or Standard Load Balancer), and which
security rules guard a gateway's subnet rather than the replicas behind it.

A balancer holds its listeners, backends and certificates inline, not as resources of their own: its facts
carry them as parts (``gateway_facts``), which the balancer rules judge as they judge the other clouds'
listener, backend and certificate resources.
"""

from __future__ import annotations

from typing import Any

from cloudorch.rendering.facts import BALANCER_PEER, BalancerFacts, RenderedGraph, TrafficRule
from cloudorch.rendering.inputs import UNKNOWN, covers, get, items
from cloudorch.rendering.model import REF, RenderedResource, is_ref

from cloudorch_azure.gateway_facts import gateway_parts, load_balancer_parts

APP_GATEWAY = "azure-native:network:ApplicationGateway"
LOAD_BALANCER = "azure-native:network:LoadBalancer"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
SUBNET = "azure-native:network:Subnet"
VMSS = "azure-native:compute:VirtualMachineScaleSet"
#: the service tag of Azure's own probes (168.63.129.16): a rule admitting only it admits the balancer's health checks
PROBES = "azureloadbalancer"
_ACCESS_LOG = "ApplicationGatewayAccessLog"


def _balancer(res: RenderedResource, graph: RenderedGraph) -> BalancerFacts:
    notes = {"deletion_protected": "Azure has no deletion-protection switch on a balancer (a management lock "
                                   "would be one; this plugin does not render locks)"}
    if res.type == LOAD_BALANCER:
        return BalancerFacts(public=_public_frontend(res), layer="network", access_logs=None, waf=None,
                             deletion_protected=None, parts=load_balancer_parts(res), notes=notes | {
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
                         deletion_protected=None, parts=gateway_parts(res), notes=notes)


def _public_frontend(res: RenderedResource) -> Any:
    fronts = [f for f in items(res.inputs, "frontendIPConfigurations") if f is not UNKNOWN]
    return any(get(f, "publicIPAddress") is not None for f in fronts)


def guards_balancer(res: RenderedResource, graph: RenderedGraph) -> bool:
    """A security rule (or group) of the subnet an Application Gateway lives in."""
    group = res.name if res.type.endswith("NetworkSecurityGroup") else _ref_name(res.inputs.get("networkSecurityGroupName"))
    if group is None:
        return False
    return any(graph.referrers(subnet.name, APP_GATEWAY) for subnet in graph.referrers(group, SUBNET))


def passthrough_clients(res: RenderedResource, graph: RenderedGraph, rule: TrafficRule) -> TrafficRule | None:
    """A rule admitting the internet to a Standard Load Balancer's backend ports, read as the balancer's own
    filter (None: it is not one). The balancer keeps the client's address, so the replicas' rule must admit
    the internet; that rule is the way in through the balancer's frontend exactly when no machine of the
    subnets it guards has a public address of its own (``destinationAddressPrefix`` is the whole subnet).
    Its ports are then the frontend ports the balancer maps onto those backend ports: what the internet reaches."""
    lb = graph.rendered(_lb_name(res))
    if not (rule.admits and rule.from_world and rule.ports) or lb is None or lb.type != LOAD_BALANCER:
        return None
    mapped = {(get(r, "backendPort"), get(r, "frontendPort")) for r in items(lb.inputs, "loadBalancingRules")}
    if any(not isinstance(b, int) or not isinstance(f, int) for b, f in mapped):
        return None
    backend = tuple((b, b) for b, _ in mapped)
    if not all(any(b <= lo and hi <= b for b, _ in backend) for lo, hi in rule.ports):
        return None
    group = _ref_name(res.inputs.get("networkSecurityGroupName"))
    subnets = graph.referrers(group, SUBNET) if group else []
    if not subnets or any(_public(vmss) for subnet in subnets for vmss in graph.referrers(subnet.name, VMSS)):
        return None
    front = tuple(sorted({(f, f) for b, f in mapped if covers(rule.ports, b)}))
    return TrafficRule(rule.direction, rule.action, rule.peers, front, rule.protocol)


def _lb_name(res: RenderedResource) -> str:
    from cloudorch_azure.balancer import lb_name

    return lb_name(res.source or "", res.region or "")


def _public(vmss: RenderedResource) -> bool:
    """A scale set whose machines get public addresses (or may: a configuration known only at deploy time)."""
    configs = items(vmss.inputs, "virtualMachineProfile.networkProfile.networkInterfaceConfigurations")
    return any(c is UNKNOWN or ip is UNKNOWN or get(ip, "publicIPAddressConfiguration") is not None
               for c in configs for ip in (items(c, "ipConfigurations") if c is not UNKNOWN else [UNKNOWN]))


def with_probes(rule: TrafficRule) -> TrafficRule:
    """Azure's probe tag is the balancer in front of the replicas (``BALANCER_PEER``): its health checks."""
    if rule.peers and all(isinstance(p, str) and p.strip().lower() == PROBES for p in rule.peers):
        return TrafficRule(rule.direction, rule.action, (*rule.peers, BALANCER_PEER), rule.ports, rule.protocol)
    return rule


def _ref_name(value: Any) -> str | None:
    return value[REF] if is_ref(value) else None


READERS = {APP_GATEWAY: _balancer, LOAD_BALANCER: _balancer}
