"""GCP discovery against a local stand-in for Compute Engine's REST API and the Cloud Billing catalog.

Compute Engine answers are written in the REST API's shape (as googleapis' python-compute samples and its
discovery document give them); billing pages are synthesized from the recorded skus page in ../shared, read
at test time.
"""

from __future__ import annotations

import copy
import json

import pytest

from cloudorch.catalog.http import JsonClient
from cloudorch.catalog.live import vcpu_quotas
from cloudorch.provider import DiscoveryScope
from cloudorch_gcp.discovery import GcpDiscovery, unit_rates
from tests.catalog.stand_ins import Fault, StandIn
from tests.support import SHARED, require_shared

SAMPLE = SHARED / "data" / "pricing-samples" / "gcp-cloudbilling-services.skus.list-compute.json"
PROJECT = "stand-in-project"
COMPUTE = f"/compute/v1/projects/{PROJECT}"
SKUS = "/v1/services/6F81-5844-456A/skus"
ALL = frozenset(DiscoveryScope)


def recorded() -> dict:
    return json.loads(require_shared(SAMPLE).read_text())


def billing_sku(description: str, group: str, regions: list[str], usd: float, usage: str = "OnDemand") -> dict:
    """A billing SKU of the recorded page's shape (its first SKU of ``group``'s kind, re-described and re-priced)."""
    template = next(s for s in recorded()["skus"] if s["category"]["resourceGroup"] == ("GPU" if group == "GPU" else "CPU"))
    sku = copy.deepcopy(template)
    sku["description"], sku["serviceRegions"] = description, regions
    sku["category"].update(resourceGroup=group, usageType=usage)
    sku["geoTaxonomy"]["regions"] = regions
    rate = sku["pricingInfo"][0]["pricingExpression"]
    rate["usageUnit"] = "GiBy.h" if group == "RAM" else "h"
    rate["tieredRates"] = [{"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": str(int(usd)),
                                                                 "nanos": round((usd % 1) * 1e9)}}]
    return sku


