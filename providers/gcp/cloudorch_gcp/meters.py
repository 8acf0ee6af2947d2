"""How GCP resources bill, as items of the embedded network price list (``grep ^gcp, network.csv``).

Machines, Cloud SQL and buckets are priced by the placement; here is what bills besides. A type absent
from ``BY_TYPE`` costs nothing of its own (firewalls, routes, peerings, BGP sessions, the external VPN
gateway record), unless its role bills, in which case it stays unpriced (None) rather than free.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cloudorch.catalog.network import GIB_PER_GB
from cloudorch.rendering.inputs import get
from cloudorch.rendering.meters import BILLABLE_ROLES, DNS_QUERIES, NAT_GATEWAY, Meter, Unmetered
from cloudorch.rendering.model import RenderedResource

Meters = tuple[Meter, ...] | Unmetered | None

#: the label carrying a listener's (or passthrough balancer's) declared GB a month, so its meter reads it
#: off the resource ("12_5": label values allow no dot)
TRAFFIC_LABEL = "cloudorch-gb-month"
#: the label carrying a Cloud Armor policy's declared requests (millions a month), read the same way
REQUESTS_LABEL = "cloudorch-requests-million-month"
#: a zone's declared DNS queries (millions a month); its records all answer through routing policies
QUERIES_LABEL = "cloudorch-queries-million-month"
#: the rules of the Cloud Armor policy ``balancer`` renders: its preconfigured rule sets and the default rule
#: (balancer imports this module, so the count is kept here; a test holds the two equal)
ARMOR_RULES = 11
#: Google prices global forwarding rules per project: the first five together, then each; cloudorch bills each
#: rule a fifth of the first-five charge (exact up to five rules, a floor beyond)
_RULE_SHARE = 0.2

_LOG_VOLUME = "{what} are billed by the volume of logs they generate, which cloudorch cannot know"


def _logged(what: str) -> Callable[[RenderedResource], Meters]:
    def meters(res: RenderedResource) -> Meters:
        return Unmetered(_LOG_VOLUME.format(what=what)) if res.inputs.get("logConfig") else ()
    return meters


def _address(res: RenderedResource) -> Meters:
    return (Meter("public_ipv4_hour"),) if get(res.inputs, "addressType", "EXTERNAL") == "EXTERNAL" else ()


def _key(res: RenderedResource) -> Meters:
    protection = get(res.inputs, "versionTemplate.protectionLevel", "SOFTWARE")
    versions = first_year_versions(get(res.inputs, "rotationPeriod"))
    return (Meter("kms_key_month", versions, scope="hsm" if protection == "HSM" else None),)


_YEAR_SECONDS = 365 * 86400


def first_year_versions(period: object) -> float:
    """Cloud KMS bills every active key version, and each rotation adds one while the older ones stay enabled
    (what they encrypted still needs them): the average count over a key's first year, as AWS keys are
    billed at their first year's figure. A key that does not rotate keeps one version."""
    match = re.fullmatch(r"(\d+)(?:\.\d+)?s", period) if isinstance(period, str) else None
    seconds = int(match.group(1)) if match else 0
    if seconds <= 0:
        return 1.0
    total, start, versions = 0, 0, 1
    while start < _YEAR_SECONDS:
        end = min(start + seconds, _YEAR_SECONDS)
        total += versions * (end - start)
        start, versions = end, versions + 1
    return round(total / _YEAR_SECONDS, 3)


def _nat(res: RenderedResource) -> Meters:
    # per VM using it (the price list's per-VM rate up to its cap); AUTO_ONLY takes at least one external
    # address, billed like any other in use
    auto = get(res.inputs, "natIpAllocateOption") == "AUTO_ONLY"
    return (Meter(NAT_GATEWAY),) + ((Meter("public_ipv4_hour"),) if auto else ())


def _volume(res: RenderedResource, label: str) -> float:
    return float(str(get(res.inputs, "labels", {}).get(label, "0")).replace("_", "."))


def _zone(res: RenderedResource) -> Meters:
    """The zone a month and, declared, its queries: every record cloudorch writes answers through a routing
    policy (weighted, geo or failover), priced above plain records' queries."""
    if QUERIES_LABEL not in get(res.inputs, "labels", {}):
        return (Meter("dns_zone_month"), DNS_QUERIES)
    return (Meter("dns_zone_month"), Meter("dns_queries_million", _volume(res, QUERIES_LABEL), scope="routing"))


