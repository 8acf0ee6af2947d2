"""Parts: what a resource holds inline (a gateway's listeners) judged by the rules of their role, by any cloud."""

from __future__ import annotations

from cloudorch.policy import Pack, Policy, PolicySubject, evaluate, expect_fact, rendered_check
from cloudorch.rendering.facts import BalancerFacts, DatabaseFacts, ListenerFacts, Part
from cloudorch.rendering.model import RenderedResource
from cloudorch.rendering.roles import Role
from tests.policy.conftest import TODAY


def res(name: str, role: str, **inputs) -> RenderedResource:
    return RenderedResource(name=name, type="acme:lb:Gateway", role=role, cloud="acme", region="north-1",
                            source="web", inputs=inputs)


@rendered_check(roles=("balancer-listener",))
def _tls(resource, ctx):
    return expect_fact(ctx, resource, "min_tls", lambda v: v >= "1.2", lambda v: f"accepts TLS {v}")


TLS = Policy(id="test.tls", title="tls", severity="high", checks=(_tls,))


def describe_listeners(calls: list[str]):
    """Acme's gateway holds its listeners in ``listeners``; a separate listener resource describes itself."""
    def describe(resource, graph):
        calls.append(resource.name)
        if resource.role == "balancer-listener":
            return ListenerFacts(protocol="https", min_tls=resource.inputs["tls"])
        return BalancerFacts(parts=tuple(Part("listeners", i, Role.BALANCER_LISTENER,
                                              ListenerFacts(protocol="https", min_tls=x["tls"]))
                                         for i, x in enumerate(resource.inputs.get("listeners", []))))
    return describe


def run(subject, *policies):
    return evaluate(subject, [Pack(name="p", policies=policies)], today=TODAY)


def judged(report):
    return sorted((f.resource, f.rendered, f.cloud, f.status, f.message) for f in report.findings if f.rendered)


def test_inline_listeners_are_judged_as_listeners_and_named_by_their_holder_and_path(loaded):
    calls: list[str] = []
    gateway = res("gw", "balancer", listeners=[{"tls": "1.2"}, {"tls": "1.0"}])
    subject = PolicySubject(loaded, rendered=[gateway, res("alb-listener", "balancer-listener", tls="1.1"),
                                              res("db", "database")], describe=describe_listeners(calls))
    assert judged(run(subject, TLS)) == [
        ("web", "alb-listener", "acme", "fail", "accepts TLS 1.1"),
        ("web", "gw.listeners[0]", "acme", "pass", "ok"),
        ("web", "gw.listeners[1]", "acme", "fail", "accepts TLS 1.0"),
    ]
    assert sorted(calls) == ["alb-listener", "gw"]  # the database holds no parts: never described for them


def test_a_check_sees_the_parts_own_inputs(loaded):
    seen = []

    @rendered_check(roles=("balancer-listener",))
    def look(resource, ctx):
        seen.append((resource.name, resource.role, resource.type, resource.inputs))
        return []

    gateway = res("gw", "balancer", listeners=[{"tls": "1.3"}])
    run(PolicySubject(loaded, rendered=[gateway], describe=describe_listeners([])),
        Policy(id="test.look", title="look", severity="low", checks=(look,)))
    assert seen == [("gw.listeners[0]", "balancer-listener", "acme:lb:Gateway", {"tls": "1.3"})]


def test_a_part_of_a_role_its_holder_cannot_hold_is_the_providers_error(loaded):
    def describe(resource, graph):
        return BalancerFacts(parts=(Part("dbs", 0, Role.DATABASE, DatabaseFacts()),))

    report = run(PolicySubject(loaded, rendered=[res("gw", "balancer")], describe=describe), TLS)
    errors = [f for f in report.findings if f.status == "error"]
    assert [(f.rendered, f.status) for f in errors] == [("gw", "error")]
    assert "dbs[0] of gw" in errors[0].message and "database part" in errors[0].message


def test_a_part_with_the_wrong_facts_is_the_providers_error(loaded):
    def describe(resource, graph):
        return BalancerFacts(parts=(Part("listeners", 0, Role.BALANCER_LISTENER, DatabaseFacts()),))

    report = run(PolicySubject(loaded, rendered=[res("gw", "balancer")], describe=describe), TLS)
    assert [(f.rendered, f.status) for f in report.findings] == [("gw", "error")]


def test_a_holder_its_provider_cannot_describe_is_an_error_of_the_listener_rule_not_a_pass(loaded):
    def describe(resource, graph):
        raise RuntimeError("boom")

    report = run(PolicySubject(loaded, rendered=[res("gw", "balancer")], describe=describe), TLS)
    assert [(f.rendered, f.status) for f in report.findings] == [("gw", "error")]
    assert "failed to describe gw" in report.findings[0].message
