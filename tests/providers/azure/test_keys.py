"""Customer-managed keys on Azure: a gap per resource kind, exactly as long as the schema subset lacks the
types a key needs, and facts that tell a keyed storage account or server from one with platform keys."""

from __future__ import annotations

import json

import pytest

from cloudorch.capabilities import Capability, requirement_of
from cloudorch.rendering.facts import GraphOf
from cloudorch.spec.models import Bucket, Compute, Database
from cloudorch_azure import keys
from cloudorch_azure.provider import Provider
from tests.support import SCHEMAS, require_shared, webshop_context

KEYED = {
    "compute": Compute(kind="compute", network="net", cpu=2, memory_gb=4, customer_managed_key=True),
    "database": Database(kind="database", network="net", engine="postgres", version="16", customer_managed_key=True),
    "bucket": Bucket(kind="bucket", customer_managed_key=True),
}


def test_each_keyed_kind_is_kept_off_azure_with_its_own_reason():
    provider = Provider()
    for kind, spec in KEYED.items():
        gaps = dict(provider.unsupported(requirement_of(spec), "westeurope"))
        assert gaps == {Capability.CUSTOMER_MANAGED_KEY: keys.UNSUPPORTED[kind]}
        assert all(t.removeprefix("azure-native:") in gaps[Capability.CUSTOMER_MANAGED_KEY] for t in keys.MISSING[kind])
        unkeyed = spec.model_copy(update={"customer_managed_key": False})
        assert dict(provider.unsupported(requirement_of(unkeyed), "westeurope")) == {}
    assert "DiskEncryptionSet" in keys.UNSUPPORTED["compute"] and "DiskEncryptionSet" not in keys.UNSUPPORTED["bucket"]


@pytest.mark.shared
def test_the_gap_holds_only_while_the_schema_subset_lacks_what_a_key_needs():
    require_shared(SCHEMAS)
    types = json.loads((SCHEMAS / "azure-native.json").read_text())
    resources, shapes = types["resources"], types["types"]
    # what would be rendered around a key is there; the day the missing types are, render keys and drop the gap
    assert {"azure-native:keyvault:Vault", "azure-native:managedidentity:UserAssignedIdentity"} <= set(resources)
    vault = shapes["azure-native:keyvault:VaultProperties"]["properties"]
    assert {"enablePurgeProtection", "enableSoftDelete", "accessPolicies"} <= set(vault)
    assert "keySource" in shapes["azure-native:storage:Encryption"]["properties"]
    assert "primaryKeyURI" in shapes["azure-native:dbforpostgresql:DataEncryption"]["properties"]
    for kind, missing in keys.MISSING.items():
        assert not set(missing) & set(resources), f"{kind}: {missing} arrived in the schema subset"


def test_the_facts_tell_a_keyed_account_and_server_from_platform_keys():
    provider = Provider()
    rendered = provider.render(webshop_context("azure"))
    graph = GraphOf(rendered)
    account = next(r for r in rendered if r.type == "azure-native:storage:StorageAccount")
    server = next(r for r in rendered if r.type == "azure-native:dbforpostgresql:Server")
    assert provider.describe(account, graph).customer_managed_key is False
    assert provider.describe(server, graph).customer_managed_key is False
    keyed_account = account.model_copy(update={"inputs": account.inputs | {"encryption": {
        "keySource": "Microsoft.Keyvault", "keyVaultProperties": {"keyName": "k", "keyVaultUri": "https://v"}}}})
    keyed_server = server.model_copy(update={"inputs": server.inputs | {"dataEncryption": {
        "type": "AzureKeyVault", "primaryKeyURI": "https://v/keys/k"}}})
    assert provider.describe(keyed_account, graph).customer_managed_key is True
    assert provider.describe(keyed_server, graph).customer_managed_key is True
