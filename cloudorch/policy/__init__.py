"""The policy engine: one set of rules, checked on the neutral spec and on every provider's rendering.

Typical use (what ``cloudorch check`` does)::

    packs = load_packs(stack.policies.packs, policy_dirs=dirs, base_dir=stack_dir)
    report = evaluate(PolicySubject(loaded, placement, rendered), packs, today=date.today(), overrides=cfg)
    if report.blocking: ...   # mandatory failures (and crashed mandatory policies): exit 3

Importing this package imports no pack, no pulumi and no pulumi_policy.
"""

from cloudorch.errors import PolicyBlocked
from cloudorch.policy.baselines import apply_baseline, baseline_dict, read_baseline, write_baseline
from cloudorch.policy.context import Context, PolicySubject, SpecTarget
from cloudorch.policy.engine import evaluate, merge_packs, pack_enforcement, resolve_enforcement
from cloudorch.policy.facts import expect_fact
from cloudorch.policy.geo import region_geo
from cloudorch.policy.loading import available_pack_names, list_policies, load_packs, load_policy_dir
from cloudorch.policy.model import (
    STACK,
    Check,
    NotApplicable,
    Pack,
    Policy,
    Violation,
    rendered_check,
    spec_check,
)
from cloudorch.policy.output import to_github, to_json, to_junit, to_markdown, to_sarif, to_text
from cloudorch.policy.report import Finding, PolicyInfo, Report, WaiverNote
from cloudorch.policy.teamcode import TRUST_NOTE, team_files


def blocking_error(reports: Report | list[Report]) -> PolicyBlocked | None:
    """The ``PolicyBlocked`` error (exit 3) to raise when any report has blocking findings, else None."""
    items = [reports] if isinstance(reports, Report) else list(reports)
    blocking = [f for r in items for f in r.blocking]
    if not blocking:
        return None
    ids = sorted({f.policy for f in blocking})
    return PolicyBlocked(
        f"{len(blocking)} mandatory policy finding{'s' if len(blocking) != 1 else ''} block this stack: "
        + ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else ""),
        hint="fix the resources, or add a waiver (policy, resource, reason, owner, expires) under policies.waivers",
    )


__all__ = [
    "STACK", "TRUST_NOTE", "Check", "Context", "Finding", "NotApplicable", "Pack", "Policy", "PolicyInfo", "PolicySubject",
    "Report", "SpecTarget", "Violation", "WaiverNote", "apply_baseline", "available_pack_names",
    "baseline_dict", "blocking_error", "evaluate", "expect_fact", "list_policies", "load_packs", "load_policy_dir",
    "merge_packs", "pack_enforcement", "read_baseline", "region_geo", "rendered_check", "resolve_enforcement",
    "spec_check", "team_files", "to_github", "to_json", "to_junit", "to_markdown", "to_sarif", "to_text", "write_baseline",
]
