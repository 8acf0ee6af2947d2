"""Random small stacks over random small catalogs: every placement keeps every constraint of its stack, costs
what its slots cost, is deterministic, and is as good as the best of all placements found by enumeration."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from cloudorch.capabilities import requirement_of
from cloudorch.catalog.model import Region
from cloudorch.errors import InfeasiblePlacement, OverBudget
from cloudorch.placement import milp
from cloudorch.placement.capability import CapabilityFilter, no_gaps
from cloudorch.placement.candidates import (
    OfferingIndex,
    _compute_options,
    availability_score,
    prune_dominated,
)
from cloudorch.placement.problem import BALANCED_PENALTY, Option
from cloudorch.placement.model import HOURS_PER_MONTH
from cloudorch.spec.models import Compute, Stack
from tests.placement.tiny import catalog, off, settings as make_settings, plan

REGIONS = (
    Region("aws", "us-east-1", "us", ("a", "b", "c")),
    Region("aws", "eu-west-1", "eu", ("a", "b", "c")),
    Region("azure", "eastus", "us", ("1", "2", "3")),
    Region("gcp", "europe-west4", "eu", ("a", "b", "c")),
)
LOCATIONS = [f"{r.cloud}/{r.name}" for r in REGIONS]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@st.composite
def offerings(draw):
    out = []
    for where in LOCATIONS:
        for i in range(draw(st.integers(0 if where.startswith("gcp") else 1, 2))):
            cpu = draw(st.sampled_from((2, 4, 8)))
            price = draw(st.integers(5, 30)) / 100
            spot = draw(st.one_of(st.none(), st.none(), st.integers(1, 4).map(lambda k, p=price: round(p * k / 5, 4))))
            zones = ("a", "b", "c")[: draw(st.integers(1, 3))]
            arch = "x86_64" if i == 0 else draw(st.sampled_from(("x86_64", "arm64")))
            out.append(off(where, f"t{i}-{cpu}", price, cpu, cpu * draw(st.sampled_from((2, 4))), spot=spot,
                           arch=arch, zones=zones))
    return catalog(*out, regions=REGIONS)


@st.composite
def stacks(draw):
    names = ["a", "b", "c"][: draw(st.integers(1, 3))]
    resources: dict = {"net": {"kind": "network", "cidr": "10.0.0.0/16"}}
    for i, name in enumerate(names):
        r = {"kind": "compute", "network": "net", "count": draw(st.integers(1, 3 if len(names) == 1 else 2)),
             "cpu": draw(st.sampled_from((1, 2, 4))), "memory_gb": draw(st.sampled_from((2, 4, 8))),
             "arch": draw(st.sampled_from(("x86_64",) * 4 + ("arm64",))), "spot": draw(st.booleans())}
        spread = {}
        for key, values in (("min_clouds", (1, 1, 1, 2)), ("min_regions", (1, 1, 2)),
                            ("max_per_region", (None, None, 1, 2)), ("max_per_cloud", (None, None, None, 2))):
            value = draw(st.sampled_from(values))
            if value is not None and value != 1 or key.startswith("max") and value is not None:
                spread[key] = value
        if spread:
            r["spread"] = spread
        if i and draw(st.booleans()):
            r["near"] = draw(st.sampled_from(names[:i]))
        if i and "near" not in r and draw(st.integers(0, 3)) == 0:
            r["apart"] = [draw(st.sampled_from(names[:i]))]
        resources[name] = r
    placement = {"objective": draw(st.sampled_from(("cost", "cost", "availability", "balanced")))}
    if draw(st.integers(0, 2)) == 0:
        placement["geo"] = draw(st.sampled_from((["us"], ["eu"], ["us", "eu"])))
    if draw(st.integers(0, 3)) == 0:
        placement["exclude_regions"] = [draw(st.sampled_from([r.name for r in REGIONS]))]
    if draw(st.integers(0, 4)) == 0:
        placement["clouds"] = draw(st.sampled_from((["aws"], ["aws", "gcp"], ["azure", "gcp"])))
    quotas = draw(st.sampled_from(({}, {}, {"aws": 8}, {"aws/us-east-1": 4}, {"aws": 12, "gcp/europe-west4": 4})))
    return Stack.model_validate({"stack": "prop", "placement": placement, "resources": resources}), quotas


# --- an independent reference: every assignment, checked one by one ------------------------------------

def candidates(stack: Stack, cat, spec: Compute):
    block = stack.placement
    out = []
    for o in cat.offerings:
        region = cat.region(o.cloud, o.region)
        if block.clouds is not None and o.cloud not in block.clouds:
            continue
        if block.geo is not None and region.geo not in block.geo or o.region in block.exclude_regions:
            continue
        if o.vcpus < spec.cpu or o.memory_gib < spec.memory_gb or o.arch != spec.arch:
            continue
        out.append((o, False, o.price))
        if spec.spot and o.spot_price is not None:
            out.append((o, True, o.spot_price))
    return out


def violations(stack: Stack, quotas: dict, chosen: dict[str, list[tuple]]) -> list[str]:
    """chosen: resource -> one (offering, spot, hourly) per replica."""
    bad = []
    regions = {n: Counter((o.cloud, o.region) for o, _, _ in reps) for n, reps in chosen.items()}
    clouds = {n: Counter(o.cloud for o, _, _ in reps) for n, reps in chosen.items()}
    for name, spec in stack.resources.items():
        if not isinstance(spec, Compute):
            continue
        s = spec.spread
        if len(chosen[name]) != spec.count:
            bad.append(f"{name}: count")
        if len(clouds[name]) < s.min_clouds:
            bad.append(f"{name}: min_clouds")
        if len(regions[name]) < s.min_regions:
            bad.append(f"{name}: min_regions")
        if s.max_per_region is not None and max(regions[name].values()) > s.max_per_region:
            bad.append(f"{name}: max_per_region")
        if s.max_per_cloud is not None and max(clouds[name].values()) > s.max_per_cloud:
            bad.append(f"{name}: max_per_cloud")
        if spec.near and not set(regions[name]) <= set(regions[spec.near]):
            bad.append(f"{name}: near")
        for other in spec.apart:
            if set(regions[name]) & set(regions[other]):
                bad.append(f"{name}: apart")
    for key, limit in quotas.items():
        cloud, _, region = key.partition("/")
        used = sum(o.vcpus for reps in chosen.values() for o, _, _ in reps
                   if o.cloud == cloud and (not region or o.region == region))
        if used > limit:
            bad.append(f"quota {key}")
    return bad


def replica_score(o, spot: bool, hourly: float, objective: str) -> tuple[float, float]:
    monthly = hourly * HOURS_PER_MONTH
    availability = availability_score(len(o.zones), spot)
    if objective == "balanced":
        return monthly * (1 + BALANCED_PENALTY * (1 - availability)), availability
    return monthly, availability


def brute_force(stack: Stack, cat, quotas: dict):
    """The best assignment's (objective score, cost, availability), or None when nothing is feasible."""
    names = sorted(n for n, r in stack.resources.items() if isinstance(r, Compute))
    per = [candidates(stack, cat, stack.resources[n]) for n in names]
    multisets = [list(itertools.combinations_with_replacement(range(len(c)), stack.resources[n].count))
                 for n, c in zip(names, per)]
    assume(math.prod(len(m) for m in multisets) <= 40_000)
    best = None
    objective = stack.placement.objective
    for pick in itertools.product(*multisets):
        chosen = {n: [per[i][k] for k in ks] for i, (n, ks) in enumerate(zip(names, pick))}
        if violations(stack, quotas, chosen):
            continue
        scores = [replica_score(o, spot, h, objective) for reps in chosen.values() for o, spot, h in reps]
        cost = sum(h for reps in chosen.values() for _, _, h in reps) * HOURS_PER_MONTH
        availability = sum(a for _, a in scores)
        score = sum(s for s, _ in scores)
        key = (-availability, cost) if objective == "availability" else (score,)
        if best is None or _better(key, best[0]):
            best = (key, cost, availability)
    return best


