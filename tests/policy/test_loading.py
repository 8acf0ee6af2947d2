from __future__ import annotations

import sys
import textwrap
from dataclasses import replace

import pytest

from cloudorch.cli.app import main
from cloudorch.errors import PluginError, SpecError, UsageError
from cloudorch.plugins import policy_pack_names
from cloudorch.policy import Pack, list_policies, load_packs, load_policy_dir
from cloudorch.policy.model import POLICY_ID
from tests.support import ROOT

WEBSHOP = str(ROOT / "stacks" / "webshop.yaml")

YAML_POLICY = textwrap.dedent("""\
    id: team.no-spot-db
    title: t
    severity: low
    level: spec
    resources: [database]
    condition: {attribute: high_availability, operator: is_true}
    """)

PY_POLICY = textwrap.dedent("""\
    from cloudorch.policy import Pack, Policy, Violation, spec_check

    @spec_check("compute")
    def _small(target, ctx):
        return [Violation("too many cpus", ("cpu",))] if target.model.cpu > 32 else []

    pack = Pack(name="sizing", policies=(Policy(id="sizing.small", title="small", severity="low", checks=(_small,)),))
    """)


def test_installed_packs_load_through_entry_points():
    assert {"baseline"} <= set(policy_pack_names())
    [baseline] = load_packs(["baseline"])
    assert baseline.name == "baseline" and len(baseline.policies) >= 30


def test_unknown_pack_has_a_hint():
    with pytest.raises(PluginError) as info:
        load_packs(["no-such-pack"])
    assert "baseline" in (info.value.hint or "")


def test_policy_dirs_yaml_and_python(tmp_path):
    team = tmp_path / "Team Rules"
    team.mkdir()
    (team / "db.yaml").write_text(YAML_POLICY)
    (team / "sizing.py").write_text(PY_POLICY)
    (team / "README.md").write_text("ignored")
    packs = {p.name: p for p in load_policy_dir(team)}
    assert sorted(packs) == ["sizing", "team-rules"]
    assert [p.id for p in packs["team-rules"].policies] == ["team.no-spot-db"]
    assert packs["sizing"].origin.endswith("sizing.py")


def test_stack_file_can_name_a_policy_directory(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "db.yaml").write_text(YAML_POLICY)
    packs = load_packs(["baseline", "./rules"], base_dir=tmp_path)
    assert [p.name for p in packs] == ["baseline", "rules"]


def test_bad_files_are_reported_with_their_location(tmp_path):
    (tmp_path / "bad.yaml").write_text("id: x\n")
    with pytest.raises(SpecError) as info:
        load_policy_dir(tmp_path)
    assert info.value.problems[0].file.endswith("bad.yaml")
    (tmp_path / "bad.yaml").unlink()
    (tmp_path / "broken.py").write_text("def broken(:\n")
    with pytest.raises(SpecError) as info:
        load_policy_dir(tmp_path)
    assert str(info.value.problems[0]).startswith(f"{tmp_path / 'broken.py'}:1: ")
    with pytest.raises(UsageError):
        load_policy_dir(tmp_path / "missing")


def test_list_policies_rows():
    packs = load_packs(["baseline", "pci-dss"])
    rows = list_policies(packs)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    admin = next(r for r in rows if r["id"] == "network.admin-ports-open")
    assert admin["packs"] == ["baseline", "pci-dss"] and admin["levels"] == ["spec", "rendered"]
    assert "CKV_AWS_24" in admin["frameworks"]["checkov"] and admin["frameworks"]["pci-dss-4.0"]
    assert all(r["packs"] == ["baseline", "pci-dss"] for r in list_policies(packs, pack="pci-dss"))
    with pytest.raises(UsageError):
        list_policies(packs, pack="nope")


def test_list_policies_for_one_pack_shows_that_packs_enforcement_not_the_strictest():
    # every installed pack loaded, as `cloudorch policy list --pack baseline` does
    packs = load_packs(list(policy_pack_names()))
    rows = {r["id"]: r for r in list_policies(packs, pack="baseline")}
    for policy_id, framework in (("compute.public-ip", "pci-dss"), ("storage.versioning", "hipaa")):
        row = rows[policy_id]
        assert row["enforcement"] == "advisory", policy_id
        assert row["enforcement_by_pack"]["baseline"] == "advisory"
        assert row["enforcement_by_pack"][framework] == "mandatory"
    assert rows["network.admin-ports-open"]["enforcement"] == "mandatory"
    # the framework pack's own view: it runs them as mandatory
    pci = {r["id"]: r for r in list_policies(packs, pack="pci-dss")}
    assert pci["compute.public-ip"]["enforcement"] == "mandatory"
    # without --pack: per pack in enforcement_by_pack, the strictest of them in enforcement
    everything = {r["id"]: r for r in list_policies(packs)}
    assert everything["compute.public-ip"]["enforcement"] == "mandatory"
    assert everything["compute.public-ip"]["enforcement_by_pack"] == {"baseline": "advisory", "pci-dss": "mandatory"}
    assert everything["compute.allowed-sizes"]["enforcement_by_pack"] == {"baseline": "mandatory"}


