"""Read catalogs laid out as SkyPilot publishes them: ``DIR/<cloud>/vms.csv``.

The generic part lives here: a file per cloud whose provider is installed, columns found by header name
(their order differs by cloud), and the rows of one (region, instance type) merged into one offering whose
``zones`` are the zones offering it (SkyPilot lists a row per zone where a cloud has zones; the planner's
availability score counts them). Its price is the lowest of its rows, its spot price the mean. What each
cloud's rows mean comes from the cloud's provider, as a ``SkyPilotAdapter`` (``adapter.py``). Rows an
adapter skips are kept as ``ParseIssue``s (file, line, reason) and reported, never silently dropped.

Databases and object storage are not in SkyPilot's catalogs: they come from the embedded catalog.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from cloudorch.catalog.adapter import CsvRow, MachineRow, SkippedRow, SkyPilotAdapter
from cloudorch.catalog.embedded import embedded_databases_and_storage, embedded_regions
from cloudorch.catalog.model import Catalog, Offering, ParseIssue, Region, category_of, geo_of_region_name
from cloudorch.errors import UsageError

REQUIRED = ("InstanceType", "vCPUs", "MemoryGiB", "Price", "Region")


def catalog_files(root: Path, adapters: Mapping[str, SkyPilotAdapter]) -> dict[str, Path]:
    """cloud -> its ``vms.csv``, for the clouds an adapter reads (other clouds' files are not ours to read)."""
    return {cloud: root / cloud / "vms.csv" for cloud in sorted(adapters) if (root / cloud / "vms.csv").is_file()}


def source_digest(root: Path, adapters: Mapping[str, SkyPilotAdapter]) -> str:
    """What the parsed catalog depends on: every file read and the adapter that read it."""
    h = hashlib.sha256()
    for cloud, path in catalog_files(root, adapters).items():
        h.update(cloud.encode() + hashlib.sha256(path.read_bytes()).digest() + adapters[cloud].identity().encode())
    return h.hexdigest()


def read_skypilot_catalog(directory: str | Path, adapters: Mapping[str, SkyPilotAdapter]) -> Catalog:
    """Machine offerings from ``directory``; ``adapters`` (cloud -> adapter) are the installed providers'."""
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"catalog directory {str(root)!r} does not exist",
                         hint="pass a directory holding <cloud>/vms.csv files, as SkyPilot lays them out")
    files = catalog_files(root, adapters)
    if not files:
        expected = ", ".join(f"{cloud}/vms.csv" for cloud in sorted(adapters)) or "a <cloud>/vms.csv"
        raise UsageError(f"no <cloud>/vms.csv under {str(root)!r} for an installed provider",
                         hint=f"expected e.g. {expected}")

    known_regions, _ = embedded_regions()
    known = {(r.cloud, r.name): r for r in known_regions}
    offerings: list[Offering] = []
    issues: list[ParseIssue] = []
    regions: dict[tuple[str, str], set[str]] = defaultdict(set)
    for cloud, path in files.items():
        offerings += _read_cloud(cloud, path, adapters[cloud], issues, regions)
    if not offerings:
        # every row skipped (all prices negative, say): planning against nothing would only say "no offering"
        raise UsageError(f"no usable offering in the catalog {str(root)!r}: " + _examples(issues),
                         hint="SkyPilot catalogs list one machine per row with vCPUs, MemoryGiB, Price and Region")

    region_list = []
    for (cloud, name), zones in sorted(regions.items()):
        meta = known.get((cloud, name))
        region_list.append(Region(
            cloud, name, meta.geo if meta else geo_of_region_name(name),
            tuple(sorted(zones)) or (meta.zones if meta else ()), meta.display if meta else name,
        ))
    databases, storage = embedded_databases_and_storage()
    return Catalog(
        source=f"skypilot:{root}", as_of="see catalog files", regions=tuple(region_list),
        offerings=tuple(sorted(offerings, key=lambda o: (o.cloud, o.region, o.instance_type))),
        # managed databases and storage only exist where the embedded catalog prices them
        databases=tuple(d for d in databases if (d.cloud, d.region) in regions),
        storage=tuple(s for s in storage if (s.cloud, s.region) in regions),
        issues=tuple(issues), fingerprint=source_digest(root, adapters),
    )


def _rows(path: Path, issues: list[ParseIssue]) -> list[CsvRow]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                issues.append(ParseIssue(str(path), 1, f"missing column(s) {', '.join(missing)}; file skipped"))
                return []
            return [CsvRow(reader.line_num, row) for row in reader]
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise UsageError(f"catalog file {str(path)!r} cannot be read as CSV: {exc}",
                         hint="SkyPilot catalogs are UTF-8 CSV files with a header row") from None


def _read_cloud(cloud: str, path: Path, adapter: SkyPilotAdapter, issues: list[ParseIssue],
                regions: dict[tuple[str, str], set[str]]) -> list[Offering]:
    merged: dict[tuple[str, str], tuple[MachineRow, list[float], set[str], list[float]]] = {}
    rows = _rows(path, issues)
    skipped = len(issues)
    for result in adapter.read(rows):
        if isinstance(result, MachineRow) and (unusable := _unusable(result)):
            result = SkippedRow(result.line, unusable)
        if isinstance(result, SkippedRow):
            issues.append(ParseIssue(str(path), result.line, result.reason))
            continue
        zones = regions[(cloud, result.region)]  # registers the region even when it has no zones
        if result.zone:
            zones.add(result.zone)
        _, prices, offered_in, spots = merged.setdefault((result.region, result.instance_type),
                                                         (result, [], set(), []))
        prices.append(result.price)
        if result.spot_price is not None:
            spots.append(result.spot_price)
        if result.zone:
            offered_in.add(result.zone)
    if rows and not merged:
        raise UsageError(f"none of the {len(rows):,} rows of {str(path)!r} is a usable offering: "
                         + _examples(issues[skipped:]), hint="fix the file, or remove it to plan without that cloud")
    out = []
    for (region, itype), (row, prices, zones, spots) in sorted(merged.items()):
        out.append(Offering(
            cloud=cloud, region=region, instance_type=itype, vcpus=row.vcpus, memory_gib=row.memory_gib,
            arch=row.arch, price=min(prices), spot_price=round(sum(spots) / len(spots), 6) if spots else None,
            accelerator=row.accelerator, accelerator_count=row.accelerator_count, zones=tuple(sorted(zones)),
            category=category_of(cloud, itype),
        ))
    return out


def _unusable(row: MachineRow) -> str | None:
    """Why an adapter's row cannot be an offering, whatever the adapter (a provider's own may compute
    prices): the placement needs finite, non-negative prices and positive sizes."""
    checks = (("Price", row.price, False), ("SpotPrice", row.spot_price, False), ("vCPUs", row.vcpus, True),
              ("MemoryGiB", row.memory_gib, True), ("AcceleratorCount", row.accelerator_count, False))
    for what, value, positive in checks:
        if value is not None and (not math.isfinite(value) or value < 0 or (positive and value == 0)):
            return f"{row.instance_type}: {what} {value!r} is out of range"
    return None


def _examples(issues: list[ParseIssue]) -> str:
    shown = "; ".join(str(issue) for issue in issues[:3])
    return f"{len(issues):,} row(s) skipped, e.g. {shown}" if issues else "the files have no rows"
