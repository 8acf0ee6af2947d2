"""Regressions from the provider review: global resources under a provider no new region can change,
one public-address rule, and deletion protection from the spec."""

from __future__ import annotations

import pytest

from cloudorch.placement.model import NetworkBlock
from cloudorch.rendering import RenderContext, RenderedResource
from cloudorch_gcp.provider import Provider
from tests.support import webshop_context, webshop_placement

GLOBAL_TYPES = {
    "gcp:compute/network:Network", "gcp:compute/firewall:Firewall", "gcp:serviceaccount/account:Account",
    "gcp:compute/globalAddress:GlobalAddress", "gcp:servicenetworking/connection:Connection",
}


def _with_extra_region(region: str) -> RenderContext:
    """The webshop with one more (earlier-sorting) region holding a block of its network."""
    stack, placement = webshop_placement("gcp")
    extra = NetworkBlock(network="net", cloud="gcp", region=region, cidr="10.40.32.0/20")
    placement = placement.model_copy(update={"networks": (*placement.networks, extra)})
    return RenderContext(stack=stack, placement=placement, cloud="gcp")


def _by_name(ctx: RenderContext) -> dict[str, RenderedResource]:
    return {r.name: r for r in Provider().render(ctx)}


def test_global_resources_keep_their_provider_when_an_earlier_region_is_added():
    before, after = _by_name(webshop_context("gcp")), _by_name(_with_extra_region("asia-east1"))
    globals_ = [r for r in before.values() if r.type in GLOBAL_TYPES]
    assert {r.type for r in globals_} == GLOBAL_TYPES
    for r in globals_:
        assert (r.provider, r.region) == ("gcp-global", None), r.name
        assert (after[r.name].provider, after[r.name].region) == (r.provider, r.region), r.name


def test_the_global_provider_has_no_region():
    rendered = Provider().render(webshop_context("gcp"))
    providers = [r for r in rendered if r.is_provider]
    (glob,) = [p for p in providers if p.region is None]
    assert (glob.name, glob.type, glob.inputs) == ("gcp-global", "pulumi:providers:gcp", {})
    assert {p.region for p in providers} == {None, "europe-west1", "europe-west4"}
    # regional resources stay under their region's provider
    for r in rendered:
        if r.region is not None and r.provider is not None:
            assert r.provider == f"gcp-{r.region}", r.name


def test_nothing_global_without_a_gcp_share():
    stack, placement = webshop_placement("aws")
    assert Provider().render(RenderContext(stack=stack, placement=placement, cloud="gcp")) == []


def _templates(ctx: RenderContext) -> list[RenderedResource]:
    return [r for r in Provider().render(ctx) if r.type == "gcp:compute/instanceTemplate:InstanceTemplate"]


def test_the_external_ip_decision_is_the_shared_one(monkeypatch):
    monkeypatch.setattr(RenderContext, "public_facing", staticmethod(lambda spec: False))
    for template in _templates(webshop_context("gcp")):  # web admits the internet on 443
        assert "accessConfigs" not in template.inputs["networkInterfaces"][0], template.name
    monkeypatch.setattr(RenderContext, "public_facing", staticmethod(lambda spec: True))
    for template in _templates(webshop_context("gcp")):
        assert template.inputs["networkInterfaces"][0]["accessConfigs"], template.name


@pytest.mark.parametrize("protected", [True, False])
def test_deletion_protection_follows_the_spec(protected):
    stack, placement = webshop_placement("gcp")
    db = stack.resources["orders-db"].model_copy(update={"deletion_protection": protected})
    stack = stack.model_copy(update={"resources": {**stack.resources, "orders-db": db}})
    (sql,) = [r for r in Provider().render(RenderContext(stack=stack, placement=placement, cloud="gcp"))
              if r.type == "gcp:sql/databaseInstance:DatabaseInstance"]
    assert sql.inputs["deletionProtection"] is protected
    assert sql.inputs["settings"]["deletionProtectionEnabled"] is protected
