"""`cloudorch policy list`: every available policy, with its pack, severity, enforcement and mappings."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from cloudorch.cli.application import Application
from cloudorch.cli.shared import command_group, register
from cloudorch.policy import TRUST_NOTE, available_pack_names, list_policies, load_packs, team_files

commands = command_group()
policy_app = command_group(help="Inspect policy packs.", no_args_is_help=True)
commands.add_typer(policy_app, name="policy")


def list_(
    app: Application,
    pack: str | None = typer.Option(None, "--pack", help="Only the policies of this pack."),
) -> int:
    """List every available policy: pack, severity, enforcement, level (spec/rendered), framework mappings.
    Includes the packs in the config's and --policy-dir directories."""
    packs = load_packs(list(available_pack_names()), policy_dirs=app.session.policy_dirs())
    rows = list_policies(packs, pack=pack)
    files = team_files(packs)
    if files:  # loading imported them: their top-level code ran, in a child process
        app.err.print(f"[dim]note[/]: loaded team policy code from {escape(', '.join(files))}; {escape(TRUST_NOTE)}")
    if app.json:
        app.emit_json({"policies": rows})
        return 0
    table = Table(title=f"{len(rows)} policies", title_justify="left")
    for column in ("id", "packs", "severity", "enforcement", "levels", "frameworks"):
        table.add_column(column)
    for row in rows:
        frameworks = "; ".join(f"{k}: {', '.join(v)}" for k, v in row["frameworks"].items())
        by_pack = row.get("enforcement_by_pack") or {}
        enforcement = row["enforcement"] if pack or len(set(by_pack.values())) <= 1 else \
            ", ".join(f"{level} ({name})" for name, level in sorted(by_pack.items()))
        table.add_row(row["id"], ", ".join(row["packs"]), row["severity"], enforcement,
                      ", ".join(row["levels"]), frameworks)
    app.out.print(table)
    return 0


register(policy_app, "list", list_)
