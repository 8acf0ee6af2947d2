"""`cloudorch plan STACK`"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from rich.markup import escape

from cloudorch import api, lifecycle
from cloudorch.cli import comparison, workflow
from cloudorch.cli.application import Application
from cloudorch.cli.comparison import ComparisonFormat
from cloudorch.cli.findings import render_report
from cloudorch.cli.layout import table_or_lines
from cloudorch.cli.progress import refresh_progress
from cloudorch.cli.shared import command_group, register, write_file
from cloudorch.errors import UsageError

commands = command_group()


def plan(
    app: Application,
    stacks: list[Path] = workflow.STACKS,
    out: Path | None = typer.Option(None, "--out", "-o", metavar="FILE", help="Write the plan as JSON to this file (for `apply --plan`)."),
    explain: bool = typer.Option(False, "--explain", help="Show alternatives and why each cloud/region was excluded "
                                 "(also in --format json)."),
    compare_to: Path | None = typer.Option(None, "--compare-to", metavar="BASE",
                                           help="Also show what changed since BASE (a saved plan .json or a stack "
                                           "file); --format json then prints the plan and the diff as one object, --format markdown the "
                                           "pull-request comment."),
    offline: bool = typer.Option(False, "--offline", help="With --catalog live: fetch nothing, plan on the cached "
                                 "live catalog however old (without it, stale parts are refreshed first)."),
    max_catalog_age: str | None = typer.Option(None, "--max-catalog-age", metavar="AGE", help="With --catalog live: "
                                               "exit 2 when any part is older than AGE (e.g. 90m, 6h, 2d; for CI)."),
    rehearse: bool = typer.Option(False, "--rehearse", help="For a workflow: read upstream outputs from the "
                                  "rehearsal's state."),
    target: list[str] | None = workflow.TARGET,
    exclude: list[str] | None = workflow.EXCLUDE,
) -> int:
    """Place, render and check a stack; print the plan. Exit 3 when a mandatory policy fails.

    A directory or several stack files are planned as one workflow: each stack in order, with the values
    its upstream stacks' outputs have not settled yet marked unknown."""
    stack = workflow.single(stacks, "plan", ("--out", out), ("--compare-to", compare_to), ("--explain", explain))
    if app.format == ComparisonFormat.markdown.value and compare_to is None:
        raise UsageError("--format markdown is the comparison's pull-request comment", hint="add --compare-to BASE")
    # the base first: a bad BASE stops the run before anything is planned or written
    base = api.plan_of(compare_to, app.session) if compare_to is not None else None
    # the catalog once, for a single stack and a workflow alike
    if app.session.live and not offline and app.json:
        api.refresh_catalog(app.session, stale_only=True)  # stdout is the plan's: no events on it
    elif app.session.live and not offline:
        with refresh_progress(app, statuses=("fetched", "failed")) as progress:
            api.refresh_catalog(app.session, stale_only=True, progress=progress)
    if max_catalog_age is not None:
        api.check_catalog_age(app.session, catalog_age_seconds(max_catalog_age))
    if workflow.is_workflow(stacks, rehearse, target, exclude):
        return workflow.plan(app, stacks, rehearse, target, exclude)
    with lifecycle.recorded(app.session, "plan", stack) as record, app.status(f"planning {stack}"):
        result = api.plan(stack, app.session, explain=explain)
        record.plan(result.plan)
        refused = result.refusal()
        record.outcome = "succeeded" if refused is None else f"refused ({type(refused).__name__})"
    if base is not None:
        return _compared(app, result, api.diff(base, result.plan), out)
    refusal = result.refusal()
    document = result.plan.to_json() if app.json or out is not None else ""  # large stacks: ~1 s to build
    if out is not None and refusal is None:
        write_file(out, document.encode("utf-8"), "plan", "--out", "plan.json")
        # the plan will be applied with these addresses: every later plan of the stack must keep them
        recorded = api.record_allocation(result, app.session)
    app.warn(_warnings(result, out is not None and refusal is None))
    if app.json:
        typer.echo(document, nl=False)
    else:
        _render(app, result, explain)
        if out is not None and refusal is None:
            app.err.print(f"plan written to {out}")
            if recorded is not None:
                app.err.print(f"addresses recorded in {_shown(recorded)} (commit it with the stack file)")
    if refusal is not None:
        if not app.json:
            app.report_error(refusal)
            if out is not None:
                app.err.print("the plan was not written")
        return int(refusal.exit_code)
    return 0


