"""The GCP plugin as a plugin: discovery, import cost, and its naming helpers."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from cloudorch.errors import UsageError
from cloudorch.plugins import load_provider
from cloudorch.provider import PulumiPlugin
from cloudorch_gcp import naming
from cloudorch_gcp.database import database_version
from cloudorch_gcp.images import image_for
from cloudorch_gcp.provider import Provider
from tests.support import webshop_context


def test_the_plugin_is_discoverable():
    provider = load_provider("gcp")
    assert isinstance(provider, Provider)
    # what it cannot do depends on the resource kind (tests/providers/gcp/test_keys.py), not the cloud as a whole
    assert provider.name == "gcp" and dict(provider.unsupported_features()) == {}
    assert PulumiPlugin("gcp", "10.2.0") in provider.pulumi_plugins
    assert PulumiPlugin("random", "4.21.4") in provider.pulumi_plugins
    assert {"ubuntu-24.04", "ubuntu-22.04", "debian-12"} <= set(provider.images)


def test_importing_the_provider_imports_neither_google_nor_pulumi():
    code = (
        "import cloudorch_gcp.provider, sys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('google', 'pulumi', 'pulumi_gcp')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("image", Provider.images)
def test_every_image_resolves_on_both_archs(image):
    assert image_for(image, "x86_64") != image_for(image, "arm64")
    assert image_for(image, "arm64").startswith("projects/")


def test_an_unknown_image_is_a_usage_error_with_a_hint():
    with pytest.raises(UsageError) as err:
        image_for("windows-2022", "x86_64")
    assert "ubuntu-24.04" in err.value.hint


@pytest.mark.parametrize(("engine", "version", "expected"), [
    ("postgres", "16", "POSTGRES_16"), ("postgres", "15", "POSTGRES_15"),
    ("mysql", "8.0", "MYSQL_8_0"), ("mysql", "8", "MYSQL_8_0"), ("mysql", "8.4", "MYSQL_8_4"),
])
def test_database_versions(engine, version, expected):
    assert database_version(engine, version) == expected


@pytest.mark.parametrize(("key", "value", "want"), [
    ("Team", "Shop", ("team", "shop")),
    ("Cost Center", "R&D/42", ("cost_center", "r_d_42")),
    ("9lives", "x", ("k9lives", "x")),
    ("k" * 80, "v" * 300, ("k" * 63, "v" * 63)),
])
def test_label_sanitiser(key, value, want):
    assert (naming.label_key(key), naming.label_value(value)) == want


def test_long_names_stay_valid_and_distinct():
    ctx = webshop_context("gcp")
    long_a, long_b = "a" * 39 + "x", "a" * 39 + "y"
    tags = {naming.rfc1035("cloudorch", n, "b" * 40) for n in (long_a, long_b)}
    assert len(tags) == 2 and all(len(t) <= 63 and re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", t) for t in tags)
    ids = {naming.account_id(ctx, n) for n in (long_a, long_b, "web")}
    assert len(ids) == 3 and all(re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", i) for i in ids)
    buckets = {naming.bucket_name(ctx, n, "europe-west4") for n in (long_a, long_b)}
    assert len(buckets) == 2 and all(len(b) <= 63 for b in buckets)
