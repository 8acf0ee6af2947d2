"""The baseline pack: network exposure, instance metadata, encryption at rest and in transit, backups and
logging, public storage, identity, tagging and residency, on AWS, Azure and GCP.

Python rules live in the modules beside this one, declarative ones in ``rules/*.yaml`` (the same format a
team uses with ``--policy-dir``). Nothing here runs at import: the entry point calls ``pack()``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from cloudorch.policy import Pack
from cloudorch.policy.declarative import parse_policy_file

NAME = "baseline"


@cache
def pack() -> Pack:
    from cloudorch_policies.baseline import (
        balancers, compute, database, encryption, governance, identity, links, network, observability, storage,
    )

    policies = [*network.POLICIES, *balancers.POLICIES, *links.POLICIES, *compute.POLICIES, *encryption.POLICIES, *storage.POLICIES,
                *database.POLICIES, *observability.POLICIES, *identity.POLICIES, *governance.POLICIES]
    for resource in sorted(files(__package__).joinpath("rules").iterdir(), key=lambda r: r.name):
        if resource.name.endswith(".yaml"):
            policies += parse_policy_file(resource.read_text(encoding="utf-8"), f"cloudorch_policies/baseline/rules/{resource.name}")[1]
    return Pack(
        name=NAME,
        policies=tuple(sorted(policies, key=lambda p: p.id)),
        description="Security baseline for AWS, Azure and GCP. Control ids: Checkov, CIS AWS Foundations v3.0.0, "
                    "CIS Azure Foundations v2.0.0, CIS GCP Foundations v2.0.0.",
        version="1.0.0",
    )
