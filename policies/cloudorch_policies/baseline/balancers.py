"""Load balancers in front of served resources (``serve:``): TLS and redirects, access logs, a WAF,
deletion protection and health checks -- on the stack's ``serve`` blocks and on every cloud's rendered
balancers, through the neutral facts (``BalancerFacts``, ``ListenerFacts``, ``BackendFacts``)."""

from __future__ import annotations

from cloudorch.policy import NotApplicable, Policy, Violation, expect_fact, rendered_check, spec_check
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

POLICIES = (LB_HTTPS, LB_ACCESS_LOGS, LB_WAF, LB_DELETION_PROTECTION, LB_HEALTH_CHECK)