def test_each_packs_enforcement_is_what_a_stack_listing_only_that_pack_would_run():
    from cloudorch.policy import resolve_enforcement

    packs = load_packs(list(policy_pack_names()))
    by_name = {p.name: p for p in packs}
    alone_rows = {p.name: {r["id"]: r for r in list_policies([p], pack=p.name)} for p in packs}
    for row in list_policies(packs):
        assert sorted(row["enforcement_by_pack"]) == row["packs"]
        for name, level in row["enforcement_by_pack"].items():
            alone = by_name[name]
            # resolve_enforcement over just this pack is exactly what evaluate() does for such a stack
            assert level == resolve_enforcement(alone.policy(row["id"]), [alone], {}), (row["id"], name)
            assert alone_rows[name][row["id"]]["enforcement"] == level


def test_list_policies_applies_overrides_per_pack():
    from tests.policy.conftest import PUBLIC

    lax = Pack(name="lax", policies=(replace(PUBLIC, enforcement="advisory"),))
    strict = Pack(name="strict", policies=(PUBLIC,), enforcement="mandatory")
    [row] = list_policies([lax, strict], pack="lax")
    assert row["enforcement"] == "advisory" and row["enforcement_by_pack"] == {"lax": "advisory", "strict": "mandatory"}
    [row] = list_policies([lax, strict])
    assert row["enforcement"] == "mandatory"
    [row] = list_policies([lax, strict], overrides={"strict": "disabled"})
    assert row["enforcement_by_pack"] == {"lax": "advisory", "strict": "disabled"} and row["enforcement"] == "advisory"
    [row] = list_policies([lax, strict], pack="strict", overrides={PUBLIC.id: "advisory"})
    assert row["enforcement"] == "advisory" and set(row["enforcement_by_pack"].values()) == {"advisory"}


def test_all_builtin_policy_ids_are_namespaced_and_unique():
    from cloudorch_policies import baseline, cost, hipaa, pci_dss

    packs = [baseline.pack(), pci_dss.pack(), hipaa.pack(), cost.pack()]
    definitions = {}
    for pack in packs:
        for policy in pack.policies:
            assert POLICY_ID.match(policy.id), policy.id
            # the same id may appear in several packs only as the same rule (a framework subset)
            assert definitions.setdefault(policy.id, policy.checks) == policy.checks, policy.id
    assert len([p for p in baseline.pack().policies]) >= 30
    for pack in packs[1:3]:
        assert {p.id for p in pack.policies} <= {p.id for p in baseline.pack().policies}


def test_baseline_rules_name_their_checkov_and_cis_equivalents():
    from cloudorch_policies import baseline

    mapped = [p for p in baseline.pack().policies if "checkov" in p.frameworks]
    assert len(mapped) >= 30
    assert any(k.startswith("cis-") for p in mapped for k in p.frameworks)


@pytest.mark.parametrize("body, line, said", [
    ("raise SystemExit(3)\n", 1, "called sys.exit(3)"),
    ("import sys\n\nsys.exit()\n", 3, "called sys.exit(None)"),
    ("raise GeneratorExit\n", 1, "raised GeneratorExit"),
    ("x = 1\nraise KeyboardInterrupt\n", 2, "raised KeyboardInterrupt"),
    ("import no_such_module_for_cloudorch\n", 1, "raised ModuleNotFoundError"),
    ("def broken(:\n", 1, "has a syntax error"),
    ("import os\nos._exit(4)\n", None, "ended the policy process (exit code 4)"),
    ("pack = 3\n", None, "defines `pack` as int, not a Pack"),
    ("x = 1\n", None, "defines no policies"),
])
def test_a_module_that_fails_to_load_is_invalid_input_at_its_file_and_line(tmp_path, body, line, said):
    (tmp_path / "bad.py").write_text(body)
    with pytest.raises(SpecError) as info:
        load_policy_dir(tmp_path)
    [problem] = info.value.problems
    assert (problem.file, problem.line) == (str(tmp_path / "bad.py"), line) and said in problem.message
    # its code ran in a child process: nothing of it is left in this one
    assert not [m for m in sys.modules.values() if getattr(m, "__file__", None) == str(tmp_path / "bad.py")]


