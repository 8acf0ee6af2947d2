"""Evaluate packs against one stack: every policy, every target, one finding per outcome.

Pure: the same subject, packs, date and overrides give the same report, sorted. A check that raises (even
``SystemExit``) or returns something that is not a ``Violation`` or ``NotApplicable`` is an ``error`` finding
carrying what went wrong; the evaluation itself never raises for a policy bug. Team policies (Python files
from policy directories) run in a child process with a time limit (``teamcode``, ``sandbox``); built-in and
installed packs run here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import reduce
from dataclasses import replace
from typing import Any

from cloudorch.errors import PluginError
from cloudorch.policy.context import Context, PolicySubject, RegionGeo, SpecTarget, spec_targets
from cloudorch.policy.geo import region_geo as default_region_geo
from cloudorch.policy.model import STACK, Check, Enforcement, NotApplicable, Pack, Policy, Violation, stricter
from cloudorch.policy.report import Finding, PolicyInfo, Report
from cloudorch.policy.sandbox import describe_exception
from cloudorch.policy.teamcode import is_team_policy, run_policies, team_files
from cloudorch.policy.waivers import apply_waivers
from cloudorch.rendering.facts import PARTS_OF_ROLE
from cloudorch.rendering.model import RenderedResource

#: the roles some resource may hold inline as parts
_PART_ROLES = frozenset().union(*PARTS_OF_ROLE.values())


def merge_packs(packs: Sequence[Pack]) -> list[tuple[Policy, tuple[Pack, ...]]]:
    """Each distinct policy once, with every pack that publishes it, sorted by id.

    A framework pack (pci-dss) re-publishes baseline rules under the same id; that is one rule, not two.
    Two *different* rules under one id is an error: their findings could not be told apart.
    """
    found: dict[str, tuple[Policy, list[Pack]]] = {}
    for pack in packs:
        for policy in pack.policies:
            if policy.id not in found:
                found[policy.id] = (policy, [pack])
                continue
            first, owners = found[policy.id]
            if not first.same_rule(policy):
                raise PluginError(
                    f"policy id {policy.id!r} is defined differently by packs {owners[0].name!r} and {pack.name!r}",
                    hint="policy ids must be unique; rename one of them (ids are namespaced, e.g. team.rule)",
                )
            if pack not in owners:
                owners.append(pack)
    merged = []
    for policy_id in sorted(found):
        policy, owners = found[policy_id]
        frameworks: dict[str, tuple[str, ...]] = {}
        for owner in owners:
            for fw, ids in owner.policy(policy_id).frameworks.items():
                frameworks[fw] = tuple(sorted(set(frameworks.get(fw, ())) | set(ids)))
        merged.append((_with_frameworks(policy, frameworks), tuple(owners)))
    return merged


def _with_frameworks(policy: Policy, frameworks: dict[str, tuple[str, ...]]) -> Policy:
    return policy if dict(policy.frameworks) == frameworks else replace(policy, frameworks=frameworks)


def resolve_enforcement(policy: Policy, packs: Sequence[Pack], overrides: Mapping[str, str]) -> Enforcement:
    """A per-policy override beats everything; otherwise the strictest of its packs' settings.

    This is what a stack that lists all of ``packs`` runs the policy at: pci-dss making a baseline rule
    mandatory makes it mandatory for that stack. For what one pack applies on its own, see
    :func:`pack_enforcement`.
    """
    if policy.id in overrides:
        return overrides[policy.id]  # type: ignore[return-value]
    levels = [overrides.get(p.name) or p.enforcement or policy.enforcement for p in packs] or [policy.enforcement]
    return reduce(stricter, levels)  # type: ignore[arg-type]


def pack_enforcement(policy_id: str, pack: Pack, overrides: Mapping[str, str] | None = None) -> Enforcement:
    """The enforcement ``pack`` alone applies to one of its policies: what a stack listing only this pack gets.

    A per-policy override, else an override of the pack, else the pack's default, else the level the pack's
    own copy of the policy declares. Other packs publishing the same rule play no part.
    """
    overrides = overrides or {}
    return resolve_enforcement(pack.policy(policy_id), (pack,), overrides)


def evaluate(
    subject: PolicySubject,
    packs: Sequence[Pack],
    *,
    today: dt.date | None = None,
    overrides: Mapping[str, str] | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    region_geo: RegionGeo | None = None,
) -> Report:
    """Run every policy of ``packs`` against ``subject``.

    ``overrides`` (policy id or pack name -> enforcement) are applied on top of the stack file's own
    ``policies.enforcement``; ``config`` (policy id -> parameters) on top of each policy's defaults.
    """
    today = today or dt.date.today()
    stack = subject.stack
    effective_overrides = {**stack.policies.enforcement, **(overrides or {})}
    merged = merge_packs(packs)
    ctx = Context(subject, today=today, region_geo=region_geo or default_region_geo)
    locate = _Locator(subject)
    targets = _Targets(spec_targets(stack), subject.rendered, ctx)

    findings: list[Finding] = []
    infos: list[PolicyInfo] = []
    disabled: list[str] = []
    team: list[tuple[Policy, Enforcement, Context]] = []
    for policy, owners in merged:
        enforcement = resolve_enforcement(policy, owners, effective_overrides)
        infos.append(_info(policy, owners, enforcement))
        if enforcement == "disabled":
            disabled.append(policy.id)
            continue
        params = {**policy.config, **(config or {}).get(policy.id, {})}
        if is_team_policy(policy):
            team.append((policy, enforcement, ctx.for_policy(params)))
        else:
            findings += _run_policy(policy, enforcement, ctx.for_policy(params), targets, locate)
    if team:
        findings += _run_team_policies(team, targets, locate)

    known = {p.id for p, _ in merged} | {pack.name for pack in packs}
    unknown = sorted(k for k in effective_overrides if k not in known)
    findings, expired, unused = apply_waivers(
        findings, stack.policies.waivers, today, file=subject.loaded.file,
        line_of=lambda i: subject.loaded.line_of("policies", "waivers", i),
    )
    return Report(
        stack=stack.stack, file=subject.loaded.file, findings=tuple(sorted(findings, key=Finding.sort_key)),
        policies=tuple(infos), expired_waivers=tuple(expired), unused_waivers=tuple(unused),
        disabled=tuple(disabled), unknown_overrides=tuple(unknown),
        team_code=tuple(team_files(packs)) if team else (),
    )


def _info(policy: Policy, owners: Sequence[Pack], enforcement: Enforcement) -> PolicyInfo:
    return PolicyInfo(
        id=policy.id, title=policy.title, severity=policy.severity, enforcement=enforcement, levels=policy.levels,
        packs=tuple(sorted(p.name for p in owners)), remediation=policy.remediation, description=policy.description,
        frameworks=policy.frameworks, tags=policy.tags, url=policy.url,
    )


class _Targets:
    def __init__(self, spec: list[SpecTarget], rendered: Iterable[RenderedResource], ctx: Context) -> None:
        self.spec = spec
        self.rendered = [r for r in rendered if not r.is_provider]
        self.by_type: dict[str, list[RenderedResource]] = {}
        self.by_role: dict[str, list[RenderedResource]] = {}
        for res in self.rendered:
            self.by_type.setdefault(res.type, []).append(res)
            if res.role is not None:
                self.by_role.setdefault(res.role, []).append(res)
        self._ctx = ctx
        #: part role -> the parts of that role every resource holds inline (``rendering.facts.Part``)
        self._parts: dict[str, list[RenderedResource]] = {}

    def parts(self, role: str) -> list[RenderedResource]:
        """The parts of ``role`` (a listener an Application Gateway holds inline), read once per evaluation from
        the resources whose role may hold them. A holder its provider cannot describe stands in for its parts,
        so the rule reports that provider's error on it instead of passing its listeners unseen."""
        if role not in self._parts:
            found: list[RenderedResource] = []
            for holder_role, part_roles in PARTS_OF_ROLE.items():
                if role not in part_roles:
                    continue
                for holder in self.by_role.get(holder_role, ()):
                    try:
                        found += self._ctx.parts(holder, role)
                    except Exception:  # noqa: BLE001 - reported by the check, which describes the holder again
                        found.append(holder)
            self._parts[role] = found
        return self._parts[role]

    def of(self, check: Check) -> Iterable[Any]:
        if check.level == "spec":
            wanted = set(check.targets)
            return [t for t in self.spec if (t.kind in wanted if wanted else t.kind != STACK)]
        if not check.targets and not check.roles:
            return self.rendered
        found = [r for token in check.targets for r in self.by_type.get(token, ())]
        # a resource of a listed type is not visited again for its role
        found += [r for role in check.roles for r in self.by_role.get(role, ()) if r.type not in check.targets]
        return found + [p for role in check.roles if role in _PART_ROLES for p in self.parts(role)]


