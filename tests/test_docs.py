"""The README is part of the interface: its command table and exit codes match the CLI."""

from __future__ import annotations

import re

import typer.main

from cloudorch.cli.app import app
from cloudorch.errors import ExitCode
from tests.support import ROOT

README = (ROOT / "README.md").read_text()


def cli_commands() -> set[str]:
    group = typer.main.get_command(app)
    names = set()
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        names |= {f"{name} {s}" for s in sub} if sub else {name}
    return names


def test_every_command_is_documented_and_every_documented_command_exists():
    documented = set(re.findall(r"`cloudorch ([a-z]+(?: list)?)[ `\]]", README))
    documented.discard("--version")
    assert cli_commands() <= documented, f"undocumented: {cli_commands() - documented}"
    assert documented <= cli_commands(), f"documented but missing: {documented - cli_commands()}"


def test_exit_code_table_matches_the_contract():
    rows = dict(re.findall(r"^\| (\d) \| ([^|]+) \|$", README, flags=re.M))
    assert {int(k) for k in rows} == {int(c) for c in ExitCode}


def test_quick_start_has_exactly_two_commands():
    section = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert commands == ["pip install uv && uv run cloudorch plan stacks/webshop.yaml", "uv run pytest"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "uv run pytest" in ci
