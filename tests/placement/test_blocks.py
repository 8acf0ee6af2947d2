"""The address blocks a stack network has left (``PlacementSettings.blocks_left``): a placement uses the
reserved locations and at most as many others as blocks are free, the cheapest such placement where the search
is exact, one that keeps to them where it is local; a stack within its blocks is placed as before; where no
placement keeps within them, the one found stands (the network stage refuses it)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from cloudorch.placement import milp
from cloudorch.placement.problem import BlockLimit, BlocksLeft
from tests.placement.test_bill import LOCS, _brute_force, _random_case
from tests.placement.test_gateway_limits import search  # noqa: F401 - a fixture: the exact search and local search
from tests.placement.test_improve import NAT, TIGHT, _busy_problem
from tests.placement.tiny import catalog, off, plan, stack


def left(reserved=(), free: int = 0) -> BlocksLeft:
    return BlocksLeft(cidr="10.0.0.0/20", blocks=len(reserved) + free, reserved=frozenset(reserved))


def new_locations(result, reserved) -> set[tuple[str, str]]:
    """The unreserved locations of ``result``'s placements (every resource of the cases is in ``net``)."""
    return {loc for p in result.placements.values() if p.slots for loc in p.locations} - set(reserved)


@pytest.mark.usefixtures("search")
def test_placements_keep_the_blocks_left_and_the_exact_search_finds_the_cheapest_that_does():
    binding = refused = 0
    for seed in range(40):
        rng = random.Random(seed)
        st, cat, r = _random_case(rng)
        reserved = frozenset(rng.sample(LOCS, rng.randint(1, 3)))
        blocks = left(reserved, rng.randint(0, 1))

        def within(assignment, reserved=reserved, free=blocks.free):
            return len({o.location for p in assignment.values() for o, _ in p} - reserved) <= free

        best = _brute_force(st, cat, r, allowed=within)
        unlimited = plan(st, cat, rates=r)
        result = plan(st, cat, rates=r, blocks_left={"net": blocks})
        if best == float("inf"):
            # nothing keeps within them: the placement found stands, for the network stage to refuse
            assert result.placements == unlimited.placements, seed
            refused += 1
            continue
        binding += len(new_locations(unlimited, reserved)) > blocks.free
        assert len(new_locations(result, reserved)) <= blocks.free, seed
        assert result.monthly_usd >= best - 0.02, seed  # a real placement's bill, among those within the blocks
        if milp.LOCAL_SEARCH_RESOURCES:  # the exact search
            assert result.monthly_usd == pytest.approx(best, abs=0.02), seed
        assert result.lower_bound_monthly_usd <= best + 0.02, seed
    assert binding >= 5 and refused < 20, (binding, refused)  # the cases exercise what is tested


@pytest.mark.usefixtures("search")
def test_a_stack_within_its_blocks_is_placed_exactly_as_without_them():
    for seed in range(12):
        rng = random.Random(seed)
        st, cat, r = _random_case(rng)
        reserved = frozenset(rng.sample(LOCS, rng.randint(0, 2)))
        before = plan(st, cat, rates=r)
        room = left(reserved, len(new_locations(before, reserved)))
        assert plan(st, cat, rates=r, blocks_left={"net": room}) == before, seed


FOUR_REGIONS = catalog(off("aws/us-east-1", "a", 0.10), off("aws/eu-west-1", "a", 0.11),
                       off("azure/eastus", "a", 0.12), off("gcp/us-central1", "a", 0.20))


@pytest.mark.parametrize("priced", [False, True])
def test_one_free_block_takes_the_one_new_location_that_saves_most(priced):
    from tests.placement.test_bill import rates

    st = stack("web: {kind: compute, network: net, count: 3, cpu: 4, memory_gb: 16, spread: {max_per_region: 1}}")
    kw = {"rates": rates(site=0.0, vpn_site=0.0, link=0.0)} if priced else {}
    assert sorted(plan(st, FOUR_REGIONS, **kw).placements["web"].locations) == \
        [("aws", "eu-west-1"), ("aws", "us-east-1"), ("azure", "eastus")]
    # gcp/us-central1 and azure/eastus hold blocks, one is free: the cheapest new location, then the reserved ones
    blocks = {"net": left({("gcp", "us-central1"), ("azure", "eastus")}, 1)}
    result = plan(st, FOUR_REGIONS, blocks_left=blocks, **kw)
    assert sorted(result.placements["web"].locations) == [("aws", "us-east-1"), ("azure", "eastus"), ("gcp", "us-central1")]


def test_a_reserved_region_is_kept_where_a_cheaper_new_one_of_its_cloud_would_take_its_place():
    # aws/eu-west-1 is dearer than aws/us-east-1 in every way, so the model would leave it out: with no free
    # block it is the one region left
    st = stack("web: {kind: compute, network: net, count: 1, cpu: 4, memory_gb: 16}")
    result = plan(st, FOUR_REGIONS, blocks_left={"net": left({("aws", "eu-west-1")})})
    assert result.placements["web"].locations == (("aws", "eu-west-1"),)


