"""Managed databases: never reachable from the internet, backed up, protected from deletion."""

from __future__ import annotations

from cloudorch.policy import Policy, Violation, rendered_check, spec_check
from cloudorch.policy.values import UNKNOWN, flag, get, is_world, items

from cloudorch_policies import tokens as T
from cloudorch_policies._meta import fw


@spec_check("database")
def _public_spec(target, ctx):
    return [Violation(f"port {rule.port} is open to {rule.from_}", ("ingress", i))
            for i, rule in enumerate(target.model.ingress) if rule.is_world_open]


@rendered_check(*T.DATABASE_TYPES)
def _public_rendered(res, ctx):
    inputs = res.inputs
    if res.type == T.AWS_RDS:
        return [Violation("publiclyAccessible is true")] if flag(get(inputs, "publiclyAccessible")) else []
    if res.type in T.AZ_DATABASES:
        access = get(inputs, "network.publicNetworkAccess")
        if access is UNKNOWN:
            return []
        private = get(inputs, "network.delegatedSubnetResourceId") is not None
        if access == "Enabled" or (access is None and not private):
            return [Violation("public network access is enabled")]
        return []
    ip = get(inputs, "settings.ipConfiguration")
    if ip is UNKNOWN:
        return []
    open_to = [get(n, "value") for n in items(ip, "authorizedNetworks") if n is not UNKNOWN]
    if any(is_world(v) for v in open_to):
        return [Violation("authorized networks admit 0.0.0.0/0")]
    enabled = get(ip, "ipv4Enabled") if ip is not None else None
    if enabled is UNKNOWN or flag(enabled) is False:
        return []
    return [Violation("the instance has a public IPv4 address (ipv4Enabled is not false)")]


PUBLIC = Policy(
    id="database.public",
    title="Databases are not reachable from the internet",
    severity="critical",
    checks=(_public_spec, _public_rendered),
    description="A database must only be reachable from the stack's own network: no ingress from the "
                "internet in the spec, no public endpoint in any rendering (RDS publiclyAccessible, Azure "
                "public network access, a Cloud SQL public IP or 0.0.0.0/0 authorized network).",
    remediation="Allow ingress only `from:` the resources that use the database; render private endpoints.",
    frameworks=fw(("CKV_AWS_17", "CKV_AZURE_68", "CKV_GCP_11", "CKV_GCP_60"), aws=("2.3.3",), gcp=("6.5", "6.6")),
    tags=("database", "network", "public"),
)


@spec_check("database")
def _backups_spec(target, ctx):
    minimum = int(ctx.config.get("min_days", 7))
    days = target.model.backup_days
    return [Violation(f"backups are kept {days} days (at least {minimum})", ("backup_days",))] if days < minimum else []


@rendered_check(*T.DATABASE_TYPES)
def _backups_rendered(res, ctx):
    minimum = int(ctx.config.get("min_days", 7))
    inputs = res.inputs
    if res.type == T.GCP_SQL:
        enabled = get(inputs, "settings.backupConfiguration.enabled")
        return [] if enabled is UNKNOWN or flag(enabled) else [Violation("automated backups are off")]
    if res.type == T.AWS_RDS:
        days = get(inputs, "backupRetentionPeriod")
        if days is None:
            return [Violation("backupRetentionPeriod is not set (the API default keeps 1 day)")]
    else:
        days = get(inputs, "backup.backupRetentionDays", 7)  # Azure's default is 7 days
    if days is UNKNOWN:
        return []
    return [Violation(f"backups are kept {days} days (at least {minimum})")] if int(days) < minimum else []


BACKUPS = Policy(
    id="database.backups",
    title="Databases keep automated backups for at least 7 days",
    severity="medium",
    checks=(_backups_spec, _backups_rendered),
    remediation="Set backup_days: 7 or more in the stack file.",
    frameworks=fw(("CKV_AWS_133", "CKV_GCP_14"), gcp=("6.7",)),
    tags=("database", "backup"),
    config={"min_days": 7},
)


@rendered_check(T.AWS_RDS, T.GCP_SQL)
def _deletion(res, ctx):
    if res.type == T.AWS_RDS:
        value = get(res.inputs, "deletionProtection")
        return [] if value is UNKNOWN or flag(value) else [Violation("deletionProtection is not enabled")]
    value = get(res.inputs, "deletionProtection", True)  # pulumi-gcp defaults to protected
    return [] if value is UNKNOWN or flag(value) is not False else [Violation("deletionProtection is false")]


DELETION_PROTECTION = Policy(
    id="database.deletion-protection",
    title="Databases are protected from accidental deletion",
    severity="low",
    enforcement="advisory",
    checks=(_deletion,),
    remediation="Set deletionProtection: true; lift it deliberately before a planned teardown.",
    frameworks=fw(("CKV_AWS_293",)),
    tags=("database", "backup"),
)

POLICIES = (PUBLIC, BACKUPS, DELETION_PROTECTION)
