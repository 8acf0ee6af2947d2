"""The provider contract, run against every registered provider plugin (third-party ones included)."""

from __future__ import annotations

import pytest

from cloudorch.plugins import load_provider, provider_names
from cloudorch.rendering import RenderContext, RenderedResource
from tests.support import REGIONS, webshop_placement

PROVIDERS = [name for name in provider_names() if name in REGIONS]


def render(name: str) -> list[RenderedResource]:
    stack, placement = webshop_placement(name)
    return load_provider(name).render(RenderContext(stack=stack, placement=placement, cloud=name))


@pytest.mark.parametrize("name", PROVIDERS)
def test_render_is_pure_and_deterministic(name):
    assert render(name) == render(name)


@pytest.mark.parametrize("name", PROVIDERS)
def test_rendered_graph_is_closed(name):
    rendered = render(name)
    names = [r.name for r in rendered]
    assert len(names) == len(set(names))
    for r in rendered:
        assert set(r.dependencies) <= set(names), r.name
        assert r.cloud == name


@pytest.mark.parametrize("name", PROVIDERS)
def test_one_explicit_provider_per_region_and_every_resource_uses_one(name):
    """One provider per region, plus at most one without a region for global resources (region None)."""
    rendered = render(name)
    providers = {r.name: r for r in rendered if r.is_provider}
    regional = [p.region for p in providers.values() if p.region is not None]
    assert sorted(regional) == sorted(set(REGIONS[name]))
    assert len(providers) - len(regional) <= 1
    for r in rendered:
        if not r.is_provider and r.provider is not None:
            assert providers[r.provider].region == r.region, r.name


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_stack_resource_is_rendered_with_its_source(name):
    sources = {r.source for r in render(name)}
    assert {"net", "web", "orders-db", "assets"} <= sources


@pytest.mark.parametrize("name", PROVIDERS)
def test_nothing_rendered_for_another_clouds_share(name):
    other = next(c for c in PROVIDERS if c != name)
    stack, placement = webshop_placement(other)
    rendered = load_provider(name).render(RenderContext(stack=stack, placement=placement, cloud=name)) \
        if name != other else []
    assert [r for r in rendered if not r.is_provider] == []


@pytest.mark.parametrize("name", PROVIDERS)
def test_no_secret_values_in_inputs(name):
    """Passwords are references to generated secrets or managed by the cloud, never literal inputs."""
    rendered = {r.name: r for r in render(name)}
    passwords = [(r, key, value) for r in rendered.values() for key, value in r.inputs.items() if "password" in key.lower()]
    assert passwords, "the webshop's database has a password: generated, or managed by the cloud"
    for r, key, value in passwords:
        if key.lower().startswith("manage"):
            assert value is True, f"{r.name}.{key}"
        else:
            assert isinstance(value, dict) and "$ref" in value, f"{r.name}.{key} holds a literal"
            assert value["output"] in rendered[value["$ref"]].secret_outputs, f"{r.name}.{key} is not kept secret"


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_rendered_resource_has_a_neutral_role(name):
    """Policies target roles: a resource without one would silently escape every role-targeted rule."""
    rendered = render(name)
    assert [r.name for r in rendered if r.role is None] == []
    assert {r.role for r in rendered if r.is_provider} == {"provider"}
    assert {"network", "subnet", "firewall-rule", "instance-group", "database", "bucket"} <= {r.role for r in rendered}
