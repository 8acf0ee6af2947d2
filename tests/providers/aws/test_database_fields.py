"""The database fields on RDS: enhanced monitoring through its own role, Performance Insights, IAM logins and
a parameter group that logs PostgreSQL statements; each off when the stack says so."""

from __future__ import annotations

import pytest

from cloudorch.rendering.facts import GraphOf
from cloudorch.spec.loader import parse_stack
from cloudorch.errors import SpecError
from cloudorch_aws.provider import Provider
from tests.providers.aws.test_aws_review_fixes import _context

DB = "db-aws-us-east-1-db"


def _render(**db):
    rendered = Provider().render(_context(db=db))
    by_name = {r.name: r for r in rendered}
    return by_name, Provider().describe(by_name[DB], GraphOf(rendered))


def test_the_defaults_monitor_log_and_take_identity_logins():
    by_name, facts = _render()
    db = by_name[DB].inputs
    assert db["monitoringInterval"] == 60 and db["monitoringRoleArn"] == {"$ref": "db-aws-us-east-1-monitoring-role",
                                                                           "output": "arn"}
    assert by_name["db-aws-us-east-1-monitoring-policy"].inputs["policyArn"].endswith("AmazonRDSEnhancedMonitoringRole")
    assert db["performanceInsightsEnabled"] is True and db["iamDatabaseAuthenticationEnabled"] is True
    params = by_name["db-aws-us-east-1-params"].inputs
    assert params["family"] == "postgres16"
    assert {p["name"]: p["value"] for p in params["parameters"]}["log_statement"] == "ddl"
    assert db["parameterGroupName"] == {"$ref": "db-aws-us-east-1-params", "output": "name"}
    assert (facts.enhanced_monitoring, facts.performance_insights, facts.iam_authentication,
            facts.statement_logging) == (True, True, True, "ddl")


def test_each_field_turns_its_setting_off():
    by_name, facts = _render(enhanced_monitoring=False, performance_insights=False, iam_authentication=False,
                             statement_logging="none")
    db = by_name[DB].inputs
    assert "monitoringInterval" not in db and "performanceInsightsEnabled" not in db and "parameterGroupName" not in db
    assert not [n for n in by_name if n.endswith(("monitoring-role", "params"))]
    assert (facts.enhanced_monitoring, facts.performance_insights, facts.iam_authentication,
            facts.statement_logging) == (False, False, False, "none")


def test_statement_logging_is_postgres_only():
    text = ('stack: s\nresources:\n  net: {kind: network, cidr: 10.0.0.0/16}\n'
            '  db: {kind: database, network: net, engine: mysql, version: "8.0", statement_logging: all}\n')
    with pytest.raises(SpecError) as info:
        parse_stack(text, "s.yaml")
    assert "resources.db" in str(info.value.problems[0]) and "PostgreSQL" in str(info.value.problems[0])
    _, facts = _render(engine="mysql", version="8.0")
    assert facts.statement_logging is None
