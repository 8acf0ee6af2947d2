"""The whole bill in the objective: a split across clouds is taken only when it pays for its link and traffic.

Rates are written here by hand (not read from the price list) so each expected figure can be worked out on
paper; ``network_cost`` is checked against an enumeration of every placement of small random stacks.
"""

from __future__ import annotations

import itertools
import random
import textwrap

import pytest

from cloudorch.errors import InfeasiblePlacement
from cloudorch.placement.bill import network_cost
from cloudorch.placement.rates import NetworkRates, TunnelAllowance
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

def _random_case(rng: random.Random, web_rules: str = ""):
    """A small whole-bill case; ``web_rules``: more of web's fields (``"apart: [api], "``), drawing nothing."""
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
    web: {{kind: compute, network: net, count: {count}, {web_rules}cpu: 2, memory_gb: 4}}
    api: {{kind: compute, network: net, count: 1, cpu: 2, memory_gb: 4, ingress: [{{port: 80, from: web, gb_month: {gb_a}}}]}}
    orders: {{kind: database, network: net, engine: postgres, version: "16", ingress: [{{port: 5432, from: api, gb_month: {gb_b}}}]}}
    """
    r = rates(site=rng.choice([0.0, 30.0]), vpn_site=rng.choice([0.0, 80.0, 150.0]), link=rng.choice([0.0, 60.0]),
              same_region=0.01, same_cloud=rng.choice([0.02, 0.05]), cross=rng.choice([0.05, 0.09, 0.12]))
    balancer = rng.choice([0.0, 0.0, 5.0, 40.0])  # drawn last: the cases above stay what they were
    if balancer:  # web served: a balancer in each of its locations, dearer on some clouds
        text = text.replace("memory_gb: 4}", "memory_gb: 4, serve: {protocol: http}}", 1)
        r = NetworkRates(**{**r.__dict__, "serving": {c: {"application": balancer * (1 + i)}
                                                      for i, c in enumerate(("aws", "azure", "gcp"))}})
    return stack(text), catalog(*offerings, databases=dbs), r


def _brute_force(st, cat, r, allowed=lambda assignment: True):
    """Every placement (one offering per replica, counts split over options) that ``allowed`` admits (the
    rules the case has: none unless told), priced by the same bill."""
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
        if not allowed(assignment):
            continue
        machines = sum(o.monthly_usd * n for p in picked for o, n in p)
        best = min(best, machines + network_cost(terms, assignment).monthly_usd)
    return best


@pytest.mark.parametrize("tunnels", [False, True])
@pytest.mark.parametrize("seed", range(25))
def test_the_planner_finds_the_cheapest_whole_bill(seed, tunnels):
    st, cat, r = _random_case(random.Random(seed))
    r = with_tunnels(r) if tunnels else r  # a gateway that bills the tunnels past its allowance (below)
    result = plan(st, cat, rates=r)
    assert result.monthly_usd == pytest.approx(_brute_force(st, cat, r), abs=0.02)
    assert result.lower_bound_monthly_usd <= result.monthly_usd


# --- a gateway whose price includes some tunnels (Azure's: the first ten) ---------------------------------

#: two tunnels in the gateway's price and $40 a month for each beyond: one link to AWS (four tunnels) passes it
TUNNELS = TunnelAllowance(included=2, beyond=40.0)


def with_tunnels(r: NetworkRates) -> NetworkRates:
    return NetworkRates(**{**r.__dict__, "tunnel_allowance": {"azure": TUNNELS},
                           "vpn_interfaces": {"aws": 4, "azure": 2, "gcp": 2}})


def test_a_gateway_pays_for_the_tunnels_its_links_bring_past_its_allowance():
    # web only on aws, the database only on azure: one link of four tunnels, two past azure's allowance
    cat = catalog(off("aws/us-east-1", "m.large", 0.10), databases=(db("azure/eastus", "db.m", 0.20),))
    result = plan(stack(WEB_DB % ""), cat, rates=with_tunnels(rates()))
    gateways = {line.what: line.monthly_usd for line in result.network_cost.lines if line.kind == "vpn-gateway"}
    assert gateways == {"net@aws/us-east-1": 100.0, "net@azure/eastus": 100.0 + 2 * 40.0}
    # web, database, two sites, two gateways, the link, the tunnels past the allowance
    assert result.monthly_usd == pytest.approx(73.0 + 146.0 + 2 * 10.0 + 2 * 100.0 + 50.0 + 2 * 40.0, abs=0.01)
    assert result.lower_bound_monthly_usd == pytest.approx(result.monthly_usd, abs=0.01)


# --- a served resource's balancers: each location's fixed cost -------------------------------------------

SERVED = """
api-a: {kind: compute, network: net, count: 1, cpu: 2, memory_gb: 4, arch: arm64}
api-b: {kind: compute, network: net, count: 1, cpu: 16, memory_gb: 16}
web:
  kind: compute
  network: net
  count: 2
  cpu: 4
  memory_gb: 16
  spread: {%s}
  ingress: [{port: 80, from: api-a, gb_month: 1000}, {port: 80, from: api-b, gb_month: 1000}]
  %s
