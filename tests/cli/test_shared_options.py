"""The shared options: every command takes them, before its name or after it, into the run's one Application."""

from __future__ import annotations

import json

import pytest
import typer.main

from cloudorch.cli.app import app, main
from cloudorch.cli.application import Application, SharedOptions
from cloudorch.cli.shared import FLAGS
from tests.support import ROOT

WEBSHOP = str(ROOT / "stacks" / "webshop.yaml")


def leaf_commands(group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every command of the tree typer builds (its vendored click), found by walking it."""
    found = []
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            found += leaf_commands(command, (*prefix, name))
        else:
            found.append(((*prefix, name), command))
    return found


def options_of(command) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


ROOT_GROUP = typer.main.get_command(app)
COMMANDS = leaf_commands(ROOT_GROUP)


def test_the_shared_options_are_the_root_options():
    assert set(FLAGS) <= options_of(ROOT_GROUP)
    assert {"validate", "plan", "check", "apply", "destroy", "outputs", "unlock"} <= {p[-1] for p, _ in COMMANDS}


@pytest.mark.parametrize("path,command", COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_accepts_every_shared_option_after_its_name(path, command):
    assert set(FLAGS) <= options_of(command), f"{' '.join(path)} lacks {set(FLAGS) - options_of(command)}"
    arguments = [arg for p in command.params if p.param_type_name == "argument" for arg in ["x.yaml"] * bool(p.required)]
    ctx = command.make_context(path[-1], [*arguments, "--config", "c.toml", "--catalog", "cat", "--policy-dir", "a",
                                          "--policy-dir", "b", "--format", "json", "--debug"])
    assert (ctx.params["config"], ctx.params["catalog"], ctx.params["debug"]) == ("c.toml", "cat", True)
    assert list(ctx.params["policy_dir"]) == ["a", "b"] and ctx.params["fmt"].value == "json"


def test_options_before_and_after_the_command_name_merge_into_the_one_application(capsys):
    application = Application()
    result = app(args=["--debug", "--policy-dir", "a", "--format", "text", "validate", WEBSHOP, "--format", "json",
                       "--policy-dir", "b"], prog_name="cloudorch", standalone_mode=False, obj=application)
    assert result == 0
    assert application.options == SharedOptions(policy_dirs=("a", "b"), format="json", debug=True)
    assert json.loads(capsys.readouterr().out)["valid"] is True
    assert application.session.options.policy_dirs == ("a", "b")


def test_merging_options_after_the_session_exists_is_a_bug():
    application = Application(SharedOptions(format="json"))
    assert application.session is application.session  # built once
    with pytest.raises(RuntimeError):
        application.add(SharedOptions(catalog="late"))


def test_the_format_before_or_after_the_command_means_the_same(capsys):
    assert main(["--format", "json", "validate", WEBSHOP]) == 0
    before = capsys.readouterr().out
    assert main(["validate", WEBSHOP, "--format", "json"]) == 0
    assert capsys.readouterr().out == before and json.loads(before)["valid"] is True
    assert main(["-f", "json", "validate", WEBSHOP, "-f", "text"]) == 0  # the command's value wins
    assert capsys.readouterr().out.startswith("ok ")


def test_errors_are_reported_in_the_format_asked_for_after_the_command(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing.yaml"), "--format", "json"]) == 2
    assert json.loads(capsys.readouterr().out)["exit_code"] == 2


def test_validate_and_the_other_commands_read_the_config_named_on_the_root(tmp_path, capsys):
    config = tmp_path / "ci.toml"
    config.write_text('[vcpu_quotas]\n"aws/xx-fake-1" = 10\n')
    assert main(["--config", str(config), "plan", WEBSHOP]) == 2
    assert "vcpu_quotas.aws/xx-fake-1" in capsys.readouterr().err
    config.write_text("catalgo = 1\n")
    assert main(["validate", WEBSHOP, "--config", str(config)]) == 2
    assert "catalgo: unknown setting" in capsys.readouterr().err


def test_check_widens_the_shared_format(capsys):
    assert main(["check", WEBSHOP, "--format", "sarif"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "2.1.0"
    assert main(["--format", "json", "check", WEBSHOP]) == 0  # the root's format reaches check too
    assert "summary" in json.dumps(json.loads(capsys.readouterr().out))
    assert main(["plan", WEBSHOP, "--format", "sarif"]) == 2  # only check knows report formats


def test_policy_list_reads_the_config_and_the_policy_dir(tmp_path, monkeypatch, capsys):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "db.yaml").write_text("id: team.no-spot-db\ntitle: t\nseverity: low\nlevel: spec\n"
                                                "resources: [database]\n"
                                                "condition: {attribute: high_availability, operator: is_true}\n")
    (tmp_path / "cloudorch.toml").write_text('policy_dirs = ["rules"]\n')
    monkeypatch.chdir(tmp_path / "rules")  # relative to the config file, not to where the command runs
    assert main(["policy", "list", "--format", "json"]) == 0
    assert "team.no-spot-db" in {row["id"] for row in json.loads(capsys.readouterr().out)["policies"]}
