"""A plan diff as a pull-request comment: a headline, a compact table, the details collapsed.

GitHub refuses a comment over 65,536 characters, so the comment is cut to fit, the least important rows
first, and says so. Its first line is an HTML comment naming the stack (``marker``): a CI step finds its
own earlier comment by it and edits it in place rather than adding one per push. Every value is escaped
for a table cell, so a finding's message with a ``|`` or a ``<`` cannot break the table or inject HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from cloudorch.report.diff import CostChange, FindingRef, Move, PlanDiff, Slot, percent_label, signed_usd

#: GitHub's limit on an issue or pull-request comment, in characters
MAX_CHARS = 65_536
_PUNCTUATION = set("\\`*_[]|<>~&!#")


def marker(stack: str) -> str:
    """The hidden first line of the comment for ``stack``: what a CI step searches for to update it."""
    return f"<!-- cloudorch-diff: {stack} -->"


def headline(diff: PlanDiff) -> str:
    """`monthly cost +$X (+Y%), N resources move, M new findings` (or that nothing changed)."""
    if not diff.changed:
        return "no change to placement, resources, cost or findings"
    total = diff.cost.total
    n, m = diff.moved, len(diff.findings.new)
    return (f"monthly cost {signed_usd(total.delta)} ({percent_label(total)}), "
            f"{n} resource{'' if n == 1 else 's'} move{'s' if n == 1 else ''}, "
            f"{m} new finding{'' if m == 1 else 's'}")


def to_markdown(diff: PlanDiff, *, limit: int = MAX_CHARS) -> str:
    """The comment for ``diff``, at most ``limit`` characters."""
    total = diff.cost.total
    head = [marker(diff.stack), f"### cloudorch: `{diff.stack}`", "", f"**{_escape(headline(diff))}**", "",
            f"Monthly cost: ${total.before:,.2f} → ${total.after:,.2f} ({signed_usd(total.delta)}, "
            f"{percent_label(total)})" + (f" · compared with stack `{diff.base_stack}`"
                                          if diff.base_stack != diff.stack else ""), ""]
    return _fit(head, _tables(diff), limit)


@dataclass
class _Table:
    """One table of the comment; ``summary`` puts it in a collapsed ``<details>``."""

    summary: str | None
    columns: Sequence[str]
    rows: list[Sequence[str]]
    shown: int = field(default=0)

    def lines(self) -> list[str]:
        out = [f"<details><summary>{html.escape(self.summary)}</summary>", ""] if self.summary else []
        out += ["| " + " | ".join(_escape(c) for c in self.columns) + " |",
                "|" + "|".join("---:" if c.startswith("$") or c == "change" else "---" for c in self.columns) + "|"]
        out += [_row(r) for r in self.rows[:self.shown]]
        hidden = len(self.rows) - self.shown
        if hidden:
            out += ["", f"_…and {hidden:,} more row{'' if hidden == 1 else 's'}, left out to fit a comment_"]
        return out + (["", "</details>", ""] if self.summary else [""])


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_escape(c) or " " for c in cells) + " |"


def _escape(text: str) -> str:
    """``text`` as literal Markdown inline text: one line, every meaningful punctuation mark escaped."""
    flat = " ".join(str(text).split())
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in flat)


def _tables(diff: PlanDiff) -> list[_Table]:
    """In the order they are given room when the comment must be cut: what a reviewer reads first."""
    costs = {c.name: c for c in diff.cost.by_resource}
    moved = {m.resource: m for m in diff.moves}
    compact = [(name, _where(moved[name].before) if name in moved else "", _where(moved[name].after) if name in moved
                else "", *(_money(costs[name]) if name in costs else ("", "", "")))
               for name in sorted(moved.keys() | {c.name for c in diff.cost.by_resource if c.delta})]
    parts = [c for c in diff.cost.by_network_part if c.delta]
    f = diff.findings
    return [t for t in (
        _Table(None, ("resource", "before", "after", "$/month before", "$/month after", "change"), compact),
        _Table(f"New findings ({len(f.new)})", ("severity", "enforcement", "policy", "resource", "cloud", "message"),
               [_finding(x) for x in f.new]),
        _Table(f"Cost by cloud ({len(diff.cost.by_cloud)})", ("cloud", "$/month before", "$/month after", "change"),
               [(c.name, *_money(c)) for c in diff.cost.by_cloud]),
        _Table(f"Network cost by part, changed ({len(parts)})", ("part", "$/month before", "$/month after", "change"),
               [(c.name, *_money(c)) for c in parts]),
        _Table(f"Moves ({len(diff.moves)})", ("resource", "kind", "status", "what changed", "before", "after"),
               [_move(m) for m in diff.moves]),
        _Table(f"Rendered resources: {diff.count('added')} added, {diff.count('removed')} removed, "
               f"{diff.count('changed')} changed", ("status", "name", "type", "cloud", "changed fields"),
               [(r.status, r.name, r.type, r.cloud, ", ".join(r.fields)) for r in diff.rendered]),
        _Table(f"Fixed findings ({len(f.fixed)})", ("severity", "enforcement", "policy", "resource", "cloud", "message"),
               [_finding(x) for x in f.fixed]),
        _Table(f"Still failing ({len(f.still_failing)})", ("severity", "enforcement", "policy", "resource", "cloud",
                                                           "message"), [_finding(x) for x in f.still_failing]),
    ) if t.rows]


def _fit(head: list[str], tables: list[_Table], limit: int) -> str:
    """Every row that fits within ``limit``, the tables in order of importance; once one row does not fit,
    no later row is shown either, so what is shown is a prefix of what matters most."""
    note = ("> **Cut to fit GitHub's comment limit**: {n:,} rows are left out. The whole diff: "
            "`cloudorch diff BASE NEW --format json`.")
    reserve = len(note) + 12  # the note with its row count
    used = len("\n".join(head)) + sum(len("\n".join(t.lines())) + 1 for t in tables) + reserve
    full = True
    for table in tables:
        for row in table.rows:
            cost = len(_row(row)) + 1
            if not full or used + cost > limit:
                full = False
                break
            table.shown += 1
            used += cost
    hidden = sum(len(t.rows) - t.shown for t in tables)
    lines = head + [line for t in tables for line in t.lines()]
    if hidden:
        lines += [note.format(n=hidden), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _where(slots: list[Slot]) -> str:
    if not slots:
        return "-"
    if not any(s.instance_type for s in slots):  # a bucket: a place, no replicas
        return ", ".join(f"{s.cloud}/{s.region}" for s in slots)
    if len(slots) == 1:
        return f"{slots[0].count} in {slots[0].cloud}/{slots[0].region}"
    return f"{sum(s.count for s in slots)} in " + ", ".join(f"{s.cloud}/{s.region} ×{s.count}" for s in slots)


def _money(change: CostChange) -> tuple[str, str, str]:
    return f"{change.before:,.2f}", f"{change.after:,.2f}", f"{signed_usd(change.delta)} ({percent_label(change)})"


def _move(move: Move) -> tuple[str, ...]:
    return (move.resource, move.kind, move.status, ", ".join(move.changes),
            "; ".join(s.label() for s in move.before) or "-", "; ".join(s.label() for s in move.after) or "-")


def _finding(f: FindingRef) -> tuple[str, ...]:
    target = f"{f.resource}/{f.rendered}" if f.rendered else (f.resource or "")
    return f.severity, f.enforcement, f.policy, target, f.cloud or "", f.message
