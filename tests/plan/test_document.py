"""A saved plan file read as hostile input, and compared with a re-derived plan field by field."""

from __future__ import annotations

import json
import time

import pytest

from cloudorch.errors import UsageError
from cloudorch.plan.document import MAX_DEPTH, comparable, differences, format_path, read_document

PLAN = '{\n  "format_version": 1,\n  "stack": "shop",\n  "placements": [\n    {"resource": "web", "count": 2}\n  ]\n}\n'


def refused(text: str) -> str:
    with pytest.raises(UsageError) as caught:
        read_document(text, "p.json")
    return caught.value.message


def test_a_plan_document_reads_as_json():
    assert read_document(PLAN, "p.json") == json.loads(PLAN)


def test_a_duplicated_key_is_refused_with_its_line_and_path():
    text = PLAN.replace('"count": 2', '"count": 2, "count": 9')
    assert refused(text) == "p.json:5: placements[0].count: key 'count' appears twice in one object (the last would silently win)"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 1_000, 200_000])
def test_deep_nesting_is_refused_quickly_with_its_line(depth):
    text = PLAN.replace('"count": 2', '"count": ' + "[" * depth + "]" * depth)
    started = time.monotonic()
    message = refused(text)
    assert time.monotonic() - started < 5
    assert message.startswith("p.json:5: placements[0].count[0][0]") and f"nested more than {MAX_DEPTH} levels" in message


def test_nesting_a_plan_has_is_read():
    nested = "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3)  # the object, placements, and its item are 3 levels
    assert read_document(PLAN.replace('"count": 2', f'"count": {nested}'), "p.json")


def test_an_integer_past_pythons_conversion_limit_is_refused_with_its_line():
    message = refused(PLAN.replace('"count": 2', '"count": ' + "9" * 5_000))
    assert message == "p.json:5: placements[0].count: a number of 5,000 digits (no plan holds one)"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_refused(constant):
    assert refused(PLAN.replace('"count": 2', f'"count": {constant}')) == \
        f"p.json:5: placements[0].count: {constant} is not a JSON number"


def test_broken_json_and_non_objects_are_refused_with_a_line():
    assert refused('{\n  "stack": }').startswith("p.json:2: not valid JSON")
    assert refused("[1, 2]") == "p.json:1: a saved plan is a JSON object, not an array"


def test_long_paths_are_cut():
    assert format_path(("a", 0, "b")) == "a[0].b"
    assert format_path(("x", *[0] * 20)) == "x[0][0][0][0][0][0][0]... (21 levels)"


def test_differences_name_the_field_and_both_values():
    saved = {"placements": [{"resource": "web", "region": "eu-west-1"}], "cost": {"monthly_usd": 10.0}}
    derived = {"placements": [{"resource": "web", "region": "eu-north-1"}], "cost": {"monthly_usd": 12.5}}
    assert differences(saved, derived) == ['cost.monthly_usd: saved 10.0, re-derived 12.5',
                                           'placements.web.region: saved "eu-west-1", re-derived "eu-north-1"']


def test_formatting_is_not_a_difference_but_a_type_is():
    assert differences({"a": 1, "b": [1.0]}, {"b": [1], "a": 1.0}) == []
    assert differences({"format_version": True}, {"format_version": 1}) == ["format_version: saved true, re-derived 1"]
    assert differences({"count": "6"}, {"count": 6}) == ['count: saved "6", re-derived 6']
    assert differences({"spot": 0}, {"spot": False}) == ["spot: saved 0, re-derived false"]


def test_missing_and_extra_fields_and_entries():
    assert differences({"a": 1}, {"a": 1, "policy": {"summary": {}}}) == \
        ["policy: missing from the saved plan (re-derived an object of 1 field)"]
    assert differences({"a": 1, "x": [1]}, {"a": 1}) == ["x: in the saved plan (a list of 1), not in the re-derived one"]
    slots = [{"resource": "web", "region": r} for r in ("a", "b")]
    assert differences({"p": slots[:1]}, {"p": slots}) == ["p.web: 1 entry in the saved plan, 2 re-derived"]
    assert differences({"p": [slots[0], {**slots[1], "region": "c"}]}, {"p": slots}) == \
        ['p.web[1].region: saved "c", re-derived "b"']
    assert differences({"l": [1, 2]}, {"l": [1]}) == ["l[1]: in the saved plan (2), not in the re-derived one"]


def test_differences_stop_at_the_limit():
    assert len(differences({str(i): i for i in range(10)}, {str(i): -i - 1 for i in range(10)}, limit=3)) == 3


def test_only_what_legitimately_differs_between_runs_is_left_out():
    document = {"catalog": {"source": "skypilot:/home/a/catalog", "as_of": "x"},
                "policy": {"file": "stacks/shop.yaml", "summary": {"fail": 1},
                           "findings": [{"policy": "p", "file": "stacks/shop.yaml", "line": 3}]}}
    other = {"catalog": {"source": "skypilot:../catalog", "as_of": "x"},
             "policy": {"file": "shop.yaml", "summary": {"fail": 1},
                        "findings": [{"policy": "p", "file": "shop.yaml", "line": 3}]}}
    assert differences(comparable(document), comparable(other)) == []
    embedded = {**other, "catalog": {"source": "embedded", "as_of": "x"}}
    assert differences(comparable(document), comparable(embedded)) == ['catalog.source: saved "skypilot", re-derived "embedded"']
    moved = {**other, "policy": {**other["policy"], "findings": [{"policy": "p", "file": "shop.yaml", "line": 4}]}}
    assert differences(comparable(document), comparable(moved)) == ["policy.findings[0].line: saved 3, re-derived 4"]


def test_what_a_stopped_search_proved_is_left_out_but_not_that_it_stopped():
    def plan(stopped, bound, monthly=100.0):
        return {"cost": {"monthly_usd": monthly, "search_stopped": stopped, "lower_bound_monthly_usd": bound}}

    assert differences(comparable(plan("the time limit", 80.0)), comparable(plan("2,000 nodes", 85.5))) == []
    assert differences(comparable(plan("the time limit", 80.0)), comparable(plan(None, 100.0))) == \
        ['cost.lower_bound_monthly_usd: missing from the saved plan (re-derived 100.0)',
         'cost.search_stopped: saved "stopped", re-derived null']
    assert differences(comparable(plan("the time limit", 80.0)), comparable(plan("the time limit", 80.0, 99.0))) == \
        ["cost.monthly_usd: saved 100.0, re-derived 99.0"]
    assert differences(comparable(plan(None, 90.0)), comparable(plan(None, 95.0))) == \
        ["cost.lower_bound_monthly_usd: saved 90.0, re-derived 95.0"]


@pytest.mark.parametrize("special", ["/dev/zero", "."])
def test_a_device_or_directory_is_refused_at_once_as_a_plan_file(special):
    from cloudorch.plan.document import read_plan_file

    started = time.monotonic()
    with pytest.raises(UsageError) as err:
        read_plan_file(special)
    problem = str(err.value.problems[0])
    assert ("not a regular file" in problem or "is a directory" in problem) and time.monotonic() - started < 1


def test_an_oversized_plan_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import cloudorch.plan.document as document

    plan = tmp_path / "plan.json"
    plan.write_text('{"format_version": 1}' + " " * 100)
    monkeypatch.setattr(document, "MAX_PLAN_BYTES", 50)
    with pytest.raises(UsageError) as err:
        document.read_plan_file(plan)
    assert "a plan file may have at most 50" in str(err.value.problems[0])