def _better(key, incumbent) -> bool:
    if len(key) == 2:  # availability first (with the planner's tolerance), then cost
        if key[0] < incumbent[0] - 1e-6:
            return True
        return abs(key[0] - incumbent[0]) <= 1e-6 and key[1] < incumbent[1]
    return key[0] < incumbent[0]


def as_replicas(result, cat) -> dict[str, list[tuple]]:
    by = {(o.cloud, o.region, o.instance_type): o for o in cat.offerings}
    out = {}
    for name, p in result.placements.items():
        if p.kind != "compute":
            continue
        reps = []
        for s in p.slots:
            o = by[(s.cloud, s.region, s.instance_type)]
            reps += [(o, s.spot, o.spot_price if s.spot else o.price)] * s.count
        out[name] = reps
    return out


# --- the properties -------------------------------------------------------------------------------------

@FAST
@given(offerings(), stacks())
def test_placements_keep_every_constraint_and_match_the_enumerated_optimum(cat, drawn):
    stack, quotas = drawn
    best = brute_force(stack, cat, quotas)
    try:
        result = plan(stack, cat, vcpu_quotas=quotas)
    except (InfeasiblePlacement, OverBudget) as exc:
        assert isinstance(exc, InfeasiblePlacement) and best is None, exc
        event("infeasible")
        return
    event(f"placed ({stack.placement.objective}, {'quotas' if quotas else 'no quotas'})")
    assert best is not None, "the planner placed what enumeration says cannot be placed"
    chosen = as_replicas(result, cat)
    assert violations(stack, quotas, chosen) == []
    for name, reps in chosen.items():
        spec = stack.resources[name]
        allowed = {(o.cloud, o.region, o.instance_type, spot) for o, spot, _ in candidates(stack, cat, spec)}
        assert {(o.cloud, o.region, o.instance_type, spot) for o, spot, _ in reps} <= allowed
    # cost is the sum of its slots, each slot its replicas' price
    slots = [s for p in result.placements.values() for s in p.slots]
    for s in slots:
        assert s.monthly_usd == round(s.hourly_usd * HOURS_PER_MONTH, 2)
    assert result.monthly_usd == round(sum(p.monthly_usd for p in result.placements.values()), 2)
    cost = sum(h for reps in chosen.values() for _, _, h in reps) * HOURS_PER_MONTH
    assert result.monthly_usd == pytest.approx(cost, abs=0.01 * len(slots) + 1e-6)
    # optimal: as good as the best enumerated assignment
    objective = stack.placement.objective
    if objective == "availability":
        availability = sum(availability_score(len(o.zones), spot) for reps in chosen.values() for o, spot, _ in reps)
        assert availability == pytest.approx(best[2], abs=1e-5)
        assert cost == pytest.approx(best[1], abs=1e-4)
    elif objective == "balanced":
        score = sum(replica_score(o, spot, h, objective)[0] for reps in chosen.values() for o, spot, h in reps)
        assert score == pytest.approx(best[0][0], abs=1e-3)
    else:
        assert cost == pytest.approx(best[1], abs=1e-4)
        assert result.lower_bound_monthly_usd <= result.monthly_usd + 0.01
    # deterministic: the same input gives the same output
    assert plan(stack, cat, vcpu_quotas=quotas) == result


