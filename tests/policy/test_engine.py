from __future__ import annotations

import datetime as dt
import random

import pytest

from cloudorch.errors import PluginError, PolicyBlocked
from cloudorch.policy import (
    Check, NotApplicable, Pack, Policy, PolicySubject, Violation, blocking_error, evaluate, merge_packs,
    rendered_check, spec_check,
)
from tests.policy.conftest import NEVER, PUBLIC, TODAY


def by_status(report, status):
    return sorted((f.policy, f.resource, f.rendered) for f in report.findings if f.status == status)


def test_outcomes_are_distinct(subject, pack):
    report = evaluate(subject, [pack], today=TODAY)
    assert by_status(report, "fail") == [("test.public-ingress", "api-one", None)]
    assert by_status(report, "waived") == [("test.public-ingress", "web", None)]
    assert ("test.public-ingress", "db", None) in by_status(report, "pass")
    assert by_status(report, "pass").count(("test.never-fails", "web", "web-vm")) == 1


def test_a_failure_points_at_the_offending_line(subject, pack):
    report = evaluate(subject, [pack], today=TODAY)
    [fail] = report.failures
    assert (fail.file, fail.line) == ("stacks/shop.yaml", subject.loaded.line_of("resources", "api-one", "ingress", 0))
    assert fail.remediation == "close it" and fail.severity == "high" and fail.level == "spec"


def test_a_crashing_policy_is_an_error_finding_not_a_crash(subject):
    @rendered_check()
    def boom(res, ctx):
        raise KeyError("settings")

    crashing = Policy(id="test.crash", title="crashes", severity="medium", checks=(boom,))
    report = evaluate(subject, [Pack(name="p", policies=(crashing, PUBLIC))], today=TODAY)
    [error] = report.errors
    assert error.status == "error" and error.rendered == "web-vm"
    assert "KeyError" in error.message and "settings" in error.message
    assert error in report.blocking  # a mandatory policy that could not run does not vouch for the stack
    assert any(f.policy == "test.public-ingress" for f in report.findings)


def test_a_check_returning_garbage_is_an_error(subject):
    bad = Policy(id="test.bad", title="bad", severity="low", checks=(Check("rendered", (), lambda r, c: 42),))
    report = evaluate(subject, [Pack(name="p", policies=(bad,))], today=TODAY)
    assert [f.status for f in report.findings] == ["error"]


def test_not_applicable_when_nothing_matches_or_the_check_says_so(subject):
    nothing = Policy(id="test.nothing", title="t", severity="low",
                     checks=(Check("rendered", ("gcp:sql/databaseInstance:DatabaseInstance",), lambda r, c: []),))
    declined = Policy(id="test.declined", title="t", severity="low",
                      checks=(Check("rendered", (), lambda r, c: [NotApplicable("needs a placement")]),))
    report = evaluate(subject, [Pack(name="p", policies=(nothing, declined))], today=TODAY)
    assert {(f.policy, f.status, f.message) for f in report.findings} == {
        ("test.nothing", "not-applicable", "no resource this policy applies to"),
        ("test.declined", "not-applicable", "needs a placement"),
    }


def test_policy_override_beats_pack_override(subject, pack):
    report = evaluate(subject, [pack], today=TODAY,
                      overrides={"test": "advisory", "test.public-ingress": "mandatory"})
    assert {f.policy: f.enforcement for f in report.findings}["test.public-ingress"] == "mandatory"
    assert {f.policy: f.enforcement for f in report.findings}["test.never-fails"] == "advisory"
    report = evaluate(subject, [pack], today=TODAY, overrides={"test": "advisory"})
    assert not report.blocking


def test_stack_file_enforcement_applies_and_call_overrides_win(loaded, rendered, pack):
    text = loaded.text.replace("  packs: [baseline]\n", "  packs: [baseline]\n  enforcement: {test.public-ingress: advisory}\n")
    from cloudorch.spec.loader import parse_stack

    subject = PolicySubject(parse_stack(text, "s.yaml"), None, rendered)
    assert not evaluate(subject, [pack], today=TODAY).blocking
    assert evaluate(subject, [pack], today=TODAY, overrides={"test.public-ingress": "mandatory"}).blocking


def test_disabled_policies_are_not_run(subject, pack):
    report = evaluate(subject, [pack], today=TODAY, overrides={"test.public-ingress": "disabled"})
    assert report.disabled == ("test.public-ingress",)
    assert all(f.policy != "test.public-ingress" for f in report.findings)
    # the waiver for the disabled policy now matches nothing
    assert any(w.policy == "test.public-ingress" and w.resource == "web" for w in report.unused_waivers)


