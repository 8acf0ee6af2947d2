"""AWS resources read into neutral facts: security groups and their rules, RDS instances, S3 buckets (and,
from ``link_facts``, routes and the links' resources).

Read from the inputs alone (and the resources that refer to them), never from the account: the same
resources always read the same. Besides the types this plugin renders, the readers know the other
spellings of the same thing (inline security-group rules, the v1 S3 bucket and its settings) so that
resources written by hand or by an older rendering are judged alike.
"""

from __future__ import annotations

import json
from typing import Any

from cloudorch.rendering.facts import (
    ALL_PORTS, BALANCER_PEER, BucketAccessFacts, BucketFacts, DatabaseFacts, FirewallFacts, InstanceFacts, Reader,
    RenderedGraph, TrafficRule,
)
from cloudorch.rendering.inputs import UNKNOWN, any_on, flag, get, items, port_range, protocol_name
from cloudorch.rendering.model import REF, RenderedResource, is_ref

from cloudorch_aws import balancer_facts, link_facts

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
RDS = "aws:rds/instance:Instance"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
       "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
             "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")

_DIRECTIONS = {"ingress": "ingress", "egress": "egress"}


# -- firewalls -------------------------------------------------------------------------------------------
def _rule(direction: Any, protocol: Any, from_port: Any, to_port: Any, peers: list[Any]) -> TrafficRule:
    direction = _DIRECTIONS.get(direction) if isinstance(direction, str) else None
    name = protocol_name(protocol)
    if name == "all":
        return TrafficRule(direction, "allow", tuple(peers), (ALL_PORTS,), "all")  # type: ignore[arg-type]
    low, high = port_range(from_port), port_range(to_port)
    ports = ((low[0], high[1]),) if low is not None and high is not None else ()
    return TrafficRule(direction, "allow", tuple(peers), ports, name)  # type: ignore[arg-type]


def _inline(inputs: dict[str, Any], direction: str) -> list[TrafficRule]:
    return [_rule(direction, get(r, "protocol"), get(r, "fromPort"), get(r, "toPort"),
                  [*items(r, "cidrBlocks"), *items(r, "ipv6CidrBlocks")])
            for r in items(inputs, direction) if r is not UNKNOWN]


def _firewall(res: RenderedResource, graph: RenderedGraph) -> FirewallFacts:
    inputs = res.inputs
    if res.type in (INGRESS_RULE, EGRESS_RULE):
        peers = [p for p in (get(inputs, "cidrIpv4"), get(inputs, "cidrIpv6")) if p is not None]
        direction = "ingress" if res.type == INGRESS_RULE else "egress"
        rules = [_rule(direction, get(inputs, "ipProtocol"), get(inputs, "fromPort"), get(inputs, "toPort"), peers)]
    elif res.type == SECURITY_GROUP_RULE:
        rules = [_rule(get(inputs, "type"), get(inputs, "protocol"), get(inputs, "fromPort"), get(inputs, "toPort"),
                       [*items(inputs, "cidrBlocks"), *items(inputs, "ipv6CidrBlocks")])]
    else:  # a security group with inline rules (cloudorch renders separate rule resources instead)
        rules = _inline(inputs, "ingress") + _inline(inputs, "egress")
    if balancer_facts.balancer_peer(res, graph):
        rules = [TrafficRule(r.direction, r.action, (*r.peers, BALANCER_PEER), r.ports, r.protocol) for r in rules]
    # the provider revokes a new group's default allow-all egress, inline rules or not: only egress rules
    # (inline or separate) let connections out
    balancer = balancer_facts.guards_balancer(res, graph)
    return FirewallFacts(rules=tuple(rules), balancer=balancer, egress_closed=res.type == SECURITY_GROUP,
                         targets=_group_of(res) if not balancer and res.type != DEFAULT_SECURITY_GROUP else None)


