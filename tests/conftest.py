"""Shared test settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_catalog_cache(tmp_path_factory, monkeypatch):
    """Tests never read or write the user's catalog cache."""
    monkeypatch.setenv("CLOUDORCH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cloudorch-cache"))
