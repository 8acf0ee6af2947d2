"""Small hand-made plans for the report tests: a placement or a bill, and nothing else."""

from __future__ import annotations

from cloudorch.plan import CatalogInfo, Cost, Fingerprint, PlacementEntry, Plan
from cloudorch.report.diff import Slot

FINGERPRINT = Fingerprint(cloudorch_version="0", stack_sha256="s", catalog_sha256="c", policy_sha256="p")


def plan_with(slots: list[Slot], *, resource: str = "web", **fields) -> Plan:
    placements = [PlacementEntry(resource=resource, kind="compute", cloud=s.cloud, region=s.region,
                                 instance_type=s.instance_type, spot=s.spot, count=s.count, hourly_usd=0.1 * s.count,
                                 monthly_usd=73.0 * s.count) for s in slots]
    monthly = round(sum(p.monthly_usd for p in placements), 2)
    cost = Cost(hourly_usd=monthly / 730, monthly_usd=monthly, by_cloud={})
    return Plan(stack="shop", objective="cost", fingerprint=FINGERPRINT,
                catalog=CatalogInfo(source="embedded", as_of="2025-01-01", offerings=1), placements=placements,
                cost=cost, **{"resources": [], **fields})


def costing(monthly: float) -> Plan:
    """A plan whose whole bill is ``monthly`` dollars on aws."""
    return plan_with([]).model_copy(update={"cost": Cost(hourly_usd=monthly / 730, monthly_usd=monthly,
                                                          by_cloud={"aws": monthly})})
