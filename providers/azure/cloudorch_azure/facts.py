"""Azure resources read into neutral facts: security groups and rules, flexible servers, storage, links.

Read from the inputs alone (and the resources that refer to them). Besides the types this plugin renders,
the readers know the other spellings of the same thing (rules inline in a network security group) so that
resources written by hand are judged alike.
"""

from __future__ import annotations

from typing import Any

from cloudorch.rendering.facts import (
    BgpSession, BucketAccessFacts, BucketFacts, DatabaseFacts, FirewallFacts, LinkFacts, Reader, RenderedGraph, TrafficRule,
)
from cloudorch.rendering.inputs import UNKNOWN, any_on, flag, get, items, port_range, protocol_name
from cloudorch.rendering.links import IpsecPolicy
from cloudorch.rendering.model import REF, RenderedResource, is_ref

from cloudorch_azure import balancer_facts
from cloudorch_azure.links import (
    AZURE_IPSEC_POLICY, CONNECTION, LINK_TAG, PEERING, SIDE_TAG, TUNNELS_TAG,
)

NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
DATABASES = ("azure-native:dbforpostgresql:Server", "azure-native:dbformysql:Server")
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
MANAGEMENT_POLICY = "azure-native:storage:ManagementPolicy"

_DIRECTIONS = {"inbound": "ingress", "outbound": "egress"}
_ACTIONS = {"allow": "allow", "deny": "deny"}
#: the service tags and wildcards that mean "any address on the internet"
_WORLD = {"*", "internet", "any", "0.0.0.0/0"}


def _word(value: Any, default: str, words: dict[str, str]) -> str | None:
    value = default if value is None else value
    return words.get(value.lower()) if isinstance(value, str) else None


def _peer(prefix: Any) -> Any:
    return "0.0.0.0/0" if isinstance(prefix, str) and prefix.strip().lower() in _WORLD else prefix


def _rule(rule: Any) -> TrafficRule:
    direction = _word(get(rule, "direction"), "Inbound", _DIRECTIONS)
    far = "source" if direction != "egress" else "destination"
    peers = [get(rule, f"{far}AddressPrefix"), *items(rule, f"{far}AddressPrefixes")]
    specs = [get(rule, "destinationPortRange"), *items(rule, "destinationPortRanges")]
    protocol, priority = get(rule, "protocol"), get(rule, "priority")
    return TrafficRule(
        direction, _word(get(rule, "access"), "Allow", _ACTIONS),  # type: ignore[arg-type]
        tuple(_peer(p) for p in peers if p is not None),
        tuple(r for r in (port_range(s) for s in specs if s is not None) if r),
        protocol_name(protocol),
        # an NSG weighs its rules by priority (100-4096, lowest first); one not known yet is weighed first
        priority=int(priority) if isinstance(priority, int | str) and str(priority).isdigit() else None,
    )


def _firewall(res: RenderedResource, graph: RenderedGraph) -> FirewallFacts:
    guards = balancer_facts.guards_balancer(res, graph)
    if res.type == SECURITY_RULE:
        rule = _rule(res.inputs)
        front = balancer_facts.passthrough_clients(res, graph, rule)
        if front is not None:
            return FirewallFacts(rules=(front,), balancer=True)
        return FirewallFacts(rules=(balancer_facts.with_probes(rule),), balancer=guards)
    return FirewallFacts(rules=tuple(_rule(r) for r in items(res.inputs, "securityRules") if r is not UNKNOWN),
                         balancer=guards)


def _database(res: RenderedResource, graph: RenderedGraph) -> DatabaseFacts:
    inputs = res.inputs
    access = get(inputs, "network.publicNetworkAccess")
    private = get(inputs, "network.delegatedSubnetResourceId") is not None
    # a server in a delegated subnet has no public endpoint unless access is enabled explicitly
    public = UNKNOWN if access is UNKNOWN else access == "Enabled" or (access is None and not private)
    days = get(inputs, "backup.backupRetentionDays", 7)  # Azure's default is 7 days
    notes = {"deletion_protected": "flexible servers have no deletion-protection setting (a management lock, "
                                   "which this plugin does not render, would protect one)",
             "performance_insights": "Query Store is a server parameter, which this plugin does not render",
             "statement_logging": "log_statement is a server parameter, which this plugin does not render",
             **({"publicly_reachable": "public network access is enabled"} if public is True else {})}
    mode = get(inputs, "highAvailability.mode", "Disabled")
    if isinstance(mode, str) and mode == "Disabled":
        notes["high_availability"] = "highAvailability.mode is Disabled"
    return DatabaseFacts(
        publicly_reachable=public,
        encrypted_at_rest=True,  # flexible servers always encrypt storage and backups; it cannot be turned off
        backup_retention_days=days if days is UNKNOWN else int(days),
        deletion_protected=None,
        high_availability=mode if mode is UNKNOWN else mode != "Disabled",
        enhanced_monitoring=True,  # Azure Monitor collects the server's host metrics on its own
        performance_insights=None,
        iam_authentication=_entra(res, notes),
        statement_logging=None,
        customer_managed_key=_data_key(inputs, notes),
        notes=notes,
    )


