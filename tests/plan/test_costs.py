"""What the plan bills: a resource billed partly by a volume nobody declares (the rest priced, that part
listed as unpriced), Cloud NAT by the VMs it serves, and on random stacks the placement's total equal to
the rendered bill's."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cloudorch import api
from cloudorch.errors import InfeasiblePlacement, SpecError
from tests.rendering.test_reach import SESSION, random_stacks
from tests.support import ROOT


def test_a_zone_is_priced_by_the_month_and_its_queries_listed_as_unknowable(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    plan = api.plan(ROOT / "stacks" / "webshop.yaml").plan
    zone = next(r for r in plan.resources if r.role == "dns-zone")
    priced = [line for line in plan.cost.lines if line["resource"] == zone.name]
    assert priced and priced[0]["basis"] == "price-list" and "dns_zone_month" in priced[0]["detail"]
    reason, = [u["reason"] for u in plan.cost.unpriced if u["resource"] == zone.name]
    # the price is published; the volume is what cannot be known
    assert "cannot know" in reason and "no published price" not in reason


def test_declared_queries_are_priced_by_how_the_records_route_them(monkeypatch, tmp_path):
    # webshop's zone is on Route 53 with latency records: 40 million queries at the latency rate
    text = (ROOT / "stacks" / "webshop.yaml").read_text()
    declared = text.replace("  steering: latency", "  queries_million_month: 40\n  steering: latency", 1)
    assert declared != text
    (tmp_path / "webshop.yaml").write_text(declared)
    monkeypatch.chdir(tmp_path)
    plan = api.plan(tmp_path / "webshop.yaml").plan
    zone = next(r for r in plan.resources if r.role == "dns-zone")
    line, = [line for line in plan.cost.lines if line["resource"] == zone.name]
    assert line["detail"] == "1 x dns_zone_month, 40 x dns_queries_million"
    assert line["monthly_usd"] == 0.5 + 40 * 0.6
    assert not [u for u in plan.cost.unpriced if u["resource"] == zone.name]


NAT_STACK = """\
stack: natty
placement: {clouds: [gcp], regions: [us-central1, europe-west4]}
resources:
  net: {kind: network, cidr: 10.0.0.0/16}
  workers: {kind: compute, network: net, count: %d, cpu: 2, memory_gb: 4, apart: [orders]}
  web: {kind: compute, network: net, count: 2, cpu: 2, memory_gb: 4, ingress: [{port: 443, from: internet}]}
  orders: {kind: database, network: net, engine: postgres, version: "16", ingress: [{port: 5432, from: workers}]}