def machine_type(name: str, zone: str, cpus: int, memory_gb: float, gpu: tuple[str, int] | None = None,
                 arch: str = "X86_64") -> dict:
    mt = {"kind": "compute#machineType", "name": name, "guestCpus": cpus, "memoryMb": int(memory_gb * 1024),
          "zone": zone, "isSharedCpu": False, "architecture": arch, "maximumPersistentDisks": 128,
          "selfLink": f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/zones/{zone}/machineTypes/{name}"}
    if gpu:
        mt["accelerators"] = [{"guestAcceleratorType": gpu[0], "guestAcceleratorCount": gpu[1]}]
    return mt


def region(name: str, cpus: float, n2: float, used: float = 0) -> dict:
    return {"kind": "compute#region", "name": name, "status": "UP", "quotas": [
        {"metric": "CPUS", "limit": cpus, "usage": used}, {"metric": "N2_CPUS", "limit": n2, "usage": 0},
        {"metric": "PREEMPTIBLE_CPUS", "limit": 1000, "usage": 0}, {"metric": "NVIDIA_L4_GPUS", "limit": 4, "usage": 0},
        {"metric": "INSTANCES", "limit": 6000, "usage": 1}]}


class Project:
    """The stand-in project: zones, machine types, accelerators, regions with quotas, billing SKUs."""

    def __init__(self, stand_in: StandIn) -> None:
        self.stand_in = stand_in

    def serve(self, zones: dict[str, list[dict]], regions: list[dict], skus: list[list[dict]],
              accelerators: dict[str, list[str]] | None = None) -> None:
        self.stand_in.serve(f"{COMPUTE}/zones", [{"items": [
            {"kind": "compute#zone", "name": z, "status": "UP",
             "region": f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/regions/{z.rsplit('-', 1)[0]}"}
            for z in zones]}], "google")
        # one page per zone: the aggregated listing is paged too
        self.stand_in.serve(f"{COMPUTE}/aggregated/machineTypes",
                            [{"items": {f"zones/{z}": {"machineTypes": types}}} for z, types in zones.items()], "google")
        self.stand_in.serve(f"{COMPUTE}/aggregated/acceleratorTypes", [{"items": {
            f"zones/{z}": {"acceleratorTypes": [{"name": a, "zone": z, "maximumCardsPerInstance": 8} for a in names]}
            for z, names in (accelerators or {}).items()}}], "google")
        self.stand_in.serve(f"{COMPUTE}/regions", [{"items": regions}], "google")
        self.stand_in.serve(SKUS, [{"skus": page} for page in skus], "google")


@pytest.fixture
def gcp(monkeypatch, tmp_path):
    stand_in = StandIn()
    monkeypatch.setenv("CLOUDORCH_GCP_COMPUTE_ENDPOINT", stand_in.url)
    monkeypatch.setenv("CLOUDORCH_GCP_BILLING_ENDPOINT", stand_in.url)
    monkeypatch.setenv("CLOUDORCH_GCP_API_KEY", "key-for-tests")
    monkeypatch.setenv("CLOUDORCH_CACHE_DIR", str(tmp_path / "cache"))
    yield Project(stand_in)
    stand_in.close()


def discovery() -> GcpDiscovery:
    from google.auth.credentials import AnonymousCredentials

    return GcpDiscovery(credentials_factory=lambda: (AnonymousCredentials(), PROJECT),
                        http=JsonClient(timeout=2, sleep=lambda s: None))


def rates(region_name: str, family: str, core: float, ram: float, spot: tuple[float, float] | None = None) -> list[dict]:
    skus = [billing_sku(f"{family.upper()} Instance Core running in Netherlands", "CPU", [region_name], core),
            billing_sku(f"{family.upper()} Instance Ram running in Netherlands", "RAM", [region_name], ram)]
    if spot:
        skus += [billing_sku(f"Spot Preemptible {family.upper()} Instance Core running in Netherlands", "CPU",
                             [region_name], spot[0], "Preemptible"),
                 billing_sku(f"Spot Preemptible {family.upper()} Instance Ram running in Netherlands", "RAM",
                             [region_name], spot[1], "Preemptible")]
    return skus


def standard_project(project: Project, n2_quota: float = 96) -> None:
    zones = {z: [machine_type("n2-standard-4", z, 4, 16), machine_type("t2a-standard-4", z, 4, 16, arch="ARM64"),
                 machine_type("g2-standard-8", z, 8, 32, ("nvidia-l4", 1))]
             for z in ("europe-west4-a", "europe-west4-b")}
    project.serve(zones, [region("europe-west4", 200, n2_quota, used=8)],
                  [rates("europe-west4", "n2", 0.0348, 0.0047, spot=(0.0085, 0.0011)),
                   rates("europe-west4", "t2a", 0.0308, 0.0041)
                   + rates("europe-west4", "g2", 0.0249, 0.0029)
                   + [billing_sku("Nvidia L4 GPU running in Netherlands", "GPU", ["europe-west4"], 0.6228)]],
                  accelerators={"europe-west4-a": ["nvidia-l4"], "europe-west4-b": []})


def test_discover_reads_types_zones_accelerators_quotas_and_prices(gcp):
    standard_project(gcp)
    found = discovery().discover(["europe-west4"], ALL)

    assert not found.missing and set(found.fetched_at) == {str(s) for s in DiscoveryScope}
    assert [(r.name, r.zones, r.geo) for r in found.regions] == [("europe-west4", ("europe-west4-a", "europe-west4-b"), "eu")]
    machines = {m.instance_type: m for m in found.machines}
    n2 = machines["n2-standard-4"]
    assert (n2.vcpus, n2.memory_gib, n2.arch, n2.zones) == (4, 16, "x86_64", ("europe-west4-a", "europe-west4-b"))
    assert machines["t2a-standard-4"].arch == "arm64"
    g2 = machines["g2-standard-8"]
    assert (g2.accelerator, g2.accelerator_count, g2.zones) == ("L4", 1, ("europe-west4-a",))
    assert [(r.instance_type, r.zone) for r in found.restrictions] == [("g2-standard-8", "europe-west4-b")]
    prices = {(p.instance_type, p.spot): p.usd_hour for p in found.prices}
    assert prices[("n2-standard-4", False)] == pytest.approx(4 * 0.0348 + 16 * 0.0047)
    assert prices[("n2-standard-4", True)] == pytest.approx(4 * 0.0085 + 16 * 0.0011)
    assert prices[("g2-standard-8", False)] == pytest.approx(8 * 0.0249 + 32 * 0.0029 + 0.6228)
    assert ("t2a-standard-4", True) not in prices  # no spot rate listed, no spot price made up
    quotas = {q.code: (q.limit_vcpus, q.used_vcpus) for q in found.quotas}
    assert quotas == {"CPUS": (200, 8), "N2_CPUS": (96, 0)}
    assert vcpu_quotas({"gcp": found.quotas}) == {"gcp/europe-west4": 192 + 96}
    # the API key travels in a header, never in a URL that could be logged
    billing = [h for r, h in zip(gcp.stand_in.requests, gcp.stand_in.headers) if r.startswith(SKUS)]
    assert billing and all(h.get("x-goog-api-key") == "key-for-tests" for h in billing)
    assert not any("key-for-tests" in r for r in gcp.stand_in.requests)
    assert gcp.stand_in.count("aggregated/machineTypes") >= 2  # both pages of the listing were read


def test_the_recorded_billing_page_reads_as_rates():
    page = recorded()
    found = unit_rates(page["skus"])
    cpu = next(s for s in page["skus"] if s["category"]["resourceGroup"] == "CPU")
    price = cpu["pricingInfo"][0]["pricingExpression"]["tieredRates"][0]["unitPrice"]
    family = cpu["description"].split()[0].lower()
    assert found[(cpu["serviceRegions"][0], family, "core", False)] == pytest.approx(
        int(price["units"]) + price["nanos"] / 1e9)
    gpu = next(s for s in page["skus"] if s["category"]["resourceGroup"] == "GPU")
    assert any(k[0] == gpu["serviceRegions"][0] and k[2] == "gpu" for k in found)


def service_account_file(path, token_uri: str) -> None:
    """A service-account key file whose token endpoint is the stand-in: the chain signs and exchanges for real."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({"type": "service_account", "project_id": PROJECT, "private_key_id": "k1",
                                "private_key": pem, "client_email": f"discovery@{PROJECT}.iam.gserviceaccount.com",
                                "client_id": "1", "token_uri": token_uri}))


def test_the_standard_chain_authorises_both_apis(gcp, monkeypatch, tmp_path):
    standard_project(gcp)
    gcp.stand_in.token = "exchanged-token"
    service_account_file(tmp_path / "sa.json", f"{gcp.stand_in.url}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "sa.json"))
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)  # the project comes from the key file
    monkeypatch.delenv("CLOUDORCH_GCP_API_KEY")
    real = GcpDiscovery(http=JsonClient(timeout=2, sleep=lambda s: None))
    assert real.unavailable() is None
    found = real.discover(["europe-west4"], frozenset({DiscoveryScope.QUOTAS, DiscoveryScope.PRICES}))
    assert not found.missing and found.quotas and found.prices
    sent = list(zip(gcp.stand_in.requests, gcp.stand_in.headers))
    assert all(h.get("authorization") == "Bearer exchanged-token" for r, h in sent if r.startswith(SKUS))
    # Compute Engine's client signs its own JWTs with the same key; nothing goes unsigned
    assert all(h.get("authorization", "").startswith("Bearer ") for r, h in sent if r.startswith(COMPUTE))
    assert "/token" in gcp.stand_in.requests


def test_without_credentials_the_reason_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    reason = GcpDiscovery().unavailable()
    assert reason and reason.startswith("no Google Cloud credentials: ") and "\n" not in reason


def test_throttling_and_server_errors_are_retried(gcp):
    standard_project(gcp)
    gcp.stand_in.faults = [Fault(429, path="/regions"), Fault(503, path="/regions"),
                           Fault(429, headers={"Retry-After": "0"}, path=SKUS), Fault(502, path=SKUS),
                           Fault(200, body=b'{"skus": [{"name": "services/6F81', path=SKUS)]
    found = discovery().discover(["europe-west4"], frozenset({DiscoveryScope.QUOTAS, DiscoveryScope.PRICES}))
    assert not found.missing and found.quotas and found.prices
    assert gcp.stand_in.count("/regions") == 3


def test_a_listing_that_keeps_failing_leaves_its_regions_missing(gcp):
    standard_project(gcp)
    gcp.stand_in.faults = [Fault(403, body=b'{"error": {"code": 403, "message": "Required \'compute.regions.list\' '
                                 b'permission for \'projects/stand-in-project\'"}}', path="/regions")]
    found = discovery().discover(["europe-west4", "mars-north1"], frozenset({DiscoveryScope.QUOTAS, DiscoveryScope.ZONES}))
    assert found.quotas == ()
    quota_gaps = [m for m in found.missing if m.startswith("quotas")]
    assert len(quota_gaps) == 2 and all("compute.regions.list" in m and "\n" not in m for m in quota_gaps)
    assert "zones mars-north1: the account lists no such region" in found.missing
    assert [r.name for r in found.regions] == ["europe-west4"]