def test_unknown_override_keys_are_reported(subject, pack):
    report = evaluate(subject, [pack], today=TODAY, overrides={"tset.typo": "advisory", "test": "mandatory"})
    assert report.unknown_overrides == ("tset.typo",)


def test_strictest_pack_wins_for_a_shared_rule(subject):
    advisory = Pack(name="base", policies=(PUBLIC,), enforcement="advisory")
    strict = Pack(name="strict", policies=(PUBLIC,), enforcement="mandatory")
    report = evaluate(subject, [advisory, strict], today=TODAY)
    [info] = report.policies
    assert info.enforcement == "mandatory" and info.packs == ("base", "strict")


def test_two_different_rules_under_one_id_are_refused():
    other = Policy(id=PUBLIC.id, title="impostor", severity="low", checks=(Check("spec", (), lambda t, c: []),))
    with pytest.raises(PluginError, match="defined differently"):
        merge_packs([Pack(name="a", policies=(PUBLIC,)), Pack(name="b", policies=(other,))])


def test_policy_config_overrides_defaults(subject):
    @spec_check("compute")
    def cpu(target, ctx):
        return [Violation("too big")] if target.model.cpu > ctx.config["max"] else []

    policy = Policy(id="test.cpu", title="t", severity="low", checks=(cpu,), config={"max": 8})
    pack = Pack(name="p", policies=(policy,))
    assert not evaluate(subject, [pack], today=TODAY).failures
    assert len(evaluate(subject, [pack], today=TODAY, config={"test.cpu": {"max": 1}}).failures) == 2


def test_evaluation_is_deterministic(loaded, rendered, pack):
    from cloudorch.rendering.model import RenderedResource

    many = rendered + [RenderedResource(name=f"vm-{i}", type="aws:ec2/instance:Instance", cloud="aws", source="web")
                       for i in range(20)]
    shuffled = many[:]
    random.Random(4).shuffle(shuffled)
    a = evaluate(PolicySubject(loaded, None, many), [pack], today=TODAY).to_dict()
    b = evaluate(PolicySubject(loaded, None, shuffled), [pack], today=TODAY).to_dict()
    assert a == b


def test_blocking_error_maps_to_exit_3(subject, pack):
    report = evaluate(subject, [pack], today=TODAY)
    error = blocking_error(report)
    assert isinstance(error, PolicyBlocked) and error.exit_code == 3 and "test.public-ingress" in error.message
    assert blocking_error(evaluate(subject, [pack], today=TODAY, overrides={"test": "advisory"})) is None


def test_policy_ids_must_be_namespaced():
    with pytest.raises(ValueError, match="namespaced"):
        Policy(id="public-ingress", title="t", severity="low", checks=(NEVER.checks[0],))
    with pytest.raises(ValueError, match="twice"):
        Pack(name="p", policies=(PUBLIC, PUBLIC))


def test_a_stack_wide_violation_is_reported_against_the_resource_it_names(subject):
    @spec_check("stack")
    def too_many_public(target, ctx):
        return [Violation("exposed to the internet", ("ingress", 0), resource="api-one"),
                Violation("stack-wide problem", ("policies", "packs"))]

    policy = Policy(id="test.named", title="t", severity="low", checks=(too_many_public,))
    report = evaluate(subject, [Pack(name="p", policies=(policy,))], today=TODAY)
    assert {(f.resource, f.line) for f in report.failures} == {
        ("api-one", subject.loaded.line_of("resources", "api-one", "ingress", 0)),
        (None, subject.loaded.line_of("policies", "packs")),
    }


def test_waivers_are_judged_on_the_date_asked_for_not_today(subject, pack):
    # the api-* waiver expires 2026-01-31: on 2026-01-15 it still holds, whatever the date the test runs on
    report = evaluate(subject, [pack], today=dt.date(2026, 1, 15))
    assert by_status(report, "waived") == [("test.public-ingress", "api-one", None), ("test.public-ingress", "web", None)]
    assert not report.expired_waivers and not report.failures


def test_a_spec_check_with_no_kinds_runs_on_every_resource_but_not_the_stack(subject):
    seen = []

    @spec_check()
    def every(target, ctx):
        seen.append(target.kind)
        return []

    evaluate(subject, [Pack(name="p", policies=(Policy(id="test.every", title="t", severity="low", checks=(every,)),))],
             today=TODAY)
    assert sorted(seen) == ["compute", "compute", "database", "network"]
