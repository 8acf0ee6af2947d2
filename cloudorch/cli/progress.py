"""Engine progress for people (a live table on a TTY, one line per step elsewhere) and for CI (JSON lines)."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from rich.live import Live
from rich.markup import escape
from rich.table import Table

from cloudorch.engine import json_line

_STYLE = {"done": "green", "failed": "red", "running": "yellow", "planned": "dim"}


@contextmanager
def progress_callback(app, title: str):
    """Yields the ``on_event(event, progress)`` callback the engine calls for each event."""
    if app.json:
        def on_json(event, progress) -> None:
            sys.stdout.write(json_line(event) + "\n")
            sys.stdout.flush()

        yield on_json
        return
    if not app.live:
        def on_line(event, progress) -> None:
            if event.kind in ("resource-done", "resource-failed") and event.op not in ("same", None):
                where = event.stack_resource or "-"
                app.err.print(f"{event.status or '':7} {event.op:8} {event.name} ({where}) {event.elapsed_s or 0:.1f}s")
            elif event.kind == "diagnostic" and event.severity in ("error", "warning"):
                app.err.print(escape(f"{event.severity}: {event.message}"))  # not markup: `[secret]` would vanish

        yield on_line
        return
    with Live(console=app.err, refresh_per_second=4, transient=False) as live:
        def on_live(event, progress) -> None:
            live.update(_table(title, progress))

        yield on_live


def _table(title: str, progress):
    table = Table(title=title, title_justify="left")
    for column in ("resource", "stack resource", "type", "op", "status", "elapsed"):
        table.add_column(column, justify="right" if column == "elapsed" else "left")
    now = progress.now()
    for row in progress.rows:
        if row.op == "same":
            continue
        table.add_row(row.name, row.stack_resource or "-", row.type, row.op,
                      f"[{_STYLE.get(row.status, '')}]{row.status}[/]", f"{row.elapsed(now):.1f}s")
    return table


def render_result(app, result) -> None:
    if app.json:
        app.emit_json({"result": result.to_dict()})
        return
    summary = ", ".join(f"{op} {n}" for op, n in sorted(result.summary.items())) or "no changes"
    app.out.print(f"[bold]{result.operation}[/] of {result.stack}: {summary} ({result.duration_s:.1f}s)")
    for change in result.changed:
        diff = f" [{', '.join(change.diff)}]" if change.diff else ""
        app.out.print(escape(f"  {change.op:8} {change.stack_resource or '-'}: {change.name} ({change.type}){diff}"))


@contextmanager
def refresh_progress(app, statuses: tuple[str, ...] = ("fetched", "fresh", "skipped", "failed")):
    """Yields the callback a catalog refresh calls with each ``RefreshEvent``: a progress bar per cloud on a
    terminal someone watches (``app.live``), one line per source elsewhere (only the ``statuses`` given: a
    plan's top-up says what it fetched, not what was fresh), one JSON event per line with --format json."""
    if app.json:
        def on_json(event) -> None:
            if event.settled:  # the stream CI reads: one object per source, as it ends
                app.emit_json(event.to_dict())

        yield on_json
        return
    if not app.live:
        def on_line(event) -> None:
            if event.status in statuses:
                app.err.print(_refresh_line(event))

        yield on_line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.fields[cloud]:<6}"), BarColumn(bar_width=30), MofNCompleteColumn(),
               TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=app.err, transient=False) as bars:
        tasks: dict[str, object] = {}

        def on_bar(event) -> None:
            if event.cloud not in tasks:
                tasks[event.cloud] = bars.add_task("", total=event.sources or 1, cloud=event.cloud)
            task = tasks[event.cloud]
            if event.status == "started":
                bars.update(task, description=f"reading {escape(event.source)}")
            elif not event.source:  # the cloud as a whole: skipped
                bars.update(task, total=1, completed=1, description=f"[yellow]skipped[/] ({escape(event.detail)})")
            else:
                bars.update(task, advance=1, description=f"{escape(event.source)} {event.status}")
                if event.status == "failed":  # the reason stays on screen above the bars
                    bars.console.print(_refresh_line(event))
                if bars.tasks[task].finished:
                    bars.update(task, description="[green]done[/]")

        yield on_bar


_REFRESH_COLOUR = {"fetched": "green", "fresh": "dim", "skipped": "yellow", "failed": "red"}


def _refresh_line(event) -> str:
    what = f"{event.cloud} {event.source}".strip()
    took = f" in {event.seconds:.1f} s, {event.requests} requests" if event.status == "fetched" else ""
    detail = f": {escape(event.detail)}" if event.detail else ""
    return f"[{_REFRESH_COLOUR.get(event.status, '')}]{event.status}[/] {escape(what)}{took}{detail}"