_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def catalog_age_seconds(text: str) -> float:
    """``--max-catalog-age``: a number of seconds, or with a unit (90m, 6h, 2d)."""
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit.isdigit():
        value, unit = text.strip(), "s"
    try:
        seconds = float(value) * _AGE_UNITS[unit]
    except (KeyError, ValueError):
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise UsageError(f"--max-catalog-age {text!r} is not an age", hint="e.g. 3600, 90m, 6h or 2d")
    return seconds


def _warnings(result, recorded: bool) -> list[str]:
    """The plan's warnings; once its addresses are recorded, how to go back on blocks it moved (found by
    review: 'put its cidr back' alone found the old blocks gone from the record)."""
    out = list(result.warnings)
    if recorded and out:
        out.append("the allocation record now holds the moved blocks: to keep the old ones, restore "
                   f".cloudorch/{result.plan.stack}.network.json from version control, then put the cidr back")
    return out


def _compared(app: Application, result, diff, out: Path | None) -> int:
    """The plan with what changed since the base: JSON as {plan, diff}, Markdown as the comment alone."""
    refusal = result.refusal()
    if out is not None and refusal is None:
        write_file(out, result.plan.to_json().encode("utf-8"), "plan", "--out", "plan.json")
        api.record_allocation(result, app.session)
    app.warn(_warnings(result, out is not None and refusal is None))
    if app.json:
        typer.echo(json.dumps({"plan": json.loads(result.plan.to_json()), "diff": comparison.document(diff)},
                              indent=2, ensure_ascii=False))
    elif app.format == ComparisonFormat.markdown.value:
        comparison.show(app, diff)
    else:
        _render(app, result, False)
        comparison.render(app.out, diff)
    if refusal is not None:
        if not app.json:
            app.report_error(refusal)
        return int(refusal.exit_code)
    return 0


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _render(app, result, explain: bool) -> None:
    plan = result.plan
    out = app.out
    out.print(f"[bold]stack[/] {plan.stack}  [dim]objective {plan.objective}, catalog {plan.catalog.source} "
              f"({plan.catalog.as_of})[/]")
    headers = ("resource", "kind", "cloud", "region", "type", "count", "$/month")
    rows = [(p.resource, p.kind, p.cloud, p.region, (p.instance_type or "-") + (" (spot)" if p.spot else ""),
             str(p.count), f"{p.monthly_usd:,.2f}") for p in plan.placements]
    table_or_lines(out, "Placements", headers, rows, _placement_line, right=("count", "$/month"),
                   boxed=len(rows) <= PLAIN_TABLE_ROWS)

    per_cloud = Counter(r.cloud for r in plan.resources)
    out.print("[bold]Resources per cloud[/]: " + ", ".join(f"{c} {n}" for c, n in sorted(per_cloud.items())))
    _render_network(app, plan, explain)
    if explain:
        _render_explain(app, result)
    _render_policy(app, plan.policy, result.report)
    cost = plan.cost
    budget = f" of a ${cost.budget_monthly_usd:,.2f} budget" if cost.budget_monthly_usd else ""
    out.print(f"[bold]Total[/]: ${cost.monthly_usd:,.2f}/month{budget} "
              f"[dim](machines ${cost.machines_monthly_usd:,.2f} + network ${cost.network_monthly_usd:,.2f}; by cloud: "
              f"{', '.join(f'{c} ${v:,.2f}' for c, v in cost.by_cloud.items())})[/]")
    if cost.network_by_part:
        out.print("[dim]network: " + ", ".join(f"{part} {'-' if usd < 0 else ''}${abs(usd):,.2f}"
                                               for part, usd in cost.network_by_part.items()) + "[/]")
    if cost.search_stopped and cost.lower_bound_monthly_usd:
        gap = (cost.placement_monthly_usd - cost.lower_bound_monthly_usd) / cost.placement_monthly_usd
        how = (f"found by {cost.search_stopped}" if cost.search_stopped.startswith("local search")
               else f"the search stopped after {cost.search_stopped}")
        out.print(f"[yellow]placement[/]: {how}; this placement is within "
                  f"{gap:.2%} of the cheapest possible (lower bound ${cost.lower_bound_monthly_usd:,.2f}/month)")
    if cost.unpriced:
        out.print(f"[yellow]unpriced[/]: {len(cost.unpriced)} item(s) counted as nothing, e.g. "
                  + "; ".join(f"{u['resource']} ({u['reason']})" for u in cost.unpriced[:3]))
    if app.session.live:
        _warn_stale(app)
    if plan.catalog.unparsed_rows:
        app.err.print(f"[yellow]catalog[/]: {plan.catalog.unparsed_rows} rows were skipped (unparseable or unusable), e.g. "
                      + "; ".join(plan.catalog.unparsed_examples[:3]))


