"""`cloudorch graph STACK`"""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from pathlib import Path

import typer

from cloudorch import api
from cloudorch.cli.application import Application
from cloudorch.cli.shared import command_group, register
from cloudorch.report.graph import to_dot, to_mermaid

commands = command_group()


class GraphFormat(str, Enum):
    text = "text"  # the default: Mermaid, which GitHub and GitLab draw in Markdown
    json = "json"
    mermaid = "mermaid"
    dot = "dot"


def graph(
    app: Application,
    stack: Path = typer.Argument(..., metavar="STACK", show_default=False,
                                 help="The stack file, or a saved plan (.json, from `plan --out`)."),
) -> None:
    """Draw a plan: every location with what runs there, and the traffic between them. --format mermaid
    (the default), dot, or json (the graph's content)."""
    with app.status(f"planning {stack}"):
        drawn = api.graph(stack, app.session)
    if app.json:
        typer.echo(json.dumps(dataclasses.asdict(drawn), indent=2))
    else:
        typer.echo(to_dot(drawn) if app.format == GraphFormat.dot.value else to_mermaid(drawn), nl=False)


register(commands, "graph", graph, formats=GraphFormat)
