"""Google Cloud resources read into neutral facts: firewalls, Cloud SQL instances, buckets and their grants,
link tunnels and peerings, routes.

Read from the inputs alone (and the resources that refer to them), never from the project: the same
resources always read the same.
"""

from __future__ import annotations

import re
from typing import Any

from cloudorch.rendering.facts import (
    ALL_PORTS, BALANCER_PEER, BgpSession, BucketAccessFacts, BucketFacts, DatabaseFacts, FirewallFacts, InstanceFacts,
    LinkFacts, Reader, RenderedGraph, RouteFacts, ServicePeeringFacts, TrafficRule,
)
from cloudorch.rendering.inputs import UNKNOWN, any_on, flag, get, is_world, items, port_range, protocol_name
from cloudorch.rendering.links import IpsecPolicy
from cloudorch.rendering.model import REF, RenderedResource, is_ref

from cloudorch_gcp import balancer_facts
from cloudorch_gcp.links import CIPHER_SUITE, PEERING, ROUTER_INTERFACE, ROUTER_PEER, VPN_TUNNEL, peering_name

FIREWALL = "gcp:compute/firewall:Firewall"
DATABASE_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"

_DIRECTIONS = {"INGRESS": "ingress", "EGRESS": "egress"}
#: a firewall rule's priority when it sets none (0 is weighed first, 65535 last)
DEFAULT_PRIORITY = 1000
INSTANCE = "gcp:compute/instance:Instance"
INSTANCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
_PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}
#: what Cloud SQL keeps when backupRetentionSettings leaves it out
DEFAULT_RETAINED_BACKUPS = 7


def _firewall(res: RenderedResource, graph: RenderedGraph) -> FirewallFacts:
    inputs = res.inputs
    if flag(get(inputs, "disabled")) is True:
        return FirewallFacts()  # a disabled rule admits and denies nothing
    direction = get(inputs, "direction", "INGRESS")
    direction = _DIRECTIONS.get(direction.upper()) if isinstance(direction, str) else None
    if direction == "egress":
        peers = tuple(items(inputs, "destinationRanges")) or ("0.0.0.0/0",)
    else:
        peers = tuple(items(inputs, "sourceRanges"))
        if not peers and not items(inputs, "sourceTags") and not items(inputs, "sourceServiceAccounts"):
            peers = ("0.0.0.0/0",)  # an ingress rule naming no source at all admits every address
    priority = get(inputs, "priority", DEFAULT_PRIORITY)
    priority = int(priority) if isinstance(priority, int | str) and str(priority).isdigit() else None
    # a rule naming target tags or service accounts applies only to the instances carrying one of them
    targets = (*_tags(inputs, "targetTags"), *(_selector(a) for a in items(inputs, "targetServiceAccounts")))
    rules = []
    for action, key in (("allow", "allows"), ("deny", "denies")):
        for entry in items(inputs, key):
            if entry is UNKNOWN:
                continue
            protocol, ports = get(entry, "protocol"), items(entry, "ports")
            protocol = protocol_name(protocol)
            if not ports or protocol == "all":
                ranges: tuple[tuple[int, int], ...] = (ALL_PORTS,)
            else:
                ranges = tuple(r for r in (port_range(p) for p in ports) if r)
            rules.append(TrafficRule(direction, action, _with_balancer(peers), ranges, protocol,  # type: ignore[arg-type]
                                     priority=priority))
    return FirewallFacts(rules=tuple(rules), balancer=balancer_facts.guards_balancer(res), targets=targets or None)


def _selector(value: Any) -> Any:
    """A service account as a firewall or an instance names it: an email, or the same reference on both."""
    if isinstance(value, dict) and is_ref(value):
        return f"{value[REF]}.{value.get('output', '')}"
    return value


def _instance(res: RenderedResource, graph: RenderedGraph) -> InstanceFacts:
    """An instance or template: the network tags and service account firewall rules select it by."""
    account = res.inputs.get("serviceAccount")
    email = account.get("email") if isinstance(account, dict) and not is_ref(account) else None
    return InstanceFacts(tags=(*_tags(res.inputs, "tags"), *((_selector(email),) if email is not None else ())))


def _tags(inputs: dict[str, Any], key: str) -> tuple[Any, ...]:
    """Network tags; one that is another resource's output is known only at deploy time."""
    return tuple(UNKNOWN if is_ref(t) else t for t in items(inputs, key))


