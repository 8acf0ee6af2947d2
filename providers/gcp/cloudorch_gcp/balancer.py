"""A served resource's balancer in one location (``cloudorch.rendering.service``) on Google Cloud.

http and https: a **global** external Application Load Balancer (``EXTERNAL_MANAGED``) whose only backend
is this region's managed instance groups -- one balancer per location, as the contract asks, with its own
anycast address. The issue asked for the regional external Application Load Balancer; the pulumi-gcp schema
cloudorch renders against (``../shared/data/pulumi-schemas/gcp.json``) cannot express one that meets the
contract: it has no regional target HTTP proxy (so no port 80 that only redirects), no regional SSL policy
(a regional HTTPS proxy takes only those, so no TLS 1.2 floor), no regional security policy (Cloud Armor
attaches to a regional backend service only through one) and no Certificate Manager (the only Google-managed
certificate a regional balancer accepts; ``ManagedSslCertificate`` works on global balancers only). Every
part of the global balancer is in the schema. What that changes: TLS ends at Google's edge nearest the
client (Premium Tier), which may lie outside the stack's residency geography, and requests cross Google's
network to the region; the backend, its replicas and their data stay in the region.

- a reserved global IPv4 address shared by the listeners (port 80 must answer on the address the name has);
- https: a Google-managed certificate for ``balancer.hostname`` (load-balancer authorization: Google issues
  it once the name resolves to this address, so no validation records are exported), an SSL policy
  ``RESTRICTED`` with TLS 1.2 minimum, and a plain-HTTP listener on 80 whose URL map only redirects (301);
- a backend service over the region's groups (named port ``serve``), HTTP health check (path) or TCP one,
  logging every request (``logConfig``, sample rate 1) when access logs are on, and Cloud Armor when
  ``waf``: a security policy attached to the backend service with the preconfigured OWASP rule sets in
  blocking mode (Cloud Armor Standard has no IP-reputation list: that is Cloud Armor Enterprise's threat
  intelligence, not rendered);
- ``deletion_protection``: ``deletionPolicy: PREVENT`` on the URL map, address and listeners -- Google
  load balancers have no switch of their own, so this is the engine's guard (an update that would delete them
  fails), not the cloud's.

tcp: a regional external **passthrough** Network Load Balancer: a regional forwarding rule on
``backend_port`` (a passthrough balancer does not translate ports: ``check`` refuses another listen port)
and a regional backend service with a TCP health check. It is not a proxy: clients' packets reach the
replicas with their own source address, so the replicas' firewall admits the port from anywhere -- still
with no public address of their own, the forwarding rule is the only way in (``CLIENTS_DESCRIPTION`` marks
that rule as the balancer's, for the facts).

The replicas (``backend_rules``) admit the backend and health ports from Google's front ends and health
checkers only (``LB_RANGES``, ``NLB_HEALTH_RANGES``); the address the internet reaches is the forwarding
rule's, never an instance's.
"""

from __future__ import annotations

from cloudorch.errors import Problem
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.elements import EndpointRendering
from cloudorch.rendering.roles import Role
from cloudorch.rendering.service import Balancer
from cloudorch.spec.models import Compute

from cloudorch_gcp.meters import REQUESTS_LABEL, TRAFFIC_LABEL
from cloudorch_gcp.naming import CLOUD, labels, resource, rfc1035
from cloudorch_gcp.network import FIREWALL, RULE_PRIORITY, network_name

GLOBAL_ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
GLOBAL_FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
FORWARDING_RULE = "gcp:compute/forwardingRule:ForwardingRule"
HTTPS_PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
HTTP_PROXY = "gcp:compute/targetHttpProxy:TargetHttpProxy"
URL_MAP = "gcp:compute/uRLMap:URLMap"
BACKEND_SERVICE = "gcp:compute/backendService:BackendService"
REGION_BACKEND_SERVICE = "gcp:compute/regionBackendService:RegionBackendService"
HEALTH_CHECK = "gcp:compute/healthCheck:HealthCheck"
REGION_HEALTH_CHECK = "gcp:compute/regionHealthCheck:RegionHealthCheck"
CERTIFICATE = "gcp:compute/managedSslCertificate:ManagedSslCertificate"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"

