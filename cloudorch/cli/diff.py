"""`cloudorch diff BASE NEW`"""

from __future__ import annotations

from pathlib import Path

import typer

from cloudorch import api
from cloudorch.cli.application import Application
from cloudorch.cli.comparison import MAX_PCT, MAX_USD, QUIET, ComparisonFormat, show
from cloudorch.cli.shared import command_group, register

commands = command_group()


def diff(
    app: Application,
    base: Path = typer.Argument(..., metavar="BASE", show_default=False,
                                help="The plan before: a saved plan (.json, from `plan --out`) or a stack file."),
    new: Path = typer.Argument(..., metavar="NEW", show_default=False,
                               help="The plan after: a saved plan (.json) or a stack file."),
    max_increase_usd: float | None = MAX_USD,
    max_increase_pct: float | None = MAX_PCT,
    quiet_unless_changed: bool = QUIET,
) -> int:
    """Compare two plans: what moves, what is rendered, the monthly cost and the findings. Exit 4 when the
    cost rises past --max-increase-usd or --max-increase-pct; --format markdown is a pull-request comment."""
    with app.status(f"comparing {base} with {new}"):
        result = api.diff(base, new, app.session)
    return show(app, result, max_increase_usd, max_increase_pct, quiet_unless_changed)


register(commands, "diff", diff, formats=ComparisonFormat)
