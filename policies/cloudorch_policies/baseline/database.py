"""Managed databases: never reachable from the internet, backed up, protected from deletion.

The rendered side judges every cloud's databases by role, through the facts their provider reads.
"""

from __future__ import annotations

from cloudorch.policy import Policy, Violation, expect_fact, rendered_check, spec_check
from cloudorch.rendering.roles import Role

from cloudorch_policies._meta import fw
from cloudorch_policies.baseline.network import ports_text

DATABASES = (Role.DATABASE,)


@spec_check("database")
def _public_spec(target, ctx):
    return [Violation(f"{rule.protocol} {ports_text(rule.port, rule.last_port)} is open to {rule.from_}", ("ingress", i))
            for i, rule in enumerate(target.model.ingress) if rule.is_world_open]


@rendered_check(roles=DATABASES)
def _public_rendered(res, ctx):
    return expect_fact(ctx, res, "publicly_reachable", False, "the database has a public endpoint")


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


@rendered_check(roles=DATABASES)
def _backups_rendered(res, ctx):
    minimum = int(ctx.config.get("min_days", 7))
    return expect_fact(ctx, res, "backup_retention_days", lambda days: days >= minimum,
                           lambda days: f"backups are kept {days} days (at least {minimum})")


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


@rendered_check(roles=DATABASES)
def _deletion(res, ctx):
    return expect_fact(ctx, res, "deletion_protected", True, "the database is not protected from deletion")


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
