"""A refresh of the live catalog: ask each cloud's discovery for its stale sources, cache each, write the catalog.

The discoveries are the providers' (``cloudorch.provider.Discovery``), handed in by the caller, so the
catalog stage never imports the plugin contract. Each source is cached as soon as it is fetched, and the
catalog directory is written from the cache once at the end (atomically, ``live.write_live_catalog``):
a refresh killed between the two leaves the old catalog in place and the sources already fetched cached.
"""

from __future__ import annotations

import hashlib

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudorch.catalog.cache import DiscoveryCache
from cloudorch.catalog.live import SOURCE_FIELDS, SourceEntry, live_catalog_dir, write_live_catalog
from cloudorch.errors import UsageError


@dataclass(frozen=True)
class RefreshEvent:
    """One step of a refresh, for progress output: a source fetched, still fresh, skipped or failed."""

    cloud: str
    source: str  # "" for the cloud as a whole
    #: started (a source is being read: nothing settled yet) | fetched | fresh | skipped | failed
    status: str
    detail: str = ""
    seconds: float = 0.0
    requests: int = 0
    #: how many sources this cloud's refresh goes through (a progress bar's length); 0 when not known
    sources: int = 0

    @property
    def settled(self) -> bool:
        """Whether this event ends its source (or its cloud): every status but ``started``."""
        return self.status != "started"

    def to_dict(self) -> dict[str, Any]:
        return {"event": "catalog.refresh", "cloud": self.cloud, "source": self.source, "status": self.status,
                "detail": self.detail, "seconds": round(self.seconds, 3), "requests": self.requests}


@dataclass(frozen=True)
class RefreshResult:
    directory: Path
    events: tuple[RefreshEvent, ...]
    #: cloud -> why it was not read at all
    skipped: Mapping[str, str] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(e.requests for e in self.events)


def refresh(discoveries: Mapping[str, Any], regions: Mapping[str, Sequence[str]], cache: DiscoveryCache, *,
            stale_only: bool = True, progress: Callable[[RefreshEvent], None] | None = None) -> RefreshResult:
    """Fetch what is stale (or everything, ``stale_only=False``) of each cloud in ``discoveries`` (cloud ->
    ``Discovery``) for ``regions`` (cloud -> region names; empty: every region the cloud has), then write
    the live catalog from every cached entry, of these clouds and others."""
    events: list[RefreshEvent] = []
    skipped: dict[str, str] = {}

    def report(event: RefreshEvent) -> None:
        events.append(event)
        if progress is not None:
            progress(event)

    for cloud, discovery in sorted(discoveries.items()):
        wanted = tuple(regions.get(cloud, ()))
        reason = discovery.unavailable()
        if reason:
            skipped[cloud] = reason
            report(RefreshEvent(cloud, "", "skipped", reason))
            continue
        scopes = sorted(str(s) for s in discovery.scopes if str(s) in SOURCE_FIELDS)
        n = len(scopes)
        for source in scopes:
            if stale_only and not cache.stale(cloud, source, wanted):
                report(RefreshEvent(cloud, source, "fresh", f"fetched {ago(cache.get(cloud, source).age())}", sources=n))
                continue
            report(RefreshEvent(cloud, source, "started", sources=n))
            started = time.monotonic()
            found = discovery.discover(wanted, frozenset({_scope(discovery, source)}))
            rows = {name: tuple(getattr(found, name)) for name in SOURCE_FIELDS[source]}
            entry = SourceEntry(fetched_at=found.fetched_at.get(source, time.time()), regions=wanted, rows=rows,
                                missing=tuple(found.missing), requests=found.requests)
            seconds = time.monotonic() - started
            if found.missing and not any(rows.values()):
                # nothing read at all: keep what the cache had, and say why
                report(RefreshEvent(cloud, source, "failed", "; ".join(found.missing[:3]), seconds, found.requests, n))
                continue
            cache.put(cloud, source, entry)
            count = sum(len(v) for v in rows.values())
            detail = f"{count} rows" + (f"; missing: {'; '.join(found.missing[:3])}" if found.missing else "")
            report(RefreshEvent(cloud, source, "fetched", detail, seconds, found.requests, n))
    directory = write_live_catalog(live_catalog_dir(cache.root), cache.entries(), skipped)
    return RefreshResult(directory, tuple(events), skipped)


def _scope(discovery: Any, source: str) -> Any:
    """The discovery's own scope object for ``source`` (its enum member), so it may compare by identity."""
    return next(s for s in discovery.scopes if str(s) == source)


