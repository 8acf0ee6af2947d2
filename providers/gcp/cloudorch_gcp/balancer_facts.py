"""GCP balancers read into neutral facts: the URL map (an Application Load Balancer) or regional forwarding
rule (a passthrough Network Load Balancer), its listeners (global forwarding rules, through their target
proxies), backend services, Google-managed certificates, and which firewall rules stand for the balancer.

A balancer's settings are spread over its parts, so each reader follows the references the balancer itself
follows (forwarding rule -> proxy -> URL map -> backend service); a reference it cannot follow makes the fact
unknown, never false.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from cloudorch.rendering.facts import BackendFacts, BalancerFacts, CertificateFacts, ListenerFacts, RenderedGraph
from cloudorch.rendering.inputs import UNKNOWN, flag, get, items
from cloudorch.rendering.model import REF, RenderedResource, is_ref

from cloudorch_gcp.balancer import (
    BACKEND_SERVICE, CERTIFICATE, CLIENTS_DESCRIPTION, FORWARDING_RULE, GLOBAL_FORWARDING_RULE, HTTP_PROXY,
    HTTPS_PROXY, LB_RANGES, NLB_HEALTH_RANGES, REGION_BACKEND_SERVICE, URL_MAP,
)

_GOOGLE = tuple(ipaddress.ip_network(r) for r in (*LB_RANGES, *NLB_HEALTH_RANGES))
_CLIENTS = re.compile("^" + re.escape(CLIENTS_DESCRIPTION).replace(r"\{name\}", ".+").replace(r"\{port\}", r"\d+") + "$")
_EXTERNAL = ("EXTERNAL", "EXTERNAL_MANAGED")
#: what a target HTTPS proxy accepts without an SSL policy: Google's default profile, TLS 1.0 and later
DEFAULT_MIN_TLS = "1.0"
_NO_GUARD = "deletionPolicy is not PREVENT (Google load balancers have no deletion protection of their own)"


def from_google_balancers(peer: Any) -> bool:
    """A source range inside Google's load-balancer and health-check ranges."""
    if not isinstance(peer, str):
        return False
    try:
        net = ipaddress.ip_network(peer, strict=False)
    except ValueError:
        return False
    return any(net.version == g.version and net.subnet_of(g) for g in _GOOGLE)


def guards_balancer(res: RenderedResource) -> bool:
    """The firewall rule admitting a passthrough balancer's clients: the balancer's own filter, since the
    balancer passes packets through unchanged (its replicas have no address of their own to reach)."""
    return bool(_CLIENTS.match(str(get(res.inputs, "description", ""))))


def _target(graph: RenderedGraph, value: Any) -> RenderedResource | None | Any:
    """The resource a reference names; UNKNOWN when it is not one the graph holds."""
    if not is_ref(value):
        return None if value is None else UNKNOWN
    found = graph.rendered(value[REF])
    return UNKNOWN if found is None else found


def _logged(service: Any, notes: dict[str, str]) -> Any:
    if service is UNKNOWN or service is None:
        return UNKNOWN if service is UNKNOWN else False
    enabled = get(service.inputs, "logConfig.enable")
    if enabled is UNKNOWN:
        return UNKNOWN
    if flag(enabled) is not True:
        notes["access_logs"] = f"the backend service {service.name} does not log requests (logConfig.enable)"
    return flag(enabled) is True


def _guarded(res: RenderedResource, notes: dict[str, str]) -> Any:
    policy = get(res.inputs, "deletionPolicy", "DELETE")
    if policy is UNKNOWN:
        return UNKNOWN
    if policy != "PREVENT":
        notes["deletion_protected"] = _NO_GUARD
    return policy == "PREVENT"


def _url_map(res: RenderedResource, graph: RenderedGraph) -> BalancerFacts:
    notes: dict[str, str] = {}
    service = _target(graph, res.inputs.get("defaultService"))
    proxies = [p for kind in (HTTPS_PROXY, HTTP_PROXY) for p in graph.referrers(res.name, kind)]
    schemes = {get(rule.inputs, "loadBalancingScheme", "EXTERNAL")
               for p in proxies for rule in graph.referrers(p.name, GLOBAL_FORWARDING_RULE)}
    waf: Any = UNKNOWN if service is UNKNOWN else service is not None and get(service.inputs, "securityPolicy") is not None
    if waf is False:
        notes["waf"] = "no Cloud Armor security policy on its backend service"
    return BalancerFacts(public=bool(schemes & set(_EXTERNAL)) if schemes else None, layer="application",
                         access_logs=_logged(service, notes), waf=waf, deletion_protected=_guarded(res, notes),
                         notes=notes)


