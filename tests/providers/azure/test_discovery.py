"""Azure discovery against a local stand-in for Resource Manager and the Retail Prices API (tests/catalog/stand_ins).

Resource SKUs and usages are written in the shape of Resource Manager's answers (as the azure-sdk-for-python
recordings and the az CLI's documented output show them); price pages are synthesized from the recorded
Retail Prices page in ../shared, read at test time.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time

import pytest

from cloudorch.catalog.http import JsonClient
from cloudorch.catalog.live import Quota, vcpu_quotas
from cloudorch.provider import DiscoveryScope
from cloudorch_azure.discovery import AzureDiscovery, retail_prices
from tests.catalog.stand_ins import Fault, StandIn
from tests.support import SHARED, require_shared

SAMPLE = SHARED / "data" / "pricing-samples" / "azure-retail-prices-page.json"
SUB = "00000000-0000-0000-0000-0000000000aa"
SKUS = f"/subscriptions/{SUB}/providers/Microsoft.Compute/skus"
PRICES = "/api/retail/prices"
ALL = frozenset(DiscoveryScope)


def usages_path(region: str) -> str:
    return f"/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{region}/usages"


class Token:
    """A credential of azure-core's protocol that hands out a fixed token (the chain is tested via `az`)."""

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken("stand-in-token", int(time.time()) + 3600)


def sku(name: str, region: str, vcpus: int, memory: float, *, zones=("1", "2", "3"), arch="x64", gpus=0,
        family="standardDSv5Family", restrictions=()) -> dict:
    caps = [{"name": "vCPUs", "value": str(vcpus)}, {"name": "MemoryGB", "value": str(memory)},
            {"name": "CpuArchitectureType", "value": arch}, {"name": "HyperVGenerations", "value": "V1,V2"}]
    if gpus:
        caps.append({"name": "GPUs", "value": str(gpus)})
    return {"resourceType": "virtualMachines", "name": name, "tier": "Standard", "size": name.split("_", 1)[1],
            "family": family, "locations": [region],
            "locationInfo": [{"location": region, "zones": list(zones), "zoneDetails": []}],
            "capabilities": caps, "restrictions": list(restrictions)}


def restriction(kind: str, region: str, zones=()) -> dict:
    info = {"locations": [region], **({"zones": list(zones)} if zones else {})}
    return {"type": kind, "values": [region], "restrictionInfo": info, "reasonCode": "NotAvailableForSubscription"}


def usage(code: str, name: str, limit: int, current: int) -> dict:
    return {"unit": "Count", "currentValue": current, "limit": limit, "name": {"value": code, "localizedValue": name}}


def price_item(size: str, region: str, usd: float, *, spot=False, windows=False, kind="Consumption") -> dict:
    """A Retail Prices item of the recorded page's shape (its first Linux consumption row, re-valued)."""
    base = next(i for i in json.loads(require_shared(SAMPLE).read_text())["Items"]
                if i["type"] == "Consumption" and "Windows" not in i["productName"])
    meter = size.removeprefix("Standard_").replace("_", " ")
    return {**base, "armSkuName": size, "armRegionName": region, "retailPrice": usd, "unitPrice": usd, "type": kind,
            "meterName": meter + (" Spot" if spot else ""), "skuName": meter + (" Spot" if spot else ""),
            "productName": f"Virtual Machines Dsv5 Series{' Windows' if windows else ''}", "isPrimaryMeterRegion": True}


def prices_page(items: list[dict]) -> dict:
    shell = {k: v for k, v in json.loads(require_shared(SAMPLE).read_text()).items() if k not in ("Items", "NextPageLink")}
    return {**shell, "Items": items, "Count": len(items)}


class Account:
    """The stand-in subscription: SKUs, usages and prices per region."""

    def __init__(self, stand_in: StandIn) -> None:
        self.stand_in = stand_in

    def region(self, region: str, skus: list[dict], usages: list[dict], prices: list[list[dict]]) -> None:
        self.stand_in.serve(SKUS, [{"value": skus}], "arm", match=f"location eq '{region}'")
        self.stand_in.serve(usages_path(region), [{"value": usages}], "arm")
        self.stand_in.serve(PRICES, [prices_page(p) for p in prices], "retail", match=f"armRegionName eq '{region}'")


@pytest.fixture
def azure(monkeypatch, tmp_path):
    stand_in = StandIn()
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    monkeypatch.setenv("CLOUDORCH_AZURE_MANAGEMENT_ENDPOINT", stand_in.url)
    monkeypatch.setenv("CLOUDORCH_AZURE_PRICES_ENDPOINT", stand_in.url + PRICES)
    monkeypatch.setenv("CLOUDORCH_CACHE_DIR", str(tmp_path / "cache"))
    yield Account(stand_in)
    stand_in.close()


def discovery() -> AzureDiscovery:
    return AzureDiscovery(credential_factory=Token, http=JsonClient(timeout=2, sleep=lambda s: None))


