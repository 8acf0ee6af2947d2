"""Buckets: an S3 bucket plus its public-access block, encryption, versioning and ownership resources; for a
public bucket the policy that lets anyone read its objects; with ``access_logs`` a log bucket beside it.

`bucketPrefix` rather than a fixed name: S3 names are global across all accounts, so only the unique
suffix the provider appends to a prefix makes a name safe to claim. ACLs are disabled (BucketOwnerEnforced) so access is
decided by policies alone.
"""

from __future__ import annotations

from cloudorch.placement.model import ResourcePlacement
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Bucket, Lifecycle

from cloudorch_aws.naming import CLOUD, logical, policy_json, resource, slug, tags
from cloudorch_aws.network import KEY_DELETION_DAYS

#: S3 allows 63 characters and the provider appends a 26-character suffix to a prefix
MAX_PREFIX = 37
#: how long access logs are kept: the year PCI DSS 10.5.1 asks for
LOG_DAYS = 365
#: where `archive_after_days` moves objects: read in milliseconds like Standard-IA, but with no 30-day
#: minimum before a transition, so any day count the stack gives is valid
ARCHIVE_CLASS = "GLACIER_IR"
#: an upload abandoned half-way bills for its parts until something deletes them
ABORT_UPLOADS_DAYS = 7
BUCKET = "aws:s3/bucketV2:BucketV2"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
_SETTINGS = {
    "public-access": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "encryption": "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    "versioning": "aws:s3/bucketVersioningV2:BucketVersioningV2",
    "ownership": "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "access-logs": "aws:s3/bucketLoggingV2:BucketLoggingV2",
}


def bucket_prefix(stack: str, name: str) -> str:
    return slug(f"{stack}-{name}")[: MAX_PREFIX - 1].rstrip("-") + "-"


def render_bucket(ctx: RenderContext, name: str, spec: Bucket, placement: ResourcePlacement) -> list[RenderedResource]:
    if placement.cloud != CLOUD or placement.region is None:
        return []
    region = placement.region
    bucket = logical(name, region, "bucket")
    # Anonymous readers cannot decrypt SSE-KMS objects, so public content gets S3-managed keys instead.
    sse = {"sseAlgorithm": "aws:kms"} if not spec.public else {"sseAlgorithm": "AES256"}
    out = []
    if spec.customer_managed_key:
        # A key of its own: a bucket belongs to no network site. The default key policy (the account, and
        # through it IAM) is all S3 needs: it uses the key as the caller that reads or writes.
        key = logical(name, region, "key")
        out.append(resource("aws:kms/key:Key", name, region, "key", {
            "description": f"cloudorch {ctx.stack.stack}/{name} objects", "enableKeyRotation": True,
            "deletionWindowInDays": KEY_DELETION_DAYS, "tags": tags(ctx, name, key),
        }))
        sse = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": ref(key, "arn")}
    out += _bucket(ctx, name, region, "", private=not spec.public, versioning=spec.versioning, sse=sse,
                   lifecycle=spec.lifecycle)
    if spec.public:
        # `public: true` means anyone may read the objects, which on S3 only a bucket policy grants (ACLs are
        # off); S3 refuses a public policy while the access block still blocks one, hence the ordering.
        out.append(resource(POLICY, name, region, "public-read", {
            "bucket": ref(bucket), "policy": _policy(bucket, {"Sid": "PublicRead", "Principal": "*"}),
        }, depends_on=(logical(name, region, "public-access"),)))
    if spec.access_logs:
        out += _access_logs(ctx, name, spec, region)
    return out


