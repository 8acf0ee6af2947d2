"""How offerings are priced and scored, and how the MILP breaks ties and bounds its cost.

The scores are the model README's "Placement" section describes: an offering's availability is 0.999 with three
or more zones, x0.95 on spot, x0.9 per recorded capacity failure; ``balanced`` weighs the price by
(1 + 10 x unavailability). Each case sits on both sides of the point where that model changes the choice,
so a changed factor moves a placement.
"""

from __future__ import annotations

import pytest

from cloudorch.placement import milp
from tests.placement.test_constraints import DB, TIES, web
from tests.support import ROOT
from tests.placement.tiny import catalog, db, demand, off, option, per_region, plan, problem, stack, where

ONE = "aws/us-east-1"


# --- spot and capacity failures count against availability ------------------------------------------------

@pytest.mark.parametrize(("spot_price", "spot"), [
    # on-demand 0.10 x 1.01 = 0.1010 per hour-equivalent; spot 0.999 x 0.95 = 0.94905 available, x 1.5095
    (0.066, True),  # 0.0996: cheaper even counting the interruptions
    (0.068, False),  # 0.1026: not worth them
])
def test_balanced_takes_spot_only_when_its_discount_outweighs_its_interruptions(spot_price, spot):
    result = plan(stack(web(2, "spot: true"), placement="objective: balanced"),
                  catalog(off(ONE, "m", 0.10, spot=spot_price)))
    assert where(result, "web") == [("aws", "us-east-1", "m", spot, 2)]


def test_availability_never_takes_spot_and_cost_always_takes_the_cheaper_spot():
    cat = catalog(off(ONE, "m", 0.10, spot=0.01))
    assert where(plan(stack(web(2, "spot: true"), placement="objective: availability"), cat), "web") == [
        ("aws", "us-east-1", "m", False, 2)]
    assert where(plan(stack(web(2, "spot: true"), placement="objective: cost"), cat), "web") == [
        ("aws", "us-east-1", "m", True, 2)]


@pytest.mark.parametrize(("flaky_price", "chosen"), [
    # one failure: 0.999 x 0.9 = 0.8991 available, x 2.009; the clean type 0.10 x 1.01 = 0.1010
    (0.050, "flaky"),  # 0.10045
    (0.051, "clean"),  # 0.10246
])
def test_balanced_weighs_each_recorded_capacity_failure(flaky_price, chosen):
    cat = catalog(off(ONE, "flaky", flaky_price), off(ONE, "clean", 0.10))
    result = plan(stack(web(1), placement="objective: balanced"), cat, capacity_failures={("aws", "us-east-1", "flaky"): 1})
    assert where(result, "web") == [("aws", "us-east-1", chosen, False, 1)]


def test_more_failures_make_an_offering_less_available_never_more():
    cat = catalog(off(ONE, "twice", 0.05), off(ONE, "once", 0.06))
    failures = {("aws", "us-east-1", "twice"): 2, ("aws", "us-east-1", "once"): 1}
    result = plan(stack(web(1), placement="objective: availability"), cat, capacity_failures=failures)
    assert where(result, "web") == [("aws", "us-east-1", "once", False, 1)]
    assert result.placements["web"].slots[0].availability == pytest.approx(0.999 * 0.9)
    # the cost objective does not look at failures
    assert where(plan(stack(web(1)), cat, capacity_failures=failures), "web")[0][2] == "twice"


# --- managed databases ----------------------------------------------------------------------------------

DBS = catalog(off(ONE, "m", 0.10), databases=(
    db(ONE, "db.small", 0.10, 2, 8, storage_gb_month=0.10),
    db(ONE, "db.large", 0.25, 2, 16, storage_gb_month=0.10),
))


def _orders(extra: str) -> str:
    return web(1) + DB.replace("  near: web\n", "") + "".join(f"  {line}\n" for line in extra.splitlines())


@pytest.mark.parametrize(("ha", "monthly"), [
    # the instance price doubles for the standby; the storage is billed once: 100 GB x $0.10
    (False, 0.10 * 730 + 10),
    (True, 2 * 0.10 * 730 + 10),
])
def test_a_highly_available_database_pays_for_one_standby_and_its_storage_once(ha, monthly):
    result = plan(stack(_orders(f"storage_gb: 100\nhigh_availability: {str(ha).lower()}")), DBS)
    assert where(result, "orders") == [("aws", "us-east-1", "db.small", False, 1)]
    assert result.placements["orders"].monthly_usd == pytest.approx(monthly)


@pytest.mark.parametrize(("memory", "chosen"), [(8, "db.small"), (9, "db.large"), (16, "db.large")])
def test_a_database_class_must_have_the_memory_asked_for(memory, chosen):
    result = plan(stack(_orders(f"memory_gb: {memory}")), DBS)
    assert where(result, "orders")[0][2] == chosen


# --- the MILP itself --------------------------------------------------------------------------------------

def test_equal_prices_go_to_the_first_in_catalog_order_even_under_spread():
    # two replicas, one per region, four offerings at one price: the first two by (cloud, region, type)
    result = plan(stack(web(2, "spread: {max_per_region: 1}")), catalog(*TIES))
    assert sorted(where(result, "web")) == [("aws", "us-east-1", "a-type", False, 1),
                                            ("azure", "eastus", "d4", False, 1)]


def test_near_keeps_a_database_out_of_regions_where_its_target_cannot_run():
    # web runs only in us-east-1; the database is cheaper in us-central1, but web can never be there
    cat = catalog(off(ONE, "m", 0.10), databases=(db("gcp/us-central1", "db-g", 0.05), db(ONE, "db-a", 0.15)))
    result = plan(stack(web(1) + DB), cat)
    assert per_region(result, "orders") == {"aws/us-east-1": 1}
    assert result.monthly_usd == pytest.approx((0.10 + 0.15) * 730)


def test_the_lower_bound_never_exceeds_the_cost():
    # 1,000 replicas on the second-ranked of two equal offerings: the solver's bound carries the tie-break
    # (1e-7 per replica and rank) and sits above the true cost, which the solution must not report
    solution = milp.solve(problem(demand("web", 2000, [option("aws/r1", 0.10), option("aws/r2", 0.10)],
                                         max_per_region=1000)))
    assert solution.monthly_usd == pytest.approx(146_000.0)
    assert solution.lower_bound_monthly_usd == solution.monthly_usd


def test_the_lp_bound_is_the_relaxation_not_the_integer_optimum():
    # one 4-vCPU replica, a 2-vCPU quota where it is cheap: the LP puts half a replica there (0.5 x 73 +
    # 0.5 x 146 = 109.50); a whole replica must go to the dear region (146.00)
    cheap_then_dear = problem(demand("web", 1, [option("aws/us-east-1", 0.10), option("gcp/us-central1", 0.20)]),
                              quotas={"aws": 2})
    assert milp.lp_bound(cheap_then_dear) == pytest.approx(109.50)
    assert milp.solve(cheap_then_dear).monthly_usd == pytest.approx(146.00)


def test_solving_prints_nothing(tmp_path):
    """HiGHS prints a banner when first constructed and a log while solving; either would corrupt
    ``--format json`` on stdout. A fresh interpreter, since the banner comes once per process."""
    import subprocess
    import sys

    script = ("from tests.placement.tiny import demand, option, problem\n"
              "from cloudorch.placement import milp\n"
              "p = problem(demand('web', 3, [option('aws/a', 0.1), option('aws/b', 0.2)], max_per_region=2))\n"
              "assert milp.solve(p) is not None and milp.lp_bound(p) is not None\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