def test_a_pack_function_that_exits_is_located_where_it_exits(tmp_path):
    (tmp_path / "exits.py").write_text("def pack():\n    raise SystemExit(3)\n")
    with pytest.raises(SpecError) as info:
        load_policy_dir(tmp_path)
    assert str(info.value.problems[0]) == f"{tmp_path / 'exits.py'}:2: cannot load this policy module: it called sys.exit(3)"


def test_a_module_that_loops_at_import_is_stopped_and_located(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDORCH_POLICY_TIMEOUT", "1")
    (tmp_path / "loops.py").write_text("import time\n\nwhile True:\n    time.sleep(0.01)\n")
    with pytest.raises(SpecError) as info:
        load_policy_dir(tmp_path)
    [problem] = info.value.problems
    assert problem.line in (3, 4) and "did not finish within 1 s" in problem.message


def test_a_module_that_prints_while_loading_does_not_reach_stdout(tmp_path, capfd):
    (tmp_path / "loud.py").write_text("import os\nprint('hello')\nos.write(1, b'raw')\n" + PY_POLICY)
    [pack] = load_policy_dir(tmp_path)
    assert pack.name == "sizing" and capfd.readouterr().out == ""


def test_policy_metadata_of_the_wrong_type_is_refused_at_load(tmp_path):
    (tmp_path / "meta.py").write_text(PY_POLICY.replace('title="small"', "title=42"))
    with pytest.raises(SpecError) as info:
        load_policy_dir(tmp_path)
    assert "title must be a string, not int" in info.value.problems[0].message


# --policy-dir through the CLI: a team's broken file is invalid input (2), never a crash (1) nor a block (3)
SPEC_RULE = """\
    id: team.big
    title: big machines
    severity: high
    level: spec
    resources: [compute]
    condition: {attribute: cpu, operator: greater_than, value: 1}
    """


@pytest.mark.parametrize("file, text, located", [
    ("list.yaml", SPEC_RULE + "frameworks: [a, b]\n", "list.yaml:7: frameworks: must be a mapping"),
    ("number.yaml", SPEC_RULE.replace("value: 1", "value: abc"), "number.yaml:6: condition.value: operator"),
    ("regex.yaml", SPEC_RULE.replace("greater_than, value: 1", "matches, value: 5"), "regex.yaml:6: condition.value"),
    ("exits.py", "raise SystemExit(3)\n", "exits.py:1: cannot load this policy module: it called sys.exit(3)"),
    ("stop.py", "x = 1\nraise KeyboardInterrupt\n", "stop.py:2: cannot load this policy module: it raised KeyboardInterrupt"),
    ("missing.py", "import no_such_module_for_cloudorch\n", "missing.py:1: cannot load this policy module: it raised"),
    ("raises.py", "\n\nraise ValueError('no')\n", "raises.py:3: cannot load this policy module: it raised ValueError: no"),
    ("syntax.py", "x = (\n", "syntax.py:1: cannot load this policy module: it has a syntax error"),
    ("shape.yaml", "policies: {a: 1}\n", "shape.yaml:1: policies: must be a list of policies"),
    ("deep.yaml", SPEC_RULE.replace("condition: {attribute: cpu, operator: greater_than, value: 1}",
                                    "condition: " + "{not: " * 990 + "{attribute: cpu, operator: exists}" + "}" * 990),
     "deep.yaml:6: nests mappings and lists more than 100 deep"),
    ("nested.yaml", SPEC_RULE.replace("condition: {attribute: cpu, operator: greater_than, value: 1}",
                                      "condition: " + "{not: " * 40 + "{attribute: cpu, operator: exists}" + "}" * 40),
     "conditions nest more than 32 deep"),
])
@pytest.mark.parametrize("command", [["policy", "list"], ["check", WEBSHOP]])
def test_bad_policy_dir_files_exit_2_with_a_located_message(tmp_path, capsys, command, file, text, located):
    (tmp_path / file).write_text(textwrap.dedent(text))
    assert main([*command, "--policy-dir", str(tmp_path)]) == 2
    err = " ".join(capsys.readouterr().err.split())  # the console may wrap long lines
    assert located in err
