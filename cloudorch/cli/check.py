"""`cloudorch check STACK...`: the policy check for terminals and pull requests."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from cloudorch.cli.application import use_format
from cloudorch.errors import ExitCode


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"
    markdown = "markdown"


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    stacks: list[Path] = typer.Argument(..., help="Stack files to check.", show_default=False),
    fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="Report format."),
    baseline: Path | None = typer.Option(None, "--baseline", help="Report only failures not recorded in this baseline."),
    write_baseline: Path | None = typer.Option(None, "--write-baseline", help="Record today's failures as the baseline."),
    policy_dir: list[str] = typer.Option([], "--policy-dir", help="Extra directory of policy packs (repeatable)."),
    catalog: str | None = typer.Option(None, "--catalog", help="SkyPilot catalog directory (<cloud>/vms.csv)."),
    config: str | None = typer.Option(None, "--config", help="Config file (default: ./cloudorch.toml)."),
) -> int:
    """Check stacks against their policy packs, on the spec and on every cloud's rendering. Exit 3 when a
    mandatory policy fails."""
    from cloudorch import api
    from cloudorch import policy as pol

    app = use_format("json" if fmt is CheckFormat.json else "text")
    session = api.Session(api.Options(catalog_dir=catalog, config_path=config, policy_dirs=tuple(policy_dir)))
    reports = []
    for stack in stacks:
        with app.status(f"checking {stack}"):
            reports.append(api.plan(stack, session).report)
    if write_baseline is not None:
        recorded = pol.write_baseline(write_baseline, reports)
        app.err.print(f"baseline of {recorded} failure(s) written to {write_baseline}")
    if baseline is not None:
        reports = pol.apply_baseline(reports, pol.read_baseline(baseline))
    root = Path.cwd()
    if fmt is CheckFormat.sarif:
        typer.echo(json.dumps(pol.to_sarif(reports, root=root), indent=2))
    elif fmt is CheckFormat.json:
        typer.echo(json.dumps(pol.to_json(reports), indent=2))
    elif fmt is CheckFormat.junit:
        typer.echo(pol.to_junit(reports), nl=False)
    elif fmt is CheckFormat.github:
        typer.echo(pol.to_github(reports, root=root), nl=False)
    elif fmt is CheckFormat.markdown:
        typer.echo(pol.to_markdown(reports), nl=False)
    else:
        typer.echo(pol.to_text(reports), nl=False)
    return int(ExitCode.POLICY_BLOCKED) if any(r.blocking for r in reports) else 0