#: where a global external Application Load Balancer's proxies and health checkers reach backends from
#: ("External Application Load Balancer overview", firewall rules; cloud.google.com, read 2026-12-07)
LB_RANGES = ("130.211.0.0/22", "35.191.0.0/16")
#: a passthrough Network Load Balancer's health checkers (the clients reach the replicas themselves)
NLB_HEALTH_RANGES = ("209.85.152.0/22", "209.85.204.0/22", "35.191.0.0/16")
#: the description of the firewall rule admitting a passthrough balancer's clients; facts.py reads it back
CLIENTS_DESCRIPTION = "cloudorch: clients of {name}'s passthrough balancer on {port}"
#: the named port the backend service sends to (each group maps it to the backend port)
PORT_NAME = "serve"
#: Cloud Armor's preconfigured WAF rule sets (ModSecurity CRS 3.3): the OWASP top-ten attacks, plus known
#: bad inputs (cve-canary: Log4Shell and the like); sensitivity 1 blocks few false positives
WAF_RULE_SETS = ("sqli-v33-stable", "xss-v33-stable", "lfi-v33-stable", "rfi-v33-stable", "rce-v33-stable",
                 "methodenforcement-v33-stable", "scannerdetection-v33-stable", "protocolattack-v33-stable",
                 "sessionfixation-v33-stable", "cve-canary")
#: Cloud Armor's default rule: the lowest priority, matching everything
DEFAULT_RULE_PRIORITY = 2147483647
#: GCP names are at most 63 characters and Pulumi appends "-<7 hex>"
MAX_LOGICAL = 55


def lb_name(b: Balancer, part: str) -> str:
    return rfc1035(b.resource, CLOUD, b.region, part, max_len=MAX_LOGICAL)


def check_balancers(ctx: RenderContext) -> list[Problem]:
    """A passthrough balancer forwards a port unchanged: a tcp service listens where its replicas do."""
    out = []
    # every location's balancer of a resource is alike (one serve block): one problem per resource
    for b in {b.resource: b for b in ctx.balancers if b.cloud == CLOUD}.values():
        https = next((x.port for x in b.listeners if x.protocol == "https"), 443)
        if b.cloud == CLOUD and https != 443 and len(b.listeners) > 1:
            out.append(ctx.problem(("resources", b.resource, "serve", "port"), (
                f"on gcp, port 80 redirects to https on 443 (a URL map's redirect keeps the host and cannot name "
                f"a port), but the service listens on {https}; serve https on 443 or keep the resource off gcp")))
        if b.cloud == CLOUD and b.protocol == "tcp" and b.listeners[0].port != b.backend_port:
            out.append(ctx.problem(("resources", b.resource, "serve", "port"), (
                f"a tcp service on gcp is served by a passthrough Network Load Balancer, which does not translate "
                f"ports: clients reach port {b.listeners[0].port} but the replicas listen on {b.backend_port}; "
                "leave serve.port out (it defaults to backend_port) or keep the resource off gcp")))
    return out


def render_balancer(ctx: RenderContext, b: Balancer) -> EndpointRendering:
    return _network(ctx, b) if b.protocol == "tcp" else _application(ctx, b)


