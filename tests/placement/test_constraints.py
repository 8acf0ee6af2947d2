"""One hand-checked case per constraint and objective: tiny catalogs whose optimum is worked out in comments."""

from __future__ import annotations

import random

import pytest

from cloudorch.errors import ExitCode, InfeasiblePlacement, OverBudget
from tests.placement.tiny import catalog, db, off, per_region, plan, stack, where

# The catalog most cases share (4 vCPU / 16 GiB unless said otherwise), per hour:
#   aws/ap-south-1 m.xlarge 0.09 | aws/us-east-1 m.xlarge 0.10 (spot 0.03), m.large 2/8 0.05, m.2xl 8/32 0.20
#   gcp/us-central1 n4 0.105 | azure/eastus d4 0.11 (spot 0.02) | aws/eu-west-1 m.xlarge 0.12
#   gcp/europe-west4 n4 0.125 | azure/westeurope d4 0.13
BASE = catalog(
    off("aws/us-east-1", "m.large", 0.05, 2, 8),
    off("aws/us-east-1", "m.xlarge", 0.10, spot=0.03),
    off("aws/us-east-1", "m.2xl", 0.20, 8, 32),
    off("aws/eu-west-1", "m.xlarge", 0.12),
    off("aws/ap-south-1", "m.xlarge", 0.09),
    off("azure/eastus", "d4", 0.11, spot=0.02),
    off("azure/westeurope", "d4", 0.13),
    off("gcp/us-central1", "n4", 0.105),
    off("gcp/europe-west4", "n4", 0.125),
)


def web(count: int = 1, extra: str = "", cpu: int = 4, memory: float = 16) -> str:
    lines = ["web:", "  kind: compute", "  network: net", f"  count: {count}", f"  cpu: {cpu}", f"  memory_gb: {memory}"]
    return "\n".join(lines + [f"  {line}" for line in extra.strip().splitlines()]) + "\n"


def monthly(result, name: str | None = None) -> float:
    return result.placements[name].monthly_usd if name else result.monthly_usd


# --- per-replica requirements ----------------------------------------------------------------------------

@pytest.mark.parametrize(("cpu", "memory", "expected", "usd"), [
    (4, 16, ("aws", "ap-south-1", "m.xlarge"), 2 * 0.09 * 730),
    (2, 8, ("aws", "us-east-1", "m.large"), 2 * 0.05 * 730),
    (8, 32, ("aws", "us-east-1", "m.2xl"), 2 * 0.20 * 730),
    (4, 20, ("aws", "us-east-1", "m.2xl"), 2 * 0.20 * 730),  # 16 GiB is not enough: the 32 GiB type
    (2, 12, ("aws", "ap-south-1", "m.xlarge"), 2 * 0.09 * 730),
])
def test_cpu_and_memory_minimums(cpu, memory, expected, usd):
    result = plan(stack(web(2, cpu=cpu, memory=memory)), BASE)
    assert where(result, "web") == [(*expected, False, 2)]
    assert monthly(result) == pytest.approx(usd)


GPUS = catalog(
    off("aws/ap-south-1", "m.xlarge", 0.09),
    off("aws/ap-south-1", "g.cheap", 0.08, gpu="T4", gpus=1),  # cheapest 4/16 of all, but a GPU
    off("aws/us-east-1", "g.t4", 0.50, gpu="T4", gpus=1),
    off("gcp/us-central1", "a2-1g", 3.0, 12, 85, gpu="A100", gpus=1),
    off("gcp/us-central1", "a2-2g", 5.5, 24, 170, gpu="A100", gpus=2),
)


def test_no_gpu_for_a_resource_that_asks_for_none():
    assert where(plan(stack(web()), GPUS), "web") == [("aws", "ap-south-1", "m.xlarge", False, 1)]


