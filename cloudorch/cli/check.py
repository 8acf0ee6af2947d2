"""`cloudorch check STACK...`: the policy check for terminals and pull requests."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from cloudorch import api
from cloudorch import policy as pol
from cloudorch.cli.application import Application
from cloudorch.cli.findings import render_reports
from cloudorch.cli.shared import command_group, register
from cloudorch.errors import CloudorchError, ExitCode

commands = command_group()


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"
    markdown = "markdown"


def check(
    app: Application,
    stacks: list[Path] = typer.Argument(..., metavar="STACK", help="Stack files to check.",
                                                show_default=False),
    baseline: Path | None = typer.Option(None, "--baseline", metavar="FILE", help="Report only failures not recorded in this baseline."),
    write_baseline: Path | None = typer.Option(None, "--write-baseline", metavar="FILE",
                                                 help="Record today's failures as the baseline."),
) -> int:
    """Check stacks against their policy packs, on the spec and on every cloud's rendering. Exit 3 when a
    mandatory policy fails. --format also takes sarif, junit, github and markdown."""
    fmt = CheckFormat(app.format)
    session = app.session
    reports, refusals, failures = [], [], []
    for stack in stacks:
        # one broken stack must not hide the others' reports: note its error, go on, exit with the worst
        try:
            with app.status(f"checking {stack}"):
                result = api.plan(stack, session)
        except CloudorchError as exc:
            failures.append((str(stack), exc))
            if not app.json:
                app.report_error(exc)
            continue
        reports.append(result.report)
        if result.over_budget is not None:
            refusals.append((str(stack), result.over_budget))
    if write_baseline is not None:
        recorded = pol.write_baseline(write_baseline, reports)
        app.err.print(f"baseline of {recorded} failure(s) written to {write_baseline}")
    # A baseline hides known findings from the report, but not from the exit code: a mandatory failure
    # blocks `apply` whether or not it is old news, and `check` must agree with `apply`.
    blocking = sum(len(r.blocking) for r in reports)
    if baseline is not None:
        reports = pol.apply_baseline(reports, pol.read_baseline(baseline))
    codes = [int(e.exit_code) for _, e in failures]
    if blocking:
        codes.append(int(ExitCode.POLICY_BLOCKED))
    codes += [int(refusal.exit_code) for _, refusal in refusals]
    # the most basic problem wins: invalid input (2) before policy (3), budget (4), placement (5)
    code = min((c for c in codes if c), default=0)
    root = Path.cwd()
    if fmt is CheckFormat.sarif:
        document = pol.to_sarif(reports, root=root, failures=failures, refusals=refusals, exit_code=code)
        typer.echo(json.dumps(document, indent=2))
    elif fmt is CheckFormat.json:
        document = pol.to_json(reports)
        document["errors"] = [e.to_dict() | {"exit_code": int(e.exit_code)}
                              for _, e in [*failures, *refusals]]
        typer.echo(json.dumps(document, indent=2))
    elif fmt is CheckFormat.junit:
        typer.echo(pol.to_junit(reports), nl=False)
    elif fmt is CheckFormat.github:
        typer.echo(pol.to_github(reports, root=root), nl=False)
    elif fmt is CheckFormat.markdown:
        typer.echo(pol.to_markdown(reports), nl=False)
    else:
        render_reports(app.out, reports)
    if blocking and not any(r.blocking for r in reports):
        app.err.print(f"{blocking} mandatory finding(s) recorded in the baseline still block apply")
    _say_team_code_ran(app, sorted({file for r in reports for file in r.team_code}))
    for _, refusal in refusals:
        if not app.json:
            app.report_error(refusal)
    return code


def _say_team_code_ran(app: Application, files: list[str]) -> None:
    """Policy code from a directory is the team's own code, run with the user's rights: say so every time."""
    if not files:
        return
    from rich.markup import escape

    shown = ", ".join(_shown(f) for f in files)
    app.err.print(f"[dim]note[/]: ran team policy code from {escape(shown)}; {escape(pol.TRUST_NOTE)}")


def _shown(file: str) -> str:
    path = Path(file)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return file


register(commands, "check", check, formats=CheckFormat)
