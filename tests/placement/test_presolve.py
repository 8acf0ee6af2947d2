"""What the planner reads off a demand's options without pruning them: the useful options of a demand whose
location matters reach every location its options do (one survives per location), so the quotas it could
count against and the size of its model follow from the locations alone."""

from __future__ import annotations

import dataclasses

import pytest

from cloudorch.placement import milp
from cloudorch.placement.presolve import useful_options
from tests.placement.test_improve import _busy_problem


@pytest.mark.parametrize("seed", range(6))
def test_a_location_bound_demand_keeps_an_option_in_every_location_it_has_any(seed):
    part = _busy_problem(seed)
    linked = part.location_linked()
    assert linked == {d.name for d in part.demands}  # every member of the network
    pruned = 0
    for d in part.demands:
        kept = useful_options(d, part, True)
        pruned += len(d.options) - len(kept)
        assert {o.location for o in kept} == {o.location for o in d.options}
    assert pruned > 0  # the draw has options the pruning drops


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("network", [True, False])
def test_the_model_size_is_settled_from_locations_only_when_it_is_surely_over(seed, network):
    part = _busy_problem(seed)
    if not network:  # then only near / apart bind a demand to its location
        part = dataclasses.replace(part, network=None)
    exact = milp.replica_columns(part)
    for above in (0, exact // 2, exact - 1, exact, exact + 5):
        found = milp.replica_columns(part, above=above)
        assert (found > above) == (exact > above)
        if found <= above:
            assert found == exact
