import pytest

from cloudorch.policy import region_geo


@pytest.mark.parametrize("cloud, region, geo", [
    ("aws", "eu-west-1", "eu"), ("aws", "us-east-1", "us"), ("aws", "ap-southeast-2", "apac"), ("aws", "ca-central-1", "ca"),
    ("gcp", "europe-west4", "eu"), ("gcp", "us-central1", "us"), ("gcp", "asia-northeast1", "apac"),
    ("gcp", "northamerica-northeast1", "ca"), ("gcp", "EU", "eu"),
    ("azure", "westeurope", "eu"), ("azure", "northeurope", "eu"), ("azure", "uksouth", "eu"), ("azure", "eastus2", "us"),
    ("azure", "australiaeast", "apac"), ("azure", "southafricanorth", "af"), ("azure", "brazilsouth", "sa"),
    ("azure", "marsnorth", None), ("aws", "moon-1", None),
])
def test_region_geo(cloud, region, geo):
    assert region_geo(cloud, region) == geo