def _with_balancer(peers: tuple) -> tuple:
    """Google's load-balancer and health-check ranges are the balancer in front of the replicas: a rule admitting
    only those admits the balancer (``BALANCER_PEER``, the reachability proof's balancer -> replica hop)."""
    if peers and all(balancer_facts.from_google_balancers(p) for p in peers):
        return (*peers, BALANCER_PEER)
    return peers


def _database(res: RenderedResource, graph: RenderedGraph) -> DatabaseFacts:
    inputs, notes = res.inputs, {}
    deletion = get(inputs, "deletionProtection", True)  # pulumi-gcp defaults to protected
    protected = UNKNOWN if deletion is UNKNOWN else flag(deletion) is not False
    if protected is False:
        notes["deletion_protected"] = "deletionProtection is false"
    days = _backup_days(inputs)
    if days == 0:
        notes["backup_retention_days"] = "automated backups are off"
    return DatabaseFacts(
        # whole paths from the inputs: a reference anywhere along one makes the value unknown, not absent
        publicly_reachable=_public_ip(get(inputs, "settings.ipConfiguration"), notes),
        encrypted_at_rest=True,  # Cloud SQL always encrypts storage (Google-managed keys unless a CMEK is set)
        backup_retention_days=days,
        deletion_protected=protected,
        high_availability=_regional(inputs, notes),
        enhanced_monitoring=True,  # Cloud SQL reports OS metrics to Cloud Monitoring on its own
        performance_insights=_flag_on(get(inputs, "settings.insightsConfig.queryInsightsEnabled"), notes,
                                      "performance_insights", "Query Insights is off"),
        iam_authentication=_iam_authentication(inputs, notes),
        statement_logging=_statement_logging(inputs, notes),
        customer_managed_key=_cmek(get(inputs, "encryptionKeyName"), notes),
        notes=notes,
    )


def _flags(inputs: dict[str, Any]) -> Any:
    """name -> value of the instance's database flags (UNKNOWN when the list is a reference)."""
    listed = items(inputs, "settings.databaseFlags")
    if any(f is UNKNOWN for f in listed):
        return UNKNOWN
    return {get(f, "name"): get(f, "value") for f in listed}


def _flag_on(value: Any, notes: dict[str, str], fact: str, off: str) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if flag(value) is True:
        return True
    notes[fact] = off
    return False


def _regional(inputs: dict[str, Any], notes: dict[str, str]) -> Any:
    kind = get(inputs, "settings.availabilityType", "ZONAL")
    if kind is UNKNOWN:
        return UNKNOWN
    if kind != "REGIONAL":
        notes["high_availability"] = f"availabilityType is {kind}, not REGIONAL"
    return kind == "REGIONAL"


def _iam_authentication(inputs: dict[str, Any], notes: dict[str, str]) -> Any:
    flags = _flags(inputs)
    if flags is UNKNOWN:
        return UNKNOWN
    value = flags.get("cloudsql.iam_authentication", flags.get("cloudsql_iam_authentication"))
    return _flag_on(value if value is UNKNOWN else value == "on", notes, "iam_authentication",
                    "the cloudsql.iam_authentication flag is not on")


def _statement_logging(inputs: dict[str, Any], notes: dict[str, str]) -> Any:
    version = get(inputs, "databaseVersion")
    if version is UNKNOWN:
        return UNKNOWN
    if not (isinstance(version, str) and version.startswith("POSTGRES")):
        return None
    flags = _flags(inputs)
    if flags is UNKNOWN:
        return UNKNOWN
    value = flags.get("log_statement", "none")
    if value == "none":
        notes["statement_logging"] = "the log_statement flag is none (or unset)"
    return value


def _cmek(key: Any, notes: dict[str, str],
          off: str = "no encryptionKeyName: storage is encrypted with a Google-managed key") -> Any:
    if key is None:
        notes["customer_managed_key"] = off
        return False
    return True


def _lifecycle(inputs: dict[str, Any], notes: dict[str, str]) -> Any:
    rules = items(inputs, "lifecycleRules")
    if any(r is UNKNOWN for r in rules):
        return UNKNOWN
    if not rules:
        notes["lifecycle"] = "no lifecycle rule archives or deletes its objects"
    return bool(rules)


