"""Framework mappings, spelt once. Benchmarks are versioned in the key because control numbers move."""

from __future__ import annotations

CIS_AWS = "cis-aws-3.0"
CIS_AZURE = "cis-azure-2.0"
CIS_GCP = "cis-gcp-2.0"


def fw(checkov: tuple[str, ...] = (), *, aws: tuple[str, ...] = (), azure: tuple[str, ...] = (),
       gcp: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    out = {"checkov": checkov, CIS_AWS: aws, CIS_AZURE: azure, CIS_GCP: gcp}
    return {k: v for k, v in out.items() if v}
