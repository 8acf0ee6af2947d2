from __future__ import annotations

import textwrap

import pytest

from cloudorch.errors import SpecError
from cloudorch.policy import Pack, PolicySubject, evaluate
from cloudorch.policy.declarative import parse_policy_file
from cloudorch.rendering.model import RenderedResource, keyed_map, ref
from tests.policy.conftest import TODAY

SG = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

POLICY = textwrap.dedent("""\
    pack: team
    enforcement: advisory
    policies:
      - id: team.no-world-admin
        title: No world-open admin ports
        severity: high
        level: rendered
        resources: [aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule]
        message: admin port open to the world
        condition:
          or:
            - not: {attribute: cidrIpv4, operator: equals, value: 0.0.0.0/0}
            - and:
                - {attribute: fromPort, operator: greater_than, value: 22}
                - {attribute: toPort, operator: less_than, value: 3389}
      - id: team.tagged
        title: Compute has an owner tag
        severity: low
        level: spec
        resources: [compute]
        condition: {attribute: tags.owner, operator: exists}
""")


def _rule(name, cidr, low, high):
    return RenderedResource(name=name, type=SG, cloud="aws", source="web",
                            inputs={"cidrIpv4": cidr, "fromPort": low, "toPort": high, "ipProtocol": "tcp"})


def test_and_or_not(loaded):
    settings, policies = parse_policy_file(POLICY, "team.yaml")
    assert settings == {"pack": "team", "enforcement": "advisory"}
    rendered = [_rule("private", "10.0.0.0/8", 22, 22), _rule("https", "0.0.0.0/0", 443, 443),
                _rule("ssh", "0.0.0.0/0", 22, 22), _rule("range", "0.0.0.0/0", 3000, 4000),
                _rule("unknown", ref("cidr", "value"), 22, 22)]
    report = evaluate(PolicySubject(loaded, None, rendered), [Pack(name="team", policies=tuple(policies))], today=TODAY)
    fails = sorted((f.policy, f.resource, f.rendered) for f in report.failures)
    assert fails == [("team.no-world-admin", "web", "range"), ("team.no-world-admin", "web", "ssh"),
                     ("team.tagged", "api-one", None), ("team.tagged", "web", None)]
    [ssh] = [f for f in report.failures if f.rendered == "ssh"]
    assert ssh.message == "admin port open to the world"


def test_wildcards_defaults_and_references():
    _, [policy] = parse_policy_file(textwrap.dedent("""\
        id: team.encrypted
        title: encrypted block devices
        severity: high
        level: rendered
        resources: ["*"]
        condition:
          and:
            - {attribute: blockDeviceMappings.*.ebs.encrypted, operator: in, value: [true, "true"]}
            - {attribute: httpsOnly, operator: equals, value: true, default: true}
        """), "one.yaml")
    fn = policy.checks[0].fn

    def verdict(**inputs):
        res = RenderedResource(name="lt", type="x:y/z:Z", cloud="aws", inputs=inputs)
        return [v.message for v in fn(res, None)]

    assert verdict(blockDeviceMappings=[{"ebs": {"encrypted": True}}, {"ebs": {"encrypted": "true"}}]) == []
    assert verdict(blockDeviceMappings=[{"ebs": {"encrypted": True}}, {"ebs": {}}])  # one unencrypted device
    assert verdict(blockDeviceMappings=[{"ebs": {"encrypted": ref("x", "y")}}]) == []  # unknown: not judged
    # a map whose keys are known only at deploy time: nothing through it is known either
    assert verdict(blockDeviceMappings=keyed_map([(ref("x", "id"), {"ebs": {"encrypted": False}})])) == []
    assert verdict(blockDeviceMappings=[{"ebs": {"encrypted": True}}], httpsOnly=False)
    assert verdict() != []  # no block devices at all: the attribute is missing


def test_bad_policy_file_gets_located_errors():
    text = textwrap.dedent("""\
        policies:
          - id: NotNamespaced
            title: x
            severity: urgent
            level: rendered
            resources: [aws:ec2/instance:Instance]
            condition:
              and:
                - {attribute: a, operator: resembles, value: 1}
                - {attribute: b, operator: in, value: 3}
                - or: []
            colour: blue
        """)
    with pytest.raises(SpecError) as info:
        parse_policy_file(text, "bad.yaml")
    problems = {(p.line, p.path): p.message for p in info.value.problems}
    assert (2, "policies.0.id") in problems
    assert (4, "policies.0.severity") in problems
    assert any(line == 9 and "operator" in path for line, path in problems)
    assert any(line == 10 and "value" in path for line, path in problems)
    assert (11, "policies.0.condition.and.2.or") in problems
    assert (12, "policies.0.colour") in problems
    assert all(p.file == "bad.yaml" for p in info.value.problems)
    assert "bad.yaml:2" in str(info.value.problems[0])


def test_yaml_syntax_error_is_located():
    with pytest.raises(SpecError) as info:
        parse_policy_file("policies:\n  - id: [unclosed\n", "broken.yaml")
    assert info.value.problems[0].line is not None