@pytest.mark.parametrize(("accelerator", "expected", "usd"), [
    ("{type: T4}", ("aws", "ap-south-1", "g.cheap"), 0.08 * 730),
    ("{type: a100}", ("gcp", "us-central1", "a2-1g"), 3.0 * 730),  # accelerator names match case-insensitively
    ("{type: A100, count: 2}", ("gcp", "us-central1", "a2-2g"), 5.5 * 730),
])
def test_accelerator_type_and_count(accelerator, expected, usd):
    result = plan(stack(web(extra=f"accelerator: {accelerator}")), GPUS)
    slot = result.placements["web"].slots[0]
    assert (slot.cloud, slot.region, slot.instance_type) == expected
    assert slot.accelerator and slot.accelerator_count >= 1
    assert monthly(result) == pytest.approx(usd)


def test_accelerator_nobody_offers_is_infeasible_with_no_offering_reason():
    with pytest.raises(InfeasiblePlacement) as info:
        plan(stack(web(extra="accelerator: {type: H100}")), GPUS)
    assert info.value.exit_code == ExitCode.INFEASIBLE
    assert info.value.conflicts == ["resources.web"]
    assert "1x H100" in info.value.message


ARM = catalog(*BASE.offerings, off("aws/eu-west-1", "a.xlarge", 0.06, arch="arm64"))


def test_arch_x86_never_takes_arm_and_arm_takes_arm():
    assert where(plan(stack(web()), ARM), "web") == [("aws", "ap-south-1", "m.xlarge", False, 1)]
    result = plan(stack(web(extra="arch: arm64")), ARM)
    assert where(result, "web") == [("aws", "eu-west-1", "a.xlarge", False, 1)]
    reasons = {(e.cloud, e.region): e.reason for e in result.explanations["web"].excluded}
    assert reasons[("aws", "us-east-1")] == "arch"


def test_arch_with_no_offering_anywhere_names_the_arch():
    with pytest.raises(InfeasiblePlacement) as info:
        plan(stack(web(extra="arch: arm64")), BASE)
    assert "resources.web.arch" in info.value.conflicts


# --- where: clouds, geo, regions -------------------------------------------------------------------------

def test_candidate_clouds_from_the_stack():
    result = plan(stack(web(), placement="clouds: [azure, gcp]"), BASE)
    assert where(result, "web") == [("gcp", "us-central1", "n4", False, 1)]


def test_candidate_clouds_from_the_installed_providers():
    result = plan(stack(web()), BASE, clouds=("azure", "gcp"))
    assert where(result, "web") == [("gcp", "us-central1", "n4", False, 1)]
    aws = [e for e in result.explanations["web"].excluded if e.cloud == "aws"]
    assert [(e.reason, e.region) for e in aws] == [("cloud", None)]  # one line for the whole cloud
    assert "no provider plugin" in aws[0].detail


@pytest.mark.parametrize(("placement", "expected"), [
    ("geo: [eu]", ("aws", "eu-west-1", "m.xlarge")),
    ("geo: [us]", ("aws", "us-east-1", "m.xlarge")),
    ("regions: [westeurope, europe-west4]", ("gcp", "europe-west4", "n4")),
    ("exclude_regions: [ap-south-1]", ("aws", "us-east-1", "m.xlarge")),
    ("geo: [eu]\nexclude_regions: [eu-west-1]", ("gcp", "europe-west4", "n4")),
])
def test_geo_regions_and_exclusions(placement, expected):
    assert where(plan(stack(web(), placement=placement), BASE), "web") == [(*expected, False, 1)]


def test_geo_with_no_region_is_infeasible_and_says_geo():
    with pytest.raises(InfeasiblePlacement) as info:
        plan(stack(web(), placement="geo: [sa]"), BASE)
    assert any(c.startswith("placement.geo") for c in info.value.conflicts)


# --- spot -----------------------------------------------------------------------------------------------

def test_spot_allowed_takes_the_cheapest_spot_price():
    result = plan(stack(web(2, "spot: true")), BASE)
    assert where(result, "web") == [("azure", "eastus", "d4", True, 2)]
    assert monthly(result) == pytest.approx(2 * 0.02 * 730)


