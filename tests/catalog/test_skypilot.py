"""Reading SkyPilot-format catalogs: the real rows in ../shared, and tiny synthetic files for each quirk."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from cloudorch.catalog import load_catalog, network_prices
from cloudorch.catalog.skypilot import read_skypilot_catalog
from cloudorch.errors import UsageError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "skypilot"


@pytest.fixture(scope="module")
def real():
    if not SHARED.is_dir():
        pytest.skip("../shared not present (a fresh clone has no ../shared)")
    return read_skypilot_catalog(SHARED)


def _offering(catalog, cloud, region, itype):
    found = [o for o in catalog.offerings if (o.cloud, o.region, o.instance_type) == (cloud, region, itype)]
    assert len(found) == 1, (cloud, region, itype, found)
    return found[0]


def _write(root: Path, cloud: str, header: list[str], rows: list[list[str]]) -> None:
    (root / cloud).mkdir(parents=True, exist_ok=True)
    with (root / cloud / "vms.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


# --- the real rows ------------------------------------------------------------------------------------

@pytest.mark.shared
def test_reads_all_three_clouds(real):
    assert real.source.startswith("skypilot:")
    assert {o.cloud for o in real.offerings} == {"aws", "azure", "gcp"}
    assert len(real.offerings) > 5_000
    assert real.fingerprint and real.digest
    # databases and storage come from the embedded catalog, only where the SkyPilot catalog has the region
    regions = {(r.cloud, r.name) for r in real.regions}
    assert real.databases and all((d.cloud, d.region) in regions for d in real.databases)
    assert real.storage and all((s.cloud, s.region) in regions for s in real.storage)


@pytest.mark.shared
def test_aws_zone_id_rows_are_merged_per_region_with_zones_counted(real):
    o = _offering(real, "aws", "us-east-1", "m7g.large")
    assert o.zones == ("use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6")
    assert o.price == 0.0816
    assert o.spot_price == pytest.approx((0.0409 + 0.0311 + 0.0267 + 0.0270 + 0.0272) / 5)  # mean over zones
    assert (o.vcpus, o.memory_gib) == (2.0, 8.0)
    region = real.region("aws", "us-east-1")
    assert region.geo == "us" and set(o.zones) <= set(region.zones)


@pytest.mark.shared
def test_arm_comes_from_the_arch_column_and_gcp_t2a(real):
    assert _offering(real, "aws", "us-east-1", "m7g.large").arch == "arm64"
    assert _offering(real, "aws", "us-east-1", "m7i.large").arch == "x86_64"
    assert _offering(real, "gcp", "us-central1", "t2a-standard-2").arch == "arm64"
    assert _offering(real, "gcp", "us-central1", "n2-standard-2").arch == "x86_64"


@pytest.mark.shared
def test_azure_quoted_generation_column_and_empty_spot(real):
    d2s = _offering(real, "azure", "eastus", "Standard_D2s_v5")  # Generation "V1,V2"
    assert (d2s.price, d2s.spot_price, d2s.vcpus, d2s.memory_gib) == (0.096, 0.01056, 2.0, 8.0)
    assert d2s.zones == ()
    b12 = _offering(real, "azure", "centralus", "Standard_B12ms")  # SpotPrice empty: no spot offering
    assert b12.price == 0.599 and b12.spot_price is None


@pytest.mark.shared
def test_gcp_gpu_hosts_carry_their_gpus_price(real):
    a2 = _offering(real, "gcp", "us-central1", "a2-highgpu-1g")
    assert (a2.accelerator, a2.accelerator_count) == ("A100", 1)
    assert a2.price == pytest.approx(0.73948 + 2.93391)
    assert a2.spot_price == pytest.approx(0.38812 + 1.5399)
    g2 = _offering(real, "gcp", "us-central1", "g2-standard-4")
    assert (g2.accelerator, g2.accelerator_count) == ("L4", 1)
    assert g2.price == pytest.approx(0.14679 + 0.56004)
    assert not any(o.instance_type == "" for o in real.offerings)


@pytest.mark.shared
def test_unparseable_rows_are_reported_not_dropped(real):
    reasons = [i.reason for i in real.issues]
    assert len(real.issues) == 115 + sum("retired promotional SKU" in r or "the images used are generation 2" in r
                                         for r in reasons)
    assert sum("no on-demand Price" in r for r in reasons) == 66  # Azure rows with empty Price
    assert sum("unknown Arch 'i386'" in r for r in reasons) == 18  # c1.medium
    assert sum("no H100 price row" in r or "no A100-80GB price row" in r for r in reasons) == 31
    assert sum("retired promotional SKU" in r for r in reasons) > 0  # Azure *_Promo sizes
    assert sum("the images used are generation 2" in r for r in reasons) > 0  # Azure V1-only sizes
    assert not any(o.instance_type.endswith("_Promo") for o in real.offerings)
    first = real.issues[0]
    assert first.file.endswith("aws/vms.csv") and first.line > 1
    assert str(first).startswith(f"{first.file}:{first.line}: ")


@pytest.mark.shared
def test_load_catalog_with_a_directory(real):
    # load_catalog adds the embedded network prices to what the SkyPilot files hold
    loaded = load_catalog(str(SHARED))
    assert loaded.network is network_prices()
    assert loaded.digest == replace(real, network=network_prices()).digest != real.digest


# --- synthetic files -----------------------------------------------------------------------------------

def test_columns_are_found_by_name_whatever_their_order(tmp_path):
    header = ["Region", "Price", "Arch", "SpotPrice", "MemoryGiB", "AvailabilityZone", "vCPUs", "InstanceType"]
    _write(tmp_path, "aws", header, [
        ["eu-west-1", "0.2", "arm64", "0.05", "16", "euw1-az1", "4", "x9g.xlarge"],
        ["eu-west-1", "0.2", "arm64", "0.07", "16", "euw1-az2", "4", "x9g.xlarge"],
        ["eu-west-1", "0.1", "x86_64", "", "8", "euw1-az1", "2", "x9i.large"],
    ])
    catalog = read_skypilot_catalog(tmp_path)
    assert catalog.issues == ()
    big = _offering(catalog, "aws", "eu-west-1", "x9g.xlarge")
    assert (big.vcpus, big.memory_gib, big.arch, big.price) == (4.0, 16.0, "arm64", 0.2)
    assert big.spot_price == pytest.approx(0.06) and big.zones == ("euw1-az1", "euw1-az2")
    small = _offering(catalog, "aws", "eu-west-1", "x9i.large")
    assert small.spot_price is None and small.arch == "x86_64"
    assert catalog.region("aws", "eu-west-1").zones == ("euw1-az1", "euw1-az2")
    assert catalog.region("aws", "eu-west-1").geo == "eu"


def test_gcp_gpu_price_rows_of_several_counts_price_one_gpu(tmp_path):
    """Full SkyPilot catalogs list a GPU's price for 1, 2, 4, 8 ... GPUs; the host adds count x one GPU."""
    header = ["InstanceType", "vCPUs", "MemoryGiB", "AcceleratorName", "AcceleratorCount", "GpuInfo", "Region",
              "AvailabilityZone", "Price", "SpotPrice"]
    _write(tmp_path, "gcp", header, [
        ["a2-highgpu-1g", "12", "85", "", "", "", "us-central1", "us-central1-a", "0.7", "0.3"],
        ["a2-highgpu-2g", "24", "170", "", "", "", "us-central1", "us-central1-a", "1.4", "0.6"],
        ["", "", "", "A100", "1", "", "us-central1", "us-central1-a", "3.0", "1.0"],
        ["", "", "", "A100", "2", "", "us-central1", "us-central1-a", "6.0", "2.0"],
        ["", "", "", "A100", "8", "", "us-central1", "us-central1-a", "24.0", "8.0"],
    ])
    catalog = read_skypilot_catalog(tmp_path)
    assert catalog.issues == ()
    one = _offering(catalog, "gcp", "us-central1", "a2-highgpu-1g")
    assert (one.accelerator, one.accelerator_count) == ("A100", 1)
    assert one.price == pytest.approx(3.7) and one.spot_price == pytest.approx(1.3)
    two = _offering(catalog, "gcp", "us-central1", "a2-highgpu-2g")
    assert two.accelerator_count == 2
    assert two.price == pytest.approx(1.4 + 6.0) and two.spot_price == pytest.approx(0.6 + 2.0)


