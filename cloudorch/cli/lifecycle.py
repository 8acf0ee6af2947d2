"""`cloudorch apply | preview | destroy | refresh | drift`: the commands that run Pulumi.

apply and preview place, render and check the stack first; destroy, refresh and drift work from the
stack's state, found by its identity alone (``cloudorch.lifecycle.stack_state``).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import typer

from cloudorch import api, lifecycle
from cloudorch.cli.application import Application
from cloudorch.cli.progress import progress_callback, render_result
from cloudorch.cli.shared import STACK, command_group, register
from cloudorch.errors import ExitCode, UsageError

commands = command_group()

YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
DETAILED = typer.Option(False, "--detailed-exitcode", help="Exit 7 when there are changes (or drift).")


def _confirmed(engine, question, command: str, clouds) -> bool:
    """Ask ``question()`` once the engine has what a run needs: a "yes" must never be answered with "install
    Pulumi", "no passphrase" or "no credentials for aws". With nobody to ask, that is a usage error (2),
    which comes first."""
    if not sys.stdin.isatty():
        raise UsageError(f"{command} needs confirmation", hint=f"pass --yes to {command} non-interactively")
    engine.preflight()
    lifecycle.require_credentials(clouds)
    return typer.confirm(question(), err=True)


def apply(
    app: Application,
    stack: Path = STACK,
    plan: Path | None = typer.Option(None, "--plan", metavar="FILE",
                                     help="Apply exactly this saved plan; refused if anything changed."),
    yes: bool = YES,
) -> int:
    """Apply a stack with Pulumi. Gates first: stale plan (2), mandatory policy (3), budget (4)."""
    session = app.session
    result = lifecycle.gate(stack, session, plan)
    identity = session.identity(result.plan.stack)
    engine = lifecycle.engine_for(identity, session)
    clouds = {r.cloud for r in result.plan.resources}
    if not yes and not _confirmed(engine, lambda: f"{_summary(result.plan)}\nApply {identity}?", "apply", clouds):
        app.err.print("not applied")
        return 0
    # before the engine touches anything: once a network exists, its addresses must never move
    api.record_allocation(result, session)
    with lifecycle.recorded(session, "apply", stack) as record, progress_callback(app, f"apply {identity}") as on_event:
        record.plan(result.plan)
        outcome = engine.apply(result.rendered, on_event=on_event)
        record.result(outcome)
    render_result(app, outcome)
    return 0


def _summary(plan) -> str:
    """What the question to apply shows: resources per cloud, the monthly bill, the policy outcome."""
    per_cloud = Counter(r.cloud for r in plan.resources)
    cost = plan.cost
    budget = f" of a ${cost.budget_monthly_usd:,.2f} budget" if cost.budget_monthly_usd else ""
    summary = plan.policy.get("summary", {})
    # the gate let it through: whatever failed only advises
    named = {"fail": "advisory fail", "error": "advisory error", "waived": "waived", "pass": "pass"}
    policy = ", ".join(f"{summary[s]} {named[s]}" for s in named if summary.get(s))
    return (f"{len(plan.resources)} resources ({', '.join(f'{c} {n}' for c, n in sorted(per_cloud.items()))}), "
            f"${cost.monthly_usd:,.2f}/month{budget}; policy: {policy or 'no policies'}")


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
    if question and not _confirmed(state.engine, lambda: question.format(state.identity), operation,
                                   state.clouds):
        return 0
    with (lifecycle.recorded_operation(app.session, operation, stack, state.identity.stack) as record,
          progress_callback(app, f"{operation} {state.identity}") as on_event):
        outcome = getattr(state.engine, operation)(plugins=state.plugins, on_event=on_event)
        record.result(outcome)
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