def _group_of(res: RenderedResource) -> tuple[Any, ...] | None:
    """The group a rule applies through, as the machines that carry it name it (``_template``): a group is
    its own; a rule resource's, the group it belongs to. A rule's machines are those whose interfaces carry
    the group, not every machine of its resource (found by review: the proof never asked which group a
    launch template uses)."""
    if res.type == SECURITY_GROUP:
        return (res.name,)
    group = res.inputs.get("securityGroupId")  # a reference, which ``get`` would read as only known later
    return (group[REF],) if is_ref(group) else (UNKNOWN,) if group is not None else None


def _template(res: RenderedResource, graph: RenderedGraph) -> InstanceFacts:
    """The security groups the template's machines carry, on their interfaces or as vpcSecurityGroupIds."""
    groups = [*items(res.inputs, "vpcSecurityGroupIds"),
              *(g for nic in items(res.inputs, "networkInterfaces") if nic is not UNKNOWN for g in items(nic, "securityGroups"))]
    return InstanceFacts(tags=tuple(g[REF] if is_ref(g) else UNKNOWN for g in groups))


# -- databases -------------------------------------------------------------------------------------------
def _database(res: RenderedResource, graph: RenderedGraph) -> DatabaseFacts:
    inputs, notes = res.inputs, {}
    public = get(inputs, "publiclyAccessible")
    public = UNKNOWN if public is UNKNOWN else flag(public) is True
    if public is True:
        notes["publicly_reachable"] = "publiclyAccessible is true"
    days = get(inputs, "backupRetentionPeriod")
    if days is None:
        days = 1
        notes["backup_retention_days"] = "backupRetentionPeriod is not set (the API default keeps 1 day)"
    return DatabaseFacts(
        publicly_reachable=public,
        encrypted_at_rest=_on(get(inputs, "storageEncrypted")),
        backup_retention_days=days if days is UNKNOWN else int(days),
        deletion_protected=_on(get(inputs, "deletionProtection"), notes, "deletion_protected",
                               "deletionProtection is not enabled"),
        high_availability=_on(get(inputs, "multiAz"), notes, "high_availability", "multiAz is not enabled"),
        enhanced_monitoring=_monitoring(inputs, notes),
        performance_insights=_on(get(inputs, "performanceInsightsEnabled"), notes, "performance_insights",
                                 "performanceInsightsEnabled is not set"),
        iam_authentication=_on(get(inputs, "iamDatabaseAuthenticationEnabled"), notes, "iam_authentication",
                               "iamDatabaseAuthenticationEnabled is not set"),
        statement_logging=_statement_logging(res, graph, notes),
        customer_managed_key=_key(get(inputs, "kmsKeyId"), notes, "customer_managed_key",
                                  "no kmsKeyId: storage is encrypted with the AWS managed key aws/rds"),
        notes=notes,
    )


def _monitoring(inputs: dict[str, Any], notes: dict[str, str]) -> Any:
    interval = get(inputs, "monitoringInterval")
    if interval is UNKNOWN:
        return UNKNOWN
    if isinstance(interval, int) and interval > 0 and get(inputs, "monitoringRoleArn") is not None:
        return True
    notes["enhanced_monitoring"] = "monitoringInterval is 0 or unset (or no monitoringRoleArn)"
    return False


def _statement_logging(res: RenderedResource, graph: RenderedGraph, notes: dict[str, str]) -> Any:
    """PostgreSQL's log_statement from the instance's parameter group; "none" with the default group."""
    engine = get(res.inputs, "engine")
    if engine is UNKNOWN:
        return UNKNOWN
    if not (isinstance(engine, str) and "postgres" in engine):
        return None
    name = res.inputs.get("parameterGroupName")
    group = graph.rendered(name[REF]) if is_ref(name) else None
    if name is not None and group is None:
        return UNKNOWN  # a group made elsewhere: its parameters are not in the plan
    value = next((get(p, "value") for p in items(group.inputs, "parameters") if get(p, "name") == "log_statement"),
                 None) if group is not None else None
    if value is UNKNOWN:
        return UNKNOWN
    if value in (None, "none"):
        notes["statement_logging"] = "log_statement is none (no parameter group sets it)"
        return "none"
    return value


