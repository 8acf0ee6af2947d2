"""YAML that PyYAML reads (or half reads) but a stack file must not hold: each is one located problem, fast.

Every case here crashed the loader (exit 1) or hung it before it was handled: found by fuzzing (issue 15).
"""

from __future__ import annotations

import time

import pytest

from cloudorch.errors import SpecError
from cloudorch.spec.loader import parse_stack
from cloudorch.spec.yamlsource import MAX_DEPTH, MAX_NODES, YamlShapeError, load_located
from tests.spec.test_loader import GOOD, problems


def _laughs(levels: int = 9) -> list[str]:
    """Anchors, each a list of nine aliases of the one before: the last expands to 9**levels values."""
    anchors = ["&a0 [x, x, x, x, x, x, x, x, x]"]
    anchors += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return anchors


@pytest.mark.parametrize("value,expected", [
    ("2027-02-30", "shop.yaml:10:16: resources.web.memory_gb: '2027-02-30' is not a valid date (day is out of range "
                   "for month)"),
    ("9" * 5000, "shop.yaml:10:16: resources.web.memory_gb: 99999999999999999999...9999999999 (5,000 characters) is not "
                 "a valid integer (too many digits)"),
    ("!!float abc", "shop.yaml:10:16: resources.web.memory_gb: 'abc' is not a valid number"),
    ("!!int abc", "shop.yaml:10:16: resources.web.memory_gb: 'abc' is not a valid integer"),
    ("!!int 0x", "shop.yaml:10:16: resources.web.memory_gb: '0x' is not a valid integer"),
    ("!!timestamp abc", "shop.yaml:10:16: resources.web.memory_gb: 'abc' is not a valid date"),
    ("!!bool maybe", "shop.yaml:10:16: resources.web.memory_gb: 'maybe' is not a valid boolean"),
])
def test_a_value_its_tag_cannot_read_is_a_located_problem(value, expected):
    assert problems(GOOD.replace("memory_gb: 4", f"memory_gb: {value}")) == [expected]


@pytest.mark.parametrize("depth", [100, 500, 990])
@pytest.mark.parametrize("open_,close", [("[", "]"), ("{a: ", "}")])
def test_deep_nesting_is_refused_at_its_line(depth, open_, close):
    found = problems(GOOD.replace("memory_gb: 4", f"memory_gb: {open_ * depth}1{close * depth}"))
    assert len(found) == 1 and found[0].startswith("shop.yaml:10") and f"nested more than {MAX_DEPTH} levels" in found[0]


def test_nesting_past_libyaml_is_a_syntax_error_with_its_place():
    found = problems(GOOD.replace("memory_gb: 4", "memory_gb: " + "[" * 1200 + "]" * 1200))
    assert len(found) == 1 and found[0].startswith("shop.yaml:10:") and "nesting depth" in found[0]


def test_json_nested_deep_is_refused_too():
    text = '{"stack": "shop", "resources": ' + '{"a": ' * 800 + "1" + "}" * 800 + "}"
    found = problems(text)
    assert len(found) == 1 and found[0].startswith("shop.yaml:1: resources.a.a.a: nested more than")


def test_a_billion_laughs_key_is_refused_at_once():
    text = f"? [{', '.join(_laughs())}]\n: 1\n" + GOOD
    started = time.monotonic()
    assert problems(text) == ["shop.yaml:1:3: a key must be a plain name, not a list or mapping"]
    assert time.monotonic() - started < 2


def test_a_billion_laughs_value_stops_at_the_node_budget():
    text = GOOD + f"    tags: {{x: [{', '.join(_laughs())}]}}\n"
    started = time.monotonic()
    assert problems(text) == [f"shop.yaml:11: the document expands to more than {MAX_NODES:,} values (aliases?)"]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("char", ["\x07", "\x00", "\x1b", "\ufffe"])
def test_a_control_character_is_placed_by_line_and_column(char):
    text = GOOD.replace("kind: compute", f"kind: compüte{char}")  # a wide character before it: columns count characters
    assert problems(text) == [f"shop.yaml:7:18: character U+{ord(char):04X} is not allowed in YAML (a control or "
                              "special character); remove it"]


def test_the_pure_python_parser_places_them_alike(monkeypatch):
    import yaml

    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    with pytest.raises(YamlShapeError) as info:
        load_located("a: é\nb: xé\x07\n")
    assert (info.value.line, info.value.column) == (2, 6)
    with pytest.raises(YamlShapeError, match="nested more than"):
        load_located("a: " + "[" * 2000 + "]" * 2000)


@pytest.mark.parametrize("value", ["!!binary '@@'", "!!binary aGVsbG8="])
def test_binary_values_are_refused(value):
    """`network: !!binary '@@'` was the empty string to pydantic but not a str to the reference check, so a
    compute resource without a network reached a provider, which failed (exit 1; fuzz case 9423)."""
    assert problems(GOOD.replace("network: net", f"network: {value}")) == [
        "shop.yaml:8:14: resources.web.network: binary values (!!binary) have no place in a stack file; write text"]


def test_the_shape_errors_keep_the_problems_file_format():
    with pytest.raises(SpecError) as info:
        parse_stack(GOOD.replace("memory_gb: 4", "memory_gb: !!int x"), "shop.yaml")
    assert info.value.to_dict()["problems"] == [
        {"file": "shop.yaml", "line": 10, "column": 16, "path": "resources.web.memory_gb",
         "message": "'x' is not a valid integer"}]
