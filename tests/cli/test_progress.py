"""Progress of a catalog refresh: bars per cloud on a terminal, one line per source elsewhere, JSON events."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence

from rich.console import Console

from cloudorch.catalog.cache import DiscoveryCache
from cloudorch.catalog.live import MachineType, Price
from cloudorch.catalog.refresh import refresh
from cloudorch.cli.application import Application, SharedOptions
from cloudorch.cli.progress import refresh_progress
from cloudorch.provider import Discovered, Discovery, DiscoveryScope


class Fake(Discovery):
    """A cloud of one region whose quotas cannot be read and whose other sources can."""

    scopes = frozenset(DiscoveryScope)

    def discover(self, regions: Sequence[str], scopes: frozenset[DiscoveryScope]) -> Discovered:
        scope = str(next(iter(scopes)))
        if scope == "quotas":
            return Discovered(cloud="fake", missing=("quotas r1: AccessDenied: not allowed",), requests=1)
        rows = {"offerings": {"machines": (MachineType("r1", "m1", 2, 8, "x86_64", zones=("r1a",)),)},
                "prices": {"prices": (Price("r1", "m1", 0.1),)}}.get(scope, {})
        return Discovered(cloud="fake", fetched_at={scope: 1.0}, requests=2, **rows)


class NoCredentials(Fake):
    def unavailable(self) -> str | None:
        return "no credentials for it"


def refreshed(app: Application, tmp_path) -> None:
    with refresh_progress(app) as progress:
        refresh({"fake": Fake(), "none": NoCredentials()}, {"fake": ("r1",)}, DiscoveryCache(tmp_path), stale_only=False,
                progress=progress)


def with_console(app: Application, **settings) -> io.StringIO:
    buffer = io.StringIO()
    app._err = Console(file=buffer, width=120, **settings)
    return buffer


def test_elsewhere_one_line_per_source(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = Application()
    buffer = with_console(app, force_terminal=False)
    refreshed(app, tmp_path)
    lines = buffer.getvalue().splitlines()
    assert [line.split(":")[0].split(" in ")[0] for line in lines] == [
        "fetched fake offerings", "fetched fake prices", "failed fake quotas", "fetched fake zones", "skipped none"]
    assert lines[2] == "failed fake quotas: quotas r1: AccessDenied: not allowed"
    assert lines[0].startswith("fetched fake offerings in ") and lines[0].endswith(", 2 requests: 1 rows")


def test_json_one_event_per_settled_source(tmp_path, capsys):
    app = Application(SharedOptions(format="json"))
    refreshed(app, tmp_path)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["cloud"], e["source"], e["status"]) for e in events] == [
        ("fake", "offerings", "fetched"), ("fake", "prices", "fetched"), ("fake", "quotas", "failed"),
        ("fake", "zones", "fetched"), ("none", "", "skipped")]
    assert all(e["event"] == "catalog.refresh" for e in events) and events[0]["requests"] == 2


def test_on_a_terminal_a_bar_per_cloud(tmp_path, monkeypatch):
    for name in ("CI", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    app = Application()
    buffer = with_console(app, force_terminal=True, color_system=None)
    assert app.live
    refreshed(app, tmp_path)
    # what the terminal shows last: cursor movements and line erasures dropped, each redraw on a line of its own
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", buffer.getvalue()).replace("\r", "\n")
    last = {line.split()[0]: line for line in screen.splitlines() if line.split()[:1] in (["fake"], ["none"])}
    assert "━" in last["fake"] and "4/4" in last["fake"] and "done" in last["fake"]
    assert "1/1" in last["none"] and "skipped (no credentials for it)" in last["none"]
    # a failure's reason stays on screen above the bars
    assert "failed fake quotas: quotas r1: AccessDenied: not allowed" in screen
