"""The stack's global names in Cloud DNS (endpoint 0 of ``rendering.service.GlobalNames``): a public zone and,
per name, one record set with a routing policy over every location's balancer, on any cloud.

Steering: ``latency`` is a geolocation policy (Cloud DNS answers with the item of the Google Cloud region
nearest the resolver; another cloud's balancer is placed at the GCP region of its geography, ``NEAREST``);
``weighted`` a weighted round robin (weight = replicas); ``failover`` a primary/backup policy: the first
location of ``failover_order`` is the primary, the others its backup as a geolocation policy -- Cloud DNS
orders no further, so past the first a client gets the nearest healthy backup, not the second in order.

Health: public routing policies health-check *external endpoints*, which are IP addresses ("DNS routing
policies and health checks", cloud.google.com/dns/docs/routing-policies-overview, read 2026-12-07; the
pulumi-gcp schema's ``routingPolicy.healthCheck`` with ``healthCheckedTargets.externalEndpoints``). A policy
names ONE health check, a global one probing from three source regions (``SOURCE_REGIONS``; interval 30 s or
more), which probes every endpoint of the policy on its own: a location whose balancer fails stops being
answered. So a name gets one health check, not one per balancer as the contract words it -- every balancer of
a name listens alike (one ``serve``). Balancers whose target is a host name (AWS's ALB/NLB) can be neither
health-checked nor written as a CNAME here (rrdata must end in a dot, and a reference to another cloud's
output cannot be suffixed), so ``check_names`` refuses a gcp zone over them, at ``dns.provider``.

Certificate validation records other balancers export (ACM's, Certificate Manager's) are written as CNAMEs;
GCP's own balancers export none (their certificates are authorized through the balancer itself).
"""

from __future__ import annotations

from cloudorch.errors import Problem
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.service import Balancer, GlobalNames

from cloudorch_gcp.balancer import HEALTH_CHECK
from cloudorch_gcp.meters import QUERIES_LABEL
from cloudorch_gcp.naming import CLOUD, labels, resource, rfc1035

ZONE = "gcp:dns/managedZone:ManagedZone"
RECORD_SET = "gcp:dns/recordSet:RecordSet"
SOURCE = "dns"
TTL = 60
#: where Cloud DNS's health checks probe from: exactly three regions, one per continent
SOURCE_REGIONS = ("europe-west4", "us-east4", "asia-southeast1")
#: a health check with source regions probes at most every 30 s
MIN_INTERVAL = 30
#: geography (regions.csv) -> the GCP region a geolocation item of another cloud's balancer there names
NEAREST = {"us": "us-east4", "ca": "northamerica-northeast1", "mx": "northamerica-south1", "eu": "europe-west3",
           "apac": "asia-southeast1", "sa": "southamerica-east1", "me": "me-central1", "af": "africa-south1"}


def check_names(ctx: RenderContext) -> list[Problem]:
    names = next((e for e in ctx.elements if isinstance(e, GlobalNames) and e.endpoints[0].cloud == CLOUD), None)
    if names is None:
        return []
    named = sorted({b.cloud for b in names.balancers if b.target_kind == "hostname"})
    if not named:
        return []
    return [ctx.problem(("dns", "provider"), (
        f"Cloud DNS (gcp) health-checks and answers with IP addresses, but the balancers on {', '.join(named)} are "
        "reached by host name; name that cloud as dns.provider, or keep the served resources off it"))]


