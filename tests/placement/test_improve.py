"""Local search on the whole bill (large stacks): never below the true optimum, never above its start, its
lower bound never above the optimum, every rule kept, the same placement every run."""

from __future__ import annotations

import dataclasses
import random

import pytest

from cloudorch.placement import milp
from cloudorch.placement.problem import FlowTerm, NetworkTerms
from cloudorch.placement.rates import NatPerVm, TunnelAllowance
from tests.placement.test_bill import CAT, WEB_DB, _brute_force, _random_case, rates, with_tunnels
from tests.placement.tiny import catalog, db, demand, off, option, per_region, plan, problem, stack


@pytest.fixture
def local_search(monkeypatch):
    """Every priced stack goes through local search, however small."""
    monkeypatch.setattr(milp, "LOCAL_SEARCH_COLUMNS", 0)
    monkeypatch.setattr(milp, "LOCAL_SEARCH_RESOURCES", 0)


@pytest.mark.parametrize("tunnels", [False, True])
@pytest.mark.parametrize("seed", range(25))
def test_local_search_is_bracketed_by_the_true_optimum(seed, tunnels, local_search):
    st, cat, r = _random_case(random.Random(seed))
    r = with_tunnels(r) if tunnels else r  # a gateway that bills the tunnels past its allowance
    best = _brute_force(st, cat, r)
    result = plan(st, cat, rates=r)
    # (a case whose network prices nothing that couples resources is solved exactly, as always)
    assert result.search_stopped is None or "local search" in result.search_stopped
    assert result.monthly_usd >= best - 0.02  # its bill is a real placement's bill
    assert result.lower_bound_monthly_usd <= best + 0.02  # its bound bounds every placement
    assert result.lower_bound_monthly_usd <= result.monthly_usd


def test_it_moves_a_machine_to_its_partner_when_the_traffic_pays(local_search):
    # gcp's machine is $7.30 a month cheaper; 1,000 GB across clouds cost $90 against $10 in one region
    result = plan(stack(WEB_DB % ", gb_month: 1000"), CAT, rates=rates(vpn_site=0.0, link=0.0, site=0.0))
    assert result.placements["web"].locations == (("aws", "us-east-1"),)


def test_it_keeps_the_spread_rules(local_search):
    cat = catalog(off("aws/us-east-1", "m.large", 0.10), off("aws/eu-west-1", "m.large", 0.12),
                  off("gcp/us-central1", "n.large", 0.13), databases=(db("aws/us-east-1", "db.m", 0.20),))
    st = stack(WEB_DB.replace("count: 1,", "count: 4, spread: {min_clouds: 2, max_per_region: 2},")
               % ", gb_month: 5000")
    result = plan(st, cat, rates=rates(vpn_site=0.0, link=0.0, site=0.0))
    counts = per_region(result, "web")
    assert len(result.placements["web"].clouds) >= 2
    assert max(counts.values()) <= 2 and sum(counts.values()) == 4
    # the traffic pulls as many replicas as the rules allow next to the database
    assert counts["aws/us-east-1"] == 2


def test_the_same_stack_gives_the_same_placement(local_search):
    st, cat, r = _random_case(random.Random(3))
    first, second = plan(st, cat, rates=r), plan(st, cat, rates=r)
    assert first.placements == second.placements and first.monthly_usd == second.monthly_usd


def test_the_coupled_floor_weighs_a_dearer_machine_against_the_traffic(local_search):
    # web: $73.00 in aws beside the database, or $65.70 in gcp and 1,000 GB across clouds ($90 against $10):
    # the floor prices that choice exactly, so here it meets the optimum
    result = plan(stack(WEB_DB % ", gb_month: 1000"), CAT, rates=rates(vpn_site=0.0, link=0.0))
    assert result.monthly_usd == pytest.approx(73.0 + 146.0 + 10.0 + 10.0, abs=0.01)
    assert result.lower_bound_monthly_usd == pytest.approx(result.monthly_usd, abs=0.01)


