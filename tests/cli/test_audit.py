"""`cloudorch audit verify | log | unlock`, and the records the single-stack commands leave."""

from __future__ import annotations

import json

import pytest

from cloudorch.cli.app import main
from cloudorch.journal import Journal
from tests.support import ROOT


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    (tmp_path / ".git").mkdir()
    (tmp_path / "webshop.yaml").write_text((ROOT / "stacks" / "webshop.yaml").read_text())
    return tmp_path


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_plan_is_journaled_and_verify_passes_then_fails_after_a_byte_changes(project, capsys):
    assert main(["plan", "webshop.yaml"]) == 0
    capsys.readouterr()
    assert main(["audit", "verify", "--format", "json"]) == 0
    result = _json_lines(capsys.readouterr().out)[0]
    assert result["ok"] and result["count"] == 1
    record = next((project / ".cloudorch" / "journal" / "records").iterdir())
    data = bytearray(record.read_bytes())
    data[data.index(b"succeeded")] ^= 0x20  # "Succeeded"
    record.write_bytes(bytes(data))
    assert main(["audit", "verify"]) == 8
    err = capsys.readouterr().err
    assert "record 1: edited" in err
    assert main(["audit", "verify", "--format", "json"]) == 8
    failed = _json_lines(capsys.readouterr().out)[0]
    assert failed["exit_code"] == 8 and failed["verification"]["problem"]["what"] == "edited"


def test_log_shows_the_history_filtered_by_stack_and_time(project, capsys):
    journal = Journal.open(project, environ={"GITLAB_CI": "true", "CI_PIPELINE_ID": "31"})
    journal.append("apply", stack="web", outcome="succeeded", duration_s=3.2)
    journal.append("failover", stack="db", outcome="succeeded", error_class="capacity", cloud="aws",
                   region="eu-west-1", instance_type="m5.large", replaced={"db": "gcp/europe-west4"})
    assert main(["audit", "log", "--stack", "db", "--format", "json"]) == 0
    records = _json_lines(capsys.readouterr().out)
    assert [r["kind"] for r in records] == ["failover"] and records[0]["fields"]["region"] == "eu-west-1"
    assert main(["audit", "log"]) == 0
    out = capsys.readouterr().out
    assert "failover" in out and "via gitlab-ci run 31" in out and "error_class=capacity" in out
    assert main(["audit", "log", "--since", "1h", "--format", "json"]) == 0
    assert len(_json_lines(capsys.readouterr().out)) == 2
    assert main(["audit", "log", "--since", "2999-01-01", "--format", "json"]) == 0
    assert _json_lines(capsys.readouterr().out) == []
    assert main(["audit", "log", "--since", "last tuesday"]) == 2


def test_unlock_breaks_a_stale_workflow_lock_only_as_holder_or_with_force(project, capsys):
    journal = Journal.open(project)
    held = journal.lock("release-9")
    held.__enter__()  # its runner died holding it (kept referenced: collecting it would release the lock)
    assert main(["audit", "unlock", "--holder", "release-8"]) == 2
    err = capsys.readouterr().err
    assert "release-9" in err and "since" in err and "--force" in err
    assert journal.lock_state() is not None
    assert main(["audit", "unlock", "--holder", "release-9"]) == 0
    assert "release-9" in capsys.readouterr().out and journal.lock_state() is None
    held = journal.lock("release-10")
    held.__enter__()
    assert main(["audit", "unlock", "--force", "--format", "json"]) == 0
    assert _json_lines(capsys.readouterr().out)[0]["cleared"]["holder"] == "release-10"


def test_a_refused_apply_is_journaled_with_its_error_class(project, capsys):
    text = (project / "webshop.yaml").read_text().replace("monthly_usd: 6000", "monthly_usd: 10")
    (project / "webshop.yaml").write_text(text)
    assert main(["apply", "webshop.yaml", "--yes"]) == 4
    (record,) = Journal.open(project).entries()
    assert (record.kind, record.stack, record.outcome) == ("apply", "webshop", "refused")
    assert record.fields["error_class"] == "OverBudget" and record.fields["exit_code"] == 4
    assert len(record.fields["inputs_hash"]) == 64 and len(record.fields["plan_hash"]) == 64


def test_a_journal_url_in_the_config_is_where_records_go(project, capsys, tmp_path):
    shared = tmp_path / "shared-journal"
    (project / "cloudorch.toml").write_text(f'journal_url = "{shared.as_uri()}"\n')
    assert main(["plan", "webshop.yaml"]) == 0
    assert not (project / ".cloudorch" / "journal").exists()
    assert len(list((shared / "records").iterdir())) == 1
    (project / "cloudorch.toml").write_text('journal_url = "gs://bucket/journal"\n')
    assert main(["audit", "verify"]) == 2
    assert "s3://" in capsys.readouterr().err


def test_apply_and_destroy_are_journaled_with_their_changes(project, monkeypatch, capsys):
    from cloudorch import lifecycle
    from cloudorch.engine import PulumiEngine
    from tests.engine.conftest import PASSPHRASE, FakeWorkspace, done, summary

    workspace = FakeWorkspace([done(1, "create", "net-vpc", "aws:ec2/vpc:Vpc"), summary(2, {"create": 1})],
                              summary={"create": 1})
    real = lifecycle.engine_for
    monkeypatch.setattr(lifecycle, "engine_for", lambda identity, session: PulumiEngine(
        real(identity, session).settings, open_workspace=workspace.factory, which=lambda _: "/usr/bin/pulumi",
        environ={"CLOUDORCH_PASSPHRASE": PASSPHRASE}))
    monkeypatch.setenv("CLOUDORCH_PASSPHRASE", PASSPHRASE)
    assert main(["apply", "webshop.yaml", "--yes"]) == 0
    assert main(["destroy", "webshop.yaml", "--yes"]) == 0
    assert main(["drift", "webshop.yaml"]) == 0  # only looks: not journaled
    apply, destroy = Journal.open(project).entries()
    assert (apply.kind, apply.stack, apply.outcome, apply.fields["changes"]) == ("apply", "webshop", "succeeded",
                                                                                 {"create": 1})
    assert destroy.kind == "destroy" and destroy.prev == apply.hash
    assert PASSPHRASE.encode() not in b"".join(p.read_bytes() for p in (project / ".cloudorch/journal/records").iterdir())
