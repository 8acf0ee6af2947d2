"""The live catalog: what discovery read from the clouds' accounts, written as a SkyPilot catalog directory.

Discovery (``cloudorch.provider.Discovery``, one per provider plugin) returns rows of the types below, one
source at a time; each source is cached with its fetch time (``cache.DiscoveryCache``). From those
entries ``write_live_catalog`` builds a directory in SkyPilot's layout, so the existing reader
(``skypilot.read_skypilot_catalog``, with each provider's adapter) loads it like any ``--catalog DIR``,
plus cloudorch's extras beside each ``vms.csv``: ``quotas.csv``, ``restrictions.csv`` and
``spot_scores.csv`` (AWS spot placement scores, read with the offerings: same fetch time, same TTL), and a
``manifest.json`` saying when each part was fetched and what is missing.

The directory is replaced atomically: the new one is written under a fresh name and a symlink is swapped
onto it with one ``os.replace``, so a refresh that fails or is killed half way leaves the previous
catalog whole (why not rename the directory: a directory cannot be renamed over a non-empty one, and
removing the old one first opens a window with no catalog at all).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

ZONES, OFFERINGS, PRICES, QUOTAS = "zones", "offerings", "prices", "quotas"
#: which ``Discovered`` fields each source fills: the unit of caching and of age
SOURCE_FIELDS: dict[str, tuple[str, ...]] = {
    # spot placement scores ride with the offerings: both say what the account can get where, and both go
    # stale within the hour (a scope of their own would make every other cloud's discovery answer for it)
    ZONES: ("regions",), OFFERINGS: ("machines", "restrictions", "spot_scores"), PRICES: ("prices",),
    QUOTAS: ("quotas",),
}
#: seconds a source stays fresh: prices move daily, what an account may launch and use changes faster
DEFAULT_TTL: dict[str, int] = {ZONES: 3600, OFFERINGS: 3600, PRICES: 86400, QUOTAS: 3600}
VMS_COLUMNS = ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "Price", "SpotPrice",
               "Region", "AvailabilityZone", "Arch")
MANIFEST = "manifest.json"
SPOT_SCORE_COLUMNS = ("Region", "InstanceType", "Score", "Group", "TargetCapacity")


class MachineType(NamedTuple):
    """A machine type a region lists, and the zones that offer it to this account (empty: none, unless
    ``regional``: offered in the region without a zone, as in Azure regions without zones)."""

    region: str
    instance_type: str
    vcpus: float
    memory_gib: float
    arch: str
    accelerator: str | None = None
    accelerator_count: int = 0
    zones: tuple[str, ...] = ()
    regional: bool = False


class Price(NamedTuple):
    """USD per hour, Linux; a spot price may be per zone (``zone``), an on-demand one is per region."""

    region: str
    instance_type: str
    usd_hour: float
    spot: bool = False
    zone: str = ""


class Quota(NamedTuple):
    """One vCPU limit of the account in a region and what runs under it: a family group's (AWS's groups,
    Azure's and GCP's families), or with ``total`` the region's cap over every family together (Azure's
    "Total Regional vCPUs")."""

    region: str
    name: str
    limit_vcpus: float
    used_vcpus: float = 0.0
    code: str = ""
    total: bool = False

    @property
    def headroom(self) -> float:
        return max(0.0, self.limit_vcpus - self.used_vcpus)


class Restriction(NamedTuple):
    """An offering the account may not use, with the cloud's reason (AWS: a type no zone offers). ``machine``:
    what the type is, where the discovery knows it and it is not among the machines read (a size Azure
    restricts in the whole region), so `plan --explain` can tell which resources it would have fitted."""

    region: str
    instance_type: str
    reason: str
    zone: str = ""
    machine: MachineType | None = None


class SpotScore(NamedTuple):
    """A spot placement score (1-10: how likely a spot request for ``target_capacity`` instances succeeds now)
    of ``instance_type``'s region, as the cloud scored the ``group`` of types it was asked about together."""

    region: str
    instance_type: str
    score: int
    group: str = ""
    target_capacity: int = 1


@dataclass(frozen=True)
class SourceEntry:
    """One cloud's one source, as fetched: its rows by field, when, for which regions, what is missing."""

    fetched_at: float
    regions: tuple[str, ...]
    rows: Mapping[str, tuple] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    requests: int = 0

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.fetched_at)


def ttl_of(source: str) -> int:
    """The source's TTL in seconds: ``CLOUDORCH_TTL_<SOURCE>`` (e.g. ``CLOUDORCH_TTL_PRICES=3600``) or the default."""
    text = os.environ.get(f"CLOUDORCH_TTL_{source.upper()}", "")
    try:
        return int(text) if text.strip() else DEFAULT_TTL[source]
    except ValueError:
        return DEFAULT_TTL[source]


def one_line(exc: BaseException) -> str:
    """An error as one line for ``missing`` and skip reasons: its type and the first line of its message
    (an SDK's ``message`` when it has one), never a traceback."""
    message = str(getattr(exc, "message", None) or exc or type(exc).__name__).strip()
    return f"{type(exc).__name__}: {message.splitlines()[0][:200] if message else ''}"


