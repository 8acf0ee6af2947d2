"""The stack's global names on Azure (endpoint 0 of ``rendering.service.GlobalNames``): a public Azure DNS zone,
and per name a Traffic Manager profile with one external endpoint per balancer -- on any cloud -- and a
CNAME from the name to the profile.

Traffic Manager answers DNS itself: the profile's endpoint monitor is the balancers' health check (one per
profile: every balancer of a name serves the same ``serve``), and its routing method is the steering:
Performance for latency, Weighted (weight = replicas) and Priority (``GlobalNames.failover_order``).

Latency. Performance routing measures latency from clients to Azure regions only: an external endpoint
names the Azure region it is deemed to sit in (``endpointLocation``). An Azure balancer names its own
region; another cloud's names the Azure region in the same metro (``NEAREST``: Frankfurt to Frankfurt,
Oregon to Washington, ...), or, for a region not listed, the Azure region standing for its geography
(``GEO``). Clients are sent to the healthy endpoint whose deemed region is nearest to them.

Targets. A profile's external endpoints must all be names or all be addresses. When a name's balancers
mix AWS host names and other clouds' IPv4 addresses, each address gets an A record of its own in the zone
(``lb-<location>.<name>``) and the endpoint targets that name.

Resources live in a resource group of their own under a provider of their own (``GLOBAL_PROVIDER``,
region None, like AWS's and GCP's global providers), so a region the stack gains or loses -- one sorting
before the others included -- never moves, and so replaces, the zone. A resource group still needs a
location (where Azure keeps its metadata): the Azure region standing for the stack's first geography
(``GEO``), ``HOME`` when it names none, or the first Azure region `placement.regions` / `exclude_regions`
allow where they rule that one out (``global_location``); the zone, profiles and records are global (region
None: residency does not judge them, but it judges the group's location).

Certificate validation. Another cloud's https balancer exports the CNAME its managed certificate is
validated by (ACM's; Azure's and GCP's own balancers export none). Its name is absolute
(``_x.www.shop.example.com.``) and Azure DNS names a record set relative to its zone, so the name is a
reference shortened at deploy time (``relative_to``: ``_x.www``); the value is written as the cloud gives it,
trailing dot included, which Azure DNS takes as the full name it is. One record set per name, validation
record and cloud, from that cloud's first balancer of the name: Azure DNS holds one record set per name
and type, and azure-native refuses to create one that exists (Route 53's ``allowOverwrite`` has no
counterpart), while ACM gives a domain the same validation record in every region of an account; its
logical name names no region, so a region gained or lost does not replace it.
"""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.elements import EndpointRendering, EndpointView
from cloudorch.rendering.model import relative_name
from cloudorch.rendering.service import Balancer, GlobalNames

from cloudorch.rendering.roles import Role

from cloudorch_azure.meters import ENDPOINTS_TAG, QUERIES_TAG
from cloudorch_azure.naming import CLOUD, PACKAGE, _digest, make, slug

HOME = "eastus"
#: another cloud's region -> the Azure region in (or nearest to) its metro
NEAREST = {
    "us-east-1": "eastus", "us-east-2": "eastus2", "us-west-1": "westus", "us-west-2": "westus2",
    "eu-west-1": "northeurope", "eu-west-2": "uksouth", "eu-central-1": "germanywestcentral",
    "eu-north-1": "swedencentral", "ap-southeast-1": "southeastasia", "ap-northeast-1": "japaneast",
    "ap-south-1": "centralindia", "ap-southeast-2": "australiaeast",
    "us-central1": "centralus", "us-east1": "eastus", "us-east4": "eastus", "us-west1": "westus2",
    "europe-west1": "westeurope", "europe-west2": "uksouth", "europe-west3": "germanywestcentral",
    "europe-west4": "westeurope", "europe-north1": "swedencentral", "asia-southeast1": "southeastasia",
    "asia-northeast1": "japaneast", "asia-south1": "centralindia", "australia-southeast1": "australiaeast",
}
#: geography (regions.csv) -> the Azure region standing for it
GEO = {"us": "eastus", "ca": "canadacentral", "eu": "westeurope", "apac": "southeastasia", "sa": "brazilsouth",
       "me": "uaenorth", "af": "southafricanorth"}
