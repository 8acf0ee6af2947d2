"""Output a person reads: whole words and machine types at any width, colour that says what blocks, no
escape sequence at all with NO_COLOR, and every finding with what to do about it.

Rendered through the CLI with a forced width (COLUMNS) and, for colour, rich's terminal detection forced
the way a terminal would (FORCE_COLOR).
"""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from cloudorch.cli.app import main
from tests.support import ROOT

WEBSHOP = str(ROOT / "stacks" / "webshop.yaml")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: fails a mandatory high rule (internet on 443, its waiver expired), advisory ones (public IP, disk key),
#: and carries a waiver that matches nothing
OPEN_WEB = textwrap.dedent("""\
    stack: open-web
    tags: {team: shop, env: prod}
    placement: {clouds: [aws], geo: [eu]}
    policies:
      waivers:
        - {policy: network.public-ingress, resource: web, reason: storefront, owner: a@b.c, expires: 2024-01-31}
        - {policy: network.admin-ports-open, resource: gone, reason: old host, owner: ops@b.c, expires: 2099-01-31}
    resources:
      net: {kind: network, cidr: 10.1.0.0/16}
      web:
        kind: compute
        network: net
        cpu: 2
        memory_gb: 8
        ingress: [{port: 443, from: internet}]
    """)


@pytest.fixture
def open_web(tmp_path):
    path = tmp_path / "open-web.yaml"
    path.write_text(OPEN_WEB)
    return str(path)


def _run(monkeypatch, capsys, argv, *, columns=100, colour=False, no_color=False) -> tuple[int, str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    for name, on in (("FORCE_COLOR", colour), ("NO_COLOR", no_color)):
        if on:
            monkeypatch.setenv(name, "1")
        else:
            monkeypatch.delenv(name, raising=False)
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _line(text: str, *words: str) -> str:
    return next(line for line in text.splitlines() if all(w in ANSI.sub("", line) for w in words))


@pytest.mark.parametrize("columns", [60, 79])
def test_narrow_plans_keep_every_machine_type_and_region_whole(monkeypatch, capsys, columns):
    _, document = _run(monkeypatch, capsys, ["plan", WEBSHOP, "--format", "json"])
    placements = json.loads(document)["placements"]
    _, text = _run(monkeypatch, capsys, ["plan", WEBSHOP, "--explain"], columns=columns)
    assert "…" not in text
    words = set(text.split())
    for p in placements:
        assert {p["region"], p["instance_type"] or p["region"]} <= {w.strip(",:()") for w in words} | \
            {w.split("/")[-1].strip(",:()") for w in words}, p
    assert all(len(line) <= columns for line in text.splitlines())


def test_a_narrow_policy_list_cuts_nothing(monkeypatch, capsys):
    _, document = _run(monkeypatch, capsys, ["policy", "list", "--format", "json"])
    rows = json.loads(document)["policies"]
    _, text = _run(monkeypatch, capsys, ["policy", "list"], columns=79)
    assert "…" not in text and all(len(line) <= 79 for line in text.splitlines())
    words = {w.strip(",;") for w in text.split()}
    for row in rows:
        controls = {w for ids in row["frameworks"].values() for i in ids for w in i.split()}  # "Art. 44"
        assert {row["id"], row["severity"], *controls} <= words, row


def test_a_narrow_check_report_says_all_a_wide_one_does(monkeypatch, capsys):
    _, wide = _run(monkeypatch, capsys, ["check", WEBSHOP], columns=400)
    _, text = _run(monkeypatch, capsys, ["check", WEBSHOP], columns=79)
    assert text.split() == wide.split()
    assert all(len(line) <= 79 for line in text.splitlines())


def test_advisory_failures_are_yellow_and_mandatory_ones_red(monkeypatch, capsys, open_web):
    for command in ("plan", "check"):
        code, text = _run(monkeypatch, capsys, [command, open_web], colour=True)
        assert code == 3
        assert "\x1b[31m" in _line(text, "network.public-ingress", "web"), command  # red
        assert "\x1b[33m" in _line(text, "compute.public-ip"), command  # yellow
        assert "\x1b[31m" not in _line(text, "compute.public-ip"), command


def test_check_text_gives_each_failure_its_remediation(monkeypatch, capsys, open_web):
    _, text = _run(monkeypatch, capsys, ["check", open_web])
    failures = [line for line in text.splitlines() if line.startswith("FAIL")]
    fixes = [line for line in text.splitlines() if line.strip().startswith("fix:")]
    assert failures and len(fixes) == len(failures)
    assert "fix: Admit only private sources in the resource's ingress" in " ".join(text.split())


def test_plan_shows_expired_and_unused_waivers_as_check_does(monkeypatch, capsys, open_web):
    for command in ("plan", "check"):
        _, text = _run(monkeypatch, capsys, [command, open_web])
        text = " ".join(text.split())
        assert "EXPIRED waiver network.public-ingress on web (owner a@b.c) expired 2024-01-31" in text, command
        assert "UNUSED waiver network.admin-ports-open on gone (owner ops@b.c) matches no failing finding" in text, \
            command


@pytest.mark.parametrize("argv", [["plan", WEBSHOP, "--explain"], ["check", WEBSHOP], ["policy", "list"],
                                  ["validate", WEBSHOP]], ids=lambda a: a[0])
def test_no_color_means_no_escape_sequence_at_all(monkeypatch, capsys, argv):
    _, coloured = _run(monkeypatch, capsys, argv, colour=True)
    assert "\x1b[1m" in coloured or "\x1b[2m" in coloured or argv[0] == "validate"  # bold or dim on a terminal
    _, text = _run(monkeypatch, capsys, argv, colour=True, no_color=True)
    assert "\x1b[" not in text


def test_no_color_errors_too(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stack: x\nresources: {web: {kind: compute, cpu: -1}}\n")
    code, text = _run(monkeypatch, capsys, ["plan", str(bad)], colour=True, no_color=True)
    assert code == 2 and "error" in text and "\x1b[" not in text
