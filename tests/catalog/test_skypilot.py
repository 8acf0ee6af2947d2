"""Reading SkyPilot-format catalogs, the generic part: files, columns by name, merged zones, reported rows.

Each cloud's own quirks are its provider's adapter, tested beside the provider (tests/providers/*/test_catalog.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from cloudorch.catalog import load_catalog, network_prices
from cloudorch.catalog.adapter import SkyPilotAdapter
from cloudorch.catalog.skypilot import read_skypilot_catalog
from cloudorch.errors import UsageError
from cloudorch.plugins import catalog_adapters
from tests.support import SKYPILOT, offering, real_skypilot_catalog, write_vms_csv

GENERIC = {"aws": SkyPilotAdapter(), "azure": SkyPilotAdapter(), "gcp": SkyPilotAdapter()}


def read(root):
    """With the generic adapter for each cloud: what these tests check is the reader, not a cloud's quirks."""
    return read_skypilot_catalog(root, GENERIC)


@pytest.fixture(scope="module")
def real():
    return real_skypilot_catalog()


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
    o = offering(real, "aws", "us-east-1", "m7g.large")
    assert o.zones == ("use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6")
    assert o.price == 0.0816
    assert o.spot_price == pytest.approx((0.0409 + 0.0311 + 0.0267 + 0.0270 + 0.0272) / 5)  # mean over zones
    assert (o.vcpus, o.memory_gib) == (2.0, 8.0)
    region = real.region("aws", "us-east-1")
    assert region.geo == "us" and set(o.zones) <= set(region.zones)


@pytest.mark.shared
def test_arm_comes_from_the_arch_column(real):
    assert offering(real, "aws", "us-east-1", "m7g.large").arch == "arm64"
    assert offering(real, "aws", "us-east-1", "m7i.large").arch == "x86_64"


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
    loaded = load_catalog(str(SKYPILOT), catalog_adapters())
    assert loaded.network is network_prices()
    assert loaded.digest == replace(real, network=network_prices()).digest != real.digest


# --- synthetic files -----------------------------------------------------------------------------------

def test_columns_are_found_by_name_whatever_their_order(tmp_path):
    header = ["Region", "Price", "Arch", "SpotPrice", "MemoryGiB", "AvailabilityZone", "vCPUs", "InstanceType"]
    write_vms_csv(tmp_path, "aws", header, [
        ["eu-west-1", "0.2", "arm64", "0.05", "16", "euw1-az1", "4", "x9g.xlarge"],
        ["eu-west-1", "0.2", "arm64", "0.07", "16", "euw1-az2", "4", "x9g.xlarge"],
        ["eu-west-1", "0.1", "x86_64", "", "8", "euw1-az1", "2", "x9i.large"],
    ])
    catalog = read(tmp_path)
    assert catalog.issues == ()
    big = offering(catalog, "aws", "eu-west-1", "x9g.xlarge")
    assert (big.vcpus, big.memory_gib, big.arch, big.price) == (4.0, 16.0, "arm64", 0.2)
    assert big.spot_price == pytest.approx(0.06) and big.zones == ("euw1-az1", "euw1-az2")
    small = offering(catalog, "aws", "eu-west-1", "x9i.large")
    assert small.spot_price is None and small.arch == "x86_64"
    assert catalog.region("aws", "eu-west-1").zones == ("euw1-az1", "euw1-az2")
    assert catalog.region("aws", "eu-west-1").geo == "eu"


def test_bad_rows_are_reported_with_line_and_reason(tmp_path):
    header = ["InstanceType", "vCPUs", "MemoryGiB", "Price", "SpotPrice", "Region", "Arch"]
    write_vms_csv(tmp_path, "aws", header, [
        ["ok.large", "2", "8", "0.1", "", "us-east-1", "x86_64"],
        ["bad.cpu", "two", "8", "0.1", "", "us-east-1", "x86_64"],
        ["bad.price", "2", "8", "-1", "", "us-east-1", "x86_64"],
        ["bad.arch", "2", "8", "0.1", "", "us-east-1", "sparc"],
        ["no.price", "2", "8", "", "", "us-east-1", "x86_64"],
        ["zero.mem", "2", "0", "0.1", "", "us-east-1", "x86_64"],
    ])
    catalog = read(tmp_path)
    assert [o.instance_type for o in catalog.offerings] == ["ok.large"]
    assert [i.line for i in catalog.issues] == [3, 4, 5, 6, 7]
    reasons = [i.reason for i in catalog.issues]
    assert "vCPUs 'two' is not a number" in reasons[0]
    assert "out of range" in reasons[1]
    assert "unknown Arch 'sparc'" in reasons[2]
    assert "no on-demand Price" in reasons[3]
    assert "MemoryGiB" in reasons[4]


