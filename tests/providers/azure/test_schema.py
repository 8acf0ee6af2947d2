"""Every rendered resource conforms to the pinned azure-native schema."""

from __future__ import annotations

import pytest

from cloudorch.rendering import refs_in
from tests.support import OUTSIDE_SCHEMA_SUBSET

pytestmark = pytest.mark.shared

# Outputs of the two helper packages, whose schemas are not in ../shared.
HELPER_OUTPUTS = {
    "random:index/randomPassword:RandomPassword": {"result"},
    "tls:index/privateKey:PrivateKey": {"publicKeyOpenssh", "privateKeyPem", "privateKeyOpenssh"},
}


def _azure(rendered):
    return [r for r in rendered if r.type.startswith("azure-native:") and r.type not in OUTSIDE_SCHEMA_SUBSET]


def test_every_resource_conforms(rendered, schema):
    violations = [str(v) for r in _azure(rendered) for v in schema.check(r)]
    assert violations == []


def test_every_type_token_is_known(rendered, schema):
    tokens = {r.type for r in rendered} - OUTSIDE_SCHEMA_SUBSET
    unknown = {t for t in tokens if t.startswith("azure-native:") and t not in schema.resources}
    assert unknown == set()
    assert tokens <= set(schema.resources) | set(HELPER_OUTPUTS) | {"pulumi:providers:azure-native"}


def test_referenced_outputs_exist(rendered, schema):
    by_name = {r.name: r for r in rendered}
    for resource in rendered:
        for reference in refs_in(resource.inputs):
            target = by_name[reference["$ref"]]
            if target.type in OUTSIDE_SCHEMA_SUBSET:
                continue
            outputs = HELPER_OUTPUTS.get(target.type) or set(schema.resources[target.type].get("properties", {})) | {"id"}
            assert reference["output"] in outputs, (resource.name, reference)


def test_taggable_resources_carry_the_stack_tags(ctx, rendered, schema):
    for resource in _azure(rendered):
        if "tags" in schema.resources[resource.type].get("inputProperties", {}):
            assert resource.inputs.get("tags") == ctx.tags(resource.source), resource.name
