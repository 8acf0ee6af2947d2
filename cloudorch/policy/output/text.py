"""Line-oriented formats: GitHub workflow annotations, a Markdown PR comment, plain text, JSON data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cloudorch.policy.output.common import attention, as_list, relative_uri, target_label
from cloudorch.policy.report import Finding, Report, WaiverNote

MARKDOWN_ROWS = 50


def to_json(reports: Report | Sequence[Report]) -> dict[str, Any]:
    items = as_list(reports)
    blocking = sum(len(r.blocking) for r in items)
    return {"blocking": blocking, "passed": blocking == 0, "reports": [r.to_dict() for r in items]}


# -- GitHub workflow commands ----------------------------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, message: str, *, file: str | None, line: int | None, title: str) -> str:
    props = []
    if file:
        props.append(f"file={_escape_property(file)}")
        if line:
            props.append(f"line={line}")
    props.append(f"title={_escape_property(title)}")
    return f"::{kind} {','.join(props)}::{_escape_data(message)}"


def to_github(reports: Report | Sequence[Report], *, root: str | Path | None = None) -> str:
    """``::error``/``::warning``/``::notice`` lines; mandatory failures and crashed policies are errors."""
    lines = []
    for report in as_list(reports):
        for f in attention(report.findings):
            file = relative_uri(f.file, root)
            where = target_label(f) + (f" ({f.cloud})" if f.cloud else "")
            if f.status == "waived":
                continue  # accepted risk: the waiver itself is the record
            kind = "error" if f.blocking else "warning"
            title = f"{f.policy} [{f.severity}]" if f.status == "fail" else f"{f.policy} crashed"
            text = f"{where}: {f.message}" + (f"\nRemediation: {f.remediation}" if f.remediation and f.status == "fail" else "")
            lines.append(_command(kind, text, file=file, line=f.line, title=title))
        for w in report.expired_waivers:
            lines.append(_command("warning", f"waiver for {w.policy} on {w.resource} expired on {w.expires} "
                                             f"(owner {w.owner})", file=relative_uri(w.file, root), line=w.line,
                                  title="expired waiver"))
        for w in report.unused_waivers:
            lines.append(_command("notice", f"waiver for {w.policy} on {w.resource} matches no failing finding",
                                  file=relative_uri(w.file, root), line=w.line, title="unused waiver"))
    return "\n".join(lines) + ("\n" if lines else "")


# -- Markdown --------------------------------------------------------------------------------------------
def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def to_markdown(reports: Report | Sequence[Report], *, max_rows: int = MARKDOWN_ROWS) -> str:
    items = as_list(reports)
    blocking = sum(len(r.blocking) for r in items)
    head = "❌ blocked" if blocking else "✅ passed"
    out = [f"### cloudorch policy check: {head}", "",
           "| stack | blocking | fail | error | waived | pass | n/a |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in items:
        c = r.counts()
        out.append(f"| `{_cell(r.stack)}` | {len(r.blocking)} | {c['fail']} | {c['error']} | {c['waived']} "
                   f"| {c['pass']} | {c['not-applicable']} |")
    shown = [(r, f) for r in items for f in attention(r.findings)]
    if shown:
        out += ["", "| | policy | severity | resource | cloud | message |", "|---|---|---|---|---|---|"]
        icon = {"error": "💥", "fail": "❌", "waived": "⏸️"}
        for r, f in shown[:max_rows]:
            mark = icon[f.status] if f.status != "fail" or f.blocking else "⚠️"
            message = f.message if f.status != "waived" else f"waived: {f.waiver_reason} ({f.waiver_owner})"
            loc = f"{f.file}:{f.line}" if f.line else (f.file or "")
            out.append(f"| {mark} | `{f.policy}` | {f.severity} | `{_cell(target_label(f))}` | {f.cloud or ''} "
                       f"| {_cell(message)} <sub>{_cell(loc)}</sub> |")
        if len(shown) > max_rows:
            out.append(f"\n…and {len(shown) - max_rows} more (see the SARIF or JSON report).")
    notes = [*(_waiver_line("expired", w) for r in items for w in r.expired_waivers),
             *(_waiver_line("unused", w) for r in items for w in r.unused_waivers)]
    if notes:
        out += ["", "**Waivers**", "", *notes]
    baselined = sum(r.baselined for r in items)
    if baselined:
        out += ["", f"_{baselined} known failure(s) hidden by the baseline._"]
    return "\n".join(out) + "\n"


def _waiver_line(kind: str, w: WaiverNote) -> str:
    return f"- {kind}: `{w.policy}` on `{w.resource}` (owner {w.owner}, expires {w.expires})"


# -- plain text ------------------------------------------------------------------------------------------
def _text_line(f: Finding) -> str:
    loc = f"{f.file}:{f.line}" if f.line else (f.file or "-")
    cloud = f" ({f.cloud})" if f.cloud else ""
    line = f"{f.status.upper():<6} {f.enforcement:<9} {f.severity:<8} {f.policy}  {target_label(f)}{cloud}  {loc}\n"
    detail = f.message if f.status != "waived" else f"waived: {f.waiver_reason} (owner {f.waiver_owner})"
    line += f"       {detail}"
    if f.note and f.status == "fail":
        line += f" [{f.note}]"
    return line


def to_text(reports: Report | Sequence[Report]) -> str:
    """A plain-text fallback for terminals without rich."""
    out = []
    for r in as_list(reports):
        c = r.counts()
        out.append(f"{r.stack} ({r.file}): {len(r.blocking)} blocking, {c['fail']} failed, {c['error']} errors, "
                   f"{c['waived']} waived, {c['pass']} passed, {c['not-applicable']} not applicable")
        out += [_text_line(f) for f in attention(r.findings)]
        out += [f"EXPIRED waiver {w.policy} on {w.resource} (owner {w.owner}) expired {w.expires}"
                + (f": would cover {', '.join(w.matched)}" if w.matched else "") for w in r.expired_waivers]
        out += [f"UNUSED waiver {w.policy} on {w.resource} (owner {w.owner}) matches no failing finding"
                for w in r.unused_waivers]
        if r.baselined:
            out.append(f"{r.baselined} known failure(s) hidden by the baseline")
    return "\n".join(out) + "\n"
