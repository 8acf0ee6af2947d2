"""The whole bill in the objective: a split across clouds is taken only when it pays for its link and traffic.

Rates are written here by hand (not read from the price list) so each expected figure can be worked out on
paper; ``network_cost`` is checked against an enumeration of every placement of small random stacks.
"""

from __future__ import annotations

import itertools
import random

import pytest

from cloudorch.errors import InfeasiblePlacement
from cloudorch.placement.bill import network_cost
from cloudorch.placement.rates import NetworkRates
from tests.placement.tiny import catalog, db, off, plan, stack

LOCS = [("aws", "us-east-1"), ("aws", "eu-west-1"), ("azure", "eastus"), ("gcp", "us-central1")]


def rates(site=10.0, vpn_site=100.0, link=50.0, same_region=0.01, same_cloud=0.02, cross=0.09) -> NetworkRates:
    per_gb = {}
    for cloud, region in LOCS + [("azure", "westeurope"), ("gcp", "europe-west4"), ("aws", "ap-south-1")]:
        per_gb |= {(cloud, region, "same-region"): same_region, (cloud, region, "same-cloud"): same_cloud,
                   (cloud, region, "cross-cloud"): cross}
    clouds = ("aws", "azure", "gcp")
    return NetworkRates(site=dict.fromkeys(clouds, site), vpn_site=dict.fromkeys(clouds, vpn_site),
                        vpn_link_side=dict.fromkeys(clouds, link / 2), per_gb=per_gb,
                        internet_gb={loc: cross for loc in LOCS}, nat_gb=dict.fromkeys(clouds, 0.045))


CAT = catalog(off("aws/us-east-1", "m.large", 0.10), off("gcp/us-central1", "n.large", 0.09),
              databases=(db("aws/us-east-1", "db.m", 0.20),))
WEB_DB = """
web: {kind: compute, network: net, count: 1, cpu: 2, memory_gb: 4}
orders: {kind: database, network: net, engine: postgres, version: "16", ingress: [{port: 5432, from: web%s}]}
"""


def test_without_network_prices_the_cheaper_machine_across_the_border_wins():
    result = plan(stack(WEB_DB % ""), CAT)
    assert result.placements["web"].clouds == ("gcp",)
    assert result.network_cost is None


def test_a_split_that_does_not_pay_for_its_link_is_not_taken():
    # gcp saves $7.30 a month on the machine; the split costs a link ($50) and two gateways ($200)
    result = plan(stack(WEB_DB % ""), CAT, rates=rates())
    assert result.placements["web"].locations == (("aws", "us-east-1"),)
    assert result.monthly_usd == pytest.approx(73.0 + 146.0 + 10.0, abs=0.01)  # web, database, one site
    assert [line.kind for line in result.network_cost.lines] == ["site"]


def test_a_split_that_pays_for_itself_is_taken():
    # free links and gateways: the $7.30 saving beats 100 GB x $0.09 - $0.01 = $8.00? no: traffic decides
    cheap = rates(vpn_site=0.0, link=0.0, site=0.0)
    assert plan(stack(WEB_DB % ""), CAT, rates=cheap).placements["web"].clouds == ("gcp",)
    # 100 GB a month across clouds costs $9.00 against $1.00 in one region: now the split no longer pays
    assert plan(stack(WEB_DB % ", gb_month: 100"), CAT, rates=cheap).placements["web"].clouds == ("aws",)
    # 50 GB: $4.50 against $0.50, a $4.00 difference, less than the $7.30 saved
    assert plan(stack(WEB_DB % ", gb_month: 50"), CAT, rates=cheap).placements["web"].clouds == ("gcp",)


def test_cross_cloud_forbid_keeps_both_ends_of_a_flow_in_one_cloud():
    free = rates(vpn_site=0.0, link=0.0, site=0.0, cross=0.0)
    result = plan(stack(WEB_DB % "", placement="cross_cloud: forbid"), CAT, rates=free)
    assert result.placements["web"].clouds == result.placements["orders"].clouds == ("aws",)