def standard(region: str = "westeurope") -> list[dict]:
    return [
        sku("Standard_D4s_v5", region, 4, 16),
        sku("Standard_D4ps_v5", region, 4, 16, arch="Arm64", family="standardDPSv5Family"),
        sku("Standard_NC24ads_A100_v4", region, 24, 220, gpus=1, family="standardNCADSA100v4Family"),
        sku("Standard_E4s_v5", region, 4, 32, family="standardESv5Family",
            restrictions=[restriction("Location", region)]),
        sku("Standard_F4s_v2", region, 4, 8, family="standardFSv2Family",
            restrictions=[restriction("Zone", region, ["1", "2", "3"])]),
        sku("Standard_D8s_v5", region, 8, 32, restrictions=[restriction("Zone", region, ["3"])]),
    ]


def test_without_a_subscription_or_credentials_the_reason_is_one_line(monkeypatch, tmp_path):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    monkeypatch.delenv("ARM_SUBSCRIPTION_ID", raising=False)
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path))  # no `az login` profile
    reason = AzureDiscovery().unavailable()
    assert reason and "AZURE_SUBSCRIPTION_ID" in reason and "\n" not in reason

    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `az` at all
    reason = AzureDiscovery().unavailable()
    assert reason and reason.startswith("no Azure credentials: ") and "\n" not in reason


def test_the_subscription_pulumi_or_az_login_uses_serves_discovery_too(monkeypatch, tmp_path):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("ARM_SUBSCRIPTION_ID", "from-arm")
    assert AzureDiscovery().subscription == "from-arm"
    monkeypatch.delenv("ARM_SUBSCRIPTION_ID")
    (tmp_path / "azureProfile.json").write_text(
        '{"subscriptions": [{"id": "from-az", "isDefault": true}]}', encoding="utf-8-sig")
    assert AzureDiscovery().subscription == "from-az"
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "from-sdk")
    assert AzureDiscovery().subscription == "from-sdk"


def fake_az(directory, monkeypatch) -> None:
    """An `az` that answers get-access-token: the standard chain's Azure CLI member, reached for real."""
    script = directory / "az"
    script.write_text(f"#!{sys.executable}\nimport json, time\n"
                      "print(json.dumps({'accessToken': 'cli-token', 'expires_on': int(time.time()) + 3600, "
                      "'tokenType': 'Bearer', 'subscription': 'x', 'tenant': 't'}))\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")


def test_the_standard_chain_signs_the_management_calls(azure, monkeypatch, tmp_path):
    fake_az(tmp_path, monkeypatch)
    azure.region("westeurope", standard(), [], [[]])
    real = AzureDiscovery()
    assert real.unavailable() is None
    found = real.discover(["westeurope"], frozenset({DiscoveryScope.OFFERINGS}))
    assert not found.missing and found.machines
    signed = [h for r, h in zip(azure.stand_in.requests, azure.stand_in.headers) if "/skus" in r]
    assert signed and all(h.get("authorization") == "Bearer cli-token" for h in signed)


def test_discover_reads_sizes_restrictions_zones_quotas_and_prices(azure):
    azure.region("westeurope", standard(), [
        usage("cores", "Total Regional vCPUs", 100, 10), usage("standardDSv5Family", "Standard DSv5 Family vCPUs", 40, 8),
        usage("virtualMachines", "Virtual Machines", 25000, 3), usage("lowPriorityCores", "Total Regional Low-priority vCPUs", 100, 0),
    ], [[price_item("Standard_D4s_v5", "westeurope", 0.192), price_item("Standard_D4s_v5", "westeurope", 0.05, spot=True)],
        [price_item("Standard_D4s_v5", "westeurope", 0.376, windows=True),
         price_item("Standard_D4s_v5", "westeurope", 0.1, kind="DevTestConsumption"),
         price_item("Standard_D4ps_v5", "westeurope", 0.154)]])

    found = discovery().discover(["westeurope"], ALL)

    assert not found.missing and set(found.fetched_at) == {str(s) for s in DiscoveryScope}
    assert [(r.name, r.zones, r.geo) for r in found.regions] == [("westeurope", ("1", "2", "3"), "eu")]
    machines = {m.instance_type: m for m in found.machines}
    assert set(machines) == {"Standard_D4s_v5", "Standard_D4ps_v5", "Standard_NC24ads_A100_v4", "Standard_F4s_v2",
                             "Standard_D8s_v5"}  # E4s_v5 is restricted in the region
    d4 = machines["Standard_D4s_v5"]
    assert (d4.vcpus, d4.memory_gib, d4.arch, d4.zones, d4.regional) == (4, 16, "x86_64", ("1", "2", "3"), False)
    assert machines["Standard_D4ps_v5"].arch == "arm64"
    gpu = machines["Standard_NC24ads_A100_v4"]
    assert (gpu.accelerator, gpu.accelerator_count) == ("A100", 1)
    assert machines["Standard_D8s_v5"].zones == ("1", "2")
    assert machines["Standard_F4s_v2"].zones == () and machines["Standard_F4s_v2"].regional
    refused = {(r.instance_type, r.zone): r.reason for r in found.restrictions}
    assert refused[("Standard_E4s_v5", "")].startswith("NotAvailableForSubscription")
    assert ("Standard_D8s_v5", "3") in refused and ("Standard_F4s_v2", "1") in refused
    prices = {(p.instance_type, p.spot): p.usd_hour for p in found.prices}
    assert prices == {("Standard_D4s_v5", False): 0.192, ("Standard_D4s_v5", True): 0.05,
                      ("Standard_D4ps_v5", False): 0.154}
    quotas = {q.code: q for q in found.quotas}
    assert set(quotas) == {"cores", "standardDSv5Family"}
    assert quotas["cores"] == Quota("westeurope", "Total Regional vCPUs", 100, 10, "cores", total=True)
    # the family has 32 free, the region 90: the family's room is what placement may count on
    assert vcpu_quotas({"azure": found.quotas}) == {"azure/westeurope": 32}
    # the price pages were followed on the endpoint given, though the API links to its public host
    assert azure.stand_in.count(PRICES) == 2 and found.requests >= 4


