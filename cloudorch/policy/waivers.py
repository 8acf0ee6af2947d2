"""Waivers from the stack file: a failing finding a named owner accepted, until a date.

A waiver is active through its ``expires`` day. An expired waiver waives nothing and is reported with the
findings it would have covered; an active waiver that covers no failing finding is reported as unused,
because a stale waiver is an exception nobody is tracking any more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from cloudorch.policy.report import Finding, WaiverNote
from cloudorch.spec.models import Waiver


def waiver_matches(waiver: Waiver, finding: Finding) -> bool:
    """Policy id and resource are globs; the resource glob may name the spec or the rendered resource."""
    return fnmatchcase(finding.policy, waiver.policy) and _covers_resource(waiver, finding)


def _covers_resource(waiver: Waiver, finding: Finding) -> bool:
    names = [finding.resource or ""]
    if finding.rendered:
        names.append(finding.rendered)
    return any(fnmatchcase(name, waiver.resource) for name in names)


def _label(finding: Finding) -> str:
    where = finding.resource or "(stack)"
    return f"{finding.policy} {where}/{finding.rendered}" if finding.rendered else f"{finding.policy} {where}"


def apply_waivers(
    findings: Sequence[Finding],
    waivers: Sequence[Waiver],
    today: dt.date,
    *,
    file: str | None = None,
    line_of: Callable[[int], int | None] = lambda index: None,
) -> tuple[list[Finding], list[WaiverNote], list[WaiverNote]]:
    """Returns (findings with waived ones marked, expired waivers, unused waivers)."""
    active = [(i, w) for i, w in enumerate(waivers) if w.expires >= today]
    expired = [(i, w) for i, w in enumerate(waivers) if w.expires < today]
    used: set[int] = set()
    would_cover: dict[int, list[str]] = {i: [] for i, _ in expired}
    out: list[Finding] = []
    # tens of thousands of failing findings share a few dozen policy ids: match the policy globs once per id
    by_policy: dict[str, tuple[list[tuple[int, Waiver]], list[tuple[int, Waiver]]]] = {}
    for finding in findings:
        if finding.status != "fail":
            out.append(finding)
            continue
        candidates = by_policy.get(finding.policy)
        if candidates is None:
            candidates = by_policy[finding.policy] = (
                [(i, w) for i, w in active if fnmatchcase(finding.policy, w.policy)],
                [(i, w) for i, w in expired if fnmatchcase(finding.policy, w.policy)])
        if not candidates[0] and not candidates[1]:
            out.append(finding)
            continue
        match = next(((i, w) for i, w in candidates[0] if _covers_resource(w, finding)), None)
        if match is not None:
            used.add(match[0])
            waiver = match[1]
            out.append(replace(finding, status="waived", waiver_reason=waiver.reason, waiver_owner=waiver.owner,
                               note=f"waived until {waiver.expires.isoformat()}"))
            continue
        stale = next(((i, w) for i, w in candidates[1] if _covers_resource(w, finding)), None)
        if stale is not None:
            would_cover[stale[0]].append(_label(finding))
            finding = replace(finding, note=f"waiver by {stale[1].owner} expired on {stale[1].expires.isoformat()}")
        out.append(finding)

    def note(i: int, w: Waiver, matched: Sequence[str] = ()) -> WaiverNote:
        return WaiverNote(w.policy, w.resource, w.reason, w.owner, w.expires, file, line_of(i), tuple(sorted(matched)))

    expired_notes = [note(i, w, would_cover[i]) for i, w in expired]
    unused_notes = [note(i, w) for i, w in active if i not in used]
    return out, expired_notes, unused_notes