def test_a_file_missing_required_columns_is_one_issue(tmp_path):
    write_vms_csv(tmp_path, "azure", ["InstanceType", "Price"], [["x", "1"]])
    write_vms_csv(tmp_path, "aws", ["InstanceType", "vCPUs", "MemoryGiB", "Price", "Region"], [["m.large", "2", "8", "0.1", "us-east-1"]])
    catalog = read(tmp_path)
    assert len(catalog.offerings) == 1
    assert len(catalog.issues) == 1 and "missing column(s) vCPUs, MemoryGiB, Region" in catalog.issues[0].reason


def test_unknown_regions_get_a_geo_from_their_name(tmp_path):
    write_vms_csv(tmp_path, "azure", ["InstanceType", "vCPUs", "MemoryGiB", "Price", "Region"], [
        ["D2", "2", "8", "0.1", "brazilsouth"], ["D2", "2", "8", "0.1", "westus3"], ["D2", "2", "8", "0.1", "norwayeast"],
    ])
    catalog = read(tmp_path)
    assert {r.name: r.geo for r in catalog.regions} == {"brazilsouth": "sa", "westus3": "us", "norwayeast": "eu"}


def test_missing_directory_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist") as info:
        read(tmp_path / "nope")
    assert info.value.exit_code == 2 and info.value.hint


def test_directory_without_vms_csv_is_a_usage_error(tmp_path):
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "other.csv").write_text("x\n")
    with pytest.raises(UsageError, match="no <cloud>/vms.csv"):
        read(tmp_path)




# --- adapters: the clouds read are the installed providers', each read its provider's way ---------------

HEADER = ["InstanceType", "vCPUs", "MemoryGiB", "Price", "Region"]


def test_only_clouds_with_an_adapter_are_read(tmp_path):
    write_vms_csv(tmp_path, "acme", HEADER, [["vm.4", "4", "16", "0.1", "north-1"]])
    write_vms_csv(tmp_path, "lambda", HEADER, [["gpu_1x", "8", "32", "1.1", "us-east-1"]])
    catalog = read_skypilot_catalog(tmp_path, {"acme": SkyPilotAdapter()})
    assert [(o.cloud, o.instance_type) for o in catalog.offerings] == [("acme", "vm.4")]
    with pytest.raises(UsageError, match="no <cloud>/vms.csv") as info:
        read_skypilot_catalog(tmp_path, {"aws": SkyPilotAdapter()})
    assert "aws/vms.csv" in info.value.hint


class _Doubled(SkyPilotAdapter):
    """An adapter whose offerings differ from the generic ones for the same rows."""

    version = "7"

    def machine(self, row):
        from dataclasses import replace

        return replace(super().machine(row), price=2 * float(row.get("Price")))


