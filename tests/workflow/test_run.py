"""A workflow rehearsed end to end through the CLI: order, checks, retries, failover, rollback, the journal."""

from __future__ import annotations

import json
import random


from cloudorch.cli.app import main
from cloudorch.journal import Journal
from cloudorch.workflow.rehearsal import read_state, rehearsal_dir
from tests.workflow.conftest import small_stack, write

#: the canary's machine in the example (tests/workflow/test_example.py holds the plan to it)
CANARY = "aws/eu-west-1/m6i.large"


def entries(project, kind=None):
    return [e for e in Journal.open(project).entries() if kind is None or e.kind == kind]


def states(project):
    return {p.stem: read_state(p) for p in sorted((rehearsal_dir(project) / "wftest").glob("*.json"))}


def fast_retries(directory):
    """The example with retries that do not wait (the policy's shape is the example's)."""
    path = directory / "workflow.yaml"
    path.write_text(path.read_text().replace("retry: {attempts: 4, initial_s: 1, max_s: 30, jitter_s: 1}",
                                             "retry: {attempts: 4, initial_s: 0, max_s: 0, jitter_s: 0}"))


def test_the_example_rehearses_end_to_end_in_order(release, capsys):
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 0
    applied = [e.stack for e in entries(release.parent, "apply")]
    assert applied == ["release-core", "release-data", "release-app-canary", "release-app"]
    check = entries(release.parent, "check")
    assert [(e.fields["step"], e.outcome) for e in check] == [("check:canary-healthy", "succeeded")]
    assert entries(release.parent, "check")[0].seq < entries(release.parent, "apply")[3].seq
    state = states(release.parent)
    assert set(state) == {"release-core", "release-data", "release-app-canary", "release-app"}
    assert all(s["resources"] and not s["pending"] for s in state.values())
    # the data stack's tag holds the core stack's jump host ids: filled, not a placeholder
    core = state["release-core"]["resources"]
    bastion = [core[n]["id"] for n in sorted(core) if core[n]["source"] == "bastion" and "providers" not in core[n]["type"]]
    snapshot = json.loads((release.parent / ".cloudorch/rehearsal/applied/release-data.json").read_text())
    tags = [r["inputs"].get("tags", {}) for r in snapshot if r.get("source") == "orders-db"]
    assert any(",".join(bastion) in json.dumps(t) for t in tags)
    assert Journal.open(release.parent).verify().ok
    # applied again: nothing changes, every stack converged
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 0
    assert states(release.parent) == state
    assert "no changes" in capsys.readouterr().err


def test_a_capacity_fault_re_places_the_stack_and_the_journal_shows_the_failover(release, capsys):
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", f"capacity:{CANARY}"]) == 0
    err = capsys.readouterr().err
    assert f"{CANARY} is out of capacity; re-placed: web: 1x {CANARY} -> 1x aws/eu-west-1/" in err
    failover = entries(release.parent, "failover")
    assert len(failover) == 1
    f = failover[0]
    assert (f.stack, f.outcome, f.fields["blocked"], f.fields["error_class"]) == \
        ("release-app-canary", "succeeded", CANARY, "capacity")
    assert f.fields["replaced"] and f.fields["monthly_after"] >= f.fields["monthly_before"]
    # the re-placement is what runs: no machine of the blocked type exists, nothing of the failed try is left
    snapshot = (release.parent / ".cloudorch/rehearsal/applied/release-app-canary.json").read_text()
    assert "m6i.large" not in snapshot
    canary = states(release.parent)["release-app-canary"]
    assert set(canary["resources"]) == {r["name"] for r in json.loads(snapshot)}
    assert Journal.open(release.parent).verify().ok


def test_no_failover_stops_at_the_capacity_error(release, capsys):
    assert main(["apply", str(release), "--rehearse", "--yes", "--no-failover", "--inject", f"capacity:{CANARY}"]) == 6
    assert "capacity" in capsys.readouterr().err
    assert not entries(release.parent, "failover")
    assert [e.outcome for e in entries(release.parent, "workflow")] == ["started", "failed"]


def test_transient_errors_are_retried_and_every_attempt_recorded(release, capsys):
    fast_retries(release)
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", "transient:release-data:2"]) == 0
    retries = entries(release.parent, "retry")
    assert [(e.stack, e.fields["attempt"]) for e in retries] == [("release-data", 1), ("release-data", 2)]
    assert all("Throttling" in e.fields["error"] for e in retries)
    applied = [e for e in entries(release.parent, "apply") if e.stack == "release-data"]
    assert applied[0].fields["attempts"] == 3


def test_retries_are_bounded(release, capsys):
    fast_retries(release)
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", "transient:release-core:9"]) == 6
    assert len(entries(release.parent, "retry")) == 3  # 4 attempts: 3 retried, the last one fails the run
    assert [e.outcome for e in entries(release.parent, "apply")] == ["failed"]