def test_bad_rows_are_reported_with_line_and_reason(tmp_path):
    header = ["InstanceType", "vCPUs", "MemoryGiB", "Price", "SpotPrice", "Region", "Arch"]
    _write(tmp_path, "aws", header, [
        ["ok.large", "2", "8", "0.1", "", "us-east-1", "x86_64"],
        ["bad.cpu", "two", "8", "0.1", "", "us-east-1", "x86_64"],
        ["bad.price", "2", "8", "-1", "", "us-east-1", "x86_64"],
        ["bad.arch", "2", "8", "0.1", "", "us-east-1", "sparc"],
        ["no.price", "2", "8", "", "", "us-east-1", "x86_64"],
        ["zero.mem", "2", "0", "0.1", "", "us-east-1", "x86_64"],
    ])
    catalog = read_skypilot_catalog(tmp_path)
    assert [o.instance_type for o in catalog.offerings] == ["ok.large"]
    assert [i.line for i in catalog.issues] == [3, 4, 5, 6, 7]
    reasons = [i.reason for i in catalog.issues]
    assert "vCPUs 'two' is not a number" in reasons[0]
    assert "out of range" in reasons[1]
    assert "unknown Arch 'sparc'" in reasons[2]
    assert "no on-demand Price" in reasons[3]
    assert "MemoryGiB" in reasons[4]


