"""The VPN links a site's gateway takes (``NetworkTerms.vpn_links``): local search keeps to them, the exact
model's placements are made to, a placement that cannot is refused naming the site, and explanations show no
alternative that breaks one. The bound leaves them out, so it still bounds every placement."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter

import pytest

from cloudorch.errors import InfeasiblePlacement
from cloudorch.placement import milp
from cloudorch.placement.ledger import OVER_LIMIT_USD, Ledger
from cloudorch.placement.rates import GatewayLimit, NetworkRates
from tests.placement.test_bill import _brute_force, _random_case, rates
from cloudorch.placement.planner import plan_placement
from tests.placement.tiny import catalog, db, off, plan, settings, stack

ONE_EACH = {c: GatewayLimit(1, f"{c} takes one in this test") for c in ("aws", "azure", "gcp")}
CHAIN = """
web: {kind: compute, network: net, count: 1, cpu: 2, memory_gb: 4}
api: {kind: compute, network: net, count: 1, cpu: 2, memory_gb: 4, ingress: [{port: 80, from: web, gb_month: 100}]}
orders: {kind: database, network: net, engine: postgres, version: "16", ingress: [{port: 5432, from: api, gb_month: 100}]}
"""


def limited(r: NetworkRates, limits=ONE_EACH) -> NetworkRates:
    return dataclasses.replace(r, vpn_gateways=limits)


def links_per_site(placements, flows=(("web", "api"), ("api", "orders"))) -> Counter:
    """VPN links per site of a placement of the chain (every resource in network ``net``)."""
    links = set()
    for source, target in flows:
        for a in placements[source]:
            for b in placements[target]:
                if a[0] != b[0]:
                    links.add(tuple(sorted((a, b))))
    return Counter(end for link in links for end in link)


def within(placements, most: int = 1) -> bool:
    return all(n <= most for n in links_per_site(placements).values())


@pytest.fixture(params=["exact", "local"])
def search(request, monkeypatch):
    """Both ways a stack is placed: the exact model (then made to keep the limits), or local search."""
    if request.param == "local":
        monkeypatch.setattr(milp, "LOCAL_SEARCH_COLUMNS", 0)
        monkeypatch.setattr(milp, "LOCAL_SEARCH_RESOURCES", 0)
    return request.param


@pytest.mark.parametrize("most", [0, 1])
def test_placements_keep_the_limits_and_are_bracketed_by_the_best_that_does(search, most):
    binding = refused = 0
    limits = {c: GatewayLimit(most, "test") for c in ("aws", "azure", "gcp")}
    for seed in range(30):
        st, cat, r = _random_case(random.Random(seed))
        best = _brute_force(st, cat, r, allowed=lambda a: within({n: {o.location for o, _ in p} for n, p in a.items()}, most))
        binding += best > _brute_force(st, cat, r) + 0.005  # the limits rule out the optimum
        try:
            result = plan(st, cat, rates=limited(r, limits))
        except InfeasiblePlacement as error:
            assert best == float("inf"), (seed, best, error.message)  # only when no placement keeps them
            refused += 1
            continue
        placed = {name: set(p.locations) for name, p in result.placements.items()}
        assert within(placed, most), seed
        assert result.monthly_usd >= best - 0.02, seed  # a real placement's bill, among those that keep the limits
        assert result.lower_bound_monthly_usd <= best + 0.02, seed
    assert binding >= (3 if most == 0 else 0) and refused < 30, (binding, refused)  # the cases exercise what is tested


def forced_chain():
    """web only on aws (the one arm offering), api only on azure, orders only on gcp: azure's site ends two links."""
    cat = catalog(off("aws/us-east-1", "g", 0.1, arch="arm64"), off("azure/eastus", "a", 0.1),
                  databases=(db("gcp/us-central1", "db", 0.2),))
    return stack(CHAIN.replace("count: 1, cpu", "count: 1, arch: arm64, cpu", 1)), cat


def test_a_placement_no_search_can_bring_within_a_limit_is_refused_naming_the_site(search):
    st, cat = forced_chain()
    assert within({"web": {("aws", "us-east-1")}, "api": {("azure", "eastus")}, "orders": {("gcp", "us-central1")}}, 2)
    placed = plan(st, cat, rates=limited(rates(), {"azure": GatewayLimit(2, "two")}))
    assert placed.placements["api"].locations == (("azure", "eastus"),)
    with pytest.raises(InfeasiblePlacement) as refused:
        plan(st, cat, rates=limited(rates()))
    assert refused.value.message == ("no placement found keeps to what the VPN gateways take: net@azure/eastus would "
                                     "end 2 VPN links, at most 1: azure takes one in this test")
    assert refused.value.conflicts == ["placement.cross_cloud"] and "placement.cross_cloud: forbid" in refused.value.hint
    adjustable = {"azure": GatewayLimit(1, "a quota", adjustable=True)}
    with pytest.raises(InfeasiblePlacement, match="would end 2") as refused:
        plan(st, cat, rates=limited(rates(), adjustable))
    assert "vpn_links_per_site = {azure = N}" in refused.value.hint