def _problems(text, file="team.yaml"):
    with pytest.raises(SpecError) as info:
        parse_policy_file(textwrap.dedent(text), file)
    return {(p.line, p.path): p.message for p in info.value.problems}


ONE = """\
    id: team.rule
    title: a rule
    severity: low
    level: rendered
    resources: [aws:ec2/instance:Instance]
    condition: {attribute: instanceType, operator: exists}
    """


def test_frameworks_given_as_a_list_is_a_located_problem_not_a_crash():
    problems = _problems(ONE + "frameworks: [checkov, cis]\n")
    assert list(problems) == [(7, "frameworks")]
    assert "must be a mapping" in problems[(7, "frameworks")]


def test_every_mistyped_field_of_a_file_is_reported_at_once():
    problems = _problems("""\
        pack: Team Rules
        description: [not, text]
        policies:
          - id: team.typed
            title: [a, list]
            severity: low
            level: rendered
            resources: [compute]
            remediation: yes
            url: 5
            tags: security
            frameworks: {checkov: CKV_AWS_1, cis-aws-3.0: [1.10, "5.2"], pci: [], hipaa: [{a: 1}]}
            condition: {attribute: a..b, operator: exists}
          - id: team.typed
            title: same id again
            severity: low
            level: spec
            resources: [computer]
            condition: {attribute: cpu, operator: exists}
        """)
    assert set(problems) == {
        (1, "pack"), (2, "description"), (5, "policies.0.title"), (8, "policies.0.resources.0"),
        (9, "policies.0.remediation"), (10, "policies.0.url"), (11, "policies.0.tags"),
        (12, "policies.0.frameworks.cis-aws-3.0.0"), (12, "policies.0.frameworks.pci"),
        (12, "policies.0.frameworks.hipaa.0"), (13, "policies.0.condition.attribute"),
        (14, "policies.1.id"), (18, "policies.1.resources.0"),
    }
    assert "quote it" in problems[(12, "policies.0.frameworks.cis-aws-3.0.0")]
    assert "the boolean true" in problems[(9, "policies.0.remediation")]
    assert "defined twice (first on line 4)" in problems[(14, "policies.1.id")]
    assert "Pulumi type token" in problems[(8, "policies.0.resources.0")]


@pytest.mark.parametrize("condition, expected", [
    ("{attribute: a, operator: greater_than, value: abc}", "needs a number"),
    ("{attribute: a, operator: less_than_or_equal, value: true}", "needs a number"),
    ("{attribute: a, operator: matches, value: 5}", "needs a regular expression"),
    ("{attribute: a, operator: matches, value: '(unclosed'}", "not a valid regular expression"),
    ("{attribute: a, operator: in, value: abc}", "needs a list"),
    ("{attribute: a, operator: not_in, value: {k: v}}", "needs a list"),
    ("{attribute: a, operator: contains, value: [x]}", "needs a string, number or boolean"),
    ("{attribute: a, operator: equals, value: null}", "null never matches"),
    ("{attribute: a, operator: exists, value: false}", "takes no `value`"),
])
def test_operator_value_mismatches_are_rejected_when_parsing(condition, expected):
    problems = _problems(ONE.replace("{attribute: instanceType, operator: exists}", condition))
    assert list(problems) == [(6, "condition.value")]
    assert expected in problems[(6, "condition.value")]


def test_a_missing_value_is_reported_at_the_condition():
    problems = _problems(ONE.replace("operator: exists", "operator: greater_than"))
    assert problems == {(6, "condition"): "operator greater_than needs a `value` (a number)"}


def test_checked_operators_never_raise_at_evaluation(loaded):
    _, policies = parse_policy_file(textwrap.dedent("""\
        policies:
          - id: team.size
            title: big enough
            severity: low
            level: spec
            resources: [compute]
            condition: {attribute: cpu, operator: greater_than_or_equal, value: 2}
          - id: team.named
            title: named by convention
            severity: low
            level: spec
            resources: [compute]
            condition: {attribute: name, operator: matches, value: "^(web|api)-?"}
          - id: team.no-five
            title: a number never "contains" in a string
            severity: low
            level: spec
            resources: [compute]
            condition: {attribute: name, operator: not_contains, value: 5}
        """), "team.yaml")
    report = evaluate(PolicySubject(loaded, None, []), [Pack(name="team", policies=tuple(policies))], today=TODAY)
    assert not report.errors, [f.message for f in report.errors]
    assert not report.failures


@pytest.mark.parametrize("text", [
    "base: &b {id: team.x}\n<<: *b\n",                       # a merge key
    "a: &a [*a]\n",                                         # an alias inside itself
])
def test_yaml_shapes_the_loader_refuses_are_located_problems(text):
    with pytest.raises(SpecError) as info:
        parse_policy_file(text, "shape.yaml")
    assert info.value.problems[0].file == "shape.yaml" and info.value.problems[0].line
