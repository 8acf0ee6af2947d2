"""The workflow's record is the project's journal: `audit log` shows its steps, `audit verify` proves them
whole (exit 8 once a byte changes), its lock is the journal's workflow lock, `journal_url` moves it."""

from __future__ import annotations

import json

from cloudorch.cli.app import main
from cloudorch.errors import ExitCode
from cloudorch.journal import Journal
from tests.workflow.test_resume import run_forked
from tests.workflow.test_run import CANARY, entries


def test_audit_log_shows_the_failover_and_verify_fails_after_a_byte_changes(release, capsys):
    assert main(["apply", str(release), "--rehearse", "--yes", "--inject", f"capacity:{CANARY}"]) == 0
    capsys.readouterr()
    assert main(["audit", "log", "--stack", "release-app-canary"]) == 0
    out = capsys.readouterr().out
    failover = [line for line in out.splitlines() if " failover " in line]
    assert len(failover) == 1 and "succeeded" in failover[0] and "instance_type=m6i.large" in failover[0]
    assert main(["audit", "log", "--format", "json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [replaced] = [r["fields"]["replaced"] for r in records if r["kind"] == "failover"]
    assert replaced[0].startswith("web: 1x aws/eu-west-1/m6i.large -> 1x aws/eu-west-1/")
    kinds = [r["kind"] for r in records]
    assert kinds[0] == kinds[-1] == "workflow" and {"plan", "apply", "failover", "check"} <= set(kinds)
    assert main(["audit", "verify"]) == 0
    record = sorted((release.parent / ".cloudorch/journal/records").glob("*.json"))[len(kinds) // 2]
    data = record.read_bytes()
    record.write_bytes(data.replace(b'"outcome":"', b'"outcome":"X', 1))
    assert main(["audit", "verify"]) == int(ExitCode.JOURNAL_INVALID)


def test_every_record_of_a_run_carries_its_workflow_id_and_step(release, capsys):
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 0
    records = entries(release.parent)
    assert len({e.fields["workflow_id"] for e in records}) == 1
    assert all(e.fields["rehearsal"] is True and e.fields["workflow"] == "release" for e in records)
    assert all(e.fields.get("step") for e in records if e.kind != "workflow")
    assert [e.outcome for e in records if e.kind == "workflow"] == ["started", "succeeded"]
    applied = [e for e in records if e.kind == "apply"]
    assert all(len(e.fields["plan_hash"]) == 64 and len(e.fields["inputs_hash"]) == 64 for e in applied)


def test_the_workflow_lock_is_the_journals_and_a_killed_run_keeps_it_until_resumed(tmp_path, capsys, monkeypatch):
    from tests.workflow.test_resume import make_workflow

    root = tmp_path / "r"
    d = make_workflow(root)
    assert run_forked(root, ["apply", str(d), "--rehearse", "--yes", "--inject", "crash:kb:1"]) == 137
    held = Journal.open(root).lock_state()
    [started] = [e for e in Journal.open(root).entries() if e.kind == "workflow"]
    assert held is not None and held.holder == f"workflow killtest {started.fields['workflow_id']}"
    # another run of the workflow is refused while the killed one holds the lock; its resumption takes it over
    assert run_forked(root, ["apply", str(d), "--rehearse", "--yes"]) == int(ExitCode.ENGINE_FAILURE)
    capsys.readouterr()
    monkeypatch.chdir(root)
    assert main(["apply", str(d), "--rehearse", "--yes"]) == int(ExitCode.ENGINE_FAILURE)
    err = capsys.readouterr().err
    assert held.holder in err and "continue it with --resume" in err
    assert run_forked(root, ["apply", str(d), "--rehearse", "--yes", "--resume"]) == 0
    assert Journal.open(root).lock_state() is None


def test_a_journal_url_in_the_config_takes_the_workflows_records(release, tmp_path, capsys):
    shared = tmp_path / "shared-journal"
    (release.parent / "cloudorch.toml").write_text(f'project = "wftest"\njournal_url = "{shared.as_uri()}"\n')
    assert main(["apply", str(release), "--rehearse", "--yes"]) == 0
    assert not (release.parent / ".cloudorch" / "journal").exists()
    assert len(list((shared / "records").iterdir())) >= 10


def test_planning_a_workflow_journals_each_stacks_plan_with_its_unknowns(release, capsys):
    assert main(["plan", str(release)]) == 0
    plans = entries(release.parent, "plan")
    assert [(e.stack, e.outcome, e.fields["unknowns"]) for e in plans] == [
        ("release-core", "succeeded", 0), ("release-data", "succeeded", 1), ("release-app-canary", "succeeded", 1),
        ("release-app", "succeeded", 1)]
    assert all(e.fields["workflow"] == "release" and len(e.fields["plan_hash"]) == 64 for e in plans)