def _public_ip(ip: Any, notes: dict[str, str]) -> Any:
    if ip is UNKNOWN:
        return UNKNOWN
    if any(is_world(get(n, "value")) for n in items(ip, "authorizedNetworks") if n is not UNKNOWN):
        notes["publicly_reachable"] = "authorized networks admit 0.0.0.0/0"
        return True
    enabled = get(ip, "ipv4Enabled") if ip is not None else None
    if enabled is UNKNOWN:
        return UNKNOWN
    if flag(enabled) is False:
        return False
    notes["publicly_reachable"] = "the instance has a public IPv4 address (ipv4Enabled is not false)"
    return True


def _backup_days(inputs: dict[str, Any]) -> Any:
    """Days of daily backups kept: retainedBackups, the count Cloud SQL keeps; 0 when backups are off."""
    enabled = get(inputs, "settings.backupConfiguration.enabled")
    if enabled is UNKNOWN:
        return UNKNOWN
    if flag(enabled) is not True:
        return 0
    retention = "settings.backupConfiguration.backupRetentionSettings"
    unit = get(inputs, f"{retention}.retentionUnit", "COUNT")
    count = get(inputs, f"{retention}.retainedBackups", DEFAULT_RETAINED_BACKUPS)
    if unit is UNKNOWN or count is UNKNOWN:
        return UNKNOWN
    return int(count) if unit == "COUNT" else UNKNOWN


def _bucket(res: RenderedResource, graph: RenderedGraph) -> BucketFacts:
    inputs = res.inputs
    notes = {"public": "who may read a Cloud Storage bucket is up to its IAM bindings, which are judged themselves"}
    prevention = get(inputs, "publicAccessPrevention")
    blocked = UNKNOWN if prevention is UNKNOWN else prevention == "enforced"
    if blocked is False:
        notes["public_access_blocked"] = f"publicAccessPrevention is {prevention or 'unset'}, not enforced"
    logged = get(inputs, "logging.logBucket") is not None
    if not logged and any(_log_target(other.inputs, res.name) for other in graph.referrers(res.name, BUCKET)):
        # logging its own access would log every delivery into it
        logged = None
        notes["access_logging"] = "it holds other buckets' usage logs"
    elif not logged:
        notes["access_logging"] = "no access log bucket is set"
    return BucketFacts(
        public=None,
        public_access_blocked=blocked,
        encrypted_at_rest=True,  # Cloud Storage always encrypts objects
        versioning=any_on([get(inputs, "versioning.enabled")]),
        access_logging=logged,
        lifecycle=_lifecycle(inputs, notes),
        customer_managed_key=_cmek(get(inputs, "encryption.defaultKmsKeyName"), notes,
                                   "no encryption.defaultKmsKeyName: objects use Google-managed keys"),
        notes=notes,
    )


def _log_target(inputs: dict[str, Any], name: str) -> bool:
    target = inputs.get("logging", {}).get("logBucket") if isinstance(inputs.get("logging"), dict) else None
    return is_ref(target) and target[REF] == name


def _binding(res: RenderedResource, graph: RenderedGraph) -> BucketAccessFacts:
    members = items(res.inputs, "members")
    public = sorted({m for m in members if isinstance(m, str) and m in _PUBLIC_MEMBERS})
    if public:
        return BucketAccessFacts(public=True,
                                 notes={"public": f"grants {get(res.inputs, 'role')} to {', '.join(public)}"})
    return BucketAccessFacts(public=UNKNOWN if UNKNOWN in members else False)


# -- links ---------------------------------------------------------------------------------------------------
NETWORK = "gcp:compute/network:Network"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
ROUTE = "gcp:compute/route:Route"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
_TUNNEL_DESCRIPTION = re.compile(r"^cloudorch link (?P<link>\S+) side (?P<side>[01]) tunnel (?P<tunnel>\d+)$")
_NETWORK_SUFFIX = "-gcp-network"


def _target(graph: RenderedGraph, value: Any) -> RenderedResource | None:
    return graph.rendered(value[REF]) if is_ref(value) else None


def _vpc(graph: RenderedGraph, value: Any) -> RenderedResource | None:
    """The VPC a network input refers to, directly or through another resource's own ``network`` input (a
    peering's peerNetwork is the other side's peering's ``network`` output)."""
    for _ in range(3):
        found = _target(graph, value)
        if found is None or found.type == NETWORK:
            return found
        value = found.inputs.get("network")
    return None


