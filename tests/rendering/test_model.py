"""The rendered-input forms: references, and maps whose keys are references."""

from __future__ import annotations

import json

import pytest

from cloudorch.rendering import RenderedResource, keyed_map, ref, refs_in
from cloudorch.rendering.facts import GraphOf
from cloudorch.rendering.model import is_deferred, is_keyed_map, relative_name


def test_a_keyed_map_is_plain_json_in_a_canonical_order():
    one = keyed_map([(ref("b"), {}), (ref("a"), {"x": 1}), ("literal", [])])
    other = keyed_map([("literal", []), (ref("a"), {"x": 1}), (ref("b"), {})])
    assert json.dumps(one) == json.dumps(other)
    assert json.loads(json.dumps(one)) == one
    assert is_keyed_map(one) and is_deferred(one) and is_deferred(ref("a")) and not is_deferred({"a": 1})


@pytest.mark.parametrize("key", [1, None, {"name": "x"}, ["x"]])
def test_a_map_key_is_a_reference_or_a_string(key):
    with pytest.raises(ValueError, match="reference or a string"):
        keyed_map([(key, {})])


def test_references_in_keys_and_values_are_dependencies():
    server = RenderedResource(name="db", type="t:m:S", cloud="azure", inputs={
        "identity": {"userAssignedIdentities": keyed_map([(ref("who", "id"), {"principalId": ref("other", "x")})])}})
    assert {r["$ref"] for r in refs_in(server.inputs)} == {"who", "other"}
    assert server.dependencies == ("other", "who")


def test_a_graph_finds_each_referrer_once_in_rendered_order_and_by_type():
    bucket = RenderedResource(name="b", type="t:m:Bucket", cloud="aws", inputs={})
    policy = RenderedResource(name="p", type="t:m:Policy", cloud="aws", inputs={"bucket": ref("b", "id"), "arn": ref("b", "arn")})
    sse = RenderedResource(name="s", type="t:m:Sse", cloud="aws", inputs={"bucket": ref("b", "id")})
    other = RenderedResource(name="o", type="t:m:Policy", cloud="aws", inputs={"bucket": ref("x", "id")})
    graph = GraphOf([sse, bucket, policy, other])
    assert [r.name for r in graph.referrers("b")] == ["s", "p"]
    assert [r.name for r in graph.referrers("b", "t:m:Policy")] == ["p"]
    assert [r.name for r in graph.referrers("x", "t:m:Sse")] == [] and graph.referrers("nobody") == []


@pytest.mark.parametrize(("name", "zone", "relative"), [
    ("_a1.www.shop.example.com.", "shop.example.com", "_a1.www"),
    ("_a1.WWW.Shop.Example.COM", "shop.example.com.", "_a1.WWW"),
    ("shop.example.com.", "shop.example.com", "@"),
    (None, "shop.example.com", None),
])
def test_a_name_relative_to_its_zone(name, zone, relative):
    assert relative_name(name, zone) == relative


@pytest.mark.parametrize("name", ["www.notshop.example.com.", "example.com", "", 7])
def test_a_name_outside_the_zone_has_no_relative_name(name):
    with pytest.raises(ValueError, match="shop.example.com"):
        relative_name(name, "shop.example.com")


def test_a_reference_relative_to_a_zone_is_still_a_reference_and_a_dependency():
    shortened = ref("cert", "domainValidationOptions", path=(0, "resourceRecordName"), relative_to="example.com")
    record = RenderedResource(name="r", type="t:m:R", cloud="azure", inputs={"relativeRecordSetName": shortened})
    assert is_deferred(shortened) and list(refs_in(record.inputs)) == [shortened] and record.dependencies == ("cert",)
    assert "relative_to" not in ref("cert")  # references without it render as before
