"""Cloud Storage buckets: private, uniform access, versioned on request; with ``access_logs`` a log bucket
beside it that receives the usage logs."""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Bucket, Lifecycle

from cloudorch_gcp.naming import CLOUD, bucket_name, labels, resource

BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
#: the group Cloud Storage delivers usage and storage logs as; it needs to create objects in the log bucket
LOG_WRITER = "group:cloud-storage-analytics@google.com"
#: how long usage logs are kept: the year PCI DSS 10.5.1 asks for
LOG_LIFECYCLE = Lifecycle(delete_after_days=365, delete_versions_after_days=1)
#: where `archive_after_days` moves objects: read at once, billed for 30 days at least
ARCHIVE_CLASS = "NEARLINE"


def render_bucket(ctx: RenderContext, name: str, spec: Bucket, region: str) -> list[RenderedResource]:
    bucket = f"{name}-{CLOUD}-{region}-bucket"
    inputs = _settings(ctx, name, region, public=spec.public, versioning=spec.versioning, lifecycle=spec.lifecycle)
    out = []
    if spec.access_logs:
        logs = f"{name}-{CLOUD}-{region}-logs"
        out += [
            resource(logs, BUCKET, region, name, _settings(ctx, name, region, public=False, versioning=spec.versioning,
                                                            lifecycle=LOG_LIFECYCLE, companion="logs")),
            resource(f"{logs}-writer", BUCKET_IAM_BINDING, region, name, {
                "bucket": ref(logs, "name"), "role": "roles/storage.objectCreator", "members": [LOG_WRITER],
            }),
        ]
        inputs["logging"] = {"logBucket": ref(logs, "name"), "logObjectPrefix": "usage"}
    out.insert(0, resource(bucket, BUCKET, region, name, inputs))
    if spec.public:
        out.append(resource(f"{name}-{CLOUD}-{region}-public-read", BUCKET_IAM_BINDING, region, name, {
            "bucket": ref(bucket, "name"),
            "role": "roles/storage.objectViewer",
            "members": ["allUsers"],
        }))
    return out


def _settings(ctx: RenderContext, name: str, region: str, *, public: bool, versioning: bool,
              lifecycle: Lifecycle | None, companion: str = "") -> dict:
    out = {
        # an explicit name, unlike other resources: bucket names are global and must be stable and valid
        "name": bucket_name(ctx, name, region, companion),
        "location": region.upper(),
        "storageClass": "STANDARD",
        # uniform access: IAM only, no per-object ACLs that could quietly make one object public
        "uniformBucketLevelAccess": True,
        "publicAccessPrevention": "inherited" if public else "enforced",
        "versioning": {"enabled": versioning},
        "forceDestroy": False,
        # no encryption block: objects are encrypted at rest with Google-managed keys by default
        "labels": labels(ctx, name),
    }
    if lifecycle:
        out["lifecycleRules"] = lifecycle_rules(lifecycle)
    return out


def lifecycle_rules(lifecycle: Lifecycle) -> list[dict]:
    rules = []
    if lifecycle.archive_after_days:
        rules.append({"action": {"type": "SetStorageClass", "storageClass": ARCHIVE_CLASS},
                      "condition": {"age": lifecycle.archive_after_days, "matchesStorageClasses": ["STANDARD"]}})
    if lifecycle.delete_after_days:
        rules.append({"action": {"type": "Delete"}, "condition": {"age": lifecycle.delete_after_days}})
    if lifecycle.delete_versions_after_days:
        rules.append({"action": {"type": "Delete"},
                      "condition": {"daysSinceNoncurrentTime": lifecycle.delete_versions_after_days,
                                    "withState": "ARCHIVED"}})
    return rules