def _application(ctx: RenderContext, b: Balancer) -> EndpointRendering:
    out: list[RenderedResource] = []
    guard = {"deletionPolicy": "PREVENT"} if b.deletion_protection else {}

    def add(type_: str, part: str, inputs: dict, *, role: Role | None = None) -> str:
        name = lb_name(b, part)
        # global resources, rendered with the location they serve (and under its provider: they come and go
        # with it, so the provider never changes under them)
        out.append(resource(name, type_, b.region, b.resource, inputs, role=role))
        return name

    address = add(GLOBAL_ADDRESS, "lb-ip", {
        "addressType": "EXTERNAL", "ipVersion": "IPV4", "description": f"cloudorch {ctx.stack.stack}/{b.id}",
        "labels": labels(ctx, b.resource), **guard}, role=Role.PUBLIC_IP)
    check = add(HEALTH_CHECK, "lb-hc", _health(b))
    backend: dict = {
        "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTP", "portName": PORT_NAME,
        "backends": [{"group": ref(g, "instanceGroup"), "balancingMode": "UTILIZATION", "capacityScaler": 1.0}
                     for g in _groups(ctx, b)],
        "healthChecks": ref(check, "id"), "timeoutSec": 30, "connectionDrainingTimeoutSec": 30,
        "logConfig": {"enable": b.access_logs, **({"sampleRate": 1.0} if b.access_logs else {})},
        "description": f"{b.resource}'s replicas in {b.region}",
    }
    if b.waf:
        backend["securityPolicy"] = ref(add(SECURITY_POLICY, "lb-armor", _armor(ctx, b)), "id")
    service = add(BACKEND_SERVICE, "lb-backend", backend)
    url_map = add(URL_MAP, "lb", {"defaultService": ref(service, "id"),
                                  "description": f"cloudorch {ctx.stack.stack}/{b.id}", **guard})
    for listener in b.listeners:
        part = f"lb-{listener.protocol}-{listener.port}"
        if listener.protocol == "https":
            cert = add(CERTIFICATE, "lb-cert", {"type": "MANAGED", "managed": {"domains": [b.hostname]},
                                                "description": f"{b.hostname}, issued and renewed by Google"})
            policy = add(SSL_POLICY, "lb-tls", {"profile": "RESTRICTED", "minTlsVersion": f"TLS_{b.min_tls.replace('.', '_')}",
                                                "description": f"TLS {b.min_tls} or later, forward-secret AEAD ciphers"})
            proxy = add(HTTPS_PROXY, f"{part}-proxy", {"urlMap": ref(url_map, "id"), "sslCertificates": [ref(cert, "id")],
                                                       "sslPolicy": ref(policy, "id")})
        elif listener.action == "redirect":
            redirect = add(URL_MAP, "lb-redirect", {"defaultUrlRedirect": {
                "httpsRedirect": True, "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT", "stripQuery": False},
                "description": f"plain HTTP on {listener.port}: redirected to https"}, role=Role.BALANCER_ATTACHMENT)
            proxy = add(HTTP_PROXY, f"{part}-proxy", {"urlMap": ref(redirect, "id")})
        else:
            proxy = add(HTTP_PROXY, f"{part}-proxy", {"urlMap": ref(url_map, "id")})
        volume = {TRAFFIC_LABEL: f"{b.gb_month:g}".replace(".", "_")} if listener.action == "forward" else {}
        add(GLOBAL_FORWARDING_RULE, part, {
            "loadBalancingScheme": "EXTERNAL_MANAGED", "ipProtocol": "TCP", "ipAddress": ref(address, "address"),
            "portRange": str(listener.port), "target": ref(proxy, "id"), "networkTier": "PREMIUM",
            "labels": labels(ctx, b.resource) | volume, **guard})
    return EndpointRendering(resources=tuple(out), exports={
        "target": ref(address, "address"), "validation_names": [], "validation_values": []})


def _network(ctx: RenderContext, b: Balancer) -> EndpointRendering:
    region = b.region
    check = lb_name(b, "lb-hc")
    service = lb_name(b, "lb-backend")
    rule = lb_name(b, "lb")
    out = [
        resource(check, REGION_HEALTH_CHECK, region, b.resource, {"region": region, **_health(b)}),
        resource(service, REGION_BACKEND_SERVICE, region, b.resource, {
            "region": region, "loadBalancingScheme": "EXTERNAL", "protocol": "TCP",
            "backends": [{"group": ref(g, "instanceGroup"), "balancingMode": "CONNECTION"} for g in _groups(ctx, b)],
            "healthChecks": ref(check, "id"), "connectionDrainingTimeoutSec": 30,
            "logConfig": {"enable": b.access_logs, **({"sampleRate": 1.0} if b.access_logs else {})},
            "description": f"{b.resource}'s replicas in {region}"}),
        resource(rule, FORWARDING_RULE, region, b.resource, {
            "region": region, "loadBalancingScheme": "EXTERNAL", "ipProtocol": "TCP", "ipVersion": "IPV4",
            "ports": [str(b.backend_port)], "backendService": ref(service, "id"), "networkTier": "PREMIUM",
            "description": f"cloudorch {ctx.stack.stack}/{b.id}",
            "labels": labels(ctx, b.resource) | {TRAFFIC_LABEL: f"{b.gb_month:g}".replace(".", "_")},
            **({"deletionPolicy": "PREVENT"} if b.deletion_protection else {})}),
    ]
    return EndpointRendering(resources=tuple(out), exports={
        "target": ref(rule, "ipAddress"), "validation_names": [], "validation_values": []})


