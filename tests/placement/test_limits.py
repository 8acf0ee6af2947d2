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


def test_two_plans_silencing_highs_banner_at_once_leave_stdout_where_it_was(monkeypatch):
    # the first HiGHS built points fd 1 at /dev/null while its banner prints; a second thread arriving
    # meanwhile must not save that /dev/null as "stdout" and put it back after the first restored it
    import os
    import threading
    import time

    import highspy

    class SlowHighs:
        def __init__(self) -> None:
            time.sleep(0.1)

        def setOptionValue(self, key, value):  # noqa: N802 - HiGHS' own name
            pass

    monkeypatch.setattr(highspy, "Highs", SlowHighs)
    monkeypatch.setattr(milp, "_banner_silenced", False)
    kept = os.dup(1)
    before = os.fstat(1)
    try:
        first = threading.Thread(target=milp._highs)
        second = threading.Thread(target=milp._highs)
        first.start()
        time.sleep(0.02)
        second.start()
        first.join()
        second.join()
        after = os.fstat(1)
    finally:
        os.dup2(kept, 1)
        os.close(kept)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)



@pytest.mark.parametrize("usd, shown", [(1.23456789, 1.2345), (2.00009999, 2.0), (-float("inf"), -float("inf"))])
def test_a_groups_bound_is_rounded_down_never_up(usd, shown):
    # a thousand linked groups' bounds are added up: each rounded up by a fraction of a cent could pass the bill
    assert milp._down(usd) == shown
