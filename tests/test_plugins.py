"""Providers register through entry points exactly as a third party would."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from cloudorch.capabilities import Capability, Requirement
from cloudorch.catalog.adapter import SkyPilotAdapter
from cloudorch.errors import PluginError
from cloudorch.plugins import PROVIDER_GROUP, load_provider, provider_names
from cloudorch.provider import CloudProvider, Discovery, DiscoveryScope


def test_builtin_providers_come_from_the_entry_point_group():
    registered = {ep.name: ep.value for ep in entry_points(group=PROVIDER_GROUP)}
    assert registered == {"aws": "cloudorch_aws.provider:Provider", "azure": "cloudorch_azure.provider:Provider",
                          "gcp": "cloudorch_gcp.provider:Provider"}
    assert provider_names() == ("aws", "azure", "gcp")


#: what each built-in declares it cannot do anywhere: nothing; a gap added to a provider must be added here,
#: with the placement it changes
BUILTIN_GAPS: dict[str, set] = {"aws": set(), "azure": set(), "gcp": set()}
#: gaps of one resource kind only (customer-managed keys whose types or grants the plugin cannot render)
KIND_GAPS: dict[str, set] = {"aws": set(), "azure": set(), "gcp": {"bucket"}}


@pytest.mark.parametrize("name", ["aws", "azure", "gcp"])
def test_key_gaps_are_per_kind_with_a_reason(name):
    provider = load_provider(name)
    region = {"aws": "eu-west-1", "azure": "westeurope", "gcp": "europe-west4"}[name]
    gapped = set()
    for kind in ("compute", "bucket", "database"):
        gaps = provider.unsupported(Requirement(kind, needs=frozenset({Capability.CUSTOMER_MANAGED_KEY})), region)
        if Capability.CUSTOMER_MANAGED_KEY in gaps:
            assert gaps[Capability.CUSTOMER_MANAGED_KEY], f"{name} declares a {kind} gap without saying why"
            gapped.add(kind)
    assert gapped == KIND_GAPS[name]


@pytest.mark.parametrize("name", ["aws", "azure", "gcp"])
def test_provider_contract(name):
    provider = load_provider(name)
    assert isinstance(provider, CloudProvider)
    assert provider.name == name and provider.display_name
    assert provider.pulumi_plugins and all(p.version.count(".") == 2 for p in provider.pulumi_plugins)
    assert {"ubuntu-24.04", "ubuntu-22.04", "debian-12"} <= set(provider.images)
    gaps = dict(provider.unsupported_features())
    assert set(gaps) == BUILTIN_GAPS[name]
    assert all(gaps.values()), f"{name} declares a gap without saying why"
    classifier = provider.error_classifier()
    assert {"capacity", "quota", "auth"} <= {rule.kind for rule in classifier.rules}
    assert classifier.region and classifier.machine_type
    assert isinstance(provider.catalog_adapter(), SkyPilotAdapter)
    discovery = provider.discovery()
    assert isinstance(discovery, Discovery) and discovery.scopes == frozenset(DiscoveryScope)


def test_unknown_provider_has_a_hint():
    with pytest.raises(PluginError) as info:
        load_provider("oracle")
    assert "aws" in (info.value.hint or "")


def test_incomplete_provider_fails_at_instantiation():
    class Half(CloudProvider):
        name = "half"

    with pytest.raises(TypeError):
        Half()  # type: ignore[abstract]


def test_no_top_level_package_named_providers_or_policies():
    out = subprocess.run([sys.executable, "-c", "import importlib.util as u; "
                          "print(u.find_spec('providers'), u.find_spec('policies'))"],
                         capture_output=True, text=True, cwd="/", check=True)
    assert out.stdout.strip() == "None None"


def test_discovery_is_an_optional_capability_a_provider_offers_by_returning_one():
    from cloudorch.provider import Discovered, Discovery, DiscoveryScope

    class Zones(Discovery):
        scopes = frozenset({DiscoveryScope.ZONES})

        def discover(self, regions, scopes):
            return Discovered(cloud="acme")

    class Acme(CloudProvider):
        name, display_name, pulumi_plugins, images = "acme", "Acme", (), ()

        def render(self, ctx):
            return []

        def discovery(self):
            return Zones()

    offered = Acme().discovery()
    assert isinstance(offered, Discovery) and offered.discover([], offered.scopes).cloud == "acme"
    with pytest.raises(TypeError):
        type("Half", (Discovery,), {"scopes": frozenset()})()  # discover() left out fails at instantiation
