"""Encryption at rest (disks, databases, buckets) and key rotation, on all three clouds.

Where a cloud encrypts unconditionally (GCP disks and Cloud SQL, Azure managed databases), the rendered
check passes and says so: the rule still covers that cloud, so a new resource type cannot slip past it.
Databases and buckets are judged by role, through the facts their provider reads, on any cloud.
"""

from __future__ import annotations

import re

from cloudorch.policy import NotApplicable, Policy, Violation, expect_fact, rendered_check
from cloudorch.policy.values import UNKNOWN, flag, get, items
from cloudorch.rendering.roles import Role

from cloudorch_policies import tokens as T
from cloudorch_policies._meta import fw


def _aws_volumes(res):
    """(label, volume block) of every EBS volume an AWS resource creates."""
    inputs = res.inputs
    if res.type == T.AWS_EBS:
        return [("volume", inputs)]
    if res.type == T.AWS_INSTANCE:
        return [("root volume", get(inputs, "rootBlockDevice", {})),
                *((f"EBS volume {i}", v) for i, v in enumerate(items(inputs, "ebsBlockDevices")))]
    return [(f"block device {get(m, 'deviceName', i)}", get(m, "ebs"))
            for i, m in enumerate(items(inputs, "blockDeviceMappings")) if get(m, "ebs") is not None]


@rendered_check(T.AWS_EBS, T.AWS_INSTANCE, T.AWS_LAUNCH_TEMPLATE, T.AZ_DISK, T.AZ_VM, T.GCP_DISK, T.GCP_INSTANCE)
def _disk(res, ctx):
    inputs = res.inputs
    if res.type.startswith("aws:"):
        return [Violation(f"{label} is not encrypted") for label, block in _aws_volumes(res)
                if block is not UNKNOWN and get(block, "encrypted") is not UNKNOWN
                and flag(get(block, "encrypted")) is not True]
    if res.type == T.AZ_DISK:
        off = flag(get(inputs, "encryptionSettingsCollection.enabled")) is False
        return [Violation("disk encryption is switched off")] if off else []
    if res.type == T.AZ_VM:
        off = flag(get(inputs, "storageProfile.osDisk.encryptionSettings.enabled")) is False
        return [Violation("OS disk encryption is switched off")] if off else []
    # GCP encrypts every persistent disk; the one way to get it wrong is a raw key written into the plan
    raw = get(inputs, "diskEncryptionKey.rawKey") if res.type == T.GCP_DISK else get(inputs, "bootDisk.diskEncryptionKeyRaw")
    if isinstance(raw, str):
        return [Violation("a customer-supplied disk key is written in plain text")]
    return []


DISK = Policy(
    id="encryption.disk",
    title="VM disks are encrypted at rest",
    severity="high",
    checks=(_disk,),
    description="EBS volumes must set `encrypted`; Azure managed disks and GCP persistent disks are "
                "encrypted by the platform unless encryption is switched off or a raw key is exposed.",
    remediation="Set encrypted: true on every EBS volume and block-device mapping (or enable EBS encryption "
                "by default); never switch off Azure disk encryption; pass GCP disk keys through KMS.",
    frameworks=fw(("CKV_AWS_3", "CKV_AWS_8", "CKV_AZURE_2"), aws=("2.2.1",)),
    tags=("encryption", "at-rest"),
)


@rendered_check(roles=(Role.DATABASE,))
def _database(res, ctx):
    return expect_fact(ctx, res, "encrypted_at_rest", True, "database storage is not encrypted")


DATABASE = Policy(
    id="encryption.database",
    title="Database storage is encrypted at rest",
    severity="high",
    checks=(_database,),
    remediation="Set storageEncrypted: true (RDS cannot encrypt an existing instance in place: snapshot, "
                "copy encrypted, restore).",
    frameworks=fw(("CKV_AWS_16",), aws=("2.3.1",)),
    tags=("encryption", "at-rest", "database"),
)

