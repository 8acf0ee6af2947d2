"""`cloudorch schema`"""

from __future__ import annotations

import json

import typer

from cloudorch.cli.shared import command_group, register
from cloudorch.spec.models import Stack

commands = command_group()


def schema() -> int:
    """Print the JSON Schema of the stack file, for editors such as yaml-language-server."""
    document = Stack.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "cloudorch stack"
    typer.echo(json.dumps(document, indent=2, sort_keys=True))
    return 0


register(commands, "schema", schema)
