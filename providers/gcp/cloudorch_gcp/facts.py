"""Google Cloud resources read into neutral facts: firewalls, Cloud SQL instances, buckets and their grants.

Read from the inputs alone (and the resources that refer to them), never from the project: the same
resources always read the same.
"""

from __future__ import annotations

from typing import Any

from cloudorch.rendering.facts import (
    ALL_PORTS, BucketAccessFacts, BucketFacts, DatabaseFacts, FirewallFacts, Reader, RenderedGraph, TrafficRule,
)
from cloudorch.rendering.inputs import UNKNOWN, any_on, flag, get, is_world, items, port_range
from cloudorch.rendering.model import RenderedResource

FIREWALL = "gcp:compute/firewall:Firewall"
DATABASE_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"

_DIRECTIONS = {"INGRESS": "ingress", "EGRESS": "egress"}
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
    rules = []
    for action, key in (("allow", "allows"), ("deny", "denies")):
        for entry in items(inputs, key):
            if entry is UNKNOWN:
                continue
            protocol, ports = get(entry, "protocol"), items(entry, "ports")
            protocol = protocol.lower() if isinstance(protocol, str) else None
            if not ports or protocol == "all":
                ranges: tuple[tuple[int, int], ...] = (ALL_PORTS,)
            else:
                ranges = tuple(r for r in (port_range(p) for p in ports) if r)
            rules.append(TrafficRule(direction, action, peers, ranges, protocol))  # type: ignore[arg-type]
    return FirewallFacts(rules=tuple(rules))


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
        notes=notes,
    )


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
    if not logged:
        notes["access_logging"] = "no access log bucket is set"
    return BucketFacts(
        public=None,
        public_access_blocked=blocked,
        encrypted_at_rest=True,  # Cloud Storage always encrypts objects
        versioning=any_on([get(inputs, "versioning.enabled")]),
        access_logging=logged,
        notes=notes,
    )


def _binding(res: RenderedResource, graph: RenderedGraph) -> BucketAccessFacts:
    members = items(res.inputs, "members")
    public = sorted({m for m in members if isinstance(m, str) and m in _PUBLIC_MEMBERS})
    if public:
        return BucketAccessFacts(public=True,
                                 notes={"public": f"grants {get(res.inputs, 'role')} to {', '.join(public)}"})
    return BucketAccessFacts(public=UNKNOWN if UNKNOWN in members else False)


READERS: dict[str, Reader] = {
    FIREWALL: _firewall, DATABASE_INSTANCE: _database, BUCKET: _bucket, BUCKET_IAM_BINDING: _binding,
}

