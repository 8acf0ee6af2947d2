"""AWS balancers read into neutral facts: the ALB/NLB, its listeners and target groups, its ACM certificate,
and which security rules guard a balancer rather than the replicas behind it."""

from __future__ import annotations

from typing import Any

from cloudorch.rendering.facts import BackendFacts, BalancerFacts, CertificateFacts, ListenerFacts, RenderedGraph
from cloudorch.rendering.inputs import UNKNOWN, flag, get, items
from cloudorch.rendering.model import REF, RenderedResource, is_ref

LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
WAF_ATTACHMENT = "aws:wafv2/webAclAssociation:WebAclAssociation"
CERTIFICATE = "aws:acm/certificate:Certificate"
CERTIFICATE_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
#: ACM's validation methods in the neutral words (``CertificateFacts.validation``)
_VALIDATION = {"DNS": "dns", "EMAIL": "email"}
#: the lowest TLS version each of AWS's predefined ELB security policies accepts (ELB documentation,
#: "Security policies for your Application Load Balancer"); an unlisted policy is judged unknown
_TLS13_ONLY = ("ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04")
_TLS12 = ("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
          "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
          "ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
          "ELBSecurityPolicy-FS-1-2-2019-08", "ELBSecurityPolicy-FS-1-2-Res-2019-08", "ELBSecurityPolicy-FS-1-2-Res-2020-10")
_TLS11 = ("ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-FS-1-1-2019-08")
#: what AWS applies when a listener names no policy
DEFAULT_TLS_POLICY = "ELBSecurityPolicy-2016-08"


def min_tls(policy: Any) -> Any:
    if policy is UNKNOWN:
        return UNKNOWN
    policy = policy or DEFAULT_TLS_POLICY
    for version, names in (("1.3", _TLS13_ONLY), ("1.2", _TLS12), ("1.1", _TLS11)):
        if policy in names:
            return version
    return "1.0" if policy.startswith("ELBSecurityPolicy-") and "2016" in policy or policy.endswith("2015-05") else UNKNOWN


def _balancer(res: RenderedResource, graph: RenderedGraph) -> BalancerFacts:
    inputs, notes = res.inputs, {}
    internal = flag(get(inputs, "internal"))
    logs = get(inputs, "accessLogs.enabled")
    logs = UNKNOWN if logs is UNKNOWN else flag(logs) is True
    if logs is False:
        notes["access_logs"] = "accessLogs is not enabled"
    protected = get(inputs, "enableDeletionProtection")
    protected = UNKNOWN if protected is UNKNOWN else flag(protected) is True
    if protected is False:
        notes["deletion_protected"] = "enableDeletionProtection is not set"
    layer = "network" if get(inputs, "loadBalancerType") in ("network", "gateway") else "application"
    waf: Any = None
    if layer == "application":
        waf = bool(graph.referrers(res.name, WAF_ATTACHMENT))
        if not waf:
            notes["waf"] = "no aws:wafv2/webAclAssociation refers to the load balancer"
    return BalancerFacts(public=internal is not True, layer=layer, access_logs=logs, waf=waf,
                         deletion_protected=protected, notes=notes)


def _listener(res: RenderedResource, graph: RenderedGraph) -> ListenerFacts:
    inputs, notes = res.inputs, {}
    protocol = get(inputs, "protocol")
    protocol = protocol.lower() if isinstance(protocol, str) else UNKNOWN if protocol is UNKNOWN else "http"
    actions = [a for a in items(inputs, "defaultActions") if a is not UNKNOWN]
    redirects = bool(actions) and all(get(a, "type") == "redirect" and get(a, "redirect.protocol") in ("HTTPS", "#{protocol}")
                                      for a in actions)
    if protocol == "http" and not redirects:
        notes["redirects_to_https"] = "a plain HTTP listener forwards requests instead of redirecting them to HTTPS"
    tls = min_tls(get(inputs, "sslPolicy")) if protocol in ("https", "tls") else None
    if tls not in (None, UNKNOWN) and tls < "1.2":
        notes["min_tls"] = f"sslPolicy {get(inputs, 'sslPolicy') or DEFAULT_TLS_POLICY + ' (the default)'} accepts TLS {tls}"
    return ListenerFacts(port=get(inputs, "port"), protocol=protocol, redirects_to_https=redirects, min_tls=tls,
                         notes=notes)


def _backend(res: RenderedResource, graph: RenderedGraph) -> BackendFacts:
    enabled = get(res.inputs, "healthCheck.enabled")
    on = enabled is UNKNOWN or flag(enabled) is not False  # a target group checks health unless turned off
    return BackendFacts(health_check=on, notes={} if on else {"health_check": "healthCheck.enabled is false"})


def _certificate(res: RenderedResource, graph: RenderedGraph) -> CertificateFacts:
    inputs = res.inputs
    names = tuple(n if isinstance(n, str) else UNKNOWN
                  for n in (get(inputs, "domainName"), *items(inputs, "subjectAlternativeNames")) if n is not None)
    # an imported certificate, or one a private CA issues, is the operator's: ACM validates no domain for it
    if get(inputs, "privateKey") is not None or get(inputs, "certificateAuthorityArn") is not None:
        return CertificateFacts(names=names, validation="operator", notes={
            "validation": "an imported or private-CA certificate: the operator renews it, ACM validates nothing"})
    method = get(inputs, "validationMethod")
    if method is UNKNOWN:
        return CertificateFacts(names=names, validation=UNKNOWN)
    validation = _VALIDATION.get(str(method).upper())
    return CertificateFacts(names=names, validation=validation, notes={} if validation else {
        "validation": f"validationMethod is {method or 'not set'}, not one ACM issues by (DNS or EMAIL)"})


def _validation_waiter(res: RenderedResource, graph: RenderedGraph) -> CertificateFacts:
    return CertificateFacts(notes={"validation": "waits for a certificate's validation; the certificate says how it "
                                                 "is validated"})


def guards_balancer(res: RenderedResource, graph: RenderedGraph) -> bool:
    """A security group (or a rule of one) that a load balancer uses."""
    group = res.name if res.type.endswith("securityGroup:SecurityGroup") else _ref_name(res.inputs.get("securityGroupId"))
    return group is not None and any(_ref_name(g) == group for lb in graph.referrers(group, LB)
                                     for g in lb.inputs.get("securityGroups", []))


def balancer_peer(res: RenderedResource, graph: RenderedGraph) -> bool:
    """A rule admitting traffic from a security group a load balancer uses."""
    group = _ref_name(res.inputs.get("referencedSecurityGroupId"))
    return group is not None and bool(graph.referrers(group, LB))


def _ref_name(value: Any) -> str | None:
    return value[REF] if is_ref(value) else None


READERS = {LB: _balancer, LISTENER: _listener, TARGET_GROUP: _backend, CERTIFICATE: _certificate,
           CERTIFICATE_VALIDATION: _validation_waiter}