def test_spot_not_allowed_never_takes_spot():
    result = plan(stack(web(2)), BASE)
    assert all(not s.spot for s in result.placements["web"].slots)
    assert monthly(result) == pytest.approx(2 * 0.09 * 730)


def test_spot_unsupported_by_a_cloud_is_not_used():
    result = plan(stack(web(2, "spot: true")), BASE, unsupported={"azure": {"spot": "no spot here"}})
    assert where(result, "web") == [("aws", "us-east-1", "m.xlarge", True, 2)]


# --- spread ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("spread", "hourly"), [
    # 2 x ap-south-1 (0.09) + the cheapest other cloud, gcp us-central1 (0.105)
    ("min_clouds: 2", 2 * 0.09 + 0.105),
    # 2 x ap-south-1 + us-east-1 (0.10)
    ("min_regions: 2", 2 * 0.09 + 0.10),
    # the three cheapest regions
    ("max_per_region: 1", 0.09 + 0.10 + 0.105),
    # one per cloud
    ("max_per_cloud: 1", 0.09 + 0.105 + 0.11),
    ("max_per_cloud: 2", 2 * 0.09 + 0.105),
    ("{min_clouds: 3, max_per_region: 2}", 0.09 + 0.105 + 0.11),
])
def test_spread(spread, hourly):
    result = plan(stack(web(3, f"spread: {spread}" if spread.startswith("{") else f"spread: {{{spread}}}")), BASE)
    assert result.placements["web"].count == 3
    assert monthly(result) == pytest.approx(hourly * 730)


def test_spread_min_clouds_places_exactly_as_worked_out():
    result = plan(stack(web(3, "spread: {min_clouds: 2}")), BASE)
    assert per_region(result, "web") == {"aws/ap-south-1": 2, "gcp/us-central1": 1}


def test_spread_max_per_region_places_exactly_as_worked_out():
    result = plan(stack(web(5, "spread: {max_per_region: 2}")), BASE)
    assert per_region(result, "web") == {"aws/ap-south-1": 2, "aws/us-east-1": 2, "gcp/us-central1": 1}


# --- near and apart --------------------------------------------------------------------------------------

NEAR = catalog(*BASE.offerings, databases=(
    db("gcp/us-central1", "db-g", 0.10), db("aws/us-east-1", "db-a", 0.15), db("aws/ap-south-1", "db-ap", 0.30),
))
DB = """
orders:
  kind: database
  network: net
  engine: postgres
  version: "16"
  near: web
"""


def test_near_puts_the_database_next_to_some_replicas():
    # `near` asks for the database's region to host some of web. All in one region would cost, with the db:
    # ap-south-1 0.18 + 0.30; us-east-1 0.20 + 0.15; us-central1 0.21 + 0.10 = 0.31. Splitting web is
    # cheaper still: one replica in ap-south-1 (0.09), one in us-central1 (0.105) with the db (0.10) = 0.295
    result = plan(stack(web(2) + DB), NEAR)
    assert per_region(result, "web") == {"aws/ap-south-1": 1, "gcp/us-central1": 1}
    assert where(result, "orders") == [("gcp", "us-central1", "db-g", False, 1)]
    assert result.monthly_usd == pytest.approx(0.295 * 730)


def test_near_with_spread_one_region_keeps_them_together():
    # min_regions is not asked; max_per_cloud: 2 on web still allows both on gcp with the db: 0.31
    result = plan(stack(web(2, "spread: {max_per_region: 2, max_per_cloud: 2}") + DB,
                        placement="clouds: [gcp, azure]"), NEAR)
    assert per_region(result, "web") == {"gcp/us-central1": 2}
    assert result.monthly_usd == pytest.approx(0.31 * 730)