def _key(value: Any, notes: dict[str, str], fact: str, off: str) -> Any:
    """Encrypted with a customer-managed key: a key id is set (a reference to a KMS key, or its ARN)."""
    if value is UNKNOWN:
        return True  # a reference to a key of the stack: which key is known later, that it is one is known now
    if value is None:
        notes[fact] = off
        return False
    return not (isinstance(value, str) and value.startswith("alias/aws/"))


def _on(value: Any, notes: dict[str, str] | None = None, fact: str = "", off: str = "") -> Any:
    """A switch that is off unless set: True, UNKNOWN or False (noting ``off`` as the reason)."""
    if value is UNKNOWN:
        return UNKNOWN
    if flag(value) is True:
        return True
    if notes is not None:
        notes[fact] = off
    return False


# -- buckets ---------------------------------------------------------------------------------------------
_PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}
_BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
_SSE_ALGORITHMS = {"AES256", "aws:kms", "aws:kms:dsse"}


def _bucket(res: RenderedResource, graph: RenderedGraph) -> BucketFacts:
    inputs, notes = res.inputs, {}
    acl = get(inputs, "acl")
    public = isinstance(acl, str) and acl in _PUBLIC_ACLS
    if public:
        notes["public"] = f"canned ACL {acl} grants public access"
    inline_versioning = [get(inputs, "versioning.enabled"), *(get(v, "enabled") for v in items(inputs, "versionings"))]
    separate_versioning = [UNKNOWN if (status := get(v.inputs, "versioningConfiguration.status")) is UNKNOWN
                           else status == "Enabled" for v in graph.referrers(res.name, *VERSIONING)]
    logged = _access_logging(res, graph, notes)
    return BucketFacts(
        public=public,
        public_access_blocked=_access_blocked(res, graph, notes),
        encrypted_at_rest=_encrypted(res, graph, notes),
        versioning=any_on(inline_versioning + separate_versioning),
        access_logging=logged,
        lifecycle=_lifecycle(res, graph, notes),
        customer_managed_key=_bucket_key(res, graph, notes),
        notes=notes,
    )


def _bucket_key(res: RenderedResource, graph: RenderedGraph, notes: dict[str, str]) -> Any:
    configs = [c for c in (get(res.inputs, "serverSideEncryptionConfiguration.rule"),
                           *(get(c, "rule") for c in items(res.inputs, "serverSideEncryptionConfigurations")))
               if c is not None]
    configs += [rule for sse in graph.referrers(res.name, *SSE) for rule in items(sse.inputs, "rules")]
    keys = [get(c, "applyServerSideEncryptionByDefault.kmsMasterKeyId") for c in configs]
    return _key(next((k for k in keys if k is not None), None), notes, "customer_managed_key",
                "no kmsMasterKeyId: objects use an S3-managed or AWS managed key")


def _lifecycle(res: RenderedResource, graph: RenderedGraph, notes: dict[str, str]) -> Any:
    rules = items(res.inputs, "lifecycleRules") + items(res.inputs, "lifecycleRule")
    if any(r is UNKNOWN for r in rules):
        return UNKNOWN
    if any(flag(get(r, "enabled")) is not False for r in rules) or graph.referrers(res.name, *LIFECYCLE):
        return True
    notes["lifecycle"] = "no lifecycle rule archives or expires its objects"
    return False