@pytest.mark.parametrize("tunnels", [False, True])
@pytest.mark.parametrize("seed", range(10))
def test_the_ledger_prices_every_move_as_the_bill_does(seed, tunnels):
    # the ledger works the bill out move by move; after any sequence of moves it must equal the bill
    # (machines by the objective's price, plus bill.network_cost) worked out from scratch
    from cloudorch.placement.bill import network_cost, network_terms
    from cloudorch.placement.candidates import OfferingIndex, allowed_regions
    from cloudorch.placement.capability import CapabilityFilter
    from cloudorch.placement.ledger import Ledger
    from cloudorch.placement.planner import _demands
    from cloudorch.placement.problem import Problem
    from tests.placement.tiny import settings

    rng = random.Random(seed)
    st, cat, r = _random_case(rng)
    r = with_tunnels(r) if tunnels else r
    s = settings(rates=r)
    regions, _ = allowed_regions(st, cat, s)
    demands, _ = _demands(st, regions, cat, OfferingIndex(cat, s), CapabilityFilter(s.unsupported, regions), False)
    problem = Problem(tuple(demands), network=network_terms(st, tuple(demands), r))

    def placed():
        return {d.name: tuple((o, 1) for o in rng.choices(d.options, k=d.count)) for d in demands}

    def bill(assignment):
        machines = sum(problem.replica_cost(o, 0) * n for picks in assignment.values() for o, n in picks)
        return machines + network_cost(problem.network, assignment).monthly_usd

    assignment = placed()
    ledger = Ledger(problem, assignment)
    assert ledger.total == pytest.approx(bill(assignment), abs=0.01)
    for _ in range(20):
        d = rng.choice(demands)
        assignment[d.name] = placed()[d.name]
        predicted = ledger.delta(d.name, assignment[d.name])
        before = ledger.total
        ledger.move(d.name, assignment[d.name])
        assert ledger.total - before == pytest.approx(predicted)
        assert ledger.total == pytest.approx(bill(assignment), abs=0.01)


#: VPN links a site's gateway takes, few enough that the busy problems break them
TIGHT = {"aws": 2, "azure": 3, "gcp": 2}


#: a capped NAT on gcp that a busy problem's sites pass, dear enough to pull VMs together: $40 a VM up to 4 VMs, $100 for more
NAT = NatPerVm(per_vm=40.0, up_to=4, beyond=100.0)
#: azure's gateway with three tunnels in its price, $25 a month for each beyond: a busy site passes it
TUNNELS = TunnelAllowance(included=3, beyond=25.0)


def _busy_problem(seed: int, resources: int = 40, flows: int = 70, site: float = 1.0, quota: float = 1.0,
                  link: float = 1.0, limits: dict[str, int] | None = None, nat: NatPerVm | None = None,
                  tunnels: TunnelAllowance | None = None):
    """``resources`` over 8 locations in three clouds, ``flows`` flows, spread, near and apart rules and two
    vCPU quotas that bind (scaled by ``quota``): a search that keeps and closes many locations (more as
    ``site`` and ``link`` scale up what a location and a link cost). ``nat``: gcp's NAT, billed per VM with
    a cap, serving every other resource's VMs. ``tunnels``: azure's gateway includes some tunnels (aws ends
    four per link)."""
    rng = random.Random(seed)
    places = ["aws/us-east-1", "aws/eu-west-1", "aws/us-west-2", "azure/eastus", "azure/westeurope",
              "gcp/us-central1", "gcp/europe-west4", "gcp/us-east1"]
    demands, where = [], []
    for i in range(resources):
        count = rng.choice((1, 1, 2, 3))
        rules: dict = {}
        if count > 1 and rng.random() < 0.5:
            rules = {"min_regions": 2, "max_per_region": count - 1}
        if i > 5 and rng.random() < 0.1:
            rules["apart"] = (f"r{i - 5:02d}",)
        mine = rng.sample(places, rng.randint(3, 8))
        if i > 5 and not rules and rng.random() < 0.15:
            rules["near"] = f"r{i - 3:02d}"
            mine = where[i - 3]
        where.append(mine)
        options = tuple(option(p, round(rng.uniform(0.05, 0.3), 3), itype=f"t{k}", cpu=rng.choice((2, 4, 8)))
                        for p in mine for k in range(rng.randint(1, 2)))
        demands.append(demand(f"r{i:02d}", count, options, **rules))
    names = [d.name for d in demands]
    terms_flows = tuple(FlowTerm(a, b, rng.choice((0.0, 50.0, 500.0, 3000.0)))
                  for a, b in sorted({tuple(rng.sample(names, 2)) for _ in range(flows)}))
    per_gb = {(*p.split("/"), kind): v for p in places
              for kind, v in (("same-region", 0.0), ("same-cloud", 0.02), ("cross-cloud", 0.09))}
    terms = NetworkTerms(member_of={n: "net" for n in names}, flows=terms_flows,
                         site={"aws": 40.0 * site, "azure": 30.0 * site, "gcp": 35.0 * site},
                         vpn_site={"aws": 0.0, "azure": 140.0 * link, "gcp": 0.0},
                         vpn_link_side={"aws": 73.0 * link, "azure": 0.0, "gcp": 73.0 * link}, per_gb=per_gb, replica_extra={},
                         vpn_links=limits or {})
    if nat is not None:
        served = names[::2]
        terms = dataclasses.replace(terms, nat_capped={"gcp": nat}, nat_members=dict.fromkeys(served, "net"),
                                    replica_extra={n: {tuple(p.split("/")): nat.per_vm for p in places if p.startswith("gcp")}
                                                   for n in served})
    if tunnels is not None:
        terms = dataclasses.replace(terms, tunnel_allowance={"azure": tunnels}, vpn_interfaces={"aws": 4})
    return problem(*demands, quotas={"aws": 100.0 * quota, "gcp/us-central1": 40.0 * quota}, network=terms)


