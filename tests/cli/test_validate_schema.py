from __future__ import annotations

import json

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
