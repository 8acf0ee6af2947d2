"""Object storage: public exposure, the controls that prevent it, versioning and access logs."""

from __future__ import annotations

from cloudorch.policy import Policy, Violation, rendered_check, spec_check
from cloudorch.policy.values import UNKNOWN, flag, get, items

from cloudorch_policies import tokens as T
from cloudorch_policies._meta import fw

_PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}
_PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}


@spec_check("bucket")
def _public_spec(target, ctx):
    return [Violation("the bucket is declared public", ("public",))] if target.model.public else []


@rendered_check(*T.AWS_BUCKETS, T.GCP_BUCKET_IAM, T.AZ_CONTAINER, T.AZ_STORAGE)
def _public_rendered(res, ctx):
    inputs = res.inputs
    if res.type in T.AWS_BUCKETS:
        acl = get(inputs, "acl")
        return [Violation(f"canned ACL {acl} grants public access")] if acl in _PUBLIC_ACLS else []
    if res.type == T.GCP_BUCKET_IAM:
        public = sorted({m for m in items(inputs, "members") if m in _PUBLIC_MEMBERS})
        return [Violation(f"grants {get(inputs, 'role')} to {', '.join(public)}")] if public else []
    if res.type == T.AZ_CONTAINER:
        level = get(inputs, "publicAccess")
        return [Violation(f"container public access level is {level}")] if level in ("Blob", "Container") else []
    return [Violation("the account allows public blob access")] if flag(get(inputs, "allowBlobPublicAccess")) else []


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

_PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


@rendered_check(*T.AWS_BUCKETS, T.GCP_BUCKET, T.AZ_STORAGE)
def _access_block(res, ctx):
    inputs = res.inputs
    if res.type == T.GCP_BUCKET:
        prevention = get(inputs, "publicAccessPrevention")
        ok = prevention is UNKNOWN or prevention == "enforced"
        return [] if ok else [Violation(f"publicAccessPrevention is {prevention or 'unset'}, not enforced")]
    if res.type == T.AZ_STORAGE:
        allowed = get(inputs, "allowBlobPublicAccess")
        return [] if allowed is UNKNOWN or flag(allowed) is False else \
            [Violation("allowBlobPublicAccess is not set to false")]
    blocks = ctx.referrers(res.name, T.AWS_S3_PAB)
    if not blocks:
        return [Violation("no BucketPublicAccessBlock refers to this bucket")]
    off = sorted({name for block in blocks for name in _PAB_FLAGS
                  if get(block.inputs, name) is not UNKNOWN and flag(get(block.inputs, name)) is not True})
    return [Violation(f"public access block leaves {', '.join(off)} off")] if off else []


PUBLIC_ACCESS_BLOCK = Policy(
    id="storage.public-access-block",
    title="Buckets block public access at the bucket level",
    severity="high",
    checks=(_access_block,),
    description="S3 buckets need a BucketPublicAccessBlock with all four flags on, GCS buckets "
                "publicAccessPrevention: enforced, Azure storage accounts allowBlobPublicAccess: false, so no "
                "later ACL or policy can make objects public.",
    remediation="Render an aws:s3/bucketPublicAccessBlock for each bucket (all four flags true); set "
                "publicAccessPrevention: enforced; set allowBlobPublicAccess: false.",
    frameworks=fw(("CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV_GCP_114",
                   "CKV_AZURE_190"), aws=("2.1.4",), azure=("3.7",), gcp=("5.1",)),
    tags=("storage", "public"),
)


@spec_check("bucket")
def _versioning_spec(target, ctx):
    return [] if target.model.versioning else [Violation("versioning is off", ("versioning",))]


def _any_on(values):
    """True if any value is on; else UNKNOWN if one is unknown (it may turn out on); else False."""
    values = list(values)
    if any(flag(v) for v in values):
        return True
    return UNKNOWN if any(v is UNKNOWN for v in values) else False


def _status_on(status):
    return UNKNOWN if status is UNKNOWN else status == "Enabled"


@rendered_check(*T.AWS_BUCKETS, T.GCP_BUCKET, T.AZ_STORAGE)
def _versioning_rendered(res, ctx):
    inputs = res.inputs
    if res.type == T.GCP_BUCKET:
        enabled = _any_on([get(inputs, "versioning.enabled")])
    elif res.type == T.AZ_STORAGE:
        enabled = _any_on(get(s.inputs, "isVersioningEnabled") for s in ctx.referrers(res.name, T.AZ_BLOB_SERVICE))
    else:  # versioning inline on the bucket (old and new spelling) or in a separate BucketVersioning
        inline = [get(inputs, "versioning.enabled"), *(get(v, "enabled") for v in items(inputs, "versionings"))]
        separate = [_status_on(get(v.inputs, "versioningConfiguration.status"))
                    for v in ctx.referrers(res.name, *T.AWS_S3_VERSIONING)]
        enabled = _any_on(inline + separate)
    return [] if enabled is not False else [Violation("object versioning is not enabled")]


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


@rendered_check(*T.AWS_BUCKETS, T.GCP_BUCKET)
def _access_logging(res, ctx):
    inputs = res.inputs
    if res.type == T.GCP_BUCKET:
        return [] if get(inputs, "logging.logBucket") is not None else [Violation("no access log bucket is set")]
    if get(inputs, "logging") is not None or items(inputs, "loggings") or ctx.referrers(res.name, *T.AWS_S3_LOGGING):
        return []
    return [Violation("server access logging is off")]


ACCESS_LOGGING = Policy(
    id="storage.access-logging",
    title="Bucket access is logged",
    severity="low",
    enforcement="advisory",
    checks=(_access_logging,),
    remediation="Render an aws:s3/bucketLoggingV2 for the bucket, or set logging.logBucket on GCS buckets.",
    frameworks=fw(("CKV_AWS_18", "CKV_GCP_62"), aws=("3.4",)),
    tags=("storage", "logging"),
)

POLICIES = (PUBLIC_BUCKET, PUBLIC_ACCESS_BLOCK, VERSIONING, ACCESS_LOGGING)
