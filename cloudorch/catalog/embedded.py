"""The catalog that ships inside the package (see data/SOURCES.md for where its prices come from)."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from cloudorch.catalog.model import Catalog, DatabaseOffering, Offering, Region, StoragePrice, category_of
from cloudorch.catalog.network import network_prices

AS_OF = "2025-06-01"


def _data() -> Traversable:
    """Where the data files are: the package's own (a seam for tests of a rebuilt copy, ``catalog/rebuild.py``)."""
    return files("cloudorch.catalog").joinpath("data")


def _rows(name: str) -> list[dict[str, str]]:
    text = _data().joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


@cache
def embedded_regions() -> tuple[tuple[Region, ...], dict[tuple[str, str], float]]:
    regions, factors = [], {}
    for row in _rows("regions.csv"):
        regions.append(Region(row["cloud"], row["region"], row["geo"], tuple(row["zones"].split(";")), row["display"]))
        factors[(row["cloud"], row["region"])] = float(row["price_factor"])
    return tuple(regions), factors


def _regional(price: float, factor: float) -> float:
    return round(price * factor, 4)


@cache
def embedded_databases_and_storage() -> tuple[tuple[DatabaseOffering, ...], tuple[StoragePrice, ...]]:
    regions, factors = embedded_regions()
    db_rows, storage_rows = _rows("databases.csv"), _rows("storage.csv")
    databases = [
        DatabaseOffering(
            r.cloud, r.name, row["engine"], row["instance_class"], float(row["vcpus"]), float(row["memory_gib"]),
            _regional(float(row["price"]), factors[(r.cloud, r.name)]), float(row["storage_gb_month"]),
        )
        for r in regions
        for row in db_rows
        if row["cloud"] == r.cloud
    ]
    storage = [
        StoragePrice(r.cloud, r.name, _regional(float(row["gb_month"]), factors[(r.cloud, r.name)]))
        for r in regions
        for row in storage_rows
        if row["cloud"] == r.cloud
    ]
    return tuple(databases), tuple(storage)


@cache
def embedded_catalog() -> Catalog:
    regions, factors = embedded_regions()
    offerings = []
    for row in _rows("machines.csv"):
        only = set(filter(None, row["regions"].split(";")))
        for region in regions:
            if region.cloud != row["cloud"] or (only and region.name not in only):
                continue
            price = _regional(float(row["price"]), factors[(region.cloud, region.name)])
            offerings.append(
                Offering(
                    cloud=region.cloud, region=region.name, instance_type=row["instance_type"],
                    vcpus=float(row["vcpus"]), memory_gib=float(row["memory_gib"]), arch=row["arch"], price=price,
                    spot_price=round(price * float(row["spot_ratio"]), 4) if row["spot_ratio"] else None,
                    accelerator=row["accelerator"] or None, accelerator_count=int(row["accelerator_count"] or 0),
                    zones=region.zones, category=category_of(region.cloud, row["instance_type"], row["category"]),
                )
            )
    databases, storage = embedded_databases_and_storage()
    return Catalog(
        source="embedded", as_of=AS_OF, regions=regions, offerings=tuple(offerings),
        databases=databases, storage=storage, network=network_prices(),
    )
