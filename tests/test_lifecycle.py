"""apply's gates run before Pulumi is touched, in order; without the Pulumi CLI every engine command
exits 6 with install instructions while plan/validate/check keep working."""

from __future__ import annotations

import json

import pytest

from cloudorch.cli.app import main
from tests.support import ROOT, SKYPILOT, require_shared

WEBSHOP = ROOT / "tests" / "data" / "webshop.yaml"
PASSPHRASE = "correct-horse-battery-staple-7d1f"


@pytest.fixture
def no_pulumi(monkeypatch, tmp_path):
    """A PATH without the Pulumi CLI (as on these machines, and forced so wherever the tests run)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("CLOUDORCH_PASSPHRASE", PASSPHRASE)
    monkeypatch.chdir(tmp_path)


def copy_stack(tmp_path, text: str | None = None):
    stack = tmp_path / "webshop.yaml"
    stack.write_text(text if text is not None else WEBSHOP.read_text())
    return stack


@pytest.mark.parametrize("command", [["apply", "--yes"], ["preview"], ["destroy", "--yes"], ["refresh"], ["drift"],
                                     ["outputs"]])
def test_engine_commands_exit_6_with_install_instructions(no_pulumi, tmp_path, capsys, command):
    stack = copy_stack(tmp_path)
    assert main([command[0], str(stack), *command[1:]]) == 6
    captured = capsys.readouterr()
    assert "get.pulumi.com" in captured.err and "Pulumi CLI" in captured.err
    assert PASSPHRASE not in captured.out + captured.err


def test_json_error_for_missing_cli(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path)
    assert main(["apply", str(stack), "--yes", "--format", "json"]) == 6
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "missing-cli" and data["exit_code"] == 6 and "get.pulumi.com" in data["hint"]


def test_plan_validate_check_work_without_pulumi(no_pulumi, tmp_path):
    stack = copy_stack(tmp_path)
    assert main(["validate", str(stack)]) == 0
    assert main(["plan", str(stack)]) == 0
    assert main(["check", str(stack)]) == 0


def test_stale_saved_plan_is_refused_before_the_engine(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(saved)]) == 0
    stack.write_text(stack.read_text().replace("count: 6", "count: 4"))
    capsys.readouterr()
    assert main(["apply", str(stack), "--plan", str(saved), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "stale" in err and "the stack file changed" in err
    assert "get.pulumi.com" not in err  # refused before looking for Pulumi


def test_fresh_saved_plan_passes_the_gates(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(saved)]) == 0
    assert main(["apply", str(stack), "--plan", str(saved), "--yes"]) == 6  # reaches the engine: no CLI here


def test_malformed_saved_plan(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    saved.write_text("{not json")
    assert main(["apply", str(stack), "--plan", str(saved), "--yes"]) == 2


def test_mandatory_policy_blocks_apply_before_the_engine(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path, WEBSHOP.read_text().replace("{port: 443, from: internet}", "{port: 22, from: internet}"))
    assert main(["apply", str(stack), "--yes"]) == 3
    assert "get.pulumi.com" not in capsys.readouterr().err


def test_budget_overrun_blocks_apply_before_the_engine(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path, WEBSHOP.read_text().replace("monthly_usd: 6000", "monthly_usd: 100"))
    assert main(["apply", str(stack), "--yes"]) == 4
    err = capsys.readouterr().err
    assert "over the budget" in err and "cheapest feasible placement costs" in err
    assert "get.pulumi.com" not in err


def test_infeasible_stack_exits_5_with_a_priced_relaxation(tmp_path, capsys):
    stack = copy_stack(tmp_path, WEBSHOP.read_text().replace("min_clouds: 2", "min_clouds: 2\n      max_per_cloud: 1"))
    assert main(["plan", str(stack), "--format", "json"]) == 5
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 5 and data["conflicts"]
    assert data["relaxation"] and data["relaxation_monthly_usd"] > 0


def test_apply_without_yes_in_ci_asks_for_yes(no_pulumi, tmp_path, capsys, monkeypatch):
    stack = copy_stack(tmp_path)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert main(["apply", str(stack)]) == 2
    assert "--yes" in capsys.readouterr().err


def test_stale_plan_wins_over_a_now_overbudget_stack(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(saved)]) == 0
    stack.write_text(stack.read_text().replace("monthly_usd: 6000", "monthly_usd: 100"))
    assert main(["apply", str(stack), "--plan", str(saved), "--yes"]) == 2


def test_over_budget_plan_still_shows_policy_findings(tmp_path, capsys):
    """The cost pack's mandatory cost.budget fails too, and a policy refusal (3) comes before the budget's (4)."""
    stack = copy_stack(tmp_path, WEBSHOP.read_text().replace("monthly_usd: 6000", "monthly_usd: 100")
                      .replace("packs: [baseline]", "packs: [baseline, cost]"))
    out = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--format", "json", "--out", str(out)]) == 3
    plan = json.loads(capsys.readouterr().out)
    assert any(f["policy"] == "cost.budget" and f["status"] == "fail" for f in plan["policy"]["findings"])
    assert not out.exists()


@pytest.mark.shared
def test_saved_plan_is_stale_when_the_catalog_changed(no_pulumi, tmp_path, capsys):
    catalog = require_shared(SKYPILOT)
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(saved), "--catalog", str(catalog)]) == 0
    capsys.readouterr()
    assert main(["apply", str(stack), "--plan", str(saved), "--yes"]) == 2
    assert "the catalog changed" in capsys.readouterr().err


def test_saved_plan_is_stale_when_the_policy_set_changed(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(saved)]) == 0
    (tmp_path / "cloudorch.toml").write_text('[enforcement]\n"storage.versioning" = "advisory"\n'
                                             '"compute.serial-port" = "disabled"\n')
    capsys.readouterr()
    assert main(["apply", str(stack), "--plan", str(saved), "--yes"]) == 2
    assert "the policy set changed" in capsys.readouterr().err


def test_plan_files_hold_no_secret_values(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(saved)]) == 0
    text = saved.read_text()
    assert PASSPHRASE not in text

    def password_values(value, key=""):
        if isinstance(value, dict) and "$ref" not in value:
            for k, v in value.items():
                yield from password_values(v, k)
        elif isinstance(value, list):
            for v in value:
                yield from password_values(v, key)
        elif "password" in key.lower() and not key.lower().startswith(("manage", "disable")):
            yield key, value

    literal = [(k, v) for r in json.loads(text)["resources"] for k, v in password_values(r["inputs"])
               if not (isinstance(v, dict) and "$ref" in v)]
    assert literal == []


def test_stale_plan_from_a_config_change_names_what_changed(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(saved)]) == 0
    (tmp_path / "cloudorch.toml").write_text('[vcpu_quotas]\nazure = 1\n')  # moves web off azure
    capsys.readouterr()
    assert main(["apply", str(stack), "--plan", str(saved), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "the rendered resources differ from the plan" in err and "removed" in err and "azure" in err


# -- a saved plan is applied only if it is, whole, the plan its inputs give ------------------------------

@pytest.fixture(scope="module")
def webshop_plan(tmp_path_factory):
    """webshop planned once, with its plan file: each edit below is compared with this one re-derivation."""
    from cloudorch import api

    root = tmp_path_factory.mktemp("project")
    (root / "cloudorch.toml").write_text("")
    stack = copy_stack(root)
    plan = api.plan(stack, api.Session(api.Options(config_path=str(root / "cloudorch.toml")))).plan
    return plan, json.loads(plan.to_json())


def slot(d, n=0):
    """The n-th placement entry of web (it has several: one per slot)."""
    return [p for p in d["placements"] if p["resource"] == "web"][n]


def finding(d):
    return next(f for f in d["policy"]["findings"] if f["status"] == "fail")


# Every edit that once passed `apply --plan` (issue 15), with the words the refusal must contain.
EDITS = {
    "cloud": (lambda d: slot(d).update(cloud="azure" if slot(d)["cloud"] != "azure" else "gcp"), "placements.web[0].cloud"),
    "region": (lambda d: slot(d).update(region="eu-south-9"), 'placements.web[0].region: saved "eu-south-9"'),
    "instance type": (lambda d: slot(d, 1).update(instance_type="x9.huge"), 'placements.web[1].instance_type: saved "x9.huge"'),
    "count": (lambda d: slot(d, 1).update(count=slot(d, 1)["count"] + 1), "placements.web[1].count"),
    "count as text": (lambda d: slot(d, 1).update(count=str(slot(d, 1)["count"])), "placements.web[1].count: saved \""),
    "placement removed": (lambda d: d["placements"].remove(slot(d)), "placements.web: 2 entries in the saved plan, 3 re-derived"),
    "cost": (lambda d: d["cost"].update(monthly_usd=1.0), "cost.monthly_usd: saved 1.0, re-derived"),
    "cost by cloud": (lambda d: d["cost"]["by_cloud"].update(azure=0.5), "cost.by_cloud.azure: saved 0.5"),
    "findings removed": (lambda d: d["policy"].update(findings=[]), "policy.findings.web: 0 entries in the saved plan"),
    "summary removed": (lambda d: d["policy"].pop("summary"), "policy.summary: missing from the saved plan"),
    "policy removed": (lambda d: d.pop("policy"), "policy: missing from the saved plan"),
    "finding edited": (lambda d: finding(d).update(status="waived"), '.status: saved "waived", re-derived "fail"'),
    "summary edited": (lambda d: d["policy"]["summary"].update(fail=0), "policy.summary.fail: saved 0"),
    "catalog": (lambda d: d["catalog"].update(as_of="2031-01-01"), 'catalog.as_of: saved "2031-01-01"'),
    "catalog source": (lambda d: d["catalog"].update(source="skypilot:/tmp/c"), 'catalog.source: saved "skypilot"'),
    "objective": (lambda d: d.update(objective="availability"), 'objective: saved "availability", re-derived "cost"'),
    "network removed": (lambda d: d.pop("network"), "network: missing from the saved plan"),
    "explanation added": (lambda d: d.update(explain={}), "explain: saved an object of 0 fields, re-derived null"),
    "resource input": (lambda d: d["resources"][1]["inputs"].update(extra=1), "the rendered resources differ from the plan"),
    "default spelled out": (lambda d: d["placements"][0].pop("spot"), "placements.assets.spot: missing from the saved plan"),
}


@pytest.mark.parametrize("edit", EDITS, ids=str)
def test_every_edit_of_a_saved_plan_is_refused_naming_it(webshop_plan, tmp_path, edit):
    from cloudorch.lifecycle import load_saved_plan, refuse_unless_same

    plan, document = webshop_plan
    change, expected = EDITS[edit]
    edited = json.loads(json.dumps(document))
    change(edited)
    (tmp_path / "p.json").write_text(json.dumps(edited, indent=2))
    with pytest.raises(Exception) as caught:
        refuse_unless_same(load_saved_plan(tmp_path / "p.json"), plan, "webshop.yaml")
    assert caught.value.exit_code == 2 and expected in caught.value.message, caught.value.message


def test_an_unedited_plan_is_the_plan_however_it_is_formatted(webshop_plan, tmp_path):
    from cloudorch.lifecycle import load_saved_plan, refuse_unless_same

    plan, document = webshop_plan
    (tmp_path / "p.json").write_text(json.dumps(document, sort_keys=True))  # no indentation, other key order
    refuse_unless_same(load_saved_plan(tmp_path / "p.json"), plan, "webshop.yaml")


def test_an_edited_placement_is_refused_before_the_engine(no_pulumi, tmp_path, capsys):
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(saved)]) == 0
    data = json.loads(saved.read_text())
    entry = next(p for p in data["placements"] if p["resource"] == "web")
    original, entry["region"] = entry["region"], "eu-south-9"
    saved.write_text(json.dumps(data, indent=2))
    capsys.readouterr()
    assert main(["apply", str(stack), "--plan", str(saved), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f'placements.web[0].region: saved "eu-south-9", re-derived "{original}"' in err
    assert "get.pulumi.com" not in err


def test_a_saved_plan_applies_from_another_directory_and_with_its_explanation(no_pulumi, tmp_path, monkeypatch):
    """The stack path spelled otherwise (policy findings name the file as given) is the same plan."""
    stack = copy_stack(tmp_path)
    assert main(["plan", str(stack), "--explain", "--out", str(tmp_path / "plan.json")]) == 0
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert main(["apply", "../webshop.yaml", "--plan", "../plan.json", "--yes"]) == 6  # reaches the engine


@pytest.mark.parametrize("edit,expected", [
    (lambda t: t.replace('"objective": "cost",', '"objective": "cost",\n  "objective": "cost",'),
     ":5: objective: key 'objective' appears twice"),
    (lambda t: t.replace('"format_version": 1', '"format_version": true'), ":2: format_version: true;"),
    (lambda t: t.replace('"objective": "cost"', '"objective": ' + "[" * 1_000 + "]" * 1_000), ":4: objective[0][0]"),
    (lambda t: t.replace('"objective": "cost"', '"objective": ' + "9" * 4_301), ":4: objective: a number of 4,301 digits"),
    (lambda t: t.replace('"objective": "cost"', '"objective": 7'), ":4: objective: Input should be a valid string"),
], ids=["duplicated key", "format_version true", "nested 1,000 deep", "4,301 digits", "wrong type"])
def test_a_hostile_plan_file_is_refused_with_its_location_before_planning(no_pulumi, tmp_path, capsys, monkeypatch,
                                                                          edit, expected):
    stack = copy_stack(tmp_path)
    saved = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(saved)]) == 0
    saved.write_text(edit(saved.read_text()))
    from cloudorch import api

    monkeypatch.setattr(api, "plan", lambda *a, **k: pytest.fail("planned a refused plan file"))
    capsys.readouterr()
    assert main(["apply", str(stack), "--plan", str(saved), "--yes"]) == 2
    assert f"error: {saved}{expected}" in capsys.readouterr().err
