"""The catalog: what can be bought where, and at what price.

Plain frozen dataclasses with slots rather than pydantic models: a SkyPilot catalog holds ~100,000
offerings and validating each through pydantic would dominate a plan's run time.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from cloudorch.catalog.network import NetworkPrices


@dataclass(frozen=True, slots=True)
class Region:
    cloud: str
    name: str
    geo: str
    zones: tuple[str, ...] = ()
    display: str = ""


class Offering(NamedTuple):
    """A machine type in a region. ``zones`` are the zones that offer it (empty when the catalog has none).

    A NamedTuple rather than a dataclass: a large catalog holds ~100,000 of them, and tuples are built,
    compared and unpickled (from the catalog cache) several times faster.
    """

    cloud: str
    region: str
    instance_type: str
    vcpus: float
    memory_gib: float
    arch: str
    price: float
    spot_price: float | None = None
    accelerator: str | None = None
    accelerator_count: int = 0
    zones: tuple[str, ...] = ()
    category: str = "general"  # general | compute | memory | gpu | burstable (``category_of``)

    @property
    def burstable(self) -> bool:
        return self.category == BURSTABLE


@dataclass(frozen=True, slots=True)
class DatabaseOffering:
    cloud: str
    region: str
    engine: str
    instance_class: str
    vcpus: float
    memory_gib: float
    price: float
    storage_gb_month: float


@dataclass(frozen=True, slots=True)
class StoragePrice:
    cloud: str
    region: str
    gb_month: float


@dataclass(frozen=True)
class ParseIssue:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Catalog:
    source: str
    as_of: str
    regions: tuple[Region, ...]
    offerings: tuple[Offering, ...]
    databases: tuple[DatabaseOffering, ...]
    storage: tuple[StoragePrice, ...]
    issues: tuple[ParseIssue, ...] = ()
    #: extra text that identifies the catalog's content (e.g. file hashes); feeds ``digest``
    fingerprint: str = field(default="", compare=False)
    #: published network prices (the embedded ones for every catalog: SkyPilot catalogs carry none);
    #: None = nothing network-related can be priced
    network: NetworkPrices | None = field(default=None, compare=False)
    #: offerings the account may not use, each with the cloud's reason (the live catalog's restrictions.csv):
    #: never placed, only named by `plan --explain` for the resources they would have fitted
    restricted: tuple[tuple[Offering, str], ...] = field(default=(), compare=False)
    #: (cloud, region, instance type) -> the cloud's spot placement score, 1-10 (the live catalog's
    #: spot_scores.csv): lowers a spot option's availability in placement (``candidates.availability_score``)
    spot_scores: Mapping[tuple[str, str, str], int] = field(default_factory=dict, compare=False)

    @cached_property
    def region_index(self) -> dict[tuple[str, str], Region]:
        return {(r.cloud, r.name): r for r in self.regions}

    @cached_property
    def storage_index(self) -> dict[tuple[str, str], float]:
        return {(s.cloud, s.region): s.gb_month for s in self.storage}

    @cached_property
    def clouds(self) -> tuple[str, ...]:
        return tuple(sorted({r.cloud for r in self.regions}))

    @cached_property
    def geos(self) -> tuple[str, ...]:
        return tuple(sorted({r.geo for r in self.regions}))

    def region(self, cloud: str, name: str) -> Region | None:
        return self.region_index.get((cloud, name))

    @cached_property
    def digest(self) -> str:
        """Identifies the catalog's content, so a saved plan can tell when prices changed under it."""
        h = hashlib.sha256()
        h.update(f"{self.source}\n{self.as_of}\n{self.fingerprint}\n".encode())
        if self.network is not None:
            h.update(f"network {self.network.digest}\n".encode())
        if not self.fingerprint:
            for o in self.offerings:
                h.update(repr(o).encode())
            for d in self.databases:
                h.update(repr(d).encode())
            for s in self.storage:
                h.update(repr(s).encode())
        return h.hexdigest()


