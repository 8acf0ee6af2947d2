"""Customer-managed keys on Azure: one Key Vault key per site (a network in a region, or a bucket), rotated,
granted to the identities its users act as, and named by every scale-set disk, storage account and flexible
server (MySQL or PostgreSQL) that asks for one."""

from __future__ import annotations

import json
import re

import pytest

from cloudorch import api
from cloudorch.capabilities import requirement_of
from cloudorch.catalog import load_catalog
from cloudorch.engine.program import build_program
from cloudorch.placement.candidates import PlacementSettings
from cloudorch.placement.planner import plan_placement
from cloudorch.plugins import load_provider
from cloudorch.rendering import RenderContext, keyed_map, ref
from cloudorch.rendering.facts import GraphOf
from cloudorch.rendering.meters import Meter
from cloudorch.rendering.schema_check import PackageSchema
from cloudorch.spec.loader import parse_stack
from cloudorch.spec.models import Bucket, Compute, Database
from cloudorch.report import diff_plans
from cloudorch_azure import keys
from cloudorch_azure.provider import Provider
from tests.engine.test_program import run_under_mocks
from tests.support import OUTSIDE_SCHEMA_SUBSET, SCHEMAS, require_shared, webshop_placement

VMSS = "azure-native:compute:VirtualMachineScaleSet"
ACCOUNT = "azure-native:storage:StorageAccount"
MYSQL = "azure-native:dbformysql:Server"
POSTGRES = "azure-native:dbforpostgresql:Server"
KEY_TYPES = {keys.VAULT, keys.KEY, keys.IDENTITY, keys.DISK_ENCRYPTION_SET}


def render(*keyed: str, engine: str = "mysql"):
    """The webshop example on Azure (web in two regions; the database, a ``engine`` server, and the bucket in
    the first) with ``keyed`` asking for keys."""
    stack, placement = webshop_placement("azure")
    version = {"mysql": "8.0", "postgres": "16"}[engine]
    resources = dict(stack.resources)
    resources["orders-db"] = resources["orders-db"].model_copy(update={"engine": engine, "version": version})
    resources = {n: r.model_copy(update={"customer_managed_key": True}) if n in keyed else r
                 for n, r in resources.items()}
    stack = stack.model_copy(update={"resources": resources})
    return Provider().render(RenderContext(stack=stack, placement=placement, cloud="azure"))


def of_type(rendered, type_):
    return [r for r in rendered if r.type == type_]


def waits_for(rendered, name: str) -> set[str]:
    """Everything ``name`` waits for, directly or through what it waits for."""
    by_name = {r.name: r for r in rendered}
    seen, todo = set(), [name]
    while todo:
        for dep in by_name[todo.pop()].dependencies:
            if dep not in seen and dep in by_name:
                seen.add(dep)
                todo.append(dep)
    return seen


def granted(vault, user: str) -> bool:
    """Whether the vault's access policies let ``user`` (an identity's name) get, wrap and unwrap its keys."""
    return any(p["objectId"] == ref(user, "principalId") and sorted(p["permissions"]["keys"]) == sorted(keys.GRANTED)
               for p in vault.inputs["properties"]["accessPolicies"])


