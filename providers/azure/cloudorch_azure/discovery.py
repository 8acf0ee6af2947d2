"""Live discovery from an Azure subscription: azure-mgmt-compute (imported here, lazily) and the Retail Prices API.

Per region: the VM sizes the subscription sees (``ComputeManagementClient.resource_skus.list``, filtered by
location) with their capabilities (vCPUs, MemoryGB, CpuArchitectureType, GPUs), the zones offering each and
the SKU's restrictions (a size restricted in the region is left out and listed with Azure's reason code; a
zone restriction takes that zone away), the region's zones (those the sizes are offered in), the compute
quotas with their usage (``usage.list``: the regional vCPU total and each family's), and Linux on-demand and
spot prices from the Retail Prices API (plain HTTPS, paged with ``NextPageLink``, no credentials).

Credentials: azure-identity's ``DefaultAzureCredential`` (environment, workload identity, managed identity,
Azure CLI, ...) and the subscription in ``AZURE_SUBSCRIPTION_ID`` (else ``ARM_SUBSCRIPTION_ID``, else the
Azure CLI's default); without either the cloud is skipped
with one line saying so (prices alone cannot place anything: they carry no sizes). Endpoints:
``CLOUDORCH_AZURE_MANAGEMENT_ENDPOINT`` (default ``https://management.azure.com``) and
``CLOUDORCH_AZURE_PRICES_ENDPOINT`` (default ``https://prices.azure.com/api/retail/prices``). Retries: the
SDK's own policy (429 with Retry-After, 5xx, connection errors) for management calls, ``catalog.http`` for
prices.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cloudorch.catalog.http import FetchError, JsonClient, same_origin
from cloudorch.catalog.live import MachineType, Price, Quota, Restriction, gather, one_line
from cloudorch.catalog.model import Region, geo_of_region_name
from cloudorch.provider import Discovered, Discovery, DiscoveryScope

MANAGEMENT_ENDPOINT = "https://management.azure.com"
PRICES_ENDPOINT = "https://prices.azure.com/api/retail/prices"
ENV_MANAGEMENT, ENV_PRICES = "CLOUDORCH_AZURE_MANAGEMENT_ENDPOINT", "CLOUDORCH_AZURE_PRICES_ENDPOINT"
#: the token audience stays Resource Manager's when the endpoint is a proxy or private link in front of it
MANAGEMENT_SCOPE = "https://management.azure.com/.default"
#: the usage row that caps every family together in a region
REGIONAL_VCPUS = "cores"
#: GPU models named in size names (Standard_NC24ads_A100_v4, Standard_NV36ads_A10_v5), longest first
_GPU_IN_NAME = re.compile(r"_(H200|H100|A100|A10|T4|V100|MI300X|L40S|L4)(?:_|$)")
#: families whose size names do not say the GPU: NCv3 and NDv2 carry V100s
_GPU_OF_FAMILY = {"standardncsv3family": "V100", "standardndsv2family": "V100"}


def management_endpoint() -> str:
    return (os.environ.get(ENV_MANAGEMENT) or MANAGEMENT_ENDPOINT).rstrip("/")


def prices_endpoint() -> str:
    return os.environ.get(ENV_PRICES) or PRICES_ENDPOINT


def _text(value: Any) -> str:
    """An SDK enum (``ResourceSkuRestrictionsType.LOCATION``) or plain string, as the API spells it."""
    return str(getattr(value, "value", value) or "")


class AzureDiscovery(Discovery):
    scopes = frozenset(DiscoveryScope)

    def __init__(self, credential_factory: Callable[[], Any] | None = None, http: JsonClient | None = None) -> None:
        self._credential_factory = credential_factory
        self._credential: Any = None
        self._http = http

    @property
    def subscription(self) -> str:
        # the Azure SDKs' variable, else the one Pulumi's azure-native reads, else `az login`'s default: a
        # machine set up to apply is set up to discover
        from cloudorch_azure.credentials import cli_default_subscription

        for name in ("AZURE_SUBSCRIPTION_ID", "ARM_SUBSCRIPTION_ID"):
            if os.environ.get(name, "").strip():
                return os.environ[name].strip()
        return cli_default_subscription(os.environ) or ""

    def credential(self) -> Any:
        if self._credential is None:
            if self._credential_factory is not None:
                self._credential = self._credential_factory()
            else:
                from azure.identity import DefaultAzureCredential

                # never a browser window or a device code in a refresh: the chain's non-interactive members only
                self._credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        return self._credential

    def unavailable(self) -> str | None:
        if not self.subscription:
            return ("no Azure subscription (set AZURE_SUBSCRIPTION_ID or ARM_SUBSCRIPTION_ID, or `az login`; "
                    "credentials come from DefaultAzureCredential)")
        try:
            self.credential().get_token(MANAGEMENT_SCOPE)
        except ImportError:
            return "azure-identity is not installed (pip install azure-identity)"
        except Exception as exc:  # noqa: BLE001 - every credential failure is a reason to skip, in one line
            return f"no Azure credentials: {one_line(exc)}"
        return None

    def endpoints(self) -> dict[str, str]:
        return {"management": management_endpoint(), "prices": prices_endpoint()}

    def discover(self, regions: Sequence[str], scopes: frozenset[DiscoveryScope]) -> Discovered:
        run = _Run(self)
        fields, fetched_at = gather(scopes & self.scopes, regions, lambda scope: run.read(scope, regions), run.missing)
        return Discovered(cloud="azure", fetched_at=fetched_at, missing=tuple(run.missing),
                          requests=run.requests + run.http.requests, **fields)


class _Run:
    """One discovery run: its management client, its price reader, the SKUs read so far, what it counted."""

    def __init__(self, discovery: AzureDiscovery) -> None:
        self.discovery = discovery
        self.endpoint = management_endpoint()
        self.prices_endpoint = prices_endpoint()
        self.http = discovery._http or JsonClient()
        self.requests = 0
        self.missing: list[str] = []
        self._client: Any = None
        self._skus: dict[str, list[Any]] = {}

    def call_options(self) -> dict[str, Any]:
        # azure-core refuses to send a bearer token over plain HTTP; a stand-in on this machine is the one
        # place that is harmless, so only a loopback endpoint lifts it
        host = urllib.parse.urlsplit(self.endpoint).hostname or ""
        loopback = self.endpoint.startswith("http://") and host in ("127.0.0.1", "localhost", "::1")
        return {"enforce_https": False} if loopback else {}

    def client(self) -> Any:
        if self._client is None:
            from azure.mgmt.compute import ComputeManagementClient

            self._client = ComputeManagementClient(
                self.discovery.credential(), self.discovery.subscription, base_url=self.endpoint,
                credential_scopes=[MANAGEMENT_SCOPE],
                # the SDK's retry policy backs off on 429 (honouring Retry-After), 5xx and dropped
                # connections; bounded so a dead endpoint costs seconds, not the SDK's default minutes
                retry_total=3, retry_backoff_factor=0.5, retry_backoff_max=30, connection_timeout=5, read_timeout=30,
                raw_response_hook=self._count)
        return self._client

    def _count(self, _response: Any) -> None:
        self.requests += 1

    def skus(self, region: str | None) -> list[Any]:
        """The virtualMachines SKUs the subscription sees in ``region`` (None: everywhere), read once a run."""
        key = region or ""
        if key not in self._skus:
            listing = self.client().resource_skus.list(
                filter=f"location eq '{region}'" if region else None, **self.call_options())
            self._skus[key] = [s for s in listing if _text(s.resource_type).lower() == "virtualmachines"]
        return self._skus[key]

    def all_regions(self) -> list[str]:
        return sorted({loc for s in self.skus(None) for loc in (s.locations or [])})

    def read(self, scope: str, regions: Sequence[str]) -> dict[str, Any]:
        """region -> rows of ``scope``, one region at a time: a region that fails is its error, not the scope's."""
        found: dict[str, Any] = {}
        for region in list(regions) or self.all_regions():
            try:
                found[region] = getattr(self, f"_{scope}")(region)
            except Exception as exc:  # noqa: BLE001 - said in ``missing`` by ``gather``
                found[region] = exc
        return found

    def _zones(self, region: str) -> dict[str, list]:
        zones = sorted({z for sku in self.skus(region) for info in _located(sku, region) for z in (info.zones or [])})
        return {"regions": [Region("azure", region, geo_of_region_name(region), tuple(zones), region)]}

    def _offerings(self, region: str) -> dict[str, list]:
        machines, restrictions = [], []
        for sku in sorted(self.skus(region), key=lambda s: s.name):
            machine, refused = read_sku(sku, region)
            restrictions += refused
            if machine is not None:
                machines.append(machine)
        return {"machines": machines, "restrictions": restrictions}

    def _quotas(self, region: str) -> dict[str, list]:
        quotas = []
        for usage in self.client().usage.list(region, **self.call_options()):
            code = usage.name.value if usage.name else ""
            if code == REGIONAL_VCPUS or code.lower().endswith("family"):
                name = (usage.name.localized_value or code) if usage.name else code
                quotas.append(Quota(region, name, float(usage.limit), float(usage.current_value or 0), code,
                                    total=code == REGIONAL_VCPUS))
        return {"quotas": quotas}

    def _prices(self, region: str) -> dict[str, list]:
        odata = (f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}' and priceType eq 'Consumption'")
        first = f"{self.prices_endpoint}?{urllib.parse.urlencode({'$filter': odata}, quote_via=urllib.parse.quote)}"
        items = (item for page in self.http.pages(first, lambda p: _next_link(self.prices_endpoint, p))
                 for item in _items(page))
        return {"prices": retail_prices(items, region)}