def test_skipping_resources_whose_moves_cannot_have_changed_keeps_the_same_search(monkeypatch):
    # local search does not try again a resource whose last try found nothing when nothing it depends on
    # has changed since: the placement must be exactly the one trying every resource again finds
    from cloudorch.placement import improve as search
    from cloudorch.placement.changes import Changes

    check = Changes.unchanged_since_failed
    skipped = []

    def counted(self, name):
        found = check(self, name)
        skipped.extend([name] if found else [])
        return found

    # plain; sites dear and links free; links dear and sites free; quotas tight
    cases = [(seed, *shape) for seed in range(8) for shape in ((1.0, 1.0, 1.0), (6.0, 1.0, 0.0), (0.0, 1.0, 4.0))]
    cases += [(seed, 1.0, quota, 1.0) for seed in range(6) for quota in (0.6, 0.75)]
    cases = [(*case, None, None) for case in cases] + [(seed, 1.0, 1.0, 0.2, TIGHT, None) for seed in range(8)]
    cases += [(seed, 1.0, 1.0, 1.0, None, NAT) for seed in range(8)] + [(seed, 0.0, 1.0, 0.2, TIGHT, NAT) for seed in range(4)]
    cases = [(*case, None) for case in cases] + [(seed, 1.0, 1.0, 0.5, None, None, TUNNELS) for seed in range(8)]
    for seed, site, quota, link, limits, nat, tunnels in cases:
        part = _busy_problem(seed, site=site, quota=quota, link=link, limits=limits, nat=nat, tunnels=tunnels)
        start = milp.solve(dataclasses.replace(part, network=None))
        if start is None:
            continue  # quotas too tight for this draw
        monkeypatch.setattr(Changes, "unchanged_since_failed", counted)
        kept = search.improve(part, start.assignment)
        monkeypatch.setattr(Changes, "unchanged_since_failed", lambda self, name: False)
        every = search.improve(part, start.assignment)
        monkeypatch.undo()
        assert kept == every, (seed, site, quota, link, limits, nat, tunnels)
    assert len(skipped) > 200, len(skipped)  # the cases exercise what is tested