class _Locator:
    """Stack-file lines for findings, cached: thousands of rendered resources share a few spec resources."""

    def __init__(self, subject: PolicySubject) -> None:
        self.loaded = subject.loaded
        self.cache: dict[tuple[Any, ...], int | None] = {}

    def line(self, resource: str | None, path: tuple[Any, ...]) -> int | None:
        full = (("resources", resource, *path) if resource else path) or ("stack",)
        if full not in self.cache:
            self.cache[full] = self.loaded.line_of(*full)
        return self.cache[full]


#: what one check made of one target: its results, or (a string) why it has none
Outcome = list[Violation | NotApplicable] | str


def _call(check: Check, target: Any, ctx: Context, trusted: bool) -> Outcome:
    """Run one check on one target; whatever goes wrong is the policy's error, never the run's.

    In-process (``trusted``: built-in and installed packs) a KeyboardInterrupt is the user's Ctrl-C and stops
    the run; in a team policy's child process it can only be the policy's own doing.
    """
    try:
        results = check.fn(target, ctx)
        items = [] if results is None else list(results)
    except KeyboardInterrupt:
        if trusted:
            raise
        return "policy raised KeyboardInterrupt"
    except BaseException as exc:  # noqa: BLE001 - a policy bug (or its sys.exit) must become a finding
        return f"policy {describe_exception(exc)}"
    for item in items:
        if type(item) is not Violation and not isinstance(item, (Violation, NotApplicable)):
            return f"policy returned {type(item).__name__}, not Violation or NotApplicable"
    return items