def _items(page: dict) -> list:
    items = page.get("Items")
    if not isinstance(items, list):
        raise FetchError("a Retail Prices page without its Items list")
    return items


def _next_link(endpoint: str, page: dict) -> str | None:
    link = page.get("NextPageLink")
    return same_origin(endpoint, link) if isinstance(link, str) and link else None


def _located(sku: Any, region: str) -> list[Any]:
    return [info for info in (sku.location_info or []) if (info.location or "").lower() == region.lower()]


def read_sku(sku: Any, region: str) -> tuple[MachineType | None, list[Restriction]]:
    """A VM size in ``region`` as a machine type (None when the subscription may not use it there) and the
    restrictions that apply to it, each with Azure's reason code."""
    caps = {c.name: c.value for c in (sku.capabilities or [])}
    zones = {z for info in _located(sku, region) for z in (info.zones or [])}
    refused: list[Restriction] = []
    blocked = False
    for r in sku.restrictions or []:
        info = r.restriction_info
        where = {loc.lower() for loc in ((info.locations if info else None) or r.values or [])}
        if region.lower() not in where:
            continue
        reason = _text(r.reason_code) or "restricted"
        if _text(r.type).lower() == "location":
            blocked = True
            refused.append(Restriction(region, sku.name, f"{reason}: not offered to this subscription in {region}"))
        else:
            for zone in sorted(set((info.zones if info else None) or []) & zones):
                zones.discard(zone)
                refused.append(Restriction(region, sku.name, f"{reason}: not offered in zone {zone}", zone))
    try:
        vcpus, memory = float(caps["vCPUs"]), float(caps["MemoryGB"])
    except (KeyError, TypeError, ValueError):
        return None, refused + [Restriction(region, sku.name, "its vCPUs or memory are not listed")]
    gpus = int(float(caps.get("GPUs") or 0))
    accelerator = None
    if gpus:
        named = _GPU_IN_NAME.search(sku.name)
        accelerator = named.group(1) if named else _GPU_OF_FAMILY.get((sku.family or "").lower(), "GPU")
    arch = "arm64" if (caps.get("CpuArchitectureType") or "").lower() == "arm64" else "x86_64"
    # a size whose every zone is restricted is still offered region-wide (without a zone), as Azure allows
    machine = MachineType(region, sku.name, vcpus, memory, arch, accelerator, gpus, tuple(sorted(zones)),
                          regional=not zones)
    if blocked:  # not offered; what it is stays with its restriction, for `plan --explain`
        return None, [r._replace(machine=machine) if not r.zone else r for r in refused]
    return machine, refused


def retail_prices(items: Iterable[dict], region: str) -> list[Price]:
    """Linux pay-as-you-go and spot prices per size from Retail Prices items: USD, per hour, Consumption
    (not DevTest or reservations), not Windows, not the retired Low Priority meters; where a size has
    several meters in the region, the primary meter region's, then the lowest."""
    best: dict[tuple[str, bool], tuple[bool, float]] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        size, meter, product = item.get("armSkuName"), str(item.get("meterName") or ""), str(item.get("productName") or "")
        if (not size or item.get("type") != "Consumption" or item.get("unitOfMeasure") != "1 Hour"
                or item.get("currencyCode", "USD") != "USD" or "Windows" in product or "Low Priority" in meter
                or str(item.get("armRegionName", region)).lower() != region.lower()):
            continue
        try:
            usd = float(item["retailPrice"])
        except (KeyError, TypeError, ValueError):
            continue
        if not usd > 0 or usd != usd or usd == float("inf"):
            continue
        key, rank = (size, meter.endswith("Spot")), (not item.get("isPrimaryMeterRegion", True), usd)
        if key not in best or rank < best[key]:
            best[key] = rank
    return [Price(region, size, usd, spot=spot) for (size, spot), (_, usd) in sorted(best.items())]
