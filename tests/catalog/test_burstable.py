"""Which machine types burst: decided once, by name, for the embedded catalog and SkyPilot's alike."""

from __future__ import annotations

import pytest

from cloudorch.catalog import load_catalog
from cloudorch.catalog.adapter import SkyPilotAdapter
from cloudorch.catalog.model import category_of
from cloudorch.catalog.skypilot import read_skypilot_catalog
from tests.support import offering, real_skypilot_catalog, write_vms_csv

BURSTABLE = [("aws", "t3.xlarge"), ("aws", "t4g.small"), ("aws", "t3a.2xlarge"), ("aws", "t2.micro"),
             ("azure", "Standard_B4as_v2"), ("azure", "Standard_B2pls_v2"), ("azure", "Standard_B1s"),
             ("gcp", "e2-micro"), ("gcp", "e2-small"), ("gcp", "e2-medium"), ("gcp", "f1-micro"), ("gcp", "g1-small")]
STEADY = [("aws", "m6i.xlarge"), ("aws", "trn1.2xlarge"), ("aws", "c7g.large"), ("azure", "Standard_D4s_v5"),
          ("azure", "Standard_E2bds_v5"), ("gcp", "e2-standard-4"), ("gcp", "e2-highmem-2"), ("gcp", "n2-standard-4"),
          ("gcp", "g2-standard-4")]


@pytest.mark.parametrize("cloud,itype", BURSTABLE)
def test_burstable_and_shared_core_types(cloud, itype):
    assert category_of(cloud, itype) == "burstable"
    assert category_of(cloud, itype, "general") == "burstable"  # whatever the catalog calls it


@pytest.mark.parametrize("cloud,itype", STEADY)
def test_steady_types_keep_their_category(cloud, itype):
    assert category_of(cloud, itype, "memory") == "memory"


def test_a_skypilot_catalog_marks_them(tmp_path):
    header = ["InstanceType", "vCPUs", "MemoryGiB", "Price", "SpotPrice", "Region", "AvailabilityZone"]
    write_vms_csv(tmp_path, "aws", header, [["t3.xlarge", "4", "16", "0.1664", "", "us-east-1", "us-east-1a"],
                                            ["m6i.xlarge", "4", "16", "0.192", "", "us-east-1", "us-east-1a"]])
    catalog = read_skypilot_catalog(tmp_path, {"aws": SkyPilotAdapter()})
    assert offering(catalog, "aws", "us-east-1", "t3.xlarge").burstable
    assert not offering(catalog, "aws", "us-east-1", "m6i.xlarge").burstable


@pytest.mark.shared
def test_the_real_catalogs_burstable_types():
    real = real_skypilot_catalog()
    marked = {(o.cloud, o.instance_type) for o in real.offerings if o.burstable}
    assert {("aws", "t3.xlarge"), ("azure", "Standard_B4as_v2")} <= marked
    assert not {(c, t) for c, t in marked if c == "gcp" and t.startswith("e2-standard")}


def test_the_embedded_catalog_classifies_the_same_way():
    for o in load_catalog().offerings:
        assert o.burstable == (category_of(o.cloud, o.instance_type) == "burstable")