def test_a_file_missing_required_columns_is_one_issue(tmp_path):
    _write(tmp_path, "azure", ["InstanceType", "Price"], [["x", "1"]])
    _write(tmp_path, "aws", ["InstanceType", "vCPUs", "MemoryGiB", "Price", "Region"], [["m.large", "2", "8", "0.1", "us-east-1"]])
    catalog = read_skypilot_catalog(tmp_path)
    assert len(catalog.offerings) == 1
    assert len(catalog.issues) == 1 and "missing column(s) vCPUs, MemoryGiB, Region" in catalog.issues[0].reason


def test_unknown_regions_get_a_geo_from_their_name(tmp_path):
    _write(tmp_path, "azure", ["InstanceType", "vCPUs", "MemoryGiB", "Price", "Region"], [
        ["D2", "2", "8", "0.1", "brazilsouth"], ["D2", "2", "8", "0.1", "westus3"], ["D2", "2", "8", "0.1", "norwayeast"],
    ])
    catalog = read_skypilot_catalog(tmp_path)
    assert {r.name: r.geo for r in catalog.regions} == {"brazilsouth": "sa", "westus3": "us", "norwayeast": "eu"}


def test_missing_directory_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist") as info:
        read_skypilot_catalog(tmp_path / "nope")
    assert info.value.exit_code == 2 and info.value.hint


def test_directory_without_vms_csv_is_a_usage_error(tmp_path):
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "other.csv").write_text("x\n")
    with pytest.raises(UsageError, match="no <cloud>/vms.csv"):
        read_skypilot_catalog(tmp_path)


@pytest.mark.shared
def test_azure_arm_sizes_are_arm_although_the_file_has_no_arch_column(real):
    azure = {o.instance_type: o.arch for o in real.offerings if o.cloud == "azure"}
    assert azure["Standard_D2ps_v5"] == "arm64" and azure["Standard_B4ps_v2"] == "arm64"
    assert azure["Standard_D2s_v5"] == "x86_64" and azure["Standard_D2as_v5"] == "x86_64"