def _bucket(ctx: RenderContext, name: str, region: str, part: str, *, private: bool, versioning: bool,
            sse: dict, lifecycle: Lifecycle | None) -> list[RenderedResource]:
    """A bucket and its settings; ``part`` tells a companion bucket (``logs-``) from the stack's own."""
    bucket = logical(name, region, f"{part}bucket")

    def setting(suffix: str, inputs: dict) -> RenderedResource:
        return resource(_SETTINGS[suffix], name, region, part + suffix, {"bucket": ref(bucket)} | inputs)

    return [
        resource(BUCKET, name, region, f"{part}bucket", {
            "bucketPrefix": bucket_prefix(ctx.stack.stack, name + (f"-{part.rstrip('-')}" if part else "")),
            "forceDestroy": False, "tags": tags(ctx, name, bucket),
            # inline rules: the separate lifecycle-configuration type is outside the pinned schema subset
            **({"lifecycleRules": [lifecycle_rule(lifecycle)]} if lifecycle else {}),
        }),
        setting("public-access", {
            "blockPublicAcls": private, "ignorePublicAcls": private,
            "blockPublicPolicy": private, "restrictPublicBuckets": private,
        }),
        setting("encryption", {"rules": [{"applyServerSideEncryptionByDefault": sse,
                                          "bucketKeyEnabled": sse["sseAlgorithm"] != "AES256"}]}),
        setting("versioning", {"versioningConfiguration": {"status": "Enabled" if versioning else "Suspended"}}),
        setting("ownership", {"rule": {"objectOwnership": "BucketOwnerEnforced"}}),
    ]


def bucket_problems(ctx: RenderContext) -> list:
    """A public bucket with a customer-managed key: S3 cannot serve KMS-encrypted objects to anonymous readers."""
    return [ctx.problem(("resources", name, "customer_managed_key"),
                        "a public S3 bucket cannot use a customer-managed key: anonymous readers cannot decrypt "
                        "KMS-encrypted objects (drop one of public and customer_managed_key)")
            for name, spec in sorted(ctx.stack.resources.items())
            if isinstance(spec, Bucket) and spec.public and spec.customer_managed_key
            and (placement := ctx.placement.placements.get(name)) and placement.cloud == CLOUD]


def _access_logs(ctx: RenderContext, name: str, spec: Bucket, region: str) -> list[RenderedResource]:
    """Server access logs into a private log bucket of the same region (S3 delivers only within a region).

    The log bucket keeps S3-managed keys: server access logging cannot deliver into a bucket whose default
    encryption is SSE-KMS. Delivery is granted to the logging service by bucket policy (with ACLs off, the
    only way), narrowed to source buckets named with this bucket's prefix.
    """
    logs = logical(name, region, "logs-bucket")
    out = _bucket(ctx, name, region, "logs-", private=True, versioning=spec.versioning, sse={"sseAlgorithm": "AES256"},
                  lifecycle=Lifecycle(delete_after_days=LOG_DAYS, delete_versions_after_days=1))
    source = f"arn:aws:s3:::{bucket_prefix(ctx.stack.stack, name)}*"
    out.append(resource(POLICY, name, region, "logs-delivery", {
        "bucket": ref(logs),
        "policy": _policy(logs, {"Sid": "S3ServerAccessLogs", "Principal": {"Service": "logging.s3.amazonaws.com"},
                                 "Condition": {"ArnLike": {"aws:SourceArn": source}}}, action="s3:PutObject"),
    }, depends_on=(logical(name, region, "logs-public-access"),)))
    out.append(resource(_SETTINGS["access-logs"], name, region, "access-logs", {
        "bucket": ref(logical(name, region, "bucket")), "targetBucket": ref(logs), "targetPrefix": "s3-access/",
    }, depends_on=(logical(name, region, "logs-delivery"),)))  # S3 checks the grant when logging is turned on
    return out


def lifecycle_rule(lifecycle: Lifecycle) -> dict:
    rule: dict = {"id": "cloudorch", "enabled": True, "abortIncompleteMultipartUploadDays": ABORT_UPLOADS_DAYS}
    if lifecycle.archive_after_days:
        rule["transitions"] = [{"days": lifecycle.archive_after_days, "storageClass": ARCHIVE_CLASS}]
    if lifecycle.delete_after_days:
        rule["expirations"] = [{"days": lifecycle.delete_after_days}]
    if lifecycle.delete_versions_after_days:
        rule["noncurrentVersionExpirations"] = [{"days": lifecycle.delete_versions_after_days}]
    return rule


def _policy(bucket: str, statement: dict, action: str = "s3:GetObject") -> dict:
    """A one-statement policy on the bucket's objects: a reference to its ARN inside the document (the name
    is generated from the prefix, so the document can only be completed at deploy time)."""
    head, tail = policy_json({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "@ARN@/*"} | statement],
    }).split("@ARN@")
    return ref(bucket, "arn", prefix=head, suffix=tail)
