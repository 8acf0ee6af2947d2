"""GCP's SkyPilot adapter: GPU hosts priced with their GPUs, Arm families by name."""

from __future__ import annotations

import pytest

from cloudorch.catalog.skypilot import read_skypilot_catalog
from cloudorch.plugins import load_provider
from tests.support import offering, real_skypilot_catalog, write_vms_csv

HEADER = ["InstanceType", "vCPUs", "MemoryGiB", "AcceleratorName", "AcceleratorCount", "GpuInfo", "Region",
          "AvailabilityZone", "Price", "SpotPrice"]


def read(tmp_path, rows):
    write_vms_csv(tmp_path, "gcp", HEADER, rows)
    return read_skypilot_catalog(tmp_path, {"gcp": load_provider("gcp").catalog_adapter()})


def test_gpu_price_rows_of_several_counts_price_one_gpu(tmp_path):
    """Full SkyPilot catalogs list a GPU's price for 1, 2, 4, 8 ... GPUs; the host adds count x one GPU."""
    catalog = read(tmp_path, [
        ["a2-highgpu-1g", "12", "85", "", "", "", "us-central1", "us-central1-a", "0.7", "0.3"],
        ["a2-highgpu-2g", "24", "170", "", "", "", "us-central1", "us-central1-a", "1.4", "0.6"],
        ["", "", "", "A100", "1", "", "us-central1", "us-central1-a", "3.0", "1.0"],
        ["", "", "", "A100", "2", "", "us-central1", "us-central1-a", "6.0", "2.0"],
        ["", "", "", "A100", "8", "", "us-central1", "us-central1-a", "24.0", "8.0"],
    ])
    assert catalog.issues == ()
    one = offering(catalog, "gcp", "us-central1", "a2-highgpu-1g")
    assert (one.accelerator, one.accelerator_count) == ("A100", 1)
    assert one.price == pytest.approx(3.7) and one.spot_price == pytest.approx(1.3)
    two = offering(catalog, "gcp", "us-central1", "a2-highgpu-2g")
    assert two.accelerator_count == 2
    assert two.price == pytest.approx(1.4 + 6.0) and two.spot_price == pytest.approx(0.6 + 2.0)
    assert len(catalog.offerings) == 2  # the GPU rows are folded into their hosts


def test_a_host_without_its_gpu_price_and_a_bad_gpu_row_are_reported(tmp_path):
    catalog = read(tmp_path, [
        ["a3-highgpu-8g", "208", "1872", "", "", "", "us-central1", "us-central1-a", "20", ""],
        ["", "", "", "L4", "x", "", "us-central1", "us-central1-a", "0.5", ""],
        ["t2a-standard-2", "2", "8", "", "", "", "us-central1", "us-central1-a", "0.07", ""],
    ])
    assert [(i.line, i.reason) for i in catalog.issues] == [
        (3, "accelerator price row: AcceleratorCount 'x' is not a number"),
        (2, "a3-highgpu-8g in us-central1-a: no H100 price row to add to the host price"),
    ]
    assert offering(catalog, "gcp", "us-central1", "t2a-standard-2").arch == "arm64"


@pytest.mark.shared
def test_real_rows_gpu_hosts_and_arm():
    real = real_skypilot_catalog()
    a2 = offering(real, "gcp", "us-central1", "a2-highgpu-1g")
    assert (a2.accelerator, a2.accelerator_count) == ("A100", 1)
    assert a2.price == pytest.approx(0.73948 + 2.93391)
    assert a2.spot_price == pytest.approx(0.38812 + 1.5399)
    g2 = offering(real, "gcp", "us-central1", "g2-standard-4")
    assert (g2.accelerator, g2.accelerator_count) == ("L4", 1)
    assert g2.price == pytest.approx(0.14679 + 0.56004)
    assert not any(o.instance_type == "" for o in real.offerings)
    assert offering(real, "gcp", "us-central1", "t2a-standard-2").arch == "arm64"
    assert offering(real, "gcp", "us-central1", "n2-standard-2").arch == "x86_64"
