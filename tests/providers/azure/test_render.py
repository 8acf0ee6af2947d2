"""Structural checks of what the Azure provider renders."""

from __future__ import annotations

import ipaddress

import pytest

from cloudorch.placement.model import ResourcePlacement
from cloudorch.rendering import is_ref
from cloudorch_azure.images import IMAGES, image_reference
from cloudorch_azure.naming import database_prefix, storage_account_name
from cloudorch_azure.provider import Provider

from .contexts import mixed_context
from tests.support import webshop_context

HELPERS = ("random:", "tls:")


def _by_type(rendered, suffix):
    return [r for r in rendered if r.type.endswith(suffix)]


def _one(rendered, name):
    [found] = [r for r in rendered if r.name == name]
    return found


def _rules(rendered, nsg):
    return [r for r in _by_type(rendered, ":SecurityRule") if r.inputs["networkSecurityGroupName"]["$ref"] == nsg]


# -- whole-render invariants ------------------------------------------------------------------------------
def test_names_unique_and_lower_case(rendered):
    names = [r.name for r in rendered]
    assert len(names) == len(set(names))
    assert all(n == n.lower() for n in names)


def test_names_follow_the_convention(ctx, rendered):
    for r in rendered:
        if r.is_provider:
            assert r.name == f"azure-{r.region}"
        elif r.source is None:
            assert r.name == f"{ctx.stack.stack}-azure-{r.region}-rg"
        else:
            assert r.name.startswith(f"{r.source}-azure-{r.region}-")


def test_every_dependency_is_rendered(rendered):
    names = {r.name for r in rendered}
    for r in rendered:
        assert set(r.dependencies) <= names, r.name


def test_providers_match_regions(ctx, rendered):
    providers = {r.name: r for r in rendered if r.is_provider}
    assert sorted(p.region for p in providers.values()) == ctx.regions()
    for p in providers.values():
        assert p.type == "pulumi:providers:azure-native"
        assert p.inputs == {"location": p.region}
        assert p.provider is None
    for r in rendered:
        if r.is_provider:
            continue
        assert r.cloud == "azure"
        if r.type.startswith(HELPERS):
            # random and tls resources must use their own package's provider, not azure-native's
            assert r.provider is None
        else:
            assert r.provider in providers and providers[r.provider].region == r.region, r.name


def test_deterministic(ctx):
    assert Provider().render(ctx) == Provider().render(ctx)


def test_sorted_by_region(rendered):
    regions = [r.region for r in rendered]
    assert regions == sorted(regions)


def test_other_clouds_render_nothing():
    rendered = Provider().render(mixed_context())
    assert {r.source for r in rendered} == {None, "net", "api", "batch", "users-db", "audit-db", "site"}
    assert {r.region for r in rendered} == {"eastus"}


def test_rejects_another_clouds_context():
    with pytest.raises(ValueError):
        Provider().render(webshop_context("aws"))


def test_no_literal_secrets(rendered):
    for server in _by_type(rendered, ":Server"):
        assert is_ref(server.inputs["administratorLoginPassword"])
    for r in _by_type(rendered, "randomPassword:RandomPassword"):
        assert r.secret_outputs == ("result",)
    for r in _by_type(rendered, "privateKey:PrivateKey"):
        assert {"privateKeyPem", "privateKeyOpenssh"} <= set(r.secret_outputs)


# -- network --------------------------------------------------------------------------------------------
def test_subnets_inside_their_block_and_disjoint(ctx, rendered):
    for network, _spec, block in ctx.network_blocks():
        cidr = ipaddress.ip_network(block.cidr)
        vnet = _one(rendered, f"{network}-azure-{block.region}-vnet")
        assert vnet.inputs["addressSpace"] == {"addressPrefixes": [block.cidr]}
        prefixes = [
            ipaddress.ip_network(s.inputs["addressPrefix"]) for s in _by_type(rendered, ":Subnet")
            if s.inputs["virtualNetworkName"]["$ref"] == vnet.name
        ]
        assert len(prefixes) >= 1
        assert all(p.subnet_of(cidr) for p in prefixes)
        assert not any(a.overlaps(b) for i, a in enumerate(prefixes) for b in prefixes[i + 1:])