def test_without_near_each_goes_to_its_cheapest():
    result = plan(stack(web(2) + DB.replace("  near: web\n", "")), NEAR)
    assert where(result, "web")[0][:2] == ("aws", "ap-south-1")
    assert where(result, "orders")[0][:2] == ("gcp", "us-central1")


def test_compute_near_compute_and_bucket_near():
    resources = web(2) + """
worker:
  kind: compute
  network: net
  cpu: 4
  memory_gb: 16
  near: web
  spread: {max_per_region: 1}
assets:
  kind: bucket
  near: worker
  size_gb: 100
"""
    result = plan(stack(resources, placement="exclude_regions: [ap-south-1]"), BASE)
    assert set(per_region(result, "worker")) <= set(per_region(result, "web"))
    bucket = result.placements["assets"]
    assert (bucket.cloud, bucket.region) == ("aws", "us-east-1")
    assert bucket.storage_monthly_usd == pytest.approx(2.0)


def test_apart_never_shares_a_region():
    resources = web(1) + """
api:
  kind: compute
  network: net
  cpu: 4
  memory_gb: 16
  apart: [web]
"""
    result = plan(stack(resources), BASE)
    assert set(per_region(result, "web")).isdisjoint(per_region(result, "api"))
    assert result.monthly_usd == pytest.approx((0.09 + 0.10) * 730)


# --- quotas ---------------------------------------------------------------------------------------------

def test_region_quota():
    # 8 vCPUs fit two 4-vCPU replicas in ap-south-1; the third goes to us-east-1
    result = plan(stack(web(3)), BASE, vcpu_quotas={"aws/ap-south-1": 8})
    assert per_region(result, "web") == {"aws/ap-south-1": 2, "aws/us-east-1": 1}
    assert result.monthly_usd == pytest.approx(0.28 * 730)


def test_cloud_quota():
    # 4 aws vCPUs: one replica on aws, two on the next cheapest cloud (gcp 0.105)
    result = plan(stack(web(3)), BASE, vcpu_quotas={"aws": 4})
    assert per_region(result, "web") == {"aws/ap-south-1": 1, "gcp/us-central1": 2}
    assert result.monthly_usd == pytest.approx(0.30 * 730)


def test_quota_prefers_fewer_vcpus_over_a_cheaper_bigger_type():
    # m.big (8 vCPU, 0.085) is the cheapest fit; under an 8-vCPU quota two m.xlarge (4 vCPU) fit instead:
    # 2 x 0.09 + 0.10 = 0.28 beats 1 x m.big + 2 x 0.10 = 0.285
    cat = catalog(*BASE.offerings, off("aws/ap-south-1", "m.big", 0.085, 8, 16))
    assert where(plan(stack(web(3)), cat), "web") == [("aws", "ap-south-1", "m.big", False, 3)]
    result = plan(stack(web(3)), cat, vcpu_quotas={"aws/ap-south-1": 8})
    assert sorted(where(result, "web")) == [("aws", "ap-south-1", "m.xlarge", False, 2),
                                            ("aws", "us-east-1", "m.xlarge", False, 1)]


def test_quota_that_cannot_bind_changes_nothing():
    free = plan(stack(web(3)), BASE)
    assert plan(stack(web(3)), BASE, vcpu_quotas={"aws": 1000, "gcp/us-central1": 4}) == free


def test_databases_do_not_count_against_vm_quotas():
    result = plan(stack(web(1) + DB), NEAR, vcpu_quotas={"gcp": 4})
    assert result.monthly_usd == pytest.approx((0.105 + 0.10) * 730)


# --- budget ---------------------------------------------------------------------------------------------

def test_over_budget_names_the_cheapest_cost():
    with pytest.raises(OverBudget) as info:
        plan(stack(web(2), budget=100), BASE)
    err = info.value
    assert err.exit_code == ExitCode.OVER_BUDGET == 4
    assert err.monthly_usd == 131.4 and err.budget_usd == 100
    assert "$131.40/month" in err.hint


def test_within_budget_plans():
    assert plan(stack(web(2), budget=131.4), BASE).monthly_usd == 131.4


