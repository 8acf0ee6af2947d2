"""Cloud Storage buckets: private, uniform access, versioned on request."""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Bucket

from cloudorch_gcp.naming import CLOUD, bucket_name, labels, resource

BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"


def render_bucket(ctx: RenderContext, name: str, spec: Bucket, region: str) -> list[RenderedResource]:
    bucket = f"{name}-{CLOUD}-{region}-bucket"
    out = [resource(bucket, BUCKET, region, name, {
        # an explicit name, unlike other resources: bucket names are global and must be stable and valid
        "name": bucket_name(ctx, name, region),
        "location": region.upper(),
        "storageClass": "STANDARD",
        # uniform access: IAM only, no per-object ACLs that could quietly make one object public
        "uniformBucketLevelAccess": True,
        "publicAccessPrevention": "inherited" if spec.public else "enforced",
        "versioning": {"enabled": spec.versioning},
        "forceDestroy": False,
        # no encryption block: objects are encrypted at rest with Google-managed keys by default
        "labels": labels(ctx, name),
    })]
    if spec.public:
        out.append(resource(f"{name}-{CLOUD}-{region}-public-read", BUCKET_IAM_BINDING, region, name, {
            "bucket": ref(bucket, "name"),
            "role": "roles/storage.objectViewer",
            "members": ["allUsers"],
        }))
    return out
