"""Buckets on Azure: a storage account, its blob service settings and one blob container; with
``access_logs`` a diagnostic setting sending the blob service's read, write and delete logs to a log
storage account beside it (diagnostic logs go to an account of the same region)."""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Bucket, Lifecycle

from cloudorch_azure import keys
from cloudorch_azure.naming import ZONAL_REGIONS, logical, make, rg_ref, storage_account_name

SOFT_DELETE_DAYS = 7
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
#: the blob service's resource-log categories: every request to the objects
BLOB_LOGS = ("StorageRead", "StorageWrite", "StorageDelete")
MANAGEMENT_POLICY = "azure-native:storage:ManagementPolicy"
#: how long access logs are kept: the year PCI DSS 10.5.1 asks for
LOG_LIFECYCLE = Lifecycle(delete_after_days=365, delete_versions_after_days=1)


def container_name(resource: str) -> str:
    """Container names need 3-63 characters; stack resource names may be as short as one."""
    return resource if len(resource) >= 3 else f"{resource}-data"


def _render_one(ctx: RenderContext, name: str, spec: Bucket, region: str) -> list[RenderedResource]:
    stack = ctx.stack.stack
    rg = rg_ref(stack, region)
    account = logical(name, region, "storage")
    out = [
        _account(ctx, name, region, account, storage_account_name(stack, name, region), public=spec.public,
                 keyed=spec.customer_managed_key),
        _blob_service(ctx, name, region, account, "blob-service", spec.versioning),
        *_lifecycle(ctx, name, region, account, "lifecycle", spec.lifecycle),
        make(logical(name, region, "container"), "azure-native:storage:BlobContainer", region, name, {
            "resourceGroupName": rg,
            "accountName": ref(account, "name"),
            "containerName": container_name(name),
            # "Blob": anonymous reads of objects, never anonymous listing of the container.
            "publicAccess": "Blob" if spec.public else "None",
        }),
    ]
    if spec.access_logs:
        logs = logical(name, region, "storage-logs")
        out += [
            # named apart from any resource of the stack: "/" never occurs in a resource's name
            _account(ctx, name, region, logs, storage_account_name(stack, f"{name}/logs", region), public=False),
            _blob_service(ctx, name, region, logs, "logs-blob-service", spec.versioning),
            *_lifecycle(ctx, name, region, logs, "logs-lifecycle", LOG_LIFECYCLE),
            make(logical(name, region, "access-logs"), DIAGNOSTIC_SETTING, region, name, {
                "name": "access-logs",
                "resourceUri": ref(account, "id", suffix="/blobServices/default"),
                "logs": [{"category": category, "enabled": True} for category in BLOB_LOGS],
                "storageAccountId": ref(logs, "id"),
            }, depends_on=(logical(name, region, "blob-service"),)),
        ]
    return out


def _lifecycle(ctx: RenderContext, name: str, region: str, account: str, part: str,
               lifecycle: Lifecycle | None) -> list[RenderedResource]:
    """The account's lifecycle management policy (a type outside the pinned schema subset: Azure has no
    other way to age blobs). Archiving moves blobs to the Cool tier, which reads at once."""
    if lifecycle is None:
        return []
    base: dict = {}
    if lifecycle.archive_after_days:
        base["tierToCool"] = {"daysAfterModificationGreaterThan": lifecycle.archive_after_days}
    if lifecycle.delete_after_days:
        base["delete"] = {"daysAfterModificationGreaterThan": lifecycle.delete_after_days}
    actions: dict = {"baseBlob": base} if base else {}
    if lifecycle.delete_versions_after_days:
        actions["version"] = {"delete": {"daysAfterCreationGreaterThan": lifecycle.delete_versions_after_days}}
    return [make(logical(name, region, part), MANAGEMENT_POLICY, region, name, {
        "resourceGroupName": rg_ref(ctx.stack.stack, region),
        "accountName": ref(account, "name"),
        "managementPolicyName": "default",
        "policy": {"rules": [{"name": "cloudorch", "enabled": True, "type": "Lifecycle", "definition": {
            "filters": {"blobTypes": ["blockBlob"]}, "actions": actions,
        }}]},
    })]


def _blob_service(ctx: RenderContext, name: str, region: str, account: str, part: str,
                  versioning: bool) -> RenderedResource:
    retention = {"enabled": True, "days": SOFT_DELETE_DAYS}
    return make(logical(name, region, part), "azure-native:storage:BlobServiceProperties", region, name, {
        "resourceGroupName": rg_ref(ctx.stack.stack, region),
        "accountName": ref(account, "name"),
        "blobServicesName": "default",
        "isVersioningEnabled": versioning,
        "deleteRetentionPolicy": retention,
        "containerDeleteRetentionPolicy": retention,
    })


def _account(ctx: RenderContext, name: str, region: str, logical_name: str, account_name: str, *,
             public: bool, keyed: bool = False) -> RenderedResource:
    encryption: dict = {
        "keySource": "Microsoft.Storage",
        "requireInfrastructureEncryption": True,
        "services": {"blob": {"enabled": True, "keyType": "Account"}},
    }
    keyed_inputs: dict = {}
    if keyed:
        # the bucket's own Key Vault key (keys.py), used as the user-assigned identity it is granted to
        encryption |= keys.account_encryption(name, region)
        keyed_inputs["identity"] = keys.attached(name, region)
    return make(logical_name, "azure-native:storage:StorageAccount", region, name, {
        "resourceGroupName": rg_ref(ctx.stack.stack, region),
        "location": region,
        "accountName": account_name,
        "kind": "StorageV2",
        # Zone-redundant storage keeps a copy in each of three zones, like the other clouds' standard
        # buckets; regions without availability zones only offer locally redundant storage.
        "sku": {"name": "Standard_ZRS" if region in ZONAL_REGIONS else "Standard_LRS"},
        "minimumTlsVersion": "TLS1_2",
        "enableHttpsTrafficOnly": True,
        # The account-level switch caps every container: without it no container can be public.
        "allowBlobPublicAccess": public,
        "allowCrossTenantReplication": False,
        # allowSharedKeyAccess stays at its default (allowed). Turning account keys off leaves Entra ID
        # as the only way in, and nothing rendered here can use it: the scale sets have no managed
        # identity and the pinned schema subset has no role assignment to grant one blob data roles.
        # Pulumi itself would cope (azure-native manages containers through ARM, not with keys).
        "encryption": encryption,
        **keyed_inputs,
        "tags": ctx.tags(name),
    })


def render_buckets(ctx: RenderContext) -> list[RenderedResource]:
    out: list[RenderedResource] = []
    for name, placement in ctx.placed(Bucket):
        if placement.cloud == ctx.cloud and placement.region:
            out.extend(_render_one(ctx, name, ctx.stack.resources[name], placement.region))
    return out
