"""Catalogs of offerings and prices: the embedded one, or SkyPilot-format catalogs from disk."""

from cloudorch.catalog.model import Catalog, DatabaseOffering, Offering, Region, StoragePrice
from cloudorch.catalog.network import NetworkPrices, network_prices

__all__ = ["Catalog", "DatabaseOffering", "NetworkPrices", "Offering", "Region", "StoragePrice", "load_catalog",
           "network_prices"]


def load_catalog(directory: str | None = None) -> Catalog:
    """The embedded catalog, or machine offerings from a SkyPilot catalog directory on top of it."""
    from cloudorch.catalog.embedded import embedded_catalog

    if directory is None:
        return embedded_catalog()
    from pathlib import Path

    from cloudorch.catalog.cache import cached
    from cloudorch.catalog.skypilot import CLOUDS, read_skypilot_catalog

    from dataclasses import replace

    # attached after the disk cache, not inside it: a cached catalog must never carry stale network prices
    return replace(cached(Path(directory), CLOUDS, lambda: read_skypilot_catalog(directory)),
                   network=network_prices())