ROUTING = {"latency": "Performance", "weighted": "Weighted", "failover": "Priority"}
#: Traffic Manager probes every 30 s, or every 10 s (billed as fast probing); timeouts must stay below them
INTERVALS = ((10, 9), (30, 10))
TTL = 60
SOURCE = "dns"
GLOBAL_PROVIDER = f"{CLOUD}-global"


def render_global_name(ctx: RenderContext, view: EndpointView) -> EndpointRendering:
    names = view.element
    assert isinstance(names, GlobalNames)
    home = global_location(ctx)
    group = f"{ctx.stack.stack}-{CLOUD}-global-rg"
    out: list[RenderedResource] = [
        RenderedResource(name=GLOBAL_PROVIDER, type=f"pulumi:providers:{PACKAGE}", role=Role.PROVIDER, cloud=CLOUD,
                         region=None, inputs={}),
        make(group, "azure-native:resources:ResourceGroup", home, None, {
            "resourceGroupName": group, "location": home, "tags": ctx.tags()}).model_copy(
            update={"region": None, "provider": GLOBAL_PROVIDER})]
    rg = ref(group, "name")

    def add(type_: str, part: str, inputs: dict, *, taggable: bool = True) -> str:
        name = f"{SOURCE}-{CLOUD}-global-{slug(part)}"
        if taggable:
            inputs = inputs | {"tags": ctx.tags() | inputs.get("tags", {})}
        # global: the resource group is only where Azure files them
        out.append(make(name, type_, home, None, {"resourceGroupName": rg, **inputs}).model_copy(
            update={"region": None, "provider": GLOBAL_PROVIDER}))
        return name

    declared = {} if names.queries_million_month is None else {
        "tags": {QUERIES_TAG: f"{names.queries_million_month:g}"}}  # its meter says why they stay unpriced
    zone = add("azure-native:dns:Zone", "zone", {"zoneName": names.zone, "location": "global", "zoneType": "Public",
                                                 **declared})
    for hostname, group in names.names().items():
        _name(ctx, names, hostname, group, view, add, zone)
    # one record set per name, validation record and cloud: Azure DNS cannot hold two (module docstring)
    first: dict[tuple[str, str, int], Balancer] = {}
    for b in names.balancers:
        for k in range(b.validation_records):
            first.setdefault((b.hostname or "", b.cloud, k), b)
    for (hostname, cloud, k), b in sorted(first.items()):
        i = names.endpoint_of(b)
        add("azure-native:dns:RecordSet", f"validation-{hostname}-{cloud}-{k}", {
            "zoneName": ref(zone, "name"), "recordType": "CNAME", "ttl": 300,
            "relativeRecordSetName": view.peer_output("validation_names", k, endpoint=i, relative_to=names.zone),
            "cnameRecord": {"cname": view.peer_output("validation_values", k, endpoint=i)}}, taggable=False)
    return EndpointRendering(resources=tuple(out), exports={})


