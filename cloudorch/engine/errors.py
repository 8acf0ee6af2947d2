"""Pulumi's failures, classified into cloudorch errors with a hint and the facts a user acts on.

Classification works on text because that is all Pulumi gives back: the provider's message travels
through the engine as a diagnostic and ends in the CLI's stderr. Patterns are the cloud APIs' own error
codes (stable, documented) rather than their prose, with a few phrases where a cloud has no code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cloudorch.errors import EngineError

INSTALL_HINT = (
    "install the Pulumi CLI, then run the command again:\n"
    "  Linux/macOS:  curl -fsSL https://get.pulumi.com | sh\n"
    "  macOS:        brew install pulumi/tap/pulumi\n"
    "  Windows:      winget install pulumi\n"
    "see https://www.pulumi.com/docs/install/ — `cloudorch plan`, `validate` and `check` work without it"
)


class EngineRunError(EngineError):
    """A classified Pulumi failure, with the cloud, region and machine type involved when known."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "engine",
        hint: str | None = None,
        retryable: bool = False,
        cloud: str | None = None,
        region: str | None = None,
        machine_type: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, retryable=retryable, kind=kind)
        self.cloud = cloud
        self.region = region
        self.machine_type = machine_type

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"cloud": self.cloud, "region": self.region, "machine_type": self.machine_type}


def missing_cli_error() -> EngineError:
    return EngineError("the Pulumi CLI is not installed (no `pulumi` on PATH)", hint=INSTALL_HINT, kind="missing-cli")


@dataclass(frozen=True)
class _Rule:
    kind: str
    cloud: str | None
    pattern: re.Pattern[str]
    retryable: bool
    hint: str


def _rule(kind: str, cloud: str | None, pattern: str, retryable: bool, hint: str) -> _Rule:
    return _Rule(kind, cloud, re.compile(pattern, re.IGNORECASE), retryable, hint)


_CAPACITY_HINT = (
    "the cloud has no spare capacity for this machine type here right now; retry later, or let cloudorch "
    "place it elsewhere (allow another zone/region or machine type in the stack file) and run `cloudorch plan` again"
)
_QUOTA_HINT = (
    "your account's quota is too low for this machine type in this region; request an increase in the "
    "cloud console (AWS Service Quotas, Azure Quotas, GCP IAM & Admin → Quotas) or place it elsewhere"
)

# First match wins: lock and capacity before the broader quota and auth phrases.
_RULES: tuple[_Rule, ...] = (
    _rule("lock", None, r"the stack is currently locked|\[409\] Conflict: Another update is currently in progress",
          True, "another run holds the stack; wait for it, or if it died run `cloudorch unlock STACK`"),
    _rule("capacity", "aws", r"InsufficientInstanceCapacity|InsufficientHostCapacity|InsufficientCapacity\b", True, _CAPACITY_HINT),
    _rule("capacity", "gcp", r"ZONE_RESOURCE_POOL_EXHAUSTED|does not have enough resources available", True, _CAPACITY_HINT),
    _rule("capacity", "azure", r"SkuNotAvailable|ZonalAllocationFailed|OverconstrainedAllocationRequest|AllocationFailed",
          True, _CAPACITY_HINT),
    _rule("quota", "aws", r"VcpuLimitExceeded|InstanceLimitExceeded|MaxSpotInstanceCountExceeded|VpcLimitExceeded|"
          r"AddressLimitExceeded|ServiceQuotaExceeded", False, _QUOTA_HINT),
    _rule("quota", "gcp", r"QUOTA_EXCEEDED|quotaExceeded|Quota '[A-Z0-9_]+' exceeded", False, _QUOTA_HINT),
    _rule("quota", "azure", r"(OperationNotAllowed|QuotaExceeded).*quota|exceeding approved .* quota", False, _QUOTA_HINT),
    _rule("auth", "aws", r"NoCredentialProviders|no valid credential sources|ExpiredToken|InvalidClientTokenId|"
          r"UnrecognizedClientException|failed to refresh cached credentials|SignatureDoesNotMatch",
          False, "AWS credentials are missing or expired: run `aws sso login` or `aws configure`, or set AWS_PROFILE"),
    _rule("auth", "azure", r"DefaultAzureCredential failed|could not acquire access token|AADSTS\d+|"
          r"Please run 'az login'|AuthorizationFailed",
          False, "Azure credentials are missing, expired or lack permission: run `az login` (or set ARM_CLIENT_ID/"
          "ARM_CLIENT_SECRET/ARM_TENANT_ID) and check the role assignment"),
    _rule("auth", "gcp", r"could not find default credentials|oauth2: cannot fetch token|invalid_grant|"
          r"Request had invalid authentication credentials",
          False, "GCP credentials are missing or expired: run `gcloud auth application-default login` or set "
          "GOOGLE_APPLICATION_CREDENTIALS"),
    _rule("auth", None, r"incorrect passphrase|passphrase must be set|failed to decrypt",
          False, "the stack's secrets were encrypted with another passphrase: set CLOUDORCH_PASSPHRASE to the "
          "stack's passphrase (or use the secrets provider the stack was created with)"),
    _rule("conflict", None, r"AlreadyExists|already exists|Error 409|\bConflict\b",
          False, "a resource with this name already exists outside this stack; import it, rename it, or delete it"),
    _rule("engine", None, r"RequestLimitExceeded|Throttling|rateLimitExceeded|TooManyRequests|\b429\b",
          True, "the cloud API throttled the run; retry in a minute"),
)

