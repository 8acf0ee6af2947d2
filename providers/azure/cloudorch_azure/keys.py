"""Customer-managed keys on Azure: a Key Vault and key per site whose resources ask for one
(``customer_managed_key``), rotated every 90 days, and the user-assigned identities the services use it as.

A site is a network in a region (its scale sets and servers share one key, as on AWS and GCP) or a bucket
(a storage account has no network; on AWS too a bucket gets a key of its own). Each site renders:

- a user-assigned identity that storage accounts and servers of the site act as when they wrap and unwrap
  their data keys, and, when scale sets ask, a second one for the site's disk encryption set (Azure Disk
  Storage calls the vault as the encryption set, never as the scale set);
- a Standard vault with soft delete and purge protection (Azure refuses a vault without both as a
  customer-managed key's home) and an access policy per identity: get, wrapKey, unwrapKey and nothing more.
  Access policies rather than Azure RBAC: a role assignment is outside the pinned schema subset, and the
  policies are inline in the vault, so whatever refers to the key waits for its grant by referring to it.
  The vault takes public network traffic (access still needs a policy): services reach a firewalled vault
  only as "trusted services", which MySQL flexible servers are not, and Pulumi creates the key from outside;
- the key: RSA 2048, the size every consumer here documents (MySQL flexible servers take no other), software
  protected (Standard vault: no monthly charge), rotated 90 days after each version's creation.

The consumers: a storage account names the key without a version (Azure Storage follows rotations by
itself); a disk encryption set names the current version and ``rotationToLatestKeyVersionEnabled``; a
flexible server (MySQL or PostgreSQL) names the current version and keeps using it after a rotation (older versions stay
enabled, so its data stays readable) until the next ``apply`` after a refresh hands it the new one.

A PostgreSQL flexible server names the key like a MySQL one, but carries its identity in a map keyed by the
identity's resource id (MySQL's is a list of ids); the id exists only at deploy time, so the map is rendered
as a ``keyed_map``, which the engine resolves into that map once the identity exists.

``keyvault:Key`` and ``compute:DiskEncryptionSet`` are azure-native 3.29.0 types outside the schema subset
in ../shared (tests/support.py OUTSIDE_SCHEMA_SUBSET); their inputs follow the azure-native 3.x SDK.
"""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, keyed_map, ref
from cloudorch.spec.models import Bucket, Compute, Database

from cloudorch_azure.naming import CLOUD, key_vault_name, logical, make, rg_ref

VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
DISK_ENCRYPTION_SET = "azure-native:compute:DiskEncryptionSet"

#: the key's name inside its vault (one key per vault)
KEY_NAME = "cmk"
KEY_SIZE = 2048
#: ISO 8601, as the rotation policy takes it: the longest period encryption.key-rotation accepts elsewhere
ROTATE_AFTER = "P90D"
#: the shortest retention Azure allows: a week to notice a deleted key, after which a destroyed stack's vault
#: name (held while purge protection keeps the deleted vault) is free for the stack to be created again
SOFT_DELETE_DAYS = 7
#: what a service needs of the key to wrap and unwrap its data keys
GRANTED = ("get", "wrapKey", "unwrapKey")

# -- names ---------------------------------------------------------------------------------------------------
def vault(site: str, region: str) -> str:
    return logical(site, region, "vault")


def key(site: str, region: str) -> str:
    return logical(site, region, "key")


def identity(site: str, region: str) -> str:
    """What the site's storage accounts and servers use the key as."""
    return logical(site, region, "key-identity")


def disk_identity(site: str, region: str) -> str:
    return logical(site, region, "des-identity")


def disk_encryption_set(site: str, region: str) -> str:
    return logical(site, region, "des")


# -- what the consumers set ------------------------------------------------------------------------------------
def attached(site: str, region: str) -> dict:
    """A storage account's or MySQL server's ``identity``: the site's key identity, user-assigned."""
    return {"type": "UserAssigned", "userAssignedIdentities": [ref(identity(site, region), "id")]}


def attached_by_id(site: str, region: str) -> dict:
    """A PostgreSQL server's ``identity``: the same identity, in a map keyed by its resource id (each value
    is the identity's details, which Azure fills in: nothing to send)."""
    return {"type": "UserAssigned", "userAssignedIdentities": keyed_map([(ref(identity(site, region), "id"), {})])}


