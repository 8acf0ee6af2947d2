from __future__ import annotations

import textwrap

import pytest

from cloudorch.errors import SpecError
from cloudorch.policy import Pack, PolicySubject, evaluate
from cloudorch.policy.declarative import parse_policy_file
from cloudorch.rendering.model import RenderedResource, ref
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