class CatalogTooOld(UsageError):
    """A live catalog older than the run allows (``plan --max-catalog-age``): exit 2, like any input that
    must change before the run can go on; CI sees it before a plan is made on stale prices or quotas."""


def ago(seconds: float) -> str:
    """An age as people say it: "40 s ago", "12 min ago", "3.0 h ago"."""
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"



def restricted_offerings(directory: Path, clouds: Sequence[str]) -> tuple[tuple[Any, str], ...]:
    """(offering, reason) for each type a region refuses the account as a whole (a zone's refusal leaves the
    type in the region's other zones: not an exclusion), where the catalog says what the type is. The price
    is unknown or beside the point: such an offering is named, never placed."""
    from cloudorch.catalog.live import read_restrictions
    from cloudorch.catalog.model import Offering, category_of

    found = []
    for cloud, rows in sorted(read_restrictions(directory).items()):
        if cloud not in clouds:
            continue
        for r in rows:
            m = r.machine
            if r.zone or m is None:
                continue
            found.append((Offering(cloud, r.region, r.instance_type, m.vcpus, m.memory_gib, m.arch, 0.0,
                                   accelerator=m.accelerator, accelerator_count=m.accelerator_count,
                                   category=category_of(cloud, r.instance_type, "gpu" if m.accelerator else "general")),
                          r.reason))
    return tuple(found)


def spot_scores_of(directory: Path, clouds: Sequence[str]) -> dict[tuple[str, str, str], int]:
    """(cloud, region, instance type) -> spot placement score, for the ``clouds`` read live."""
    from cloudorch.catalog.live import read_spot_scores

    return {(cloud, s.region, s.instance_type): s.score
            for cloud, rows in sorted(read_spot_scores(directory).items()) if cloud in clouds for s in rows}


def load_live_catalog(cache_root: Path, adapters: Mapping[str, Any], fallback: Any = None) -> Any:
    """The live catalog as a ``Catalog``: the discovered clouds read like any SkyPilot directory, with
    ``source`` naming it and ``as_of`` the fetch time of its oldest part (UTC). ``fallback`` (a
    ``Catalog``, normally the embedded one) supplies the installed clouds discovery did not read, and the
    source says so: a plan on a partial live catalog states which clouds are not live."""
    from dataclasses import replace

    from cloudorch.catalog import load_catalog
    from cloudorch.catalog.live import oldest_fetch, read_manifest
    directory = live_catalog_dir(cache_root)
    manifest = read_manifest(directory)
    hint = "run `cloudorch catalog refresh` (credentials come from each cloud's standard chain)"
    if manifest is None:
        raise UsageError(f"there is no live catalog in {directory} yet", hint=hint)
    live_clouds = sorted(c for c in manifest.get("clouds", {}) if c in adapters and (directory / c / "vms.csv").is_file())
    if not live_clouds:
        skipped = "; ".join(f"{c}: {r}" for c, r in sorted(manifest.get("skipped", {}).items()))
        raise UsageError("the live catalog holds no cloud" + (f" (skipped: {skipped})" if skipped else ""), hint=hint)
    catalog = load_catalog(str(directory.resolve()), {c: adapters[c] for c in live_clouds})
    restricted, scores = restricted_offerings(directory, live_clouds), spot_scores_of(directory, live_clouds)
    # an hourly refresh may change only these: a saved plan must see that the catalog changed under it
    extras = hashlib.sha256(repr((restricted, sorted(scores.items()))).encode()).hexdigest()
    catalog = replace(catalog, restricted=restricted, spot_scores=scores,
                      fingerprint=f"{catalog.fingerprint}+extras:{extras}")
    oldest = oldest_fetch(manifest)
    as_of = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(oldest)) if oldest else "unknown"
    source = f"live:{'+'.join(live_clouds)}"
    others = sorted(set(adapters) - set(live_clouds))
    if fallback is not None and others:
        keep = set(others)
        catalog = replace(
            catalog,
            regions=catalog.regions + tuple(r for r in fallback.regions if r.cloud in keep),
            offerings=catalog.offerings + tuple(o for o in fallback.offerings if o.cloud in keep),
            databases=catalog.databases + tuple(d for d in fallback.databases if d.cloud in keep),
            storage=catalog.storage + tuple(s for s in fallback.storage if s.cloud in keep),
            fingerprint=catalog.fingerprint + f"+{fallback.source}/{fallback.as_of}:{','.join(others)}",
        )
        source += f" ({fallback.source} {fallback.as_of} for {', '.join(others)})"
    return replace(catalog, source=source, as_of=as_of)
