"""A policy that sets no enforcement follows its severity: low advises, the rest block; a pack, the stack
or the config can still say otherwise, and `policy list` says so."""

from __future__ import annotations

import json
import textwrap

from cloudorch.cli.app import main

UNTAGGED = textwrap.dedent("""\
    stack: untagged
    placement: {clouds: [aws], geo: [eu]}
    resources:
      net: {kind: network, cidr: 10.1.0.0/16}
      worker: {kind: compute, network: net, cpu: 2, memory_gb: 8}
    """)


def _failures(capsys) -> dict[str, set[str]]:
    data = json.loads(capsys.readouterr().out)
    found: dict[str, set[str]] = {}
    for report in data["reports"]:
        for f in report["findings"]:
            if f["status"] == "fail":
                found.setdefault(f["policy"], set()).add(f["enforcement"])
    return found


def test_a_missing_tag_advises_and_blocks_nothing(tmp_path, capsys):
    stack = tmp_path / "untagged.yaml"
    stack.write_text(UNTAGGED)
    assert main(["check", str(stack), "--format", "json"]) == 0
    assert _failures(capsys)["tags.required"] == {"advisory"}
    assert main(["plan", str(stack)]) == 0


def test_the_stack_can_still_make_it_mandatory(tmp_path, capsys):
    stack = tmp_path / "untagged.yaml"
    stack.write_text(UNTAGGED.replace("resources:", "policies:\n  enforcement: {tags.required: mandatory}\nresources:"))
    assert main(["check", str(stack), "--format", "json"]) == 3
    assert _failures(capsys)["tags.required"] == {"mandatory"}


def test_a_team_rule_without_enforcement_follows_its_severity(tmp_path, capsys):
    rules = tmp_path / "team"
    rules.mkdir()
    (rules / "sizes.yaml").write_text(textwrap.dedent("""\
        pack: team
        policies:
          - {id: team.tiny, title: Tiny, severity: low, level: spec, resources: [compute], message: too small,
             condition: {attribute: cpu, operator: greater_than_or_equal, value: 64}}
          - {id: team.small, title: Small, severity: medium, level: spec, resources: [compute], message: too small,
             condition: {attribute: cpu, operator: greater_than_or_equal, value: 64}}
        """))
    stack = tmp_path / "untagged.yaml"
    stack.write_text(UNTAGGED.replace("resources:", "tags: {team: a, env: b}\npolicies:\n  packs: [baseline, ./team]\n"
                                                    "resources:"))
    assert main(["check", str(stack), "--format", "json"]) == 3
    failures = _failures(capsys)
    assert failures["team.tiny"] == {"advisory"} and failures["team.small"] == {"mandatory"}


def test_policy_list_shows_and_explains_the_default(capsys):
    assert main(["policy", "list", "--format", "json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)["policies"]}
    assert rows["tags.required"]["enforcement"] == "advisory"
    assert rows["network.admin-ports-open"]["enforcement"] == "mandatory"
    assert main(["policy", "list"]) == 0
    assert "follows its severity (low: advisory; medium and above: mandatory)" in " ".join(
        capsys.readouterr().out.split())
