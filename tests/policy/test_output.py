from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from cloudorch.policy import (
    Pack, PolicySubject, evaluate, to_github, to_json, to_junit, to_markdown, to_sarif, to_text,
)
from cloudorch.policy.model import Check, Policy
from tests.policy.conftest import NEVER, PUBLIC, TODAY
from tests.support import SHARED, require_shared

SCHEMA = SHARED / "data" / "sarif" / "sarif-schema-2.1.0.json"


@pytest.fixture
def reports(subject, loaded):
    crash = Policy(id="test.crash", title="crashes", severity="low", enforcement="advisory",
                   checks=(Check("rendered", (), lambda r, c: 1 / 0),))
    pack = Pack(name="test", policies=(PUBLIC, NEVER, crash))
    other = PolicySubject(loaded.__class__(stack=loaded.stack.model_copy(update={"stack": "other"}), file="stacks/other.yaml",
                                           text=loaded.text, lines=loaded.lines), None, subject.rendered)
    return [evaluate(subject, [pack], today=TODAY), evaluate(other, [pack], today=TODAY)]


@pytest.mark.shared
def test_sarif_validates_against_the_official_schema(reports):
    require_shared(SCHEMA)
    import jsonschema

    sarif = to_sarif(reports)
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    json.dumps(sarif)  # plain JSON


def test_sarif_rules_results_and_locations(reports, subject):
    run = to_sarif(reports)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["test.crash", "test.never-fails", "test.public-ingress"]
    public = rules[2]
    assert public["help"]["text"] == "close it" and public["defaultConfiguration"]["level"] == "error"
    assert public["properties"]["security-severity"] == "8.0" and "test" in public["properties"]["tags"]
    fails = [r for r in run["results"] if "suppressions" not in r]
    waived = [r for r in run["results"] if "suppressions" in r]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in fails} == {
        "stacks/shop.yaml", "stacks/other.yaml"}
    line = subject.loaded.line_of("resources", "api-one", "ingress", 0)
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] == line for r in fails)
    assert all(r["ruleIndex"] == 2 and r["level"] == "error" for r in fails)
    assert waived[0]["suppressions"][0]["justification"].startswith("serves HTTPS")
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes and "ZeroDivisionError" in notes[0]["message"]["text"]
    assert to_sarif(reports) == to_sarif(reports)


def test_junit_parses_back(reports):
    root = ET.fromstring(to_junit(reports))
    assert root.tag == "testsuites" and [s.get("name") for s in root] == ["shop", "other"]
    suite = root[0]
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases)
    failures = [c for c in cases if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failures] == [("test.public-ingress", "api-one")]
    assert suite.get("failures") == "1" and suite.get("errors") == "1" and int(suite.get("skipped")) >= 1
    assert failures[0].find("failure").get("type") == "mandatory:high"
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in root)


def test_github_annotations(reports):
    lines = to_github(reports).splitlines()
    error = next(l for l in lines if l.startswith("::error ") and "public-ingress" in l)
    assert error.startswith("::error file=stacks/shop.yaml,line=")
    assert ",title=test.public-ingress [high]::api-one: port 8080 open to the internet%0ARemediation: close it" in error
    assert any(l.startswith("::warning ") and "crashed" in l for l in lines)  # advisory policy crash
    assert any(l.startswith("::warning ") and "expired waiver" in l for l in lines)
    assert any(l.startswith("::notice ") and "unused waiver" in l for l in lines)
    assert all("\n" not in l for l in lines)


def test_github_escapes_properties():
    from cloudorch.policy.output.text import _command

    assert _command("error", "a\nb%", file="dir,x/f:y.yaml", line=3, title="t") == \
        "::error file=dir%2Cx/f%3Ay.yaml,line=3,title=t::a%0Ab%25"


def test_markdown_and_text(reports):
    md = to_markdown(reports)
    assert md.startswith("### cloudorch policy check: ❌ blocked")
    assert "| `shop` | 1 | 1 | 1 | 1 |" in md and "`test.public-ingress`" in md and "expired" in md
    text = to_text(reports)
    assert "FAIL" in text and "EXPIRED waiver" in text and "UNUSED waiver" in text
    data = to_json(reports)
    assert data["blocking"] == 2 and not data["passed"] and json.dumps(data)