def _entra(res: RenderedResource, notes: dict[str, str]) -> Any:
    if res.type != DATABASES[0]:
        notes["iam_authentication"] = "Entra ID on a MySQL flexible server needs an administrator resource, " \
                                      "which this plugin does not render"
        return None
    value = get(res.inputs, "authConfig.activeDirectoryAuth")
    if value is UNKNOWN:
        return UNKNOWN
    if value != "Enabled":
        notes["iam_authentication"] = "authConfig.activeDirectoryAuth is not Enabled"
    return value == "Enabled"


def _data_key(inputs: dict[str, Any], notes: dict[str, str]) -> Any:
    kind = get(inputs, "dataEncryption.type")
    if kind is UNKNOWN:
        return UNKNOWN
    if kind != "AzureKeyVault":
        notes["customer_managed_key"] = "dataEncryption is not AzureKeyVault: storage uses a service-managed key"
    return kind == "AzureKeyVault"


def _storage_account(res: RenderedResource, graph: RenderedGraph) -> BucketFacts:
    inputs = res.inputs
    notes: dict[str, str] = {}
    allowed = get(inputs, "allowBlobPublicAccess")
    public = flag(allowed) is True
    if public:
        notes["public"] = "the account allows public blob access"
    blocked = UNKNOWN if allowed is UNKNOWN else flag(allowed) is False
    if blocked is False:
        notes["public_access_blocked"] = "allowBlobPublicAccess is not set to false"
    encrypted = flag(get(inputs, "encryption.services.blob.enabled")) is not False
    if not encrypted:
        notes["encrypted_at_rest"] = "blob encryption is switched off"
    return BucketFacts(
        public=public, public_access_blocked=blocked, encrypted_at_rest=encrypted,
        versioning=any_on(get(s.inputs, "isVersioningEnabled") for s in graph.referrers(res.name, BLOB_SERVICE)),
        access_logging=_access_logging(res, graph, notes),
        lifecycle=_lifecycle(res, graph, notes),
        customer_managed_key=_account_key(inputs, notes),
        notes=notes,
    )


def _account_key(inputs: dict[str, Any], notes: dict[str, str]) -> Any:
    source = get(inputs, "encryption.keySource", "Microsoft.Storage")
    if source is UNKNOWN:
        return UNKNOWN
    if str(source).lower() != "microsoft.keyvault":
        notes["customer_managed_key"] = "encryption.keySource is Microsoft.Storage (a Microsoft-managed key)"
    return str(source).lower() == "microsoft.keyvault"


def _lifecycle(res: RenderedResource, graph: RenderedGraph, notes: dict[str, str]) -> Any:
    policies = graph.referrers(res.name, MANAGEMENT_POLICY)
    if not policies:
        notes["lifecycle"] = "no management policy ages its blobs"
    return bool(policies)


def _access_logging(res: RenderedResource, graph: RenderedGraph, notes: dict[str, str]) -> Any:
    """Logged when a diagnostic setting of the account's blob service keeps its read, write and delete logs;
    an account that only receives other accounts' logs is not judged (logging it would log every delivery)."""
    settings = graph.referrers(res.name, DIAGNOSTIC_SETTING)
    own = [d for d in settings if _names(d.inputs.get("resourceUri"), res.name)]
    categories = {get(entry, "category") for d in own for entry in items(d.inputs, "logs")
                  if entry is not UNKNOWN and flag(get(entry, "enabled")) is not False}
    if {"StorageRead", "StorageWrite", "StorageDelete"} <= categories:
        return True
    if not own and any(_names(d.inputs.get("storageAccountId"), res.name) for d in settings):
        notes["access_logging"] = "it holds other accounts' access logs"
        return None
    notes["access_logging"] = ("no diagnostic setting of the blob service keeps its StorageRead, StorageWrite and "
                               "StorageDelete logs")
    return False