BURSTABLE = "burstable"

# Burstable and shared-core types by cloud: their vCPUs run on credits (AWS t*, Azure B*) or are a share
# of a core (GCP's e2 shared-core sizes and the older f1/g1). Decided here, by name, so the embedded catalog
# and a SkyPilot catalog (which has no column for it) classify a type the same way.
_BURSTABLE = {
    "aws": re.compile(r"^t\d[a-z]*\."),
    "azure": re.compile(r"^Standard_B\d"),
    "gcp": re.compile(r"^(e2-(micro|small|medium)|f1-micro|g1-small)$"),
}


def category_of(cloud: str, instance_type: str, stated: str = "general") -> str:
    """An offering's category: ``burstable`` for the types ``_BURSTABLE`` names, whatever a catalog states."""
    pattern = _BURSTABLE.get(cloud)
    return BURSTABLE if pattern is not None and pattern.match(instance_type) else stated


# AWS and GCP region names start with their geography (eu-west-1, europe-west4; GCP's northamerica-south1
# is Mexico, so it precedes northamerica-). The two clouds' prefixes never clash, so the name is enough.
_GEO_PREFIXES: tuple[tuple[str, str], ...] = (
    ("us-", "us"), ("ca-", "ca"), ("eu-", "eu"), ("ap-", "apac"), ("sa-", "sa"), ("me-", "me"), ("il-", "me"),
    ("af-", "af"), ("mx-", "mx"), ("cn-", "cn"),
    ("northamerica-south", "mx"), ("northamerica-", "ca"), ("europe-", "eu"), ("asia-", "apac"),
    ("australia-", "apac"), ("southamerica-", "sa"), ("africa-", "af"),
)

# Azure region names are one word with the geography inside (westeurope, southafricanorth). Checked in
# order, so the more specific words come first: "australiaeast" and "austriaeast" must not match "us".
_GEO_WORDS: tuple[tuple[str, str], ...] = (
    ("southafrica", "af"), ("brazil", "sa"), ("chile", "sa"), ("mexico", "mx"), ("canada", "ca"),
    ("uae", "me"), ("qatar", "me"), ("israel", "me"), ("saudi", "me"),
    ("australia", "apac"), ("japan", "apac"), ("korea", "apac"), ("india", "apac"), ("asia", "apac"),
    ("indonesia", "apac"), ("malaysia", "apac"), ("newzealand", "apac"), ("taiwan", "apac"),
    ("europe", "eu"), ("france", "eu"), ("germany", "eu"), ("uk", "eu"), ("sweden", "eu"),
    ("switzerland", "eu"), ("norway", "eu"), ("poland", "eu"), ("italy", "eu"), ("spain", "eu"),
    ("austria", "eu"), ("belgium", "eu"), ("denmark", "eu"), ("finland", "eu"), ("greece", "eu"),
    ("us", "us"),
)

# GCS multi-region and dual-region locations (a bucket's `location`) are geographies themselves.
_MULTI_REGIONS: dict[str, str] = {"us": "us", "eu": "eu", "asia": "apac", "nam4": "us", "eur4": "eu",
                                  "eur5": "eu", "eur7": "eu", "eur8": "eu", "asia1": "apac"}


@functools.lru_cache(maxsize=4096)
def geo_of_region_name(name: str) -> str:
    """A region's geography from its name alone (``other`` when the name does not say), for regions the
    embedded metadata does not list. The one table of region names: the policy engine asks it too, once per
    rendered resource (cached: a stack has a few dozen region names, and the scan is over ~100 prefixes)."""
    lowered = name.lower().replace(" ", "")  # Azure display names: "West Europe"
    if "-" in lowered:
        return next((geo for prefix, geo in _GEO_PREFIXES if lowered.startswith(prefix)), "other")
    if lowered in _MULTI_REGIONS:
        return _MULTI_REGIONS[lowered]
    return next((geo for word, geo in _GEO_WORDS if word in lowered), "other")
