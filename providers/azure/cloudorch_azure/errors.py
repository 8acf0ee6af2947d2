"""How Azure failures read in Pulumi's output: ARM error codes, Entra ID messages, locations and VM sizes."""

from __future__ import annotations

from cloudorch.provider import ErrorClassifier, ErrorRule

CLASSIFIER = ErrorClassifier(
    rules=(
        ErrorRule("capacity",
                  r"SkuNotAvailable|ZonalAllocationFailed|OverconstrainedAllocationRequest|AllocationFailed",
                  retryable=True),
        ErrorRule("quota", r"(OperationNotAllowed|QuotaExceeded).*quota|exceeding approved .* quota",
                  hint="your subscription's quota is too low for this VM family in this region; request an "
                       "increase under Quotas in the Azure portal (or `az quota update`) or place it elsewhere"),
        ErrorRule("auth", r"DefaultAzureCredential failed|could not acquire access token|AADSTS\d+|"
                  r"Please run 'az login'|AuthorizationFailed",
                  hint="Azure credentials are missing, expired or lack permission: run `az login` (or set "
                       "ARM_CLIENT_ID/ARM_CLIENT_SECRET/ARM_TENANT_ID) and check the role assignment"),
    ),
    marker=r"azure-native:|azure\.com",
    region=(r"\b[Ll]ocation:? '?([a-z][a-z0-9]*)'?",),
    machine_type=(r"\b((?:Standard|Basic)_[A-Za-z0-9_]+)\b",),  # Standard_D4s_v5
)
