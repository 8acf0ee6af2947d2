"""Classification of realistic Pulumi/provider failure texts from all three clouds."""

from __future__ import annotations

import pytest

from cloudorch.engine.errors import INSTALL_HINT, classify
from cloudorch.errors import ExitCode

AWS_CAPACITY = """\
Diagnostics:
  aws:ec2:Instance (web-eu-west-1-0):
    error: 1 error occurred:
    \t* creating EC2 Instance: operation error EC2: RunInstances, https response error StatusCode: 500, \
RequestID: 2f0a6c8e-1b4e-4c5a-9b7f-0d3e5c1a2b3c, api error InsufficientInstanceCapacity: We currently do not have \
sufficient m7i.xlarge capacity in the Availability Zone you requested (eu-west-1a). Our system will be working on \
provisioning additional capacity. You can currently get m7i.xlarge capacity by not specifying an Availability Zone \
in your request or choosing eu-west-1b, eu-west-1c.
"""
AWS_VCPU = (
    "creating EC2 Instance: operation error EC2: RunInstances, https response error StatusCode: 400, RequestID: x, "
    "api error VcpuLimitExceeded: You have requested more vCPU capacity than your current vCPU limit of 32 allows "
    "for the instance bucket that the specified instance type belongs to. Please visit "
    "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit. "
    "(instance type c7g.4xlarge, region us-east-2)"
)
AWS_INSTANCES = (
    "error: creating EC2 Instance: InstanceLimitExceeded: Your quota allows for 0 more running instance(s). "
    "You requested at least 1 (endpoint https://ec2.ap-southeast-2.amazonaws.com, instance type t3.micro)"
)
GCP_EXHAUSTED = (
    "error: 1 error occurred:\n\t* Error waiting for instance to create: The zone "
    "'projects/acme-prod/zones/europe-west4-a' does not have enough resources available to fulfill the request. "
    "'(resource type:compute)'. Try a different zone, or try again later. code: ZONE_RESOURCE_POOL_EXHAUSTED "
    "machineTypes/n2-standard-4"
)
GCP_QUOTA = (
    "error: gcp:compute/instance:Instance resource 'web-1' has a problem: googleapi: Error 403: "
    "Quota 'N2_CPUS' exceeded.  Limit: 8.0 in region europe-west1., quotaExceeded; "
    "machine type 'n2-standard-8' code QUOTA_EXCEEDED"
)
AZURE_SKU = (
    "error: Code=\"SkuNotAvailable\" Message=\"The requested VM size for resource 'Following SKUs have failed for "
    "Capacity Restrictions: Standard_D4s_v5' is currently not available in location 'westeurope'. Please try another "
    "size or deploy to a different location or different zone.\""
)
AZURE_ALLOCATION = (
    "error: Status=\"Failed\" Code=\"AllocationFailed\" Message=\"Allocation failed. We do not have sufficient "
    "capacity for the requested VM size Standard_E8s_v5 in this region. Location: northeurope\""
)
AZURE_QUOTA = (
    "error: Code=\"OperationNotAllowed\" Message=\"Operation could not be completed as it results in exceeding "
    "approved standardDSv5Family Cores quota. Additional details - Deployment Model: Resource Manager, "
    "Location: westeurope, Current Limit: 10, Current Usage: 8, Additional Required: 4, (Minimum) New Limit "
    "Required: 12. VM size Standard_D4s_v5\""
)


@pytest.mark.parametrize(
    ("text", "kind", "cloud", "region", "machine", "retryable"),
    [
        (AWS_CAPACITY, "capacity", "aws", "eu-west-1", "m7i.xlarge", True),
        (AWS_VCPU, "quota", "aws", "us-east-2", "c7g.4xlarge", False),
        (AWS_INSTANCES, "quota", "aws", "ap-southeast-2", "t3.micro", False),
        (GCP_EXHAUSTED, "capacity", "gcp", "europe-west4", "n2-standard-4", True),
        (GCP_QUOTA, "quota", "gcp", "europe-west1", "n2-standard-8", False),
        (AZURE_SKU, "capacity", "azure", "westeurope", "Standard_D4s_v5", True),
        (AZURE_ALLOCATION, "capacity", "azure", "northeurope", "Standard_E8s_v5", True),
        (AZURE_QUOTA, "quota", "azure", "westeurope", "Standard_D4s_v5", False),
    ],
)
def test_capacity_and_quota_name_cloud_region_and_machine(text, kind, cloud, region, machine, retryable):
    err = classify(text, operation="up")
    assert (err.kind, err.cloud, err.region, err.machine_type, err.retryable) == (kind, cloud, region, machine, retryable)
    assert err.exit_code == ExitCode.ENGINE_FAILURE
    assert err.hint and ("quota" in err.hint if kind == "quota" else "capacity" in err.hint)
    for fact in (cloud, region, machine):
        assert fact in err.message
    assert err.to_dict()["machine_type"] == machine


@pytest.mark.parametrize(
    ("text", "cloud", "hint_word"),
    [
        ("error: configuring Terraform AWS Provider: no valid credential sources for Terraform AWS Provider found. "
         "NoCredentialProviders: no valid providers in chain", "aws", "aws sso login"),
        ("error: reading EC2 VPC: operation error EC2: DescribeVpcs, https response error StatusCode: 400, "
         "api error ExpiredToken: The security token included in the request is expired", "aws", "aws sso login"),
        ("error: DefaultAzureCredential failed to retrieve a token from the included credentials. "
         "Attempted credentials: EnvironmentCredential authentication unavailable.", "azure", "az login"),
        ("error: google: could not find default credentials. See "
         "https://cloud.google.com/docs/authentication/external/set-up-adc for more information", "gcp",
         "gcloud auth application-default login"),
    ],
)
def test_auth_errors(text, cloud, hint_word):
    err = classify(text)
    assert (err.kind, err.cloud, err.retryable) == ("auth", cloud, False)
    assert hint_word in err.hint


