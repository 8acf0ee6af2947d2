"""Object storage: public exposure, the controls that prevent it, versioning and access logs.

The rendered side judges every cloud's buckets by role, through the facts their provider reads; what can
make objects public besides the bucket itself (a grant on it, an Azure container's access level) is judged
where it is written.
"""

from __future__ import annotations

from cloudorch.policy import Policy, Violation, expect_fact, rendered_check, spec_check
from cloudorch.rendering.roles import Role

from cloudorch_policies._meta import fw
from cloudorch_policies.baseline.fields import field_rule

BUCKETS = (Role.BUCKET,)


@spec_check("bucket")
def _public_spec(target, ctx):
    return [Violation("the bucket is declared public", ("public",))] if target.model.public else []


@rendered_check(roles=(Role.BUCKET, Role.BUCKET_CONTAINER, Role.BUCKET_POLICY))
def _public_rendered(res, ctx):
    return expect_fact(ctx, res, "public", False, "anyone may read the objects")


PUBLIC_BUCKET = Policy(
    id="storage.public-bucket",
    title="Buckets are not publicly readable",
    severity="high",
    checks=(_public_spec, _public_rendered),
    description="A bucket marked `public: true`, or one a provider renders with a public ACL, an allUsers IAM "
                "binding or an anonymous container, serves its objects to anyone.",
    remediation="Set public: false, or serve content through a CDN with origin access; waive it with a reason "
                "for a deliberately public asset bucket.",
    frameworks=fw(("CKV_AWS_20", "CKV_AWS_57", "CKV_GCP_28", "CKV_AZURE_34", "CKV_AZURE_190"),
                  azure=("3.7",), gcp=("5.1",)),
    tags=("storage", "public"),
)


@rendered_check(roles=BUCKETS)
def _access_block(res, ctx):
    return expect_fact(ctx, res, "public_access_blocked", True, "nothing at the bucket level blocks public access")


PUBLIC_ACCESS_BLOCK = Policy(
    id="storage.public-access-block",
    title="Buckets block public access at the bucket level",
    severity="high",
    checks=(_access_block,),
    description="S3 buckets need a BucketPublicAccessBlock with all four flags on, GCS buckets "
                "publicAccessPrevention: enforced, Azure storage accounts allowBlobPublicAccess: false, so no "
                "later ACL or policy can make objects public.",
    remediation="Set public: false on the bucket (the default): cloudorch then renders the bucket-level block "
                "(an S3 public-access block with all four flags on, GCS publicAccessPrevention: enforced, Azure "
                "allowBlobPublicAccess: false).",
    frameworks=fw(("CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV_GCP_114",
                   "CKV_AZURE_190"), aws=("2.1.4",), azure=("3.7",), gcp=("5.1",)),
    tags=("storage", "public"),
)


@spec_check("bucket")
def _versioning_spec(target, ctx):
    return [] if target.model.versioning else [Violation("versioning is off", ("versioning",))]


@rendered_check(roles=BUCKETS)
def _versioning_rendered(res, ctx):
    return expect_fact(ctx, res, "versioning", True, "object versioning is not enabled")


VERSIONING = Policy(
    id="storage.versioning",
    title="Buckets keep object versions",
    severity="low",
    enforcement="advisory",
    checks=(_versioning_spec, _versioning_rendered),
    description="Versioning lets you recover from accidental deletes and overwrites (and ransomware).",
    remediation="Set versioning: true on the bucket.",
    frameworks=fw(("CKV_AWS_21", "CKV_GCP_78")),
    tags=("storage", "backup"),
)


@spec_check("bucket")
def _access_logging_spec(target, ctx):
    return [] if target.model.access_logs else [Violation("access to the objects is not logged", ("access_logs",))]


@rendered_check(roles=BUCKETS)
def _access_logging(res, ctx):
    return expect_fact(ctx, res, "access_logging", True, "access to the objects is not logged")


ACCESS_LOGGING = Policy(
    id="storage.access-logging",
    title="Bucket access is logged",
    severity="low",
    enforcement="advisory",
    checks=(_access_logging_spec, _access_logging),
    description="Every request to a bucket's objects is recorded: S3 server access logs, Cloud Storage usage "
                "logs, the blob service's StorageRead/Write/Delete diagnostic logs. A bucket that only receives "
                "other buckets' logs is not judged.",
    remediation="Set access_logs: true on the bucket: cloudorch renders a log bucket beside it and the logging "
                "configuration (aws:s3/bucketLoggingV2, GCS logging.logBucket, an Azure diagnostic setting).",
    frameworks=fw(("CKV_AWS_18", "CKV_GCP_62"), aws=("3.4",)),
    tags=("storage", "logging"),
)

LIFECYCLE = field_rule(
    id="storage.lifecycle",
    title="Buckets age their objects out",
    kind="bucket", field="lifecycle", roles=BUCKETS, fact="lifecycle",
    message="no lifecycle rule archives or expires the objects",
    wanted=bool,
    severity="low",
    enforcement="advisory",
    description="Without a lifecycle rule a bucket keeps every object, and every replaced version, at the "
                "standard price forever. Log buckets cloudorch renders keep their logs a year.",
    remediation="Set lifecycle: {archive_after_days: N, delete_after_days: M, delete_versions_after_days: K} "
                "(any of them) on the bucket.",
    frameworks=fw(("CKV2_AWS_61",)),
    tags=("storage", "cost"),
)

POLICIES = (PUBLIC_BUCKET, PUBLIC_ACCESS_BLOCK, VERSIONING, ACCESS_LOGGING, LIFECYCLE)
