"""Live discovery from a Google Cloud project: google-cloud-compute (imported here, lazily) and the Cloud Billing
catalog (plain HTTPS).

Per region: its zones (``ZonesClient.list``, zones that are UP), machine types with vCPUs, memory, arch and
accelerators and the zones offering each (``MachineTypesClient.aggregated_list``; a GPU host is offered only
in the zones that also list its accelerator, ``AcceleratorTypesClient.aggregated_list``), the vCPU quotas
(``RegionsClient.list``: ``CPUS`` and each family's ``*_CPUS``, with their usage), and prices from the
Cloud Billing catalog of Compute Engine (``services/6F81-5844-456A/skus``): per-core and per-GiB-RAM rates
of each family and per-GPU rates, on-demand and spot ("Preemptible"), summed into a price per machine type.

Credentials: the standard chain (``google.auth.default``: ``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's
application-default login, the metadata server) and the project from ``GOOGLE_CLOUD_PROJECT`` or the
credentials; none is a one-line reason to skip the cloud. The billing catalog is public data but still
wants a caller: an API key in ``CLOUDORCH_GCP_API_KEY`` (sent as the ``X-goog-api-key`` header, never in a
URL) when set, else the same credentials' bearer token. Endpoints: ``CLOUDORCH_GCP_COMPUTE_ENDPOINT``
(default ``https://compute.googleapis.com``) and ``CLOUDORCH_GCP_BILLING_ENDPOINT`` (default
``https://cloudbilling.googleapis.com``). Retries: google-api-core's (exponential backoff on 429 and 5xx) for
Compute Engine, ``catalog.http`` (Retry-After honoured) for billing.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cloudorch.catalog.http import FetchError, JsonClient
from cloudorch.catalog.live import MachineType, Price, Quota, Restriction, gather, one_line
from cloudorch.catalog.model import Region, geo_of_region_name
from cloudorch.provider import Discovered, Discovery, DiscoveryScope

from cloudorch_gcp.catalog import ARM_FAMILIES

COMPUTE_ENDPOINT = "https://compute.googleapis.com"
BILLING_ENDPOINT = "https://cloudbilling.googleapis.com"
ENV_COMPUTE, ENV_BILLING, ENV_API_KEY = ("CLOUDORCH_GCP_COMPUTE_ENDPOINT", "CLOUDORCH_GCP_BILLING_ENDPOINT",
                                         "CLOUDORCH_GCP_API_KEY")
COMPUTE_SERVICE = "services/6F81-5844-456A"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
#: accelerator type names -> the names stack files use
ACCELERATORS = {"nvidia-tesla-a100": "A100", "nvidia-a100-80gb": "A100-80GB", "nvidia-h100-80gb": "H100",
                "nvidia-h100-mega-80gb": "H100", "nvidia-h200-141gb": "H200", "nvidia-l4": "L4",
                "nvidia-tesla-t4": "T4", "nvidia-tesla-v100": "V100", "nvidia-tesla-p100": "P100"}
#: a GPU SKU's description ("Nvidia Tesla A100 GPU running in Americas") -> the accelerator, longest first
_GPU_SKU = (("a100 80gb", "A100-80GB"), ("h100 80gb mega", "H100"), ("h100 80gb", "H100"), ("h200", "H200"),
            ("a100", "A100"), ("l4", "L4"), ("t4", "T4"), ("v100", "V100"), ("p100", "P100"))
#: "N2D AMD Instance Core running in Americas", "Spot Preemptible E2 Instance Ram running in Belgium"
_RATE_SKU = re.compile(r"^(?:Spot Preemptible |Preemptible )?(?P<family>.+?) (?:AMD |Intel |Arm )?Instance "
                       r"(?P<what>Core|Ram) running in ")
#: families the billing catalog names in words
_FAMILY_WORDS = {"compute optimized": "c2", "memory-optimized": "m1", "n1 predefined": "n1"}
#: metrics of regional vCPU quotas that are not a family's on-demand vCPUs
_NOT_ON_DEMAND = ("PREEMPTIBLE", "COMMITTED", "RESERVED")


def compute_endpoint() -> str:
    return os.environ.get(ENV_COMPUTE) or COMPUTE_ENDPOINT


def billing_endpoint() -> str:
    return (os.environ.get(ENV_BILLING) or BILLING_ENDPOINT).rstrip("/")


class GcpDiscovery(Discovery):
    scopes = frozenset(DiscoveryScope)

    def __init__(self, credentials_factory: Callable[[], tuple[Any, str | None]] | None = None,
                 http: JsonClient | None = None) -> None:
        self._credentials_factory = credentials_factory
        self._found: tuple[Any, str] | None = None
        self._http = http

    def credentials(self) -> tuple[Any, str]:
        """(credentials, project) from the standard chain; raises with the chain's reason when there are none."""
        if self._found is None:
            if self._credentials_factory is not None:
                credentials, project = self._credentials_factory()
            else:
                import google.auth

                credentials, project = google.auth.default(scopes=SCOPES)
            project = os.environ.get("GOOGLE_CLOUD_PROJECT") or project
            if not project:
                raise LookupError("no project: set GOOGLE_CLOUD_PROJECT")
            self._found = (credentials, project)
        return self._found

    def unavailable(self) -> str | None:
        try:
            self.credentials()
        except ImportError:
            return "google-auth is not installed (pip install google-cloud-compute)"
        except Exception as exc:  # noqa: BLE001 - every credential failure is a reason to skip, in one line
            return f"no Google Cloud credentials: {one_line(exc)}"
        return None

    def endpoints(self) -> dict[str, str]:
        return {"compute": compute_endpoint(), "billing": billing_endpoint()}

    def discover(self, regions: Sequence[str], scopes: frozenset[DiscoveryScope]) -> Discovered:
        run = _Run(self)
        fields, fetched_at = gather(scopes & self.scopes, regions, lambda scope: getattr(run, f"_{scope}")(), run.missing)
        return Discovered(cloud="gcp", fetched_at=fetched_at, missing=tuple(run.missing),
                          requests=run.requests + run.http.requests, **fields)


