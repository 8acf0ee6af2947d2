"""A plan diff for people, machines and pull requests: what `diff` and `plan --compare-to` print.

Not a command module: `diff` and `plan` both show a comparison through here, with the same formats and
the same budget gate on the change (exit 4).
"""

from __future__ import annotations

import json
from enum import Enum

import typer
from rich.markup import escape

from cloudorch.cli.application import Application
from cloudorch.report import PlanDiff, headline, increase_refusal, percent_label, signed_usd, to_markdown
from cloudorch.report.diff import CostChange, FindingRef

MAX_USD = typer.Option(None, "--max-increase-usd", metavar="USD", min=0,
                       help="Exit 4 when the monthly cost rises by more than this many dollars.")
MAX_PCT = typer.Option(None, "--max-increase-pct", metavar="PCT", min=0,
                       help="Exit 4 when the monthly cost rises by more than this percentage (any rise from "
                       "nothing counts as more).")
QUIET = typer.Option(False, "--quiet-unless-changed",
                     help="Print nothing when no placement, rendered resource, cost or finding changed (so CI "
                     "posts no comment).")


class ComparisonFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def show(app: Application, diff: PlanDiff, max_usd: float | None = None, max_pct: float | None = None,
         quiet: bool = False) -> int:
    """Print ``diff`` in the run's format; the exit code of the budget gate on the change."""
    refusal = increase_refusal(diff, max_usd, max_pct)
    if quiet and not diff.changed:
        return 0
    if app.json:
        typer.echo(json.dumps(document(diff, refusal), indent=2, ensure_ascii=False))
    elif app.format == ComparisonFormat.markdown.value:
        typer.echo(to_markdown(diff), nl=False)
    else:
        render(app.out, diff)
    if refusal is None:
        return 0
    if not app.json:
        app.report_error(refusal)
    return int(refusal.exit_code)


def document(diff: PlanDiff, refusal=None) -> dict:
    """The diff as JSON, with the budget gate's refusal (or null)."""
    return diff.model_dump(mode="json") | {
        "refusal": None if refusal is None else refusal.to_dict() | {"exit_code": int(refusal.exit_code)}}


def render(out, diff: PlanDiff) -> None:
    out.print(f"[bold]stack[/] {escape(diff.stack)}: {escape(headline(diff))}")
    if diff.moves:
        out.print("[bold]Moves[/]")
    for m in diff.moves:
        out.print(f"  [bold]{escape(m.resource)}[/] ({m.kind}) {m.status}" + (f": {', '.join(m.changes)}" if m.changes else ""))
        for label, slots in (("before", m.before), ("after", m.after)):
            if slots:
                out.print(f"    {label}: " + escape("; ".join(s.label() for s in slots)))
    if diff.rendered:
        out.print(f"[bold]Rendered resources[/]: {diff.count('added')} added, {diff.count('removed')} removed, "
                  f"{diff.count('changed')} changed")
    for r in diff.rendered:
        sign = {"added": "[green]+[/]", "removed": "[red]-[/]", "changed": "[yellow]~[/]"}[r.status]
        fields = f" [dim]({escape(', '.join(r.fields))})[/]" if r.fields else ""
        out.print(f"  {sign} {escape(r.name)} [dim]{escape(r.type)}[/]{fields}")
    total = diff.cost.total
    out.print(f"[bold]Cost[/]: ${total.before:,.2f} -> ${total.after:,.2f}/month "
              f"({signed_usd(total.delta)}, {percent_label(total)})")
    out.print("  by cloud: " + ", ".join(_change(c) for c in diff.cost.by_cloud))
    changed = [c for c in diff.cost.by_resource if c.delta]
    if changed:
        out.print("  by resource: " + ", ".join(_change(c) for c in changed))
    parts = [c for c in diff.cost.by_network_part if c.delta]
    if parts:
        out.print("  network: " + ", ".join(_change(c) for c in parts))
    f = diff.findings
    out.print(f"[bold]Findings[/]: {len(f.new)} new, {len(f.fixed)} fixed, {len(f.still_failing)} still failing")
    for label, style, findings in (("NEW", "red", f.new), ("FIXED", "green", f.fixed)):
        for finding in findings:
            out.print(f"  [{style}]{label:<5}[/] {_finding(finding)}")


def _change(c: CostChange) -> str:
    return escape(f"{c.name} ${c.before:,.2f} -> ${c.after:,.2f} ({signed_usd(c.delta)})")


def _finding(f: FindingRef) -> str:
    target = f"{f.resource}/{f.rendered}" if f.rendered else (f.resource or "")
    cloud = f" ({f.cloud})" if f.cloud else ""
    return escape(f"{f.enforcement} {f.severity} {f.policy} {target}{cloud}: {f.message}")