@FAST
@given(offerings(), st.sampled_from((1, 2, 4)), st.sampled_from((2, 4, 8)), st.booleans(), st.booleans())
# always tried: two types at one price in one region, the one in fewer zones first by name (it must go)
@example(catalog(off("aws/us-east-1", "t0-2", 0.10, 2, 4, zones=("a",)), off("aws/us-east-1", "t1-2", 0.10, 2, 4),
                 regions=REGIONS), 2, 4, False, False)
def test_vectorised_pruning_equals_pairwise_pruning(cat, cpu, memory, spot, vcpu_matters):
    """compute_options' numpy Pareto front keeps exactly what the pairwise definition keeps."""
    spec = Compute(kind="compute", network="net", cpu=cpu, memory_gb=memory, spot=spot)
    s = make_settings()
    hosts = CapabilityFilter(no_gaps, REGIONS).hosts([(None, requirement_of(spec))])
    options, _ = _compute_options(spec, hosts, OfferingIndex(cat, s), vcpu_matters)
    every = [
        Option(o.cloud, o.region, o.instance_type, is_spot, o.vcpus, o.memory_gib, price,
               availability_score(len(o.zones), is_spot), o.zones)
        for o in cat.offerings
        if o.vcpus >= cpu and o.memory_gib >= memory and o.arch == "x86_64"
        for is_spot, price in ((False, o.price), (True, o.spot_price))
        if price is not None and (spot or not is_spot)
    ]
    key = lambda o: (o.cloud, o.region, o.spot, o.hourly_usd, o.availability, o.vcpus)  # noqa: E731
    assert sorted(map(key, options)) == sorted(map(key, prune_dominated(every, vcpu_matters)))


