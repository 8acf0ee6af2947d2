"""`cloudorch outputs | unlock`: read and repair a stack's state, found by the stack's identity alone."""

from __future__ import annotations

from pathlib import Path

import typer

from cloudorch.cli.application import Format, use_format


def register(app: typer.Typer) -> None:
    app.command("outputs")(outputs)
    app.command("unlock")(unlock)


def _engine(stack: Path, config: str | None):
    from cloudorch import api, lifecycle

    return lifecycle.stack_state(stack, api.Session(api.Options(config_path=config))).engine


def outputs(stack: Path = typer.Argument(..., help="The stack file.", show_default=False),
            fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
            config: str | None = typer.Option(None, "--config", help="Config file.")) -> int:
    """Print the stack's outputs (secret values masked)."""
    app = use_format(fmt)
    values = _engine(stack, config).outputs()
    if app.json:
        app.emit_json({"outputs": values})
    else:
        for key, value in sorted(values.items()):
            app.out.print(f"{key} = {value}")
    return 0


def unlock(stack: Path = typer.Argument(..., help="The stack file.", show_default=False),
           fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
           config: str | None = typer.Option(None, "--config", help="Config file.")) -> int:
    """Clear a stale lock left by an interrupted apply."""
    app = use_format(fmt)
    result = _engine(stack, config).unlock()
    cleared = result.cleared
    if app.json:
        held = None if cleared is None else {"user": cleared.user, "host": cleared.host, "pid": cleared.pid,
                                             "since": cleared.since, "operation": cleared.operation}
        app.emit_json({"cleared": held, "backend": result.backend})
    elif cleared is None:
        app.out.print(f"no local lock was held; backend: {result.backend}")
    else:
        app.out.print(f"cleared the lock held by {cleared.user}@{cleared.host} (pid {cleared.pid}, "
                      f"{cleared.operation} since {cleared.since}); backend: {result.backend}")
    return 0
