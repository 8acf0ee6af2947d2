"""Databases: an RDS instance in the network's private subnets, behind its own security group, with what the
stack asks for around it: an enhanced-monitoring role, a parameter group that logs statements.

The master password is RDS-managed (`manageMasterUserPassword`): AWS generates it into Secrets Manager
and rotates it, so no password exists in cloudorch's inputs, plans or Pulumi state.
"""

from __future__ import annotations

import hashlib

from cloudorch.placement.model import ResourcePlacement
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Database

from cloudorch_aws.naming import CLOUD, assume_role_policy, logical, resource, slug, subnets_for, tags
from cloudorch_aws.network import key_name, vpc_name
from cloudorch_aws.security import security_group

PORTS = {"postgres": 5432, "mysql": 3306}
LOG_EXPORTS = {"postgres": ["postgresql", "upgrade"], "mysql": ["error", "slowquery"]}
MASTER_USER = "cloudorch"  # valid on both engines and not one of their reserved names (postgres, admin, rdsadmin)
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
MONITORING_SECONDS = 60
#: the free tier of Performance Insights (Database Insights standard): 7 days of history
INSIGHTS_DAYS = 7
#: statements slower than this (ms) are logged with their duration whatever log_statement says
SLOW_STATEMENT_MS = 1000


def render_database(
    ctx: RenderContext, name: str, spec: Database, placement: ResourcePlacement
) -> list[RenderedResource]:
    out: list[RenderedResource] = []
    for slot in sorted((s for s in placement.slots if s.cloud == CLOUD), key=lambda s: (s.region, s.instance_type)):
        region = slot.region
        # RDS answers connections without an egress rule (groups are stateful); it opens only the flows that
        # name it as their source (dblink, logical replication), each let out by a rule of its own
        block = ctx.block_for(spec.network, region)
        out += security_group(ctx, name, block, vpc_name(spec.network, region), spec.ingress, egress=False)
        subnet_group, db = logical(name, region, "subnets"), logical(name, region, "db")
        out.append(resource("aws:rds/subnetGroup:SubnetGroup", name, region, "subnets", {
            "description": f"cloudorch {ctx.stack.stack}/{name}",
            "subnetIds": [ref(s) for s in subnets_for(ctx, spec.network, region, "private")],
            "tags": tags(ctx, name, subnet_group),
        }))
        extra, around = _options(ctx, name, spec, region)
        out += around
        out.append(resource("aws:rds/instance:Instance", name, region, "db", extra | {
            "instanceClass": slot.instance_type,
            "engine": spec.engine,
            "engineVersion": spec.version,
            "port": PORTS[spec.engine],
            "allocatedStorage": spec.storage_gb,
            "storageType": "gp3",
            "storageEncrypted": True,
            "publiclyAccessible": False,
            "dbSubnetGroupName": ref(subnet_group, "name"),
            "vpcSecurityGroupIds": [ref(logical(name, region, "sg"))],
            "username": MASTER_USER,
            "manageMasterUserPassword": True,
            "multiAz": spec.high_availability,
            "backupRetentionPeriod": spec.backup_days,
            "copyTagsToSnapshot": True,
            "deletionProtection": spec.deletion_protection,
            "skipFinalSnapshot": False,
            "finalSnapshotIdentifier": final_snapshot_identifier(ctx.stack.stack, name, region),
            "autoMinorVersionUpgrade": True,
            "enabledCloudwatchLogsExports": LOG_EXPORTS[spec.engine],
            "tags": tags(ctx, name, db),
        }))
    return out


def _options(ctx: RenderContext, name: str, spec: Database, region: str) -> tuple[dict, list[RenderedResource]]:
    """The instance's inputs for the stack's monitoring, insights, identity and logging fields, and the
    resources they need (the monitoring role, the parameter group)."""
    inputs: dict = {"iamDatabaseAuthenticationEnabled": spec.iam_authentication}
    around: list[RenderedResource] = []
    key = {"arn": ref(key_name(spec.network, region), "arn")} if spec.customer_managed_key else {}
    if key:
        inputs["kmsKeyId"] = key["arn"]
    if spec.performance_insights:
        inputs |= {"performanceInsightsEnabled": True, "performanceInsightsRetentionPeriod": INSIGHTS_DAYS}
        if key:  # the insights hold query text, as sensitive as the data
            inputs["performanceInsightsKmsKeyId"] = key["arn"]
    if spec.enhanced_monitoring:
        role = logical(name, region, "monitoring-role")
        around += [
            resource("aws:iam/role:Role", name, region, "monitoring-role", {
                "assumeRolePolicy": assume_role_policy("monitoring.rds.amazonaws.com"), "tags": tags(ctx, name, role),
            }),
            resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", name, region, "monitoring-policy", {
                "role": ref(role, "name"), "policyArn": MONITORING_POLICY,
            }),
        ]
        inputs |= {"monitoringInterval": MONITORING_SECONDS, "monitoringRoleArn": ref(role, "arn")}
    if spec.engine == "postgres" and spec.statement_logging != "none":
        group = logical(name, region, "params")
        # One group per instance (not shared): a parameter change then touches this database alone.
        around.append(resource("aws:rds/parameterGroup:ParameterGroup", name, region, "params", {
            "namePrefix": slug(f"{ctx.stack.stack}-{name}-{region}")[:200] + "-",
            "family": f"postgres{spec.version}",
            "description": f"cloudorch {ctx.stack.stack}/{name}: statement logging",
            "parameters": [
                {"name": "log_statement", "value": spec.statement_logging},
                {"name": "log_min_duration_statement", "value": str(SLOW_STATEMENT_MS)},
            ],
            "tags": tags(ctx, name, group),
        }))
        inputs["parameterGroupName"] = ref(group, "name")
    return inputs, around


def final_snapshot_identifier(stack: str, name: str, region: str) -> str:
    """The snapshot RDS takes when the instance is destroyed: always taken, under a deterministic name.

    Leaving the identifier out is not an option: with skipFinalSnapshot false the provider refuses the
    delete ("final_snapshot_identifier is required"), and skipping the snapshot would lose the data. The
    name must be a pure function of the stack (rendering is), so it cannot differ between create/destroy
    cycles: the digest of (stack, resource, region) keeps two stacks with a same-named database apart,
    but a second destroy of the same stack fails with DBSnapshotAlreadyExists until the previous final
    snapshot is renamed (restored elsewhere) or deleted - deliberately, since overwriting it is impossible.
    """
    digest = hashlib.sha256(f"{stack}/{name}/{region}".encode()).hexdigest()[:8]
    # letters, digits and single hyphens, starting with a letter, at most 255 characters
    return slug(f"{logical(name, region, 'db')}-final-{digest}")[:255].rstrip("-")
