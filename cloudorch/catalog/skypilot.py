"""Read catalogs laid out as SkyPilot publishes them: ``DIR/<cloud>/vms.csv``.

Columns are found by header name, since their order differs by cloud. AWS rows are per availability-zone
ID; they are merged into one offering per region and type, whose ``zones`` are the zones offering it (the
planner's availability score counts them). Azure rows carry no zones. An empty ``SpotPrice`` means no spot
offering. Rows that cannot be parsed are kept as ``ParseIssue``s and reported, never silently dropped.

Databases and object storage are not in SkyPilot's catalogs: they come from the embedded catalog.
"""

from __future__ import annotations

import csv
import math
import hashlib
import re
from collections import defaultdict
from pathlib import Path

from cloudorch.catalog.embedded import embedded_databases_and_storage, embedded_regions
from cloudorch.catalog.model import Catalog, Offering, ParseIssue, Region, geo_of_region_name
from cloudorch.errors import UsageError

CLOUDS = ("aws", "azure", "gcp")
REQUIRED = ("InstanceType", "vCPUs", "MemoryGiB", "Price", "Region")


def _number(text: str, what: str, *, positive: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{what} {text!r} is out of range")
    return value


def read_skypilot_catalog(directory: str | Path) -> Catalog:
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"catalog directory {str(root)!r} does not exist",
                         hint="pass a directory holding <cloud>/vms.csv files, as SkyPilot lays them out")
    files = {cloud: root / cloud / "vms.csv" for cloud in CLOUDS if (root / cloud / "vms.csv").is_file()}
    if not files:
        raise UsageError(f"no <cloud>/vms.csv under {str(root)!r}", hint="expected e.g. aws/vms.csv, gcp/vms.csv")

    known_regions, _ = embedded_regions()
    known = {(r.cloud, r.name): r for r in known_regions}
    offerings: list[Offering] = []
    issues: list[ParseIssue] = []
    regions: dict[tuple[str, str], set[str]] = defaultdict(set)
    digest = hashlib.sha256()
    for cloud, path in sorted(files.items()):
        digest.update(cloud.encode() + hashlib.sha256(path.read_bytes()).digest())
        offerings += _read_cloud(cloud, path, issues, regions)

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
        issues=tuple(issues), fingerprint=digest.hexdigest(),
    )


# GCP's accelerator-optimised hosts come with their GPUs attached, but SkyPilot prices the host and the
# GPUs on separate rows (host rows have empty accelerator columns; GPU rows an empty InstanceType).
_GCP_HOST_GPUS = (
    (re.compile(r"^a2-highgpu-(\d+)g$"), "A100", None),
    (re.compile(r"^a2-megagpu-(\d+)g$"), "A100", None),
    (re.compile(r"^a2-ultragpu-(\d+)g$"), "A100-80GB", None),
    (re.compile(r"^a3-(?:highgpu|megagpu|edgegpu)-(\d+)g$"), "H100", None),
    (re.compile(r"^g2-standard-(\d+)$"), "L4", {4: 1, 8: 1, 12: 1, 16: 1, 24: 2, 32: 1, 48: 4, 96: 8}),
)
_GCP_ARM_FAMILIES = ("t2a-", "c4a-", "n4a-")


def _gcp_host_accelerator(itype: str) -> tuple[str, int] | None:
    for pattern, name, by_size in _GCP_HOST_GPUS:
        match = pattern.match(itype)
        if match:
            n = int(match.group(1))
            return name, (by_size or {}).get(n, n) if by_size else n
    return None


