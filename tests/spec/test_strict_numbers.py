"""A boolean or a string where a stack file wants a number is a located error, as in cloudorch.toml.

Found by a user audit: pydantic's lax mode read `count: true` as 1, `egress_gb_month: yes` as 1.0 and
`cpu: "2"` as 2, so a stack file's typo passed `validate` and priced or placed something nobody wrote.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from cloudorch.cli.app import main
from cloudorch.spec import models
from cloudorch.spec.loader import parse_stack
from cloudorch.workflow import definition
from tests.spec.test_loader import GOOD, VOCAB, problems

DB = GOOD + "    ingress: [{port: 80, from: internet}]\n  db:\n    kind: database\n    network: net\n" \
            "    engine: postgres\n    version: \"16\"\n    ingress: [{port: 5432, from: web, gb_month: 10}]\n"


@pytest.mark.parametrize("old,new,expected", [
    ("cpu: 2", "cpu: 2\n    count: true", "shop.yaml:10: resources.web.count: expected an integer, got the boolean "
                                          "true (YAML reads true, yes and on as true): write a number"),
    ("cpu: 2", "cpu: 2\n    egress_gb_month: yes", "shop.yaml:10: resources.web.egress_gb_month: expected a number, "
                                                   "got the boolean true (YAML reads true, yes and on as true): write a number"),
    ("cpu: 2", "cpu: 2\n    spread: {max_per_region: off}", "shop.yaml:10: resources.web.spread.max_per_region: "
     "expected an integer, got the boolean false (YAML reads false, no and off as false): write a number"),
    ("cpu: 2", 'cpu: "2"', "shop.yaml:9: resources.web.cpu: expected an integer, got the string '2': write 2 without "
                           "quotes"),
    ("port: 80", 'port: "60"', "shop.yaml:11: resources.web.ingress[0].port: expected an integer, got the string "
                               "'60': write 60 without quotes"),
    ("gb_month: 10", 'gb_month: "10"', "shop.yaml:17: resources.db.ingress[0].gb_month: expected a number, got the "
                                       "string '10': write 10 without quotes"),
    ("gb_month: 10", "gb_month: true", "shop.yaml:17: resources.db.ingress[0].gb_month: expected a number, got the "
                                       "boolean true (YAML reads true, yes and on as true): write a number"),
    ("memory_gb: 4", "memory_gb: '1e3'", "shop.yaml:10: resources.web.memory_gb: expected a number, got the string "
                                         "'1e3': write 1e3 without quotes"),
    ('version: "16"', 'version: "16"\n    storage_gb: "100"', "shop.yaml:17: resources.db.storage_gb: expected an "
                                                            "integer, got the string '100': write 100 without quotes"),
    # not a whole number, or not a number at all: quoting is not the mistake to name
    ("cpu: 2", 'cpu: "2.5"', "shop.yaml:9: resources.web.cpu: must be an integer"),
    ("memory_gb: 4", 'memory_gb: "lots"', "shop.yaml:10: resources.web.memory_gb: must be a number"),
])
def test_a_boolean_or_a_string_is_not_a_number(old, new, expected):
    assert new not in DB
    assert problems(DB.replace(old, new, 1)) == [expected]


@pytest.mark.parametrize("extra,expected", [
    ("budget: {monthly_usd: '100'}", "budget.monthly_usd: expected a number, got the string '100'"),
    ("dns: {zone: a.example.com, provider: aws, queries_million_month: on}", "dns.queries_million_month: expected a "
                                                                             "number, got the boolean true"),
])
def test_top_level_numbers_are_strict_too(extra, expected):
    assert any(expected in found for found in problems(GOOD + extra + "\n"))


def test_serve_and_health_numbers_are_strict(tmp_path, capsys):
    text = GOOD + "    serve: {protocol: http, backend_port: '8080', health: {interval_s: yes}}\n"
    (tmp_path / "shop.yaml").write_text(text)
    assert main(["validate", str(tmp_path / "shop.yaml")]) == 2
    err = capsys.readouterr().err
    assert "shop.yaml:11: resources.web.serve.backend_port: expected an integer, got the string '8080'" in err
    assert "shop.yaml:11: resources.web.serve.health.interval_s: expected an integer, got the boolean true" in err


def test_yaml_numbers_still_load():
    """Ints for float fields, whole floats for int fields and YAML 1.2 exponents (a string to PyYAML's
    YAML 1.1) are numbers, as every reader of the file means them."""
    text = GOOD.replace("memory_gb: 4", "memory_gb: 1.5e3").replace("cpu: 2", "cpu: 2.0") + \
        "    egress_gb_month: 1e3\n    disk_gb: 4E+1\n  files: {kind: bucket, size_gb: 12}\nbudget: {monthly_usd: 1_000}\n"
    stack = parse_stack(text, "shop.yaml", VOCAB).stack
    web = stack.resources["web"]
    assert (web.cpu, web.memory_gb, web.egress_gb_month, web.disk_gb) == (2, 1500.0, 1000.0, 40)
    assert stack.resources["files"].size_gb == 12.0 and stack.budget.monthly_usd == 1000.0


def _number_fields(model: type[BaseModel]) -> list[str]:
    """The fields whose JSON Schema type is an integer or a number (alone or beside null)."""
    def numeric(schema: dict) -> bool:
        return schema.get("type") in ("integer", "number") or any(numeric(s) for s in schema.get("anyOf", []))

    schema = model.model_json_schema(by_alias=True)
    return [name for name, prop in schema.get("properties", {}).items() if numeric(prop)]


_MODELS = sorted({m for module in (models, definition) for m in vars(module).values()
                  if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == module.__name__},
                 key=lambda m: m.__qualname__)


@pytest.mark.parametrize("model", _MODELS, ids=lambda m: m.__qualname__)
def test_every_number_field_is_strict(model):
    """A number field added later without ``models.Int`` / ``models.Float`` would take `true` again."""
    for name in _number_fields(model):
        for value, kind in ((True, "number_is_bool"), ("1", "number_is_string")):
            try:
                model.model_validate({name: value})
            except Exception as exc:  # noqa: BLE001 - a ValidationError, or a model validator's own
                errors = [e["type"] for e in getattr(exc, "errors", list)() if e["loc"] == (name,)]
            else:
                errors = []
            assert errors == [kind], f"{model.__qualname__}.{name} takes {value!r} for a number"


def test_the_schema_export_still_describes_numbers(capsys):
    import json

    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)["$defs"]
    # the refusal wraps the bounds, so they stay in the schema as bounds
    assert schema["Compute"]["properties"]["cpu"] == {"exclusiveMinimum": 0, "maximum": 4096, "title": "Cpu",
                                                      "type": "integer"}
    assert schema["Compute"]["properties"]["memory_gb"]["type"] == "number"
    assert schema["Spread"]["properties"]["max_per_region"]["anyOf"][0] == {"exclusiveMinimum": 0, "maximum": 1000,
                                                                            "type": "integer"}


@pytest.mark.parametrize("old,new,field", [
    ("cpu: 2", "cpu: 2\n    spot: 1", "resources.web.spot"),
    ("cpu: 2", 'cpu: 2\n    burstable: "yes"', "resources.web.burstable"),
    ('version: "16"', 'version: "16"\n    high_availability: "true"', "resources.db.high_availability"),
])
def test_a_number_or_a_string_is_not_a_yes_or_no(old, new, field):
    # lax mode read 1 and "yes" as true (the strict numbers' follow-up); YAML's own yes/no stay booleans
    assert problems(DB.replace(old, new, 1)) == [f"shop.yaml:{10 if 'web' in field else 17}: {field}: must be true or false"]
    assert parse_stack(DB.replace("cpu: 2", "cpu: 2\n    spot: yes", 1), "shop.yaml", VOCAB).stack.resources["web"].spot


@pytest.mark.parametrize("model", _MODELS, ids=lambda m: m.__qualname__)
def test_every_yes_or_no_field_is_strict(model):
    for name, prop in model.model_json_schema().get("properties", {}).items():
        kinds = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", ())}
        if "boolean" not in kinds:
            continue
        try:
            model.model_validate({name: 1})
        except Exception as exc:  # noqa: BLE001 - a ValidationError, or a model validator's own
            errors = [e["type"] for e in getattr(exc, "errors", list)() if e["loc"][:1] == (name,)]
        else:
            errors = []
        assert "bool_type" in errors, f"{model.__qualname__}.{name} takes 1 for true"


def test_an_unquoted_exponent_is_a_number_where_a_number_goes_and_text_where_text_goes():
    # a tag's short git hash 8356e21 reads like 8.356e24 (found by review: refused as "not a string")
    loaded = parse_stack(DB.replace("cpu: 2", "cpu: 2\n    egress_gb_month: 1e3\n    tags: {rev: 8356e21}", 1),
                         "shop.yaml", VOCAB).stack
    web = loaded.resources["web"]
    assert web.egress_gb_month == 1000.0 and web.tags == {"rev": "8356e21"}