def _access_logging(res: RenderedResource, graph: RenderedGraph, notes: dict[str, str]) -> Any:
    """Logged when a logging configuration names the bucket as its source; a bucket that only receives other
    buckets' logs is not judged (logging its own access would log every delivery into it)."""
    if get(res.inputs, "logging") is not None or items(res.inputs, "loggings"):
        return True
    configs = graph.referrers(res.name, *LOGGING)
    if any(_names(c.inputs.get("bucket"), res.name) for c in configs):
        return True
    if any(_names(c.inputs.get("targetBucket"), res.name) for c in configs):
        notes["access_logging"] = "it holds other buckets' access logs"
        return None
    if any(_names(get(lb.inputs, "accessLogs", {}).get("bucket") if isinstance(lb.inputs.get("accessLogs"), dict)
                  else None, res.name) for lb in graph.referrers(res.name, balancer_facts.LB)):
        notes["access_logging"] = "it holds a load balancer's access logs"
        return None
    notes["access_logging"] = "server access logging is off"
    return False


def _names(value: Any, name: str) -> bool:
    return is_ref(value) and value[REF] == name


def _access_blocked(res: RenderedResource, graph: RenderedGraph, notes: dict[str, str]) -> Any:
    blocks = graph.referrers(res.name, PUBLIC_ACCESS_BLOCK)
    if not blocks:
        notes["public_access_blocked"] = "no BucketPublicAccessBlock refers to this bucket"
        return False
    off = sorted({name for block in blocks for name in _BLOCK_FLAGS
                  if get(block.inputs, name) is not UNKNOWN and flag(get(block.inputs, name)) is not True})
    if off:
        notes["public_access_blocked"] = f"public access block leaves {', '.join(off)} off"
    return not off


def _encrypted(res: RenderedResource, graph: RenderedGraph, notes: dict[str, str]) -> bool:
    inline = [c for c in (get(res.inputs, "serverSideEncryptionConfiguration"),
                          *items(res.inputs, "serverSideEncryptionConfigurations")) if c is not None]
    separate = graph.referrers(res.name, *SSE)
    if not inline and not separate:
        notes["encrypted_at_rest"] = "no server-side encryption configuration; the bucket relies on the account default"
        return False
    algorithms = [get(c, "rule.applyServerSideEncryptionByDefault.sseAlgorithm") for c in inline]
    algorithms += [get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
                   for sse in separate for rule in items(sse.inputs, "rules")]
    bad = sorted({a for a in algorithms if isinstance(a, str) and a not in _SSE_ALGORITHMS})
    if bad:
        notes["encrypted_at_rest"] = f"unsupported server-side encryption algorithm {', '.join(bad)}"
    return not bad


def _bucket_policy(res: RenderedResource, graph: RenderedGraph) -> BucketAccessFacts:
    """Public when a statement allows everyone (Principal "*") without a condition narrowing it."""
    document = _document(res.inputs.get("policy"))
    if document is UNKNOWN or not isinstance(document, str):
        return BucketAccessFacts(public=UNKNOWN if document is UNKNOWN else False)
    try:
        statements = json.loads(document).get("Statement", [])
    except (ValueError, AttributeError):
        return BucketAccessFacts(public=UNKNOWN)
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        everyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"]))
        if everyone and statement.get("Effect") == "Allow" and not statement.get("Condition"):
            return BucketAccessFacts(public=True, notes={"public": "the bucket policy allows Principal \"*\""})
    return BucketAccessFacts(public=False)


def _document(value: Any) -> Any:
    """A policy document; one that surrounds a deploy-time value (a generated ARN) with its text is read with
    a stand-in for that value, since what it grants is written out around it."""
    if is_ref(value) and (value.get("prefix") or value.get("suffix")):
        return f"{value.get('prefix', '')}DEPLOY-TIME-VALUE{value.get('suffix', '')}"
    return get({"policy": value}, "policy")


READERS: dict[str, Reader] = {
    SECURITY_GROUP: _firewall, DEFAULT_SECURITY_GROUP: _firewall, SECURITY_GROUP_RULE: _firewall, INGRESS_RULE: _firewall, EGRESS_RULE: _firewall,
    RDS: _database, BUCKET_POLICY: _bucket_policy, **{bucket: _bucket for bucket in BUCKETS},
    "aws:ec2/launchTemplate:LaunchTemplate": _template,
    **link_facts.READERS, **balancer_facts.READERS,
}