def _tunnel(res: RenderedResource, graph: RenderedGraph) -> LinkFacts:
    inputs, notes = res.inputs, {}
    described = _TUNNEL_DESCRIPTION.match(str(get(inputs, "description", "")))
    if described is None:
        return LinkFacts(link="", side=0, kind="vpn", notes={"link": "the tunnel names no cloudorch link"})
    router = _target(graph, inputs.get("router"))
    advertises: tuple[str, ...] = ()
    if router is not None:
        advertises = tuple(r for r in (get(x, "range") for x in items(router.inputs, "bgp.advertisedIpRanges")
                                       if x is not UNKNOWN) if isinstance(r, str))
        vpc = _vpc(graph, router.inputs.get("network"))
        mode = get(vpc.inputs, "routingMode", "REGIONAL") if vpc is not None else UNKNOWN
        notes["routes_learned"] = (
            "the Cloud Router installs what the peer announces as dynamic routes; routing mode GLOBAL makes them "
            "reach the subnetworks of every region" if mode == "GLOBAL" else
            f"the Cloud Router installs what the peer announces, in {router.region} only (routing mode {mode})")
    # the tunnel routes only through its BGP session: a router interface on it and a peer on that interface
    interfaces = graph.referrers(res.name, ROUTER_INTERFACE)
    session = any(graph.referrers(i.name, ROUTER_PEER) for i in interfaces)
    sessions = _sessions(described, router, interfaces, graph, notes)
    if not session:
        advertises = ()
        notes["routes_learned"] = "no Cloud Router interface with a BGP peer on this tunnel: nothing is learned over it"
    version = get(inputs, "ikeVersion", 2)  # Cloud VPN's default is IKEv2
    ike = UNKNOWN if version is UNKNOWN else {1: "ikev1", 2: "ikev2"}.get(int(version))
    suite = get(inputs, "cipherSuite")
    if suite == CIPHER_SUITE:
        ciphers: tuple[str, ...] = IpsecPolicy.names
    else:
        ciphers = ()
        notes["ciphers"] = "cipherSuite differs from the stack's IPsec policy" if suite else \
            "no cipherSuite: Cloud VPN negotiates from its default list"
    secret = inputs.get("sharedSecret")
    key_holder = _target(graph, secret)
    if isinstance(secret, str):
        key = "literal"
    elif is_ref(secret) and (key_holder is None or key_holder.type == RANDOM_PASSWORD):
        key = "generated"
    else:
        key = None
    return LinkFacts(
        link=described["link"], side=int(described["side"]), kind="vpn", tunnels=(int(described["tunnel"]),),
        advertises=advertises, routes_learned=session, sessions=sessions, ike_version=ike, ciphers=ciphers, preshared_key=key,
        notes=notes,
    )


def _sessions(described: re.Match, router: RenderedResource | None, interfaces: list[RenderedResource],
              graph: RenderedGraph, notes: dict[str, str]) -> tuple[BgpSession, ...]:
    """The tunnel's BGP session on the Cloud Router: the router's ASN, the interface's address (its ipRange,
    the tunnel's /30) and, from the router peer on that interface, the peer's ASN and address."""
    tunnel = int(described["tunnel"])
    asn = get(router.inputs, "bgp.asn") if router is not None else None
    out = []
    for interface in interfaces:
        own = get(interface.inputs, "ipRange")
        own = own.split("/")[0] if isinstance(own, str) else own
        for peer in graph.referrers(interface.name, ROUTER_PEER):
            address = get(peer.inputs, "ipAddress")
            if isinstance(address, str) and isinstance(own, str) and address != own:
                # the peer speaks from an address its interface does not hold: no session
                notes["sessions"] = f"router peer {peer.name} speaks from {address}, its interface holds {own}"
                continue
            out.append(BgpSession(tunnel=tunnel, asn=asn, address=own, peer_asn=get(peer.inputs, "peerAsn"),
                                  peer_address=get(peer.inputs, "peerIpAddress")))
    return tuple(out)


def _network_of(vpc: RenderedResource) -> str:
    return vpc.name.removesuffix(_NETWORK_SUFFIX)


def _regions(graph: RenderedGraph, vpc: RenderedResource) -> dict[str, str]:
    """region -> subnetwork range of a VPC's subnetworks."""
    return {s.region: get(s.inputs, "ipCidrRange") for s in graph.referrers(vpc.name, SUBNETWORK) if s.region}