class _Run:
    """One discovery run: the project, the listings read so far (each read once), what it counted.

    Compute Engine lists machine types and accelerators for every zone in one aggregated call, and billing
    lists every region's SKUs at once, so each scope reads whole listings and splits them by region."""

    def __init__(self, discovery: GcpDiscovery) -> None:
        self.credentials, self.project = discovery.credentials()
        self.compute, self.billing = compute_endpoint(), billing_endpoint()
        self.http = discovery._http or JsonClient()
        self.requests = 0
        self.missing: list[str] = []
        self._listings: dict[str, Any] = {}

    def _client(self, name: str) -> Any:
        from google.cloud import compute_v1

        return getattr(compute_v1, name)(credentials=self.credentials, client_options={"api_endpoint": self.compute})

    def _list(self, client: str, aggregated: bool) -> list[Any]:
        """Every page of one listing (its responses), with google-api-core's retry on throttling and 5xx."""
        if client not in self._listings:
            from google.api_core import exceptions, retry

            policy = retry.Retry(predicate=retry.if_exception_type(
                exceptions.TooManyRequests, exceptions.InternalServerError, exceptions.BadGateway,
                exceptions.ServiceUnavailable, exceptions.GatewayTimeout), initial=0.2, maximum=30, timeout=120)
            method = getattr(self._client(client), "aggregated_list" if aggregated else "list")
            pager = method(project=self.project, retry=policy, timeout=30)
            pages = []
            for page in pager.pages:
                self.requests += 1
                pages.append(page)
            self._listings[client] = pages
        return self._listings[client]

    def _aggregated(self, client: str, field: str) -> dict[str, list[Any]]:
        """zone -> the items of an aggregated listing (``items`` is keyed "zones/<zone>")."""
        found: dict[str, list[Any]] = defaultdict(list)
        for page in self._list(client, aggregated=True):
            for scope, scoped in page.items.items():
                found[scope.rpartition("/")[2]] += list(getattr(scoped, field))
        return found

    def machine_types(self) -> dict[str, dict[str, tuple[Any, list[str]]]]:
        """region -> type name -> (a machine type, the zones offering it), deprecated types left out."""
        found: dict[str, dict[str, tuple[Any, list[str]]]] = defaultdict(dict)
        for zone, types in self._aggregated("MachineTypesClient", "machine_types").items():
            for mt in types:
                if mt.deprecated and mt.deprecated.state:
                    continue
                entry = found[region_of(zone)].setdefault(mt.name, (mt, []))
                entry[1].append(zone)
        return found

    def _zones(self) -> dict[str, dict[str, list]]:
        zones: dict[str, list[str]] = defaultdict(list)
        for page in self._list("ZonesClient", aggregated=False):
            for zone in page.items:
                if zone.status == "UP":
                    zones[zone.region.rpartition("/")[2] or region_of(zone.name)].append(zone.name)
        return {region: {"regions": [Region("gcp", region, geo_of_region_name(region), tuple(sorted(names)), region)]}
                for region, names in zones.items()}

    def _offerings(self) -> dict[str, dict[str, list]]:
        accelerators = {zone: {a.name for a in items}
                        for zone, items in self._aggregated("AcceleratorTypesClient", "accelerator_types").items()}
        found: dict[str, dict[str, list]] = {}
        for region, types in self.machine_types().items():
            machines, restrictions = [], []
            for name, (mt, zones) in sorted(types.items()):
                gpu = mt.accelerators[0].guest_accelerator_type if mt.accelerators else ""
                usable = sorted(z for z in zones if not gpu or gpu in accelerators.get(z, ()))
                restrictions += [Restriction(region, name, f"its accelerator {gpu} is not offered in zone {z}", z)
                                 for z in sorted(set(zones) - set(usable))]
                machines.append(machine(region, mt, tuple(usable)))
            found[region] = {"machines": machines, "restrictions": restrictions}
        return found

    def _quotas(self) -> dict[str, dict[str, list]]:
        found = {}
        for page in self._list("RegionsClient", aggregated=False):
            for region in page.items:
                found[region.name] = {"quotas": [
                    Quota(region.name, q.metric, float(q.limit), float(q.usage or 0), q.metric)
                    for q in region.quotas if q.metric.endswith("CPUS") and not q.metric.startswith(_NOT_ON_DEMAND)]}
        return found

    def _prices(self) -> dict[str, dict[str, list]]:
        headers = {"X-goog-api-key": os.environ[ENV_API_KEY]} if os.environ.get(ENV_API_KEY) else self._bearer()
        base = f"{self.billing}/v1/{COMPUTE_SERVICE}/skus"
        query = {"currencyCode": "USD", "pageSize": "5000"}

        def next_url(page: dict) -> str | None:
            token = page.get("nextPageToken")
            return f"{base}?{urllib.parse.urlencode({**query, 'pageToken': token})}" if token else None

        skus = (sku for page in self.http.pages(f"{base}?{urllib.parse.urlencode(query)}", next_url, headers)
                for sku in _skus(page))
        rates = unit_rates(skus)
        return {region: {"prices": type_prices(region, types, rates)} for region, types in self.machine_types().items()}

    def _bearer(self) -> dict[str, str]:
        from google.auth.transport.requests import Request

        if not self.credentials.valid:
            self.credentials.refresh(Request())
        return {"Authorization": f"Bearer {self.credentials.token}"} if self.credentials.token else {}


