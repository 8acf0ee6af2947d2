"""`cloudorch catalog refresh|show|age|clear`: the live catalog that discovery reads from the clouds' accounts."""

from __future__ import annotations

import typer
from rich.markup import escape

from cloudorch import api
from cloudorch.cli.application import Application
from cloudorch.cli.progress import refresh_progress
from cloudorch.cli.shared import command_group, register

commands = command_group()
catalog_app = command_group(help="Refresh and inspect the live catalog read from the clouds' accounts.",
                            no_args_is_help=True)
commands.add_typer(catalog_app, name="catalog")


def refresh(
    app: Application,
    cloud: list[str] = typer.Option([], "--cloud", metavar="CLOUD", help="Only this cloud (repeatable; default: all)."),
    regions: str = typer.Option("", "--regions", metavar="R1,R2", help="Only these regions (comma-separated; default: "
                                "each cloud's regions in the embedded catalog)."),
    stale_only: bool = typer.Option(False, "--stale-only", help="Fetch only the sources older than their TTL."),
) -> int:
    """Read machine types, zones, prices and vCPU quotas from each cloud's account and rewrite the live catalog.
    A cloud without credentials is skipped with the reason. The previous catalog stays whole until the new
    one is complete."""
    wanted = [r.strip() for r in regions.split(",") if r.strip()]
    with refresh_progress(app) as progress:
        result = api.refresh_catalog(app.session, cloud, wanted, stale_only=stale_only, progress=progress)
    if app.json:
        app.emit_json({"event": "catalog.written", "directory": str(result.directory), "requests": result.requests,
                       "skipped": dict(result.skipped)})
    else:
        app.err.print(f"live catalog written to {escape(str(result.directory))} ({result.requests} requests)")
    return 0


def show(app: Application) -> int:
    """Show what the live catalog holds: per cloud and source, when it was fetched, whether stale, what is missing."""
    status = api.catalog_status()
    if app.json:
        app.emit_json(status)
        return 0
    if not status["exists"]:
        app.out.print(f"no live catalog yet in {escape(status['directory'])} (run `cloudorch catalog refresh`)")
        return 0
    from cloudorch.catalog.refresh import ago

    app.out.print(f"[bold]live catalog[/] {escape(status['directory'])}")
    for cloud, sources in sorted(status["clouds"].items()):
        for source, info in sorted(sources.items()):
            stale = " [yellow](stale)[/]" if info["stale"] else ""
            regions = ", ".join(info["regions"]) or "all regions"
            app.out.print(f"  {cloud} {source}: fetched {ago(info['age_seconds'])}{stale}, {escape(regions)}")
            for gap in info["missing"]:
                app.out.print(f"    [yellow]missing[/] {escape(gap)}")
    for cloud, reason in sorted(status["skipped"].items()):
        app.out.print(f"  {cloud}: [yellow]skipped[/] ({escape(reason)})")
    return 0


def age(app: Application) -> int:
    """Print the age of each part of the live catalog; exit 2 when there is none."""
    status = api.catalog_status()
    rows = [{"cloud": c, "source": s, "age_seconds": i["age_seconds"], "ttl": i["ttl"], "stale": i["stale"]}
            for c, sources in sorted(status["clouds"].items()) for s, i in sorted(sources.items())]
    if app.json:
        app.emit_json({"directory": status["directory"], "parts": rows})
    else:
        for row in rows:
            app.out.print(f"{row['cloud']} {row['source']} {row['age_seconds']:.0f} s (ttl {row['ttl']} s)"
                          + (" stale" if row["stale"] else ""))
    if not status["exists"]:
        from cloudorch.errors import UsageError

        raise UsageError("there is no live catalog yet", hint="run `cloudorch catalog refresh`")
    return 0


def clear(app: Application) -> int:
    """Forget everything discovery cached and the live catalog written from it."""
    removed = api.clear_catalog()
    if app.json:
        app.emit_json({"event": "catalog.cleared", "entries": removed})
    else:
        app.err.print(f"cleared {removed} cached source(s) and the live catalog")
    return 0


register(catalog_app, "refresh", refresh)
register(catalog_app, "show", show)
register(catalog_app, "age", age)
register(catalog_app, "clear", clear)
