"""`cloudorch validate STACK...`"""

from __future__ import annotations

from pathlib import Path

import typer

from cloudorch import api
from cloudorch.cli.application import Application
from cloudorch.cli.shared import command_group, register

commands = command_group()


def validate(
    app: Application,
    stacks: list[Path] = typer.Argument(..., metavar="STACK", help="Stack files to validate.",
                                                show_default=False),
) -> int:
    """Check stack files: shape, types, references, clouds and regions. Reports every problem at once."""
    results = api.validate(stacks, app.session)
    if app.json:
        app.emit_json({"valid": True, "stacks": [
            {"file": r.file, "stack": r.stack, "resources": r.resources,
             "edges": [{"source": e.source, "target": e.target, "field": e.field} for e in r.graph.edges]}
            for r in results
        ]})
    else:
        for r in results:
            app.out.print(f"[green]ok[/] {r.file}: stack {r.stack!r}, {len(r.resources)} resources")
    return 0


register(commands, "validate", validate)
