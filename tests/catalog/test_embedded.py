"""The embedded catalog: enough regions, families, GPUs and prices to plan real stacks without --catalog."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest

from cloudorch.catalog import load_catalog
from cloudorch.catalog.embedded import AS_OF, embedded_catalog

CLOUDS = ("aws", "azure", "gcp")


@pytest.fixture(scope="module")
def catalog():
    return embedded_catalog()


def test_load_catalog_without_directory_is_the_embedded_one(catalog):
    assert load_catalog() is catalog
    assert catalog.source == "embedded"


def test_as_of_is_a_date_and_not_in_the_future(catalog):
    assert catalog.as_of == AS_OF
    assert dt.date.fromisoformat(catalog.as_of) <= dt.date.today()


@pytest.mark.parametrize("cloud", CLOUDS)
def test_at_least_eight_regions_per_cloud_across_us_eu_and_apac(catalog, cloud):
    regions = [r for r in catalog.regions if r.cloud == cloud]
    assert len(regions) >= 8
    assert {"us", "eu", "apac"} <= {r.geo for r in regions}
    assert all(r.zones for r in regions), "every region names its zones"
    assert len({r.name for r in regions}) == len(regions)


def test_region_index_and_geos(catalog):
    assert catalog.region("aws", "eu-west-1").geo == "eu"
    assert catalog.region("gcp", "asia-south1").geo == "apac"
    assert catalog.region("aws", "nowhere-1") is None
    assert {"us", "eu", "apac"} <= set(catalog.geos)
    assert catalog.clouds == CLOUDS
    assert len(catalog.regions) == 38


@pytest.mark.parametrize("cloud", CLOUDS)
def test_general_compute_and_memory_families_in_x86_and_arm(catalog, cloud):
    have = {(o.category, o.arch) for o in catalog.offerings if o.cloud == cloud}
    for category in ("general", "compute", "memory"):
        assert (category, "x86_64") in have, (cloud, category)
    assert ("general", "arm64") in have
    if cloud != "gcp":  # GCP's only Arm family (t2a) is general-purpose
        assert ("compute", "arm64") in have or ("memory", "arm64") in have


@pytest.mark.parametrize("cloud", CLOUDS)
def test_gpu_types(catalog, cloud):
    gpus = {(o.accelerator, o.accelerator_count) for o in catalog.offerings if o.cloud == cloud and o.accelerator}
    assert gpus, cloud
    assert all(n >= 1 for _, n in gpus)
    assert any(name == "A100" for name, _ in gpus)
    for o in catalog.offerings:
        assert (o.accelerator is None) == (o.accelerator_count == 0)
        assert (o.category == "gpu") == (o.accelerator is not None)


#: the accelerators the README names, on every cloud that sells them (Azure has no L4 VM)
README_GPUS = {"aws": {"A100", "H100", "L4", "T4", "A10G"}, "azure": {"A100", "H100", "T4"},
               "gcp": {"A100", "H100", "L4", "T4"}}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_readme_accelerator_on_every_cloud_that_sells_it(catalog, cloud):
    have = {o.accelerator for o in catalog.offerings if o.cloud == cloud and o.accelerator}
    assert README_GPUS[cloud] <= have, sorted(README_GPUS[cloud] - have)


@pytest.mark.parametrize(("cloud", "itype", "region", "price"), [
    ("aws", "p5.48xlarge", "us-east-1", 98.32),
    ("azure", "Standard_ND96isr_H100_v5", "eastus", 98.32),
    ("gcp", "a3-highgpu-8g", "us-central1", 43.0661),
])
def test_h100_machines_carry_eight_gpus_at_their_sourced_price(catalog, cloud, itype, region, price):
    offering = next(o for o in catalog.offerings if (o.cloud, o.instance_type, o.region) == (cloud, itype, region))
    assert (offering.accelerator, offering.accelerator_count, offering.price) == ("H100", 8, price)


def test_a_gpu_row_is_only_where_its_source_prices_it(catalog):
    # listed regions only: a3 is not offered in us-east1, and its H100 price elsewhere is not the us-central1 one
    assert {o.region for o in catalog.offerings if o.instance_type == "a3-highgpu-8g"} == {"us-central1", "us-west1"}


def test_every_price_is_positive(catalog):
    for o in catalog.offerings:
        assert o.price > 0 and o.vcpus > 0 and o.memory_gib > 0, o
        assert o.spot_price is None or 0 < o.spot_price < o.price, o
    for d in catalog.databases:
        assert d.price > 0 and d.storage_gb_month > 0, d
    for s in catalog.storage:
        assert s.gb_month > 0, s


def test_database_and_storage_prices_in_every_region(catalog):
    regions = {(r.cloud, r.name) for r in catalog.regions}
    engines = defaultdict(set)
    for d in catalog.databases:
        engines[(d.cloud, d.region)].add(d.engine)
    assert set(engines) == regions
    assert all(e == {"postgres", "mysql"} for e in engines.values())
    assert set(catalog.storage_index) == regions


def test_regional_prices_follow_the_region_price_level(catalog):
    by = {(o.cloud, o.region, o.instance_type): o.price for o in catalog.offerings}
    assert by[("aws", "us-east-1", "m6i.large")] == 0.096  # the reference region
    assert by[("aws", "eu-central-1", "m6i.large")] == round(0.096 * 1.198, 4)
    assert by[("gcp", "europe-west4", "n2-standard-2")] > by[("gcp", "us-central1", "n2-standard-2")]


def test_region_restricted_types_only_where_listed(catalog):
    where = {o.region for o in catalog.offerings if o.instance_type == "t2a-standard-2"}
    assert where == {"us-central1", "europe-west4", "asia-southeast1"}
    counts = Counter(o.instance_type for o in catalog.offerings if o.cloud == "aws")
    assert counts["m7i.large"] == 12  # every AWS region


def test_digest_is_stable_and_content_sensitive(catalog):
    assert catalog.digest == embedded_catalog().digest
    assert len(catalog.digest) == 64
