"""Every built-in policy: a passing fixture flags nothing, a failing one flags exactly the expected set."""

from __future__ import annotations

import re

import pytest

from cloudorch_policies import baseline, cost, hipaa, pci_dss

from tests.policies.cases import CASES
from tests.policies.helpers import run

PACKS = [baseline.pack(), pci_dss.pack(), hipaa.pack(), cost.pack()]
POLICIES = {p.id: p for pack in PACKS for p in pack.policies}
BY_ID = {case.policy: case for case in CASES}


def flagged(report):
    return {(f.resource, f.rendered) for f in report.findings if f.status == "fail"}


def test_every_builtin_policy_has_a_case():
    assert sorted(POLICIES) == sorted(BY_ID)
    assert len(CASES) == len(BY_ID), "one case per policy"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.policy)
def test_passing_fixture(case):
    report = run(POLICIES[case.policy], case.passing, case.config)
    assert flagged(report) == set()
    assert not report.errors, [f.message for f in report.errors]
    assert any(f.status == "pass" for f in report.findings)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.policy)
def test_failing_fixture(case):
    report = run(POLICIES[case.policy], case.failing, case.config)
    assert not report.errors, [f.message for f in report.errors]
    assert flagged(report) == case.flagged


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.policy)
def test_failures_are_located_in_the_stack_file(case):
    """A failure about a stack resource points into that resource; one about a rendered resource no stack
    resource owns (a KMS key, a log group) points at the stack's first line; a stack-wide one at its field."""
    loaded = case.failing.loaded
    failures = [f for f in run(POLICIES[case.policy], case.failing, case.config).findings if f.status == "fail"]
    assert failures
    for finding in failures:
        assert finding.file == "stack.yaml", finding
        if finding.resource is not None:
            assert finding.line in _lines_of(loaded, finding.resource), finding
        elif finding.rendered is not None:
            assert finding.line == loaded.line_of("stack"), finding
        else:
            assert finding.line == loaded.line_of(*STACK_WIDE_FIELD[case.policy]), finding


#: the field a stack-wide failure points at
STACK_WIDE_FIELD = {"cost.budget": ("budget", "monthly_usd")}


def _lines_of(loaded, resource: str) -> range:
    """The stack-file lines of one resource: from its name to the line before the next resource."""
    starts = sorted(loaded.line_of("resources", name) for name in loaded.stack.resources)
    first = loaded.line_of("resources", resource)
    following = [line for line in starts if line > first]
    return range(first, following[0] if following else len(loaded.text.splitlines()) + 1)


# --- framework mappings ---------------------------------------------------------------------------------------

CIS = ("cis-aws-3.0", "cis-azure-2.0", "cis-gcp-2.0")  # the benchmark versions the baseline pack names