def _network_balancer(res: RenderedResource, graph: RenderedGraph) -> BalancerFacts:
    notes: dict[str, str] = {}
    service = _target(graph, res.inputs.get("backendService"))
    return BalancerFacts(public=get(res.inputs, "loadBalancingScheme", "EXTERNAL") in _EXTERNAL, layer="network",
                         access_logs=_logged(service, notes), deletion_protected=_guarded(res, notes), notes=notes)


def _listener(res: RenderedResource, graph: RenderedGraph) -> ListenerFacts:
    notes: dict[str, str] = {}
    ports = get(res.inputs, "portRange")
    port = int(str(ports).split("-")[0]) if isinstance(ports, (str, int)) else UNKNOWN
    proxy = _target(graph, res.inputs.get("target"))
    if proxy is UNKNOWN or proxy is None:
        return ListenerFacts(port=port, protocol=UNKNOWN, redirects_to_https=UNKNOWN, min_tls=UNKNOWN)
    protocol = "https" if proxy.type == HTTPS_PROXY else "http"
    url_map = _target(graph, proxy.inputs.get("urlMap"))
    redirects: Any = UNKNOWN
    if url_map is not UNKNOWN and url_map is not None:
        redirects = flag(get(url_map.inputs, "defaultUrlRedirect.httpsRedirect")) is True and not any(
            get(url_map.inputs, key) for key in ("defaultService", "pathMatchers", "hostRules"))
    if protocol == "http" and redirects is False:
        notes["redirects_to_https"] = "its URL map forwards requests instead of redirecting them to https"
    tls: Any = None
    if protocol == "https":
        policy = _target(graph, proxy.inputs.get("sslPolicy"))
        if policy is None:
            tls = DEFAULT_MIN_TLS
        elif policy is UNKNOWN or get(policy.inputs, "minTlsVersion") is UNKNOWN:
            tls = UNKNOWN
        else:  # "TLS_1_2" -> "1.2"; an SSL policy without one accepts TLS 1.0
            tls = str(get(policy.inputs, "minTlsVersion", "TLS_1_0")).removeprefix("TLS_").replace("_", ".")
        if tls is not UNKNOWN and tls < "1.2":
            notes["min_tls"] = ("no SSL policy: Google's default accepts TLS 1.0" if policy is None
                                else f"the SSL policy accepts TLS {tls}")
    return ListenerFacts(port=port, protocol=protocol, redirects_to_https=redirects, min_tls=tls, notes=notes)


def _backend(res: RenderedResource, graph: RenderedGraph) -> BackendFacts:
    # one health check (a list in the API, a string in pulumi-gcp): a reference to one is one, whatever its id
    check = bool(res.inputs.get("healthChecks"))
    return BackendFacts(health_check=check, notes={} if check else {"health_check": "no healthChecks"})


def _certificate(res: RenderedResource, graph: RenderedGraph) -> CertificateFacts:
    """A ``ManagedSslCertificate`` is always Google-managed (its ``type`` takes MANAGED only), and its only proof
    is load-balancer authorization: Google's CA asks for proof over HTTP at the address each domain resolves to,
    at issue and again at every renewal."""
    domains = tuple(d if isinstance(d, str) else UNKNOWN for d in items(res.inputs, "managed.domains"))
    named = ", ".join(d for d in domains if isinstance(d, str)) or "its domains"
    return CertificateFacts(names=domains, validation="http", notes={
        "validation": f"Google validates {named} over HTTP at the address the name resolves to (a Google-managed "
                      "certificate's load-balancer authorization)"})


READERS = {URL_MAP: _url_map, FORWARDING_RULE: _network_balancer, GLOBAL_FORWARDING_RULE: _listener,
           BACKEND_SERVICE: _backend, REGION_BACKEND_SERVICE: _backend, CERTIFICATE: _certificate}
