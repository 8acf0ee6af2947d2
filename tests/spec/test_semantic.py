"""Values valid one by one that together rule out every placement: exit 2 at their line, before placing."""

from __future__ import annotations

import pytest

from cloudorch.spec.loader import Vocabulary, parse_stack
from cloudorch.spec.semantic import contradictions
from tests.spec.test_loader import GOOD, problems

PLACES = frozenset({("aws", "eu-west-1", "eu"), ("aws", "us-east-1", "us"), ("azure", "westeurope", "eu"),
                    ("azure", "eastus", "us"), ("gcp", "europe-west4", "eu")})
VOCAB = Vocabulary(clouds=frozenset({"aws", "azure", "gcp"}), regions=frozenset(r for _, r, _ in PLACES),
                   geos=frozenset({"us", "eu", "apac"}), places=PLACES)


def placed(placement: str) -> str:
    return GOOD.replace("resources:", "placement:\n" + placement + "resources:")


def test_a_region_of_no_allowed_cloud_is_located_with_the_way_out():
    assert problems(placed("  clouds: [gcp, azure]\n  regions: [eu-west-1]\n"), VOCAB) == [
        "shop.yaml:4: placement.regions[0]: 'eu-west-1' is a region of aws, not among placement.clouds "
        "[gcp, azure]; add aws there or name a region of azure or gcp"]


def test_a_region_outside_the_geo_is_located():
    assert problems(placed("  geo: [eu]\n  regions: [westeurope, eastus]\n"), VOCAB) == [
        "shop.yaml:4: placement.regions[1]: 'eastus' is in us, outside placement.geo [eu]; "
        "add us to placement.geo or leave the region out"]


def test_a_region_both_allowed_and_excluded_is_located():
    found = problems(placed("  regions: [westeurope]\n  exclude_regions: [westeurope]\n"), VOCAB)
    assert found == ["shop.yaml:3: placement.regions[0]: 'westeurope' is also in placement.exclude_regions; "
                     "keep it in one list"]


def test_without_placement_clouds_the_installed_providers_bound_the_regions():
    vocab = Vocabulary(clouds=frozenset({"azure", "gcp"}), regions=VOCAB.regions, geos=VOCAB.geos, places=PLACES)
    assert problems(placed("  regions: [us-east-1]\n"), vocab) == [
        "shop.yaml:3: placement.regions[0]: 'us-east-1' is a region of aws, whose provider plugin is not installed; "
        "install cloudorch-aws or name a region of azure or gcp"]


@pytest.mark.parametrize("placement", [
    "  clouds: [aws, azure]\n  geo: [eu]\n  regions: [eu-west-1, westeurope]\n",
    "  regions: [eu-west-1, europe-west4]\n  exclude_regions: [us-east-1]\n",
])
def test_consistent_placements_pass(placement):
    assert parse_stack(placed(placement), "shop.yaml", VOCAB).stack.placement.regions


def test_without_region_knowledge_nothing_is_judged():
    data = {"placement": {"clouds": ["gcp"], "regions": ["eu-west-1"]}}
    assert contradictions(data, {"aws", "gcp"}, ()) == []


@pytest.mark.parametrize("key,what", [("min_clouds", "cloud"), ("min_regions", "region")])
def test_a_spread_wider_than_the_replicas_is_located(key, what):
    text = GOOD + f"    count: 2\n    spread:\n      {key}: 3\n"
    assert problems(text, VOCAB) == [
        f"shop.yaml:13: resources.web.spread.{key}: {key} 3 is more than count 2: each {what} needs a replica "
        f"of its own; raise count to 3 or lower {key}"]


def test_the_default_count_is_one():
    assert any("min_clouds 2 is more than count 1" in p for p in problems(GOOD + "    spread: {min_clouds: 2}\n"))


def test_a_spread_as_wide_as_the_replicas_passes():
    assert parse_stack(GOOD + "    count: 2\n    spread: {min_clouds: 2, min_regions: 2}\n", "shop.yaml", VOCAB)


def test_contradictions_read_raw_data_beside_type_errors():
    found = problems(GOOD.replace("cpu: 2", "cpu: two") + "    count: 1\n    spread: {min_regions: 2}\n", VOCAB)
    assert "shop.yaml:9: resources.web.cpu: must be an integer" in found
    assert any("resources.web.spread.min_regions: min_regions 2 is more than count 1" in p for p in found)
