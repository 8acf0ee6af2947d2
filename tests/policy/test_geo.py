import pytest

from cloudorch.catalog.embedded import embedded_regions
from cloudorch.catalog.model import geo_of_region_name
from cloudorch.policy import region_geo


@pytest.mark.parametrize("cloud, region, geo", [
    ("aws", "eu-west-1", "eu"), ("aws", "us-east-1", "us"), ("aws", "ap-southeast-2", "apac"), ("aws", "ca-central-1", "ca"),
    ("aws", "mx-central-1", "mx"), ("aws", "us-gov-west-1", "us"), ("aws", "il-central-1", "me"),
    ("gcp", "europe-west4", "eu"), ("gcp", "us-central1", "us"), ("gcp", "asia-northeast1", "apac"),
    ("gcp", "northamerica-northeast1", "ca"), ("gcp", "northamerica-south1", "mx"), ("gcp", "EU", "eu"),
    ("gcp", "nam4", "us"),
    ("azure", "westeurope", "eu"), ("azure", "northeurope", "eu"), ("azure", "uksouth", "eu"), ("azure", "eastus2", "us"),
    ("azure", "australiaeast", "apac"), ("azure", "austriaeast", "eu"), ("azure", "southafricanorth", "af"),
    ("azure", "brazilsouth", "sa"), ("azure", "mexicocentral", "mx"), ("azure", "West Europe", "eu"),
    ("azure", "marsnorth", None), ("aws", "moon-1", None),
])
def test_region_geo(cloud, region, geo):
    assert region_geo(cloud, region) == geo


def test_policy_and_catalog_read_region_names_from_one_table():
    known, _ = embedded_regions()
    names = [r.name for r in known] + ["northamerica-south1", "mx-central-1", "westus3", "jioindiawest", "moon-1"]
    for name in names:
        assert region_geo("any", name) == (None if geo_of_region_name(name) == "other" else geo_of_region_name(name))
    for region in known:  # and the name agrees with the geography the catalog's metadata records
        assert region_geo(region.cloud, region.name) == region.geo, region
