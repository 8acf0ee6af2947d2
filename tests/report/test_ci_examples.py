"""The CI examples in examples/ci run commands and options cloudorch has, and are valid YAML."""

from __future__ import annotations

import re
import shlex

import pytest
import typer.main
import yaml

from cloudorch.cli.app import app
from tests.support import ROOT

EXAMPLES = sorted((ROOT / "examples" / "ci").glob("*.yml"))


def _invocations(text: str) -> list[list[str]]:
    return [shlex.split(m.split(">")[0].split("||")[0]) for m in re.findall(r"uv run (cloudorch [^\n|]+)", text)]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_each_example_is_yaml_and_uses_only_real_commands_and_options(path):
    text = path.read_text()
    assert isinstance(yaml.safe_load(text), dict)
    root = typer.main.get_command(app)
    invocations = _invocations(text)
    assert {words[1] for words in invocations} >= {"plan", "diff", "check", "report"}
    for words in invocations:
        command = root.commands[words[1]]
        accepted = {opt for p in command.params for opt in p.opts}
        assert {w for w in words if w.startswith("--")} <= accepted, words
    assert "--max-increase-usd" in text and "--compare-to" in text and "--format sarif" in text
    assert "startswith" in text  # the comment is found by its marker and updated in place
    assert "--html .review/report.html" in text


def test_the_html_report_is_kept_as_an_artifact():
    github = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions.yml").read_text())
    uploads = [s for s in github["jobs"]["review"]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert [u["with"]["path"] for u in uploads] == [".review/report.html"]
    gitlab = yaml.safe_load((ROOT / "examples" / "ci" / "gitlab-ci.yml").read_text())["cloudorch-review"]
    assert gitlab["artifacts"]["paths"] == [".review/"] and gitlab["artifacts"]["when"] == "always"


def test_gitlab_posts_the_note_before_a_failing_plan_fails_the_job():
    script = yaml.safe_load((ROOT / "examples" / "ci" / "gitlab-ci.yml").read_text())["cloudorch-review"]["script"]
    plan = next(i for i, line in enumerate(script) if "--format markdown" in line)
    post = next(i for i, line in enumerate(script) if "notes" in line)
    assert "||" in script[plan] and plan < post
    assert "plan.status" in script[-1]


def test_there_is_a_github_and_a_gitlab_example():
    assert {p.name for p in EXAMPLES} == {"github-actions.yml", "gitlab-ci.yml"}
