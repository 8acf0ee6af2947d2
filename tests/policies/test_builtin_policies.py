"""Every built-in policy: a passing fixture flags nothing, a failing one flags exactly the expected set."""

from __future__ import annotations

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
    report = run(POLICIES[case.policy], case.failing, case.config)
    for finding in report.findings:
        if finding.status == "fail" and finding.resource is not None:
            assert finding.file == "stack.yaml" and finding.line, finding