def _name(ctx: RenderContext, names: GlobalNames, hostname: str, group: tuple[Balancer, ...], view: EndpointView,
          add, zone: str) -> None:
    base = slug(hostname)
    relative = relative_name(hostname, names.zone)
    mixed = len({b.target_kind for b in group}) > 1
    targets = {}
    for b in group:
        targets[b] = view.peer_output("target", endpoint=names.endpoint_of(b))
        if mixed and b.target_kind == "ipv4":  # an endpoint of names only: the address gets a name of its own
            label = f"lb-{_where(b)}.{relative}"
            add("azure-native:dns:RecordSet", f"{base}-{_where(b)}-address", {
                "zoneName": ref(zone, "name"), "relativeRecordSetName": label, "recordType": "A", "ttl": TTL,
                "aRecords": [{"ipv4Address": targets[b]}]}, taggable=False)
            targets[b] = f"{label}.{names.zone}"
    probe, health = GlobalNames.probe(group[0]), group[0].health
    protocol = "TCP" if health.path is None else probe.protocol.upper()
    interval, timeout = INTERVALS[0] if health.interval_s < INTERVALS[1][0] else INTERVALS[1]
    profile = add("azure-native:trafficmanager:Profile", f"{base}-tm", {
        "profileName": f"{base}-tm", "location": "global", "profileStatus": "Enabled",
        "trafficRoutingMethod": ROUTING[names.steering],
        # the profile's name under trafficmanager.net is global: the stack and name keep it apart
        "dnsConfig": {"relativeName": f"{base[:50]}-{_digest(ctx.stack.stack, hostname, 'global')}", "ttl": TTL},
        "monitorConfig": {
            "protocol": protocol, "port": probe.port, **({"path": health.path} if protocol != "TCP" else {}),
            "intervalInSeconds": interval, "timeoutInSeconds": timeout,
            "toleratedNumberOfFailures": min(health.unhealthy_threshold, 9),
            **({"expectedStatusCodeRanges": [{"min": 200, "max": 399}],
                "customHeaders": [{"name": "Host", "value": hostname}]} if protocol != "TCP" else {})},
        "trafficViewEnrollmentStatus": "Disabled",
        # its meter bills each endpoint's fast-probing add-on (the endpoints only name the profile)
        "tags": {ENDPOINTS_TAG: str(len(group))}})
    order = {b: i + 1 for i, b in enumerate(names.failover_order(hostname))}
    for b in group:
        steer = ({"endpointLocation": azure_location(b)} if names.steering == "latency"
                 else {"weight": b.replicas} if names.steering == "weighted" else {"priority": order[b]})
        add("azure-native:trafficmanager:Endpoint", f"{base}-{_where(b)}", {
            "profileName": ref(profile, "name"), "endpointType": "ExternalEndpoints", "endpointName": _where(b),
            "endpointStatus": "Enabled", "target": targets[b], **steer}, taggable=False)
    add("azure-native:dns:RecordSet", base, {
        "zoneName": ref(zone, "name"), "relativeRecordSetName": relative, "recordType": "CNAME", "ttl": TTL,
        "cnameRecord": {"cname": ref(profile, "dnsConfig", path=("fqdn",))}}, taggable=False)


def global_location(ctx: RenderContext) -> str:
    """Where the global resource group keeps its metadata: by the stack's declared residency, never by where
    its resources were placed (a placement change must not replace the zone). The Azure region standing for
    its first geography; where `placement.regions` or `exclude_regions` rule that one out, the first Azure
    region they allow (residency judges the group's location like any other; a stack allowing none is
    refused by it)."""
    placement = ctx.stack.placement
    geos = sorted(placement.geo or [])
    home = GEO.get(geos[0], HOME) if geos else HOME
    if _allowed(home, placement):
        return home
    from cloudorch.catalog.embedded import embedded_regions

    azure = sorted(r.name for r in embedded_regions()[0]
                   if r.cloud == CLOUD and (not geos or r.geo in geos) and _allowed(r.name, placement))
    return azure[0] if azure else home


def _allowed(region: str, placement) -> bool:
    return (placement.regions is None or region in placement.regions) and region not in placement.exclude_regions


def azure_location(b: Balancer) -> str:
    """The Azure region Performance routing deems a balancer to be in (see the module docstring)."""
    if b.cloud == CLOUD:
        return b.region
    if b.region in NEAREST:
        return NEAREST[b.region]
    from cloudorch.catalog.embedded import embedded_regions

    geo = next((r.geo for r in embedded_regions()[0] if r.cloud == b.cloud and r.name == b.region), "us")
    return GEO.get(geo, HOME)


def _where(b: Balancer) -> str:
    return slug(f"{b.resource}-{b.cloud}-{b.region}")

