from __future__ import annotations

import json

import pytest

from cloudorch.cli.app import main
from tests.support import ROOT

WEBSHOP = str(ROOT / "stacks" / "webshop.yaml")


def test_validate_ok_text(capsys):
    assert main(["validate", WEBSHOP]) == 0
    assert "ok" in capsys.readouterr().out


def test_validate_json_lists_resources_and_edges(capsys):
    assert main(["validate", WEBSHOP, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True
    assert data["stacks"][0]["resources"] == {"assets": "bucket", "net": "network", "orders-db": "database",
                                              "web": "compute"}


def test_validate_reports_problems_of_every_file(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    a.write_text("stack: a\nresources:\n  web:\n    kind: compute\n    network: nope\n    cpu: 0\n    memory_gb: 1\n")
    b = tmp_path / "b.yaml"
    b.write_text("")
    assert main(["validate", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert f"{a}:5: resources.web.network: no resource named 'nope'" in err
    assert f"{a}:6: resources.web.cpu: must be a positive integer" in err
    assert f"{b}: file is empty" in err
    assert "Traceback" not in err


def test_validate_json_error_document(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stack: a\nresources: {}\n")
    assert main(["validate", str(bad), "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 2 and data["error"] == "SpecError"
    assert data["problems"][0]["path"] == "resources" and data["problems"][0]["line"] == 2


def test_usage_errors_exit_2(capsys):
    assert main(["plan"]) == 2
    assert main(["frobnicate"]) == 2


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("cloudorch ")


def test_schema_is_a_json_schema_with_every_kind(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "cloudorch stack"
    assert {"Network", "Compute", "Database", "Bucket"} <= set(schema["$defs"])
    assert "from" in schema["$defs"]["Ingress"]["properties"]


def test_schema_validates_the_examples(capsys):
    import jsonschema
    import yaml

    main(["schema"])
    schema = json.loads(capsys.readouterr().out)
    for path in sorted((ROOT / "stacks").glob("*.yaml")):
        # YAML dates become date objects; editors see them as strings, as the schema says
        document = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        jsonschema.validate(document, schema)


def test_every_command_has_help_text():
    from cloudorch.cli.app import app

    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert (command.help or "").strip(), f"`cloudorch {name}` has no help text"


# -- what is knowable before placement (issue 14): exit 2 at the line, from `validate` and `plan` alike ----

STACK = """\
stack: a
{extra}resources:
  net: {{kind: network, cidr: 10.0.0.0/16}}
  web: {{kind: compute, network: net, cpu: 2, memory_gb: 4}}
"""


def _errors(tmp_path, capsys, extra: str, command: str = "validate") -> list[str]:
    path = tmp_path / "a.yaml"
    path.write_text(STACK.format(extra=extra))
    assert main([command, str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "hint: " in err
    return [line.removeprefix("error: ").replace(str(path), "a.yaml") for line in err.splitlines()
            if line.startswith("error: ")]


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_regions_of_other_clouds_and_outside_the_geo_are_located(tmp_path, capsys, command):
    errors = _errors(tmp_path, capsys, "placement:\n  clouds: [gcp, azure]\n  regions: [eu-west-1]\n", command)
    assert errors == ["a.yaml:4: placement.regions[0]: 'eu-west-1' is a region of aws, not among placement.clouds "
                      "[gcp, azure]; add aws there or name a region of azure or gcp"]
    errors = _errors(tmp_path, capsys, "placement:\n  geo: [eu]\n  regions: [eastus]\n", command)
    assert errors == ["a.yaml:4: placement.regions[0]: 'eastus' is in us, outside placement.geo [eu]; "
                      "add us to placement.geo or leave the region out"]


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_an_unknown_pack_is_located_with_the_nearest_name(tmp_path, capsys, command):
    errors = _errors(tmp_path, capsys, "policies:\n  packs: [baseline, hippa]\n", command)
    assert errors == ["a.yaml:3: policies.packs[1]: no policy pack named 'hippa'; did you mean hipaa? "
                      "(installed: baseline, cost, hipaa, pci-dss)"]


def test_a_missing_policy_directory_of_the_stack_is_located(tmp_path, capsys):
    errors = _errors(tmp_path, capsys, "policies:\n  packs: [baseline, ./team]\n")
    assert errors == [f"a.yaml:3: policies.packs[1]: no policy directory './team' (relative to the stack file: "
                      f"{tmp_path / 'team'})"]


WAIVER = "    - {{policy: {id}, resource: web, reason: r, owner: a@b.c, expires: 2099-01-01}}\n"


def test_waivers_naming_no_loaded_policy_are_located(tmp_path, capsys):
    waivers = "policies:\n  packs: [hipaa]\n  waivers:\n" + "".join(
        WAIVER.format(id=i) for i in ("network.public-ingres", "network.public-ingress", "storage.*", "zzz.*"))
    assert _errors(tmp_path, capsys, waivers) == [
        "a.yaml:5: policies.waivers[0].policy: no policy 'network.public-ingres' in the packs hipaa: the waiver "
        "waives nothing; did you mean network.public-ingress (in the baseline pack, which policies.packs does not "
        "list)?",
        "a.yaml:6: policies.waivers[1].policy: no policy 'network.public-ingress' in the packs hipaa: the waiver "
        "waives nothing; it is in the baseline pack, which policies.packs does not list",
        "a.yaml:8: policies.waivers[3].policy: no policy 'zzz.*' in the packs hipaa: the waiver waives nothing; "
        "`cloudorch policy list` shows every policy id",
    ]  # storage.* is a glob that matches hipaa's storage rules


def test_enforcement_naming_no_policy_or_pack_is_located(tmp_path, capsys):
    extra = "policies:\n  enforcement:\n    baseline: advisory\n    network.admin-ports-open: advisory\n" \
            "    network.admin-port-open: mandatory\n"
    assert _errors(tmp_path, capsys, extra) == [
        "a.yaml:6: policies.enforcement.network.admin-port-open: 'network.admin-port-open' is neither a policy id "
        "nor a pack of this stack (baseline); did you mean network.admin-ports-open?"]


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_spread_wider_than_count_is_located(tmp_path, capsys, command):
    path = tmp_path / "a.yaml"
    path.write_text(STACK.format(extra="") + "  api: {kind: compute, network: net, cpu: 2, memory_gb: 4, count: 2,\n"
                    "        spread: {min_clouds: 3}}\n")
    assert main([command, str(path)]) == 2
    assert f"{path}:6: resources.api.spread.min_clouds: min_clouds 3 is more than count 2" in capsys.readouterr().err


def test_the_examples_stay_valid(capsys):
    assert main(["validate", *map(str, sorted((ROOT / "stacks").glob("*.yaml")))]) == 0


def test_enforcement_of_a_pack_the_stack_does_not_list_is_located(tmp_path, capsys):
    assert _errors(tmp_path, capsys, "policies:\n  enforcement: {pci-dss: mandatory}\n") == [
        "a.yaml:3: policies.enforcement.pci-dss: 'pci-dss' is neither a policy id nor a pack of this stack "
        "(baseline); it is an installed pack, which policies.packs does not list"]


def test_validate_keeps_the_files_own_hint(tmp_path, capsys):
    # a UTF-16 file: the hint says how to convert it, not the generic "fix the fields named above"
    stack = tmp_path / "utf16.yaml"
    stack.write_bytes("stack: a\n".encode("utf-16"))
    assert main(["validate", str(stack)]) == 2
    err = capsys.readouterr().err
    assert "must be UTF-8" in err and "iconv -f UTF-16 -t UTF-8" in err