#: what a discovery reads for one scope: region -> field -> rows, or the error that region failed with
ScopeRows = Mapping[str, "Mapping[str, list] | Exception"]


def gather(scopes: Iterable[str], regions: Sequence[str], read: Callable[[str], ScopeRows],
           missing: list[str]) -> tuple[dict[str, tuple], dict[str, float]]:
    """Run ``read(scope)`` for each scope and keep the rows of ``regions`` (all it found, if empty): the
    ``Discovered`` fields those scopes fill and when each was fetched. A scope that fails as a whole, a
    region that failed, and a region the cloud does not have are each a line of ``missing``, not a crash."""
    found: dict[str, list] = defaultdict(list)
    fetched_at: dict[str, float] = {}
    for scope in sorted(scopes):
        fetched_at[scope] = time.time()
        try:
            by_region = read(scope)
        except Exception as exc:  # noqa: BLE001 - a listing that fails is a gap, said
            missing += [f"{scope} {r}: {one_line(exc)}" for r in (regions or ["all regions"])]
            continue
        for region in list(regions) or sorted(by_region):
            rows = by_region.get(region)
            if rows is None:
                missing.append(f"{scope} {region}: the account lists no such region")
            elif isinstance(rows, Exception):
                missing.append(f"{scope} {region}: {one_line(rows)}")
            else:
                for name, values in rows.items():
                    found[name] += values
    return {name: tuple(found[name]) for scope in fetched_at for name in SOURCE_FIELDS[scope]}, fetched_at


def live_catalog_dir(cache_root: Path) -> Path:
    """Where the live catalog is read from: a symlink onto the last complete write."""
    return cache_root / "live"


# --- writing ------------------------------------------------------------------------------------------------

