"""apply and destroy look for what a run needs before asking, and ask with the plan's summary; JSON errors
are one line each, like the engine's events."""

from __future__ import annotations

import json

import pytest
import typer

from cloudorch import lifecycle
from cloudorch.cli.app import main
from cloudorch.engine import PulumiEngine
from tests.engine.conftest import PASSPHRASE, FakeWorkspace, summary
from tests.support import ROOT


CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-secret",
               "ARM_CLIENT_ID": "00000000-0000-0000-0000-000000000001", "ARM_CLIENT_SECRET": "not-a-secret",
               "ARM_TENANT_ID": "00000000-0000-0000-0000-000000000002",
               "ARM_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000003", "GOOGLE_CREDENTIALS": "{}"}


@pytest.fixture
def engine(monkeypatch, tmp_path):
    """The real engine with a fake workspace; ``engine.pulumi`` / ``engine.environ`` say what the machine has.
    A person is at the terminal: every question is recorded in ``engine.questions`` and answered no."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDORCH_CONFIG", raising=False)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    (tmp_path / "webshop.yaml").write_text((ROOT / "tests" / "data" / "webshop.yaml").read_text())
    workspace = FakeWorkspace([summary(1, {"create": 1})], summary={"create": 1})
    workspace.pulumi, workspace.environ, workspace.questions = "/usr/bin/pulumi", {"CLOUDORCH_PASSPHRASE": PASSPHRASE}, []
    real = lifecycle.engine_for

    def engine_for(identity, session):
        return PulumiEngine(real(identity, session).settings, open_workspace=workspace.factory,
                            which=lambda _: workspace.pulumi, environ=workspace.environ)

    def confirm(question, **kwargs):
        workspace.questions.append(question)
        return False

    # credentials where each cloud's Pulumi provider looks first (never used: the workspace is fake)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(lifecycle, "engine_for", engine_for)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr(typer, "confirm", confirm)
    return workspace


@pytest.mark.parametrize("command", ["apply", "destroy"])
def test_no_question_when_pulumi_is_missing(engine, capsys, command):
    engine.pulumi = None
    assert main([command, "webshop.yaml"]) == 6
    assert "Pulumi CLI is not installed" in capsys.readouterr().err
    assert engine.questions == []


@pytest.mark.parametrize("command", ["apply", "destroy"])
def test_no_question_without_a_passphrase(engine, capsys, monkeypatch, command):
    monkeypatch.setattr("cloudorch.engine.config._keyring_lookup", lambda: None)
    engine.environ = {}
    assert main([command, "webshop.yaml"]) == 6
    assert "no passphrase" in capsys.readouterr().err
    assert engine.questions == []


@pytest.mark.parametrize("command", ["apply", "destroy"])
def test_no_question_without_credentials(engine, capsys, monkeypatch, tmp_path, command):
    for name in CREDENTIALS:
        monkeypatch.delenv(name)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws, ~/.azure, ~/.config/gcloud
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path / "azure"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # nothing answers: not a Google Cloud machine
    (tmp_path / "webshop.yaml").write_text((ROOT / "stacks" / "webshop.yaml").read_text()
                                           .replace("clouds: [aws, azure, gcp]", "clouds: [aws, gcp]", 1))
    assert main([command, "webshop.yaml"]) == 6
    err = " ".join(capsys.readouterr().err.split())
    # apply: the clouds of the plan; destroy: those the stack file allows (nothing is planned)
    assert "no credentials for aws, gcp: aws: no AWS credentials" in err and "gcp: no Google Cloud credentials" in err
    assert "--yes" in err  # the way past it when Pulumi's own configuration holds them
    assert engine.questions == []


def test_the_question_to_apply_shows_the_plan_summary(engine, capsys):
    assert main(["apply", "webshop.yaml"]) == 0
    assert "not applied" in capsys.readouterr().err and "up" not in engine.calls
    question, = engine.questions
    plan = json.loads(_plan_json(capsys))
    clouds = sorted({r["cloud"] for r in plan["resources"]})
    assert f"{len(plan['resources'])} resources ({clouds[0]} " in question
    assert f"${plan['cost']['monthly_usd']:,.2f}/month of a $6,000.00 budget" in question
    assert f"{plan['policy']['summary']['waived']} waived" in question and "advisory fail" in question
    last = question.splitlines()[-1]
    assert last.startswith("Apply ") and last.endswith("/webshop?")


def _plan_json(capsys) -> str:
    assert main(["plan", "webshop.yaml", "--format", "json"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [["apply", "--yes"], ["destroy", "--yes"], ["apply"]])
def test_json_errors_are_one_object_per_line(engine, capsys, command):
    engine.pulumi = None
    assert main([*command[:1], "webshop.yaml", *command[1:], "--format", "json"]) == 6
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)
    assert json.loads(lines[-1])["exit_code"] == 6


def test_the_question_to_destroy_shows_what_the_state_holds(engine, capsys):
    engine.state = ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:rds/instance:Instance",
                    "gcp:compute/network:Network", "random:index/randomPassword:RandomPassword"]
    assert main(["destroy", "webshop.yaml"]) == 0
    question, = engine.questions
    assert "its state holds 5 resources (aws 3, gcp 1, other 1)" in question
    assert question.splitlines()[-1].startswith("Destroy every resource of ")
    assert "destroy" not in engine.calls  # answered no


def test_destroy_looks_for_the_credentials_of_the_clouds_in_its_state(engine, capsys, monkeypatch):
    for name in CREDENTIALS:
        if not name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AZURE_CONFIG_DIR", "/nonexistent")
    engine.state = ["aws:ec2/vpc:Vpc"]
    assert main(["destroy", "webshop.yaml"]) == 0  # webshop allows azure and gcp too, but its state is on aws
    assert len(engine.questions) == 1


def test_a_workflow_asks_nothing_without_pulumi(engine, capsys, tmp_path):
    import shutil

    shutil.copytree(ROOT / "stacks" / "release", tmp_path / "release")
    engine.pulumi = None
    assert main(["apply", "release"]) == 6
    assert "Pulumi CLI is not installed" in capsys.readouterr().err
    assert engine.questions == []
