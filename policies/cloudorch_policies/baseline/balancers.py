"""Load balancers in front of served resources (``serve:``): TLS and redirects, certificates that keep being
issued, access logs, a WAF, deletion protection and health checks -- on the stack's ``serve`` blocks and on
every cloud's rendered balancers, through the neutral facts (``BalancerFacts``, ``ListenerFacts``,
``BackendFacts``, ``CertificateFacts``)."""

from __future__ import annotations

from cloudorch.policy import NotApplicable, Policy, Violation, expect_fact, rendered_check, spec_check
from cloudorch.rendering import service
from cloudorch.rendering.inputs import UNKNOWN
from cloudorch.rendering.roles import Role

from cloudorch_policies._meta import fw

_NOT_SERVED = "the resource is not served through a balancer"


def _serve(target):
    return getattr(target.model, "serve", None)


# -- TLS ------------------------------------------------------------------------------------------------
@spec_check("compute")
def _https_spec(target, ctx):
    serve = _serve(target)
    if serve is None:
        return [NotApplicable(_NOT_SERVED)]
    if serve.protocol == "http":
        return [Violation("the balancer serves plain HTTP", ("serve", "protocol"))]
    return []  # https: TLS 1.2 or later and a redirecting port 80; tcp passes TLS through


@rendered_check(roles=(Role.BALANCER_LISTENER,))
def _https_rendered(res, ctx):
    facts = ctx.facts(res)
    if facts.protocol in ("tcp", "udp"):
        return [NotApplicable("a layer-4 listener passes TLS through")]
    if facts.protocol == "http":
        return expect_fact(ctx, res, "redirects_to_https", True, "listener serves plain HTTP without redirecting to HTTPS")
    return expect_fact(ctx, res, "min_tls", lambda v: v >= "1.2", lambda v: f"the listener still accepts TLS {v}")


LB_HTTPS = Policy(
    id="encryption.lb-https",
    title="Load balancer listeners use HTTPS with TLS 1.2 or later",
    severity="high",
    checks=(_https_spec, _https_rendered),
    description="An HTTPS listener accepts TLS 1.2 or later only; a plain-HTTP listener only redirects to HTTPS.",
    remediation="Serve https (`serve: {protocol: https, name: ...}`): cloudorch renders a managed certificate, a "
                "TLS 1.2+ policy (ELBSecurityPolicy-TLS13-1-2-2021-06 on AWS) and a port 80 that only redirects.",
    frameworks=fw(("CKV_AWS_2", "CKV_AWS_103", "CKV_AZURE_217", "CKV_GCP_15")),
    tags=("encryption", "in-transit"),
)


# -- certificates that keep being issued -------------------------------------------------------------------
#: why a certificate proved over HTTP at the name's address may go unvalidated, per steering of the global name
_MISSED = {
    "latency": "validation is answered by whichever location is nearest the certificate authority, perhaps never "
               "this one",
    "weighted": "validation is answered here only when every vantage point the certificate authority checks from "
                "is sent here, so issuing and renewing are left to chance",
    "failover": "validation is answered by {first} while it is healthy, never by this backup",
}


@rendered_check(roles=(Role.CERTIFICATE,))
def _renewable_rendered(res, ctx):
    facts = ctx.facts(res)
    if facts.validation is None:
        return [NotApplicable(facts.note("validation", "does not say how the certificate is validated"))]
    if facts.validation == "operator":
        return [NotApplicable(facts.note("validation", "the operator supplies the certificate")
                              + ": whoever issues it proves the name, wherever the name resolves")]
    if facts.validation != "http":
        return []  # proved in the zone (or by mail), wherever the name resolves; UNKNOWN: decided at deploy time
    if ctx.placement is None:
        return [NotApplicable("no placement to find the name's other balancers in")]
    # the global name as the DNS side renders it (one record per balancer of a name, steered): read from the
    # same element rather than from each DNS provider's records, which every cloud spells its own way
    zone = service.global_names(ctx.stack, service.balancers(ctx.stack, ctx.placement))
    served = zone.names() if zone else {}
    here = (res.cloud, res.region)
    out = []
    for name in facts.names:
        others = [f"{b.cloud}/{b.region}" for b in served.get(name, ()) if (b.cloud, b.region) != here]
        if not others:
            continue  # the name's only balancer: it resolves here, where validation is answered
        first = zone.failover_order(name)[0]
        if zone.steering == "failover" and (first.cloud, first.region) == here:
            continue  # the primary: the name resolves here whenever this balancer is healthy
        missed = _MISSED[zone.steering].format(first=f"{first.cloud}/{first.region}")
        proved = facts.note("validation", "validated over HTTP at the address the name resolves to")
        out.append(Violation(f"{proved}, and the name also has balancers in {', '.join(others)}, steered by "
                             f"{zone.steering}: {missed}; until the certificate is issued, and once it lapses "
                             "unrenewed, clients sent here get a certificate error"))
    return out


