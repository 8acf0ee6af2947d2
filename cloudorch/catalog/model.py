"""The catalog: what can be bought where, and at what price.

Plain frozen dataclasses with slots rather than pydantic models: a SkyPilot catalog holds ~100,000
offerings and validating each through pydantic would dominate a plan's run time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True, slots=True)
class Region:
    cloud: str
    name: str
    geo: str
    zones: tuple[str, ...] = ()
    display: str = ""


@dataclass(frozen=True, slots=True)
class Offering:
    """A machine type in a region. ``zones`` are the zones that offer it (empty when the catalog has none)."""

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
    category: str = "general"


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
        if not self.fingerprint:
            for o in self.offerings:
                h.update(repr(o).encode())
            for d in self.databases:
                h.update(repr(d).encode())
            for s in self.storage:
                h.update(repr(s).encode())
        return h.hexdigest()


_GEO_PREFIXES = (
    # (prefix, geo): the clouds' own naming; Azure names carry the geography inside the name
    ("us", "us"), ("northamerica", "ca"), ("ca-", "ca"), ("canada", "ca"), ("eu", "eu"), ("europe", "eu"),
    ("uk", "eu"), ("france", "eu"), ("germany", "eu"), ("sweden", "eu"), ("norway", "eu"), ("switzerland", "eu"),
    ("poland", "eu"), ("italy", "eu"), ("spain", "eu"), ("ap-", "apac"), ("asia", "apac"), ("australia", "apac"),
    ("japan", "apac"), ("korea", "apac"), ("southeastasia", "apac"), ("eastasia", "apac"), ("centralindia", "apac"),
    ("southindia", "apac"), ("westindia", "apac"), ("jioindia", "apac"), ("newzealand", "apac"), ("sa-", "sa"),
    ("southamerica", "sa"), ("brazil", "sa"), ("me-", "me"), ("il-", "me"), ("uae", "me"), ("qatar", "me"),
    ("israel", "me"), ("af-", "af"), ("africa", "af"), ("southafrica", "af"),
)


def geo_of_region_name(name: str) -> str:
    """A region's geography from its name alone, for regions the embedded metadata does not list."""
    lowered = name.lower()
    if lowered.endswith("us") or lowered.endswith("us2") or "us3" in lowered:
        return "us"  # azure: eastus, westus2, northcentralus ...
    for prefix, geo in _GEO_PREFIXES:
        if lowered.startswith(prefix):
            return geo
    for needle, geo in (("europe", "eu"), ("asia", "apac"), ("india", "apac")):
        if needle in lowered:
            return geo
    return "other"
