"""Shared test settings."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _private_catalog_cache(tmp_path_factory, monkeypatch):
    """Tests never read or write the user's catalog cache."""
    monkeypatch.setenv("CLOUDORCH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cloudorch-cache"))


# CI runs the property tests on a fixed seed, so a landing never hinges on luck; developers' runs keep
# exploring new examples.
if os.environ.get("CI"):
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True)
    settings.load_profile("ci")


def pytest_runtest_setup(item):
    """A test marked `shared` skips, saying what ../shared is, where the reference data is absent."""
    if item.get_closest_marker("shared") is not None:
        from tests.support import SHARED, require_shared

        require_shared(SHARED)
