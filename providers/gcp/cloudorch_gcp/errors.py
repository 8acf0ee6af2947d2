"""How Google Cloud failures read in Pulumi's output: API error codes, OAuth messages, zones and machine types."""

from __future__ import annotations

from cloudorch.provider import ErrorClassifier, ErrorRule

CLASSIFIER = ErrorClassifier(
    rules=(
        ErrorRule("capacity", r"ZONE_RESOURCE_POOL_EXHAUSTED|does not have enough resources available", retryable=True),
        ErrorRule("quota", r"QUOTA_EXCEEDED|quotaExceeded|Quota '[A-Z0-9_]+' exceeded",
                  hint="your project's quota is too low for this machine type in this region; request an increase "
                       "under IAM & Admin → Quotas in the Google Cloud console or place it elsewhere"),
        ErrorRule("auth", r"could not find default credentials|oauth2: cannot fetch token|invalid_grant|"
                  r"Request had invalid authentication credentials",
                  hint="GCP credentials are missing or expired: run `gcloud auth application-default login` or set "
                       "GOOGLE_APPLICATION_CREDENTIALS"),
    ),
    marker=r"\bgcp:|googleapis\.com",
    # a region, or the region of a zone (europe-west4-a)
    region=(r"\bregions?/([a-z]+-[a-z]+\d+)\b|\bregion ([a-z]+-[a-z]+\d+)\b|"
            r"zones?/([a-z]+-[a-z]+\d+)-[a-z]\b|zone '?([a-z]+-[a-z]+\d+)-[a-z]'?",),
    machine_type=(r"machineTypes/([a-z0-9-]+)|machine type '?([a-z][a-z0-9]*-[a-z0-9-]+)'?",
                  r"\b([cemnt]\d[a-z]?-(?:standard|highmem|highcpu|custom|micro|small|medium)(?:-\d+)?)\b"),
)
