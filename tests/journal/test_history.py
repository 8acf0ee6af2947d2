"""Capacity failures in the journal lower that offering's availability, fading with a half-life."""

from __future__ import annotations

import datetime as dt

from cloudorch import api
from cloudorch.cli.app import main
from cloudorch.journal import Journal
from cloudorch.journal.history import capacity_history
from cloudorch.journal.records import Entry
from tests.support import ROOT


def _entry(kind, day, error_class="capacity", **where):
    fields = {"error_class": error_class, "cloud": "aws", "region": "eu-west-1", "instance_type": "m5.large"} | where
    return Entry(seq=1, time=f"{day}T10:00:00.000Z", actor={}, kind=kind, stack="s", outcome="failed", fields=fields)


def test_failures_decay_by_half_life_and_only_capacity_failures_count():
    today = dt.date(2026, 12, 20)
    entries = [_entry("failover", "2026-12-20"), _entry("apply", "2026-12-06"), _entry("retry", "2026-11-22"),
               _entry("apply", "2026-12-20", error_class="quota"), _entry("plan", "2026-12-20"),
               _entry("apply", "2026-12-20", instance_type=None)]
    (history,) = capacity_history(entries, today, half_life_days=14)
    assert (history.failures, history.latest) == (3, dt.date(2026, 12, 20))
    assert history.weight == 1 + 0.5 + 0.25
    assert "eu-west-1 m5.large (aws): 3 capacity failures in the journal, latest 2026-12-20" in history.describe()
    assert capacity_history(entries, today + dt.timedelta(days=14 * 20), half_life_days=14)[0].weight < 0.001


def _project(tmp_path, half_life=14):
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "fraud.yaml").write_text((ROOT / "stacks" / "fraud-scoring.yaml").read_text())
    (tmp_path / "cloudorch.toml").write_text(f"journal_half_life_days = {half_life}\n")
    return api.Session(api.Options(config_path=str(tmp_path / "cloudorch.toml"), today=dt.date.today()))


def _where(result, name):
    return {(p.cloud, p.region, p.instance_type) for p in result.plan.placements if p.resource == name}


def test_a_balanced_stack_moves_away_from_what_ran_out_recently(tmp_path):
    before = api.plan(tmp_path / "fraud.yaml", _project(tmp_path))
    cloud, region, itype = sorted(_where(before, "scorer"))[0]
    journal = Journal.open(tmp_path, environ={})
    for _ in range(5):
        journal.append("failover", stack="fraud-scoring", outcome="succeeded", error_class="capacity", cloud=cloud,
                       region=region, instance_type=itype)
    after = api.plan(tmp_path / "fraud.yaml", _project(tmp_path), explain=True)
    assert (cloud, region, itype) not in _where(after, "scorer")
    assert [h.failures for h in after.capacity_history] == [5]
    assert after.plan.explain["capacity_history"][0]["region"] == region


def test_failures_long_past_are_forgotten(tmp_path):
    before = api.plan(tmp_path / "fraud.yaml", _project(tmp_path))
    cloud, region, itype = sorted(_where(before, "scorer"))[0]
    journal = Journal.open(tmp_path, environ={})
    for _ in range(5):
        journal.append("failover", outcome="succeeded", error_class="capacity", cloud=cloud, region=region,
                       instance_type=itype)
    later = api.Session(api.Options(config_path=str(tmp_path / "cloudorch.toml"),
                                    today=dt.date.today() + dt.timedelta(days=400)))
    assert _where(api.plan(tmp_path / "fraud.yaml", later), "scorer") == _where(before, "scorer")


def test_plan_explain_says_what_the_journal_taught(tmp_path, monkeypatch, capsys):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    Journal.open(tmp_path, environ={}).append("apply", stack="fraud-scoring", outcome="failed", error_class="capacity",
                                              cloud="azure", region="eastus", instance_type="Standard_D4as_v5")
    assert main(["plan", "fraud.yaml", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "eastus Standard_D4as_v5 (azure): 1 capacity failure in the journal, latest" in out