def test_priorities_unique_per_security_group(rendered):
    for nsg in _by_type(rendered, ":NetworkSecurityGroup"):
        priorities = [r.inputs["priority"] for r in _rules(rendered, nsg.name)]
        assert len(priorities) == len(set(priorities))
        assert all(100 <= p <= 4096 for p in priorities)


def test_every_subnet_has_a_security_group(rendered):
    for subnet in _by_type(rendered, ":Subnet"):
        assert is_ref(subnet.inputs["networkSecurityGroup"]["id"])


# -- compute --------------------------------------------------------------------------------------------
def test_scale_sets_follow_slots(ctx, rendered):
    from cloudorch.spec.models import Compute

    expected = sorted(
        (s.region, s.instance_type, s.count, s.spot, tuple(s.zones))
        for _, p in ctx.placed(Compute) for s in p.slots if s.cloud == "azure"
    )
    found = sorted(
        (v.region, v.inputs["sku"]["name"], v.inputs["sku"]["capacity"],
         v.inputs["virtualMachineProfile"]["priority"] == "Spot", tuple(v.inputs.get("zones", ())))
        for v in _by_type(rendered, ":VirtualMachineScaleSet")
    )
    assert found == expected


def test_scale_sets_are_locked_down(rendered):
    for vmss in _by_type(rendered, ":VirtualMachineScaleSet"):
        profile = vmss.inputs["virtualMachineProfile"]
        linux = profile["osProfile"]["linuxConfiguration"]
        assert linux["disablePasswordAuthentication"] is True
        key = linux["ssh"]["publicKeys"][0]["keyData"]
        assert key["output"] == "publicKeyOpenssh" and key["$ref"].endswith("-ssh-key")
        assert "adminPassword" not in profile["osProfile"]
        # encryption at host needs a subscription feature registration; platform encryption is the default
        assert "encryptionAtHost" not in profile.get("securityProfile", {})
        assert profile["storageProfile"]["osDisk"]["diskSizeGB"] >= 30


def test_spot_settings():
    rendered = Provider().render(mixed_context())
    api = _one(rendered, "api-azure-eastus-vmss").inputs["virtualMachineProfile"]
    assert (api["priority"], api["evictionPolicy"], api["billingProfile"]) == ("Spot", "Delete", {"maxPrice": -1})
    regular = _one(rendered, "batch-azure-eastus-vmss-standard-d2s-v5").inputs["virtualMachineProfile"]
    assert regular["priority"] == "Regular" and "billingProfile" not in regular
    spot_batch = _one(rendered, "batch-azure-eastus-vmss-standard-d2-v5-spot").inputs
    assert "zones" not in spot_batch
    assert spot_batch["virtualMachineProfile"]["storageProfile"]["osDisk"]["managedDisk"] == {"storageAccountType": "StandardSSD_LRS"}


def test_public_ip_only_with_internet_ingress():
    rendered = Provider().render(mixed_context())
    for vmss in _by_type(rendered, ":VirtualMachineScaleSet"):
        nic = vmss.inputs["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"][0]
        has_public = "publicIPAddressConfiguration" in nic["ipConfigurations"][0]
        assert has_public == (vmss.source == "api"), vmss.name


def test_images_differ_by_arch():
    rendered = Provider().render(mixed_context())
    arm = _one(rendered, "api-azure-eastus-vmss").inputs["virtualMachineProfile"]["storageProfile"]["imageReference"]
    assert arm["sku"] == "22_04-lts-arm64"
    for image in IMAGES:
        assert image_reference(image, "arm64") != image_reference(image, "x86_64")
    assert image_reference("ubuntu-24.04", "x86_64")["offer"] == "ubuntu-24_04-lts"
    assert {"ubuntu-24.04", "ubuntu-22.04", "debian-12"} <= set(Provider.images)
    with pytest.raises(ValueError):
        image_reference("windows-2022", "x86_64")