# --- objectives ------------------------------------------------------------------------------------------

ZONED = catalog(
    off("aws/us-east-1", "one-zone", 0.09, zones=("a",)),  # availability 0.99
    off("aws/us-east-1", "three-zone", 0.10),  # 0.999
)


def test_objective_cost_takes_the_cheap_single_zone_type():
    result = plan(stack(web(2), placement="objective: cost"), ZONED)
    assert where(result, "web") == [("aws", "us-east-1", "one-zone", False, 2)]
    assert result.objective == "cost"


def test_objective_availability_takes_the_three_zone_type():
    result = plan(stack(web(2), placement="objective: availability"), ZONED)
    assert where(result, "web") == [("aws", "us-east-1", "three-zone", False, 2)]
    assert result.placements["web"].slots[0].availability == 0.999


def test_objective_availability_within_an_in_model_budget():
    # two three-zone replicas cost 146.00 > 140; one of each (138.70) is the most available that fits
    result = plan(stack(web(2), placement="objective: availability", budget=140), ZONED)
    assert sorted(where(result, "web")) == [("aws", "us-east-1", "one-zone", False, 1),
                                            ("aws", "us-east-1", "three-zone", False, 1)]
    assert result.monthly_usd == pytest.approx(138.70)


def test_objective_availability_over_budget_names_the_cheapest():
    with pytest.raises(OverBudget) as info:
        plan(stack(web(2), placement="objective: availability", budget=100), ZONED)
    assert "$131.40/month" in info.value.hint


@pytest.mark.parametrize(("price", "expected"), [
    # balanced weighs price x (1 + 10 x unavailability): 65.70 x 1.10 = 72.27 against
    (0.095, "three-zone"),  # 69.35 x 1.01 = 70.04: the three-zone type wins
    (0.10, "one-zone"),  # 73.00 x 1.01 = 73.73: the single-zone type wins
])
def test_objective_balanced(price, expected):
    cat = catalog(off("aws/us-east-1", "one-zone", 0.09, zones=("a",)), off("aws/us-east-1", "three-zone", price))
    result = plan(stack(web(1), placement="objective: balanced"), cat)
    assert where(result, "web") == [("aws", "us-east-1", expected, False, 1)]


# --- ties -----------------------------------------------------------------------------------------------

TIES = (
    off("gcp/us-central1", "b-type", 0.10),
    off("aws/us-east-1", "z-type", 0.10),
    off("aws/us-east-1", "a-type", 0.10),
    off("azure/eastus", "d4", 0.10),
)


def test_ties_are_broken_by_cloud_region_and_type_name():
    assert where(plan(stack(web(3)), catalog(*TIES)), "web") == [("aws", "us-east-1", "a-type", False, 3)]


def test_catalog_order_does_not_change_the_result():
    first = plan(stack(web(3, "spread: {max_per_region: 1}")), catalog(*TIES, *BASE.offerings))
    for seed in range(5):
        shuffled = list(TIES + BASE.offerings)
        random.Random(seed).shuffle(shuffled)
        assert plan(stack(web(3, "spread: {max_per_region: 1}")), catalog(*shuffled)) == first


def test_a_blocked_offering_is_never_placed_and_the_next_best_is():
    # a workflow's failover blocks the offering that ran out of capacity: ap-south-1's 0.09 is gone, us-east-1's
    # 0.10 is next; blocking every 4-vCPU offering but one leaves that one, blocking all is infeasible
    blocked = {("aws", "ap-south-1", "m.xlarge")}
    assert where(plan(stack(web()), BASE, blocked=frozenset(blocked)), "web") == \
        [("aws", "us-east-1", "m.xlarge", False, 1)]
    everything = frozenset((o.cloud, o.region, o.instance_type) for o in BASE.offerings)
    with pytest.raises(InfeasiblePlacement):
        plan(stack(web()), BASE, blocked=everything)
