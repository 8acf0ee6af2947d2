"""`--help` reads well at any width: whole first sentences, words never split, plain metavars."""

from __future__ import annotations

import re

import pytest

from cloudorch.cli.app import COMMANDS, main

HELPS = [[], *([name] for name in COMMANDS if name != "policy"), ["policy"], ["policy", "list"]]


def _help(monkeypatch, capsys, argv: list[str], columns: int) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main([*argv, "--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("columns", [60, 79])
def test_the_command_list_shows_each_first_sentence_whole(monkeypatch, capsys, columns):
    text = " ".join(_help(monkeypatch, capsys, [], columns).split())
    for name, lazy in COMMANDS.items():
        assert f"{name} {lazy.help}" in text
    text = " ".join(_help(monkeypatch, capsys, ["policy"], columns).split())
    assert "list List every available policy: pack, severity, enforcement, level (spec/rendered), framework " \
           "mappings." in text


@pytest.mark.parametrize("argv", HELPS, ids=lambda a: " ".join(a) or "root")
@pytest.mark.parametrize("columns", [60, 79])
def test_help_is_never_cut_mid_word(monkeypatch, capsys, argv, columns):
    text = _help(monkeypatch, capsys, argv, columns)
    assert "..." not in text.replace("STACK...", "").replace("[ARGS]...", "")
    for line in text.splitlines():
        # click broke lines at hyphens: `--detailed-` / `exitcode`, `yaml-` / `language-server`
        assert not re.search(r"\w-$", line), line


@pytest.mark.parametrize("argv", HELPS, ids=lambda a: " ".join(a) or "root")
def test_metavars_are_plain(monkeypatch, capsys, argv):
    text = _help(monkeypatch, capsys, argv, 100)
    assert not re.search(r"<(list|path|str)|\{\w", text, re.IGNORECASE), text


def test_arguments_read_like_the_usage_line(monkeypatch, capsys):
    text = _help(monkeypatch, capsys, ["check"], 100)
    assert "Usage: cloudorch check [OPTIONS] STACK..." in text
    assert re.search(r"^  STACK\.\.\.\s+Stack files to check\.", text, re.MULTILINE)
    assert "--baseline FILE" in text and "--write-baseline FILE" in text
    text = _help(monkeypatch, capsys, ["plan"], 100)
    assert "Usage: cloudorch plan [OPTIONS] STACK...\n" in text and "-o, --out FILE" in text
    assert "--pack NAME" in _help(monkeypatch, capsys, ["policy", "list"], 100)
