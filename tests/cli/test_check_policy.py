from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET

import pytest

from cloudorch.cli.app import main
from tests.support import ROOT, SHARED, require_shared

WEBSHOP = str(ROOT / "tests" / "data" / "webshop.yaml")

OPEN_SSH = textwrap.dedent("""\
    stack: bastion
    tags: {team: ops, env: prod}
    placement: {geo: [eu], clouds: [aws]}
    resources:
      net: {kind: network, cidr: 10.10.0.0/16}
      jump:
        kind: compute
        network: net
        cpu: 2
        memory_gb: 4
        ingress:
          - {port: 22, from: internet}
    """)


def test_check_passes_clean_example(capsys):
    assert main(["check", WEBSHOP]) == 0
    out = capsys.readouterr().out
    assert "0 blocking" in out and "WAIVED" in out


def test_check_blocks_open_ssh_with_exit_3(tmp_path, capsys):
    stack = tmp_path / "bastion.yaml"
    stack.write_text(OPEN_SSH)
    assert main(["check", str(stack), "--format", "json"]) == 3
    data = json.loads(capsys.readouterr().out)
    failing = {(f["policy"], f["resource"]) for r in data["reports"] for f in r["findings"] if f["status"] == "fail"}
    assert ("network.admin-ports-open", "jump") in failing
    # plan refuses too, and writes no plan file
    out = tmp_path / "plan.json"
    assert main(["plan", str(stack), "--out", str(out)]) == 3
    assert not out.exists()


def test_check_waiver_turns_block_into_waived(tmp_path, capsys):
    stack = tmp_path / "bastion.yaml"
    stack.write_text(OPEN_SSH.replace("resources:", textwrap.dedent("""\
        policies:
          waivers:
            - {policy: network.admin-ports-open, resource: jump, reason: break-glass host, owner: ops@x.io, expires: 2099-01-01}
            - {policy: network.public-ingress, resource: "j*", reason: break-glass host, owner: ops@x.io, expires: 2099-01-01}
        resources:""")))
    assert main(["check", str(stack)]) == 0


def test_check_expired_waiver_blocks_again(tmp_path, capsys):
    stack = tmp_path / "bastion.yaml"
    stack.write_text(OPEN_SSH.replace("resources:", textwrap.dedent("""\
        policies:
          waivers:
            - {policy: network.admin-ports-open, resource: jump, reason: old, owner: ops@x.io, expires: 2020-01-01}
        resources:""")))
    assert main(["check", str(stack)]) == 3
    assert "EXPIRED waiver network.admin-ports-open" in capsys.readouterr().out


def test_baseline_hides_known_findings_but_not_their_block(tmp_path, capsys):
    stack = tmp_path / "bastion.yaml"
    stack.write_text(OPEN_SSH)
    base = tmp_path / "baseline.json"
    assert main(["check", str(stack), "--write-baseline", str(base)]) == 3
    capsys.readouterr()
    assert main(["check", str(stack), "--baseline", str(base), "--format", "json"]) == 3
    captured = capsys.readouterr()
    shown = {f["policy"] for r in json.loads(captured.out)["reports"] for f in r["findings"] if f["status"] == "fail"}
    assert "network.admin-ports-open" not in shown
    assert "still block apply" in captured.err


def test_baseline_makes_advisory_noise_go_away(tmp_path, capsys):
    base = tmp_path / "baseline.json"
    assert main(["check", WEBSHOP, "--write-baseline", str(base)]) == 0
    capsys.readouterr()
    assert main(["check", WEBSHOP, "--baseline", str(base)]) == 0
    assert "FAIL" not in capsys.readouterr().out


