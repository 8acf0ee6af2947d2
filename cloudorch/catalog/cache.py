"""A disk cache of parsed SkyPilot catalogs, keyed by the files' content.

A full SkyPilot catalog is ~100,000 rows; parsing it on every `plan` costs more than the placement itself.
diskcache gives a process-safe, size-bounded store (SQLite underneath) without a server. The key is the
content hash of every vms.csv, the identity of the provider adapter that reads it (its version and a
digest of its source) and the parser version, so neither an edited file nor a changed adapter is ever
served stale.
``CLOUDORCH_CACHE_DIR`` moves the cache; ``CLOUDORCH_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from cloudorch.catalog.adapter import SkyPilotAdapter
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