def _outcomes(policy: Policy, ctx: Context, targets: _Targets, *, trusted: bool) -> list[list[Outcome]]:
    return [[_call(check, target, ctx, trusted) for target in targets.of(check)] for check in policy.checks]


def _run_team_policies(team: list[tuple[Policy, Enforcement, Context]], targets: _Targets,
                       locate: _Locator) -> list[Finding]:
    """Team policies run in a child process (``teamcode``); one that cannot finish there is an error finding."""
    results = run_policies([(policy, ctx) for policy, _, ctx in team],
                           lambda policy, ctx: _outcomes(policy, ctx, targets, trusted=False))
    findings: list[Finding] = []
    for (policy, enforcement, ctx), result in zip(team, results):
        if result.ok:
            findings += _run_policy(policy, enforcement, ctx, targets, locate, result.value)
            continue
        at = f" at {result.where[0]}:{result.where[1]}" if result.where else ""
        printed = f" (it printed: {result.output.strip()})" if result.output.strip() else ""
        findings.append(Finding(policy=policy.id, title=policy.title, severity=policy.severity,
                                enforcement=enforcement, remediation=policy.remediation, file=locate.loaded.file,
                                stack=ctx.stack.stack, level=None, status="error", line=None,
                                message=f"policy {result.error}{at}{printed}"))
    return findings


def _run_policy(policy: Policy, enforcement: Enforcement, ctx: Context, targets: _Targets,
                locate: _Locator, outcomes: list[list[Outcome]] | None = None) -> list[Finding]:
    """The findings of one policy: from ``outcomes`` when its checks ran elsewhere, else running them here."""
    stack = ctx.stack.stack
    pid, title, severity, remediation, file = (policy.id, policy.title, policy.severity, policy.remediation,
                                               locate.loaded.file)
    base = dict(policy=pid, title=title, severity=severity, enforcement=enforcement, remediation=remediation,
                file=file, stack=stack)
    out: list[Finding] = []
    skipped: list[str] = []
    line = locate.line
    for index, check in enumerate(policy.checks):
        found = targets.of(check)
        done = outcomes[index] if outcomes is not None else [_call(check, target, ctx, True) for target in found]
        level = check.level
        for target, results in zip(found, done):
            # Findings are built positionally (the field order of ``Finding``): at 10,000 resources the
            # keyword merging alone was a tenth of the evaluation
            if level == "rendered":
                resource, rendered, cloud = target.source, target.name, target.cloud
            else:
                resource, rendered, cloud = target.name, None, None
            if type(results) is str:
                out.append(Finding(pid, title, severity, enforcement, level, "error", results, resource, rendered,
                                   cloud, remediation, file, line(resource, ()), stack))
                continue
            failed = False
            for r in results:
                if isinstance(r, Violation):
                    failed = True
                    owner = r.resource or resource
                    out.append(Finding(pid, title, severity, enforcement, level, "fail", r.message, owner, rendered,
                                       cloud, remediation, file, line(owner, r.path), stack))
            if not failed:
                reasons = [r.reason for r in results if isinstance(r, NotApplicable)]
                if reasons:
                    skipped += reasons
                else:
                    out.append(Finding(pid, title, severity, enforcement, level, "pass", "ok", resource, rendered,
                                       cloud, remediation, file, line(resource, ()), stack))
    if not out:
        reason = sorted(set(skipped))[0] if skipped else "no resource this policy applies to"
        out.append(Finding(**base, level=None, status="not-applicable", message=reason, line=None))
    return out
