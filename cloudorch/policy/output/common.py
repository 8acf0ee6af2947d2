from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cloudorch.policy.report import Finding, PolicyInfo, Report

# what a reader must act on first
STATUS_ORDER = {"error": 0, "fail": 1, "waived": 2, "pass": 3, "not-applicable": 4}
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def as_list(reports: Report | Sequence[Report]) -> list[Report]:
    return [reports] if isinstance(reports, Report) else list(reports)


def relative_uri(file: str | None, root: str | Path | None = None) -> str | None:
    """A forward-slash path relative to ``root`` (the repository), as code scanning expects."""
    if not file:
        return None
    path = Path(file)
    base = Path(root) if root is not None else Path.cwd()
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(base.resolve())
        except ValueError:
            return path.as_uri()
    return path.as_posix() if os.sep == "/" else str(path).replace(os.sep, "/")


def target_label(f: Finding) -> str:
    name = f.resource or "(stack)"
    return f"{name}/{f.rendered}" if f.rendered else name


def attention(findings: Sequence[Finding]) -> list[Finding]:
    """Errors and failures first (mandatory before advisory, by severity), then waived."""
    shown = [f for f in findings if f.status in ("error", "fail", "waived")]
    return sorted(shown, key=lambda f: (STATUS_ORDER[f.status], f.enforcement != "mandatory",
                                        SEVERITY_ORDER[f.severity], *f.sort_key()))


def all_policies(reports: Sequence[Report]) -> list[PolicyInfo]:
    found: dict[str, PolicyInfo] = {}
    for report in reports:
        for info in report.policies:
            found.setdefault(info.id, info)
    return [found[k] for k in sorted(found)]
