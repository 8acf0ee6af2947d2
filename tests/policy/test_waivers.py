from __future__ import annotations

import datetime as dt

from cloudorch.policy import Finding, evaluate
from cloudorch.policy.waivers import apply_waivers, waiver_matches
from cloudorch.spec.models import Waiver
from tests.policy.conftest import TODAY


def _finding(policy="network.public-ingress", resource="web", rendered=None, status="fail"):
    return Finding(policy=policy, title="t", severity="high", enforcement="mandatory", level="spec", status=status,
                   message="m", resource=resource, rendered=rendered)


def _waiver(policy="network.public-ingress", resource="web", expires=dt.date(2026, 12, 31)):
    return Waiver(policy=policy, resource=resource, reason="why", owner="me@example.com", expires=expires)


def test_waived_findings_carry_reason_and_owner(subject, pack):
    report = evaluate(subject, [pack], today=TODAY)
    [waived] = [f for f in report.findings if f.status == "waived"]
    assert (waived.resource, waived.waiver_reason, waived.waiver_owner) == (
        "web", "serves HTTPS to the internet", "web-team@example.com")
    assert not waived.blocking


def test_expired_waiver_stops_working_and_is_reported(subject, pack):
    report = evaluate(subject, [pack], today=TODAY)
    [expired] = report.expired_waivers
    assert expired.resource == "api-*" and expired.expires == dt.date(2026, 1, 31)
    assert expired.matched == ("test.public-ingress api-one",)
    assert expired.line == subject.loaded.line_of("policies", "waivers", 1)
    [fail] = report.failures
    assert fail.resource == "api-one" and "expired on 2026-01-31" in fail.note


def test_unused_waiver_is_reported(subject, pack):
    report = evaluate(subject, [pack], today=TODAY)
    assert [(w.policy, w.resource) for w in report.unused_waivers] == [("test.never-fails", "*")]


def test_a_waiver_is_valid_through_its_expiry_day():
    waiver = _waiver(expires=TODAY)
    out, expired, unused = apply_waivers([_finding()], [waiver], TODAY)
    assert out[0].status == "waived" and not expired and not unused
    out, expired, _ = apply_waivers([_finding()], [waiver], TODAY + dt.timedelta(days=1))
    assert out[0].status == "fail" and len(expired) == 1


def test_globs_on_policy_resource_and_rendered_name():
    assert waiver_matches(_waiver(policy="network.*", resource="w*"), _finding())
    assert waiver_matches(_waiver(resource="web-sg-*"), _finding(rendered="web-sg-443"))
    assert not waiver_matches(_waiver(resource="web-sg-*"), _finding(rendered="db-sg"))
    assert not waiver_matches(_waiver(policy="storage.*"), _finding())
    assert waiver_matches(_waiver(resource="*"), _finding(resource=None))  # stack-level findings


def test_only_failures_are_waived():
    out, _, unused = apply_waivers([_finding(status="pass"), _finding(status="error")], [_waiver()], TODAY)
    assert [f.status for f in out] == ["pass", "error"] and len(unused) == 1
