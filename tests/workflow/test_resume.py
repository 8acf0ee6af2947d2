"""A rehearsal killed at any step and resumed ends exactly where an uninterrupted run ends: no resource
created twice, none missing, no stack applied twice.

Most kill points are injected (``--inject crash:STEP:K``: the process ends with ``os._exit``, as under
``kill -9``: no cleanup, no journal record) at every resource operation of every stack and at the check;
a few are real ``SIGKILL``s of a ``cloudorch`` process at random moments. The injected runs are forked
from this warm interpreter, so that 50 and more points stay within a minute.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cloudorch.journal import Journal
from cloudorch.workflow.rehearsal import CRASH_STATUS, read_state, rehearsal_dir
from tests.workflow.conftest import small_stack, write


def make_workflow(root: Path) -> Path:
    """Two stacks of ~26 resources each (the second uses the first's outputs) and a check between them: each
    run plans two stacks, and every resource operation is a kill point."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "cloudorch.toml").write_text('project = "killtest"\n')
    d = root / "wf"
    write(d, "a.yaml", small_stack("ka", buckets=5))
    write(d, "b.yaml", small_stack("kb", uses={"a": "a.yaml"}, buckets=5, tag_ref="${a.outputs.store-0}"))
    write(d, "workflow.yaml", """\
        workflow: killtest
        retry: {attempts: 2, initial_s: 0, max_s: 0, jitter_s: 0}
        steps:
          - stacks: [ka]
          - check: probe
            command: {run: ["false"]}
          - stacks: [kb]
        """)
    return d


def run_forked(root: Path, args: list[str]) -> int:
    """``cloudorch ARGS`` in a child forked from this process, in ``root``; its exit status."""
    return run_many([(root, args)])[0]


def run_many(runs: list[tuple[Path, list[str]]]) -> list[int]:
    """Several ``cloudorch`` runs at once, each in a child forked from this warm process; their exit statuses."""
    pids = []
    for root, args in runs:
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                os.chdir(root)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                from cloudorch.cli.app import main

                code = main(args)
            finally:
                os._exit(code)
        pids.append(pid)
    return [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]


def simulated(root: Path) -> dict:
    return {p.stem: read_state(p) for p in sorted((rehearsal_dir(root) / "killtest").glob("*.json"))}


def applies_per_stack(root: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in Journal.open(root).entries():
        if e.kind == "apply" and e.outcome == "succeeded":
            counts[e.stack] = counts.get(e.stack, 0) + 1
    return counts


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    d = make_workflow(root)
    assert run_forked(root, ["apply", str(d), "--rehearse", "--yes"]) == 0
    state = simulated(root)
    assert set(state) == {"ka", "kb"} and all(s["resources"] for s in state.values())
    return root, state


def kill_points(reference_state: dict) -> list[str]:
    points = ["crash:probe"]
    for stack, state in reference_state.items():
        operations = len(state["resources"])  # a first apply creates each resource once
        points += [f"crash:{stack}:{k}" for k in range(operations + 1)]  # the last: applied, not yet recorded
    return points


def assert_same_as_uninterrupted(root: Path, expected: dict) -> None:
    state = simulated(root)
    assert state == expected  # same resources, same ids, created once each (ids carry a creation count)
    assert all(not s["pending"] for s in state.values())
    assert applies_per_stack(root) == {"ka": 1, "kb": 1}
    assert Journal.open(root).verify().ok


def test_every_injected_kill_point_resumes_to_the_uninterrupted_state(reference, tmp_path):
    base, expected = reference
    points = kill_points(expected)
    assert len(points) >= 50
    for pair in (points[i:i + 2] for i in range(0, len(points), 2)):  # two at a time: the machine has two cores
        roots = [tmp_path / point.replace(":", "_") for point in pair]
        dirs = [make_workflow(root) for root in roots]
        crashed = run_many([(r, ["apply", str(d), "--rehearse", "--yes", "--inject", p]) for r, d, p in zip(roots, dirs, pair)])
        assert crashed == [CRASH_STATUS] * len(pair), pair
        resumed = run_many([(r, ["apply", str(d), "--rehearse", "--yes", "--resume"]) for r, d in zip(roots, dirs)])
        assert resumed == [0] * len(pair), pair
        for root in roots:
            assert_same_as_uninterrupted(root, expected)


def test_a_crash_mid_apply_leaves_a_pending_operation_that_resume_clears(reference, tmp_path):
    _, expected = reference
    root = tmp_path / "p"
    d = make_workflow(root)
    assert run_forked(root, ["apply", str(d), "--rehearse", "--yes", "--inject", "crash:kb:2"]) == CRASH_STATUS
    assert simulated(root)["kb"]["pending"] == [{"op": "create", "resource": sorted(expected["kb"]["resources"],
                                                                                   key=list(expected["kb"]["resources"]).index)[2]}]
    assert run_forked(root, ["apply", str(d), "--rehearse", "--yes", "--resume"]) == 0
    repairs = [e for e in Journal.open(root).entries() if e.kind == "repair"]
    assert [(e.stack, len(e.fields["operations"])) for e in repairs] == [("kb", 1)]
    skipped = {e.stack for e in Journal.open(root).entries() if e.kind == "apply" and e.outcome == "succeeded"}
    assert skipped == {"ka", "kb"}
    assert_same_as_uninterrupted(root, expected)


def test_resume_with_nothing_to_resume_is_exit_2(reference, tmp_path):
    root = tmp_path / "n"
    d = make_workflow(root)
    assert run_forked(root, ["apply", str(d), "--rehearse", "--yes", "--resume"]) == 2


def test_real_sigkills_at_random_moments_resume_to_the_uninterrupted_state(reference, tmp_path):
    _, expected = reference
    rng = random.Random(7)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    interrupted = 0
    for i in range(3):
        root = tmp_path / f"k{i}"
        d = make_workflow(root)
        process = subprocess.Popen([sys.executable, "-m", "cloudorch.cli", "apply", str(d), "--rehearse", "--yes"],
                                   cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # kill once the run has started (its first plan is recorded), at a random moment after
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None and not _started(root):
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        finished = _finished(root)
        resumed = run_forked(root, ["apply", str(d), "--rehearse", "--yes", "--resume"])
        if finished:  # killed after its last record (or it exited first): nothing to resume
            assert process.returncode in (0, -signal.SIGKILL) and resumed == 2
        else:
            assert process.returncode == -signal.SIGKILL and resumed == 0
            interrupted += 1
        assert_same_as_uninterrupted(root, expected)
    assert interrupted, "every kill came after the run had finished: nothing was resumed"


def _started(root: Path) -> bool:
    records = root / ".cloudorch" / "journal" / "records"
    return records.is_dir() and len(list(records.glob("*.json"))) >= 2


def _finished(root: Path) -> bool:
    return any(e.kind == "workflow" and e.outcome == "succeeded" for e in Journal.open(root).entries())
