"""How the GCP plugin reads firewalls, Cloud SQL and bucket grants into neutral facts: what only GCP spells so."""

from __future__ import annotations

from cloudorch.rendering.inputs import UNKNOWN
from cloudorch.rendering.model import ref
from tests.support import describe_alone


def facts(type_: str, **inputs):
    return describe_alone("gcp", type_, **inputs)


FIREWALL = "gcp:compute/firewall:Firewall"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"


def test_an_ingress_firewall_naming_no_source_admits_every_address():
    [rule] = facts(FIREWALL, allows=[{"protocol": "tcp", "ports": ["22"]}]).rules
    assert rule.admits and rule.from_world and rule.covers(22)
    [tagged] = facts(FIREWALL, sourceTags=["bastion"], allows=[{"protocol": "tcp", "ports": ["22"]}]).rules
    assert not tagged.from_world  # the source is instances with a tag, not an address range


def test_deny_egress_and_disabled_rules():
    [deny] = facts(FIREWALL, sourceRanges=["0.0.0.0/0"], denies=[{"protocol": "all"}]).rules
    assert (deny.action, deny.ports, deny.admits) == ("deny", ((0, 65535),), False)
    [egress] = facts(FIREWALL, direction="EGRESS", allows=[{"protocol": "tcp", "ports": ["443"]}]).rules
    assert (egress.direction, egress.peers, egress.admits) == ("egress", ("0.0.0.0/0",), False)
    assert facts(FIREWALL, disabled=True, sourceRanges=["0.0.0.0/0"], allows=[{"protocol": "all"}]).rules == ()


def test_cloud_sql_backup_retention_is_the_count_of_daily_backups_kept():
    def days(backups):
        return facts(SQL, settings={"backupConfiguration": backups}).backup_retention_days

    assert days({"enabled": True}) == 7  # Cloud SQL's default count
    assert days({"enabled": True, "backupRetentionSettings": {"retainedBackups": 3, "retentionUnit": "COUNT"}}) == 3
    assert days({"enabled": False}) == 0
    assert days(ref("other", "backups")) is UNKNOWN  # known only at deploy time, not "off"
