"""Cloud SQL on a private IP, reached from the stack's VPC through private service access.

The instance has no public IPv4. Its private IP lives in Google's service-producer network, reached
through the VPC peering of ``network.private_service_access``; VPC firewall rules do not apply inside that
peered network, so the ingress rules are rendered as firewall rules tagged with the database's network tag
(they record exactly which ranges are meant to connect, for policy checks and for any proxy VM carrying the
tag), while what actually keeps others out is the absence of any public address and of any route to the
peering from outside the stack's interconnected blocks.
"""

from __future__ import annotations

from cloudorch.errors import UsageError
from cloudorch.placement.model import Slot
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Database

from cloudorch_gcp.keys import SQL_GRANTEE, grant_name, key_name
from cloudorch_gcp.naming import CLOUD, labels, network_tag, resource
from cloudorch_gcp.network import ingress_rules, network_name, psa_connection_name, psa_range_name

DATABASE_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
SQL_USER = "gcp:sql/user:User"
SQL_DATABASE = "gcp:sql/database:Database"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"

ADMIN_USER = "cloudorch_admin"
#: Cloud SQL keeps at most 7 days of transaction logs on the Enterprise edition
MAX_LOG_DAYS = 7


def database_version(engine: str, version: str) -> str:
    """``postgres`` ``16`` -> ``POSTGRES_16``; ``mysql`` ``8`` / ``8.0`` -> ``MYSQL_8_0``."""
    major, _, minor = version.partition(".")
    if engine == "postgres":
        return f"POSTGRES_{major}"
    if engine == "mysql":
        return f"MYSQL_{major}_{minor or '0'}"
    raise UsageError(f"gcp has no Cloud SQL engine {engine!r}", hint="use postgres or mysql")


def _edition(tier: str) -> str:
    # set explicitly: Cloud SQL defaults PostgreSQL 16+ to Enterprise Plus, which rejects db-custom tiers
    return "ENTERPRISE_PLUS" if tier.startswith("db-perf-optimized") else "ENTERPRISE"


def render_database(ctx: RenderContext, name: str, spec: Database, slot: Slot) -> list[RenderedResource]:
    region = slot.region
    prefix = f"{name}-{CLOUD}-{region}"
    instance, password = f"{prefix}-sql", f"{prefix}-password"
    _range, connection = psa_range_name(spec.network, region), psa_connection_name(spec.network)
    out = ingress_rules(ctx, name, spec.network, spec.ingress, network_tag(ctx, name))
    out.append(resource(password, RANDOM_PASSWORD, region, name, {"length": 32, "special": False},
                        secret_outputs=("result",), provider=False))
    keyed: dict = {}
    waits = (connection,)  # the instance needs the peering, which no input references
    if spec.customer_managed_key:
        # the key must be in the instance's region; Cloud SQL checks its agent's grant when it creates the disk
        keyed = {"encryptionKeyName": ref(key_name(spec.network, region), "id")}
        waits += (grant_name(spec.network, region, SQL_GRANTEE),)
    out.append(resource(instance, DATABASE_INSTANCE, region, name, {
        "databaseVersion": database_version(spec.engine, spec.version),
        "region": region,
        # both switches follow the spec: deletionProtection stops Pulumi, deletionProtectionEnabled stops
        # every other way of deleting it (console, gcloud, API)
        "deletionProtection": spec.deletion_protection,
        "settings": {
            "tier": slot.instance_type,
            "edition": _edition(slot.instance_type),
            "availabilityType": "REGIONAL" if spec.high_availability else "ZONAL",
            "diskSize": spec.storage_gb,
            "diskType": "PD_SSD",
            # grows instead of failing writes when full; the plan prices storage_gb
            "diskAutoresize": True,
            "backupConfiguration": _backups(spec),
            "ipConfiguration": {
                "ipv4Enabled": False,
                "privateNetwork": ref(network_name(spec.network), "id"),
                "allocatedIpRange": ref(_range, "name"),
                "sslMode": "ENCRYPTED_ONLY",
            },
            "deletionProtectionEnabled": spec.deletion_protection,
            "userLabels": labels(ctx, name),
            # Query Insights is free; client addresses stay out of it (they are personal data in some places)
            "insightsConfig": {"queryInsightsEnabled": spec.performance_insights, "recordClientAddress": False},
            "databaseFlags": database_flags(spec),
        },
        # without an encryptionKeyName, storage is encrypted at rest with a Google-managed key
        **keyed,
    }, depends_on=waits))
    out.append(resource(f"{prefix}-user", SQL_USER, region, name, {
        "instance": ref(instance, "name"),
        "name": ADMIN_USER,
        "password": ref(password, "result"),
    }, secret_outputs=("password",)))
    out.append(resource(f"{prefix}-db", SQL_DATABASE, region, name, {
        "instance": ref(instance, "name"),
        "name": name.replace("-", "_"),
    }))
    return out


def database_flags(spec: Database) -> list[dict]:
    """The server flags for the stack's identity and logging fields. Cloud SQL collects OS metrics on its
    own, so ``enhanced_monitoring`` asks nothing here."""
    flags = []
    if spec.iam_authentication:
        name = "cloudsql.iam_authentication" if spec.engine == "postgres" else "cloudsql_iam_authentication"
        flags.append({"name": name, "value": "on"})
    if spec.engine == "postgres":
        flags.append({"name": "log_statement", "value": spec.statement_logging})
    return flags


def _backups(spec: Database) -> dict:
    high_availability = spec.high_availability
    if spec.backup_days == 0 and not high_availability:
        return {"enabled": False}
    # GCP requires backups (and, for mysql, binary logs) for a REGIONAL instance: with backup_days 0 it
    # keeps the fewest it allows. Cloud SQL also refuses transaction logs that reach as far back as the
    # oldest retained backup ("backup retention should be > transaction log retention"), so the logs
    # cover one day less than the backups, and at least two backups are kept to leave room for one day.
    days = max(spec.backup_days, 2)
    backups: dict = {
        "enabled": True,
        "startTime": "03:00",
        "backupRetentionSettings": {"retainedBackups": days, "retentionUnit": "COUNT"},
        "transactionLogRetentionDays": min(days - 1, MAX_LOG_DAYS),
    }
    if spec.engine == "postgres":
        backups["pointInTimeRecoveryEnabled"] = True
    else:
        backups["binaryLogEnabled"] = True
    return backups
