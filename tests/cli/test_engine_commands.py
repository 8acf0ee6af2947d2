"""The engine commands end to end through the CLI, with a fake workspace at the engine's seam."""

from __future__ import annotations

import json

import pytest

from cloudorch import lifecycle
from cloudorch.cli.app import main
from cloudorch.engine import PulumiEngine
from cloudorch.journal import Journal
from cloudorch.project import StackIdentity
from tests.engine.conftest import PASSPHRASE, FakeWorkspace, done, pre, summary
from tests.support import ROOT

VPC = "aws:ec2/vpc:Vpc"


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """The real engine for the stack's identity and project, with a fake workspace at the engine's seam."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    (tmp_path / "webshop.yaml").write_text((ROOT / "tests" / "data" / "webshop.yaml").read_text())
    workspace = FakeWorkspace([pre(1, "create", "net-vpc", VPC), done(2, "create", "net-vpc", VPC),
                               summary(3, {"create": 1})], summary={"create": 1})
    real = lifecycle.engine_for

    def engine_for(identity, session):
        settings = real(identity, session).settings
        return PulumiEngine(settings, open_workspace=workspace.factory, which=lambda _: "/usr/bin/pulumi",
                            environ={"CLOUDORCH_PASSPHRASE": PASSPHRASE})

    monkeypatch.setattr(lifecycle, "engine_for", engine_for)
    return workspace


def test_apply_streams_json_events_and_a_result(fake, capsys):
    assert main(["apply", "webshop.yaml", "--yes", "--format", "json"]) == 0
    out = capsys.readouterr().out
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{\"")]
    assert any(e.get("kind") == "resource-done" and e.get("name") == "net-vpc" for e in events)
    assert "up" in fake.calls and fake.calls.index("install_plugins") < fake.calls.index("up")
    assert {p.name for p in fake.plugins} >= {"gcp", "azure-native", "random"}  # pinned plugins of the clouds used
    assert PASSPHRASE not in out


def test_apply_text_reports_changes_in_the_stacks_terms(fake, capsys):
    assert main(["apply", "webshop.yaml", "--yes"]) == 0
    captured = capsys.readouterr()
    assert "create 1" in captured.out
    assert "net-vpc" in captured.err  # one line per step when stderr is not a terminal


@pytest.mark.parametrize("command,expected", [(["preview", "--detailed-exitcode"], 7), (["preview"], 0),
                                              (["drift", "--detailed-exitcode"], 7), (["refresh"], 0),
                                              (["destroy", "--yes"], 0)])
def test_detailed_exitcode(fake, capsys, command, expected):
    assert main([command[0], "webshop.yaml", *command[1:]]) == expected


def test_no_changes_means_exit_0_even_with_detailed_exitcode(fake, capsys):
    fake.events, fake.summary = [summary(1, {"same": 5})], {"same": 5}
    assert main(["drift", "webshop.yaml", "--detailed-exitcode"]) == 0


def test_outputs_mask_secret_values(fake, capsys):
    from cloudorch.engine import OutputValue

    fake._outputs = {"web": OutputValue("web-id", False), "db-password": OutputValue("hunter2-secret", True)}
    assert main(["outputs", "webshop.yaml", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["outputs"]["web"] == "web-id"
    assert "hunter2-secret" not in out


def test_second_apply_is_refused_while_the_first_holds_the_lock_and_unlock_clears_it(fake, capsys, tmp_path):
    from cloudorch.engine import locking

    with locking.acquire(tmp_path, "webshop", "up"):  # an apply in progress (this very process: not stale)
        assert main(["apply", "webshop.yaml", "--yes"]) == 6
        err = capsys.readouterr().err
        assert "locked" in err.lower() and "since" in err
        assert "up" not in fake.calls  # refused before running anything
        assert main(["unlock", "webshop.yaml"]) == 0
        assert "cleared the lock held by" in capsys.readouterr().out
        assert main(["apply", "webshop.yaml", "--yes"]) == 0


STATE_COMMANDS = [["destroy", "--yes"], ["refresh"], ["drift"], ["outputs"], ["unlock"]]
STATE_CALLS = {"destroy": "destroy", "refresh": "refresh", "drift": "preview_refresh", "outputs": "outputs",
               "unlock": "cancel"}


@pytest.mark.parametrize("command", STATE_COMMANDS, ids=lambda c: c[0])
def test_state_commands_need_the_identity_alone(fake, tmp_path, monkeypatch, capsys, command):
    """A stack that can no longer be planned (its policy pack is gone, the catalog is unreadable) is still
    read and torn down: nothing is placed, rendered or checked on the way to the engine."""
    stack = tmp_path / "webshop.yaml"
    stack.write_text(stack.read_text().replace("packs: [baseline]", "packs: [baseline, ./team-rules]"))
    assert main(["plan", "webshop.yaml"]) == 2 and "team-rules" in capsys.readouterr().err
    from cloudorch import api

    def forbidden(*args, **kwargs):
        raise AssertionError("the pipeline ran")

    monkeypatch.setattr(api, "plan", forbidden)
    monkeypatch.setattr(api.Session, "vocabulary", forbidden)
    monkeypatch.setattr(api.Session, "catalog", property(forbidden))
    assert main([*command[:1], "webshop.yaml", *command[1:], "--catalog", str(tmp_path / "nowhere")]) == 0
    assert STATE_CALLS[command[0]] in fake.calls
    assert fake.settings.identity == StackIdentity(tmp_path.name, "webshop")


def test_teardown_installs_the_pins_of_the_stacks_clouds(fake, tmp_path):
    assert main(["destroy", "webshop.yaml", "--yes"]) == 0  # clouds: [aws, azure, gcp]
    assert {p.name for p in fake.plugins} == {"aws", "azure-native", "gcp", "random", "tls"}
    stack = tmp_path / "webshop.yaml"
    stack.write_text(stack.read_text().replace("clouds: [aws, azure, gcp]", "clouds: [aws]"))
    assert main(["refresh", "webshop.yaml"]) == 0
    assert [p.name for p in fake.plugins] == ["aws", "random"]  # random: the VPN links' generated keys


def test_state_commands_read_only_the_stack_name_but_report_it_located(fake, tmp_path, capsys):
    stack = tmp_path / "webshop.yaml"
    stack.write_text(stack.read_text().replace("count: 6", "count: lots"))  # no longer valid, still named
    assert main(["outputs", "webshop.yaml"]) == 0 and "outputs" in fake.calls
    stack.write_text(stack.read_text().replace("stack: webshop", "stack: Web_Shop"))
    fake.calls.clear()
    assert main(["destroy", "webshop.yaml", "--yes"]) == 2
    assert "webshop.yaml:1: stack: 'Web_Shop' is not a valid name" in capsys.readouterr().err
    assert fake.calls == []


def test_the_identity_is_the_projects_wherever_the_command_runs(fake, tmp_path, monkeypatch):
    (tmp_path / "cloudorch.toml").write_text('project = "shop"\n')
    (tmp_path / "stacks").mkdir()
    monkeypatch.chdir(tmp_path / "stacks")
    assert main(["apply", "../webshop.yaml", "--yes"]) == 0
    assert fake.settings.identity == StackIdentity("shop", "webshop") and fake.settings.project_dir == tmp_path
    assert not (tmp_path / "stacks" / ".cloudorch").exists()  # state and lock at the root, not here


def test_a_derived_project_name_is_pinned_by_the_first_engine_run(fake, tmp_path, monkeypatch):
    repo = tmp_path / "shop"
    repo.mkdir()
    (repo / "webshop.yaml").write_text((tmp_path / "webshop.yaml").read_text())
    monkeypatch.chdir(repo)
    assert main(["plan", "webshop.yaml"]) == 0 and not (repo / ".cloudorch" / "project").exists()  # only engines pin
    assert main(["apply", "webshop.yaml", "--yes"]) == 0
    assert (repo / ".cloudorch" / "project").read_text().strip() == "shop"
    monkeypatch.chdir(repo.rename(tmp_path / "shop-renamed"))
    assert main(["destroy", "webshop.yaml", "--yes"]) == 0
    assert fake.settings.identity == StackIdentity("shop", "webshop")


def test_two_repositories_on_one_backend_are_two_projects(fake, tmp_path, monkeypatch, capsys):
    backend = (tmp_path / "team-backend").as_uri()
    seen = []
    for repo in ("shop", "blog"):
        (tmp_path / repo / ".git").mkdir(parents=True)
        (tmp_path / repo / "webshop.yaml").write_text((tmp_path / "webshop.yaml").read_text())
        (tmp_path / repo / "cloudorch.toml").write_text(f'backend_url = "{backend}"\n')
        monkeypatch.chdir(tmp_path / repo)
        # a name derived from the directory could differ on a CI runner: not on a shared backend
        assert main(["destroy", "webshop.yaml", "--yes"]) == 2
        assert f'project = "{repo}"' in capsys.readouterr().err
        (tmp_path / repo / "cloudorch.toml").write_text(f'project = "{repo}"\nbackend_url = "{backend}"\n')
        assert main(["destroy", "webshop.yaml", "--yes"]) == 0
        seen.append((fake.settings.identity, fake.config.backend_url))
    assert seen == [(StackIdentity("shop", "webshop"), backend), (StackIdentity("blog", "webshop"), backend)]


def test_a_plan_made_with_a_policy_dir_is_applied_with_it(fake, tmp_path, capsys):
    team = tmp_path / "team"
    team.mkdir()
    (team / "sizing.yaml").write_text("id: team.small-db\ntitle: t\nseverity: low\nlevel: spec\n"
                                      "resources: [database]\ncondition: {attribute: high_availability, "
                                      "operator: is_false}\n")
    assert main(["plan", "webshop.yaml", "--policy-dir", "team", "--out", "p.json"]) == 0
    assert main(["apply", "webshop.yaml", "--plan", "p.json", "--yes"]) == 2  # without it, another policy set
    assert "the policy set changed" in capsys.readouterr().err and "up" not in fake.calls
    assert main(["apply", "webshop.yaml", "--plan", "p.json", "--yes", "--policy-dir", "team"]) == 0
    assert "up" in fake.calls
    fake.calls.clear()
    assert main(["--policy-dir", "team", "apply", "webshop.yaml", "--plan", "p.json", "--yes"]) == 0
    assert "up" in fake.calls


def test_live_progress_table_renders_engine_state():
    from rich.console import Console

    from cloudorch.cli.progress import _table
    from cloudorch.engine import Progress

    progress = Progress({"net-vpc": "net"})
    for raw in (pre(1, "create", "net-vpc", VPC), done(2, "create", "net-vpc", VPC)):
        progress.handle(raw)
    console = Console(record=True, width=120)
    console.print(_table("apply webshop", progress))
    text = console.export_text()
    assert "net-vpc" in text and "net" in text and "create" in text and "done" in text


def test_apply_records_the_addresses_before_the_engine_runs(fake, tmp_path):
    record = tmp_path / ".cloudorch" / "webshop.network.json"
    assert not record.exists()
    assert main(["apply", "webshop.yaml", "--yes"]) == 0
    data = json.loads(record.read_text())
    assert data["stack"] == "webshop" and data["blocks"] and data["asns"] and data["tunnels"]


def test_outputs_in_text_show_the_mask(fake, capsys):
    from cloudorch.engine import OutputValue

    fake._outputs = {"dbPassword": OutputValue("hunter2-secret", True), "web": OutputValue({"web-0": "i-1"})}
    assert main(["outputs", "webshop.yaml"]) == 0
    out = capsys.readouterr().out
    assert "dbPassword = [secret]" in out and 'web = {"web-0": "i-1"}' in out and "hunter2" not in out


SECRET_OUTPUT = "Zq8-vpn-psk-echoed-by-provider"


@pytest.mark.parametrize("command", [["apply", "--yes"], ["preview"], ["destroy", "--yes"], ["refresh"], ["drift"]],
                         ids=lambda c: c[0])
@pytest.mark.parametrize("options", [[], ["--debug"], ["--format", "json"]], ids=["text", "debug", "json"])
def test_a_secret_output_echoed_by_a_provider_error_is_never_printed(fake, capsys, command, options):
    from cloudorch.engine import OutputValue

    from tests.engine.conftest import diag

    fake._outputs = {"vpn": OutputValue({"psk": SECRET_OUTPUT}, True)}
    fake.events = [diag(1, f"error: tunnel rejected pre-shared key {SECRET_OUTPUT}")]
    fake.error = RuntimeError(f"code: 1\n stderr: error: update failed: key {SECRET_OUTPUT} is invalid")
    assert main([command[0], "webshop.yaml", *command[1:], *options]) == 6
    captured = capsys.readouterr()
    assert SECRET_OUTPUT not in captured.out + captured.err
    assert "[secret]" in captured.out + captured.err


def test_a_short_passphrase_is_refused_unshown(fake, monkeypatch, capsys):
    real = lifecycle.engine_for

    def engine_for(identity, session):
        return PulumiEngine(real(identity, session).settings, open_workspace=fake.factory,
                            which=lambda _: "/usr/bin/pulumi", environ={"CLOUDORCH_PASSPHRASE": "zq9"})

    monkeypatch.setattr(lifecycle, "engine_for", engine_for)
    for command in (["apply", "--yes"], ["destroy", "--yes"], ["outputs"]):
        assert main([command[0], "webshop.yaml", *command[1:]]) == 2
        err = capsys.readouterr().err
        assert "has 3 characters; cloudorch needs at least 8" in err and "zq9" not in err
    assert fake.calls == []


def test_an_unexplained_engine_failure_shows_the_end_of_pulumis_output(fake, capsys):
    fake.error = RuntimeError("code: 255\n stdout: Updating (webshop)\n stderr: error: the plugin host crashed\n"
                              "    panic: runtime error: index out of range [3] with length 3")
    assert main(["apply", "webshop.yaml", "--yes"]) == 6
    err = capsys.readouterr().err
    assert "Pulumi up failed: error: the plugin host crashed" in err
    assert "panic: runtime error: index out of range [3] with length 3" in err  # the output is shown, unmangled
    assert "above" not in err and "--debug" not in err  # no promise of output that is not there


def _lock_of(tmp_path, pid: int, host: str | None = None) -> None:
    import socket

    from cloudorch.engine.locking import lock_path

    path = lock_path(tmp_path, "webshop")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"stack": "webshop", "user": "ci", "host": host or socket.gethostname(), "pid": pid,
                                "since": "2026-01-01T00:00:00Z", "operation": "up"}))


def test_unlock_says_whether_the_holder_was_still_running(fake, tmp_path, capsys):
    import os
    import subprocess
    import sys

    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()  # an apply that was SIGKILLed: its lock stays, its process is gone
    _lock_of(tmp_path, killed.pid)
    assert main(["unlock", "webshop.yaml"]) == 0
    out = capsys.readouterr().out
    assert "its process had ended" in out and "the next run on this host would have taken the lock over" in out
    _lock_of(tmp_path, os.getpid())
    assert main(["unlock", "webshop.yaml", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["cleared"]["running"] is True
    _lock_of(tmp_path, 4242, host="runner-7")
    assert main(["unlock", "webshop.yaml"]) == 0
    assert "cannot be seen from this host" in capsys.readouterr().out


def test_a_killed_runs_lock_is_taken_over_by_the_next_apply(fake, tmp_path):
    import subprocess
    import sys

    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    _lock_of(tmp_path, killed.pid)
    assert main(["apply", "webshop.yaml", "--yes"]) == 0 and "up" in fake.calls


def test_diagnostics_and_diffs_are_printed_as_text_not_markup(fake, capsys):
    from tests.engine.conftest import diag

    fake.events = [pre(1, "update", "net-vpc", VPC, diffs=["tags"]), diag(2, "warning: value [secret] ignored", "warning"),
                   done(3, "update", "net-vpc", VPC, diffs=["tags"]), summary(4, {"update": 1})]
    fake.summary = {"update": 1}
    assert main(["apply", "webshop.yaml", "--yes"]) == 0
    captured = capsys.readouterr()
    assert "warning: value [secret] ignored" in captured.err and "(aws:ec2/vpc:Vpc) [tags]" in captured.out


@pytest.mark.parametrize("missing", ["cli", "passphrase"])
def test_an_apply_that_cannot_start_records_no_addresses(fake, tmp_path, monkeypatch, capsys, missing):
    real = lifecycle.engine_for

    def engine_for(identity, session):
        return PulumiEngine(real(identity, session).settings, open_workspace=fake.factory,
                            which=lambda _: None if missing == "cli" else "/usr/bin/pulumi",
                            environ={} if missing == "passphrase" else {"CLOUDORCH_PASSPHRASE": PASSPHRASE})

    monkeypatch.setattr(lifecycle, "engine_for", engine_for)
    assert main(["apply", "webshop.yaml", "--yes"]) == 6
    assert "up" not in fake.calls
    assert not (tmp_path / ".cloudorch" / "webshop.network.json").exists()
    [entry] = [e for e in Journal.open(tmp_path).entries() if e.kind == "apply"]
    assert entry.outcome == "failed" and entry.fields["exit_code"] == 6


def test_a_saved_plan_whose_blocks_another_record_gave_is_refused_naming_the_record(fake, tmp_path, capsys):
    # the stack file is the same, so addresses that differ came from the allocation record: one not committed
    # with the plan (a CI checkout), or changed by another plan since. The refusal said only which fields
    # differed, never where the difference came from (found by an audit)
    assert main(["plan", "webshop.yaml", "--out", "p.json"]) == 0
    record = tmp_path / ".cloudorch" / "webshop.network.json"
    text = record.read_text()
    moved = json.loads(text)
    taken = {b["cidr"] for b in moved["blocks"]}
    moved["blocks"][0]["cidr"] = next(c for c in (f"10.40.{16 * i}.0/20" for i in range(16)) if c not in taken)
    record.write_text(json.dumps(moved))
    capsys.readouterr()
    assert main(["apply", "webshop.yaml", "--plan", "p.json", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "another allocation record than .cloudorch/webshop.network.json here" in err and "up" not in fake.calls
    record.write_text(text)  # the record the plan was made with: applied
    assert main(["apply", "webshop.yaml", "--plan", "p.json", "--yes"]) == 0 and "up" in fake.calls
