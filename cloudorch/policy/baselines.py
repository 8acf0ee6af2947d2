"""Baseline files: accept today's failures once, then report only new ones (``check --baseline``).

A finding's fingerprint is its stack, policy, spec resource and rendered resource name, never its line,
so editing the stack file above a known failure does not make it "new".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from cloudorch.errors import UsageError
from cloudorch.inputs import read_text
from cloudorch.policy.report import Report

BASELINE_VERSION = 1


def _as_list(reports: Report | Sequence[Report]) -> list[Report]:
    return [reports] if isinstance(reports, Report) else list(reports)


def baseline_dict(reports: Report | Sequence[Report]) -> dict[str, Any]:
    entries = {
        f.fingerprint: {"fingerprint": f.fingerprint, "stack": f.stack, "policy": f.policy,
                        "resource": f.resource, "rendered": f.rendered}
        for report in _as_list(reports) for f in report.findings if f.status == "fail"
    }
    return {"version": BASELINE_VERSION, "tool": "cloudorch",
            "findings": [entries[k] for k in sorted(entries, key=lambda k: (
                entries[k]["stack"] or "", entries[k]["policy"], entries[k]["resource"] or "",
                entries[k]["rendered"] or ""))]}


def write_baseline(path: str | Path, reports: Report | Sequence[Report]) -> int:
    """Write the failures of ``reports`` as a baseline; returns how many were recorded."""
    data = baseline_dict(reports)
    try:
        Path(path).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write baseline {path}: {exc.strerror}") from None
    return len(data["findings"])


def read_baseline(path: str | Path) -> frozenset[str]:
    """The fingerprints a baseline file records; the file is read as hostile input (exit 2 for a device,
    an oversized or non-UTF-8 file, JSON nested past what the decoder can follow, or numbers too long)."""
    if not Path(path).exists():
        raise UsageError(f"baseline file {path} not found",
                         hint="create one with `cloudorch check --write-baseline FILE`")
    text = read_text(path, str(path), "baseline file")
    try:
        data = json.loads(text)
    except RecursionError:
        raise UsageError(f"cannot read baseline {path}: its JSON is nested too deeply to be a baseline",
                         hint="re-create it with `cloudorch check --write-baseline FILE`") from None
    except ValueError as exc:
        raise UsageError(f"cannot read baseline {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not isinstance(data.get("findings"), list):
        raise UsageError(f"{path} is not a cloudorch baseline (version {BASELINE_VERSION})",
                         hint="re-create it with `cloudorch check --write-baseline FILE`")
    return frozenset(str(e.get("fingerprint")) for e in data["findings"] if isinstance(e, dict))


def apply_baseline(reports: Report | Sequence[Report], fingerprints: Iterable[str]) -> list[Report]:
    """Drop failures the baseline already records; each report counts how many it dropped."""
    known = frozenset(fingerprints)
    out = []
    for report in _as_list(reports):
        kept = tuple(f for f in report.findings if not (f.status == "fail" and f.fingerprint in known))
        out.append(replace(report, findings=kept, baselined=report.baselined + len(report.findings) - len(kept)))
    return out