"""


def test_cloud_nat_bills_the_vms_it_serves_up_to_its_cap_as_the_placement_priced_them(monkeypatch, tmp_path):
    # Cloud NAT (read 2026-12-08, cloud.google.com/nat/pricing): $0.0014 an hour per VM using the gateway up to
    # 32 VMs, $0.044 an hour for more; its address $0.005 an hour. web has public addresses (the NAT serves
    # none of them) and the database's region has no VM at all
    monkeypatch.chdir(tmp_path)
    for workers, nat_hourly in ((40, 0.044), (32, 32 * 0.0014), (5, 5 * 0.0014)):
        (tmp_path / "nat.yaml").write_text(NAT_STACK % workers)
        plan = api.plan(tmp_path / "nat.yaml").plan
        nat = {line["region"]: line for line in plan.cost.lines if line["resource"].endswith("-nat")}
        assert next(p for p in plan.placements if p.resource == "orders").region == "europe-west4"
        assert nat["us-central1"]["monthly_usd"] == round((nat_hourly + 0.005) * 730, 4)
        assert nat["europe-west4"]["monthly_usd"] == round(0.005 * 730, 4)
        # the placement priced the same NAT: its bill is the plan's
        assert plan.cost.placement_monthly_usd == plan.cost.monthly_usd


def test_an_azure_gateway_bills_its_tunnels_past_ten_as_the_placement_priced_them(monkeypatch, tmp_path):
    # a VpnGw1AZ's hourly price includes ten site-to-site tunnels, each beyond $0.015 an hour (SOURCES.md az-vpn):
    # the three-clouds stack ends twelve on its swedencentral gateway (two links to AWS of four, two to GCP
    # of two); found by a user audit as unpriced, now billed, and the placement weighed the same
    monkeypatch.chdir(tmp_path)
    plan = api.plan(ROOT / "tests" / "network" / "stacks" / "three-clouds.yaml").plan
    gateways = {line["resource"]: line for line in plan.cost.lines if "vpn_gateway_tunnel_hour" in line["detail"]}
    tunnels = {name: int(line["detail"].split(", ")[1].split(" x ")[0]) for name, line in gateways.items()}
    assert tunnels["net-azure-swedencentral-vpn-gw"] == 12
    for name, line in gateways.items():
        assert line["monthly_usd"] == pytest.approx(round((0.19 + 0.015 * max(0, tunnels[name] - 10)) * 730, 4))
    assert not [u for u in plan.cost.unpriced if "tunnel" in u["reason"]]
    assert plan.cost.placement_monthly_usd == plan.cost.monthly_usd


# -- random stacks: the placement's total is the bill's --------------------------------------------------

@st.composite
def billed_stacks(draw) -> dict:
    """The reachability test's random stacks (sites, links, traffic) with what else the bill prices beside
    the machines: internet egress (through a NAT or a public address), balancers, a global name, and
    cross_cloud either way."""
    stack = draw(random_stacks())
    served = False
    for name, spec in sorted(stack["resources"].items()):
        if spec["kind"] != "compute":
            continue
        spec["egress_gb_month"] = draw(st.sampled_from([0, 10, 500, 20000]))
        if draw(st.booleans()):
            served = True
            protocol = draw(st.sampled_from(["http", "https", "tcp"]))
            spec["serve"] = {"protocol": protocol, "backend_port": 8080, "name": f"www-{name}",
                             "gb_month": draw(st.sampled_from([0, 100, 5000]))}
            if protocol != "tcp":
                spec["serve"]["health"] = {"path": "/healthz"}
    stack["placement"]["cross_cloud"] = draw(st.sampled_from(["allow", "forbid"]))
    if served:
        stack["dns"] = {"zone": "billed.example.com", "provider": "aws", "steering": draw(st.sampled_from(["latency", "weighted"]))}
    return stack


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(stack=billed_stacks())
def test_the_placement_prices_what_the_rendered_bill_prices(stack, tmp_path_factory):
    path = tmp_path_factory.mktemp("billed") / "stack.yaml"
    path.write_text(yaml.safe_dump(stack, sort_keys=False))
    try:
        result = api.plan(path, SESSION)
    except (InfeasiblePlacement, SpecError):
        # rules that cannot hold together (forbid with min_clouds), Cloud SQL across a peering, a tcp service
        # beside a public resource on Azure
        assume(False)
    cost = json.loads(result.plan.to_json())["cost"]
    assert cost["placement_monthly_usd"] == pytest.approx(cost["monthly_usd"], abs=0.05), cost["unpriced"]
    assert cost["lower_bound_monthly_usd"] <= cost["monthly_usd"] + 0.01
    assert round(sum(cost["network_by_part"].values()), 2) == cost["network_monthly_usd"]


def test_the_network_part_of_the_bill_is_shown_by_what_bills(monkeypatch, tmp_path):
    # webshop's split: its VPN link (AWS two connections, GCP four tunnels: $36.50 a month each) first
    monkeypatch.chdir(tmp_path)
    cost = api.plan(ROOT / "stacks" / "webshop.yaml").plan.cost
    parts = cost.network_by_part
    assert round(sum(parts.values()), 2) == cost.network_monthly_usd  # to the cent (fraud-scoring was one off)
    assert next(iter(parts)) == "links" and parts["links"] == 6 * 36.5
    assert set(parts) == {"links", "nat", "egress", "serving", "addresses", "traffic", "logs and keys"}
    assert list(parts.values()) == sorted(parts.values(), reverse=True)


def test_the_parts_are_in_cents_that_add_up_and_a_whole_part_stays_whole():
    # rounded apart, 219.00 + 40.154 + 3.416 make 262.57 against a total of 262.57: the cent left goes to
    # the part rounding cut most (traffic, 0.6 of a cent), not to the dearest
    from cloudorch.plan.costs import Bill, CostLine

    bill = Bill(lines=(CostLine(resource="vpn", cloud="aws", basis="price-list", monthly_usd=219.0, part="links"),
                       CostLine(resource="nat", cloud="aws", basis="price-list", monthly_usd=40.154, part="nat"),
                       CostLine(resource="a->b", cloud="aws", basis="traffic", monthly_usd=3.416),
                       CostLine(resource="web", cloud="aws", basis="placement", monthly_usd=100.0)))
    assert bill.network_by_part(262.57) == {"links": 219.0, "nat": 40.15, "traffic": 3.42}
    assert bill.network_by_part(262.56) == {"links": 219.0, "nat": 40.15, "traffic": 3.41}


EGRESS = """
stack: out
placement: {clouds: [%s], geo: [us]}
resources:
  net: {kind: network, cidr: 10.10.0.0/16}
  web: {kind: compute, network: net, count: 2, cpu: 2, memory_gb: 4, egress_gb_month: %d,
        ingress: [{port: 443, from: internet}]}