@rendered_check(roles=(Role.BUCKET,))
def _bucket(res, ctx):
    return expect_fact(ctx, res, "encrypted_at_rest", True, "objects are not encrypted at rest")


BUCKET = Policy(
    id="encryption.bucket",
    title="Object storage is encrypted at rest",
    severity="medium",
    checks=(_bucket,),
    remediation="Add a BucketServerSideEncryptionConfiguration (AES256 or aws:kms) for each S3 bucket; never "
                "switch off Azure blob encryption.",
    frameworks=fw(("CKV_AWS_19",)),
    tags=("encryption", "at-rest", "storage"),
)

_MAX_ROTATION_SECONDS = 90 * 24 * 3600


#: ISO 8601 durations as Key Vault rotation policies spell them (P90D, P3M, P1Y); months and years at their
#: longest, so a policy passes only when every such period is within 90 days
_ISO_DAYS = {"D": 1, "W": 7, "M": 31, "Y": 366}


def _iso_days(value) -> int | None:
    match = re.fullmatch(r"P(\d+)([DWMY])", value) if isinstance(value, str) else None
    return int(match.group(1)) * _ISO_DAYS[match.group(2)] if match else None


def _azure_rotation(inputs) -> list:
    """A Key Vault key rotates when its rotation policy has a ``rotate`` action: some time after creation,
    or some time before an expiry the policy sets (then every expiry minus that time)."""
    policy = get(inputs, "properties.rotationPolicy")
    if policy is UNKNOWN:
        return []
    actions = items(policy, "lifetimeActions") if policy is not None else []
    if UNKNOWN in actions:
        return []
    periods: list[int | None] = []
    for action in actions:
        if str(get(action, "action.type") or "").lower() != "rotate":
            continue
        after, before = get(action, "trigger.timeAfterCreate"), get(action, "trigger.timeBeforeExpiry")
        if UNKNOWN in (after, before):
            return []
        if after is not None:
            periods.append(_iso_days(after))
        elif before is not None:
            expiry, ahead = _iso_days(get(policy, "attributes.expiryTime")), _iso_days(before)
            periods.append(expiry - ahead if expiry is not None and ahead is not None else None)
    if not periods:
        return [Violation("the key's rotation policy has no rotate action")]
    if None in periods:
        return [Violation("a rotation period is not a number of days, weeks, months or years (P90D)")]
    shortest = min(p for p in periods if p is not None)
    return [Violation(f"rotates every {shortest} days (at most 90)")] if shortest > 90 else []


@rendered_check(T.AWS_KMS_KEY, T.GCP_CRYPTO_KEY, T.AZ_KEY)
def _rotation(res, ctx):
    inputs = res.inputs
    if res.type == T.AZ_KEY:
        return _azure_rotation(inputs)
    if res.type == T.AWS_KMS_KEY:
        spec = get(inputs, "customerMasterKeySpec", "SYMMETRIC_DEFAULT")
        if spec is not UNKNOWN and spec != "SYMMETRIC_DEFAULT":
            return [NotApplicable("AWS rotates only symmetric keys")]
        rotation = get(inputs, "enableKeyRotation")
        return [] if rotation is UNKNOWN or flag(rotation) is True else [Violation("automatic key rotation is off")]
    period = get(inputs, "rotationPeriod")
    if period is UNKNOWN:
        return []
    match = re.fullmatch(r"(\d+)(?:\.\d+)?s", str(period)) if period is not None else None
    if match is None:
        return [Violation("no rotation period is set")]
    seconds = int(match.group(1))
    return [Violation(f"rotates every {seconds // 86400} days (at most 90)")] if seconds > _MAX_ROTATION_SECONDS else []


KEY_ROTATION = Policy(
    id="encryption.key-rotation",
    title="Customer-managed keys rotate at least every 90 days",
    severity="medium",
    enforcement="advisory",
    checks=(_rotation,),
    remediation="AWS: enableKeyRotation: true. GCP: rotationPeriod of 7776000s or less. Azure: a rotation "
                "policy whose rotate action fires within P90D. The keys cloudorch renders for "
                "customer_managed_key all do.",
    frameworks=fw(("CKV_AWS_7", "CKV_GCP_43"), aws=("3.6",), gcp=("1.10",)),
    tags=("encryption", "keys"),
)


