"""`cloudorch report STACK --html FILE`"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cloudorch import api
from cloudorch.cli.application import Application
from cloudorch.cli.shared import command_group, register, write_file
from cloudorch.errors import UsageError

commands = command_group()


def report(
    app: Application,
    stack: Path = typer.Argument(..., metavar="STACK", show_default=False,
                                 help="The stack file, or a saved plan (.json, from `plan --out`)."),
    html: Path | None = typer.Option(None, "--html", metavar="FILE", show_default=False,
                                     help="Write the report to this file: one web page, nothing fetched."),
    compare_to: Path | None = typer.Option(None, "--compare-to", metavar="BASE", show_default=False,
                                           help="Also show what changed since BASE (a saved plan or a stack file)."),
) -> None:
    """Write a plan as a web page: its locations, links, cost and findings, and what changed since --compare-to.
    The page is one self-contained file (CI can keep it as an artifact); --format json prints its name and size."""
    # an option rather than an argument so that other report formats can join it; required all the same
    if html is None:
        raise UsageError("report needs --html FILE", hint="e.g. cloudorch report stack.yaml --html plan.html")
    with app.status(f"reporting on {stack}"):
        page = api.html_report(stack, app.session, compare_to=compare_to).encode("utf-8")
    write_file(html, page, "report", "--html", "plan.html")
    if app.json:
        typer.echo(json.dumps({"html": str(html), "bytes": len(page)}))
    else:
        app.out.print(f"wrote {html} ({len(page):,} bytes)", markup=False, highlight=False)


register(commands, "report", report)