def _peering(res: RenderedResource, graph: RenderedGraph) -> LinkFacts:
    """A peering joins whole networks: it offers the subnetworks of every region of its own network.

    Its link is found by name: the peering is named after the first link (in id order) between its two
    networks, so every region pair of the two VPCs is a candidate, and the one whose name it bears is it.
    """
    own, peer = _vpc(graph, res.inputs.get("network")), _vpc(graph, res.inputs.get("peerNetwork"))
    notes = {"routes_learned": "a VPC peering always exchanges subnet routes; custom (VPN-learned) routes "
                               "are neither exported nor imported"}
    if own is None or peer is None:
        return LinkFacts(link="", side=0, kind="peering", notes={"link": "the peered networks are not known"})
    own_regions, peer_regions = _regions(graph, own), _regions(graph, peer)
    advertises = tuple(sorted(r for r in own_regions.values() if isinstance(r, str)))
    for own_region in sorted(own_regions):
        for peer_region in sorted(peer_regions):
            ends = sorted([(_network_of(own), own_region, 0), (_network_of(peer), peer_region, 1)])
            side = [e[2] for e in ends].index(0)
            link = _candidate(ends)
            if peering_name(link, side) == res.name:
                # one peering joins the whole networks: it carries every region pair's link between them
                others = tuple(sorted({_candidate(sorted([(_network_of(own), o, 0), (_network_of(peer), p, 1)])).id
                                       for o in own_regions for p in peer_regions} - {link.id}))
                return LinkFacts(link=link.id, side=side, kind="peering", advertises=advertises,
                                 routes_learned=True, also=others, notes=notes)
    return LinkFacts(link="", side=0, kind="peering", advertises=advertises, routes_learned=True,
                     notes=notes | {"link": "no link between these networks bears this peering's name"})


def _candidate(ends: list[tuple[str, str, int]]):
    from cloudorch.network.model import Link, Site

    a, b = (Site(network=n, cloud="gcp", region=r, cidr="0.0.0.0/32") for n, r, _ in ends)
    return Link(id=f"{a.network}@gcp/{a.region}~{b.network}@gcp/{b.region}", kind="peering", a=a, b=b)


def _route(res: RenderedResource, graph: RenderedGraph) -> RouteFacts:
    inputs = res.inputs
    gateway = get(inputs, "nextHopGateway")
    if isinstance(gateway, str) and gateway.endswith("default-internet-gateway"):
        return RouteFacts(destination=get(inputs, "destRange"), via="internet")
    tunnel = _target(graph, inputs.get("nextHopVpnTunnel"))
    if tunnel is not None:
        facts = _tunnel(tunnel, graph)
        return RouteFacts(destination=get(inputs, "destRange"), via="link", link=facts.link or None)
    via = next((word for key, word in (("nextHopIlb", "balancer"), ("nextHopInstance", "instance"),
                                       ("nextHopIp", "instance"), ("nextHopVpnTunnel", "vpn-tunnel"))
                if inputs.get(key) is not None), None)
    return RouteFacts(destination=get(inputs, "destRange"), via=via)


SERVICE_CONNECTION = "gcp:servicenetworking/connection:Connection"
PEERING_ROUTES = "gcp:compute/networkPeeringRoutesConfig:NetworkPeeringRoutesConfig"


def _service_access(res: RenderedResource, graph: RenderedGraph) -> ServicePeeringFacts:
    """Private services access: Cloud SQL lives in Google's network, peered to the VPC. The peering passes on
    the VPC's custom routes (what the Cloud Routers learned over VPN) only where a routes config of it says
    exportCustomRoutes; without one a client on another cloud reaches the database, which never answers."""
    configs = graph.referrers(res.name, PEERING_ROUTES)
    exported = [get(c.inputs, "exportCustomRoutes") for c in configs]
    if any(flag(e) is True for e in exported):
        return ServicePeeringFacts(holds=("database",), exports_learned=True)
    if any(e is UNKNOWN for e in exported):
        return ServicePeeringFacts(holds=("database",), exports_learned=UNKNOWN)
    return ServicePeeringFacts(holds=("database",), exports_learned=False, notes={
        "exports_learned": "no NetworkPeeringRoutesConfig of this peering sets exportCustomRoutes: Cloud SQL does "
                           "not learn the routes to the other clouds"})


READERS: dict[str, Reader] = {
    FIREWALL: _firewall, DATABASE_INSTANCE: _database, BUCKET: _bucket, BUCKET_IAM_BINDING: _binding,
    VPN_TUNNEL: _tunnel, PEERING: _peering, ROUTE: _route, INSTANCE: _instance, INSTANCE_TEMPLATE: _instance,
    SERVICE_CONNECTION: _service_access,
    **balancer_facts.READERS,
}