def _read_cloud(cloud: str, path: Path, issues: list[ParseIssue], regions: dict) -> list[Offering]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                issues.append(ParseIssue(str(path), 1, f"missing column(s) {', '.join(missing)}; file skipped"))
                return []
            rows = [(reader.line_num, row) for row in reader]
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise UsageError(f"catalog file {str(path)!r} cannot be read as CSV: {exc}",
                         hint="SkyPilot catalogs are UTF-8 CSV files with a header row") from None

    gpu_prices: dict[tuple[str, str, str], tuple[float, float | None]] = {}
    if cloud == "gcp":
        for line, row in rows:
            if not (row.get("InstanceType") or "").strip() and (row.get("AcceleratorName") or "").strip():
                try:
                    key = (row["AcceleratorName"].strip(), row["Region"].strip(), (row.get("AvailabilityZone") or "").strip())
                    spot = (row.get("SpotPrice") or "").strip()
                    # full catalogs price 1, 2, 4, 8 ... GPUs on separate rows: keep the price of one
                    count = _number((row.get("AcceleratorCount") or "").strip() or "1", "AcceleratorCount", positive=True)
                    gpu_prices[key] = (_number(row.get("Price") or "", "Price") / count,
                                       _number(spot, "SpotPrice") / count if spot else None)
                except (ValueError, KeyError) as exc:
                    issues.append(ParseIssue(str(path), line, f"accelerator price row: {exc}"))

    merged: dict[tuple[str, str], dict] = {}
    for line, row in rows:
        if cloud == "gcp" and not (row.get("InstanceType") or "").strip() and (row.get("AcceleratorName") or "").strip():
            continue  # an accelerator price row, folded into its hosts above
        zone = (row.get("AvailabilityZone") or "").strip()
        try:
            parsed = _parse_row(row)
            if cloud == "gcp":
                _apply_gcp_quirks(parsed, zone, gpu_prices)
            elif cloud == "azure":
                _check_azure_bootable(parsed, row)
                if not (row.get("Arch") or "").strip() and _AZURE_ARM.match(parsed["instance_type"]):
                    parsed["arch"] = "arm64"
        except (ValueError, KeyError) as exc:
            issues.append(ParseIssue(str(path), line, str(exc)))
            continue
        region = parsed["region"]
        regions[(cloud, region)]  # noqa: B018 - registers the region even when it has no zones
        if zone:
            regions[(cloud, region)].add(zone)
        entry = merged.setdefault((region, parsed["instance_type"]), {**parsed, "zones": set(), "spots": []})
        entry["price"] = min(entry["price"], parsed["price"])
        if parsed["spot"] is not None:
            entry["spots"].append(parsed["spot"])
        if zone:
            entry["zones"].add(zone)
    out = []
    for (region, itype), e in sorted(merged.items()):
        spot = round(sum(e["spots"]) / len(e["spots"]), 6) if e["spots"] else None  # mean over zones
        out.append(Offering(
            cloud=cloud, region=region, instance_type=itype, vcpus=e["vcpus"], memory_gib=e["memory"],
            arch=e["arch"], price=e["price"], spot_price=spot, accelerator=e["accelerator"],
            accelerator_count=e["accelerator_count"], zones=tuple(sorted(e["zones"])),
        ))
    return out


# Azure's size names carry their features after the vCPU count; "p" marks an Arm (Ampere) processor:
# Standard_D2ps_v5, Standard_E4pds_v5, Standard_B2pls_v2. SkyPilot's Azure catalog has no Arch column.
_AZURE_ARM = re.compile(r"^Standard_[A-Z]+\d+[a-z]*p[a-z]*_v\d+")


def _check_azure_bootable(parsed: dict, row: dict[str, str]) -> None:
    """Keep only sizes the rendered images can boot: the images are Hyper-V generation 2, and promotional
    SKUs were retired (they stay in old catalogs). Skipped rows are reported like unparseable ones."""
    if parsed["instance_type"].endswith("_Promo"):
        raise ValueError(f"{parsed['instance_type']}: retired promotional SKU")
    generation = (row.get("Generation") or "").replace(" ", "")
    if generation and "V2" not in generation.split(","):
        raise ValueError(f"{parsed['instance_type']}: Generation {generation} only; the images used are generation 2")


def _apply_gcp_quirks(parsed: dict, zone: str, gpu_prices: dict) -> None:
    """GCP has no Arch column, and its GPU hosts are priced without their GPUs."""
    if parsed["instance_type"].startswith(_GCP_ARM_FAMILIES):
        parsed["arch"] = "arm64"
    host = _gcp_host_accelerator(parsed["instance_type"])
    if host is None or parsed["accelerator"]:
        return
    name, count = host
    gpu = gpu_prices.get((name, parsed["region"], zone))
    if gpu is None:
        raise ValueError(f"{parsed['instance_type']} in {zone or parsed['region']}: no {name} price row to add to the host price")
    parsed["accelerator"], parsed["accelerator_count"] = name, count
    parsed["price"] = round(parsed["price"] + count * gpu[0], 6)
    parsed["spot"] = (
        round(parsed["spot"] + count * gpu[1], 6) if parsed["spot"] is not None and gpu[1] is not None else None
    )


def _parse_row(row: dict[str, str]) -> dict | None:
    itype = (row.get("InstanceType") or "").strip()
    region = (row.get("Region") or "").strip()
    if not itype or not region:
        raise ValueError("empty InstanceType or Region")
    price_text = (row.get("Price") or "").strip()
    if not price_text:
        # SkyPilot lists some types with no on-demand price where they cannot be bought: not an error
        raise ValueError(f"{itype} in {region}: no on-demand Price")
    spot_text = (row.get("SpotPrice") or "").strip()
    acc = (row.get("AcceleratorName") or "").strip() or None
    acc_count_text = (row.get("AcceleratorCount") or "").strip()
    arch = (row.get("Arch") or "").strip().lower() or "x86_64"
    if arch in ("arm", "aarch64"):
        arch = "arm64"
    if arch not in ("x86_64", "arm64"):
        raise ValueError(f"{itype}: unknown Arch {arch!r}")
    return {
        "instance_type": itype, "region": region, "arch": arch,
        "vcpus": _number(row.get("vCPUs") or "", "vCPUs", positive=True),
        "memory": _number(row.get("MemoryGiB") or "", "MemoryGiB", positive=True),
        "price": _number(price_text, "Price"),
        "spot": _number(spot_text, "SpotPrice") if spot_text else None,
        "accelerator": acc,
        "accelerator_count": int(_number(acc_count_text, "AcceleratorCount")) if acc and acc_count_text else 0,
    }
