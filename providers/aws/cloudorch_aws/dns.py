"""The stack's global names in Route 53 (endpoint 0 of ``rendering.service.GlobalNames``): the public zone,
one health check per balancer, and per name one record per balancer, steered by latency, weight or
failover -- pointing at balancers on any cloud through what their endpoints export.

Route 53 is global; its resources have no region (residency does not judge them: a zone holds no data in
one) and go through a provider of their own, ``GLOBAL_PROVIDER``, set to ``HOME`` (where its API lives): under
the provider of the stack's first AWS region they would change provider, which Pulumi treats as replacing
the zone (new name servers), whenever an earlier-sorting region is added. Latency
records name an AWS region: a balancer on another cloud is measured as the AWS region of its geography
(``NEAREST``), the closest Route 53 can express. Failover with more than two locations is a chain: each
name's PRIMARY is one location and its SECONDARY an alias to the next link of the chain (``fo1.<name>``,
...), the last SECONDARY the last location, so traffic goes to the first healthy location in order.
"""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.service import Balancer, GlobalNames

from cloudorch_aws.meters import QUERIES_TAG, ROUTING_TAG
from cloudorch_aws.naming import CLOUD, logical, region_provider, resource, slug, tags

HOME = "us-east-1"
GLOBAL_PROVIDER = f"{CLOUD}-global"
#: geography (regions.csv) -> the AWS region a latency record of another cloud's balancer there names
NEAREST = {"us": "us-east-1", "ca": "ca-central-1", "mx": "us-east-2", "eu": "eu-central-1", "apac": "ap-southeast-1",
           "sa": "sa-east-1", "me": "me-central-1", "af": "af-south-1"}
#: seconds between Route 53 probes: it offers 10 or 30
INTERVALS = (10, 30)
TTL = 60
SOURCE = "dns"


def render_global_name(ctx: RenderContext, view: EndpointView) -> EndpointRendering:
    names = view.element
    assert isinstance(names, GlobalNames)
    out: list[RenderedResource] = [region_provider(ctx, HOME).model_copy(update={"name": GLOBAL_PROVIDER,
                                                                                 "region": None})]

    def add(type_: str, part: str, inputs: dict, *, taggable: bool = True, extra_tags: dict | None = None) -> str:
        name = logical(SOURCE, "global", part)
        if taggable:
            inputs = inputs | {"tags": tags(ctx, SOURCE, name) | (extra_tags or {})}
        out.append(resource(type_, SOURCE, HOME, part, inputs).model_copy(
            update={"name": name, "region": None, "provider": GLOBAL_PROVIDER}))
        return name

    # declared queries are priced by how the records route them
    queries = {} if names.queries_million_month is None else {
        QUERIES_TAG: f"{names.queries_million_month:g}", ROUTING_TAG: names.steering}
    zone = add("aws:route53/zone:Zone", "zone", {"name": names.zone, "forceDestroy": False,
                                                 "comment": f"cloudorch {ctx.stack.stack}"}, extra_tags=queries)
    zone_id = ref(zone, "zoneId")
    checks = {}
    for b in names.balancers:
        i = names.endpoint_of(b)
        probe = GlobalNames.probe(b)
        target = view.peer_output("target", endpoint=i)
        kind = {"https": "HTTPS", "http": "HTTP", "tcp": "TCP"}[probe.protocol] if b.health.path else "TCP"
        checks[b] = add("aws:route53/healthCheck:HealthCheck", f"hc-{_where(b)}", {
            "type": kind, "port": probe.port, **({"resourcePath": b.health.path} if kind != "TCP" else {}),
            **({"fqdn": target} if b.target_kind == "hostname" else {"ipAddress": target}),
            **({"enableSni": True} if kind == "HTTPS" else {}),
            "requestInterval": INTERVALS[0] if b.health.interval_s < INTERVALS[1] else INTERVALS[1],
            "failureThreshold": b.health.unhealthy_threshold, "referenceName": _where(b)[:28]})
    for hostname, group in names.names().items():
        _records(names, hostname, group, checks, view, add, zone_id)
    seen: set[str] = set()
    for b in names.balancers:
        for k in range(b.validation_records):
            key = f"{b.hostname}-{k}-{_where(b)}"
            if key in seen:
                continue
            seen.add(key)
            i = names.endpoint_of(b)
            add("aws:route53/record:Record", f"validation-{slug(key)}", {
                "zoneId": zone_id, "type": "CNAME", "ttl": 300, "allowOverwrite": True,
                "name": view.peer_output("validation_names", k, endpoint=i),
                "records": [view.peer_output("validation_values", k, endpoint=i)]}, taggable=False)
    return EndpointRendering(resources=tuple(out), exports={})