@FAST
@given(offerings(), stacks())
def test_the_reduced_cost_path_for_large_models_finds_the_same_optimum(cat, drawn):
    """Large models go LP -> restricted MILP -> MILP over the columns the gap allows; force that path here."""
    stack, quotas = drawn
    try:
        direct = plan(stack, cat, vcpu_quotas=quotas)
    except InfeasiblePlacement:
        with patch.object(milp, "GUIDED_COLUMNS", 0), pytest.raises(InfeasiblePlacement):
            plan(stack, cat, vcpu_quotas=quotas)
        return
    with patch.object(milp, "GUIDED_COLUMNS", 0), patch.object(milp, "PROVED_ENOUGH", 0.0):
        guided = plan(stack, cat, vcpu_quotas=quotas)  # proved to the end: its tolerance is tested apart
    assert guided.monthly_usd == pytest.approx(direct.monthly_usd, abs=0.02)
    assert guided.lower_bound_monthly_usd <= guided.monthly_usd + 0.01


def test_the_reduced_cost_path_skips_its_proof_only_within_what_it_may_leave(monkeypatch):
    # a quota splits the LP's replicas fractionally (2.5 on aws): the restricted MILP's placement ($292) is 14%
    # above the LP bound ($255.50), past PROVED_ENOUGH, so step 3 runs; allowed 15%, it is skipped and the LP's
    # bound shown
    from tests.placement.tiny import demand, option, problem

    web = demand("web", 3, [option("aws/us-east-1", 0.1), option("gcp/us-central1", 0.2)])
    part = problem(web, quotas={"aws": 10.0})
    solves = []
    solve_model = milp._solve_model
    monkeypatch.setattr(milp, "_solve_model", lambda *a, **k: solves.append(1) or solve_model(*a, **k))
    monkeypatch.setattr(milp, "GUIDED_COLUMNS", 0)
    proved = milp.solve(part)
    assert len(solves) == 3 and proved.lower_bound_monthly_usd == pytest.approx(proved.monthly_usd)
    solves.clear()
    monkeypatch.setattr(milp, "PROVED_ENOUGH", 0.15)
    left = milp.solve(part)
    assert len(solves) == 2 and left.assignment == proved.assignment
    assert left.lower_bound_monthly_usd == pytest.approx((2.5 * 0.1 + 0.5 * 0.2) * HOURS_PER_MONTH)
    # a placement asked for only within a gap (local search's start) skips it the same way, as far as that gap
    solves.clear()
    monkeypatch.setattr(milp, "PROVED_ENOUGH", 1e-5)
    assert milp.solve(part, gap=0.15) == left and len(solves) == 2
    solves.clear()
    assert milp.solve(part, gap=0.10) == proved and len(solves) == 3


def test_the_restricted_milp_stops_at_half_what_the_proof_may_leave(monkeypatch):
    # so that its placement, within that of its own bound, is also within PROVED_ENOUGH of the LP's bound
    # whenever the two bounds are close (placement LPs are tight): then step 3 is skipped
    from tests.placement.tiny import demand, option, problem

    asked = []
    solve_model = milp._solve_model
    monkeypatch.setattr(milp, "_solve_model", lambda lp, relax, *a, **k: asked.append((relax, k.get("gap")))
                        or solve_model(lp, relax, *a, **k))
    monkeypatch.setattr(milp, "GUIDED_COLUMNS", 0)
    milp.solve(problem(demand("web", 3, [option("aws/us-east-1", 0.1), option("gcp/us-central1", 0.2)])))
    assert asked[:2] == [(True, None), (False, milp.PROVED_ENOUGH / 2)]