def _names(value: Any, name: str) -> bool:
    return is_ref(value) and value[REF] == name


def _container(res: RenderedResource, graph: RenderedGraph) -> BucketAccessFacts:
    level = get(res.inputs, "publicAccess")
    if level in ("Blob", "Container"):
        return BucketAccessFacts(public=True, notes={"public": f"container public access level is {level}"})
    return BucketAccessFacts(public=UNKNOWN if level is UNKNOWN else False)


# -- links ---------------------------------------------------------------------------------------------------
def _referred(graph: RenderedGraph, data: Any, *path: str | int) -> RenderedResource | None:
    """The resource a reference at ``path`` in ``data`` names (None: no reference there)."""
    for step in path:
        if isinstance(data, dict) and not is_ref(data):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return None
    return graph.rendered(data[REF]) if is_ref(data) else None


def _address_space(vnet: RenderedResource | None) -> tuple[str, ...]:
    if vnet is None:
        return ()
    return tuple(p for p in items(vnet.inputs, "addressSpace.addressPrefixes") if isinstance(p, str))


def _site(vnet: RenderedResource) -> tuple[str, str, str]:
    # a network's resources carry the stack network as their source (network.py)
    return (vnet.source or "", vnet.cloud, vnet.region or "")


def _link_id(a: tuple[str, str, str], b: tuple[str, str, str]) -> str:
    """``Link.id`` of the link between two sites: ``network@cloud/region~network@cloud/region``, sorted."""
    first, second = sorted((a, b))
    return "~".join(f"{n}@{c}/{r}" for n, c, r in (first, second))


def _peering(res: RenderedResource, graph: RenderedGraph) -> LinkFacts:
    own = _referred(graph, res.inputs, "virtualNetworkName")
    remote = _referred(graph, res.inputs, "remoteVirtualNetwork", "id")
    link, side = "", 0
    if own is not None and remote is not None:
        link, side = _link_id(_site(own), _site(remote)), int(_site(own) > _site(remote))
    notes = {} if link else {"link": "the peering's own or remote virtual network is not among the rendered resources"}
    access = flag(res.inputs.get("allowVirtualNetworkAccess"))
    return LinkFacts(
        link=link, side=side, kind="peering",
        # a peering offers the whole address space of its network; Azure installs the peer's (default: on)
        advertises=_address_space(own), routes_learned=access is not False,
        notes=notes | ({"routes_learned": "allowVirtualNetworkAccess is false"} if access is False else {}),
    )


def _gateway_network(graph: RenderedGraph, gateway: RenderedResource | None) -> RenderedResource | None:
    """The virtual network a VPN gateway serves: through its GatewaySubnet."""
    if gateway is None:
        return None
    subnet = _referred(graph, gateway.inputs, "ipConfigurations", 0, "subnet", "id")
    return _referred(graph, subnet.inputs, "virtualNetworkName") if subnet is not None else None


def _ciphers(policies: list[Any]) -> tuple[str, ...]:
    if len(policies) == 1 and isinstance(policies[0], dict) and \
            all(policies[0].get(k) == v for k, v in AZURE_IPSEC_POLICY.items() if k != "saDataSizeKilobytes"):
        return IpsecPolicy.names
    words = {str(v) for p in policies if isinstance(p, dict) for k, v in p.items()
             if k not in ("saLifeTimeSeconds", "saDataSizeKilobytes")}
    return tuple(sorted(words))


