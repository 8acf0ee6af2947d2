"""The alternatives an explanation names, read off only what it needs: the next types in each chosen region
from that location's fitting offerings alone, the best on another cloud from its cheapest few -- and the
same as when every fitting offering everywhere is built and filtered."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cloudorch.capabilities import requirement_of
from cloudorch.catalog.model import Region
from cloudorch.placement.capability import CapabilityFilter, no_gaps, requirements_of
from cloudorch.placement.candidates import OfferingIndex, cheapest_fits, compute_options, database_options
from cloudorch.spec.models import Compute
from tests.placement.test_constraints import web
from tests.placement.test_properties import stacks
from tests.placement.tiny import ZONES3, catalog, off, plan, stack
from tests.placement.tiny import settings as make_settings

REGIONS = (
    Region("aws", "us-east-1", "us", ZONES3),
    Region("aws", "eu-west-1", "eu", ZONES3),
    Region("azure", "eastus", "us", ZONES3),
    Region("gcp", "europe-west4", "eu", ZONES3),
)
SOME = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@st.composite
def crowded(draw):
    """Several types per region, prices often equal (ties broken by availability, then name), some spot."""
    out = []
    for r in REGIONS:
        for i in range(draw(st.integers(1, 6))):
            cpu = draw(st.sampled_from((2, 4, 8)))
            price = draw(st.integers(5, 9)) / 100
            spot = draw(st.one_of(st.none(), st.integers(1, 4).map(lambda k, p=price: round(p * k / 5, 4))))
            out.append(off(f"{r.cloud}/{r.name}", f"t{draw(st.integers(0, 9))}{i}-{cpu}", price, cpu,
                           cpu * draw(st.sampled_from((2, 4))), spot=spot, zones=ZONES3[: draw(st.integers(1, 3))],
                           arch=draw(st.sampled_from(("x86_64", "x86_64", "arm64")))))
    return catalog(*out, regions=REGIONS)


@SOME
@given(crowded(), st.sampled_from((1, 2, 4)), st.sampled_from((2, 4, 8)), st.booleans(), st.integers(1, 8))
def test_the_first_fits_in_a_location_are_the_first_of_every_fit_there(cat, cpu, memory, spot, take):
    spec = Compute(kind="compute", network="net", cpu=cpu, memory_gb=memory, spot=spot)
    hosts = CapabilityFilter(no_gaps, REGIONS).hosts([(None, requirement_of(spec))])
    index = OfferingIndex(cat, make_settings())
    every, _ = compute_options(spec, hosts, index, prune=False)
    for r in REGIONS:
        for is_spot in (False, True):
            there = sorted((o for o in every if o.location == (r.cloud, r.name) and o.spot == is_spot),
                           key=lambda o: o.sort_key)
            assert cheapest_fits(spec, hosts, index, (r.cloud, r.name), is_spot, take) == tuple(there[:take])


def everything_at_the_location(stack, cat, index, capability, across=frozenset(), beside=frozenset()):
    """What `--explain` once did: every fitting offering in every region built, then filtered to a location
    (``take`` ignored: the explanation takes the first it needs after skipping the chosen types)."""

    def fits(name, location, spot, take):
        spec = stack.resources[name]
        hosts = capability.hosts(requirements_of(stack, name, across, beside))
        every = (compute_options(spec, hosts, index, prune=False) if isinstance(spec, Compute)
                 else database_options(spec, hosts, cat, prune=False))[0]
        return tuple(sorted((o for o in every if o.location == location and o.spot == spot), key=lambda o: o.sort_key))

    return fits


@SOME
@given(stacks(), crowded())
# a spot slot in a region whose cheaper spot types are all dominated: the chosen type is skipped, two named
@example((stack(web(2, "spot: true"), placement="regions: [us-east-1]"), {}),
         catalog(off("aws/us-east-1", "a-4", 0.05, spot=0.02), off("aws/us-east-1", "b-4", 0.05, spot=0.03, zones=("a",)),
                 off("aws/us-east-1", "c-4", 0.06, spot=0.03, zones=("a",)), off("aws/us-east-1", "d-4", 0.07, spot=0.04),
                 regions=REGIONS))
def test_explanations_are_the_same_as_from_every_fit_everywhere(case, cat):
    st_, quotas = case
    try:
        fast = plan(st_, cat, vcpu_quotas=quotas)
    except Exception:  # infeasible or over budget: nothing explained either way
        return
    with patch("cloudorch.placement.planner.every_fit", everything_at_the_location):
        reference = plan(st_, cat, vcpu_quotas=quotas)
    assert fast.explanations == reference.explanations


def test_the_next_types_of_a_spot_slot_are_spot_ones_there_dominated_included():
    cat = catalog(off("aws/us-east-1", "a-4", 0.05, spot=0.02),
                  off("aws/us-east-1", "b-4", 0.05, spot=0.03, zones=("a",)),  # dominated by a-4 (fewer zones)
                  off("aws/us-east-1", "c-4", 0.06, spot=0.03, zones=("a",)),
                  off("aws/us-east-1", "d-4", 0.07, spot=0.04),
                  regions=REGIONS)
    result = plan(stack(web(2, "spot: true"), placement="regions: [us-east-1]"), cat)
    why = result.explanations["web"]
    assert why.chosen == ("2 x a-4 (spot) in aws/us-east-1",)
    here = [(a.instance_type, a.spot, a.monthly_usd) for a in why.alternatives if a.why.startswith("another type")]
    assert here == [("b-4", True, 43.80), ("c-4", True, 43.80)]


def test_the_best_on_another_cloud_is_the_cheapest_even_when_a_more_available_one_costs_as_much():
    # same price on gcp in two regions: the less available one (1 zone) comes later in the planner's order but
    # first in the explanation's (by region name): it must still be weighed, not cut off at the first found
    regions = (*REGIONS, Region("gcp", "us-central1", "us", ZONES3))
    cat = catalog(off("aws/us-east-1", "m-4", 0.05),
                  off("gcp/us-central1", "n-4", 0.08),
                  off("gcp/europe-west4", "e-4", 0.08, zones=("a",)),
                  off("gcp/europe-west4", "e-8", 0.09, 8, 32),
                  regions=regions)
    result = plan(stack(web(1), placement="clouds: [aws, gcp]"), cat)
    best = [(a.region, a.instance_type, a.monthly_usd) for a in result.explanations["web"].alternatives
            if a.why == "the best on gcp"]
    assert best == [("europe-west4", "e-4", 58.40)]
