"""How AWS failures read in Pulumi's output: EC2/IAM/STS error codes, regions and instance types."""

from __future__ import annotations

from cloudorch.provider import ErrorClassifier, ErrorRule

CLASSIFIER = ErrorClassifier(
    rules=(
        ErrorRule("capacity", r"InsufficientInstanceCapacity|InsufficientHostCapacity|InsufficientCapacity\b",
                  retryable=True),
        ErrorRule("quota", r"VcpuLimitExceeded|InstanceLimitExceeded|MaxSpotInstanceCountExceeded|VpcLimitExceeded|"
                  r"AddressLimitExceeded|ServiceQuotaExceeded",
                  hint="your account's quota is too low for this machine type in this region; request an increase "
                       "in AWS Service Quotas (console, or `aws service-quotas request-service-quota-increase`) or "
                       "place it elsewhere"),
        ErrorRule("auth", r"NoCredentialProviders|no valid credential sources|ExpiredToken|InvalidClientTokenId|"
                  r"UnrecognizedClientException|failed to refresh cached credentials|SignatureDoesNotMatch",
                  hint="AWS credentials are missing or expired: run `aws sso login` or `aws configure`, or set "
                       "AWS_PROFILE"),
    ),
    marker=r"\baws:|amazonaws\.com",
    # a region, or the region of an availability zone (eu-west-1a)
    region=(r"\b((?:us|eu|ap|sa|ca|me|af|il|mx)-(?:gov-)?[a-z]+-\d)[a-z]?\b",),
    machine_type=(r"\b([a-z]\d[a-z0-9-]*\.(?:nano|micro|small|medium|metal|\d*x?large)(?:-\d+xl)?)\b",),  # m7i.xlarge
)