def write_live_catalog(link: Path, entries: Mapping[str, Mapping[str, SourceEntry]],
                       skipped: Mapping[str, str] | None = None) -> Path:
    """Write the catalog of ``entries`` (cloud -> source -> entry) and swap ``link`` onto it; returns the
    directory written. ``skipped``: clouds not read at all, with the reason (shown by `catalog show`)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    target = link.parent / f"live-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    partial = target.with_name(target.name + ".partial")
    try:
        partial.mkdir()
        for cloud, sources in sorted(entries.items()):
            _write_cloud(partial / cloud, sources)
        manifest = {
            "written_at": time.time(),
            "skipped": dict(skipped or {}),
            "clouds": {cloud: {source: {"fetched_at": e.fetched_at, "ttl": ttl_of(source), "regions": list(e.regions),
                                        "missing": list(e.missing), "requests": e.requests}
                               for source, e in sorted(sources.items())}
                       for cloud, sources in sorted(entries.items())},
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        partial.rename(target)
        _swap(link, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _remove_old(link, keep=target)
    return target


def _swap(link: Path, target: Path) -> None:
    staged = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}")
    staged.symlink_to(target.name, target_is_directory=True)  # relative: the cache directory may move
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a plain directory left by hand: the symlink takes its place
    os.replace(staged, link)


def _remove_old(link: Path, keep: Path) -> None:
    for old in link.parent.glob("live-*"):
        if old.name != keep.name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _write_cloud(directory: Path, sources: Mapping[str, SourceEntry]) -> None:
    directory.mkdir()
    rows = lambda source, name: sources[source].rows.get(name, ()) if source in sources else ()  # noqa: E731
    on_demand = {(p.region, p.instance_type): p.usd_hour for p in rows(PRICES, "prices") if not p.spot}
    spot: dict[tuple[str, str, str], float] = {}
    for p in rows(PRICES, "prices"):
        if p.spot:
            spot[(p.region, p.instance_type, p.zone)] = p.usd_hour
    restrictions = list(rows(OFFERINGS, "restrictions"))
    with (directory / "vms.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(VMS_COLUMNS)
        for m in sorted(rows(OFFERINGS, "machines")):
            price = on_demand.get((m.region, m.instance_type))
            if price is None:
                # a type without a Linux on-demand price cannot be placed: said, not written as an unpriced row
                if PRICES in sources:
                    restrictions.append(Restriction(m.region, m.instance_type, "no Linux on-demand price listed"))
                continue
            for zone in m.zones or (("",) if m.regional else ()):
                zone_spot = spot.get((m.region, m.instance_type, zone), spot.get((m.region, m.instance_type, "")))
                out.writerow((m.instance_type, m.accelerator or "", m.accelerator_count if m.accelerator else "",
                              _num(m.vcpus), _num(m.memory_gib), _num(price),
                              "" if zone_spot is None else _num(zone_spot), m.region, zone, m.arch))
    _write_rows(directory / "quotas.csv", ("Region", "Quota", "Code", "LimitVCPUs", "UsedVCPUs", "Scope"),
                ((q.region, q.name, q.code, _num(q.limit_vcpus), _num(q.used_vcpus), "region" if q.total else "family")
                 for q in sorted(rows(QUOTAS, "quotas"))))
    machines = {(m.region, m.instance_type): m for m in rows(OFFERINGS, "machines")}
    _write_rows(directory / "restrictions.csv", ("Region", "InstanceType", "Zone", "Reason") + _SPEC_COLUMNS,
                ((r.region, r.instance_type, r.zone, r.reason) + _spec(r.machine or machines.get((r.region, r.instance_type)))
                 for r in sorted(restrictions, key=lambda r: r[:4])))
    _write_rows(directory / "spot_scores.csv", SPOT_SCORE_COLUMNS,
                ((s.region, s.instance_type, s.score, s.group, s.target_capacity)
                 for s in sorted(rows(OFFERINGS, "spot_scores"))))
    _write_rows(directory / "zones.csv", ("Region", "Zones"),
                ((r.name, ";".join(r.zones)) for r in sorted(rows(ZONES, "regions"), key=lambda r: r.name)))


#: what a restricted type is, beside its restriction (empty where the discovery did not say)
_SPEC_COLUMNS = ("vCPUs", "MemoryGiB", "Arch", "AcceleratorName", "AcceleratorCount")


def _spec(m: MachineType | None) -> tuple:
    if m is None:
        return ("",) * len(_SPEC_COLUMNS)
    return (_num(m.vcpus), _num(m.memory_gib), m.arch, m.accelerator or "", m.accelerator_count if m.accelerator else "")


def _write_rows(path: Path, header: tuple[str, ...], rows: Iterable[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        out.writerows(rows)


def _num(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


# --- reading ------------------------------------------------------------------------------------------------

def read_manifest(directory: Path) -> dict | None:
    """The manifest of the live catalog at ``directory``, or None when there is none (never refreshed)."""
    try:
        return json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def oldest_fetch(manifest: Mapping) -> float | None:
    """When the oldest part of the catalog was fetched: the age the catalog as a whole is honest about."""
    times = [s["fetched_at"] for sources in manifest.get("clouds", {}).values() for s in sources.values()]
    return min(times) if times else None


def read_quotas(directory: Path) -> dict[str, list[Quota]]:
    """cloud -> its quotas, from each ``<cloud>/quotas.csv`` of a live catalog."""
    found: dict[str, list[Quota]] = {}
    for path in sorted(directory.glob("*/quotas.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            found[path.parent.name] = [
                Quota(row["Region"], row["Quota"], float(row["LimitVCPUs"]), float(row["UsedVCPUs"] or 0), row["Code"],
                      row.get("Scope") == "region")
                for row in csv.DictReader(handle)
            ]
    return found


def vcpu_quotas(quotas: Mapping[str, Iterable[Quota]]) -> dict[str, float]:
    """Placement's vCPU quotas ("cloud/region" -> vCPUs still free) from the account's quotas.

    Placement knows one vCPU limit per region; an account has one per instance family group. The sum of
    the groups' headroom is never tighter than the truth, so a quota read live can only rule out what the
    account really cannot run anywhere in the region; the per-group rows stay in ``quotas.csv``. Where the
    cloud also caps the region as a whole (Azure), the smaller of that cap and the sum holds.
    """
    families: dict[str, float] = defaultdict(float)
    caps: dict[str, float] = {}
    for cloud, rows in quotas.items():
        for q in rows:
            key = f"{cloud}/{q.region}"
            if q.total:
                caps[key] = min(caps.get(key, q.headroom), q.headroom)
            else:
                families[key] += q.headroom
    return {key: min(v for v in (families.get(key), caps.get(key)) if v is not None)
            for key in sorted(set(families) | set(caps))}


def read_spot_scores(directory: Path) -> dict[str, list[SpotScore]]:
    """cloud -> its spot placement scores, from each ``<cloud>/spot_scores.csv`` (none in a catalog written
    before they were read, or by a cloud that has none)."""
    found: dict[str, list[SpotScore]] = {}
    for path in sorted(directory.glob("*/spot_scores.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            found[path.parent.name] = [SpotScore(r["Region"], r["InstanceType"], int(r["Score"]), r["Group"],
                                                 int(r["TargetCapacity"] or 1)) for r in csv.DictReader(handle)]
    return found


def read_restrictions(directory: Path) -> dict[str, list[Restriction]]:
    """cloud -> its restrictions, each with the machine it restricts where the catalog says what it is."""
    found: dict[str, list[Restriction]] = {}
    for path in sorted(directory.glob("*/restrictions.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            found[path.parent.name] = [Restriction(r["Region"], r["InstanceType"], r["Reason"], r["Zone"], _machine(r))
                                       for r in csv.DictReader(handle)]
    return found


def _machine(row: Mapping[str, str]) -> MachineType | None:
    try:  # a catalog written before the columns existed, or a type the discovery could not describe: None
        vcpus, memory = float(row["vCPUs"]), float(row["MemoryGiB"])
    except (KeyError, TypeError, ValueError):
        return None
    accelerator = row.get("AcceleratorName") or None
    return MachineType(row["Region"], row["InstanceType"], vcpus, memory, row.get("Arch") or "x86_64", accelerator,
                       int(row.get("AcceleratorCount") or 0) if accelerator else 0)
