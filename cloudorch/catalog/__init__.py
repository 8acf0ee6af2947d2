"""Catalogs of offerings and prices: the embedded one, or SkyPilot-format catalogs from disk."""

from cloudorch.catalog.model import Catalog, DatabaseOffering, Offering, Region, StoragePrice

__all__ = ["Catalog", "DatabaseOffering", "Offering", "Region", "StoragePrice", "load_catalog"]


def load_catalog(directory: str | None = None) -> Catalog:
    """The embedded catalog, or machine offerings from a SkyPilot catalog directory on top of it."""
    from cloudorch.catalog.embedded import embedded_catalog

    if directory is None:
        return embedded_catalog()
    from pathlib import Path

    from cloudorch.catalog.cache import cached
    from cloudorch.catalog.skypilot import CLOUDS, read_skypilot_catalog

    return cached(Path(directory), CLOUDS, lambda: read_skypilot_catalog(directory))