def test_internet_ingress_opens_only_443():
    rendered = Provider().render(webshop_context("azure"))
    for region in ("westeurope", "northeurope"):
        rules = _rules(rendered, f"net-azure-{region}-nsg")
        world = [r.inputs for r in rules if r.inputs["sourceAddressPrefix"] in ("0.0.0.0/0", "*", "Internet")]
        assert len(world) == 1
        assert world[0]["destinationPortRange"] == "443"
        assert (world[0]["protocol"], world[0]["direction"], world[0]["access"]) == ("Tcp", "Inbound", "Allow")


def test_served_replicas_admit_no_internet():
    # the webshop's web tier served (stacks/webshop.yaml): the internet reaches its balancers, never the
    # replicas' subnet (tests/providers/azure/test_balancer.py holds the gateway's side)
    rendered = Provider().render(webshop_context("azure", served=True))
    for region in ("westeurope", "northeurope"):
        rules = _rules(rendered, f"net-azure-{region}-nsg")
        assert rules and not [r for r in rules if r.inputs["sourceAddressPrefix"] in ("0.0.0.0/0", "*", "Internet")]


def test_ingress_ranges_and_cross_cloud_sources():
    rendered = Provider().render(mixed_context())
    api = {r.inputs["sourceAddressPrefix"]: r.inputs["destinationPortRange"] for r in rendered
           if r.source == "api" and r.type.endswith(":SecurityRule")}
    assert api == {"0.0.0.0/0": "443", "10.60.16.0/20": "8000-8100", "203.0.113.0/24": "22"}


def test_ssh_and_rdp_are_open_exactly_where_an_ingress_rule_asks(ctx, rendered):
    # the contexts ask for remote login from CIDRs only: webshop nowhere, mixed from one range to the api
    asked = {(rule.from_, str(rule.port))
             for name, spec in ctx.stack.resources.items() if "azure" in ctx.placement.placements.get(name, _NONE).clouds
             for rule in getattr(spec, "ingress", ()) if rule.port in (22, 3389)}
    opened = {(rule.inputs["sourceAddressPrefix"], rule.inputs["destinationPortRange"])
              for rule in _by_type(rendered, ":SecurityRule")
              if rule.inputs["access"] == "Allow" and rule.inputs["destinationPortRange"] in ("22", "3389")}
    assert opened == asked
    assert asked == ({("203.0.113.0/24", "22")} if ctx.stack.stack == "mixed" else set())


_NONE = ResourcePlacement(resource="none", kind="compute")


# -- databases ------------------------------------------------------------------------------------------
def test_database_private_with_backups():
    rendered = Provider().render(webshop_context("azure"))
    server = _one(rendered, "orders-db-azure-westeurope-server").inputs
    assert server["network"]["publicNetworkAccess"] == "Disabled"
    assert is_ref(server["network"]["delegatedSubnetResourceId"])
    assert server["backup"] == {"backupRetentionDays": 14, "geoRedundantBackup": "Disabled"}
    assert server["highAvailability"] == {"mode": "Disabled"}
    assert server["sku"] == {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}
    assert server["storage"]["storageSizeGB"] == 128  # 100 GiB rounded up to a size Azure offers
    subnet = _one(rendered, "orders-db-azure-westeurope-subnet").inputs
    assert subnet["delegations"][0]["serviceName"] == "Microsoft.DBforPostgreSQL/flexibleServers"


def test_database_ingress_admits_exactly_the_web_blocks():
    ctx = webshop_context("azure")
    rendered = Provider().render(ctx)
    ingress = [r.inputs for r in _rules(rendered, "orders-db-azure-westeurope-nsg") if r.name.split("-")[-2] == "ingress"]
    web_blocks = sorted(b.cidr for b in ctx.placement.blocks("net"))
    assert sorted(r["sourceAddressPrefix"] for r in ingress) == web_blocks
    assert {r["destinationPortRange"] for r in ingress} == {"5432"}


