"""`cloudorch diff BASE NEW` and `plan STACK --compare-to BASE`: what they print, and their exit codes."""

from __future__ import annotations

import json

import pytest

from cloudorch.cli.app import main
from tests.report.conftest import AFTER, BEFORE


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("diff-project")
    (root / "cloudorch.toml").write_text("")
    (root / "before.yaml").write_text(BEFORE)
    (root / "after.yaml").write_text(AFTER)
    return root


@pytest.fixture
def here(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    if not (project / "before.json").exists():
        assert main(["plan", "before.yaml", "--out", "before.json"]) == 0
    return project


def test_diff_prints_the_moves_and_the_delta(here, capsys):
    """The issue's "done when": the webshop before and after (count 6 -> 9, a region excluded)."""
    capsys.readouterr()
    assert main(["diff", "before.json", "after.yaml"]) == 0
    out = capsys.readouterr().out
    assert "stack webshop: monthly cost +$" in out and "3 resources move, 2 new findings" in out
    assert "web (compute) moved: region, count" in out
    assert "before: 1 x Standard_D4as_v5 in azure/swedencentral; 3 x e2-standard-4 in gcp/europe-north1" in out
    after = next(line for line in out.splitlines() if line.strip().startswith("after:") and "Standard_D4as_v5" in line)
    assert "europe-north1" not in after
    assert "Cost: $1,109.84 -> $" in out and "by cloud: azure $323.96 -> $" in out
    assert "Findings: 2 new, 0 fixed" in out
    assert "\n  network: " in out  # what of the network changed, part by part


def test_the_budget_gates_exit_4_after_printing_the_diff(here, capsys):
    capsys.readouterr()
    assert main(["diff", "before.json", "after.yaml", "--max-increase-usd", "100"]) == 4
    captured = capsys.readouterr()
    assert "Cost: $1,109.84" in captured.out
    assert "more than the $100.00 allowed (--max-increase-usd)" in captured.err
    assert main(["diff", "before.json", "after.yaml", "--max-increase-pct", "10", "--format", "json"]) == 4
    document = json.loads(capsys.readouterr().out)
    assert document["refusal"]["exit_code"] == 4 and document["cost"]["total"]["delta"] > 0
    assert main(["diff", "before.json", "after.yaml", "--max-increase-pct", "1000", "--max-increase-usd", "1000"]) == 0
    assert main(["diff", "before.json", "after.yaml", "--max-increase-usd", "-1"]) == 2  # a usage error


def test_quiet_unless_changed_prints_nothing_for_the_same_plan(here, capsys):
    capsys.readouterr()
    assert main(["diff", "before.json", "before.json", "--quiet-unless-changed", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["diff", "before.json", "before.json", "--format", "markdown"]) == 0
    assert "no change to placement" in capsys.readouterr().out
    assert main(["diff", "before.json", "after.yaml", "--quiet-unless-changed", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("<!-- cloudorch-diff: webshop -->\n")


def test_plan_compare_to_prints_the_plan_and_the_diff(here, capsys):
    capsys.readouterr()
    assert main(["plan", "after.yaml", "--compare-to", "before.json", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"plan", "diff"} and document["plan"]["stack"] == "webshop"
    assert document["diff"]["moved"] == 3 and document["diff"]["refusal"] is None
    assert main(["plan", "after.yaml", "--compare-to", "before.yaml"]) == 0
    out = capsys.readouterr().out
    assert "Placements" in out and "web (compute) moved: region, count" in out
    assert main(["plan", "after.yaml", "--compare-to", "before.json", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("<!-- cloudorch-diff: webshop -->")


def test_bad_input_is_a_clear_usage_error(here, capsys):
    (here / "broken.json").write_text('{"format_version": 1, "stack": "webshop",\n "stack": "x"}')
    capsys.readouterr()
    assert main(["diff", "broken.json", "before.json"]) == 2
    assert "broken.json:2: stack: key 'stack' appears twice" in capsys.readouterr().err
    assert main(["diff", "missing.json", "before.json"]) == 2
    assert main(["plan", "after.yaml", "--format", "markdown"]) == 2
    assert "add --compare-to BASE" in capsys.readouterr().err
    assert main(["plan", "after.yaml", "--compare-to", "missing.json", "--out", "p.json"]) == 2
    assert not (here / "p.json").exists()


GCP_APP = """stack: app
placement: {clouds: [gcp], regions: [europe-west4]}
policies: {packs: [baseline]}
resources:
  net: {kind: network, cidr: 10.40.0.0/16}
  app: {kind: compute, network: net, count: 2, cpu: 2, memory_gb: 4}
"""


def test_every_format_names_the_new_region_s_finding_as_new(tmp_path, monkeypatch, capsys):
    """The audit's case: europe-west3 added beside europe-west4, whose template's finding was named as new."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    (tmp_path / "cloudorch.toml").write_text("")
    (tmp_path / "a.yaml").write_text(GCP_APP)
    (tmp_path / "b.yaml").write_text(GCP_APP.replace("regions: [europe-west4]", "regions: [europe-west4, europe-west3]")
                                     .replace("count: 2,", "count: 4, spread: {min_regions: 2},"))
    assert main(["plan", "a.yaml", "--out", "a.json"]) == 0 and main(["plan", "b.yaml", "--out", "b.json"]) == 0
    capsys.readouterr()
    assert main(["diff", "a.json", "b.json"]) == 0
    new = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("NEW")]
    assert len(new) == 1 and "encryption.disk-cmk app/app-gcp-europe-west3-template (gcp)" in new[0]
    assert main(["diff", "a.json", "b.json", "--format", "markdown"]) == 0
    comment = capsys.readouterr().out
    new_table = comment.split("<summary>New findings (1)</summary>", 1)[1].split("</details>", 1)[0]
    assert "app/app-gcp-europe-west3-template" in new_table and "europe-west4" not in new_table
    assert main(["diff", "a.json", "b.json", "--format", "json"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["rendered"] for f in findings["new"]] == ["app-gcp-europe-west3-template"]
    assert "app-gcp-europe-west4-template" in [f["rendered"] for f in findings["still_failing"]]