def _cmk_missing(res):
    inputs = res.inputs
    if res.type.startswith("aws:"):
        return [label for label, block in _aws_volumes(res) if block is not UNKNOWN and get(block, "kmsKeyId") is None]
    if res.type == T.AZ_DISK:
        return [] if get(inputs, "encryption.diskEncryptionSetId") is not None else ["disk"]
    if res.type == T.AZ_VM:
        return [] if get(inputs, "storageProfile.osDisk.managedDisk.diskEncryptionSet.id") is not None else ["OS disk"]
    if res.type == T.AZ_VMSS:
        profile = "virtualMachineProfile.storageProfile"
        disks = [("OS disk", get(inputs, f"{profile}.osDisk"))] + [
            (f"data disk {i}", d) for i, d in enumerate(items(inputs, f"{profile}.dataDisks"))]
        return [label for label, disk in disks if disk is not UNKNOWN
                and get(disk, "managedDisk.diskEncryptionSet.id") is None]
    if res.type == T.GCP_DISK:
        return [] if get(inputs, "diskEncryptionKey.kmsKeySelfLink") is not None else ["disk"]
    if res.type == T.GCP_INSTANCE:
        return [] if get(inputs, "bootDisk.kmsKeySelfLink") is not None else ["boot disk"]
    return [f"disk {i}" for i, d in enumerate(items(inputs, "disks"))
            if d is not UNKNOWN and get(d, "diskEncryptionKey.kmsKeySelfLink") is None]


@rendered_check(T.AWS_EBS, T.AWS_INSTANCE, T.AWS_LAUNCH_TEMPLATE, T.AZ_DISK, T.AZ_VM, T.AZ_VMSS, T.GCP_DISK,
                T.GCP_INSTANCE, T.GCP_TEMPLATE)
def _disk_cmk(res, ctx):
    return [Violation(f"{label} uses a platform-managed key") for label in _cmk_missing(res)]


DISK_CMK = Policy(
    id="encryption.disk-cmk",
    title="VM disks are encrypted with customer-managed keys",
    severity="low",
    enforcement="advisory",
    checks=(_disk_cmk,),
    description="Customer-managed keys let you revoke access to data and audit every use of the key.",
    remediation="Set customer_managed_key: true on the compute resource: its disks are then encrypted with the "
                "network site's key (AWS KMS, GCP Cloud KMS, or a Key Vault key through an Azure disk "
                "encryption set), rotated as encryption.key-rotation asks.",
    frameworks=fw(("CKV_AWS_189", "CKV_AZURE_93", "CKV_GCP_37"), azure=("7.3",), gcp=("4.7",)),
    tags=("encryption", "at-rest", "keys"),
)

@rendered_check(T.AWS_LOG_GROUP)
def _log_group_key(res, ctx):
    return [] if get(res.inputs, "kmsKeyId") is not None else [Violation("log events are encrypted with a key "
                                                                           "CloudWatch Logs owns, not a KMS key")]


LOG_GROUP_KEY = Policy(
    id="encryption.log-group-kms",
    title="Log groups are encrypted with a KMS key",
    severity="low",
    enforcement="advisory",
    checks=(_log_group_key,),
    description="Flow logs record every connection of a network: a KMS key makes reading them an audited, "
                "revocable permission. cloudorch encrypts each site's flow-log group with the site's key.",
    remediation="Nothing to set in the stack file: cloudorch renders each AWS site's key and uses it for the "
                "flow-log group. A log group written by hand needs kmsKeyId.",
    frameworks=fw(("CKV_AWS_158",)),
    tags=("encryption", "at-rest", "logging"),
)

POLICIES = (DISK, DATABASE, BUCKET, KEY_ROTATION, DISK_CMK, LOG_GROUP_KEY)