def _groups(ctx: RenderContext, b: Balancer) -> list[str]:
    from cloudorch_gcp.compute import group_names  # compute renders the groups and imports this module

    return group_names(ctx, b.resource, b.region)


def _health(b: Balancer) -> dict:
    h = b.health
    probe = ({"httpHealthCheck": {"port": h.port, "requestPath": h.path}} if h.protocol == "http"
             else {"tcpHealthCheck": {"port": h.port}})
    return {**probe, "checkIntervalSec": h.interval_s, "timeoutSec": min(5, h.interval_s),
            "healthyThreshold": h.healthy_threshold, "unhealthyThreshold": h.unhealthy_threshold,
            "description": f"{b.resource}'s replicas in {b.region}"}


def _armor(ctx: RenderContext, b: Balancer) -> dict:
    rules = [{"priority": 1000 + i, "action": "deny(403)", "description": f"preconfigured WAF: {rule_set}",
              "match": {"expr": {"expression": f"evaluatePreconfiguredWaf('{rule_set}', {{'sensitivity': 1}})"}}}
             for i, rule_set in enumerate(WAF_RULE_SETS)]
    rules.append({"priority": DEFAULT_RULE_PRIORITY, "action": "allow", "description": "everything else",
                  "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}}})
    return {"type": "CLOUD_ARMOR", "description": f"cloudorch {ctx.stack.stack}/{b.resource}", "rules": rules,
            "labels": labels(ctx, b.resource) | {
                REQUESTS_LABEL: f"{b.requests_million_month:g}".replace(".", "_")}}


def balanced(ctx: RenderContext, name: str, region: str) -> dict:
    """A served resource's groups name the backend port for their balancer, and replace a replica its health
    check finds failing (not only one Compute Engine finds broken)."""
    b = ctx.balancer_of(name, region)
    if b is None:
        return {}
    out: dict = {"autoHealingPolicies": {"healthCheck": ref(lb_name(b, "lb-hc"), "id"), "initialDelaySec": 300}}
    if b.protocol != "tcp":
        out["namedPorts"] = [{"name": PORT_NAME, "port": b.backend_port}]
    return out


def backend_rules(ctx: RenderContext, name: str, spec: Compute, b: Balancer, tag: str) -> list[RenderedResource]:
    """The replicas admit the backend and health ports from Google's front ends and health checkers only;
    a passthrough balancer's clients besides (its replicas see their addresses). One set per resource:
    firewall rules are global, and every location's balancer is alike (one stack ``serve``)."""
    ports = sorted({b.backend_port, b.health.port})
    spec_ports = ",".join(map(str, ports))
    vpc = ref(network_name(spec.network), "id")
    passthrough = b.protocol == "tcp"
    out = [resource(f"{name}-{CLOUD}-lb-health", FIREWALL, None, name, {
        "network": vpc, "direction": "INGRESS", "priority": RULE_PRIORITY,
        "description": f"{name}: tcp/{spec_ports} from Google's {'health checkers' if passthrough else 'load balancers'}",
        "sourceRanges": list(NLB_HEALTH_RANGES if passthrough else LB_RANGES), "targetTags": [tag],
        "allows": [{"protocol": "tcp", "ports": [str(p) for p in ports]}],
        "logConfig": {"metadata": "EXCLUDE_ALL_METADATA"}})]
    if passthrough:
        out.append(resource(f"{name}-{CLOUD}-lb-clients", FIREWALL, None, name, {
            "network": vpc, "direction": "INGRESS", "priority": RULE_PRIORITY,
            "description": CLIENTS_DESCRIPTION.format(name=name, port=b.backend_port),
            "sourceRanges": ["0.0.0.0/0"], "targetTags": [tag],
            "allows": [{"protocol": "tcp", "ports": [str(b.backend_port)]}],
            "logConfig": {"metadata": "EXCLUDE_ALL_METADATA"}}))
    return out