def test_closing_attempts_cut_short_keep_the_same_search(monkeypatch):
    # an attempt to close a location stops once the resources left to move cannot make up for what the moves
    # so far cost: the search must keep exactly the moves it keeps when every attempt is played to its end
    from cloudorch.placement import improve as search

    hopeless = search._hopeless
    cut = []

    def counted(*args):
        found = hopeless(*args)
        cut.extend([1] if found else [])
        return found

    cases = [(seed, *shape, None, None) for seed in range(6) for shape in ((1.0, 1.0, 1.0), (6.0, 1.0, 0.0), (0.0, 1.0, 4.0),
                                                                          (1.0, 0.7, 1.0), (0.0, 1.0, 0.0))]
    cases += [(seed, 1.0, 1.0, 0.2, TIGHT, None) for seed in range(4)] + [(seed, 0.0, 1.0, 0.0, None, NAT) for seed in range(6)]
    cases = [(*case, None) for case in cases] + [(seed, 1.0, 1.0, 0.5, None, None, TUNNELS) for seed in range(4)]
    for seed, site, quota, link, limits, nat, tunnels in cases:
        part = _busy_problem(seed, resources=60, flows=100, site=site, quota=quota, link=link, limits=limits, nat=nat,
                             tunnels=tunnels)
        start = milp.solve(dataclasses.replace(part, network=None))
        if start is None:
            continue  # quotas too tight for this draw
        monkeypatch.setattr(search, "CLOSING_CHECKED_EVERY", 1)
        monkeypatch.setattr(search, "_hopeless", counted)
        short = search.improve(part, start.assignment)
        monkeypatch.setattr(search, "_hopeless", lambda *args: False)
        whole = search.improve(part, start.assignment)
        monkeypatch.undo()
        assert short == whole, (seed, site, quota, link)
    assert len(cut) > 50, len(cut)  # the cases exercise what is tested


def test_what_a_closing_attempt_may_still_save_counts_the_machines_and_all_at_the_location():
    from cloudorch.placement import improve as search
    from cloudorch.placement.ledger import Ledger
    from cloudorch.placement.moving import Rules

    here, there = ("aws", "us-east-1"), ("gcp", "us-central1")
    dear, cheap = option("aws/us-east-1", 0.3), option("gcp/us-central1", 0.1)
    a = demand("a", 2, (dear, cheap))
    b = demand("b", 1, (option("aws/us-east-1", 0.2), option("gcp/us-central1", 0.25)))
    c = demand("c", 1, (option("gcp/us-central1", 0.1),))
    per_gb = {(*loc, kind): 0.09 for loc in (here, there) for kind in ("same-region", "same-cloud", "cross-cloud")}
    terms = NetworkTerms(member_of={"a": "net", "b": "net", "c": "net"},
                         flows=(FlowTerm("a", "c", 100.0), FlowTerm("b", "c", 0.0)),
                         site={"aws": 40.0, "gcp": 35.0}, vpn_site={"aws": 5.0, "gcp": 7.0},
                         vpn_link_side={"aws": 73.0, "gcp": 73.0}, per_gb=per_gb, replica_extra={},
                         location_fixed={"b": {"aws": 20.0}})
    placed = {"a": ((dear, 2),), "b": ((b.options[0], 1),), "c": ((c.options[0], 1),)}
    part = problem(a, b, c, network=terms)
    bill = Ledger(part, placed)
    cheapest = {d.name: search._cheapest_by_location(part, d) for d in part.demands}
    # a saves 2 x $0.20 an hour at gcp's cheapest; b, which nothing keeps from moving, surely moves and
    # costs $0.05 an hour more there, less its balancer at aws
    least = search._machines_least(bill, Rules(part, bill), [a, b], here, there, cheapest)
    assert least == pytest.approx([-2 * 0.2 * 730 + 0.05 * 730 - 20.0, 0.05 * 730 - 20.0])
    # a quota over gcp might keep b where it is: then only what it could save counts
    part = problem(a, b, c, network=terms, quotas={"gcp": 100.0})
    bill = Ledger(part, placed)
    least = search._machines_least(bill, Rules(part, bill), [a, b], here, there, cheapest)
    assert least == pytest.approx([-2 * 0.2 * 730 - 20.0, -20.0])
    # a's traffic ($9: 100 GB from a to c, cross-cloud), the site and gateway at aws, the aws-gcp link and both gateways
    assert search._network_left(bill, [a, b], here) == pytest.approx(9.0 + 40.0 + 5.0 + 146.0 + 5.0 + 7.0)
    assert search._network_left(bill, [b], here) == pytest.approx(40.0 + 5.0 + 146.0 + 5.0 + 7.0)


