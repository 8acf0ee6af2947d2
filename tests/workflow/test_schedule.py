"""Independent steps run at once; a step waits for what it depends on; the first failure stops the rest."""

from __future__ import annotations

import threading
import time

import pytest

from cloudorch.workflow.schedule import run_in_order


def test_steps_start_after_their_dependencies_and_independent_ones_overlap():
    deps = {"a": set(), "b": set(), "c": {"a"}, "d": {"b", "c"}}
    started, finished, lock = {}, {}, threading.Lock()

    def run(step):
        with lock:
            started[step] = time.monotonic()
        time.sleep(0.05)
        with lock:
            finished[step] = time.monotonic()

    t0 = time.monotonic()
    run_in_order(deps, lambda s: deps[s], run, parallel=4)
    wall = time.monotonic() - t0
    for step, needs in deps.items():
        assert all(started[step] >= finished[n] for n in needs)
    assert abs(started["a"] - started["b"]) < 0.04  # together
    assert wall < 0.05 * 4 - 0.02  # the critical path (a, c, d), not all four in a row


def test_parallel_bounds_how_many_run_at_once():
    running, peak, lock = [0], [0], threading.Lock()

    def run(step):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    run_in_order([str(i) for i in range(12)], lambda s: set(), run, parallel=3)
    assert peak[0] == 3


def test_after_a_failure_nothing_new_starts_and_the_failure_is_raised():
    ran = []

    def run(step):
        ran.append(step)
        if step == "a":
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_in_order(["a", "b", "c"], lambda s: {"a"} if s != "a" else set(), run, parallel=2)
    assert ran == ["a"]
