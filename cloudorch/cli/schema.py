"""`cloudorch schema`"""

from __future__ import annotations

import json

import typer

from cloudorch.cli.shared import register as add_command


def register(app: typer.Typer) -> None:
    add_command(app, "schema", schema)


def schema() -> int:
    """Print the JSON Schema of the stack file (for editors, e.g. yaml-language-server)."""
    from cloudorch.spec.models import Stack

    document = Stack.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "cloudorch stack"
    typer.echo(json.dumps(document, indent=2, sort_keys=True))
    return 0