def test_a_failing_check_rolls_the_canary_back_and_stops_before_wave_two(release, capsys):
    path = release / "workflow.yaml"
    path.write_text(path.read_text().replace("interval_s: 10", "interval_s: 0.01"))
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", "check:canary-healthy"]) == 6
    err = capsys.readouterr().err
    assert "check 'canary-healthy' failed" in err and "rolled back: release-app-canary" in err
    assert len(entries(release.parent, "check")) == 6  # retries: 5
    state = states(release.parent)
    assert state["release-app-canary"]["resources"] == {}  # it had no earlier apply: rolled back to nothing
    assert "release-app" not in state or not state["release-app"]["resources"]
    assert state["release-core"]["resources"]


def test_a_failing_check_set_to_continue_does_not_stop(release, capsys):
    path = release / "workflow.yaml"
    path.write_text(path.read_text().replace("on_failure: rollback", "on_failure: continue")
                    .replace("retries: 5", "retries: 0"))
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", "check:canary-healthy"]) == 0
    assert states(release.parent)["release-app"]["resources"]


def test_destroy_runs_in_reverse_order(release, capsys):
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 0
    assert main(["destroy", str(release), "--rehearse", "--yes", "--parallel", "1"]) == 0
    order = [e.stack for e in entries(release.parent, "destroy")]
    assert order.index("release-core") > order.index("release-data") > max(order.index("release-app"),
                                                                            order.index("release-app-canary"))
    assert all(not s["resources"] for s in states(release.parent).values())


def test_plan_of_a_workflow_marks_unknowns_until_the_upstream_is_rehearsed(release, capsys):
    assert main(["plan", str(release), "--format", "json", "--rehearse"]) == 0
    planned = json.loads(capsys.readouterr().out)
    unknown = {s["stack"]: s["unknowns"] for s in planned["stacks"]}
    assert unknown["release-core"] == []
    assert unknown["release-data"] == [{"file": "release/data.yaml", "line": 27,
                                        "path": "resources.orders-db.tags.admin-host",
                                        "reference": "${core.outputs.bastion}", "settled_by": "apply release-core"}]
    assert main(["apply", str(release), "--rehearse", "--yes", "--target", "release-core"]) == 0
    capsys.readouterr()
    assert main(["plan", str(release), "--format", "json", "--rehearse"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert {s["stack"]: len(s["unknowns"]) for s in planned["stacks"]} == {
        "release-core": 0, "release-data": 0, "release-app-canary": 1, "release-app": 1}


def test_apply_of_a_stack_whose_upstream_was_left_out_and_never_applied_is_exit_2(release, capsys):
    assert main(["apply", str(release), "--rehearse", "--yes", "--exclude", "release-core"]) == 2
    assert "needs outputs no applied stack has" in capsys.readouterr().err


def test_a_real_apply_of_a_workflow_needs_confirmation_or_yes(release, capsys):
    assert main(["apply", str(release)]) == 2
    assert "pass --yes" in capsys.readouterr().err


def test_inject_needs_rehearse_and_a_known_fault(release, capsys):
    assert main(["apply", str(release), "--yes", "--inject", "crash:x"]) == 2
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", "flood:x"]) == 2
    assert "not a fault" in capsys.readouterr().err


def test_the_journal_of_a_rehearsal_fails_verification_after_any_byte_changes(release):
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 0
    journal = Journal.open(release.parent)
    assert journal.verify().ok
    records = sorted((release.parent / ".cloudorch/journal/records").glob("*.json"))
    assert len(records) >= 10
    rng = random.Random(12)
    for _ in range(20):
        path = rng.choice(records)
        original = path.read_bytes()
        at = rng.randrange(len(original))
        path.write_bytes(original[:at] + bytes([original[at] ^ 0x01]) + original[at + 1:])
        try:
            assert not Journal.open(release.parent).verify().ok, f"{path.name} byte {at}"
        finally:
            path.write_bytes(original)
    assert Journal.open(release.parent).verify().ok


def test_independent_stacks_run_in_parallel_and_a_stack_waits_for_what_it_uses(project, capsys):
    d = project / "w"
    for name in ("a", "b", "c"):
        write(d, f"{name}.yaml", small_stack(name))
    write(d, "d.yaml", small_stack("d", uses={"a": "a.yaml", "c": "c.yaml"}, tag_ref="${a.outputs.store-0}"))
    assert main(["apply", str(d), "--rehearse", "--yes", "--parallel", "3", "--format", "json"]) == 0
    seqs = {e.stack: e.seq for e in entries(project, "apply")}
    assert seqs["d"] > max(seqs["a"], seqs["c"])