def render_global_name(ctx: RenderContext, view: EndpointView) -> EndpointRendering:
    names = view.element
    assert isinstance(names, GlobalNames)
    out: list[RenderedResource] = []

    def add(type_: str, part: str, inputs: dict) -> str:
        name = rfc1035(SOURCE, part, max_len=55)
        # no region: the zone and its records live nowhere in particular, under the global provider
        out.append(resource(name, type_, None, SOURCE, inputs))
        return name

    zone = add(ZONE, names.zone, {
        "dnsName": f"{names.zone}.", "visibility": "public", "forceDestroy": False,
        "description": f"cloudorch {ctx.stack.stack}", "labels": labels(ctx, None) | (
            {} if names.queries_million_month is None
            else {QUERIES_LABEL: f"{names.queries_million_month:g}".replace(".", "_")}),
        # signed answers; the parent zone needs the DS record Cloud DNS shows once the zone exists
        "dnssecConfig": {"state": "on"}})
    for hostname, group in names.names().items():
        check = add(HEALTH_CHECK, f"{hostname}-hc", _probe(group[0], hostname))
        policy = _policy(names, hostname, group, view) | {"healthCheck": ref(check, "id")}
        add(RECORD_SET, hostname, {"managedZone": ref(zone, "name"), "name": f"{hostname}.", "type": "A",
                                   "ttl": TTL, "routingPolicy": policy})
    seen: set[str] = set()
    for b in names.balancers:
        i = names.endpoint_of(b)
        for k in range(b.validation_records):
            key = f"{b.hostname}-{b.cloud}-{b.region}-{b.resource}-{k}"
            if key not in seen:
                seen.add(key)
                add(RECORD_SET, f"validation-{key}", {
                    "managedZone": ref(zone, "name"), "type": "CNAME", "ttl": 300,
                    "name": view.peer_output("validation_names", k, endpoint=i),
                    "rrdatas": [view.peer_output("validation_values", k, endpoint=i)]})
    return EndpointRendering(resources=tuple(out), exports={})


def _probe(b: Balancer, hostname: str) -> dict:
    """What every balancer of ``hostname`` is probed with: its serving listener, the health path through it."""
    listener = GlobalNames.probe(b)
    if listener.protocol == "tcp" or b.health.path is None:
        probe: dict = {"tcpHealthCheck": {"port": listener.port}}
    else:
        key = "httpsHealthCheck" if listener.protocol == "https" else "httpHealthCheck"
        probe = {key: {"port": listener.port, "requestPath": b.health.path, "host": hostname}}
    interval = max(MIN_INTERVAL, b.health.interval_s)
    return {**probe, "sourceRegions": list(SOURCE_REGIONS), "checkIntervalSec": interval, "timeoutSec": 5,
            "healthyThreshold": b.health.healthy_threshold, "unhealthyThreshold": b.health.unhealthy_threshold,
            "description": f"Cloud DNS: the balancers of {hostname}"}


def _policy(names: GlobalNames, hostname: str, group: tuple[Balancer, ...], view: EndpointView) -> dict:
    def targets(bs) -> dict:
        return {"externalEndpoints": [view.peer_output("target", endpoint=names.endpoint_of(b)) for b in bs]}

    if len(group) == 1 or names.steering == "weighted":
        return {"wrrs": [{"weight": b.replicas, "healthCheckedTargets": targets([b])} for b in group]}
    if names.steering == "latency":
        return {"geos": _geos(group, targets)}
    order = names.failover_order(hostname)
    return {"primaryBackup": {"primary": targets(order[:1]), "backupGeos": _geos(order[1:], targets),
                              "trickleRatio": 0, "enableGeoFencingForBackups": False}}


def _geos(group, targets) -> list[dict]:
    by_location: dict[str, list[Balancer]] = {}
    for b in group:
        by_location.setdefault(gcp_region(b), []).append(b)
    return [{"location": loc, "healthCheckedTargets": targets(bs)} for loc, bs in sorted(by_location.items())]


def gcp_region(b: Balancer) -> str:
    """The GCP region a geolocation item of ``b`` names: its own on GCP, else its geography's."""
    if b.cloud == CLOUD:
        return b.region
    from cloudorch.catalog.embedded import embedded_regions

    geo = next((r.geo for r in embedded_regions()[0] if r.cloud == b.cloud and r.name == b.region), "us")
    return NEAREST.get(geo, NEAREST["us"])
