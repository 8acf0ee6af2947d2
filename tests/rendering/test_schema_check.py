"""The schema checker catches what Pulumi's mocks accept silently."""

from __future__ import annotations

from cloudorch.rendering import RenderedResource, keyed_map, ref
from cloudorch.rendering.schema_check import PackageSchema

SCHEMA = PackageSchema({
    "name": "demo", "version": "1.0.0",
    "resources": {
        "demo:index:Thing": {
            "inputProperties": {
                "size": {"type": "integer"}, "name": {"type": "string"}, "on": {"type": "boolean"},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                "rules": {"type": "array", "items": {"$ref": "#/types/demo:index:Rule"}},
                "tier": {"$ref": "#/types/demo:index:Tier"},
                "any": {"$ref": "pulumi.json#/Any"},
            },
            "requiredInputs": ["name"],
        }
    },
    "types": {
        "demo:index:Rule": {"type": "object", "properties": {"port": {"type": "integer"}}, "required": ["port"]},
        "demo:index:Tier": {"type": "string", "enum": [{"value": "Basic"}, {"value": "Premium"}]},
    },
})


def thing(**inputs) -> RenderedResource:
    return RenderedResource(name="t", type="demo:index:Thing", cloud="demo", inputs=inputs)


def messages(resource: RenderedResource) -> list[str]:
    return [f"{v.path}: {v.message}" for v in SCHEMA.check(resource)]


def test_conforming_resource_passes():
    assert messages(thing(name="a", size=3, on=True, tags={"k": "v"}, rules=[{"port": 1}], tier="Basic",
                          any={"x": [1]})) == []


def test_references_satisfy_any_type():
    assert messages(thing(name=ref("other", "name"), size=ref("other", "size"))) == []


def test_each_kind_of_mistake_is_reported():
    found = messages(thing(size="3", on="yes", tags={"k": 1}, rules=[{"prot": 1}], tier="Gold", colour="red"))
    assert "name: required input is missing" in found
    assert "size: expected integer, got str '3'" in found
    assert "on: expected boolean, got str 'yes'" in found
    assert "tags.k: expected string, got int 1" in found
    assert "rules[0].port: required input is missing" in found
    assert "rules[0].prot: unknown property" in found
    assert any(m.startswith("tier: 'Gold' is not one of") for m in found)
    assert "colour: unknown property" in found


def test_unknown_token():
    resource = RenderedResource(name="t", type="demo:index:Nope", cloud="demo")
    assert [v.message for v in SCHEMA.check(resource)] == ["type token not in demo 1.0.0"]


def test_booleans_are_not_integers():
    assert messages(thing(name="a", size=True)) == ["size: expected integer, got bool True"]


def test_a_map_with_deploy_time_keys_fits_a_map_whose_values_it_fits():
    assert messages(thing(name="a", tags=keyed_map([(ref("other", "id"), "v"), ("plain", ref("x", "y"))]))) == []
    found = messages(thing(name="a", tags=keyed_map([(ref("other", "id"), 1)])))
    assert found == ["tags.<other.id>: expected string, got int 1"]


def test_a_map_with_deploy_time_keys_fits_nothing_but_a_map():
    found = messages(thing(name="a", rules=keyed_map([(ref("o"), {"port": 1})]),
                           tier=keyed_map([(ref("o"), "Basic")]), size=keyed_map([])))
    assert found == ["rules: a map with deploy-time keys where the schema wants array",
                     "tier: a map with deploy-time keys where the schema wants string",
                     "size: a map with deploy-time keys where the schema wants integer"]
    shaped = {"name": "a", "tags": {"$keys": [[1, "v"]]}, "any": {"$keys": "x"}}
    assert messages(thing(**shaped)) == ["tags: a map key must be a reference or a string, not 1"]
    bad = messages(RenderedResource(name="t", type="demo:index:Thing", cloud="demo",
                                    inputs={"name": "a", "tags": {"$keys": [["k"]]}}))
    assert bad == ["tags: $keys must be a list of [key, value] pairs"]
