"""`cloudorch doctor`: credentials and endpoints per cloud, the cache and the live catalog's age, Pulumi, the journal."""

from __future__ import annotations

import typer
from rich.markup import escape

from cloudorch import api
from cloudorch.cli.application import Application
from cloudorch.cli.shared import command_group, register
from cloudorch.errors import ExitCode, UsageError

commands = command_group()


def doctor(
    app: Application,
    cloud: list[str] = typer.Option([], "--cloud", metavar="CLOUD", help="Only this cloud (repeatable; default: every "
                                    "installed provider)."),
    timeout: float = typer.Option(3.0, "--timeout", metavar="SECONDS", help="How long each endpoint has to answer."),
) -> int:
    """Check what this machine can do with the clouds: credentials and endpoints per cloud, the cache and the live
    catalog's age, the Pulumi CLI, the journal. Exit 6 when something needed is missing."""
    if not 0 < timeout <= 60:
        raise UsageError(f"--timeout {timeout:g}: give seconds between 0 and 60", hint="e.g. --timeout 5")
    report = api.doctor(app.session, cloud, timeout=timeout)
    code = int(ExitCode.OK if report.ok else ExitCode.ENGINE_FAILURE)
    if app.json:
        app.emit_json(report.to_dict() | {"exit_code": code})
        return code
    _render(app, report)
    return code


def _render(app: Application, report) -> None:
    from cloudorch.catalog.refresh import ago

    out = app.out
    bad = "[red]missing[/]"
    for c in report.clouds:
        if c.not_offered is not None:
            out.print(f"[bold]{c.cloud}[/]: [dim]no discovery ({escape(c.not_offered)})[/]")
            continue
        credentials = "[green]found[/]" if c.unavailable is None else f"[red]{escape(c.unavailable)}[/]"
        out.print(f"[bold]{c.cloud}[/]: credentials {credentials}")
        for e in c.endpoints:
            colour = "green" if e.answers else "red"
            out.print(f"  {escape(e.name)} {escape(e.url)}: [{colour}]{escape(e.detail)}[/]")
    writable = "" if report.cache_writable else " [red](not writable)[/]"
    out.print(f"[bold]cache[/]: {escape(report.cache_dir)}{writable}")
    if report.live_catalog is None:
        out.print("  no live catalog yet (`cloudorch catalog refresh` writes one)")
    else:
        out.print(f"  live catalog {escape(report.live_catalog)}")
        for p in report.parts:
            stale = " [yellow](stale)[/]" if p.stale else ""
            out.print(f"  {p.cloud} {p.source}: fetched {ago(p.age_seconds)}{stale}")
    pulumi = escape(report.pulumi) if report.pulumi else f"{bad} not on PATH"
    out.print(f"[bold]pulumi[/]: {pulumi}")
    journal = escape(report.journal) + (f" [red]({escape(report.journal_problem)})[/]" if report.journal_problem else "")
    out.print(f"[bold]journal[/]: {journal}")
    if report.problems:
        app.err.print(f"[red]{len(report.problems)} problem(s)[/]:")
        for line in report.problems:
            app.err.print(f"  {escape(line)}")


register(commands, "doctor", doctor)
