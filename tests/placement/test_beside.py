"""Work done beside the solver: started only when a solve starts, on another thread, its result (or error)
handed back where it is asked for; done in place when no solve starts; never seen by another thread."""

from __future__ import annotations

import threading

import pytest

from cloudorch.placement import beside, milp, planner
from cloudorch.placement.beside import solver_starts, while_solving
from tests.placement.test_bill import CAT, WEB_DB, rates
from tests.placement.test_improve import local_search  # noqa: F401 (a fixture)
from tests.placement.tiny import plan, stack


def _where():
    return threading.current_thread().name


def test_the_work_waits_for_a_solve_and_then_runs_on_another_thread():
    started = threading.Event()
    with while_solving(lambda: (started.set(), _where())[1]) as job:
        assert not started.wait(0.05)  # model building and the like: the work would only take turns with it
        solver_starts()
        assert job.result() == "cloudorch-beside-solver"


def test_without_a_solve_the_work_is_done_where_its_result_is_asked_for():
    with while_solving(_where) as job:
        assert job.result() == threading.current_thread().name


def test_its_error_is_raised_where_the_result_is_asked_for():
    def fails():
        raise ValueError("no floor")

    with while_solving(fails) as job:
        solver_starts()
        with pytest.raises(ValueError, match="no floor"):
            job.result()


def test_a_solve_on_another_thread_does_not_start_this_threads_work():
    with while_solving(_where) as job:
        other = threading.Thread(target=solver_starts)
        other.start()
        other.join()
        assert job._thread is None
    assert beside._waiting.get() is None  # the block put back what it found


def test_the_block_does_not_end_before_the_work_has():
    release, finished = threading.Event(), []
    with while_solving(lambda: release.wait(5) and finished.append(True)):
        solver_starts()
        threading.Timer(0.05, release.set).start()
    assert finished == [True]


def test_the_network_floors_are_worked_out_beside_the_machines_solve(local_search, monkeypatch):  # noqa: F811
    threads = []
    floor = planner.coupled_floor
    monkeypatch.setattr(planner, "coupled_floor", lambda part: threads.append(_where()) or floor(part))
    result = plan(stack(WEB_DB % ", gb_month: 1000"), CAT, rates=rates(vpn_site=0.0, link=0.0))
    assert threads == ["cloudorch-beside-solver"]
    # and the same bound as worked out in place (test_improve: the floor meets the optimum here)
    assert result.lower_bound_monthly_usd == pytest.approx(result.monthly_usd, abs=0.01)


def test_the_machines_that_start_local_search_are_asked_only_within_the_start_gap(local_search, monkeypatch):  # noqa: F811
    gaps = []
    solve = milp.solve
    monkeypatch.setattr(milp, "solve", lambda problem, gap=None: gaps.append((problem.network.couples, gap))
                        or solve(problem, gap))
    plan(stack(WEB_DB % ", gb_month: 1000"), CAT, rates=rates(vpn_site=0.0, link=0.0))
    # one solve per linked group, of the machines and what each replica pays of the network wherever the rest is
    assert gaps and set(gaps) == {(False, milp.START_GAP)}