def test_one_bad_stack_does_not_hide_the_others(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stack: bad\nresources: {}\n")
    assert main(["check", WEBSHOP, str(bad)]) == 2
    captured = capsys.readouterr()
    assert "webshop (stacks/webshop.yaml)" in captured.out or "webshop (" in captured.out
    assert "bad.yaml:2: resources" in captured.err


def test_junit_and_markdown_and_github(capsys):
    assert main(["check", WEBSHOP, "--format", "junit"]) == 0
    root = ET.fromstring(capsys.readouterr().out)
    assert root.tag in ("testsuites", "testsuite") and root.iter("testcase")
    assert main(["check", WEBSHOP, "--format", "markdown"]) == 0
    assert "|" in capsys.readouterr().out
    assert main(["check", WEBSHOP, "--format", "github"]) == 0
    assert "::warning file=" in capsys.readouterr().out


@pytest.mark.shared
def test_sarif_validates_against_the_official_schema(capsys):
    schema_path = require_shared(SHARED / "data" / "sarif" / "sarif-schema-2.1.0.json")
    import jsonschema

    assert main(["check", WEBSHOP, "--format", "sarif"]) == 0
    sarif = json.loads(capsys.readouterr().out)
    jsonschema.validate(sarif, json.loads(schema_path.read_text()))
    results = sarif["runs"][0]["results"]
    assert results and all(r["locations"][0]["physicalLocation"]["region"]["startLine"] > 0 for r in results)


def test_policy_list(capsys):
    assert main(["policy", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["policies"]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) >= 30
    assert {"baseline", "cost", "pci-dss", "hipaa"} <= {p for r in rows for p in r["packs"]}
    assert main(["policy", "list", "--pack", "nope"]) == 2


# -- team policy code (Python files from --policy-dir) cannot end, stall or garble the run ----------------------
TEAM_RULE = textwrap.dedent("""\
    import os, sys
    from cloudorch.policy import Pack, Policy, Violation, spec_check

    @spec_check("compute")
    def _check(target, ctx):
        {body}

    pack = Pack(name="team", policies=(Policy(id="team.rule", title="t", severity="high", checks=(_check,)),))
    """)


def _team_dir(tmp_path, body):
    team = tmp_path / "team"
    team.mkdir()
    (team / "rule.py").write_text(TEAM_RULE.format(body=body))
    return str(team)


@pytest.mark.parametrize("body", ["sys.exit(0)", "raise KeyboardInterrupt", "os._exit(0)",
                                  "return [Violation(42)]", "return [Violation('x', {'a': 1})]"])
@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "markdown", "github", "text"])
def test_team_policy_code_that_exits_or_breaks_the_contract_blocks_in_every_format(tmp_path, capsys, body, fmt):
    assert main(["check", WEBSHOP, "--policy-dir", _team_dir(tmp_path, body), "--format", fmt]) == 3
    captured = capsys.readouterr()
    assert captured.out.strip() and "team.rule" in captured.out
    assert "note: ran team policy code from" in " ".join(captured.err.split())


def test_team_policy_output_does_not_corrupt_machine_readable_stdout(tmp_path, capfd):
    team = _team_dir(tmp_path, "print('hello'); os.write(1, b'raw'); return []")
    (tmp_path / "team" / "rule.py").write_text("print('at import')\n" + (tmp_path / "team" / "rule.py").read_text())
    assert main(["check", WEBSHOP, "--policy-dir", team, "--format", "json"]) == 0
    data = json.loads(capfd.readouterr().out)
    assert {f["status"] for r in data["reports"] for f in r["findings"] if f["policy"] == "team.rule"} == {"pass"}
    assert main(["policy", "list", "--policy-dir", team, "--format", "json"]) == 0
    captured = capfd.readouterr()
    assert "team.rule" in {row["id"] for row in json.loads(captured.out)["policies"]}
    assert "policy code is trusted code" in " ".join(captured.err.split())


def test_a_team_policy_that_never_ends_is_stopped_and_blocks(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLOUDORCH_POLICY_TIMEOUT", "1")
    assert main(["check", WEBSHOP, "--policy-dir", _team_dir(tmp_path, "while True: pass"), "--format", "json"]) == 3
    [error] = [f for r in json.loads(capsys.readouterr().out)["reports"] for f in r["findings"]
               if f["policy"] == "team.rule"]
    assert error["status"] == "error" and "did not finish within 1 s" in error["message"]


def test_sarif_of_a_stack_that_cannot_be_checked_says_the_run_failed_and_where(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stack: bad\nresources: {}\n")
    assert main(["check", WEBSHOP, str(bad), "--format", "sarif"]) == 2
    sarif = json.loads(capsys.readouterr().out)
    [invocation] = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
    [notification] = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error" and notification["message"]["text"] == "resources: must not be empty"
    physical = notification["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("bad.yaml") and physical["region"]["startLine"] == 2
    _validate_sarif(sarif)


def test_sarif_of_a_clean_run_says_it_succeeded(capsys):
    assert main(["check", WEBSHOP, "--format", "sarif"]) == 0
    [invocation] = json.loads(capsys.readouterr().out)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True and invocation["exitCode"] == 0


def test_sarif_of_a_crashed_policy_says_the_analysis_did_not_complete(tmp_path, capsys):
    assert main(["check", WEBSHOP, "--policy-dir", _team_dir(tmp_path, "sys.exit(0)"), "--format", "sarif"]) == 3
    sarif = json.loads(capsys.readouterr().out)
    [invocation] = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 3
    assert any("team.rule" in n["message"]["text"] for n in invocation["toolExecutionNotifications"])
    _validate_sarif(sarif)


def _validate_sarif(sarif):
    schema_path = SHARED / "data" / "sarif" / "sarif-schema-2.1.0.json"
    if schema_path.is_file():
        import jsonschema

        jsonschema.validate(sarif, json.loads(schema_path.read_text()))