LB_CERTIFICATE_RENEWAL = Policy(
    id="encryption.lb-certificate-renewal",
    title="HTTPS balancers' certificates are issued and renewed wherever the name resolves",
    severity="high",
    # cloudorch cannot render the fix on every cloud (below), and a certificate that is only at risk of not
    # being issued should not stop a deploy: it warns, at the severity of clients refused when it happens
    enforcement="advisory",
    checks=(_renewable_rendered,),
    description="A certificate an https balancer serves keeps being issued and renewed whichever location DNS "
                "sends the certificate authority to. ACM proves the name with a record in the zone: it passes. "
                "Azure serves the operator's Key Vault certificate: not applicable. A Google-managed certificate is "
                "proved over HTTP at the address the name resolves to, so where the name also has balancers in "
                "other locations (another region or cloud) validation may not reach this one: it fails, except "
                "the first location of failover steering. How each cloud validates is its own, so this judges the "
                "rendered certificates, with the global name's locations and steering.",
    remediation="Serve the name from one location only (one region of one cloud: `placement.regions`, `spread`), "
                "or keep the https resource off gcp (`placement.clouds` without it: ACM validates in the zone, "
                "Azure serves your Key Vault certificate), or use `steering: weighted` and watch the certificate's "
                "status after each apply and before each renewal (`gcloud compute ssl-certificates describe`: "
                "ACTIVE for every domain); with `steering: failover` only the first location of `order` is "
                "validated. Certificate Manager's DNS authorization, which would validate wherever the name "
                "resolves, is not rendered: its types are not in the pinned pulumi-gcp schema.",
    tags=("encryption", "in-transit", "availability"),
)


# -- access logs, WAF, deletion protection ------------------------------------------------------------------
def _switch(field: str, message: str, *, http_only: bool = False):
    @spec_check("compute")
    def check(target, ctx):
        serve = _serve(target)
        if serve is None:
            return [NotApplicable(_NOT_SERVED)]
        if http_only and serve.protocol == "tcp":
            return [NotApplicable("a tcp balancer carries no HTTP requests")]
        on = serve.waf_on(ctx.stack.policies.packs) if field == "waf" else getattr(serve, field)
        return [] if on else [Violation(message, ("serve", field))]

    return check


def _fact(fact: str, message: str):
    @rendered_check(roles=(Role.BALANCER,))
    def check(res, ctx):
        facts = ctx.facts(res)
        if facts.public is False and fact == "waf":
            return [NotApplicable("an internal balancer")]
        return expect_fact(ctx, res, fact, True, message)

    return check


LB_ACCESS_LOGS = Policy(
    id="logging.lb-access-logs",
    title="Load balancers write access logs",
    severity="low",
    enforcement="advisory",
    checks=(_switch("access_logs", "the balancer does not log requests"),
            _fact("access_logs", "the balancer does not log requests")),
    description="Every request through a balancer is logged (AWS ALB access logs to S3, Application Gateway "
                "access logs, backend-service logging), kept a year.",
    remediation="Leave serve.access_logs on (the default).",
    frameworks=fw(("CKV_AWS_91",)),
    tags=("logging",),
)

LB_WAF = Policy(
    id="network.lb-waf",
    title="Public HTTP load balancers are behind a web application firewall",
    severity="medium",
    enforcement="advisory",
    checks=(_switch("waf", "no web application firewall inspects the requests", http_only=True),
            _fact("waf", "no web application firewall inspects the requests")),
    description="An internet-facing http(s) balancer has a WAF with the cloud's managed rule sets (AWS WAFv2, "
                "Azure WAF policy, Cloud Armor). On by default with the pci-dss pack, which enforces it.",
    remediation="Set serve.waf: true (or use the pci-dss pack, which turns it on by default).",
    frameworks=fw(("CKV2_AWS_28", "CKV_AZURE_120")),
    tags=("network", "waf"),
)

LB_DELETION_PROTECTION = Policy(
    id="network.lb-deletion-protection",
    title="Load balancers refuse deletion",
    severity="low",
    enforcement="advisory",
    checks=(_switch("deletion_protection", "the balancer can be deleted by mistake"),
            _fact("deletion_protected", "the balancer can be deleted by mistake")),
    description="A deleted balancer takes the service's entry point (and the address its DNS records name) "
                "with it; a switch on the balancer refuses deletion until lifted.",
    remediation="Leave serve.deletion_protection on (the default); set it false before destroy.",
    frameworks=fw(("CKV_AWS_150",)),
    tags=("network", "availability"),
)


# -- health checks ----------------------------------------------------------------------------------------
@rendered_check(roles=(Role.BALANCER_BACKEND,))
def _health_rendered(res, ctx):
    return expect_fact(ctx, res, "health_check", lambda v: v is True or v is UNKNOWN,
                       "the backend has no health check: failing replicas keep receiving traffic")


LB_HEALTH_CHECK = Policy(
    id="network.lb-health-check",
    title="Load balancer backends have health checks",
    severity="medium",
    enforcement="advisory",
    checks=(_health_rendered,),
    description="A balancer takes a replica out of rotation when its health check fails (serve.health: an HTTP "
                "path, or a TCP connection). The stack format always gives one, so this judges rendered ones.",
    remediation="Give serve.health a path the service answers 2xx/3xx on (or leave it out for a TCP probe).",
    frameworks=fw(("CKV_AWS_261",)),
    tags=("network", "availability"),
)

POLICIES = (LB_HTTPS, LB_CERTIFICATE_RENEWAL, LB_ACCESS_LOGS, LB_WAF, LB_DELETION_PROTECTION, LB_HEALTH_CHECK)