def _warn_stale(app) -> None:
    """The live catalog's parts older than their TTL, and the clouds it lacks, said on stderr."""
    from cloudorch.catalog.refresh import ago

    status = api.catalog_status()
    for cloud, sources in sorted(status["clouds"].items()):
        stale = [f"{s} ({ago(i['age_seconds'])})" for s, i in sorted(sources.items()) if i["stale"]]
        missing = [m for i in sources.values() for m in i["missing"]]
        if stale:
            app.err.print(f"[yellow]catalog[/]: {cloud} is stale: {escape(', '.join(stale))}")
        if missing:
            app.err.print(f"[yellow]catalog[/]: {cloud} lacks {escape('; '.join(missing[:3]))}")
    for cloud, reason in sorted(status["skipped"].items()):
        app.err.print(f"[yellow]catalog[/]: {cloud} not read live ({escape(reason)})")


#: above this many rows a boxed rich table costs about a second per 2,000 rows: print aligned columns
PLAIN_TABLE_ROWS = 300


def _placement_line(row) -> str:
    resource, kind, cloud, region, itype, count, monthly = row
    what = f"{count} x {itype} in " if itype != "-" else "in "
    return escape(f"  {resource} ({kind}): {what}{cloud}/{region}, ${monthly}/month")



def _render_network(app, plan, explain: bool) -> None:
    """Links and flows, short: one line per link, a count of proved flows, any that are not."""
    from rich.markup import escape

    network = plan.network
    if network is None or not (network.links or network.flows):
        return
    out = app.out
    for link in network.links:
        what = f"vpn, {link.tunnels} tunnels, BGP {link.asns[0]}/{link.asns[1]}" if link.kind == "vpn" else link.kind
        out.print(f"[bold]link[/] {escape(link.sites[0])} <-> {escape(link.sites[1])} [dim]({what})[/]")
        if explain:
            out.print(f"  [dim]forced by {escape(', '.join(link.flows))}[/]")
    statuses = Counter(f["status"] for f in network.flows)
    out.print("[bold]Flows[/]: " + ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items())))
    for f in network.flows:
        if f["status"] != "proved" or explain:
            out.print(f"  {escape(f['flow'])}: {f['status']}")
    exposed = sorted({(e["source"] or e["resource"], ",".join(str(a) if a == b else f"{a}-{b}" for a, b in e["ports"]))
                      for e in network.exposure})
    if exposed:
        out.print("[bold]Internet[/]: " + ", ".join(f"{escape(who)} on {ports}" for who, ports in exposed))


def _render_explain(app, result) -> None:
    for history in result.capacity_history:
        app.out.print(f"[yellow]journal[/]: {escape(history.describe())}")
    for name, e in sorted(result.placement.explanations.items()):
        app.out.print(f"[bold]{name}[/]: " + "; ".join(e.chosen))
        for a in e.alternatives:
            instead = f" instead of {a.replaces}" if a.replaces else ""
            why = f" [dim]({escape(a.why)})[/]" if a.why else ""
            app.out.print(f"  alternative: {a.instance_type}{' (spot)' if a.spot else ''} in {a.cloud}/{a.region}"
                          f"{instead}: ${a.monthly_usd:,.2f}/month{why}")
        for x in e.excluded:
            where = f"{x.cloud}/{x.region}" if x.region else x.cloud
            app.out.print(f"  [dim]excluded {escape(where)} ({x.reason}): {escape(x.detail)}[/]")


def _render_policy(app, policy: dict, report) -> None:
    summary = policy.get("summary", {})
    counts = {s: n for s, n in summary.items() if s in ("pass", "fail", "waived", "not-applicable", "error") and n}
    app.out.print("[bold]Policy[/]: " + (", ".join(f"{n:,} {s}" for s, n in sorted(counts.items())) or "no policies"))
    render_report(app.out, report)


register(commands, "plan", plan, formats=ComparisonFormat)
