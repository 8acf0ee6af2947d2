"""`cloudorch validate STACK...`"""

from __future__ import annotations

from pathlib import Path

import typer

from cloudorch.cli.application import Format, use_format


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    stacks: list[Path] = typer.Argument(..., help="Stack files to validate.", show_default=False),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
    catalog: str | None = typer.Option(None, "--catalog", help="SkyPilot catalog directory (regions to accept)."),
) -> int:
    """Check stack files: shape, types, references, clouds and regions. Reports every problem at once."""
    from cloudorch import api

    app = use_format(fmt)
    results = api.validate(stacks, api.Session(api.Options(catalog_dir=catalog)))
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
