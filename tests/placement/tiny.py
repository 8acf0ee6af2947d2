"""Tiny hand-made catalogs and stacks, small enough to work out the optimum by hand.

Prices are per hour; a month is 730 hours, so $0.10/hour is $73.00/month. Tests that hand the MILP a problem
directly build it here (``demand``, ``problem``): the one place that knows which module defines the model.
"""

from __future__ import annotations

import textwrap

from cloudorch.catalog.model import Catalog, DatabaseOffering, Offering, Region, StoragePrice
from cloudorch.placement.candidates import PlacementSettings
from cloudorch.placement.planner import plan_placement
from cloudorch.placement.problem import Demand, Option, Problem
from cloudorch.spec.loader import parse_stack

CLOUDS = ("aws", "azure", "gcp")
ZONES3 = ("a", "b", "c")
REGIONS = (
    Region("aws", "us-east-1", "us", ZONES3),
    Region("aws", "eu-west-1", "eu", ZONES3),
    Region("aws", "ap-south-1", "apac", ZONES3),
    Region("azure", "eastus", "us", ZONES3),
    Region("azure", "westeurope", "eu", ZONES3),
    Region("gcp", "us-central1", "us", ZONES3),
    Region("gcp", "europe-west4", "eu", ZONES3),
)


def off(where: str, itype: str, price: float, cpu: float = 4, mem: float = 16, *, spot: float | None = None,
        arch: str = "x86_64", gpu: str | None = None, gpus: int = 0, zones: tuple[str, ...] = ZONES3) -> Offering:
    """``where`` is "cloud/region"."""
    cloud, region = where.split("/")
    return Offering(cloud, region, itype, float(cpu), float(mem), arch, price, spot, gpu, gpus if gpu else 0, zones,
                    "gpu" if gpu else "general")


def catalog(*offerings: Offering, databases: tuple[DatabaseOffering, ...] = (), regions=REGIONS,
            storage: tuple[StoragePrice, ...] | None = None) -> Catalog:
    if storage is None:
        storage = tuple(StoragePrice(r.cloud, r.name, 0.02) for r in regions)
    return Catalog(source="test", as_of="2025-01-01", regions=tuple(regions), offerings=tuple(offerings),
                   databases=databases, storage=storage)


def db(where: str, cls: str, price: float, cpu: float = 2, mem: float = 8, engine: str = "postgres",
       storage_gb_month: float = 0.0) -> DatabaseOffering:
    cloud, region = where.split("/")
    return DatabaseOffering(cloud, region, engine, cls, float(cpu), float(mem), price, storage_gb_month)


def stack(resources: str, placement: str = "", budget: float | None = None):
    """A stack with a network ``net`` and the given resources (YAML, indented by any amount)."""
    text = "stack: test\n"
    if placement:
        text += "placement:\n" + textwrap.indent(textwrap.dedent(placement).strip(), "  ") + "\n"
    if budget is not None:
        text += f"budget:\n  monthly_usd: {budget}\n"
    text += "resources:\n  net:\n    kind: network\n    cidr: 10.0.0.0/16\n"
    text += textwrap.indent(textwrap.dedent(resources).strip(), "  ") + "\n"
    return parse_stack(text, "test.yaml").stack


def settings(clouds=CLOUDS, **kw) -> PlacementSettings:
    return PlacementSettings(clouds=tuple(clouds), **kw)


def plan(st, cat, **kw):
    return plan_placement(st, cat, settings(**kw))


def where(result, name: str) -> list[tuple[str, str, str, bool, int]]:
    """(cloud, region, type, spot, count) of each slot of a resource."""
    return [(s.cloud, s.region, s.instance_type, s.spot, s.count) for s in result.placements[name].slots]


def per_region(result, name: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in result.placements[name].slots:
        out[f"{s.cloud}/{s.region}"] = out.get(f"{s.cloud}/{s.region}", 0) + s.count
    return out


def option(where: str, price: float, *, itype: str = "t", cpu: float = 4, mem: float = 16, spot: bool = False,
           availability: float = 0.999) -> Option:
    """One replica's worth of an offering, as the MILP sees it; ``where`` is "cloud/region"."""
    cloud, region = where.split("/")
    return Option(cloud, region, itype, spot, float(cpu), float(mem), price, availability)


def demand(name: str, count: int, options, **constraints) -> Demand:
    """A compute resource's demand; ``constraints`` are min_clouds, max_per_region, near, apart, ..."""
    return Demand(name, constraints.pop("kind", "compute"), count, tuple(options), **constraints)


def problem(*demands: Demand, **kw) -> Problem:
    """``kw``: objective, quotas, budget_monthly_usd, disabled."""
    return Problem(tuple(demands), **kw)