def _records(names: GlobalNames, hostname: str, group: tuple[Balancer, ...], checks, view, add, zone_id) -> None:
    base = slug(hostname)
    # Route 53 holds one type per name: when host names and addresses mix, each address gets an A record of
    # its own and the steered records are all CNAMEs to names
    mixed = len({b.target_kind for b in group}) > 1
    kind = "CNAME" if mixed or group[0].target_kind == "hostname" else "A"
    direct: dict[Balancer, object] = {}
    for b in group:
        direct[b] = view.peer_output("target", endpoint=names.endpoint_of(b))
        if mixed and b.target_kind == "ipv4":
            address = f"lb-{_where(b)}.{hostname}"
            add("aws:route53/record:Record", f"{base}-{_where(b)}-address", {
                "zoneId": zone_id, "name": address, "type": "A", "ttl": TTL, "records": [direct[b]]}, taggable=False)
            direct[b] = address

    def target(b: Balancer) -> dict:
        return {"type": kind, "ttl": TTL, "records": [direct[b]], "healthCheckId": ref(checks[b])}

    if len(group) == 1:
        add("aws:route53/record:Record", f"{base}", {"zoneId": zone_id, "name": hostname, **target(group[0])},
            taggable=False)
        return
    if names.steering != "failover":
        for b in group:
            policy = ({"latencyRoutingPolicies": [{"region": _aws_region(b)}]} if names.steering == "latency"
                      else {"weightedRoutingPolicies": [{"weight": b.replicas}]})
            add("aws:route53/record:Record", f"{base}-{_where(b)}", {
                "zoneId": zone_id, "name": hostname, "setIdentifier": _where(b), **target(b), **policy}, taggable=False)
        return
    order = names.failover_order(hostname)
    for k in range(len(order) - 1):
        here = hostname if k == 0 else f"fo{k}.{hostname}"
        add("aws:route53/record:Record", f"{base}-fo{k}-primary", {
            "zoneId": zone_id, "name": here, "setIdentifier": f"{_where(order[k])}-primary",
            "failoverRoutingPolicies": [{"type": "PRIMARY"}], **target(order[k])}, taggable=False)
        last = k + 1 == len(order) - 1
        rest = target(order[k + 1]) if last else {"type": kind, "aliases": [
            {"name": f"fo{k + 1}.{hostname}", "zoneId": zone_id, "evaluateTargetHealth": True}]}
        add("aws:route53/record:Record", f"{base}-fo{k}-secondary", {
            "zoneId": zone_id, "name": here, "setIdentifier": f"{_where(order[k + 1])}-secondary",
            "failoverRoutingPolicies": [{"type": "SECONDARY"}], **rest}, taggable=False)


def _where(b: Balancer) -> str:
    return slug(f"{b.resource}-{b.cloud}-{b.region}")


def _aws_region(b: Balancer) -> str:
    if b.cloud == CLOUD:
        return b.region
    from cloudorch.catalog.embedded import embedded_regions

    geo = next((r.geo for r in embedded_regions()[0] if r.cloud == b.cloud and r.name == b.region), "us")
    return NEAREST.get(geo, HOME)
