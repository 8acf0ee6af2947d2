"""Rules the real AWS APIs enforce that the schema cannot express, pinned after the deployability audit."""

from __future__ import annotations

import json

from cloudorch_aws.provider import Provider
from tests.support import webshop_context


def _flow_log_policy() -> list[dict]:
    role = next(r for r in Provider().render(webshop_context("aws")) if r.name == "net-aws-eu-west-1-flow-logs-role")
    (inline,) = role.inputs["inlinePolicies"]
    return json.loads(inline["policy"])["Statement"]


def test_flow_log_role_has_the_documented_minimum_permissions():
    # VPC user guide, "IAM role for publishing flow logs to CloudWatch Logs": without DescribeLogGroups the
    # flow log reports an access error and delivers nothing.
    actions = set()
    for statement in _flow_log_policy():
        listed = statement["Action"]
        actions |= {listed} if isinstance(listed, str) else set(listed)
    assert actions >= {
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
        "logs:DescribeLogGroups", "logs:DescribeLogStreams",
    }


def test_flow_log_writes_stay_scoped_to_the_one_log_group():
    group = "arn:aws:logs:eu-west-1:*:log-group:/cloudorch/webshop/net/flow-logs"
    statements = _flow_log_policy()
    writes = next(s for s in statements if "logs:PutLogEvents" in s["Action"])
    assert writes["Resource"] == [group, f"{group}:*"]
    describe = next(s for s in statements if s["Action"] == "logs:DescribeLogGroups")
    assert describe["Resource"] == "arn:aws:logs:eu-west-1:*:log-group:*"