def test_cross_cloud_forbid_against_a_spread_is_named_as_the_conflict():
    st = stack(WEB_DB.replace("count: 1,", "count: 2, spread: {min_clouds: 2},") % "", placement="cross_cloud: forbid")
    cat = catalog(off("aws/us-east-1", "m.large", 0.10), off("gcp/us-central1", "n.large", 0.09),
                  databases=(db("aws/us-east-1", "db.m", 0.20),))
    with pytest.raises(InfeasiblePlacement) as err:
        plan(st, cat, rates=rates())
    assert "placement.cross_cloud" in " ".join(err.value.conflicts)


def test_lower_bound_is_never_above_the_cost():
    for gb in (0, 10, 1000):
        result = plan(stack(WEB_DB % f", gb_month: {gb}"), CAT, rates=rates())
        assert result.lower_bound_monthly_usd <= result.monthly_usd
        assert result.lower_bound_monthly_usd == pytest.approx(result.monthly_usd, abs=0.01)


# --- the optimum against every placement ------------------------------------------------------------------

def _random_case(rng: random.Random):
    offerings = []
    for cloud, region in LOCS:
        for i in range(rng.randint(0, 2)):
            offerings.append(off(f"{cloud}/{region}", f"t{i}", round(rng.uniform(0.05, 0.4), 3)))
    if not offerings:
        offerings.append(off("aws/us-east-1", "t0", 0.1))
    dbs = tuple(db(f"{c}/{r}", "db", round(rng.uniform(0.1, 0.3), 3)) for c, r in LOCS if rng.random() < 0.6) \
        or (db("aws/us-east-1", "db", 0.2),)
    count = rng.randint(1, 2)
    gb_a, gb_b = rng.choice([0, 20, 300]), rng.choice([0, 50, 2000])
    text = f"""
    web: {{kind: compute, network: net, count: {count}, cpu: 2, memory_gb: 4}}
    api: {{kind: compute, network: net, count: 1, cpu: 2, memory_gb: 4, ingress: [{{port: 80, from: web, gb_month: {gb_a}}}]}}
    orders: {{kind: database, network: net, engine: postgres, version: "16", ingress: [{{port: 5432, from: api, gb_month: {gb_b}}}]}}
    """
    r = rates(site=rng.choice([0.0, 30.0]), vpn_site=rng.choice([0.0, 80.0, 150.0]), link=rng.choice([0.0, 60.0]),
              same_region=0.01, same_cloud=rng.choice([0.02, 0.05]), cross=rng.choice([0.05, 0.09, 0.12]))
    return stack(text), catalog(*offerings, databases=dbs), r


def _brute_force(st, cat, r):
    """Every placement (one offering per replica, counts split over options), priced by the same bill."""
    from cloudorch.placement.bill import network_terms
    from cloudorch.placement.candidates import OfferingIndex, allowed_regions, compute_options, database_options
    from cloudorch.placement.capability import CapabilityFilter, requirements_of
    from tests.placement.tiny import settings

    s = settings(rates=r)
    regions, _ = allowed_regions(st, cat, s)
    index = OfferingIndex(cat, s)
    cap = CapabilityFilter(s.unsupported, regions)
    from cloudorch.placement.problem import Demand

    demands = []
    for name, spec in sorted(st.resources.items()):
        if spec.kind == "compute":
            opts, _ = compute_options(spec, cap.hosts(requirements_of(st, name)), index, False)
            demands.append(Demand(name, "compute", spec.count, opts))
        elif spec.kind == "database":
            opts, _ = database_options(spec, cap.hosts(requirements_of(st, name)), cat)
            demands.append(Demand(name, "database", 1, opts))
    terms = network_terms(st, tuple(demands), r)
    best = float("inf")
    choices = []
    for d in demands:
        choices.append([tuple((o, combo.count(o)) for o in sorted(set(combo), key=lambda o: o.sort_key))
                        for combo in itertools.combinations_with_replacement(d.options, d.count)])
    for picked in itertools.product(*choices):
        assignment = {d.name: p for d, p in zip(demands, picked)}
        machines = sum(o.monthly_usd * n for p in picked for o, n in p)
        best = min(best, machines + network_cost(terms, assignment).monthly_usd)
    return best


@pytest.mark.parametrize("seed", range(25))
def test_the_planner_finds_the_cheapest_whole_bill(seed):
    st, cat, r = _random_case(random.Random(seed))
    result = plan(st, cat, rates=r)
    assert result.monthly_usd == pytest.approx(_brute_force(st, cat, r), abs=0.02)
    assert result.lower_bound_monthly_usd <= result.monthly_usd
