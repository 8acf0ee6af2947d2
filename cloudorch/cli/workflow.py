"""`cloudorch plan|apply|destroy DIR` (or several stack files): a workflow of stacks.

``plan``, ``apply`` and ``destroy`` hand their run here when given a directory, several files, or any of the
workflow's options; one stack file alone keeps its single-stack command. The work is ``cloudorch.workflow``'s.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape

from cloudorch.cli.application import Application
from cloudorch.errors import UsageError

STACKS = typer.Argument(..., metavar="STACK", show_default=False,
                        help="A stack file, several, or a directory of them (a workflow: see the README).")
REHEARSE = typer.Option(False, "--rehearse", help="Run against a simulated engine (state in .cloudorch/rehearsal/): "
                        "no Pulumi CLI, no credentials, nothing created.")
INJECT = typer.Option(None, "--inject", metavar="FAULT", help="With --rehearse: capacity:CLOUD/REGION/TYPE, "
                      "transient:STACK:N, crash:STEP[:K] or check:NAME (repeatable).")
RESUME = typer.Option(False, "--resume", help="Continue the last unfinished run of this workflow from the journal.")
PARALLEL = typer.Option(None, "--parallel", min=1, max=64, help="Stacks applied at once (default: the workflow "
                        "file's, else 4).")
TARGET = typer.Option(None, "--target", metavar="STACK", help="Only this stack (repeatable); the others are read "
                      "from their state.")
EXCLUDE = typer.Option(None, "--exclude", metavar="STACK", help="Leave this stack out (repeatable).")
NO_FAILOVER = typer.Option(False, "--no-failover", help="Stop at a capacity or quota failure instead of re-placing.")


def is_workflow(paths: list[Path], *given: object) -> bool:
    """Whether the command runs as a workflow: a directory, several files, or a workflow option given."""
    return len(paths) != 1 or paths[0].is_dir() or any(bool(g) for g in given)


def single(paths: list[Path], command: str, *refused: tuple[str, object]) -> Path:
    """The one stack file of a single-stack run; an option only a single stack has is refused for several."""
    for flag, value in refused:
        if value and is_workflow(paths):
            raise UsageError(f"{flag} applies to one stack file", hint=f"run `cloudorch {command} FILE {flag} ...`")
    return paths[0]


def plan(app: Application, paths: list[Path], rehearse: bool, target: list[str] | None,
         exclude: list[str] | None) -> int:
    from cloudorch.workflow import plan_workflow

    with app.status(f"planning {len(paths)} path(s)"):
        planned = plan_workflow(paths, app.session, rehearse=rehearse, targets=tuple(target or ()),
                                excludes=tuple(exclude or ()))
    refusals = [(s, s.result.refusal()) for s in planned.stacks if s.result.refusal() is not None]
    app.warn(f"{s.stack}: {warning}" for s in planned.stacks for warning in s.result.warnings)
    if app.json:
        app.emit_json(planned.to_dict())
    else:
        out = app.out
        out.print(f"workflow [bold]{escape(planned.workflow.name)}[/]: {len(planned.stacks)} stacks; steps: "
                  + escape(" -> ".join(p.label for p in planned.workflow.phases)))
        for stack in planned.stacks:
            cost = stack.result.plan.cost.monthly_usd
            uses = f" (uses {', '.join(stack.uses)})" if stack.uses else ""
            out.print(f"  {escape(stack.stack)}{escape(uses)}: {len(stack.result.plan.resources)} resources, "
                      f"${cost:,.2f}/month")
            for unknown in stack.unknowns:
                out.print(f"    [yellow]unknown[/]: {escape(str(unknown))}")
    for stack, refusal in refusals:
        if not app.json:
            app.err.print(f"[red]{escape(stack.stack)}[/]:")
            app.report_error(refusal)
    return int(refusals[0][1].exit_code) if refusals else 0


def _preflight(app: Application, workflow) -> None:
    """What a single stack's apply looks for before its question (the Pulumi CLI, the secrets, the clouds'
    credentials), for the whole workflow: every stack shares the project's engine settings, and the clouds are
    those the stack files allow (nothing is planned before the question)."""
    from cloudorch import lifecycle
    from cloudorch.spec.loader import load_stack_header

    first = next(iter(workflow.stacks.values()))
    lifecycle.engine_for(app.session.identity(first.name), app.session).preflight()
    clouds: set[str] = set()
    for stack in workflow.stacks.values():
        clouds |= set(load_stack_header(stack.path).clouds or ())
    lifecycle.require_credentials(clouds)


def apply(app: Application, paths: list[Path], *, yes: bool, rehearse: bool, inject: list[str] | None, resume: bool,
          parallel: int | None, target: list[str] | None, exclude: list[str] | None, no_failover: bool,
          destroy: bool = False) -> int:
    from cloudorch.workflow import Faults, RunOptions, apply_workflow, destroy_workflow, load_workflow

    if inject and not rehearse:
        raise UsageError("--inject needs --rehearse", hint="faults are injected into the simulated engine only")
    faults = Faults.parse(inject or ())
    workflow = load_workflow(paths)  # a bad directory is exit 2 before anyone is asked anything
    interactive = sys.stdin.isatty()
    if not yes and not rehearse:
        verb = "destroy" if destroy else "apply"
        if not interactive:
            raise UsageError(f"{verb} needs confirmation", hint=f"pass --yes to {verb} non-interactively")
        _preflight(app, workflow)
        if not typer.confirm(f"{verb.capitalize()} workflow {workflow.name} ({len(workflow.stacks)} stacks: "
                             f"{', '.join(workflow.order())})?", err=True):
            app.err.print(f"not {verb == 'apply' and 'applied' or 'destroyed'}")
            return 0

    def confirm(change) -> bool:
        return typer.confirm(f"{change}\nApply the re-placement?", err=True)

    options = RunOptions(parallel=parallel, rehearse=rehearse, faults=faults, failover=not no_failover, resume=resume,
                         targets=tuple(target or ()), excludes=tuple(exclude or ()),
                         confirm=confirm if interactive and not yes else None, on_event=_reporter(app))
    run = destroy_workflow if destroy else apply_workflow
    result = run(paths, app.session, options)
    if app.json:
        app.emit_json(result.to_dict())
    else:
        what = "rehearsed" if rehearse else ("destroyed" if destroy else "applied")
        app.err.print(f"workflow {escape(result.workflow)} {what} in {result.duration_s:.1f} s "
                      f"(run {result.workflow_id}): " + ", ".join(f"{n} {o.status}" for n, o in result.stacks.items()))
    return 0


def _reporter(app: Application):
    def report(event) -> None:
        if app.json:
            app.emit_json({"event": "workflow", "step": event.step, "status": event.status, "message": event.message})
        elif event.status not in ("planning", "applying"):
            colour = {"failed": "red", "failover": "yellow", "rolled-back": "yellow", "retrying": "yellow",
                      "warning": "yellow"}.get(
                event.status, "green")
            app.err.print(f"[{colour}]{escape(event.step)}[/] {event.status}"
                          + (f": {escape(event.message)}" if event.message else ""))
    return report
