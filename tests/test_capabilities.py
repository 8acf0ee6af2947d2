"""The capability vocabulary placement and providers share, and the provider contract's default answer."""

from __future__ import annotations

import pytest

from cloudorch.capabilities import (LINK_CAPABILITIES, Capability, Requirement, cross_network_requirement,
                                    dns_requirement, link_requirement, requirement_of)
from cloudorch.provider import Capability as PluginCapability
from cloudorch.provider import CloudProvider, PulumiPlugin
from cloudorch.spec.models import Stack

STACK = Stack.model_validate({"stack": "s", "resources": {
    "net": {"kind": "network", "cidr": "10.0.0.0/16"},
    "web": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4},
    "arm": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4, "arch": "arm64", "spot": True},
    "gpu": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4, "accelerator": {"type": "A100", "count": 2}},
    "pg": {"kind": "database", "network": "net", "engine": "postgres", "version": "16"},
    "my": {"kind": "database", "network": "net", "engine": "mysql", "version": "8.0"},
    "files": {"kind": "bucket"},
    "vault": {"kind": "bucket", "customer_managed_key": True},
    "shop": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4, "serve": {"protocol": "http"}},
    "tcp": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4,
            "serve": {"protocol": "tcp", "backend_port": 9000},
            "ingress": [{"port": 22, "from": "203.0.113.0/24"}, {"port": 8000, "to_port": 9000, "from": "internet"}]},
    "tcp-udp": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4,
                "serve": {"protocol": "tcp", "backend_port": 7777},
                "ingress": [{"port": 22, "from": "203.0.113.0/24"}, {"port": 7777, "protocol": "udp", "from": "internet"}]},
    "tcp-private": {"kind": "compute", "network": "net", "cpu": 2, "memory_gb": 4,
                    "serve": {"protocol": "tcp", "backend_port": 9000}, "ingress": [{"port": 22, "from": "10.0.0.0/8"}]},
}})


@pytest.mark.parametrize(("name", "kind", "needs", "prefers", "details"), [
    ("web", "compute", {"compute"}, set(), ()),
    ("arm", "compute", {"compute", "arm64"}, {"spot"}, ()),
    ("gpu", "compute", {"compute", "gpu"}, set(), (("accelerator", "A100"), ("accelerator_count", "2"))),
    ("pg", "database", {"postgres"}, set(), (("engine", "postgres"), ("version", "16"))),
    ("my", "database", {"mysql"}, set(), (("engine", "mysql"), ("version", "8.0"))),
    ("files", "bucket", {"bucket"}, set(), ()),
    ("vault", "bucket", {"bucket", "customer-managed-key"}, set(), ()),
    ("net", "network", {"network"}, set(), ()),
    ("shop", "compute", {"compute", "load-balancer"}, set(), (("serve_protocol", "http"),)),
    # a rule's port range covers the backend port; a partner's public CIDR is an address outside private space
    ("tcp", "compute", {"compute", "load-balancer"}, set(),
     (("serve_protocol", "tcp"), ("public_address", "yes"), ("internet_on_backend_port", "yes"))),
    # a udp rule on the backend port does not ask for the tcp clients the balancer lets in (found by review)
    ("tcp-udp", "compute", {"compute", "load-balancer"}, set(),
     (("serve_protocol", "tcp"), ("public_address", "yes"), ("internet_on_backend_port", "no"))),
    ("tcp-private", "compute", {"compute", "load-balancer"}, set(),
     (("serve_protocol", "tcp"), ("public_address", "no"), ("internet_on_backend_port", "no"))),
])
def test_requirement_read_off_the_spec(name, kind, needs, prefers, details):
    req = requirement_of(STACK.resources[name])
    assert (req.kind, set(req.needs), set(req.prefers), req.details) == (kind, needs, prefers, details)
    assert req == requirement_of(STACK.resources[name]) and hash(req) == hash(requirement_of(STACK.resources[name]))


