"""The result of an evaluation: findings with distinct outcomes, waiver notes, and what blocks a deploy."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, field
from typing import Any

from cloudorch.policy.model import STATUSES, Enforcement, Level, Severity, Status


@dataclass(frozen=True, slots=True)
class Finding:
    # field order matters: the policy engine builds findings positionally (its hot loop)
    policy: str
    title: str
    severity: Severity
    enforcement: Enforcement
    level: Level | None  # None for a not-applicable finding that no check reached
    status: Status
    message: str
    resource: str | None = None  # the spec resource
    rendered: str | None = None  # the rendered (Pulumi) resource's logical name
    cloud: str | None = None
    remediation: str = ""
    file: str | None = None
    line: int | None = None
    stack: str | None = None
    waiver_reason: str | None = None
    waiver_owner: str | None = None
    note: str | None = None  # e.g. "waiver expired on 2025-01-31"

    @property
    def fingerprint(self) -> str:
        """Stable across edits that move lines: stack, policy, spec resource and rendered name only."""
        key = "|".join((self.stack or "", self.policy, self.resource or "", self.rendered or ""))
        return hashlib.sha256(key.encode()).hexdigest()[:20]

    @property
    def blocking(self) -> bool:
        # a mandatory policy that crashed could not vouch for the stack: fail closed
        return self.enforcement == "mandatory" and self.status in ("fail", "error")

    def sort_key(self) -> tuple[Any, ...]:
        return (self.stack or "", self.policy, self.resource or "", self.rendered or "", self.level or "",
                self.status, self.message)

    def to_dict(self) -> dict[str, Any]:
        # every field is a plain value: a shallow copy, ~10x cheaper than asdict's recursive deep copy, which
        # dominated building the plan of a 1,000-resource stack (26,000 findings)
        data = {name: getattr(self, name) for name in _FINDING_FIELDS}
        data["fingerprint"] = self.fingerprint
        return data


_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


@dataclass(frozen=True, slots=True)
class WaiverNote:
    """A waiver that expired or matched nothing, with where it is written."""

    policy: str
    resource: str
    reason: str
    owner: str
    expires: dt.date
    file: str | None = None
    line: int | None = None
    matched: tuple[str, ...] = ()  # for an expired waiver: "policy resource[/rendered]" it would cover

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"expires": self.expires.isoformat(), "matched": list(self.matched)}


@dataclass(frozen=True)
class PolicyInfo:
    """A policy's metadata as evaluated (effective enforcement, the packs it came from)."""

    id: str
    title: str
    severity: Severity
    enforcement: Enforcement
    levels: tuple[Level, ...]
    packs: tuple[str, ...]
    remediation: str = ""
    description: str = ""
    frameworks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["frameworks"] = {k: list(v) for k, v in sorted(self.frameworks.items())}
        data["levels"], data["packs"], data["tags"] = list(self.levels), list(self.packs), list(self.tags)
        return data


@dataclass(frozen=True)
class Report:
    stack: str
    file: str | None
    findings: tuple[Finding, ...]
    policies: tuple[PolicyInfo, ...] = ()
    expired_waivers: tuple[WaiverNote, ...] = ()
    unused_waivers: tuple[WaiverNote, ...] = ()
    disabled: tuple[str, ...] = ()  # policy ids switched off by enforcement
    unknown_overrides: tuple[str, ...] = ()  # enforcement keys that name no policy or pack
    baselined: int = 0  # failures hidden because a baseline file already records them
    #: the team's Python policy files whose code ran (in a child process): the CLI says so; not in the plan
    team_code: tuple[str, ...] = ()

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status == "fail")

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status == "error")

    def counts(self) -> dict[str, int]:
        found = Counter(f.status for f in self.findings)
        return {status: found.get(status, 0) for status in STATUSES}

    def to_dict(self, *, include_passing: bool = True) -> dict[str, Any]:
        """Plain data, sorted. ``include_passing=False`` keeps a plan file small (the summary still counts them)."""
        quiet = ("pass", "not-applicable")
        return {
            "stack": self.stack,
            "file": self.file,
            "summary": self.counts() | {"blocking": len(self.blocking), "baselined": self.baselined},
            "findings": [f.to_dict() for f in self.findings if include_passing or f.status not in quiet],
            "expired_waivers": [w.to_dict() for w in self.expired_waivers],
            "unused_waivers": [w.to_dict() for w in self.unused_waivers],
            "disabled": list(self.disabled),
            "unknown_overrides": list(self.unknown_overrides),
        }
