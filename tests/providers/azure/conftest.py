"""Fixtures for the Azure provider's tests: every test taking ``ctx`` runs on each context of contexts.py."""

from __future__ import annotations

import pytest

from cloudorch.rendering import RenderContext
from cloudorch_azure.provider import Provider
from tests.support import SCHEMAS, require_shared

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

    path = require_shared(SCHEMAS / "azure-native.json")
    return PackageSchema.load(path)