def test_every_capability_is_needed_or_preferred_by_some_resource():
    touched = set().union(*(requirement_of(spec).capabilities for spec in STACK.resources.values()))
    touched |= dns_requirement().needs  # the zone's cloud asks for its own
    touched |= cross_network_requirement().needs  # so does a database's flows with another network
    assert touched == set(Capability) - LINK_CAPABILITIES  # links ask for theirs: link_requirement
    assert {link_requirement(k).needs for k in ("peering", "vpn")} == {frozenset({c}) for c in LINK_CAPABILITIES}


def test_details_are_read_by_name():
    req = requirement_of(STACK.resources["gpu"])
    assert req.detail("accelerator") == "A100" and req.detail("engine") is None


def test_gaps_are_only_what_the_requirement_touches():
    cloud = {"gpu": "no GPUs", Capability.SPOT: "no spot", "quantum": "not a capability"}
    assert requirement_of(STACK.resources["web"]).gaps(cloud) == {}
    assert requirement_of(STACK.resources["gpu"]).gaps(cloud) == {Capability.GPU: "no GPUs"}
    assert requirement_of(STACK.resources["arm"]).gaps(cloud) == {Capability.SPOT: "no spot"}


class _Declaring(CloudProvider):
    name = "acme"
    display_name = "Acme"
    pulumi_plugins = (PulumiPlugin("acme", "1.0.0"),)
    images = ("ubuntu-24.04",)

    def unsupported_features(self):
        return {PluginCapability.GPU: "Acme has no GPUs", PluginCapability.BUCKET: "Acme has no object storage"}

    def render(self, ctx):
        return []


def test_a_provider_that_only_declares_features_answers_per_requirement():
    provider = _Declaring()
    assert PluginCapability is Capability  # the plugin API and the vocabulary are one
    assert provider.unsupported(requirement_of(STACK.resources["gpu"]), "anywhere") == {Capability.GPU: "Acme has no GPUs"}
    assert provider.unsupported(requirement_of(STACK.resources["files"]), "x") == {Capability.BUCKET: "Acme has no object storage"}
    assert provider.unsupported(requirement_of(STACK.resources["web"]), "anywhere") == {}
    assert provider.unsupported(Requirement("link", frozenset({Capability.NETWORK})), "anywhere") == {}


def test_a_kind_without_a_requirement_is_refused():
    class Odd:
        kind = "teleporter"

    with pytest.raises(ValueError, match="teleporter"):
        requirement_of(Odd())  # type: ignore[arg-type]


def test_the_vocabulary_imports_no_stage_but_the_spec():
    """Placement and providers both import it, so it must import neither (nor anything after the spec)."""
    import subprocess
    import sys

    code = ("import sys, cloudorch.capabilities; "
            "print(sorted(m for m in sys.modules if m.startswith('cloudorch.') and m != 'cloudorch.capabilities'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert all(m.startswith(("cloudorch.spec", "cloudorch.errors")) for m in eval(out)), out


def test_a_plugin_without_balancers_lacks_them_with_a_reason():
    """Until a plugin renders balancers and global names it says so, so placement keeps served resources off it."""
    provider = _Declaring()
    gaps = provider.unsupported(requirement_of(STACK.resources["shop"]), "anywhere")
    assert set(gaps) == {Capability.LOAD_BALANCER} and "not rendered yet" in gaps[Capability.LOAD_BALANCER]
    assert "not rendered yet" in provider.unsupported(dns_requirement(), "")[Capability.GLOBAL_DNS]
    assert provider.unsupported(requirement_of(STACK.resources["web"]), "anywhere") == {}


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_every_built_in_plugin_serves_and_hosts_the_zone(cloud):
    from cloudorch.plugins import load_provider

    provider = load_provider(cloud)
    assert Capability.LOAD_BALANCER not in provider.unsupported(requirement_of(STACK.resources["shop"]), "x")
    assert Capability.GLOBAL_DNS not in provider.unsupported(dns_requirement(), "")