def _connection(res: RenderedResource, graph: RenderedGraph) -> LinkFacts:
    inputs, tags = res.inputs, res.inputs.get("tags") or {}
    notes: dict[str, str] = {}
    gateway = _referred(graph, inputs, "virtualNetworkGateway1", "id")
    local = _referred(graph, inputs, "localNetworkGateway2", "id")
    bgp = flag(inputs.get("enableBgp")) is True and gateway is not None and flag(gateway.inputs.get("enableBgp")) is True
    if not bgp:
        notes["routes_learned"] = "BGP is not enabled on both the connection and its gateway"
    key, secret = inputs.get("sharedKey"), None
    if isinstance(key, str):
        secret, notes["preshared_key"] = "literal", "sharedKey is a plain value in the plan"
    elif is_ref(key):
        source = graph.rendered(key[REF])
        secret = "generated" if source is not None and source.type.startswith("random:") else None
    protocol = inputs.get("connectionProtocol")
    tunnels = tuple(int(t) for t in str(tags.get(TUNNELS_TAG, "")).split(",") if t.isdigit())
    return LinkFacts(
        link=str(tags.get(LINK_TAG, "")), side=int(tags.get(SIDE_TAG, 0)), kind="vpn",
        tunnels=tunnels, sessions=_sessions(inputs, gateway, local, tunnels, notes) if bgp else (),
        advertises=_address_space(_gateway_network(graph, gateway)) if bgp else (),
        routes_learned=bgp,
        static_routes=tuple(p for p in items(local.inputs, "localNetworkAddressSpace.addressPrefixes")
                            if isinstance(p, str)) if local is not None else (),
        # Azure's default protocol is IKEv2: an absent one is the cloud's default (None)
        ike_version=protocol.lower() if isinstance(protocol, str) else None,
        ciphers=_ciphers(items(inputs, "ipsecPolicies")),
        preshared_key=secret,
        notes=notes,
    )


def _sessions(inputs: dict[str, Any], gateway: RenderedResource | None, local: RenderedResource | None,
              tunnels: tuple[int, ...], notes: dict[str, str]) -> tuple[BgpSession, ...]:
    """The BGP session of the connection's tunnels: the gateway's ASN and, as its own address, the custom APIPA
    address the connection picks on each gateway instance (one the gateway lists for that instance: Azure
    takes a connection's custom address only from those of its gateway); the local network gateway holds the peer's ASN and address. Either instance
    may be the one the peer's tunnel lands on, so each is a candidate session."""
    own_asn = get(gateway.inputs, "bgpSettings.asn") if gateway is not None else None
    peer_asn = get(local.inputs, "bgpSettings.asn") if local is not None else None
    peer_address = get(local.inputs, "bgpSettings.bgpPeeringAddress") if local is not None else None
    listed = _listed_addresses(gateway)
    own: list[Any] = []
    for entry in items(inputs, "gatewayCustomBgpIpAddresses"):
        address = get(entry, "customBgpIpAddress") if entry is not UNKNOWN else UNKNOWN
        instance = _instance(entry)
        on_gateway = listed.get(instance, listed.get(None)) if listed is not UNKNOWN else UNKNOWN
        if isinstance(address, str) and on_gateway is not UNKNOWN and address not in (on_gateway or ()):
            notes["sessions"] = f"customBgpIpAddress {address} is not among the gateway's custom BGP addresses"
            continue
        own.append(address)
    if not own:
        # without a custom address the gateway speaks from its default BGP address, given at deploy time
        own = [UNKNOWN]
    return tuple(BgpSession(tunnel=t, asn=own_asn, address=a, peer_asn=peer_asn, peer_address=peer_address)
                 for t in tunnels for a in own)


def _listed_addresses(gateway: RenderedResource | None) -> Any:
    """Gateway instance (its ipConfiguration's position; None: any) -> the custom BGP addresses listed there."""
    if gateway is None:
        return {}
    entries = items(gateway.inputs, "bgpSettings.bgpPeeringAddresses")
    if any(e is UNKNOWN for e in entries):
        return UNKNOWN
    out: dict[Any, set[str]] = {None: set()}
    for index, entry in enumerate(entries):
        addresses = items(entry, "customBgpIpAddresses")
        if any(a is UNKNOWN for a in addresses):
            return UNKNOWN
        out[index] = {a for a in addresses if isinstance(a, str)}
        out[None] |= out[index]
    return out


def _instance(entry: Any) -> int | None:
    """Which gateway instance a connection's address is for: its ipConfigurationId names the gateway's
    ipConfigurations[i]; None when it does not say so plainly."""
    raw = entry.get("ipConfigurationId") if isinstance(entry, dict) else None
    path = raw.get("path") if is_ref(raw) else None
    if isinstance(path, list) and path and isinstance(path[0], int):
        return path[0]
    return None


READERS: dict[str, Reader] = {
    PEERING: _peering, CONNECTION: _connection,
    NSG: _firewall, SECURITY_RULE: _firewall, STORAGE_ACCOUNT: _storage_account, BLOB_CONTAINER: _container,
    **{database: _database for database in DATABASES}, **balancer_facts.READERS,
}

