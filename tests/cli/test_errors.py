"""Errors say who can fix them: a provider's crash is a bug (exit 1, naming it), never "invalid input"."""

from __future__ import annotations

import json

import pytest

from cloudorch.cli.app import main
from cloudorch.plugins import load_provider
from tests.support import ROOT

WEBSHOP = str(ROOT / "stacks" / "webshop.yaml")


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
