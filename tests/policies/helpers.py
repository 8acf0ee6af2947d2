"""Small builders for policy fixtures: a stack from YAML, rendered resources, a placement."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cloudorch.placement.model import PlacementResult, ResourcePlacement, Slot
from cloudorch.policy import Pack, PolicySubject, evaluate
from cloudorch.rendering.model import RenderedResource, ref
from cloudorch.spec.loader import LoadedStack, parse_stack
from cloudorch_aws.roles import ROLES as AWS_ROLES
from cloudorch_azure.roles import ROLES as AZURE_ROLES
from cloudorch_gcp.roles import ROLES as GCP_ROLES

TODAY = dt.date(2026, 6, 1)
REGION = {"aws": "eu-west-1", "azure": "westeurope", "gcp": "europe-west4"}
#: the role each provider gives a type, as its rendering would set it
ROLES = {"aws": AWS_ROLES, "azure": AZURE_ROLES, "gcp": GCP_ROLES}

WEB = "{kind: compute, network: net, cpu: 4, memory_gb: 16}"
DB = '{kind: database, network: net, engine: postgres, version: "16", ingress: [{port: 5432, from: web}]}'
ASSETS = "{kind: bucket, versioning: true}"


def stack(*, tags: str = "{team: shop, env: prod}", web: str = WEB, db: str = DB, assets: str = ASSETS,
          net_tags: str = "{}", extra: str = "") -> LoadedStack:
    text = f"""stack: shop
tags: {tags}
placement:
  geo: [eu]
{extra}resources:
  net: {{kind: network, cidr: 10.40.0.0/16, tags: {net_tags}}}
  web: {web}
  db: {db}
  assets: {assets}
"""
    return parse_stack(text, "stack.yaml")


def cloud_of(token: str) -> str:
    prefix = token.split(":", 1)[0]
    return {"azure-native": "azure"}.get(prefix, prefix)


def r(name: str, token: str, source: str | None = "web", *, region: str | None = None, **inputs: Any) -> RenderedResource:
    cloud = cloud_of(token)
    return RenderedResource(name=name, type=token, role=ROLES.get(cloud, {}).get(token), cloud=cloud,
                            region=region or REGION.get(cloud), source=source, inputs=inputs)


def slot(cloud: str, region: str, itype: str = "m7i.xlarge", vcpus: float = 4, spot: bool = False, count: int = 1) -> Slot:
    return Slot(cloud=cloud, region=region, instance_type=itype, spot=spot, count=count, vcpus=vcpus,
                memory_gib=vcpus * 4, hourly_usd=0.2 * count, monthly_usd=round(146.0 * count, 2))


def placement(**resources: Any) -> PlacementResult:
    """``web=[slot(...)]`` for compute/databases, ``assets=("gcp", "europe-west4")`` for buckets."""
    out = {}
    for name, value in resources.items():
        if isinstance(value, tuple):
            out[name] = ResourcePlacement(resource=name, kind="bucket", cloud=value[0], region=value[1])
        else:
            out[name] = ResourcePlacement(resource=name, kind="compute", slots=tuple(value))
    return PlacementResult(objective="cost", placements=out)


def subject(loaded: LoadedStack | None = None, rendered: list[RenderedResource] = (),
            placed: PlacementResult | None = None) -> PolicySubject:
    return PolicySubject(loaded=loaded or stack(), placement=placed, rendered=list(rendered))


def run(policy, subj: PolicySubject, config: dict[str, Any] | None = None):
    pack = Pack(name="under-test", policies=(policy,))
    return evaluate(subj, [pack], today=TODAY, config={policy.id: config} if config else None)


__all__ = ["ref", "r", "stack", "slot", "placement", "subject", "run", "TODAY"]