#: Baseline rules that no control of those benchmarks covers, and why. A rule leaves this list when a control
#: is found for it; a rule with a mapping may not stay on it (the test below fails on a stale entry).
NO_CIS_EQUIVALENT = {
    # organisational rules: no benchmark control picks machine sizes, requires tags or places data
    "compute.allowed-sizes": "cost / governance allow-list",
    "tags.required": "ownership tags are an organisational rule",
    "residency.geo": "data residency (GDPR Art. 44), not a hardening control",
    # Azure Foundations 2.0 has no VM login control (the separate CIS Compute Services benchmark does)
    "compute.password-login": "no SSH password-authentication control in Azure Foundations 2.0",
    "database.deletion-protection": "no deletion-protection control for RDS or Cloud SQL",
    # the Foundations benchmarks' database sections cover encryption, exposure, backups and (GCP) logging
    # flags; none asks for a standby, OS metrics, query insights or identity logins
    "database.high-availability": "no CIS Foundations control for a standby database",
    "database.enhanced-monitoring": "no CIS Foundations control for database OS metrics",
    "database.performance-insights": "no CIS Foundations control for query performance history",
    "database.iam-authentication": "no CIS Foundations control for identity logins to RDS or Cloud SQL",
    # GCP Foundations has a log_statement flag control among its PostgreSQL flags; its number in 2.0 was not
    # verified here, so it is not mapped rather than mapped to a guess
    "logging.database-statements": "GCP log_statement control number not verified for CIS GCP 2.0",
    # AWS Foundations 3.0 dropped S3 encryption at rest (2.1.1 is now 'deny HTTP requests'); Azure 3.2 / 3.12
    # ask for infrastructure encryption / CMKs, stricter than this rule; Cloud Storage always encrypts
    "encryption.bucket": "no CIS control for default bucket encryption in these versions",
    "encryption.lb-https": "the Foundations benchmarks have no load balancer listener TLS control",
    "encryption.lb-certificate-renewal": "no CIS Foundations control for how a balancer's certificate is validated",
    "logging.database-logs": "RDS-only rule; AWS Foundations has no RDS log export control",
    "logging.lb-access-logs": "the Foundations benchmarks have no load balancer access logging control",
    # the Foundations benchmarks stop at accounts, identities, logging and networks: none covers balancers
    "network.lb-waf": "no CIS Foundations control for a WAF in front of a load balancer",
    "network.lb-deletion-protection": "no CIS Foundations control for load balancer deletion protection",
    "network.lb-health-check": "no CIS Foundations control for load balancer health checks",
    "logging.log-retention": "AWS Foundations 3.0 sets no CloudWatch log group retention",
    "encryption.log-group-kms": "AWS Foundations 3.0 asks for KMS on CloudTrail's logs (3.5), not on log groups",
    "network.subnet-public-ip": "AWS Foundations 3.0 has no subnet auto-assign public IP control",
    # the Foundations benchmarks stop at the account's own networks: none covers site-to-site VPN settings
    "network.link-ipsec": "no CIS Foundations control for site-to-site VPN ciphers or keys",
    "network.link-default-route": "no CIS Foundations control for routes advertised over a VPN or peering",
    # 'Allow storage account key access: Disabled' arrives in CIS Azure 4.0 (10.3.1.3), not 2.0
    "storage.shared-key-access": "not in Azure Foundations 2.0",
    # AWS 2.1.2 is MFA Delete and Azure 3.11 soft delete: neither is the versioning this rule checks
    "storage.versioning": "no object versioning control",
    "storage.lifecycle": "no CIS Foundations control for object lifecycle rules",
}

CHECKOV_ID = re.compile(r"^CKV2?_(AWS|AZURE|GCP)_\d+$")
CIS_ID = re.compile(r"^\d+(\.\d+){1,2}$")


def test_every_baseline_rule_maps_to_a_cis_control_unless_allow_listed():
    rules = {p.id: p for p in baseline.pack().policies}
    assert set(NO_CIS_EQUIVALENT) <= set(rules), "allow-list names a rule the baseline does not have"
    unmapped = sorted(i for i, p in rules.items() if not any(p.frameworks.get(k) for k in CIS))
    assert unmapped == sorted(NO_CIS_EQUIVALENT), "map the rule to its CIS control, or allow-list it with a reason"


def test_framework_control_ids_are_well_formed():
    for policy in baseline.pack().policies:
        unknown_cis = [k for k in policy.frameworks if k.startswith("cis-") and k not in CIS]
        assert not unknown_cis, (policy.id, unknown_cis)
        for key in CIS:
            assert all(CIS_ID.match(c) for c in policy.frameworks.get(key, ())), (policy.id, key)
        assert all(CHECKOV_ID.match(c) for c in policy.frameworks.get("checkov", ())), policy.id


def test_framework_packs_keep_the_baseline_mappings():
    base = {p.id: p for p in baseline.pack().policies}
    for pack, framework in ((pci_dss.pack(), pci_dss.FRAMEWORK), (hipaa.pack(), hipaa.FRAMEWORK)):
        for policy in pack.policies:
            assert {k: v for k, v in policy.frameworks.items() if k != framework} == dict(base[policy.id].frameworks)
            assert policy.frameworks[framework], (pack.name, policy.id)