def region_of(zone: str) -> str:
    return zone.rsplit("-", 1)[0]


def _skus(page: dict) -> list:
    skus = page.get("skus", [])
    if not isinstance(skus, list):
        raise FetchError("a Cloud Billing page whose skus is not a list")
    return skus


def machine(region: str, mt: Any, zones: tuple[str, ...]) -> MachineType:
    arch = (mt.architecture or "").upper()
    arm = arch == "ARM64" or (not arch and mt.name.startswith(ARM_FAMILIES))
    gpu = mt.accelerators[0] if mt.accelerators else None
    return MachineType(region, mt.name, float(mt.guest_cpus), round(mt.memory_mb / 1024, 3), "arm64" if arm else "x86_64",
                       ACCELERATORS.get(gpu.guest_accelerator_type, gpu.guest_accelerator_type) if gpu else None,
                       int(gpu.guest_accelerator_count) if gpu else 0, zones)


#: (region, family or accelerator, "core" | "ram" | "gpu", spot) -> USD per hour (per vCPU, GiB or GPU)
Rates = dict[tuple[str, str, str, bool], float]


def unit_rates(skus: Iterable[dict]) -> Rates:
    """The per-core, per-GiB and per-GPU hourly rates of Compute Engine's billing SKUs, by region."""
    rates: Rates = {}
    for sku in skus:
        category = sku.get("category") or {}
        usage, description = category.get("usageType"), str(sku.get("description") or "")
        if category.get("resourceFamily") != "Compute" or usage not in ("OnDemand", "Preemptible"):
            continue
        if any(word in description for word in ("Custom", "Sole Tenancy", "Extended", "Commitment", "Reserved")):
            continue
        usd = _hourly(sku)
        if usd is None:
            continue
        kind = None
        if category.get("resourceGroup") == "GPU":
            lowered = description.lower()
            kind = next((("gpu", name) for words, name in _GPU_SKU if words in lowered), None)
        else:
            rate = _RATE_SKU.match(description)
            if rate:
                kind = (rate["what"].lower(), _family(rate["family"]))
        if kind is None:
            continue
        for region in sku.get("serviceRegions") or []:
            rates[(region, kind[1], kind[0], usage == "Preemptible")] = usd
    return rates


