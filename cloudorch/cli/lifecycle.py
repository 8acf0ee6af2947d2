"""`cloudorch apply | preview | destroy | refresh | drift`: the commands that run Pulumi.

apply and preview place, render and check the stack first; destroy, refresh and drift work from the
stack's state, found by its identity alone (``cloudorch.lifecycle.stack_state``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cloudorch.cli.application import Format, use_format
from cloudorch.errors import ExitCode, UsageError

STACK = typer.Argument(..., help="The stack file.", show_default=False)
FORMAT = typer.Option(Format.text, "--format", "-f", help="text: live progress; json: one JSON event per line.")
CONFIG = typer.Option(None, "--config", help="Config file (default: ./cloudorch.toml).")
CATALOG = typer.Option(None, "--catalog", help="SkyPilot catalog directory (<cloud>/vms.csv).")
DETAILED = typer.Option(False, "--detailed-exitcode", help="Exit 7 when there are changes (or drift).")


def register(app: typer.Typer) -> None:
    for command in (apply, preview, destroy, refresh, drift):
        app.command(command.__name__)(command)


def _session(config: str | None, catalog: str | None):
    from cloudorch import api

    return api.Session(api.Options(config_path=config, catalog_dir=catalog))


def apply(
    stack: Path = STACK,
    plan: Path | None = typer.Option(None, "--plan", help="Apply exactly this saved plan; refused if anything changed."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    fmt: Format = FORMAT,
    config: str | None = CONFIG,
    catalog: str | None = CATALOG,
) -> int:
    """Apply a stack with Pulumi. Gates first: stale plan (2), mandatory policy (3), budget (4)."""
    from cloudorch import lifecycle
    from cloudorch.cli.progress import progress_callback, render_result

    app = use_format(fmt)
    session = _session(config, catalog)
    result = lifecycle.gate(stack, session, plan)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("apply needs confirmation", hint="pass --yes to apply non-interactively")
        total = result.plan.cost.monthly_usd
        if not typer.confirm(f"Apply {len(result.rendered)} resources of {result.plan.stack} "
                             f"(${total:,.2f}/month)?", err=True):
            app.err.print("not applied")
            return 0
    engine = lifecycle.engine_for(session.identity(result.plan.stack), session)
    with progress_callback(app, f"apply {result.plan.stack}") as on_event:
        outcome = engine.apply(result.rendered, on_event=on_event)
    render_result(app, outcome)
    return 0


def preview(stack: Path = STACK, fmt: Format = FORMAT, detailed_exitcode: bool = DETAILED,
            config: str | None = CONFIG, catalog: str | None = CATALOG) -> int:
    """Show what apply would change, per resource, in the stack's own terms."""
    from cloudorch import api, lifecycle
    from cloudorch.cli.progress import progress_callback, render_result

    app = use_format(fmt)
    session = _session(config, catalog)
    result = api.plan(stack, session)
    engine = lifecycle.engine_for(session.identity(result.plan.stack), session)
    with progress_callback(app, f"preview {result.plan.stack}") as on_event:
        outcome = engine.preview(result.rendered, on_event=on_event)
    render_result(app, outcome)
    return int(ExitCode.CHANGES_PENDING) if detailed_exitcode and outcome.has_changes else 0


def _from_state(operation: str, stack: Path, fmt: Format, config: str | None, catalog: str | None,
                detailed: bool = False) -> int:
    from cloudorch import lifecycle
    from cloudorch.cli.progress import progress_callback, render_result

    app = use_format(fmt)
    state = lifecycle.stack_state(stack, _session(config, catalog))
    with progress_callback(app, f"{operation} {state.identity}") as on_event:
        outcome = getattr(state.engine, operation)(plugins=state.plugins, on_event=on_event)
    render_result(app, outcome)
    return int(ExitCode.CHANGES_PENDING) if detailed and outcome.has_changes else 0


def destroy(stack: Path = STACK, yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
            fmt: Format = FORMAT, config: str | None = CONFIG, catalog: str | None = CATALOG) -> int:
    """Delete every resource of the stack (from its state: nothing is placed, rendered or checked)."""
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("destroy needs confirmation", hint="pass --yes to destroy non-interactively")
        if not typer.confirm(f"Destroy every resource of {stack}?", err=True):
            return 0
    return _from_state("destroy", stack, fmt, config, catalog)


def refresh(stack: Path = STACK, fmt: Format = FORMAT, config: str | None = CONFIG, catalog: str | None = CATALOG) -> int:
    """Update Pulumi's state from what actually exists in the clouds."""
    return _from_state("refresh", stack, fmt, config, catalog)


def drift(stack: Path = STACK, fmt: Format = FORMAT, detailed_exitcode: bool = DETAILED,
          config: str | None = CONFIG, catalog: str | None = CATALOG) -> int:
    """Report what drifted from the state (a refresh in preview mode); exit 7 with --detailed-exitcode."""
    return _from_state("drift", stack, fmt, config, catalog, detailed_exitcode)