"""


@pytest.mark.parametrize(("gb", "usd"), [
    # AWS: 10 TB (10,240 GB) at $0.09, 40 TB at $0.085, 100 TB at $0.07, the rest at $0.05 (found by a user
    # audit: every GB was billed at $0.09, 30% high at 200 TB)
    (200_000, 10_240 * 0.09 + 40_960 * 0.085 + 102_400 * 0.07 + 46_400 * 0.05),
    (5_000, 5_000 * 0.09),  # within the first paid tier: nothing taken off (the free 100 GB are the account's)
])
def test_internet_egress_is_billed_at_the_clouds_tiers_and_the_placement_agrees(gb, usd, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.yaml").write_text(EGRESS % ("aws", gb))
    result = api.plan(tmp_path / "out.yaml")
    cost = result.plan.cost
    egress = sum(line["monthly_usd"] for line in cost.lines if line["basis"] == "egress")
    assert egress == pytest.approx(usd, abs=0.01)
    assert [line["part"] for line in cost.lines if line["monthly_usd"] < 0] == (["egress tiers"] if gb > 10_240 else [])
    assert result.placement.network_cost is not None
    total = sum(s.monthly_usd for p in result.placement.placements.values() for s in p.slots)
    assert total + result.placement.network_cost.monthly_usd == pytest.approx(cost.monthly_usd, abs=0.01)
    # the bound leaves room for what the tiers of the clouds the stack may use can take off, no more (found
    # by review: it took off the most of any installed cloud's)
    taken = gb * 0.09 - usd
    assert cost.monthly_usd - taken - 0.02 <= result.placement.lower_bound_monthly_usd <= cost.monthly_usd


def test_egress_beyond_the_last_published_tier_stays_at_the_first_paid_tiers_price(monkeypatch, tmp_path):
    # Azure publishes its tiers up to 10 TB only here (SOURCES.md az-bandwidth): the GB beyond are no cheaper
    # (found by review: a first version took them off whole, billing them at $0 and passing a budget)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.yaml").write_text(EGRESS % ("azure", 30_000))
    cost = api.plan(tmp_path / "out.yaml").plan.cost
    egress = sum(line["monthly_usd"] for line in cost.lines if line["basis"] == "egress")
    assert egress == pytest.approx(30_000 * 0.0875, abs=0.01)
    assert not [line for line in cost.lines if line["monthly_usd"] < 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 2e6), min_size=3, max_size=3))
def test_no_split_of_a_volume_over_the_clouds_is_taken_off_more_than_the_bound_allows(volumes):
    # the bound leaves room for the most the tiers can take off: all of the volume on one cloud
    from cloudorch.placement.bill import most_taken_off
    from cloudorch.placement.rates import network_rates

    rates = network_rates(SESSION.catalog, api.network_shapes(SESSION.providers(), SESSION.config))
    clouds = ("aws", "azure", "gcp")
    split = sum(rates.egress[c].discount(v) for c, v in zip(clouds, volumes, strict=True))
    assert split <= most_taken_off(sum(volumes), rates, clouds) + 1e-6


def test_a_buckets_declared_egress_is_billed_in_its_cloud_with_its_tiers(monkeypatch, tmp_path):
    # found by review: a bucket's egress_gb_month was accepted and neither priced nor listed
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.yaml").write_text("stack: b\nplacement: {clouds: [aws], geo: [eu]}\nresources:\n"
                                     "  assets: {kind: bucket, size_gb: 100, egress_gb_month: 50000}\n")
    result = api.plan(tmp_path / "b.yaml")
    cost = result.plan.cost
    egress = sum(line["monthly_usd"] for line in cost.lines if line["basis"] == "egress")
    assert egress == pytest.approx(10_240 * 0.09 + 39_760 * 0.085, abs=0.01)
    assert [line["resource"] for line in cost.lines if line["basis"] == "egress" and line["monthly_usd"] > 0] == ["assets"]
    assert result.placement.lower_bound_monthly_usd == pytest.approx(cost.monthly_usd, abs=0.01)


PAIR = """
stack: pair
placement: {clouds: [aws, azure], geo: [eu]}
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  app: {kind: compute, network: net, count: 2, cpu: 2, memory_gb: 4, egress_gb_month: 500, spread: {min_clouds: 2}}
  api: {kind: compute, network: net, count: 2, cpu: 2, memory_gb: 4, spread: {min_clouds: 2},
        ingress: [{port: 8080, from: app, gb_month: 100}]}
"""


def test_the_placements_total_and_the_bills_agree_to_the_cent_past_float_noise(monkeypatch, tmp_path):
    # found by review: $630.20 against $630.19, the same half cent summed in two orders
    from cloudorch.placement.model import cents

    assert cents(630.1949999999999) == cents(630.1950000000001) == 630.2 and cents(0.004) == 0.0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pair.yaml").write_text(PAIR)
    cost = api.plan(tmp_path / "pair.yaml").plan.cost
    assert cost.placement_monthly_usd == cost.monthly_usd
