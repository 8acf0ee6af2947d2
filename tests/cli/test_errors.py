"""Errors say who can fix them: a provider's crash is a bug (exit 1, naming it), never "invalid input"."""

from __future__ import annotations

import json

import pytest

from cloudorch.cli.app import main
from cloudorch.plugins import load_provider
from tests.support import ROOT

WEBSHOP = str(ROOT / "tests" / "data" / "webshop.yaml")


@pytest.fixture
def crashing_gcp(monkeypatch):
    provider = load_provider("gcp")

    def render(ctx):
        raise KeyError("subnet")

    monkeypatch.setattr(provider, "render", render)


def test_a_provider_crash_exits_1_names_the_plugin_and_shows_no_traceback(crashing_gcp, capsys):
    assert main(["plan", WEBSHOP]) == 1
    err = capsys.readouterr().err
    assert "provider 'gcp' failed: KeyError: 'subnet'" in err
    assert "bug in the 'gcp' plugin" in err
    assert "Traceback" not in err


def test_debug_shows_the_plugins_traceback(crashing_gcp, capsys):
    assert main(["--debug", "plan", WEBSHOP]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err


def test_json_error_names_the_plugin(crashing_gcp, capsys):
    assert main(["plan", WEBSHOP, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["error"] == "PluginBug" and data["plugin"] == "gcp" and data["exit_code"] == 1


def test_the_users_ctrl_c_exits_130(monkeypatch, capsys):
    from cloudorch import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "plan", interrupted)
    assert main(["check", WEBSHOP]) == 130


def test_a_policy_raising_keyboard_interrupt_is_its_own_error_not_the_users_ctrl_c(tmp_path, capsys):
    (tmp_path / "rule.py").write_text(
        "from cloudorch.policy import Pack, Policy, spec_check\n"
        "@spec_check('compute')\n"
        "def _check(target, ctx):\n"
        "    raise KeyboardInterrupt\n"
        "pack = Pack(name='team', policies=(Policy(id='team.rule', title='t', severity='high', checks=(_check,)),))\n")
    assert main(["check", WEBSHOP, "--policy-dir", str(tmp_path), "--format", "json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert {f["message"] for r in data["reports"] for f in r["findings"] if f["policy"] == "team.rule"} == \
        {"policy raised KeyboardInterrupt"}


@pytest.mark.parametrize("option", ["--show-completion", "--install-completion"])
def test_completion_without_a_shell_to_complete_for_is_a_usage_error(monkeypatch, capsys, option):
    import shellingham

    def no_shell(*args, **kwargs):
        raise shellingham.ShellDetectionFailure()

    monkeypatch.setattr(shellingham, "detect_shell", no_shell)
    assert main([option]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{option}: no shell started cloudorch" in err and "hint:" in err


def test_completion_for_a_shell_prints_its_script(monkeypatch, capsys):
    import shellingham

    monkeypatch.setattr(shellingham, "detect_shell", lambda *a, **k: ("bash", "/bin/bash"))
    assert main(["--show-completion"]) == 0
    assert "complete -o default -F _cloudorch_completion cloudorch" in capsys.readouterr().out
