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
    documented = set(re.findall(r"`cloudorch ([a-z]+(?: (?:list|refresh|show|age|clear|verify|log|unlock))?)[ `\]|]", README))
    documented.discard("--version")
    assert cli_commands() <= documented, f"undocumented: {cli_commands() - documented}"
    assert documented <= cli_commands(), f"documented but missing: {documented - cli_commands()}"


def command_of(words: list[str]):
    command = typer.main.get_command(app)
    for word in words:
        command = command.commands[word]
    return command


def test_every_option_in_the_command_table_is_an_option_of_its_command():
    table = README.split("## Commands", 1)[1].split("\n\n", 2)[1]
    for usage in re.findall(r"`cloudorch ([a-z][^`]*)`", table):
        words = re.findall(r"^(policy list|catalog [a-z]+|audit [a-z]+|[a-z]+)", usage)[0].split()
        accepted = {opt for p in command_of(words).params for opt in p.opts}
        assert set(re.findall(r"--[a-z-]+", usage)) <= accepted, usage


def test_the_shared_options_table_lists_exactly_the_shared_options():
    from cloudorch.cli.shared import FLAGS

    table = README.split("| shared option | meaning |", 1)[1].split("\n\n", 1)[0]
    assert tuple(re.findall(r"^\| `(--[a-z-]+)", table, flags=re.M)) == FLAGS


def test_every_command_and_option_has_help_text():
    def walk(command, path):
        for name, sub in getattr(command, "commands", {}).items():
            assert (sub.help or "").strip(), f"{path} {name}"
            walk(sub, f"{path} {name}")
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                assert (param.help or "").strip(), f"{path} {param.opts}"

    walk(typer.main.get_command(app), "cloudorch")


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