def _family(words: str) -> str:
    lowered = words.lower()
    return _FAMILY_WORDS.get(lowered, lowered.split()[0])


def _hourly(sku: dict) -> float | None:
    """USD per hour of a SKU's first tier (the tier from zero usage), or None when it has none or is free."""
    try:
        expression = sku["pricingInfo"][0]["pricingExpression"]
        tier = min(expression["tieredRates"], key=lambda t: float(t.get("startUsageAmount", 0)))
        price = tier["unitPrice"]
        usd = float(price.get("units") or 0) + float(price.get("nanos") or 0) / 1e9
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if price.get("currencyCode", "USD") != "USD" or expression.get("usageUnit") not in ("h", "GiBy.h"):
        return None
    return usd if usd > 0 else None


def type_prices(region: str, types: dict[str, tuple[Any, list[str]]], rates: Rates) -> list[Price]:
    """Each machine type's hourly price from its family's rates: vCPUs x core + GiB x RAM (+ GPUs x GPU),
    on-demand and spot; a type whose family or GPU has no rate in the region gets none (and is then said to
    have no price). Shared-core types (e2-micro, f1) bill a fraction of a core the API does not give."""
    prices = []
    for name, (mt, _) in sorted(types.items()):
        if mt.is_shared_cpu:
            continue
        family = name.split("-", 1)[0]
        gpu = mt.accelerators[0] if mt.accelerators else None
        accelerator = ACCELERATORS.get(gpu.guest_accelerator_type) if gpu else None
        for spot in (False, True):
            core, ram = rates.get((region, family, "core", spot)), rates.get((region, family, "ram", spot))
            per_gpu = rates.get((region, accelerator, "gpu", spot)) if accelerator else 0.0
            if core is None or ram is None or per_gpu is None:
                continue
            usd = mt.guest_cpus * core + mt.memory_mb / 1024 * ram + (gpu.guest_accelerator_count * per_gpu if gpu else 0)
            prices.append(Price(region, name, round(usd, 6), spot=spot))
    return prices