def test_each_keyed_site_gets_a_protected_vault_and_a_rotated_key_in_its_region():
    rendered = {r.name: r for r in render("web", "orders-db", "assets")}
    vaults = of_type(rendered.values(), keys.VAULT)
    # web spans both regions, the database the first; the bucket is a site of its own
    assert sorted(v.name for v in vaults) == ["assets-azure-westeurope-vault", "net-azure-northeurope-vault",
                                               "net-azure-westeurope-vault"]
    for vault in vaults:
        props = vault.inputs["properties"]
        assert props["enableSoftDelete"] is props["enablePurgeProtection"] is True
        assert 7 <= props["softDeleteRetentionInDays"] <= 90
        assert props["sku"] == {"family": "A", "name": "standard"}
        assert re.fullmatch(r"[a-z][a-z0-9-]{1,22}[a-z0-9]", vault.inputs["vaultName"])
        assert "--" not in vault.inputs["vaultName"] and vault.inputs["location"] == vault.region
        # the tenant is read off an identity the vault trusts, never written into the plan
        assert props["tenantId"]["$ref"] in {p["objectId"]["$ref"] for p in props["accessPolicies"]}
        (key,) = [k for k in of_type(rendered.values(), keys.KEY) if k.inputs["vaultName"] == ref(vault.name, "name")]
        assert (key.source, key.region, key.provider) == (vault.source, vault.region, f"azure-{vault.region}")
        assert key.inputs["properties"]["kty"] == "RSA" and key.inputs["properties"]["keySize"] >= 2048
        (action,) = key.inputs["properties"]["rotationPolicy"]["lifetimeActions"]
        assert action["action"] == {"type": "rotate"}
        days = int(re.fullmatch(r"P(\d+)D", action["trigger"]["timeAfterCreate"]).group(1))
        assert 1 <= days <= 90
    assert len({v.inputs["vaultName"] for v in vaults}) == 3


def test_every_keyed_disk_account_and_server_names_its_sites_key_and_waits_for_its_grant():
    rendered = render("web", "orders-db", "assets")
    by_name = {r.name: r for r in rendered}
    scale_sets = of_type(rendered, VMSS)
    assert len(scale_sets) == 2
    for vmss in scale_sets:
        region = vmss.region
        des = by_name[keys.disk_encryption_set("net", region)]
        disk = vmss.inputs["virtualMachineProfile"]["storageProfile"]["osDisk"]["managedDisk"]
        assert disk["diskEncryptionSet"] == {"id": ref(des.name, "id")}
        assert des.inputs["activeKey"] == {"keyUrl": ref(keys.key("net", region), "keyUriWithVersion"),
                                           "sourceVault": {"id": ref(keys.vault("net", region), "id")}}
        assert des.inputs["rotationToLatestKeyVersionEnabled"] is True
        # the encryption set acts as its own identity, and that identity is the one the vault grants
        assert des.inputs["identity"]["userAssignedIdentities"] == [ref(keys.disk_identity("net", region), "id")]
        assert granted(by_name[keys.vault("net", region)], keys.disk_identity("net", region))
        assert {des.name, keys.vault("net", region), keys.key("net", region)} <= waits_for(rendered, vmss.name)
    (account,) = [a for a in of_type(rendered, ACCOUNT) if a.name == "assets-azure-westeurope-storage"]
    site = ("assets", "westeurope")
    assert account.inputs["encryption"]["keySource"] == "Microsoft.Keyvault"
    assert account.inputs["encryption"]["keyVaultProperties"] == {
        "keyName": ref(keys.key(*site), "name"), "keyVaultUri": ref(keys.vault(*site), "properties", path=("vaultUri",))}
    assert account.inputs["encryption"]["encryptionIdentity"] == {"encryptionUserAssignedIdentity": ref(keys.identity(*site), "id")}
    assert account.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [ref(keys.identity(*site), "id")]}
    assert account.inputs["encryption"]["requireInfrastructureEncryption"] is True
    assert granted(by_name[keys.vault(*site)], keys.identity(*site))
    assert {keys.vault(*site), keys.key(*site)} <= waits_for(rendered, account.name)
    (server,) = of_type(rendered, MYSQL)
    site = ("net", server.region)
    assert server.inputs["dataEncryption"] == {"type": "AzureKeyVault",
                                               "primaryKeyURI": ref(keys.key(*site), "keyUriWithVersion"),
                                               "primaryUserAssignedIdentityId": ref(keys.identity(*site), "id")}
    assert server.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [ref(keys.identity(*site), "id")]}
    assert granted(by_name[keys.vault(*site)], keys.identity(*site))
    assert keys.vault(*site) in waits_for(rendered, server.name)