def account_encryption(site: str, region: str) -> dict:
    """A storage account's ``encryption`` fields for the key (the blob services and infrastructure layer
    are the account's own)."""
    return {
        "keySource": "Microsoft.Keyvault",
        # no keyVersion: the account follows the key's rotations on its own
        "keyVaultProperties": {"keyName": ref(key(site, region), "name"),
                               "keyVaultUri": ref(vault(site, region), "properties", path=("vaultUri",))},
        "encryptionIdentity": {"encryptionUserAssignedIdentity": ref(identity(site, region), "id")},
    }


def server_encryption(site: str, region: str) -> dict:
    """A flexible server's ``dataEncryption`` (the two engines spell it alike)."""
    return {"type": "AzureKeyVault", "primaryKeyURI": ref(key(site, region), "keyUriWithVersion"),
            "primaryUserAssignedIdentityId": ref(identity(site, region), "id")}


def disk_encryption(site: str, region: str) -> dict:
    """A scale-set disk's ``managedDisk.diskEncryptionSet``."""
    return {"id": ref(disk_encryption_set(site, region), "id")}


# -- rendering -------------------------------------------------------------------------------------------------
def sites(ctx: RenderContext) -> dict[tuple[str, str], set[str]]:
    """(site, region) -> the kinds ("compute", "database", "bucket") that use its key, for every keyed
    resource on Azure."""
    def compute() -> dict[tuple[str, str], set[str]]:
        out: dict[tuple[str, str], set[str]] = {}
        for kind in (Compute, Database):
            for name, placement in ctx.placed(kind):
                spec = ctx.stack.resources[name]
                if spec.customer_managed_key:
                    for slot in placement.slots:
                        if slot.cloud == CLOUD:
                            out.setdefault((spec.network, slot.region), set()).add(spec.kind)
        for name, placement in ctx.placed(Bucket):
            if ctx.stack.resources[name].customer_managed_key and placement.region:
                out.setdefault((name, placement.region), set()).add("bucket")
        return out

    return ctx.memo(("azure-key-sites",), compute)


def render_keys(ctx: RenderContext) -> list[RenderedResource]:
    """The identities, vault, key and disk encryption set of every keyed site on Azure."""
    out: list[RenderedResource] = []
    for (site, region), kinds in sorted(sites(ctx).items()):
        out += _site(ctx, site, region, services=bool(kinds - {"compute"}), disks="compute" in kinds)
    return out


def _site(ctx: RenderContext, site: str, region: str, *, services: bool, disks: bool) -> list[RenderedResource]:
    rg, tags = rg_ref(ctx.stack.stack, region), ctx.tags()
    users = [identity(site, region)] * services + [disk_identity(site, region)] * disks
    out = [make(user, IDENTITY, region, site, {
        "resourceGroupName": rg, "location": region, "resourceName": user, "tags": tags,
    }) for user in users]
    # the identities' tenant is the subscription's: the vault trusts no other
    tenant = ref(users[0], "tenantId")
    out.append(make(vault(site, region), VAULT, region, site, {
        "resourceGroupName": rg,
        "location": region,
        "vaultName": key_vault_name(ctx.stack.stack, site, region),
        "properties": {
            "tenantId": tenant,
            "sku": {"family": "A", "name": "standard"},
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": SOFT_DELETE_DAYS,
            "enablePurgeProtection": True,
            "enableRbacAuthorization": False,
            "publicNetworkAccess": "Enabled",
            "accessPolicies": [{"tenantId": tenant, "objectId": ref(user, "principalId"),
                                "permissions": {"keys": list(GRANTED)}} for user in users],
        },
        "tags": tags,
    }))
    out.append(make(key(site, region), KEY, region, site, {
        "resourceGroupName": rg,
        "vaultName": ref(vault(site, region), "name"),
        "keyName": KEY_NAME,
        "properties": {
            "kty": "RSA",
            "keySize": KEY_SIZE,
            "keyOps": ["wrapKey", "unwrapKey"],
            "rotationPolicy": {"lifetimeActions": [
                {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": ROTATE_AFTER}},
            ]},
        },
        "tags": tags,
    }))
    if disks:
        out.append(make(disk_encryption_set(site, region), DISK_ENCRYPTION_SET, region, site, {
            "resourceGroupName": rg,
            "location": region,
            "diskEncryptionSetName": disk_encryption_set(site, region),
            "encryptionType": "EncryptionAtRestWithCustomerKey",
            "activeKey": {"keyUrl": ref(key(site, region), "keyUriWithVersion"),
                          "sourceVault": {"id": ref(vault(site, region), "id")}},
            "rotationToLatestKeyVersionEnabled": True,
            "identity": {"type": "UserAssigned", "userAssignedIdentities": [ref(disk_identity(site, region), "id")]},
            "tags": tags,
        }))
    return out
