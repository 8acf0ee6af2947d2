"""Every built-in policy can be satisfied from the stack file alone.

One stack with every remedy left undone and the same stack with every remedy applied are each placed on one
cloud at a time, rendered by that cloud's provider and judged by every built-in pack. On the remedied stack
nothing fails, except the gaps listed below (each must still fail, so a closed gap leaves the list); every
policy that fails on the unremedied stack names, in its remediation, the stack field whose edit fixed it.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

import pytest

from cloudorch import api
from cloudorch.catalog import load_catalog
from cloudorch.placement.candidates import PlacementSettings
from cloudorch.placement.planner import plan_placement
from cloudorch.plugins import load_provider
from cloudorch.policy import PolicySubject, evaluate
from cloudorch.spec.loader import parse_stack
from cloudorch.rendering.schema_check import PackageSchema
from cloudorch_policies import baseline, cost, hipaa, pci_dss
from tests.support import OUTSIDE_SCHEMA_SUBSET, SCHEMAS, require_shared

PACKS = (baseline.pack(), pci_dss.pack(), hipaa.pack(), cost.pack())
POLICIES = {p.id: p for pack in PACKS for p in pack.policies}
CLOUDS = ("aws", "azure", "gcp")
TODAY = dt.date(2026, 12, 7)

STACK = """\
stack: remedies
tags: {team: shop, env: prod}
placement: {geo: [eu], clouds: [%(cloud)s]}
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  web:
    kind: compute
    network: net
    cpu: 2
    memory_gb: 8
    ingress: %(ingress)s
%(web)s  db:
    kind: database
    network: net
    engine: postgres
    version: "16"
    ingress: [{port: 5432, from: web}]
%(db)s  assets:
    kind: bucket
%(assets)s"""

#: each field of a remedy, undone and done
UNDONE = {
    "ingress": "[{port: 443, from: internet}, {port: 20, to_port: 23, from: 0.0.0.0/0}, {port: 1, to_port: 65535, from: internet}]",
    "web": "",
    "db": "    backup_days: 1\n    deletion_protection: false\n    enhanced_monitoring: false\n"
          "    performance_insights: false\n    iam_authentication: false\n    statement_logging: none\n",
    "assets": "    public: true\n",
}
DONE = {
    "ingress": "[{port: 443, from: 10.0.0.0/8}]",
    "web": "    customer_managed_key: true\n",
    "db": "    backup_days: 14\n    high_availability: true\n    customer_managed_key: true\n",
    "assets": "    versioning: true\n    access_logs: true\n    customer_managed_key: true\n"
              "    lifecycle: {archive_after_days: 30, delete_versions_after_days: 90}\n",
}

#: the field a failing policy's remediation must name (its edit is in DONE / UNDONE above)
REMEDY_FIELD = {
    "network.public-ingress": "from", "network.admin-ports-open": "from", "network.all-ports-open": "to_port",
    "compute.public-ip": "from", "database.backups": "backup_days", "database.deletion-protection": "deletion_protection",
    "database.high-availability": "high_availability", "database.enhanced-monitoring": "enhanced_monitoring",
    "database.performance-insights": "performance_insights", "database.iam-authentication": "iam_authentication",
    "logging.database-statements": "statement_logging", "storage.public-bucket": "public",
    "storage.public-access-block": "public", "storage.versioning": "versioning",
    "storage.access-logging": "access_logs", "storage.lifecycle": "lifecycle",
    "encryption.disk-cmk": "customer_managed_key",
}

#: (policy, cloud) that no stack field can satisfy yet, and why; each must still fail there
GAPS = {
    ("storage.shared-key-access", "azure"): "no stack field turns account keys off: nothing rendered could then reach "
                                            "the blobs (no managed identity or role assignment in the schema subset)",
    ("storage.network-default-deny", "azure"): "no stack field closes a storage account's firewall: it would need "
                                               "service endpoints or private endpoints cloudorch does not render",
}
#: the resources (their fields in DONE) a cloud cannot give a customer-managed key: the remedied stack leaves
#: the field out there (the providers' keys.UNSUPPORTED says why; none of them has a rule that then fails)
NO_KEYS = {"gcp": {"assets"}}


def stack_text(cloud: str, remedied: bool) -> str:
    fields = dict(DONE if remedied else UNDONE)
    if remedied:
        fields = {k: re.sub(r" *customer_managed_key: true\n", "", v) if k in NO_KEYS.get(cloud, ()) else v
                  for k, v in fields.items()}
    return STACK % {"cloud": cloud, **fields}


@cache
def rendering(cloud: str, remedied: bool):
    loaded = parse_stack(stack_text(cloud, remedied), "stack.yaml")
    placement = plan_placement(loaded.stack, load_catalog(), PlacementSettings(clouds=(cloud,)), explain_choices=False)
    return loaded, placement, tuple(api.render(loaded, placement, {cloud: load_provider(cloud)}))


@cache
def failures(cloud: str, remedied: bool) -> frozenset[str]:
    loaded, placement, rendered = rendering(cloud, remedied)
    report = evaluate(PolicySubject(loaded=loaded, placement=placement, rendered=list(rendered)), list(PACKS),
                      today=TODAY)
    assert not report.errors, [f.message for f in report.errors]
    return frozenset(f.policy for f in report.findings if f.status == "fail")


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_remedied_stack_fails_only_the_known_gaps(cloud):
    assert failures(cloud, True) == {policy for policy, where in GAPS if where == cloud}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_failure_is_remedied_by_the_field_its_remediation_names(cloud):
    failing = failures(cloud, False) - {policy for policy, where in GAPS if where == cloud}
    assert failing, "the unremedied stack must give the rules something to fail on"
    for policy in sorted(failing):
        field = REMEDY_FIELD.get(policy)
        assert field, f"{policy} fails on cloudorch's own rendering with no remedy recorded here"
        assert f"{field}:" in POLICIES[policy].remediation, (policy, POLICIES[policy].remediation)


@pytest.mark.shared
@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_remedy_renders_within_the_providers_schemas(cloud):
    require_shared(SCHEMAS)
    schemas = {p.stem: PackageSchema.load(p) for p in SCHEMAS.glob("*.json")}
    checked = [r for r in rendering(cloud, True)[2] if not r.is_provider and r.type not in OUTSIDE_SCHEMA_SUBSET]
    assert [str(v) for r in checked for v in schemas[r.type.split(":")[0]].check(r)] == []


def test_the_unremedied_stack_exercises_the_rules_the_issue_names():
    assert {"storage.access-logging", "encryption.disk-cmk", "storage.lifecycle", "compute.public-ip",
            "database.enhanced-monitoring", "logging.database-statements"} <= failures("aws", False)
