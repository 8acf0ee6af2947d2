"""Small hand-made plans for the report tests: a placement or a bill, and nothing else."""

from __future__ import annotations

import random

from cloudorch.plan import CatalogInfo, Cost, Fingerprint, LinkEntry, NetworkSection, PlacementEntry, Plan
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


def big_plan(resources: int = 1000, seed: int = 3):
    """``resources`` services over 3 clouds x 12 regions, two findings each, 1,500 flows: the scale of the
    placement benchmark, made by hand so the test needs no solver."""
    rng = random.Random(seed)
    regions = [(cloud, f"{cloud}-r{i:02d}") for cloud in ("aws", "azure", "gcp") for i in range(12)]
    placements, findings, sites = [], [], {}
    for n in range(resources):
        cloud, region = rng.choice(regions)
        count = rng.choice((1, 2, 3, 6))
        placements.append(PlacementEntry(resource=f"svc-{n:04d}", kind="compute", cloud=cloud, region=region,
                                         instance_type="m6i.large", count=count, hourly_usd=0.1 * count,
                                         monthly_usd=73.0 * count))
        sites[cloud, region] = {"network": "net", "cloud": cloud, "region": region, "cidr": f"10.{len(sites)}.0.0/16"}
        findings += [{"policy": policy, "title": "t", "severity": severity, "enforcement": "advisory", "status": "fail",
                      "message": f"svc-{n:04d} is {policy}", "resource": f"svc-{n:04d}", "cloud": cloud}
                     for policy, severity in (("compute.public-ip", "medium"), ("tags.required", "low"))]
    where = {p.resource: f"net@{p.cloud}/{p.region}" for p in placements}
    flows = []
    for i in range(1500):
        a, b = rng.sample(sorted(where), 2)
        flows.append({"flow": f"{a}->{b}:{8000 + i}", "source": a, "target": b, "port": 8000 + i, "status": "proved",
                      "paths": [{"source_site": where[a], "target_site": where[b], "link": None, "status": "proved"}]})
    network = NetworkSection(sites=list(sites.values()), flows=flows,
                             links=[LinkEntry(id="l0", kind="vpn", sites=["net@aws/aws-r00", "net@gcp/gcp-r00"],
                                              flows=[])])
    plan = plan_with([])
    return plan.model_copy(update={"placements": placements, "network": network,
                                   "policy": {"findings": findings, "summary": {"fail": len(findings)}}})
