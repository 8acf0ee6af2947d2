"""Buckets: an S3 bucket plus its public-access block, encryption, versioning and ownership resources, and
for a public bucket the policy that lets anyone read its objects.

`bucketPrefix` rather than a fixed name: S3 names are global across all accounts, so only the unique
suffix the provider appends to a prefix makes a name safe to claim. ACLs are disabled (BucketOwnerEnforced) so access is
decided by policies alone.
"""

from __future__ import annotations

from cloudorch.placement.model import ResourcePlacement
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Bucket

from cloudorch_aws.naming import CLOUD, logical, policy_json, resource, slug, tags

#: S3 allows 63 characters and the provider appends a 26-character suffix to a prefix
MAX_PREFIX = 37


def bucket_prefix(stack: str, name: str) -> str:
    return slug(f"{stack}-{name}")[: MAX_PREFIX - 1].rstrip("-") + "-"


def render_bucket(ctx: RenderContext, name: str, spec: Bucket, placement: ResourcePlacement) -> list[RenderedResource]:
    if placement.cloud != CLOUD or placement.region is None:
        return []
    region = placement.region
    bucket = logical(name, region, "bucket")
    private = not spec.public

    def part(suffix: str, inputs: dict, **extra) -> RenderedResource:
        type_ = {
            "public-access": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "encryption": "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
            "versioning": "aws:s3/bucketVersioningV2:BucketVersioningV2",
            "ownership": "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "public-read": "aws:s3/bucketPolicy:BucketPolicy",
        }[suffix]
        return resource(type_, name, region, suffix, {"bucket": ref(bucket)} | inputs, **extra)

    # Anonymous readers cannot decrypt SSE-KMS objects, so public content gets S3-managed keys instead.
    sse = {"sseAlgorithm": "aws:kms"} if private else {"sseAlgorithm": "AES256"}
    out = [
        resource("aws:s3/bucketV2:BucketV2", name, region, "bucket", {
            "bucketPrefix": bucket_prefix(ctx.stack.stack, name), "forceDestroy": False,
            "tags": tags(ctx, name, bucket),
        }),
        part("public-access", {
            "blockPublicAcls": private, "ignorePublicAcls": private,
            "blockPublicPolicy": private, "restrictPublicBuckets": private,
        }),
        part("encryption", {"rules": [{"applyServerSideEncryptionByDefault": sse, "bucketKeyEnabled": private}]}),
        part("versioning", {"versioningConfiguration": {"status": "Enabled" if spec.versioning else "Suspended"}}),
        part("ownership", {"rule": {"objectOwnership": "BucketOwnerEnforced"}}),
    ]
    if spec.public:
        # `public: true` means anyone may read the objects, which on S3 only a bucket policy grants (ACLs are
        # off); S3 refuses a public policy while the access block still blocks one, hence the ordering.
        out.append(part("public-read", {"policy": public_read_policy(bucket)},
                        depends_on=(logical(name, region, "public-access"),)))
    return out


def public_read_policy(bucket: str) -> dict:
    """A reference to the bucket's ARN inside the policy document that lets anyone get its objects (the
    name is generated from the prefix, so the document can only be completed at deploy time)."""
    head, tail = policy_json({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": "@ARN@/*"}],
    }).split("@ARN@")
    return ref(bucket, "arn", prefix=head, suffix=tail)
