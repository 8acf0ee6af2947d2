"""Policy findings for people, as `plan` and `check` both print them.

What blocks reads red, what only advises yellow, a crashed policy magenta; every failure carries what to do
about it (the policy's remediation); waivers that expired or match nothing are listed after the findings.
Details are indented under their finding and wrap there, so a narrow terminal never breaks the columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from rich.padding import Padding

from cloudorch.policy import Finding, Report
from cloudorch.policy.output.common import attention, target_label

#: how far a finding's details are indented under its first line
INDENT = 7


def style(finding: Finding) -> str:
    if finding.status == "error":
        return "magenta"
    if finding.status == "waived":
        return "cyan"
    return "red" if finding.enforcement == "mandatory" else "yellow"


def render_report(out, report: Report) -> None:
    """Every finding that needs attention (errors, failures, waived ones), then the waivers to look at."""
    for f in attention(report.findings):
        where = f"{f.file}:{f.line}" if f.line else (f.file or "")
        cloud = f" ({f.cloud})" if f.cloud else ""
        out.print(f"[{style(f)}]{f.status.upper():<6}[/] {f.enforcement:<9} {f.severity:<8} [bold]{f.policy}[/] "
                  f"{escape(target_label(f))}{escape(cloud)}  [dim]{escape(where)}[/]")
        if f.status == "waived":
            _detail(out, f"waived: {f.waiver_reason} (owner {f.waiver_owner})")
            continue
        _detail(out, f.message + (f" [{f.note}]" if f.note and f.status == "fail" else ""))
        if f.remediation and f.status == "fail":
            _detail(out, f"fix: {f.remediation}", "dim")
    render_waivers(out, report)


def render_waivers(out, report: Report) -> None:
    for w in report.expired_waivers:
        covers = f"; it would cover {', '.join(w.matched)}" if w.matched else ""
        out.print(f"[yellow]EXPIRED[/] waiver {escape(w.policy)} on {escape(w.resource)} (owner {escape(w.owner)}) "
                  f"expired {w.expires}{escape(covers)}")
    for w in report.unused_waivers:
        out.print(f"[dim]UNUSED[/]  waiver {escape(w.policy)} on {escape(w.resource)} (owner {escape(w.owner)}) "
                  "matches no failing finding")


def render_reports(out, reports: Sequence[Report]) -> None:
    """`check`'s text report: per stack a summary line, its findings and waivers."""
    for r in reports:
        c = r.counts()
        blocking = f"[red]{len(r.blocking)} blocking[/]" if r.blocking else "0 blocking"
        out.print(f"[bold]{escape(r.stack)}[/] [dim]({escape(r.file or '-')})[/]: {blocking}, {c['fail']} failed, "
                  f"{c['error']} errors, {c['waived']} waived, {c['pass']} passed, "
                  f"{c['not-applicable']} not applicable")
        render_report(out, r)
        if r.baselined:
            out.print(f"[dim]{r.baselined} known failure(s) hidden by the baseline[/]")


def _detail(out, text: str, look: str = "") -> None:
    body = f"[{look}]{escape(text)}[/]" if look else escape(text)
    out.print(Padding(body, (0, 0, 0, INDENT), expand=False))
