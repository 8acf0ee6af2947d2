"""Every placement search has a time limit, priced or not: no input makes a plan hang."""

from __future__ import annotations

import pytest

from cloudorch.errors import ExitCode
from cloudorch.placement import milp
from tests.placement.tiny import demand, option, problem


def test_an_unpriced_search_that_finds_nothing_in_time_says_so(monkeypatch):
    seen = []

    def stopped(f, start, limits, gap=None):
        seen.append(limits)
        raise milp.Stopped("time limit reached")

    monkeypatch.setattr(milp, "_solve_lazily", stopped)
    with pytest.raises(milp.SearchTimeout) as err:
        milp.solve(problem(demand("web", 2, [option("aws/us-east-1", 0.1)])))
    assert seen[0].seconds == milp.UNPRICED_SECONDS and seen[0].nodes is None
    assert err.value.exit_code == ExitCode.INFEASIBLE
    assert "no placement within its 300 s limit" in err.value.message and err.value.hint


def test_the_limits_reach_highs_and_nodes_only_when_set():
    class Options(dict):
        def setOptionValue(self, key, value):  # noqa: N802 - HiGHS' own name
            self[key] = value

    unpriced, priced = Options(), Options()
    milp.Limits(nodes=None, seconds=300.0).apply(unpriced)
    milp.Limits().apply(priced)
    assert "mip_max_nodes" not in unpriced and 299 < unpriced["time_limit"] <= 300
    assert priced["mip_max_nodes"] == 2000 and 19 < priced["time_limit"] <= 20