def test_a_changed_adapter_is_a_new_cache_key_and_fingerprint(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDORCH_CACHE_DIR", str(tmp_path / "cache"))
    write_vms_csv(tmp_path, "acme", HEADER, [["vm.4", "4", "16", "0.1", "north-1"]])
    generic = load_catalog(str(tmp_path), {"acme": SkyPilotAdapter()})
    doubled = load_catalog(str(tmp_path), {"acme": _Doubled()})
    assert (generic.offerings[0].price, doubled.offerings[0].price) == (0.1, 0.2)  # not served from the cache
    assert generic.digest != doubled.digest  # a plan made with the old adapter is stale
    assert _Doubled().identity() != SkyPilotAdapter().identity()
    assert "_Doubled/7/" in _Doubled().identity()


def test_reading_with_the_installed_providers_adapters_imports_no_cloud_sdk(tmp_path):
    import subprocess
    import sys

    write_vms_csv(tmp_path, "gcp", HEADER, [["n2-standard-2", "2", "8", "0.1", "europe-west4"]])
    code = ("import sys\nfrom cloudorch import api\n"
            f"catalog = api.Session(api.Options(catalog_dir={str(tmp_path)!r})).catalog\n"
            "heavy = {m.split('.')[0] for m in sys.modules} & {'pulumi', 'boto3', 'botocore', 'google', 'azure'}\n"
            "print(len(catalog.offerings), sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "1 []"


# --- rows that must be refused ------------------------------------------------------------------------

@pytest.mark.parametrize("price", ["-1", "nan", "inf", "-inf", "1e400"])
def test_a_file_whose_every_price_is_unusable_is_refused(tmp_path, price):
    write_vms_csv(tmp_path, "aws", HEADER, [["m.large", "2", "8", price, "us-east-1"],
                                           ["m.xlarge", "4", "16", price, "us-east-1"]])
    write_vms_csv(tmp_path, "gcp", HEADER, [["n2-standard-2", "2", "8", "0.1", "europe-west4"]])
    with pytest.raises(UsageError) as info:
        read(tmp_path)
    assert info.value.exit_code == 2
    assert info.value.message.startswith(f"none of the 2 rows of '{tmp_path / 'aws' / 'vms.csv'}' is a usable offering: "
                                         f"2 row(s) skipped, e.g. {tmp_path / 'aws' / 'vms.csv'}:2: Price")


def test_a_catalog_without_any_row_is_refused(tmp_path):
    write_vms_csv(tmp_path, "aws", HEADER, [])
    write_vms_csv(tmp_path, "azure", ["InstanceType"], [["x"]])  # a file skipped whole: one issue
    with pytest.raises(UsageError, match="no usable offering in the catalog .*: 1 row.s. skipped, e.g. .*missing column"):
        read(tmp_path)


class _Careless(SkyPilotAdapter):
    """A provider's adapter that computes prices and sizes without checking them."""

    def machine(self, row):
        machine = super().machine(row)
        return replace(machine, price=float(row.get("Discount")) * machine.price, vcpus=float(row.get("Cores")))


def test_rows_an_adapter_returns_are_checked_too(tmp_path):
    write_vms_csv(tmp_path, "acme", [*HEADER, "Discount", "Cores"], [
        ["ok", "2", "8", "0.1", "north-1", "1", "2"],
        ["nan.price", "2", "8", "0.1", "north-1", "nan", "2"],
        ["neg.price", "2", "8", "0.1", "north-1", "-1", "2"],
        ["no.cores", "2", "8", "0.1", "north-1", "1", "0"],
        ["inf.cores", "2", "8", "0.1", "north-1", "1", "inf"],
    ])
    catalog = read_skypilot_catalog(tmp_path, {"acme": _Careless()})
    assert [o.instance_type for o in catalog.offerings] == ["ok"]
    assert [str(i).split("vms.csv:")[1] for i in catalog.issues] == [
        "3: nan.price: Price nan is out of range", "4: neg.price: Price -0.1 is out of range",
        "5: no.cores: vCPUs 0.0 is out of range", "6: inf.cores: vCPUs inf is out of range"]


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_rows_cut_short_anywhere_are_skipped_with_a_reason(tmp_path, cloud):
    """Every prefix of a machine row and of a GPU price row (GCP's have no InstanceType), with and
    without the commas that follow: read by the installed provider's adapter, reported, never a crash."""
    header = {"gcp": ["InstanceType", "vCPUs", "MemoryGiB", "AcceleratorName", "AcceleratorCount", "GpuInfo",
                      "Region", "AvailabilityZone", "Price", "SpotPrice"]}.get(cloud, [*HEADER, "AcceleratorName",
                                                                                    "AcceleratorCount", "SpotPrice"])
    good = {"gcp": ["g2-standard-4", "4", "16", "", "", "", "us-central1", "us-central1-a", "0.5", "0.2"]}.get(
        cloud, ["m.large", "2", "8", "0.1", "us-east-1", "", "", "0.05"])
    gpu = ["", "", "", "L4", "1", "", "us-central1", "us-central1-a", "0.7", "0.3"] if cloud == "gcp" else \
        ["g.xlarge", "4", "16", "1.0", "us-east-1", "T4", "1", "0.4"]
    rows = [good, gpu]
    for row in (good, gpu):
        rows += [row[:cut] for cut in range(len(row))] + [row[:cut] + [""] * (len(row) - cut) for cut in range(len(row))]
    write_vms_csv(tmp_path, cloud, header, rows)
    catalog = read_skypilot_catalog(tmp_path, {cloud: catalog_adapters()[cloud]})
    assert catalog.offerings
    assert all(i.reason for i in catalog.issues) and len({i.line for i in catalog.issues}) == len(catalog.issues)
