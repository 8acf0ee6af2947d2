"""Buckets on Azure: a storage account, its blob service settings and one blob container."""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Bucket

from cloudorch_azure.naming import ZONAL_REGIONS, logical, make, rg_ref, storage_account_name

SOFT_DELETE_DAYS = 7


def container_name(resource: str) -> str:
    """Container names need 3-63 characters; stack resource names may be as short as one."""
    return resource if len(resource) >= 3 else f"{resource}-data"


def _render_one(ctx: RenderContext, name: str, spec: Bucket, region: str) -> list[RenderedResource]:
    stack = ctx.stack.stack
    rg = rg_ref(stack, region)
    account = logical(name, region, "storage")
    retention = {"enabled": True, "days": SOFT_DELETE_DAYS}
    return [
        make(account, "azure-native:storage:StorageAccount", region, name, {
            "resourceGroupName": rg,
            "location": region,
            "accountName": storage_account_name(stack, name, region),
            "kind": "StorageV2",
            # Zone-redundant storage keeps a copy in each of three zones, like the other clouds' standard
            # buckets; regions without availability zones only offer locally redundant storage.
            "sku": {"name": "Standard_ZRS" if region in ZONAL_REGIONS else "Standard_LRS"},
            "minimumTlsVersion": "TLS1_2",
            "enableHttpsTrafficOnly": True,
            # The account-level switch caps every container: without it no container can be public.
            "allowBlobPublicAccess": spec.public,
            "allowCrossTenantReplication": False,
            # allowSharedKeyAccess stays at its default (allowed). Turning account keys off leaves Entra ID
            # as the only way in, and nothing rendered here can use it: the scale sets have no managed
            # identity and the pinned schema subset has no role assignment to grant one blob data roles.
            # Pulumi itself would cope (azure-native manages containers through ARM, not with keys).
            "encryption": {
                "keySource": "Microsoft.Storage",
                "requireInfrastructureEncryption": True,
                "services": {"blob": {"enabled": True, "keyType": "Account"}},
            },
            "tags": ctx.tags(name),
        }),
        make(logical(name, region, "blob-service"), "azure-native:storage:BlobServiceProperties", region, name, {
            "resourceGroupName": rg,
            "accountName": ref(account, "name"),
            "blobServicesName": "default",
            "isVersioningEnabled": spec.versioning,
            "deleteRetentionPolicy": retention,
            "containerDeleteRetentionPolicy": retention,
        }),
        make(logical(name, region, "container"), "azure-native:storage:BlobContainer", region, name, {
            "resourceGroupName": rg,
            "accountName": ref(account, "name"),
            "containerName": container_name(name),
            # "Blob": anonymous reads of objects, never anonymous listing of the container.
            "publicAccess": "Blob" if spec.public else "None",
        }),
    ]


def render_buckets(ctx: RenderContext) -> list[RenderedResource]:
    out: list[RenderedResource] = []
    for name, placement in ctx.placed(Bucket):
        if placement.cloud == ctx.cloud and placement.region:
            out.extend(_render_one(ctx, name, ctx.stack.resources[name], placement.region))
    return out
