"""A third-party provider plugs in through the entry point group, with no change to the core."""

from __future__ import annotations

import sys
import textwrap

import pytest

from cloudorch import plugins


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    package = tmp_path / "acme_cloud"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent("""\
        from cloudorch.provider import Capability, CloudProvider, PulumiPlugin


        class Provider(CloudProvider):
            name = "acme"
            display_name = "Acme Cloud"
            pulumi_plugins = (PulumiPlugin("acme", "1.0.0"),)
            images = ("ubuntu-24.04",)

            def unsupported_features(self):
                return {Capability.GPU: "Acme has no GPUs"}

            def render(self, ctx):
                return []
        """))
    dist = tmp_path / "acme_cloud-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-cloud\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[cloudorch.providers]\nacme = acme_cloud:Provider\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for cached in (plugins.provider_names, plugins.load_provider):
        cached.cache_clear()
    yield
    for cached in (plugins.provider_names, plugins.load_provider):
        cached.cache_clear()
    sys.modules.pop("acme_cloud", None)


def test_third_party_provider_is_found_and_validated_like_the_builtins(third_party, tmp_path):
    from cloudorch import api

    assert "acme" in plugins.provider_names()
    provider = plugins.load_provider("acme")
    assert provider.unsupported_features() == {"gpu": "Acme has no GPUs"}
    stack = tmp_path / "s.yaml"
    stack.write_text("stack: s\nplacement: {clouds: [aws, acme]}\nresources:\n  net: {kind: network, cidr: 10.0.0.0/16}\n")
    assert api.validate([stack])[0].stack == "s"
