"""The planner's own conduct around a plan: what it changes of the process is put back."""

from __future__ import annotations

import gc

import pytest

from cloudorch.placement import planner
from tests.placement.tiny import catalog, off, plan, stack

CAT = catalog(off("aws/us-east-1", "m.large", 0.10), off("gcp/us-central1", "n.large", 0.09))
WEB = "web: {kind: compute, network: net, count: 2, cpu: 2, memory_gb: 4}"


def test_cycle_collection_is_rarer_while_placing_and_put_back_after_even_on_failure(monkeypatch):
    seen = []
    solve = planner._solve
    monkeypatch.setattr(planner, "_solve", lambda problem: seen.append(gc.get_threshold()) or solve(problem))
    before = gc.get_threshold()
    plan(stack(WEB), CAT)
    assert seen and seen[0][0] >= planner.COLLECT_EVERY and seen[0][1:] == before[1:]
    assert gc.get_threshold() == before

    def broken(problem):
        raise RuntimeError("boom")

    monkeypatch.setattr(planner, "_solve", broken)
    with pytest.raises(RuntimeError):
        plan(stack(WEB), CAT)
    assert gc.get_threshold() == before


def test_plans_placed_at_once_on_several_threads_put_the_threshold_back_when_the_last_ends():
    # a workflow places stacks on several threads: the first to start raises it, the last to end restores it
    before = gc.get_threshold()
    first, second = planner._cycle_collection.rarer(), planner._cycle_collection.rarer()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] >= planner.COLLECT_EVERY  # the second plan is still placing
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