"""
# api-a runs only on AWS (the one arm64 machine), api-b only on GCP (the one 16-vCPU machine); web costs the
# same on both, so only its traffic and its balancers tell it where to go
SERVED_CAT = catalog(off("aws/us-east-1", "m.large", 0.10), off("gcp/us-central1", "n.large", 0.10),
                     off("aws/us-east-1", "a.arm", 0.05, arch="arm64"), off("gcp/us-central1", "n.huge", 0.40, cpu=16))
MACHINES = (2 * 0.10 + 0.05 + 0.40) * 730


def served_rates(balancer: float) -> NetworkRates:
    free = rates(site=0.0, vpn_site=0.0, link=0.0)
    return NetworkRates(**{**free.__dict__, "serving": {c: {"application": balancer} for c in ("aws", "azure", "gcp")}})


def served(balancer: float, spread: str = "", serve: bool = True):
    result = plan(stack(SERVED % (spread, "serve: {protocol: http}" if serve else "")), SERVED_CAT,
                  rates=served_rates(balancer))
    lines = [(line.what, line.monthly_usd) for line in result.network_cost.lines if line.kind == "balancer"]
    return result, lines


def test_a_served_resource_split_over_two_locations_pays_two_balancers():
    # beside both of its clients web sends 2,000 GB at $0.01 ($20); in one place half crosses clouds at $0.09
    # ($100): the $80 saved pays two $30 balancers rather than one
    result, lines = served(30.0)
    assert result.placements["web"].locations == (("aws", "us-east-1"), ("gcp", "us-central1"))
    assert lines == [("web@aws/us-east-1", 30.0), ("web@gcp/us-central1", 30.0)]
    assert result.monthly_usd == pytest.approx(MACHINES + 60.0 + 20.0, abs=0.01)


def test_a_balancer_dearer_than_the_saving_consolidates():
    result, lines = served(100.0)  # two: $200 + $20; one: $100 + $100
    assert len(result.placements["web"].locations) == 1
    assert len(lines) == 1
    assert result.monthly_usd == pytest.approx(MACHINES + 100.0 + 100.0, abs=0.01)
    # the control: the same stack not served spreads, since nothing is fixed per location
    assert len(served(100.0, serve=False)[0].placements["web"].locations) == 2


@pytest.mark.parametrize("spread", ["min_clouds: 2", "min_regions: 2", "max_per_region: 1"])
def test_a_spread_rule_pays_every_balancer_it_asks_for(spread):
    result, lines = served(100.0, spread)
    assert len(result.placements["web"].locations) == len(lines) == 2
    assert result.monthly_usd == pytest.approx(MACHINES + 200.0 + 20.0, abs=0.01)
    assert result.lower_bound_monthly_usd <= result.monthly_usd + 0.01
    # the bound knows two balancers are forced, whatever else it misses
    assert result.lower_bound_monthly_usd >= MACHINES + 200.0 - 0.01


def test_the_global_name_prices_its_zone_once_and_a_health_check_per_location():
    from cloudorch.spec.loader import parse_stack

    yaml = "dns: {zone: shop.example.com, provider: aws}\n" + "stack: test\nresources:\n  net: {kind: network, " \
        "cidr: 10.0.0.0/16}\n" + textwrap.indent(textwrap.dedent(SERVED % ("", "serve: {protocol: http, name: www}"))
                                                  .strip(), "  ") + "\n"
    charges = {"application": 30.0, "zone": 0.5, "name_check": 0.5, "name_check_external": 0.75}
    r = NetworkRates(**{**rates(site=0.0, vpn_site=0.0, link=0.0).__dict__,
                        "serving": {"aws": charges, "gcp": {"application": 30.0}}})
    result = plan(parse_stack(yaml, "test.yaml").stack, SERVED_CAT, rates=r)
    lines = {(line.kind, line.what): line.monthly_usd for line in result.network_cost.lines}
    # the zone is on AWS: a balancer there is checked as an AWS endpoint, one on GCP as an external one
    assert lines[("balancer", "web@aws/us-east-1")] == 30.5
    assert lines[("balancer", "web@gcp/us-central1")] == 30.75
    assert lines[("dns-zone", "the stack's DNS zone")] == 0.5
    assert result.monthly_usd == pytest.approx(MACHINES + 61.25 + 0.5 + 20.0, abs=0.01)


def test_internet_egress_pays_the_nat_only_where_it_passes_one():
    # 1,000 GB a month each at $0.09: a private resource's leaves through its site's NAT ($0.045 a GB more);
    # one with a public address sends its own; a served one's replicas answer their balancers, which send
    # the responses out
    st = stack("""
    private: {kind: compute, network: net, count: 1, cpu: 2, memory_gb: 4, egress_gb_month: 1000}
    public: {kind: compute, network: net, count: 1, cpu: 2, memory_gb: 4, egress_gb_month: 1000,
             ingress: [{port: 443, from: internet}]}
    served: {kind: compute, network: net, count: 1, cpu: 2, memory_gb: 4, egress_gb_month: 1000,
             serve: {protocol: http}}
    """, placement="clouds: [aws]")
    result = plan(st, CAT, rates=rates(), clouds=("aws",))
    egress = {line.what: line.monthly_usd for line in result.network_cost.lines if line.kind == "egress"}
    assert egress == pytest.approx({"private": 1000 * (0.09 + 0.045), "public": 90.0, "served": 90.0})
