"""The local journal: appending, reading back, the chain, the actor, scrubbing, the workflow lock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cloudorch.errors import UsageError
from cloudorch.journal import Journal, JournalLocked
from cloudorch.journal.records import GENESIS, digest


def _journal(tmp_path, environ=None):
    return Journal.open(tmp_path, environ=environ if environ is not None else {})


def test_records_are_numbered_chained_and_sealed(tmp_path):
    journal = _journal(tmp_path)
    first = journal.append("plan", stack="web", outcome="succeeded", plan_hash="a" * 64, duration_s=1.5)
    second = journal.append("apply", stack="web", outcome="failed", error_class="capacity")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev == GENESIS and second.prev == first.hash
    assert digest(second.to_dict()) == second.hash
    files = sorted(p.name for p in (tmp_path / ".cloudorch" / "journal" / "records").iterdir())
    assert files == ["000000000001.json", "000000000002.json"]
    stored = json.loads((tmp_path / ".cloudorch/journal/records/000000000002.json").read_text())
    assert stored == second.to_dict()
    assert stored["fields"] == {"error_class": "capacity"}


def test_a_second_journal_object_continues_the_chain(tmp_path):
    _journal(tmp_path).append("plan", outcome="succeeded")
    again = _journal(tmp_path)
    entry = again.append("apply", outcome="succeeded")
    assert entry.seq == 2 and again.verify().ok and again.verify().count == 2


def test_a_stale_head_in_memory_is_caught_up_by_losing_the_race(tmp_path):
    """Two writers with their own idea of the head: the slower one chains onto what the other wrote."""
    a, b = _journal(tmp_path), _journal(tmp_path)
    a.append("plan", outcome="succeeded")
    b.append("plan", outcome="succeeded")  # b read the head (1) now
    a.append("apply", outcome="succeeded")  # a believes the head is 1: loses seq 2, takes 3
    b.append("apply", outcome="succeeded")
    entries = a.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert a.verify().ok


def test_entries_filter_by_stack_and_time(tmp_path):
    journal = _journal(tmp_path)
    journal.append("plan", stack="web", outcome="succeeded")
    journal.append("plan", stack="db", outcome="succeeded")
    assert [e.stack for e in journal.entries(stack="db")] == ["db"]
    assert journal.entries(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert len(journal.entries(since=datetime.now(UTC) - timedelta(minutes=1))) == 2


def test_actor_names_the_user_and_the_ci_run(tmp_path):
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_ID": "77", "GITHUB_ACTOR": "ana",
           "GITHUB_SHA": "abc", "GITHUB_TOKEN": "ghs_not_to_be_recorded_ever"}
    entry = _journal(tmp_path, env).append("apply", outcome="succeeded")
    ci = entry.actor["ci"]
    assert ci["system"] == "github-actions" and ci["repository"] == "acme/infra" and ci["triggered_by"] == "ana"
    assert ci["url"] == "https://github.com/acme/infra/actions/runs/77"
    assert entry.actor["user"]
    assert "ghs_not" not in json.dumps(entry.to_dict())
    gitlab = _journal(tmp_path, {"GITLAB_CI": "true", "CI_PIPELINE_ID": "9", "CI_JOB_URL": "https://gl/j/1"})
    assert gitlab.append("plan", outcome="succeeded").actor["ci"] == {"system": "gitlab-ci", "run_id": "9",
                                                                      "url": "https://gl/j/1"}
    assert "ci" not in _journal(tmp_path, {}).append("plan", outcome="succeeded").actor


def test_secrets_never_enter_the_journal(tmp_path):
    env = {"CLOUDORCH_PASSPHRASE": "correct horse battery", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"}
    journal = Journal.open(tmp_path, environ=env, secrets=["s3cr3t-db-password"])
    journal.append("apply", outcome="failed", message="auth failed for correct horse battery and wJalrXUtnFEMI/K7MDENG",
                   detail={"output": ["conn=postgres://u:s3cr3t-db-password@h"]}, password="hunter2", api_key="k")
    raw = b"".join(p.read_bytes() for p in (tmp_path / ".cloudorch/journal/records").iterdir())
    for secret in (b"correct horse", b"wJalrXUtnFEMI", b"s3cr3t-db-password", b"hunter2"):
        assert secret not in raw
    assert journal.verify().ok


def test_fields_must_be_json(tmp_path):
    with pytest.raises(TypeError):
        _journal(tmp_path).append("plan", outcome="succeeded", when=object())
    with pytest.raises(ValueError):
        _journal(tmp_path).append("Plan!", outcome="succeeded")


def test_the_workflow_lock_refuses_another_holder_and_lets_its_holder_back(tmp_path):
    one, two = _journal(tmp_path), _journal(tmp_path)
    with one.lock("release-42"):
        with pytest.raises(JournalLocked) as raised:
            with two.lock("release-43"):
                pass
        assert "release-42" in raised.value.message and "since" in raised.value.message
        assert raised.value.exit_code == 6
        with two.lock("release-42"):  # the same workflow, resumed elsewhere, takes its own lock over
            assert two.lock_state().holder == "release-42"
    assert one.lock_state() is None


def test_a_stale_lock_is_broken_only_by_its_holder_or_with_force(tmp_path):
    journal = _journal(tmp_path)
    held = journal.lock("release-42")
    held.__enter__()  # never released: the runner died
    with pytest.raises(UsageError, match="release-42"):
        journal.unlock("release-7")
    assert journal.lock_state() is not None
    assert journal.unlock("release-42").holder == "release-42"
    assert journal.lock_state() is None
    held = journal.lock("release-42")
    held.__enter__()
    assert journal.unlock(force=True).holder == "release-42"
    assert journal.unlock(force=True) is None
