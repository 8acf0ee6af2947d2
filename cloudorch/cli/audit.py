"""`cloudorch audit verify | log | unlock`: the journal, proved whole, shown, and its workflow lock broken."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import typer
from rich.markup import escape

from cloudorch import api
from cloudorch.cli.application import Application
from cloudorch.cli.layout import table_or_lines
from cloudorch.cli.shared import command_group, register
from cloudorch.errors import UsageError

commands = command_group()
audit_app = command_group(help="Verify and read the journal of every plan, apply and workflow step.",
                          no_args_is_help=True)
commands.add_typer(audit_app, name="audit")


def verify(app: Application) -> int:
    """Check that no journal record was edited, deleted, inserted or reordered; exit 8 if one was."""
    from cloudorch.journal import JournalInvalid

    journal = api.journal(app.session)
    result = journal.verify()
    if not result.ok:
        raise JournalInvalid(result)
    if app.json:
        app.emit_json(result.to_dict() | {"journal": journal.where})
    else:
        app.out.print(escape(f"journal verified: {result.count} records, whole and in order ({journal.where})"))
        if result.head:
            app.out.print(f"[dim]head {result.head} (keep it: a later verify can be checked against it)[/]")
    return 0


def log(
    app: Application,
    stack: str | None = typer.Option(None, "--stack", metavar="STACK", help="Only this stack's records."),
    since: str | None = typer.Option(None, "--since", metavar="T", help="Only records at or after T: a date or time "
                                     "(2026-12-01, 2026-12-01T09:00Z) or an age (30m, 12h, 7d)."),
) -> int:
    """Show the journal's records, oldest first: when, who, what, which stack, the outcome."""
    entries = api.journal(app.session).entries(stack=stack, since=parse_since(since) if since else None)
    if app.json:
        for entry in entries:
            app.emit_json(entry.to_dict())
        return 0
    rows = [(str(e.seq), e.time, _who(e.actor), e.kind, e.stack or "-", e.outcome, _details(e.fields))
            for e in entries]
    table_or_lines(app.out, f"{len(rows)} records", ("seq", "time", "who", "kind", "stack", "outcome", "details"),
                   rows, _line)
    return 0


def unlock(
    app: Application,
    holder: str | None = typer.Option(None, "--holder", metavar="HOLDER", help="Break the lock as its holder (the "
                                      "workflow id it was taken as)."),
    force: bool = typer.Option(False, "--force", help="Break the lock whoever holds it."),
) -> int:
    """Break a stale workflow lock: only as its holder, or with --force; says who held it since when."""
    cleared = api.journal(app.session).unlock(holder, force=force)
    if app.json:
        app.emit_json({"cleared": cleared.to_dict() if cleared else None})
    elif cleared is None:
        app.out.print("the workflow lock was not held")
    else:
        app.out.print(escape(f"broke the workflow lock held by {cleared.holder!r} ({cleared.who}) since "
                             f"{cleared.since}"))
    return 0


_AGE = re.compile(r"^(\d+)([mhd])$")


def parse_since(text: str) -> datetime:
    found = _AGE.match(text.strip())
    if found:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[found[2]]
        return datetime.now(UTC) - timedelta(**{unit: int(found[1])})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {text!r}: not a date, time or age",
                         hint="write 2026-12-01, 2026-12-01T09:00Z or an age such as 30m, 12h, 7d") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _who(actor: dict) -> str:
    ci = actor.get("ci")
    run = f" via {ci['system']}" + (f" run {ci['run_id']}" if ci.get("run_id") else "") if ci else ""
    return f"{actor.get('user', '?')}{run}"


#: the fields worth a column in the text log, in this order (--format json has them all)
_SHOWN = ("error_class", "cloud", "region", "instance_type", "replaced", "workflow_id", "step", "attempt",
          "duration_s", "plan_hash")


def _details(fields: dict) -> str:
    parts = []
    for key in _SHOWN:
        if key in fields:
            value = fields[key]
            parts.append(f"{key}={value[:12] if key == 'plan_hash' and isinstance(value, str) else value}")
    return ", ".join(parts)


def _line(row) -> str:
    seq, time, who, kind, stack, outcome, details = map(escape, row)
    return f"{seq} {time} {who}: {kind} {stack} {outcome}" + (f" ({details})" if details else "")


register(audit_app, "verify", verify)
register(audit_app, "log", log)
register(audit_app, "unlock", unlock)
