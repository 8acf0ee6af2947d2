"""Managed databases: never reachable from the internet, backed up, protected from deletion, highly
available, monitored, logging schema changes and taking identity logins.

The rendered side judges every cloud's databases by role, through the facts their provider reads.
"""

from __future__ import annotations

from cloudorch.policy import Policy, Violation, expect_fact, rendered_check, spec_check
from cloudorch.rendering.roles import Role

from cloudorch_policies._meta import fw
from cloudorch_policies.baseline.fields import field_rule
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
    remediation="Set deletion_protection: true on the database (the default); lift it deliberately before a "
                "planned teardown.",
    frameworks=fw(("CKV_AWS_293",)),
    tags=("database", "backup"),
)

HIGH_AVAILABILITY = field_rule(
    id="database.high-availability",
    title="Production databases keep a standby in another zone",
    kind="database", field="high_availability", roles=DATABASES, fact="high_availability",
    message="no standby in another zone: a zone outage takes the database down",
    severity="medium",
    enforcement="advisory",
    description="RDS Multi-AZ, an Azure flexible server's zone-redundant (or same-zone) standby, a REGIONAL "
                "Cloud SQL instance: the database survives the loss of its zone.",
    remediation="Set high_availability: true on the database (it roughly doubles the database's price).",
    frameworks=fw(("CKV_AWS_157",)),
    tags=("database", "availability"),
)

ENHANCED_MONITORING = field_rule(
    id="database.enhanced-monitoring",
    title="Database hosts report operating-system metrics",
    kind="database", field="enhanced_monitoring", roles=DATABASES, fact="enhanced_monitoring",
    message="operating-system metrics are not collected",
    severity="low",
    enforcement="advisory",
    description="RDS enhanced monitoring (every 60 s, through a monitoring role); Azure and Cloud SQL report "
                "their hosts' metrics on their own.",
    remediation="Set enhanced_monitoring: true on the database (the default).",
    frameworks=fw(("CKV_AWS_118",)),
    tags=("database", "logging"),
)

PERFORMANCE_INSIGHTS = field_rule(
    id="database.performance-insights",
    title="Databases keep a history of query performance",
    kind="database", field="performance_insights", roles=DATABASES, fact="performance_insights",
    message="no query performance history is kept",
    severity="low",
    enforcement="advisory",
    description="RDS Performance Insights (7 days, free) and Cloud SQL Query Insights. Azure's Query Store is "
                "a server parameter cloudorch does not render: not judged there.",
    remediation="Set performance_insights: true on the database (the default).",
    frameworks=fw(("CKV_AWS_353",)),
    tags=("database", "logging"),
)

IAM_AUTHENTICATION = field_rule(
    id="database.iam-authentication",
    title="Databases accept logins with the cloud's identities",
    kind="database", field="iam_authentication", roles=DATABASES, fact="iam_authentication",
    message="only password logins are accepted",
    severity="medium",
    enforcement="advisory",
    description="Short-lived identity tokens instead of shared passwords: RDS IAM authentication, Cloud SQL IAM "
                "database authentication, Entra ID on Azure PostgreSQL (MySQL flexible servers need an "
                "administrator resource cloudorch does not render: not judged there).",
    remediation="Set iam_authentication: true on the database (the default).",
    frameworks=fw(("CKV_AWS_161",)),
    tags=("database", "identity"),
)

STATEMENT_LOGGING = field_rule(
    id="logging.database-statements",
    title="PostgreSQL logs schema changes",
    kind="database", field="statement_logging", roles=DATABASES, fact="statement_logging",
    message="no statements are logged (log_statement is none)",
    wanted=lambda value: value != "none",
    applies=lambda spec: spec.engine == "postgres",
    severity="low",
    enforcement="advisory",
    description="log_statement records at least every DDL statement (who changed the schema, when): an RDS "
                "parameter group, a Cloud SQL database flag. On Azure it is a server parameter cloudorch does "
                "not render: not judged there.",
    remediation="Set statement_logging: ddl (the default), mod or all on the PostgreSQL database.",
    frameworks=fw(("CKV2_AWS_30",)),
    tags=("database", "logging"),
)

POLICIES = (PUBLIC, BACKUPS, DELETION_PROTECTION, HIGH_AVAILABILITY, ENHANCED_MONITORING, PERFORMANCE_INSIGHTS,
            IAM_AUTHENTICATION, STATEMENT_LOGGING)
