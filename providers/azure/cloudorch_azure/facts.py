"""Azure resources read into neutral facts: security groups and rules, flexible servers, storage.

Read from the inputs alone (and the resources that refer to them). Besides the types this plugin renders,
the readers know the other spellings of the same thing (rules inline in a network security group) so that
resources written by hand are judged alike.
"""

from __future__ import annotations

from typing import Any

from cloudorch.rendering.facts import (
    BucketAccessFacts, BucketFacts, DatabaseFacts, FirewallFacts, Reader, RenderedGraph, TrafficRule,
)
from cloudorch.rendering.inputs import UNKNOWN, any_on, flag, get, items, port_range
from cloudorch.rendering.model import RenderedResource

NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
DATABASES = ("azure-native:dbforpostgresql:Server", "azure-native:dbformysql:Server")
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"

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
    protocol = get(rule, "protocol")
    return TrafficRule(
        direction, _word(get(rule, "access"), "Allow", _ACTIONS),  # type: ignore[arg-type]
        tuple(_peer(p) for p in peers if p is not None),
        tuple(r for r in (port_range(s) for s in specs if s is not None) if r),
        ("all" if protocol == "*" else protocol.lower()) if isinstance(protocol, str) else None,
    )


def _firewall(res: RenderedResource, graph: RenderedGraph) -> FirewallFacts:
    if res.type == SECURITY_RULE:
        return FirewallFacts(rules=(_rule(res.inputs),))
    return FirewallFacts(rules=tuple(_rule(r) for r in items(res.inputs, "securityRules") if r is not UNKNOWN))


def _database(res: RenderedResource, graph: RenderedGraph) -> DatabaseFacts:
    inputs = res.inputs
    access = get(inputs, "network.publicNetworkAccess")
    private = get(inputs, "network.delegatedSubnetResourceId") is not None
    # a server in a delegated subnet has no public endpoint unless access is enabled explicitly
    public = UNKNOWN if access is UNKNOWN else access == "Enabled" or (access is None and not private)
    days = get(inputs, "backup.backupRetentionDays", 7)  # Azure's default is 7 days
    return DatabaseFacts(
        publicly_reachable=public,
        encrypted_at_rest=True,  # flexible servers always encrypt storage and backups; it cannot be turned off
        backup_retention_days=days if days is UNKNOWN else int(days),
        deletion_protected=None,
        notes={"deletion_protected": "flexible servers have no deletion-protection setting (a management lock, "
                                     "which this plugin does not render, would protect one)",
               **({"publicly_reachable": "public network access is enabled"} if public is True else {})},
    )


def _storage_account(res: RenderedResource, graph: RenderedGraph) -> BucketFacts:
    inputs = res.inputs
    notes = {"access_logging": "storage account access logs are diagnostic settings, which this plugin does not render"}
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
        access_logging=None,
        notes=notes,
    )


def _container(res: RenderedResource, graph: RenderedGraph) -> BucketAccessFacts:
    level = get(res.inputs, "publicAccess")
    if level in ("Blob", "Container"):
        return BucketAccessFacts(public=True, notes={"public": f"container public access level is {level}"})
    return BucketAccessFacts(public=UNKNOWN if level is UNKNOWN else False)


READERS: dict[str, Reader] = {
    NSG: _firewall, SECURITY_RULE: _firewall, STORAGE_ACCOUNT: _storage_account, BLOB_CONTAINER: _container,
    **{database: _database for database in DATABASES},
}