def test_the_recorded_retail_page_reads_as_linux_prices():
    items = json.loads(require_shared(SAMPLE).read_text())["Items"]
    linux = [i for i in items if i["type"] == "Consumption" and "Windows" not in i["productName"]
             and "Low Priority" not in i["meterName"] and i["unitOfMeasure"] == "1 Hour" and i["retailPrice"] > 0]
    assert linux, "the sample holds Linux consumption meters"
    one = linux[0]
    found = retail_prices(items, one["armRegionName"])
    assert any(p.instance_type == one["armSkuName"] and p.usd_hour <= one["retailPrice"]
               and p.spot == one["meterName"].endswith("Spot") for p in found)
    windows = {i["armSkuName"] for i in items if "Windows" in i["productName"]} - {i["armSkuName"] for i in linux}
    assert not windows & {p.instance_type for region in {i["armRegionName"] for i in items}
                          for p in retail_prices(items, region)}


def test_throttling_and_server_errors_are_retried(azure):
    azure.region("westeurope", standard(), [usage("cores", "Total Regional vCPUs", 100, 0)],
                 [[price_item("Standard_D4s_v5", "westeurope", 0.192)]])
    azure.stand_in.faults = [Fault(429, headers={"Retry-After": "0"}, path="/skus"), Fault(503, path="/skus"),
                             Fault(429, headers={"Retry-After": "0"}, path=PRICES), Fault(500, path=PRICES)]
    found = discovery().discover(["westeurope"], frozenset({DiscoveryScope.OFFERINGS, DiscoveryScope.PRICES}))
    assert not found.missing and found.machines and found.prices
    assert azure.stand_in.count("/skus") == 3 and azure.stand_in.count(PRICES) == 3


@pytest.mark.parametrize("fault", [
    Fault(200, body=b'{"Items": [{"armSkuName": "Standard_D4s_v5", "retail', path=PRICES),  # malformed
    Fault(200, body=b'{"Items": [], "Count": 0}' + b" " * 64, truncate=True, path=PRICES),  # cut short, half is whole
    Fault(200, body=b"{}", delay=3, path=PRICES),  # slower than the 2 s timeout
])
def test_a_bad_price_page_is_read_again(azure, fault):
    azure.region("westeurope", [], [], [[price_item("Standard_D4s_v5", "westeurope", 0.192)]])
    azure.stand_in.faults = [fault]
    found = discovery().discover(["westeurope"], frozenset({DiscoveryScope.PRICES}))
    assert not found.missing and [p.instance_type for p in found.prices] == ["Standard_D4s_v5"]


def test_a_region_that_keeps_failing_is_missing_not_raised(azure):
    azure.region("westeurope", [], [], [[]])
    azure.stand_in.faults = [Fault(500, path=PRICES) for _ in range(4)]
    azure.stand_in.faults.append(Fault(403, body=b'{"error": {"code": "AuthorizationFailed", "message": "no read '
                                       b'permission on Microsoft.Compute/locations/usages"}}', path="/usages"))
    found = discovery().discover(["westeurope"], frozenset({DiscoveryScope.PRICES, DiscoveryScope.QUOTAS}))
    assert found.prices == () and found.quotas == ()
    assert sorted(m.split(":")[0] for m in found.missing) == ["prices westeurope", "quotas westeurope"]
    assert "after 4 attempts" in next(m for m in found.missing if m.startswith("prices"))
    assert "AuthorizationFailed" in next(m for m in found.missing if m.startswith("quotas"))
    assert all("\n" not in m for m in found.missing)
