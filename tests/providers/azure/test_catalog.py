"""Azure's SkyPilot adapter: Arm sizes by name, generation-1-only and retired promotional sizes skipped."""

from __future__ import annotations

import pytest

from cloudorch.catalog.skypilot import read_skypilot_catalog
from cloudorch.plugins import load_provider
from tests.support import offering, real_skypilot_catalog, write_vms_csv

HEADER = ["InstanceType", "vCPUs", "MemoryGiB", "Price", "SpotPrice", "Region", "Generation"]


def test_rows_the_images_cannot_boot_are_reported_and_arm_is_read_from_the_name(tmp_path):
    write_vms_csv(tmp_path, "azure", HEADER, [
        ["Standard_D2s_v5", "2", "8", "0.096", "0.01", "eastus", "V1,V2"],
        ["Standard_A2", "2", "3.5", "0.09", "", "eastus", "V1"],
        ["Standard_D2s_v3_Promo", "2", "8", "0.08", "", "eastus", "V1,V2"],
        ["Standard_D2ps_v5", "2", "8", "0.077", "", "eastus", "V2"],
        ["Standard_E4pds_v5", "4", "32", "0.2", "", "eastus", " V2"],
    ])
    catalog = read_skypilot_catalog(tmp_path, {"azure": load_provider("azure").catalog_adapter()})
    assert [(i.line, i.reason) for i in catalog.issues] == [
        (3, "Standard_A2: Generation V1 only; the images used are generation 2"),
        (4, "Standard_D2s_v3_Promo: retired promotional SKU"),
    ]
    arch = {o.instance_type: o.arch for o in catalog.offerings}
    assert arch == {"Standard_D2s_v5": "x86_64", "Standard_D2ps_v5": "arm64", "Standard_E4pds_v5": "arm64"}


@pytest.mark.shared
def test_real_rows_quoted_generation_column_empty_spot_and_arm():
    real = real_skypilot_catalog()
    d2s = offering(real, "azure", "eastus", "Standard_D2s_v5")  # Generation "V1,V2"
    assert (d2s.price, d2s.spot_price, d2s.vcpus, d2s.memory_gib) == (0.096, 0.01056, 2.0, 8.0)
    assert d2s.zones == ()
    b12 = offering(real, "azure", "centralus", "Standard_B12ms")  # SpotPrice empty: no spot offering
    assert b12.price == 0.599 and b12.spot_price is None
    azure = {o.instance_type: o.arch for o in real.offerings if o.cloud == "azure"}
    assert azure["Standard_D2ps_v5"] == "arm64" and azure["Standard_B4ps_v2"] == "arm64"
    assert azure["Standard_D2s_v5"] == "x86_64" and azure["Standard_D2as_v5"] == "x86_64"
    assert not any(o.instance_type.endswith("_Promo") for o in real.offerings)