def test_diy_backend_lock_names_the_holder():
    text = (
        "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or "
        "delete the lock file with `pulumi cancel`.\n  s3://state/.pulumi/locks/organization/cloudorch/prod/"
        "4c1e.json: created by ana@ci-runner-7 (pid 4242) at 2026-11-02T09:14:03Z"
    )
    err = classify(text, operation="up")
    assert err.kind == "lock" and err.retryable
    assert "ana@ci-runner-7" in err.message and "2026-11-02T09:14:03Z" in err.message
    assert "cloudorch unlock" in err.hint


def test_pulumi_cloud_conflict_is_a_lock():
    assert classify("error: [409] Conflict: Another update is currently in progress.").kind == "lock"


def test_name_conflict():
    err = classify("error: creating S3 Bucket (acme-assets): BucketAlreadyExists: The requested bucket name is "
                   "not available.")
    assert err.kind == "conflict" and not err.retryable


def test_wrong_passphrase_is_auth():
    err = classify("error: constructing secrets manager of type \"passphrase\": incorrect passphrase")
    assert err.kind == "auth" and "CLOUDORCH_PASSPHRASE" in err.hint


def test_unknown_failures_keep_the_provider_line():
    err = classify("Diagnostics:\n  pulumi:pulumi:Stack (cloudorch-dev):\n    error: update failed\n"
                   "  aws:s3:BucketV2 (assets):\n    error: creating bucket: InvalidBucketName: bad name")
    assert err.kind == "engine" and "InvalidBucketName" in err.message


def test_missing_cli_from_the_sdk_exception():
    err = classify(FileNotFoundError(2, "No such file or directory", "pulumi"))
    assert err.kind == "missing-cli" and err.hint == INSTALL_HINT
    for command in ("curl -fsSL https://get.pulumi.com | sh", "brew install pulumi/tap/pulumi",
                    "winget install pulumi", "https://www.pulumi.com/docs/install/"):
        assert command in err.hint


# --- what is cloud-specific comes from the providers ------------------------------------------------------

from cloudorch.provider import ErrorClassifier, ErrorRule  # noqa: E402

ACME = ErrorClassifier(
    rules=(ErrorRule("capacity", r"ACME_NO_ROOM", retryable=True),
           ErrorRule("auth", r"ACME_TOKEN_EXPIRED", hint="run `acme login`")),
    marker=r"\bacme:",
    region=(r"\bacme-region/([a-z]+-\d)\b",),
    machine_type=(r"\bshape ([a-z]+\.\d+)\b",),
)


def test_a_fourth_clouds_classifier_names_its_cloud_region_and_machine():
    err = classify("error: acme:compute:Vm (web): ACME_NO_ROOM in acme-region/north-1 for shape vm.4",
                   operation="up", classifiers={"acme": ACME})
    assert (err.kind, err.cloud, err.region, err.machine_type, err.retryable) == ("capacity", "acme", "north-1", "vm.4", True)
    assert "capacity" in err.hint  # the neutral hint of the kind, as the rule brings none
    auth = classify("error: ACME_TOKEN_EXPIRED", classifiers={"acme": ACME})
    assert (auth.kind, auth.cloud, auth.hint) == ("auth", "acme", "run `acme login`")


def test_without_providers_only_the_neutral_rules_apply():
    assert classify(AWS_CAPACITY, classifiers={}).kind == "engine"  # AWS's codes are the AWS plugin's knowledge
    assert classify("error: the stack is currently locked by 1 lock(s)", classifiers={}).kind == "lock"
    assert classify("error: incorrect passphrase", classifiers={}).kind == "auth"
    assert classify("error: BucketAlreadyExists", classifiers={}).kind == "conflict"
    throttled = classify("error: TooManyRequests", classifiers={})
    assert (throttled.kind, throttled.retryable) == ("engine", True)


def test_a_cloud_the_text_names_wins_over_another_clouds_look_alike_rule():
    """GCP's `quotaExceeded ... QUOTA_EXCEEDED` also reads as Azure's quota phrase; the gcp: token decides."""
    assert classify(GCP_QUOTA).cloud == "gcp"


def test_the_installed_providers_contribute_their_classifiers():
    from cloudorch.engine.errors import installed_classifiers

    assert set(installed_classifiers()) == {"aws", "azure", "gcp"}


def test_an_unexplained_failure_carries_the_end_of_pulumis_output():
    text = ("\n code: 255\n stdout: Updating (dev)\n  + 3 to create\n"
            " stderr: error: the plugin host exited unexpectedly\n    panic: assignment to entry in nil map\n")
    err = classify(text, operation="up", classifiers={})
    assert err.message.startswith("Pulumi up failed: error: the plugin host exited unexpectedly\n")
    assert err.output == [" stdout: Updating (dev)", "  + 3 to create", "    panic: assignment to entry in nil map"]
    assert err.to_dict()["output"] == err.output and "panic: assignment" in err.message
    assert "above" not in err.hint
    long = classify("\n".join(f"line {i}" for i in range(40)), classifiers={})
    assert long.output[-1] == "line 39" and len(long.output) == 12
