"""Rules that target neutral roles and read the providers' facts, whatever the cloud."""

from __future__ import annotations

import pytest

from cloudorch.policy import (
    Check, Pack, Policy, PolicySubject, Violation, evaluate, expect_fact, rendered_check,
)
from cloudorch.rendering.facts import DatabaseFacts
from cloudorch.rendering.model import RenderedResource
from tests.policy.conftest import TODAY


def res(name: str, role: str | None, cloud: str = "acme", type_: str = "acme:db:Server", **inputs) -> RenderedResource:
    return RenderedResource(name=name, type=type_, role=role, cloud=cloud, region="north-1", source="db", inputs=inputs)


@rendered_check(roles=("database",))
def _public(resource, ctx):
    return expect_fact(ctx, resource, "publicly_reachable", False, "the database has a public endpoint")


PUBLIC = Policy(id="test.db-public", title="private databases", severity="high", checks=(_public,))


def acme_describe(calls: list[str]):
    def describe(resource, graph):
        calls.append(resource.name)
        return DatabaseFacts(publicly_reachable=resource.inputs.get("open", False),
                             notes={"publicly_reachable": "acme says: open"} if resource.inputs.get("open") else {})
    return describe


def run(subject, *policies):
    return evaluate(subject, [Pack(name="p", policies=policies)], today=TODAY)


def statuses(report):
    return sorted((f.rendered, f.status, f.message) for f in report.findings if f.rendered)


def test_a_role_targeted_rule_judges_any_clouds_resources_of_that_role_through_their_facts(loaded):
    calls: list[str] = []
    subject = PolicySubject(loaded, rendered=[res("a", "database", open=True), res("b", "database"),
                                              res("c", "instance"), res("d", None)], describe=acme_describe(calls))
    assert statuses(run(subject, PUBLIC)) == [("a", "fail", "acme says: open"), ("b", "pass", "ok")]
    assert sorted(calls) == ["a", "b"]  # neither the instance nor the resource without a role is looked at


def test_facts_are_read_once_per_resource_however_many_rules_ask(loaded):
    calls: list[str] = []
    again = Policy(id="test.db-public-again", title="again", severity="low", checks=(_public,))
    subject = PolicySubject(loaded, rendered=[res("a", "database")], describe=acme_describe(calls))
    run(subject, PUBLIC, again)
    assert calls == ["a"]


def test_a_resource_of_a_listed_type_and_role_is_judged_once(loaded):
    @rendered_check("acme:db:Server", roles=("database",))
    def seen(resource, ctx):
        return [Violation("seen")]

    report = run(PolicySubject(loaded, rendered=[res("a", "database")]),
                 Policy(id="test.seen", title="seen", severity="low", checks=(seen,)))
    assert statuses(report) == [("a", "fail", "seen")]


def test_a_provider_that_cannot_describe_a_resource_of_a_described_role_is_an_error_not_a_pass(loaded):
    subject = PolicySubject(loaded, rendered=[res("a", "database")], describe=lambda resource, graph: None)
    [finding] = [f for f in run(subject, PUBLIC).findings if f.rendered]
    assert finding.status == "error"
    assert "acme provider renders a (acme:db:Server) as a database but describes it with nothing" in finding.message


def test_a_describe_that_crashes_names_the_provider(loaded):
    def broken(resource, graph):
        raise KeyError("settings")

    [finding] = [f for f in run(PolicySubject(loaded, rendered=[res("a", "database")], describe=broken), PUBLIC).findings
                 if f.rendered]
    assert finding.status == "error" and "the acme provider failed to describe a: KeyError" in finding.message


def test_by_default_the_installed_provider_of_the_resources_cloud_describes_it(loaded):
    rds = res("rds", "database", cloud="aws", type_="aws:rds/instance:Instance", publiclyAccessible=True)
    assert statuses(run(PolicySubject(loaded, rendered=[rds]), PUBLIC)) == [("rds", "fail", "publiclyAccessible is true")]
    # a cloud no installed provider renders cannot be described: an error, never a silent pass
    [finding] = [f for f in run(PolicySubject(loaded, rendered=[res("a", "database")]), PUBLIC).findings if f.rendered]
    assert finding.status == "error" and "no provider plugin for cloud 'acme'" in finding.message


def test_roles_are_checked_against_the_vocabulary():
    with pytest.raises(ValueError, match="unknown role"):
        rendered_check(roles=("databse",))(lambda resource, ctx: [])
    with pytest.raises(ValueError, match="only a rendered check"):
        Check("spec", ("database",), lambda target, ctx: [], roles=("database",))