_REGION = {
    "aws": re.compile(r"\b((?:us|eu|ap|sa|ca|me|af|il|mx)-(?:gov-)?[a-z]+-\d)[a-z]?\b"),  # from a region or AZ
    "gcp": re.compile(r"\bregions?/([a-z]+-[a-z]+\d+)\b|\bregion ([a-z]+-[a-z]+\d+)\b|"
                      r"zones?/([a-z]+-[a-z]+\d+)-[a-z]\b|zone '?([a-z]+-[a-z]+\d+)-[a-z]'?"),
    "azure": re.compile(r"\b[Ll]ocation:? '?([a-z][a-z0-9]*)'?"),
}
_MACHINE = (
    re.compile(r"\b([a-z]\d[a-z0-9-]*\.(?:nano|micro|small|medium|metal|\d*x?large)(?:-\d+xl)?)\b"),  # aws m7i.xlarge
    re.compile(r"\b((?:Standard|Basic)_[A-Za-z0-9_]+)\b"),  # azure Standard_D4s_v5
    re.compile(r"machineTypes/([a-z0-9-]+)|machine type '?([a-z][a-z0-9]*-[a-z0-9-]+)'?"),  # gcp
    re.compile(r"\b([cemnt]\d[a-z]?-(?:standard|highmem|highcpu|custom|micro|small|medium)(?:-\d+)?)\b"),
)


# The DIY backend names each lock: "<url>: created by user@host (pid 123) at 2026-11-02T10:00:00Z".
_LOCK_HOLDER = re.compile(r"created by (?P<who>\S+) \(pid (?P<pid>\d+)\) at (?P<since>\S+)")


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> str | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return next(g for g in match.groups() if g)
    return None


def _headline(text: str) -> str:
    """The most telling line: the provider's own error, not Pulumi's wrapper text."""
    lines = [line.strip(" \t*") for line in text.splitlines() if line.strip(" \t*")]
    for line in lines:
        if any(rule.pattern.search(line) for rule in _RULES):
            return line
    for line in lines:
        if line.lower().startswith(("error:", "* ")) and "update failed" not in line.lower():
            return line
    return lines[0] if lines else "the Pulumi run failed"


def classify(error: BaseException | str, *, operation: str = "run") -> EngineRunError:
    """An engine failure (exception or its text) as a cloudorch error; never raises."""
    if isinstance(error, FileNotFoundError) and "pulumi" in str(error):
        err = missing_cli_error()
        return EngineRunError(err.message, kind="missing-cli", hint=err.hint)
    text = str(error)
    rule = next((r for r in _RULES if r.pattern.search(text)), None)
    headline = _headline(text)
    if rule is None:
        return EngineRunError(
            f"Pulumi {operation} failed: {headline}",
            hint="the full Pulumi output is above (or in --format json); run again with --debug for the engine log",
        )
    cloud = rule.cloud or _cloud_of(text)
    # The classified cloud's region syntax first, so another cloud's looser pattern cannot claim a word.
    region = _first(tuple(p for c, p in sorted(_REGION.items(), key=lambda item: item[0] != cloud)), text)
    machine = _first(_MACHINE, text) if rule.kind in ("capacity", "quota") else None
    where = ", ".join(x for x in (cloud, region, machine) if x)
    message = f"Pulumi {operation} failed ({rule.kind}{': ' + where if where else ''}): {headline}"
    holder = _LOCK_HOLDER.search(text) if rule.kind == "lock" else None
    if holder:
        message += f" (held by {holder['who']}, pid {holder['pid']}, since {holder['since']})"
    return EngineRunError(message, kind=rule.kind, hint=rule.hint, retryable=rule.retryable,
                          cloud=cloud, region=region, machine_type=machine)


def _cloud_of(text: str) -> str | None:
    for cloud, marker in (("aws", r"\baws:|amazonaws\.com"), ("azure", r"azure-native:|azure\.com"),
                          ("gcp", r"\bgcp:|googleapis\.com")):
        if re.search(marker, text):
            return cloud
    return None