def test_mysql_high_availability():
    rendered = Provider().render(mixed_context())
    server = _one(rendered, "users-db-azure-eastus-server")
    assert server.type == "azure-native:dbformysql:Server"
    inputs = server.inputs
    assert inputs["highAvailability"] == {"mode": "ZoneRedundant"}
    assert inputs["version"] == "8.0.21"
    assert inputs["sku"]["tier"] == "MemoryOptimized"
    assert inputs["storage"]["storageSizeGB"] == 20
    assert inputs["backup"]["backupRetentionDays"] == 21
    assert inputs["network"]["publicNetworkAccess"] == "Disabled"
    ingress = [r.inputs for r in _rules(rendered, "users-db-azure-eastus-nsg") if "-ingress-" in r.name]
    assert [(r["sourceAddressPrefix"], r["destinationPortRange"]) for r in ingress] == [("10.60.0.0/20", "3306")]
    # Azure keeps backups for at least seven days
    audit = _one(rendered, "audit-db-azure-eastus-server").inputs
    assert audit["backup"]["backupRetentionDays"] == 7 and audit["sku"]["tier"] == "Burstable"
    # two databases in one block: separate delegated subnets, created one after the other
    assert _one(rendered, "users-db-azure-eastus-subnet").depends_on == ("audit-db-azure-eastus-subnet",)


# -- buckets --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make_ctx", "name", "public"), [
    (lambda: webshop_context("azure"), "assets-azure-westeurope", False),
    (mixed_context, "site-azure-eastus", True),
])
def test_storage_account(make_ctx, name, public):
    rendered = Provider().render(make_ctx())
    account = _one(rendered, f"{name}-storage").inputs
    assert account["allowBlobPublicAccess"] is public
    assert account["minimumTlsVersion"] == "TLS1_2" and account["enableHttpsTrafficOnly"] is True
    assert account["encryption"]["services"]["blob"]["enabled"] is True
    assert account["kind"] == "StorageV2"
    assert _one(rendered, f"{name}-container").inputs["publicAccess"] == ("Blob" if public else "None")
    props = _one(rendered, f"{name}-blob-service").inputs
    assert props["isVersioningEnabled"] is (not public)  # assets versions, site does not


def test_storage_account_names():
    name = storage_account_name("a-very-long-stack-name", "and-a-long-bucket-name", "westeurope")
    assert 3 <= len(name) <= 24 and name.isalnum() and name == name.lower()
    assert name == storage_account_name("a-very-long-stack-name", "and-a-long-bucket-name", "westeurope")
    assert name != storage_account_name("a-very-long-stack-name", "and-a-long-bucket-name", "northeurope")


def test_database_subnets_run_out_loudly():
    assert database_prefix("10.0.0.0/24", 0) == "10.0.0.128/27"
    with pytest.raises(ValueError):  # the fourth /27 is the GatewaySubnet's
        database_prefix("10.0.0.0/24", 3)


AZDB = """
stack: azdb
placement: {clouds: [azure], regions: [westeurope, northeurope]}
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  other: {kind: network, cidr: 10.41.0.0/16, links: [net]}
  web: {kind: compute, network: net, count: 2, cpu: 2, memory_gb: 4, spread: {min_regions: 2}}
  job: {kind: compute, network: other, cpu: 2, memory_gb: 4, near: db}
  db: {kind: database, network: net, engine: postgres, version: "16",
       ingress: [{port: 5432, from: web}, {port: 5432, from: job}]}
"""


def test_a_databases_name_resolves_in_every_azure_network_its_flows_come_from(tmp_path, monkeypatch):
    # its private zone is linked to its own virtual network and to every other Azure site with a resource
    # that talks to it (found by review: the others reached its address but could not resolve its name)
    from cloudorch import api

    monkeypatch.chdir(tmp_path)
    (tmp_path / "azdb.yaml").write_text(AZDB)
    result = api.plan(tmp_path / "azdb.yaml")
    [db_region] = [r for c, r in result.placement.placements["db"].locations]
    [web_other] = [r for c, r in result.placement.placements["web"].locations if r != db_region]
    linked = {r.inputs["virtualNetwork"]["id"]["$ref"] for r in _by_type(result.rendered, "privatedns:VirtualNetworkLink")}
    assert linked == {f"net-azure-{db_region}-vnet", f"net-azure-{web_other}-vnet", f"other-azure-{db_region}-vnet"}
    assert {f.status for f in result.proof.flows} == {"proved"}
