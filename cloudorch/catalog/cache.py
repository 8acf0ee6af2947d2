"""A disk cache of parsed SkyPilot catalogs, keyed by the files' content.

A full SkyPilot catalog is ~100,000 rows; parsing it on every `plan` costs more than the placement itself.
diskcache gives a process-safe, size-bounded store (SQLite underneath) without a server. The key is the
content hash of every vms.csv, the identity of the provider adapter that reads it (its version and a
digest of its source) and the parser version, so neither an edited file nor a changed adapter is ever
served stale.
``CLOUDORCH_CACHE_DIR`` moves the cache; ``CLOUDORCH_NO_CACHE=1`` turns it off.

The same directory holds what live discovery fetched (``DiscoveryCache``) and the live catalog written
from it (``live.py``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from cloudorch.catalog.adapter import SkyPilotAdapter
from cloudorch.catalog.live import SourceEntry, ttl_of
from cloudorch.catalog.model import Catalog
from cloudorch.catalog.skypilot import source_digest

#: bump when the parser's output changes for the same input
PARSER_VERSION = "7"
SIZE_LIMIT = 512 * 1024 * 1024


def cache_dir() -> Path:
    explicit = os.environ.get("CLOUDORCH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cloudorch"


def content_key(directory: Path, adapters: Mapping[str, SkyPilotAdapter]) -> str:
    h = hashlib.sha256(f"skypilot/{PARSER_VERSION}/{directory.resolve()}".encode())
    h.update(source_digest(directory, adapters).encode())
    return h.hexdigest()


def cached(directory: Path, adapters: Mapping[str, SkyPilotAdapter], parse: Callable[[], Catalog]) -> Catalog:
    if os.environ.get("CLOUDORCH_NO_CACHE") or not directory.is_dir():
        return parse()
    try:
        import diskcache

        store = diskcache.Cache(str(cache_dir() / "catalogs"), size_limit=SIZE_LIMIT)
    except Exception:  # an unwritable home or a broken cache must never stop a plan: parse instead
        return parse()
    key = content_key(directory, adapters)
    with store:
        catalog = store.get(key)
        if isinstance(catalog, Catalog):
            return catalog
        catalog = parse()
        try:
            store.set(key, catalog)
        except Exception:
            pass  # caching is an optimisation only
        return catalog


class DiscoveryCache:
    """What discovery fetched: one entry per cloud x source (``live.SourceEntry``), with its fetch time.

    Entries never expire inside diskcache: a stale entry is still what ``--offline`` plans on (with its
    age shown), and only a refresh replaces it. Each entry is written whole by one ``set``, so a refresh
    killed half way keeps every source it finished and the previous value of the rest.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir()

    def _open(self):
        import diskcache

        return diskcache.Cache(str(self.root / "discovery"), size_limit=SIZE_LIMIT)

    @staticmethod
    def key(cloud: str, source: str) -> str:
        return f"live/{cloud}/{source}"

    def get(self, cloud: str, source: str) -> SourceEntry | None:
        with self._open() as store:
            entry = store.get(self.key(cloud, source))
        return entry if isinstance(entry, SourceEntry) else None

    def put(self, cloud: str, source: str, entry: SourceEntry) -> None:
        with self._open() as store:
            store.set(self.key(cloud, source), entry)

    def entries(self) -> dict[str, dict[str, SourceEntry]]:
        """cloud -> source -> entry, for every entry held."""
        found: dict[str, dict[str, SourceEntry]] = {}
        with self._open() as store:
            for key in store.iterkeys():
                if isinstance(key, str) and key.startswith("live/"):
                    entry = store.get(key)
                    if isinstance(entry, SourceEntry):
                        _, cloud, source = key.split("/", 2)
                        found.setdefault(cloud, {})[source] = entry
        return found

    def stale(self, cloud: str, source: str, regions: tuple[str, ...], now: float | None = None) -> bool:
        """Whether ``source`` of ``cloud`` must be fetched again for ``regions``: absent, older than its
        TTL, or fetched for other regions."""
        entry = self.get(cloud, source)
        return (entry is None or entry.age(now) > ttl_of(source)
                or not set(regions) <= set(entry.regions))

    def clear(self) -> int:
        """Forget every discovery entry; returns how many there were."""
        with self._open() as store:
            keys = [k for k in store.iterkeys() if isinstance(k, str) and k.startswith("live/")]
            for key in keys:
                store.delete(key)
        return len(keys)