def test_only_what_asks_for_a_key_gets_one():
    assert not {r.type for r in render()} & KEY_TYPES
    unkeyed = render()
    assert "diskEncryptionSet" not in of_type(unkeyed, VMSS)[0].inputs["virtualMachineProfile"]["storageProfile"]["osDisk"]["managedDisk"]
    assert of_type(unkeyed, ACCOUNT)[0].inputs["encryption"]["keySource"] == "Microsoft.Storage"
    assert "identity" not in of_type(unkeyed, ACCOUNT)[0].inputs
    assert {"dataEncryption", "identity"}.isdisjoint(of_type(unkeyed, MYSQL)[0].inputs)
    # only the database asks: one site, no disk encryption set, one identity
    rendered = render("orders-db")
    assert [v.name for v in of_type(rendered, keys.VAULT)] == ["net-azure-westeurope-vault"]
    assert not of_type(rendered, keys.DISK_ENCRYPTION_SET)
    assert [i.name for i in of_type(rendered, keys.IDENTITY)] == ["net-azure-westeurope-key-identity"]
    # only the disks ask: the services' identity is not rendered where nothing uses it
    rendered = render("web")
    assert sorted(i.name for i in of_type(rendered, keys.IDENTITY)) == [
        "net-azure-northeurope-des-identity", "net-azure-westeurope-des-identity"]


def test_the_facts_read_the_key_and_its_absence():
    provider = Provider()
    for keyed, expected in ((("orders-db", "assets"), True), ((), False)):
        rendered = render(*keyed)
        graph = GraphOf(rendered)
        (server,) = of_type(rendered, MYSQL)
        account = next(a for a in of_type(rendered, ACCOUNT) if a.source == "assets")
        assert provider.describe(server, graph).customer_managed_key is expected
        assert provider.describe(account, graph).customer_managed_key is expected


def test_the_key_is_metered_at_the_software_key_price():
    (key,) = of_type(render("orders-db"), keys.KEY)
    assert Provider().meters(key) == (Meter("kms_key_month"),)
    assert all(Provider().meters(r) == () for r in render("web") if r.type in KEY_TYPES - {keys.KEY})


def test_rendering_is_deterministic():
    first, second = render("web", "orders-db", "assets"), render("web", "orders-db", "assets")
    assert json.dumps([r.model_dump() for r in first]) == json.dumps([r.model_dump() for r in second])


@pytest.mark.shared
def test_keys_conform_to_the_schema_and_the_two_types_outside_it_are_really_outside():
    require_shared(SCHEMAS)
    schema = PackageSchema.load(SCHEMAS / "azure-native.json")
    rendered = [r for r in render("web", "orders-db", "assets") if r.type in KEY_TYPES | {VMSS, ACCOUNT, MYSQL}]
    checked = [r for r in rendered if r.type not in OUTSIDE_SCHEMA_SUBSET]
    assert {keys.VAULT, keys.IDENTITY, VMSS, ACCOUNT, MYSQL} <= {r.type for r in checked}
    assert [str(v) for r in checked for v in schema.check(r)] == []
    # the day the subset gains them, they are checked like the rest (and leave OUTSIDE_SCHEMA_SUBSET)
    types = json.loads((SCHEMAS / "azure-native.json").read_text())
    assert keys.KEY not in types["resources"] and keys.DISK_ENCRYPTION_SET not in types["resources"]
    # a PostgreSQL server's identity map is keyed by the identity's id: its marker fits the map, and its values
    # the map's value type
    (pg,) = of_type(render("orders-db", engine="postgres"), POSTGRES)
    assert schema.check(pg) == []
    spoiled = pg.model_copy(update={"inputs": {**pg.inputs, "identity": {
        "type": "UserAssigned", "userAssignedIdentities": keyed_map([(ref("x", "id"), {"clientID": "c"})])}}})
    assert [v.message for v in schema.check(spoiled)] == ["unknown property (did you mean 'clientId'?)"]


def test_placement_keeps_no_keyed_resource_off_azure():
    provider = Provider()
    keyed = [Compute(kind="compute", network="net", cpu=2, memory_gb=4, customer_managed_key=True),
             Database(kind="database", network="net", engine="mysql", version="8.0", customer_managed_key=True),
             Database(kind="database", network="net", engine="postgres", version="16", customer_managed_key=True),
             Bucket(kind="bucket", customer_managed_key=True)]
    assert [dict(provider.unsupported(requirement_of(spec), "westeurope")) for spec in keyed] == [{}] * 4


