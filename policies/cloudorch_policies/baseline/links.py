"""The links that join a stack network across regions and clouds: strong IPsec, no default route over a
link, and a database's cross-cloud traffic only over a link.

Rendered rules read the neutral facts every provider gives its links and routes (``LinkFacts``,
``RouteFacts``), so a fourth cloud's VPN is judged like the three's. The spec side judges what the stack
file decides: whether a database takes traffic from addresses outside private space.
"""

from __future__ import annotations


from cloudorch.policy import NotApplicable, Policy, Violation, rendered_check, spec_check
from cloudorch.rendering.links import IpsecPolicy
from cloudorch.rendering.roles import Role

from cloudorch_policies._meta import fw

WORLD = ("0.0.0.0/0", "::/0")
#: the ciphers a link may use: the policy every cloudorch link is rendered with. A link that also allows
#: anything else (AES-128, SHA-1, DH group 2, a cloud's default list) can be negotiated down to it.
STRONG = frozenset(IpsecPolicy.names)


@spec_check("network")
def _ipsec_spec(target, ctx):
    return [NotApplicable("a stack file sets no IPsec parameters: cloudorch renders every VPN with one strong "
                          "policy, judged on the rendered links")]


@rendered_check(roles=(Role.LINK,))
def _ipsec_rendered(res, ctx):
    facts = ctx.facts(res)
    if facts.kind != "vpn":
        return [NotApplicable("a peering carries no IPsec: the clouds encrypt it on their own backbone")]
    out = []
    if facts.ike_version != "ikev2":
        out.append(Violation(facts.note("ike_version", f"IKE version is {facts.ike_version or 'the cloud default'}, "
                                                       "not IKEv2 only")))
    weak = sorted(set(facts.ciphers) - STRONG)
    if not facts.ciphers:
        out.append(Violation(facts.note("ciphers", "no IPsec policy is set, so the cloud's defaults (which include "
                                                   "AES-128, SHA-1 and DH group 2) can be negotiated")))
    elif weak:
        out.append(Violation(f"allows weak IPsec choices: {', '.join(weak)}"))
    if facts.preshared_key == "literal":
        out.append(Violation(facts.note("preshared_key", "the pre-shared key is a plain value in the plan")))
    return out


LINK_IPSEC = Policy(
    id="network.link-ipsec",
    title="VPN links use IKEv2, strong ciphers and a generated pre-shared key",
    severity="high",
    checks=(_ipsec_spec, _ipsec_rendered),
    description="Every tunnel of a site-to-site VPN allows only IKEv2 with AES-256-GCM, SHA2-384 and DH/PFS "
                "group 20, and its pre-shared key is generated inside the engine (never a value in the plan).",
    remediation="Set the tunnel's IKE versions and phase 1/2 algorithms explicitly (AWS tunnel options, an Azure "
                "connection IPsec policy, a GCP tunnel cipher suite), and take the key from a generated secret.",
    tags=("network", "encryption", "in-transit"),
)


@spec_check("network")
def _default_route_spec(target, ctx):
    return [NotApplicable("a stack file names no routes: a link carries its sites' blocks only, judged on the "
                          "rendered links and routes")]


@rendered_check(roles=(Role.LINK, Role.ROUTE))
def _default_route_rendered(res, ctx):
    facts = ctx.facts(res)
    if res.role == Role.ROUTE:
        if facts.via == "link" and facts.destination in WORLD:
            return [Violation(f"routes {facts.destination} over link {facts.link}")]
        if facts.via != "link":
            return [NotApplicable("not a route over a link")]
        return []
    out = [Violation(f"advertises {p} over link {facts.link}") for p in facts.advertises if p in WORLD]
    out += [Violation(f"routes {p} into link {facts.link}") for p in facts.static_routes if p in WORLD]
    return out


LINK_DEFAULT_ROUTE = Policy(
    id="network.link-default-route",
    title="No default route is advertised or routed over a link",
    severity="high",
    checks=(_default_route_spec, _default_route_rendered),
    description="A link carries the two sites' own blocks. A default route over it sends every site's internet "
                "traffic through another cloud, past its egress controls, and makes each side a transit for the "
                "other.",
    remediation="Advertise and route only the sites' blocks over the link (custom BGP advertisements, route "
                "propagation without a 0.0.0.0/0 entry).",
    tags=("network",),
)


@spec_check("database")
def _db_link_spec(target, ctx):
    return [Violation(f"takes traffic from {rule.from_}, over a public endpoint rather than a link", ("ingress", i))
            for i, rule in enumerate(target.model.ingress)
            if rule.from_outside_private_space]


@rendered_check(roles=(Role.DATABASE,))
def _db_link_rendered(res, ctx):
    spec = ctx.stack.resources.get(res.source) if res.source else None
    placement = ctx.placement
    if spec is None or placement is None:
        return [NotApplicable("no stack resource or placement to compare clouds with")]
    others = sorted({rule.from_ for rule in spec.ingress if rule.source_kind == "resource"
                     and (p := ctx.placement_of(rule.from_)) is not None and any(c != res.cloud for c in p.clouds)})
    if not others:
        return [NotApplicable("no flow reaches this database from another cloud")]
    facts = ctx.facts(res)
    if facts.publicly_reachable is True:
        return [Violation(facts.note("publicly_reachable", "has a public endpoint") + f", while {', '.join(others)} "
                          "reach it from another cloud: keep it private, they come over the link")]
    return []


DB_OVER_LINK = Policy(
    id="database.cross-cloud-over-link",
    title="A database takes cross-cloud traffic only over a link",
    severity="high",
    checks=(_db_link_spec, _db_link_rendered),
    description="Clients on another cloud reach a database through the stack's private link, never through a "
                "public endpoint of the database.",
    remediation="Name the client resource in the database's ingress (`from: web`) instead of a public address; "
                "cloudorch then links the two networks and keeps the database private.",
    frameworks=fw(("CKV_AWS_17", "CKV_GCP_60", "CKV_AZURE_68"), aws=("2.3.3",), gcp=("6.5",)),
    tags=("network", "database"),
)

POLICIES = (LINK_IPSEC, LINK_DEFAULT_ROUTE, DB_OVER_LINK)
