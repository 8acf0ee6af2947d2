"""`cloudorch apply | preview | destroy | refresh | drift`: the commands that run Pulumi.

apply and preview place, render and check the stack first; destroy, refresh and drift work from the
stack's state, found by its identity alone (``cloudorch.lifecycle.stack_state``).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import typer

from cloudorch import api, lifecycle
from cloudorch.cli import workflow
from cloudorch.cli.application import Application
from cloudorch.cli.progress import progress_callback, render_result
from cloudorch.cli.shared import STACK, command_group, register
from cloudorch.errors import ExitCode, UsageError

commands = command_group()

YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
DETAILED = typer.Option(False, "--detailed-exitcode", help="Exit 7 when there are changes (or drift).")


def _confirmed(engine, command: str, ask: Callable[[], tuple[Iterable[str], str]]) -> bool:
    """Ask the question ``ask()`` returns (with the clouds the run touches) once the engine has what a run
    needs: a "yes" must never be answered with "install Pulumi", "no passphrase" or "no credentials for aws".
    With nobody to ask, that is a usage error (2), which comes first."""
    if not sys.stdin.isatty():
        raise UsageError(f"{command} needs confirmation", hint=f"pass --yes to {command} non-interactively")
    engine.preflight()
    clouds, question = ask()
    lifecycle.require_credentials(clouds)
    return typer.confirm(question, err=True)


def apply(
    app: Application,
    stacks: list[Path] = workflow.STACKS,
    plan: Path | None = typer.Option(None, "--plan", metavar="FILE",
                                     help="Apply exactly this saved plan; refused if anything changed."),
    yes: bool = YES,
    rehearse: bool = workflow.REHEARSE,
    inject: list[str] | None = workflow.INJECT,
    resume: bool = workflow.RESUME,
    parallel: int | None = workflow.PARALLEL,
    target: list[str] | None = workflow.TARGET,
    exclude: list[str] | None = workflow.EXCLUDE,
    no_failover: bool = workflow.NO_FAILOVER,
) -> int:
    """Apply a stack with Pulumi. Gates first: stale plan (2), mandatory policy (3), budget (4).

    A directory or several stack files are applied as one workflow, in the order their `uses` give."""
    stack = workflow.single(stacks, "apply", ("--plan", plan))
    if workflow.is_workflow(stacks, rehearse, inject, resume, parallel, target, exclude, no_failover):
        return workflow.apply(app, stacks, yes=yes, rehearse=rehearse, inject=inject, resume=resume, parallel=parallel,
                              target=target, exclude=exclude, no_failover=no_failover)
    session = app.session
    result = lifecycle.gate(stack, session, plan)
    app.warn(result.warnings)  # before the question: a moving block replaces networks
    identity = session.identity(result.plan.stack)
    engine = lifecycle.engine_for(identity, session)
    clouds = {r.cloud for r in result.plan.resources}
    if not yes and not _confirmed(engine, "apply", lambda: (clouds, f"{_summary(result.plan)}\nApply {identity}?")):
        app.err.print("not applied")
        return 0
    with lifecycle.recorded(session, "apply", stack) as record, progress_callback(app, f"apply {identity}") as on_event:
        record.plan(result.plan)
        # with --yes nothing asked for the Pulumi CLI and the passphrase yet: an apply that cannot start leaves
        # the addresses unrecorded, as a "no" does
        engine.preflight()
        # before the engine touches anything: once a network exists, its addresses must never move
        api.record_allocation(result, session)
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
    app.warn(result.warnings)
    identity = session.identity(result.plan.stack)
    engine = lifecycle.engine_for(identity, session)
    with progress_callback(app, f"preview {identity}") as on_event:
        outcome = engine.preview(result.rendered, on_event=on_event)
    render_result(app, outcome)
    return int(ExitCode.CHANGES_PENDING) if detailed_exitcode and outcome.has_changes else 0


def _from_state(app: Application, operation: str, stack: Path, detailed: bool = False, confirm: bool = False) -> int:
    """Run a state operation; with ``confirm``, only once someone said yes to what it will touch."""
    state = lifecycle.stack_state(stack, app.session)
    if confirm and not _confirmed(state.engine, operation, lambda: _state_question(state, operation)):
        return 0
    with (lifecycle.recorded_operation(app.session, operation, stack, state.identity.stack) as record,
          progress_callback(app, f"{operation} {state.identity}") as on_event):
        outcome = getattr(state.engine, operation)(plugins=state.plugins, on_event=on_event)
        record.result(outcome)
    render_result(app, outcome)
    return int(ExitCode.CHANGES_PENDING) if detailed and outcome.has_changes else 0


def destroy(app: Application, stacks: list[Path] = workflow.STACKS, yes: bool = YES,
            rehearse: bool = workflow.REHEARSE, parallel: int | None = workflow.PARALLEL,
            target: list[str] | None = workflow.TARGET, exclude: list[str] | None = workflow.EXCLUDE) -> int:
    """Delete every resource of the stack (from its state: nothing is placed, rendered or checked).

    A directory or several stack files are destroyed as one workflow, each stack after those that use it."""
    if workflow.is_workflow(stacks, rehearse, parallel, target, exclude):
        return workflow.apply(app, stacks, yes=yes, rehearse=rehearse, inject=None, resume=False, parallel=parallel,
                              target=target, exclude=exclude, no_failover=False, destroy=True)
    return _from_state(app, "destroy", stacks[0], confirm=not yes)


def _state_question(state, operation: str) -> tuple[list[str], str]:
    """What the stack's state holds, per cloud, and the question; the clouds are those of the state (those
    the stack file allows when the state is empty)."""
    per_cloud = lifecycle.clouds_of_types(state.engine.resource_types())
    held = (f"its state holds {sum(per_cloud.values())} resources "
            f"({', '.join(f'{c} {n}' for c, n in sorted(per_cloud.items()))})" if per_cloud
            else "its state holds no resources")
    clouds = [c for c in per_cloud if c != "other"] or list(state.clouds)
    return clouds, f"{state.identity}: {held}\n{operation.capitalize()} every resource of {state.identity}?"


def refresh(app: Application, stack: Path = STACK) -> int:
    """Update Pulumi's state from what actually exists in the clouds."""
    return _from_state(app, "refresh", stack)


def drift(app: Application, stack: Path = STACK, detailed_exitcode: bool = DETAILED) -> int:
    """Report what drifted from the state (a refresh in preview mode); exit 7 with --detailed-exitcode."""
    return _from_state(app, "drift", stack, detailed_exitcode)


for command in (apply, preview, destroy, refresh, drift):
    register(commands, command.__name__, command)