def _armor(res: RenderedResource) -> Meters:
    """Cloud Armor Standard: the policy and each of its rules a month (the default rule included: whether
    Google bills it was not established, so at most $1 over), and the requests it evaluates."""
    return (Meter("waf_web_acl_month"), Meter("waf_rule_month", len(get(res.inputs, "rules", []))),
            Meter("waf_requests", _volume(res, REQUESTS_LABEL)))


def _forwarding_rule(res: RenderedResource) -> Meters:
    """An hour of forwarding rule all month, and the data its balancer processes (in and out, the declared
    GB; the label sits on the listener that forwards, so a redirect counts none)."""
    gib = _volume(res, TRAFFIC_LABEL) * GIB_PER_GB
    return (Meter("forwarding_rules_base_hour", _RULE_SHARE),) + ((Meter("lb_processed_gb", gib),) if gib else ())


def _health_check(res: RenderedResource) -> Meters:
    # a load balancer's health checks are free; one probing from source regions is Cloud DNS's, billed by it
    return (Meter("dns_health_check_month"),) if get(res.inputs, "sourceRegions") else ()


BY_TYPE: dict[str, Callable[[RenderedResource], Meters]] = {
    # serving: forwarding rules bill (hours, data processed), and Cloud Armor policies; the address they use,
    # URL maps, proxies, SSL policies, backend services and Google-managed certificates do not
    "gcp:compute/securityPolicy:SecurityPolicy": _armor,
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": _forwarding_rule,
    "gcp:compute/forwardingRule:ForwardingRule": _forwarding_rule,
    "gcp:compute/globalAddress:GlobalAddress": lambda res: (),
    "gcp:compute/uRLMap:URLMap": lambda res: (),
    "gcp:compute/healthCheck:HealthCheck": _health_check,
    "gcp:compute/regionHealthCheck:RegionHealthCheck": lambda res: (),
    "gcp:dns/managedZone:ManagedZone": _zone,
    "gcp:compute/routerNat:RouterNat": _nat,
    "gcp:compute/address:Address": _address,
    "gcp:kms/cryptoKey:CryptoKey": _key,
    # an HA VPN gateway bills through its tunnels only, and Cloud Router is free: both listed at 0
    "gcp:compute/haVpnGateway:HaVpnGateway": lambda res: (Meter("vpn_gateway_hour"),),
    "gcp:compute/vPNTunnel:VPNTunnel": lambda res: (Meter("vpn_tunnel_hour"),),
    "gcp:compute/router:Router": lambda res: (Meter("cloud_router_hour"),),
    # VPC Flow Logs and firewall-rule logs are settings of the subnetwork / rule, billed by volume
    "gcp:compute/subnetwork:Subnetwork": _logged("VPC flow logs"),
    "gcp:compute/firewall:Firewall": _logged("firewall rule logs"),
    # data crossing a peering is priced as traffic (inter-region / inter-zone), the peering itself is free
    "gcp:compute/networkPeering:NetworkPeering": lambda res: (),
}


def meters(res: RenderedResource) -> Meters:
    found = BY_TYPE.get(res.type)
    if found is not None:
        return found(res)
    return None if res.role in BILLABLE_ROLES else ()


#: what ``balancer`` and ``dns`` build, in the meters above, for placement (``NetworkShape.serving``): a
#: forwarding rule per port a location's balancer listens on, the GBs it processes; a Cloud Armor policy with
#: its rules (the preconfigured rule sets and the default rule) and the requests it evaluates; the zone, and
#: one health check per global name (probing every balancer of the name)
SERVING_SHAPE: dict[str, tuple[Meter, ...]] = {
    "listener": (Meter("forwarding_rules_base_hour", _RULE_SHARE),),
    "waf": (Meter("waf_web_acl_month"), Meter("waf_rule_month", ARMOR_RULES)),
    "waf_million": (Meter("waf_requests"),),
    "application_gb": (Meter("lb_processed_gb", GIB_PER_GB),),
    "network_gb": (Meter("lb_processed_gb", GIB_PER_GB),),
    "zone": (Meter("dns_zone_month"),),
    "name": (Meter("dns_health_check_month"),),
}
