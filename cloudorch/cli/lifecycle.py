"""`cloudorch apply | preview | destroy | refresh | drift`: the commands that run Pulumi.

apply and preview place, render and check the stack first; destroy, refresh and drift work from the
stack's state, found by its identity alone (``cloudorch.lifecycle.stack_state``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cloudorch import api, lifecycle
from cloudorch.cli.application import Application
from cloudorch.cli.progress import progress_callback, render_result
from cloudorch.cli.shared import command_group, register
from cloudorch.errors import ExitCode, UsageError

commands = command_group()

STACK = typer.Argument(..., help="The stack file.", show_default=False)
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
DETAILED = typer.Option(False, "--detailed-exitcode", help="Exit 7 when there are changes (or drift).")


def _confirm(question: str, command: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError(f"{command} needs confirmation", hint=f"pass --yes to {command} non-interactively")
    return typer.confirm(question, err=True)


def apply(
    app: Application,
    stack: Path = STACK,
    plan: Path | None = typer.Option(None, "--plan", help="Apply exactly this saved plan; refused if anything changed."),
    yes: bool = YES,
) -> int:
    """Apply a stack with Pulumi. Gates first: stale plan (2), mandatory policy (3), budget (4)."""
    session = app.session
    result = lifecycle.gate(stack, session, plan)
    identity = session.identity(result.plan.stack)
    total = result.plan.cost.monthly_usd
    if not yes and not _confirm(f"Apply {len(result.rendered)} resources of {identity} (${total:,.2f}/month)?", "apply"):
        app.err.print("not applied")
        return 0
    engine = lifecycle.engine_for(identity, session)
    # before the engine touches anything: once a network exists, its addresses must never move
    api.record_allocation(result, session)
    with progress_callback(app, f"apply {identity}") as on_event:
        outcome = engine.apply(result.rendered, on_event=on_event)
    render_result(app, outcome)
    return 0


def preview(app: Application, stack: Path = STACK, detailed_exitcode: bool = DETAILED) -> int:
    """Show what apply would change, per resource, in the stack's own terms."""
    session = app.session
    result = api.plan(stack, session)
    identity = session.identity(result.plan.stack)
    engine = lifecycle.engine_for(identity, session)
    with progress_callback(app, f"preview {identity}") as on_event:
        outcome = engine.preview(result.rendered, on_event=on_event)
    render_result(app, outcome)
    return int(ExitCode.CHANGES_PENDING) if detailed_exitcode and outcome.has_changes else 0


def _from_state(app: Application, operation: str, stack: Path, detailed: bool = False,
                question: str | None = None) -> int:
    """Run a state operation; ``question`` (about the stack's identity, ``{}``) is asked first if given."""
    state = lifecycle.stack_state(stack, app.session)
    if question and not _confirm(question.format(state.identity), operation):
        return 0
    with progress_callback(app, f"{operation} {state.identity}") as on_event:
        outcome = getattr(state.engine, operation)(plugins=state.plugins, on_event=on_event)
    render_result(app, outcome)
    return int(ExitCode.CHANGES_PENDING) if detailed and outcome.has_changes else 0


def destroy(app: Application, stack: Path = STACK, yes: bool = YES) -> int:
    """Delete every resource of the stack (from its state: nothing is placed, rendered or checked)."""
    return _from_state(app, "destroy", stack, question=None if yes else "Destroy every resource of {}?")


def refresh(app: Application, stack: Path = STACK) -> int:
    """Update Pulumi's state from what actually exists in the clouds."""
    return _from_state(app, "refresh", stack)


def drift(app: Application, stack: Path = STACK, detailed_exitcode: bool = DETAILED) -> int:
    """Report what drifted from the state (a refresh in preview mode); exit 7 with --detailed-exitcode."""
    return _from_state(app, "drift", stack, detailed_exitcode)


for command in (apply, preview, destroy, refresh, drift):
    register(commands, command.__name__, command)