def test_a_keyed_postgres_server_carries_the_sites_identity_in_a_map_keyed_by_its_id():
    rendered = render("orders-db", engine="postgres")
    by_name = {r.name: r for r in rendered}
    (server,) = of_type(rendered, POSTGRES)
    site = ("net", server.region)
    assert server.inputs["dataEncryption"] == {"type": "AzureKeyVault",
                                               "primaryKeyURI": ref(keys.key(*site), "keyUriWithVersion"),
                                               "primaryUserAssignedIdentityId": ref(keys.identity(*site), "id")}
    assert server.inputs["identity"] == {"type": "UserAssigned",
                                         "userAssignedIdentities": keyed_map([(ref(keys.identity(*site), "id"), {})])}
    assert granted(by_name[keys.vault(*site)], keys.identity(*site))
    assert {keys.identity(*site), keys.vault(*site), keys.key(*site)} <= waits_for(rendered, server.name)
    assert Provider().describe(server, GraphOf(rendered)).customer_managed_key is True
    (unkeyed,) = of_type(render(engine="postgres"), POSTGRES)
    assert {"dataEncryption", "identity"}.isdisjoint(unkeyed.inputs)
    assert Provider().describe(unkeyed, GraphOf([unkeyed])).customer_managed_key is False


STACK = """\
stack: keyed
placement: {geo: [eu], clouds: [azure]}
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  web: {kind: compute, network: net, cpu: 2, memory_gb: 8, customer_managed_key: true}
  db: {kind: database, network: net, engine: %s, version: "%s", customer_managed_key: true}
  assets: {kind: bucket, customer_managed_key: true}
"""


def test_a_keyed_stack_forced_onto_azure_plans_and_renders_its_keys():
    providers = {"azure": load_provider("azure")}
    # the provider's own answer to what it cannot do, as a real plan asks it
    settings = PlacementSettings(clouds=("azure",), unsupported=api._asking(providers))
    loaded = parse_stack(STACK % ("mysql", "8.0"), "stack.yaml")
    placement = plan_placement(loaded.stack, load_catalog(), settings, explain_choices=False)
    assert {p.cloud for p in placement.placements.values() for p in p.slots} | \
        {placement.placements["assets"].cloud} == {"azure"}
    rendered = api.render(loaded, placement, providers)
    assert {keys.VAULT, keys.KEY, keys.IDENTITY, keys.DISK_ENCRYPTION_SET} <= {r.type for r in rendered}


def test_a_keyed_postgres_stack_plans_on_azure_and_its_server_gets_the_identitys_real_id_as_key(tmp_path,
                                                                                                 monkeypatch):
    path = tmp_path / "stack.yaml"
    path.write_text(STACK % ("postgres", "16"))
    planned = api.plan(path)
    (server,) = of_type(planned.rendered, POSTGRES)
    identity = keys.identity("net", server.region)
    # the plan shows the map as its marker, the same each time, with no value resolved
    text = planned.plan.to_json()
    assert text == api.plan(path).plan.to_json()
    (entry,) = [r for r in json.loads(text)["resources"] if r["name"] == server.name]
    assert entry["inputs"]["identity"]["userAssignedIdentities"] == {"$keys": [[ref(identity, "id"), {}]]}
    assert identity in entry["depends_on"]
    mocks, _ = run_under_mocks(build_program(planned.rendered), monkeypatch)
    assert mocks.registered[server.name].inputs["identity"] == {
        "type": "UserAssigned", "userAssignedIdentities": {f"{identity}-id": {}}}
    # the diff from the unkeyed server names what the key changed in it
    path.write_text(STACK.replace(", customer_managed_key: true}\n  assets", "}\n  assets") % ("postgres", "16"))
    (change,) = [c for c in diff_plans(api.plan(path).plan, planned.plan).rendered if c.name == server.name]
    assert change.fields == ["inputs.dataEncryption", "inputs.identity", "depends_on"]