def test_a_failed_resource_is_tried_again_once_a_gateways_tunnels_enter_the_window_its_moves_are_priced_in():
    # azure's gateway includes 10 tunnels and bills $100 a month for each beyond; hub there links to three aws
    # sites (four tunnels each) and to d on gcp (two): 14 tunnels. Dropping d's link saves $200 while the count
    # stays at 12 or more, nothing at 10 or less: d's price depends on it only strictly between 8 and 12
    from cloudorch.placement.changes import Changes
    from cloudorch.placement.ledger import Ledger
    from cloudorch.placement.moving import Rules

    hub = demand("hub", 1, (option("azure/eastus", 0.1),))
    regions = ("us-east-1", "eu-west-1", "us-west-2", "ap-south-1")
    partners = [demand(f"p{i}", 1, (option(f"aws/{r}", 0.1), option("azure/eastus", 0.1))) for i, r in enumerate(regions)]
    d = demand("d", 1, (option("gcp/us-central1", 0.1),))
    places = [("azure", "eastus"), ("gcp", "us-central1"), *(("aws", r) for r in regions)]
    terms = NetworkTerms(member_of={x.name: "net" for x in (hub, *partners, d)},
                         flows=tuple(FlowTerm("hub", x.name, 0.0) for x in (*partners, d)),
                         site={}, vpn_site={"azure": 100.0}, vpn_link_side={},
                         per_gb={(*loc, kind): 0.0 for loc in places for kind in ("same-region", "same-cloud", "cross-cloud")},
                         replica_extra={}, vpn_interfaces={"aws": 4},
                         tunnel_allowance={"azure": TunnelAllowance(included=10, beyond=100.0)})
    part = problem(hub, *partners, d, network=terms)
    at_aws = {x.name: ((x.options[0], 1),) for x in partners}
    at_azure = {x.name: ((x.options[1], 1),) for x in partners}
    bill = Ledger(part, {"hub": ((hub.options[0], 1),), **at_aws, "p3": at_azure["p3"], "d": ((d.options[0], 1),)})
    gateway = ("net", "azure", "eastus")
    assert bill.gateway_tunnels[gateway] == 3 * 4 + 2
    changes = Changes(bill, Rules(part, bill), {})
    changes.failed_at(d, [("gcp", "us-central1")], {})
    for name, picks, count, again in (("p3", at_aws["p3"], 18, False), ("p0", at_azure["p0"], 14, False),
                                      ("p1", at_azure["p1"], 10, True)):
        bill.move(name, picks)
        changes.kept()
        assert (bill.gateway_tunnels[gateway], changes.unchanged_since_failed("d")) == (count, not again), name


@pytest.mark.parametrize("seed", range(4))
def test_moves_taken_back_leave_the_ledger_exactly_as_it_was(seed):
    # closing a location is tried by moving everything there and taking it back when it does not pay
    from cloudorch.placement.ledger import Ledger

    rng = random.Random(seed)
    part = _busy_problem(seed, nat=NAT, tunnels=TUNNELS)
    start = milp.solve(dataclasses.replace(part, network=None))
    ledger = Ledger(part, start.assignment)

    def state():
        counts = [{k: v for k, v in c.items() if v}
                  for c in (ledger.site_members, ledger.link_uses, ledger.gateway_links, ledger.site_vms,
                            ledger.gateway_tunnels)]
        return (dict(ledger.picks), {k: dict(v) for k, v in ledger.at.items()}, dict(ledger.machines),
                list(ledger.flow_cost), [list(x) for x in ledger.flow_links], counts)

    before, total = state(), ledger.total
    ledger.tentatively()
    for d in rng.sample(part.demands, 15):
        ledger.move(d.name, tuple((o, 1) for o in rng.choices(d.options, k=d.count)))
    assert state() != before
    ledger.take_back()
    assert state() == before
    assert ledger.total == pytest.approx(total)
    # and what it prices next is what a fresh ledger prices
    d = part.demands[0]
    picks = tuple((o, 1) for o in rng.choices(d.options, k=d.count))
    assert ledger.delta(d.name, picks) == pytest.approx(Ledger(part, start.assignment).delta(d.name, picks))