def test_the_ledger_counts_links_beyond_the_limits_as_the_bill_does_and_takes_them_back():
    from cloudorch.placement.bill import beyond_limits
    from tests.placement.test_improve import TIGHT, _busy_problem

    part = _busy_problem(2, link=0.2, limits=TIGHT)
    start = milp.solve(dataclasses.replace(part, network=None))
    ledger = Ledger(part, start.assignment)

    def excess(assignment) -> int:
        return sum(links - most for _, links, most in beyond_limits(part.network, assignment))

    assert ledger.over == excess(start.assignment) > 0
    rng = random.Random(5)
    assignment = dict(start.assignment)
    ledger.tentatively()
    for d in rng.sample(part.demands, 15):
        picks = ((rng.choice(d.options), d.count),)
        change, over = ledger.delta_over(d.name, picks)
        before = ledger.total
        assert ledger.move(d.name, picks) == pytest.approx(change + OVER_LIMIT_USD * over)
        assert ledger.total - before == pytest.approx(change + OVER_LIMIT_USD * over)
        assignment[d.name] = picks
        assert ledger.over == excess(assignment)
    ledger.take_back()
    assert ledger.over == excess(start.assignment)


def test_explanations_show_no_alternative_that_a_gateway_could_not_take(search):
    # api may run on azure (cheaper) or aws; on azure its site would end two links (web on aws, orders on gcp)
    cat = catalog(off("aws/us-east-1", "g", 0.1, arch="arm64"), off("azure/eastus", "a", 0.1),
                  off("aws/us-east-1", "m", 0.2), databases=(db("gcp/us-central1", "db", 0.2),))
    st = stack(CHAIN.replace("count: 1, cpu", "count: 1, arch: arm64, cpu", 1))

    def alternatives(limits):
        result = plan_placement(st, cat, settings(rates=limited(rates(link=0.0, vpn_site=0.0), limits)),
                                explain_choices=True)
        return result.placements["api"].locations, {a.cloud for a in result.explanations["api"].alternatives}

    assert alternatives({"azure": GatewayLimit(2, "two")}) == ((("azure", "eastus"),), {"aws"})
    assert alternatives({"azure": GatewayLimit(1, "one")}) == ((("aws", "us-east-1"),), set())


def test_under_the_availability_objective_the_limits_cost_dollars_not_availability():
    # the most available placement puts api on azure, whose site would then end two links; within the limit,
    # api on aws is as available (three zones) and dearer, api on gcp cheaper and less available (one zone)
    cat = catalog(off("aws/us-east-1", "g", 0.1, arch="arm64"), off("azure/eastus", "a", 0.10),
                  off("aws/us-east-1", "m", 0.50), off("gcp/us-central1", "n", 0.05, zones=("a",)),
                  databases=(db("gcp/us-central1", "db", 0.2),))
    st = stack(CHAIN.replace("count: 1, cpu", "count: 1, arch: arm64, cpu", 1), placement="objective: availability")
    free = plan(st, cat, rates=rates())
    assert free.placements["api"].locations == (("azure", "eastus"),)
    kept = plan(st, cat, rates=limited(rates(), {"azure": GatewayLimit(1, "one")}))
    assert kept.placements["api"].locations == (("aws", "us-east-1"),)
    assert [s.availability for s in kept.placements["api"].slots] == [s.availability for s in free.placements["api"].slots]


def test_a_search_stopped_short_says_so_in_the_refusal(monkeypatch):
    from cloudorch.placement import improve

    def out_of_moves(self, bill, resources):
        self.reason = "0 moves tried per resource"
        return True

    monkeypatch.setattr(milp, "LOCAL_SEARCH_COLUMNS", 0)
    monkeypatch.setattr(milp, "LOCAL_SEARCH_RESOURCES", 0)
    monkeypatch.setattr(improve.Limit, "reached", out_of_moves)
    cat = catalog(off("aws/us-east-1", "g", 0.1, arch="arm64"), off("azure/eastus", "a", 0.1),
                  off("aws/us-east-1", "m", 0.3), databases=(db("gcp/us-central1", "db", 0.2),))
    st = stack(CHAIN.replace("count: 1, cpu", "count: 1, arch: arm64, cpu", 1))
    with pytest.raises(InfeasiblePlacement, match="net@azure/eastus would end 2 VPN links") as refused:
        plan(st, cat, rates=limited(rates(), {"azure": GatewayLimit(1, "one")}))
    assert refused.value.hint.startswith("the search stopped short (local search (stopped at 0 moves tried per resource)")
    monkeypatch.undo()
    monkeypatch.setattr(milp, "LOCAL_SEARCH_COLUMNS", 0)
    monkeypatch.setattr(milp, "LOCAL_SEARCH_RESOURCES", 0)
    assert plan(st, cat, rates=limited(rates(), {"azure": GatewayLimit(1, "one")})).placements["api"].clouds == ("aws",)


def test_the_refusal_reads_right_for_one_link_and_one_more_site():
    refusal = GatewayLimit(0, "none here").refusal(("net", "aws", "us-east-1"), 1, more=1)
    assert refusal.message == "net@aws/us-east-1 would end 1 VPN link, at most 0 (and 1 more site): none here"
    assert GatewayLimit(1, "x").refusal(("n", "gcp", "r"), 3, more=2).message == (
        "n@gcp/r would end 3 VPN links, at most 1 (and 2 more sites): x")
