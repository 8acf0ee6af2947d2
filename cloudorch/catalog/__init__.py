"""Catalogs of offerings and prices: the embedded one, or SkyPilot-format catalogs from disk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from cloudorch.catalog.adapter import SkyPilotAdapter
from cloudorch.catalog.cache import cached
from cloudorch.catalog.embedded import embedded_catalog
from cloudorch.catalog.model import Catalog, DatabaseOffering, Offering, Region, StoragePrice
from cloudorch.catalog.network import NetworkPrices, network_prices
from cloudorch.catalog.skypilot import read_skypilot_catalog

__all__ = ["Catalog", "DatabaseOffering", "NetworkPrices", "Offering", "Region", "StoragePrice", "load_catalog",
           "network_prices"]


def load_catalog(directory: str | None = None, adapters: Mapping[str, SkyPilotAdapter] | None = None) -> Catalog:
    """The embedded catalog, or machine offerings from a SkyPilot catalog directory on top of it.

    A directory is read with ``adapters`` (cloud -> the provider's ``SkyPilotAdapter``), normally the
    installed providers' (``cloudorch.plugins.catalog_adapters()``).
    """
    if directory is None:
        return embedded_catalog()
    if adapters is None:
        raise TypeError("reading a SkyPilot catalog needs the providers' adapters (cloud -> SkyPilotAdapter)")
    # attached after the disk cache, not inside it: a cached catalog must never carry stale network prices
    return replace(cached(Path(directory), adapters, lambda: read_skypilot_catalog(directory, adapters)),
                   network=network_prices())
