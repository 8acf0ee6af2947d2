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


class Asked(Exception):
    pass


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
