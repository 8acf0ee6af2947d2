"""Fixtures for the Azure provider's tests: every test taking ``ctx`` runs on each context of contexts.py."""

from __future__ import annotations

import pytest

from cloudorch.rendering import RenderContext
from cloudorch_azure.provider import Provider
from tests.support import SCHEMAS

from .contexts import CONTEXTS


@pytest.fixture(params=sorted(CONTEXTS))
def ctx(request: pytest.FixtureRequest) -> RenderContext:
    return CONTEXTS[request.param]()


@pytest.fixture
def rendered(ctx):
    return Provider().render(ctx)


@pytest.fixture(scope="session")
def schema():
    from cloudorch.rendering.schema_check import PackageSchema

    path = SCHEMAS / "azure-native.json"
    if not path.exists():
        pytest.skip("../shared/data/pulumi-schemas not present (a fresh clone has no ../shared)")
    return PackageSchema.load(path)
