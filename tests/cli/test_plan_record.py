"""`plan --out` records the stack's addresses (.cloudorch/<stack>.network.json); later plans keep them."""

from __future__ import annotations

import json

import pytest

from cloudorch.cli.app import main
from tests.support import ROOT

WEBSHOP = (ROOT / "tests" / "data" / "webshop.yaml").read_text()


@pytest.fixture
def project(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    (tmp_path / "cloudorch.toml").write_text("")
    (tmp_path / "webshop.yaml").write_text(WEBSHOP)
    return tmp_path


def _blocks(plan: dict) -> dict[tuple[str, str], str]:
    return {(s["cloud"], s["region"]): s["cidr"] for s in plan["network"]["sites"]}


def test_plan_alone_records_nothing(project, capsys):
    assert main(["plan", "webshop.yaml", "--format", "json"]) == 0
    assert not (project / ".cloudorch" / "webshop.network.json").exists()


def test_plan_out_records_and_later_plans_keep_every_block(project, capsys):
    assert main(["plan", "webshop.yaml", "--out", "p.json"]) == 0
    assert "addresses recorded in" in capsys.readouterr().err
    record = project / ".cloudorch" / "webshop.network.json"
    first = json.loads((project / "p.json").read_text())
    recorded = json.loads(record.read_text())
    assert {(b["cloud"], b["region"]): b["cidr"] for b in recorded["blocks"]} == _blocks(first)
    # the stack grows to six regions: every block planned before stays where it was
    (project / "webshop.yaml").write_text(WEBSHOP.replace("min_clouds: 2             # replicas across at least two clouds\n"
                                                          "      max_per_region: 3",
                                                          "min_clouds: 3\n      min_regions: 6\n      max_per_region: 1"))
    assert main(["plan", "webshop.yaml", "--out", "p2.json"]) == 0
    second = _blocks(json.loads((project / "p2.json").read_text()))
    assert len(second) > len(_blocks(first))
    assert {k: second[k] for k in _blocks(first) if k in second} == {k: v for k, v in _blocks(first).items() if k in second}
    # the record now holds both plans' sites, one per line, and a plan with nothing new leaves it alone
    text = record.read_text()
    assert len(json.loads(text)["blocks"]) >= len(second)
    capsys.readouterr()
    assert main(["plan", "webshop.yaml", "--out", "p3.json"]) == 0
    assert "addresses recorded" not in capsys.readouterr().err
    assert record.read_text() == text


def test_a_broken_record_stops_the_plan_with_a_clear_error(project, capsys):
    (project / ".cloudorch").mkdir()
    (project / ".cloudorch" / "webshop.network.json").write_text("{not json")
    assert main(["plan", "webshop.yaml"]) == 2
    err = capsys.readouterr().err
    assert "not a cloudorch allocation record" in err and "Traceback" not in err


def test_a_merged_record_giving_two_sites_one_block_stops_the_plan_and_nothing_is_written(project, capsys):
    assert main(["plan", "webshop.yaml", "--out", "p.json"]) == 0
    record = project / ".cloudorch" / "webshop.network.json"
    data = json.loads(record.read_text())
    assert len(data["blocks"]) >= 2
    # what a merge of two branches that each added a location can leave: two sites on one block
    data["blocks"][1]["cidr"] = data["blocks"][0]["cidr"]
    (project / ".cloudorch" / "webshop.network.json").write_text(json.dumps(data, indent=2))
    merged = record.read_text()
    capsys.readouterr()
    assert main(["plan", "webshop.yaml", "--out", "p2.json"]) == 2
    err = capsys.readouterr().err
    assert "webshop.network.json" in err and f"are both {data['blocks'][0]['cidr']}" in err
    assert "remove one of the two entries" in err and "Traceback" not in err
    assert not (project / "p2.json").exists() and record.read_text() == merged
    assert main(["plan", "webshop.yaml", "--format", "json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "RecordError"


def test_a_widened_network_warns_that_its_recorded_blocks_move(project, capsys):
    assert main(["plan", "webshop.yaml", "--out", "p.json"]) == 0
    before = _blocks(json.loads((project / "p.json").read_text()))
    (project / "webshop.yaml").write_text(WEBSHOP.replace("cidr: 10.40.0.0/16", "cidr: 10.40.0.0/15"))
    capsys.readouterr()
    assert main(["plan", "webshop.yaml", "--format", "json"]) == 0
    captured = capsys.readouterr()
    after = _blocks(json.loads(captured.out))  # stdout stays the plan alone
    moved = [k for k in before if before[k] != after.get(k)]
    assert moved
    err = " ".join(captured.err.split())
    assert "warning: network 'net' is 10.40.0.0/15 now, recorded as 10.40.0.0/16" in err
    assert all(f"{c}/{r} ({before[(c, r)]} -> {after[(c, r)]})" in err for c, r in moved)
    assert "replaces those sites' networks" in err
    # the text plan says it too; once recorded, the next plan has nothing to warn of
    assert main(["plan", "webshop.yaml", "--out", "p2.json"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "recorded as 10.40.0.0/16" in err
    assert "restore .cloudorch/webshop.network.json from version control, then put the cidr back" in err
    assert main(["plan", "webshop.yaml"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_workflow_plan_warns_of_each_stacks_moving_blocks_naming_the_stack(project, capsys):
    # (left by the change that added the warning: a workflow planned its stacks without saying it)
    (project / "wf").mkdir()
    (project / "wf" / "webshop.yaml").write_text(WEBSHOP)
    assert main(["plan", "wf/webshop.yaml", "--out", "p.json"]) == 0
    (project / "wf" / "webshop.yaml").write_text(WEBSHOP.replace("cidr: 10.40.0.0/16", "cidr: 10.40.0.0/15"))
    capsys.readouterr()
    assert main(["plan", "wf", "--format", "json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout stays the workflow's plan alone
    assert "warning: webshop: network 'net' is 10.40.0.0/15 now, recorded as 10.40.0.0/16" in " ".join(captured.err.split())


@pytest.mark.parametrize("command", [["plan", "webshop.yaml", "--out", "shared.json"],
                                     ["report", "webshop.yaml", "--html", "shared.json"]])
def test_a_plan_or_report_file_gets_the_mode_any_new_file_would(project, capsys, command):
    # written through a private temporary file and renamed: plan files came out 0600, unreadable to a CI
    # upload step or a reviewer on another account, though they hold no secrets (found by an audit)
    import os

    before = os.umask(0o022)
    try:
        assert main(command) == 0
    finally:
        os.umask(before)
    assert (project / "shared.json").stat().st_mode & 0o777 == 0o644
    assert not [p.name for p in project.iterdir() if p.name.startswith(".shared.json.")]
