"""`cloudorch policy list`: every available policy, with its pack, severity, enforcement and mappings."""

from __future__ import annotations

import typer
from rich.markup import escape

from cloudorch.cli.application import Application
from cloudorch.cli.layout import table_or_lines
from cloudorch.cli.shared import command_group, register
from cloudorch.policy import TRUST_NOTE, available_pack_names, list_policies, load_packs, team_files

commands = command_group()
#: what `enforcement_for` decides, in words; a stack's `policies.enforcement` or cloudorch.toml overrides it
DEFAULT_ENFORCEMENT = ("a policy that sets none follows its severity (low: advisory; medium and above: mandatory); "
                       "its pack, the stack's policies.enforcement or cloudorch.toml [enforcement] can say otherwise")
policy_app = command_group(help="Inspect policy packs.", no_args_is_help=True)
commands.add_typer(policy_app, name="policy")


def list_(
    app: Application,
    pack: str | None = typer.Option(None, "--pack", metavar="NAME", help="Only the policies of this pack."),
) -> int:
    """List every available policy: pack, severity, enforcement, level (spec/rendered), framework mappings.
    Includes the packs in the config's and --policy-dir directories. Enforcement follows severity (low:
    advisory; medium and above: mandatory) unless the policy, its pack, the stack or the config sets it."""
    packs = load_packs(list(available_pack_names()), policy_dirs=app.session.policy_dirs())
    rows = list_policies(packs, pack=pack)
    files = team_files(packs)
    if files:  # loading imported them: their top-level code ran, in a child process
        app.err.print(f"[dim]note[/]: loaded team policy code from {escape(', '.join(files))}; {escape(TRUST_NOTE)}")
    if app.json:
        app.emit_json({"policies": rows})
        return 0
    cells = []
    for row in rows:
        frameworks = "; ".join(f"{k}: {', '.join(v)}" for k, v in row["frameworks"].items())
        by_pack = row.get("enforcement_by_pack") or {}
        enforcement = row["enforcement"] if pack or len(set(by_pack.values())) <= 1 else \
            ", ".join(f"{level} ({name})" for name, level in sorted(by_pack.items()))
        cells.append((row["id"], ", ".join(row["packs"]), row["severity"], enforcement, ", ".join(row["levels"]),
                      frameworks))
    table_or_lines(app.out, f"{len(rows)} policies", ("id", "packs", "severity", "enforcement", "levels", "frameworks"),
                   cells, _policy_line)
    app.out.print(f"[dim]enforcement: {DEFAULT_ENFORCEMENT}[/]")
    return 0


def _policy_line(cells) -> str:
    policy, packs, severity, enforcement, levels, frameworks = map(escape, cells)
    return f"[bold]{policy}[/] {severity}, {enforcement}; {levels}; packs {packs}" + (f"; {frameworks}" if frameworks else "")


register(policy_app, "list", list_)