def test_the_explanation_says_a_cheaper_region_had_no_block_left():
    st = stack("web: {kind: compute, network: net, count: 1, cpu: 4, memory_gb: 16}")
    result = plan(st, FOUR_REGIONS, blocks_left={"net": left({("azure", "eastus")})})
    why = result.explanations["web"]
    assert why.chosen == ("1 x a in azure/eastus",)
    excluded = {f"{e.cloud}/{e.region}": e for e in why.excluded}
    assert excluded["aws/us-east-1"].reason == excluded["aws/eu-west-1"].reason == "blocks"
    assert "network 'net' (10.0.0.0/20) has no address block left for it: its 1 are held by azure/eastus" \
        in excluded["aws/us-east-1"].detail
    assert excluded["gcp/us-central1"].reason == "price"  # dearer anyway
    # and no alternative moves it where it would need a block
    assert {(a.cloud, a.region) for a in why.alternatives} <= {("azure", "eastus")}


def test_where_no_placement_keeps_within_the_blocks_the_one_found_stands():
    st = stack("web: {kind: compute, network: net, count: 3, cpu: 4, memory_gb: 16, spread: {max_per_region: 1}}")
    before = plan(st, FOUR_REGIONS)
    # three regions are needed, one is reserved and one free
    assert plan(st, FOUR_REGIONS, blocks_left={"net": left({("gcp", "us-central1")}, 1)}).placements == before.placements


def _limited(part, seed: int, free: int):
    """``part`` with its network (every demand is in it) keeping four of its places and ``free`` more."""
    places = sorted({o.location for d in part.demands for o in d.options})
    reserved = frozenset(random.Random(seed).sample(places, 4))
    limit = BlockLimit("net", frozenset(d.name for d in part.demands), left(reserved, free))
    return dataclasses.replace(part, block_limits=(limit,)), limit


def test_local_search_keeps_the_blocks_and_skipping_unchanged_resources_keeps_the_same_search(monkeypatch):
    from cloudorch.placement import improve
    from cloudorch.placement.changes import Changes

    skipped, searched = [], 0
    check = Changes.unchanged_since_failed

    def counted(self, name):
        found = check(self, name)
        skipped.extend([name] if found else [])
        return found

    for seed, free, limits, nat in [(seed, free, limits, nat) for seed in range(6) for free in (1, 2)
                                    for limits, nat in ((None, None), (TIGHT, NAT))]:
        part, limit = _limited(_busy_problem(seed, limits=limits, nat=nat), seed, free)
        start = milp.solve(dataclasses.replace(part, network=None))
        if start is None:
            continue  # no placement of this draw keeps within the blocks (or the quotas)
        searched += 1
        monkeypatch.setattr(Changes, "unchanged_since_failed", counted)
        kept = improve.improve(part, start.assignment)
        monkeypatch.setattr(Changes, "unchanged_since_failed", lambda self, name: False)
        every = improve.improve(part, start.assignment)
        monkeypatch.undo()
        assert kept == every, (seed, free)
        used = {o.location for picks in kept.values() for o, _ in picks}
        assert len(used - limit.left.reserved) <= free, (seed, free)
    assert searched >= 12 and len(skipped) > 100, (searched, len(skipped))


@pytest.mark.parametrize("seed", range(4))
def test_a_move_beyond_the_blocks_is_charged_and_taking_moves_back_restores_the_counts(seed):
    from cloudorch.placement.ledger import OVER_LIMIT_USD, Ledger

    part, limit = _limited(_busy_problem(seed), seed, 2)
    start = milp.solve(dataclasses.replace(part, network=None))
    assert start is not None
    ledger = Ledger(part, start.assignment)
    assert ledger.beyond_blocks == 0 and ledger.new_sites["net"] <= 2
    state = (dict(ledger.block_members), dict(ledger.new_sites), ledger.total)
    rng = random.Random(seed)
    ledger.tentatively()
    beyond = 0
    for d in rng.sample(part.demands, 15):
        ledger.move(d.name, tuple((o, 1) for o in rng.choices(d.options, k=d.count)))
        new = {loc for at in ledger.at.values() for loc in at} - limit.left.reserved
        assert ledger.new_sites["net"] == len(new) and ledger.beyond_blocks == max(0, len(new) - 2)
        beyond = max(beyond, ledger.beyond_blocks)
        # each location beyond the blocks is charged on top of the bill
        unlimited = Ledger(dataclasses.replace(part, block_limits=()), ledger.picks)
        assert ledger.total == pytest.approx(unlimited.total + OVER_LIMIT_USD * ledger.beyond_blocks)
    assert beyond > 0  # the draw exercises what is tested
    ledger.take_back()
    assert ({k: v for k, v in ledger.block_members.items() if v}, dict(ledger.new_sites), ledger.beyond_blocks) == \
        ({k: v for k, v in state[0].items() if v}, state[1], 0)
    assert ledger.total == pytest.approx(state[2])


def test_a_budget_only_the_blocks_left_break_is_an_over_budget_refusal():
    from cloudorch.errors import OverBudget

    # gcp/us-central1 alone holds a block: $146.00 a month, where aws/us-east-1 would have cost $73.00
    st = stack("web: {kind: compute, network: net, count: 1, cpu: 4, memory_gb: 16}", placement="objective: balanced",
               budget=100)
    assert plan(st, FOUR_REGIONS).placements["web"].locations == (("aws", "us-east-1"),)
    with pytest.raises(OverBudget) as refused:
        plan(st, FOUR_REGIONS, blocks_left={"net": left({("gcp", "us-central1")})})
    assert refused.value.monthly_usd == 146.0 and "$146.00/month" in refused.value.hint
