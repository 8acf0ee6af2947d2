"""What a policy is: frozen metadata plus pure check functions that return violations.

A policy never holds state between calls and never registers itself anywhere: a pack is a plain value that
somebody (an entry point, a policy directory) hands to the engine. Checkov's shared, mutated check objects
and its import-time registry are the two things this shape avoids.

One policy may check at both levels: the neutral spec (what the user asked for) and the rendered Pulumi
resources (what a provider will actually create). Sharing one id means one waiver covers both, and a gap
in a provider's mapping shows up under the same rule the spec already passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Union

from cloudorch.rendering.roles import Role

if TYPE_CHECKING:
    from cloudorch.policy.context import Context, SpecTarget
    from cloudorch.rendering.model import RenderedResource

Severity = Literal["low", "medium", "high", "critical"]
Enforcement = Literal["advisory", "mandatory", "disabled"]
Level = Literal["spec", "rendered"]
Status = Literal["pass", "fail", "waived", "not-applicable", "error"]

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
ENFORCEMENTS: tuple[Enforcement, ...] = ("disabled", "advisory", "mandatory")  # weakest first
LEVELS: tuple[Level, ...] = ("spec", "rendered")
STATUSES: tuple[Status, ...] = ("fail", "error", "waived", "pass", "not-applicable")

POLICY_ID = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")
PACK_NAME = re.compile(r"^[a-z][a-z0-9-]*$")

#: the target kind of a stack-wide spec check (budget, stack tags): called once, with the whole stack
STACK = "stack"
ROLES = frozenset(role.value for role in Role)


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing wrong with one target.

    ``path`` locates the offending field in the stack file, relative to the spec resource
    (``("ingress", 0)``) or, for stack-wide checks, absolute (``("budget", "monthly_usd")``).
    ``resource`` lets a stack-wide check name the spec resource it is about.
    """

    message: str
    path: tuple[str | int, ...] = ()
    resource: str | None = None

    def __post_init__(self) -> None:
        # Checked here, where the policy makes it: a bad value then fails the policy that wrote it (an error
        # finding naming the mistake) instead of every report format that later reads it.
        if type(self.message) is not str:
            raise TypeError(f"Violation message must be a string, not {type(self.message).__name__}")
        if type(self.path) is not tuple:
            if not isinstance(self.path, list):
                raise TypeError(f"Violation path must be a tuple of field names and list indexes, such as "
                                f"(\"ingress\", 0), not {type(self.path).__name__}")
            object.__setattr__(self, "path", tuple(self.path))
        for part in self.path:
            if type(part) is not str and type(part) is not int:
                raise TypeError(f"Violation path parts must be field names (str) or list indexes (int), "
                                f"not {type(part).__name__}")
        if self.resource is not None and type(self.resource) is not str:
            raise TypeError(f"Violation resource must be a resource name (str), not {type(self.resource).__name__}")


@dataclass(frozen=True, slots=True)
class NotApplicable:
    """Returned by a check that cannot judge this target (no placement yet, no budget set, ...)."""

    reason: str

    def __post_init__(self) -> None:
        if type(self.reason) is not str:
            raise TypeError(f"NotApplicable reason must be a string, not {type(self.reason).__name__}")


CheckResult = Union[Violation, NotApplicable]
Target = Union["SpecTarget", "RenderedResource"]
CheckFn = Callable[[Any, "Context"], Iterable[CheckResult] | None]


@dataclass(frozen=True, slots=True)
class Check:
    """One pure function and what it looks at.

    ``targets`` are spec kinds (``compute``, ``database``, ``bucket``, ``network``, or ``stack``) for a
    spec check, or Pulumi type tokens for a rendered check. ``roles`` (rendered checks only) are neutral
    roles (``firewall-rule``, ``database``, ...): the check sees every cloud's resources of those roles, a
    fourth cloud's included, and reads them through ``ctx.facts``. A rendered check sees the resources of
    its types and of its roles; with neither, every rendered resource (and with no targets, every spec
    resource).
    """

    level: Level
    targets: tuple[str, ...]
    fn: CheckFn
    roles: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"check level must be one of {LEVELS}, not {self.level!r}")
        if self.roles and self.level != "rendered":
            raise ValueError("only a rendered check targets roles")
        unknown = [r for r in self.roles if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(map(repr, unknown))}; roles: {', '.join(sorted(ROLES))}")


def spec_check(*kinds: str) -> Callable[[CheckFn], Check]:
    """Decorator: ``@spec_check("compute", "database")`` turns ``fn(target, ctx)`` into a ``Check``."""
    return lambda fn: Check("spec", tuple(kinds), fn)


def rendered_check(*types: str, roles: Iterable[str] = ()) -> Callable[[CheckFn], Check]:
    """Decorator: ``@rendered_check(roles=("database",))`` for a rule every cloud's databases must meet;
    ``@rendered_check("aws:ec2/instance:Instance")`` for a rule about one cloud's own feature."""
    return lambda fn: Check("rendered", tuple(types), fn, tuple(str(r) for r in roles))


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    severity: Severity
    checks: tuple[Check, ...]
    #: None: follows the severity (``enforcement_for``); a pack or the stack can still say otherwise
    enforcement: Enforcement | None = None  # type: ignore[assignment]
    remediation: str = ""
    description: str = ""
    #: framework -> control ids, e.g. {"checkov": ("CKV_AWS_24",), "cis-aws-3.0": ("5.2",)}
    frameworks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    #: default parameters; a config file can override them per policy id
    config: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None
    #: where the policy came from (a YAML file, a CrossGuard module) for error messages
    origin: str | None = None

    def __post_init__(self) -> None:
        if not POLICY_ID.match(self.id):
            raise ValueError(f"policy id {self.id!r} must be namespaced, e.g. `network.public-ingress`")
        if self.severity not in SEVERITIES:
            raise ValueError(f"policy {self.id}: severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.enforcement is None:
            object.__setattr__(self, "enforcement", enforcement_for(self.severity))
        if self.enforcement not in ENFORCEMENTS:
            raise ValueError(f"policy {self.id}: enforcement must be one of {ENFORCEMENTS}")
        if not self.checks:
            raise ValueError(f"policy {self.id} has no checks")
        # every report format prints these: a number or a list here must fail where the policy is defined
        for name in ("title", "remediation", "description"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"policy {self.id}: {name} must be a string, not {type(getattr(self, name)).__name__}")
        if self.url is not None and not isinstance(self.url, str):
            raise ValueError(f"policy {self.id}: url must be a string, not {type(self.url).__name__}")
        if isinstance(self.tags, str) or not all(isinstance(t, str) for t in self.tags):
            raise ValueError(f"policy {self.id}: tags must be a list of strings")
        if not all(isinstance(c, Check) for c in self.checks):
            raise ValueError(f"policy {self.id}: checks must be Check objects (use @spec_check or @rendered_check)")
        if not isinstance(self.frameworks, Mapping) or not isinstance(self.config, Mapping):
            raise ValueError(f"policy {self.id}: frameworks and config must be mappings")
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "checks", tuple(self.checks))
        frameworks = {str(k): (v,) if isinstance(v, str) else tuple(v) for k, v in dict(self.frameworks).items()}
        if not all(isinstance(i, str) for ids in frameworks.values() for i in ids):
            raise ValueError(f"policy {self.id}: framework control ids must be strings, such as \"5.2\"")
        object.__setattr__(self, "frameworks", dict(sorted(frameworks.items())))

    @property
    def levels(self) -> tuple[Level, ...]:
        return tuple(level for level in LEVELS if any(c.level == level for c in self.checks))

    def same_rule(self, other: Policy) -> bool:
        """True when ``other`` is this rule re-published (a framework pack re-uses baseline rules)."""
        return self.id == other.id and self.checks == other.checks


@dataclass(frozen=True)
class Pack:
    """A named group of policies. ``enforcement`` (if set) is the pack's default for all its policies."""

    name: str
    policies: tuple[Policy, ...]
    description: str = ""
    enforcement: Enforcement | None = None
    version: str = "0"
    origin: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not PACK_NAME.match(self.name):
            raise ValueError(f"pack name {self.name!r}: lower-case letters, digits and dashes")
        if isinstance(self.policies, (str, bytes)) or not all(isinstance(p, Policy) for p in self.policies):
            raise ValueError(f"pack {self.name!r}: policies must be Policy objects")
        if self.enforcement is not None and self.enforcement not in ENFORCEMENTS:
            raise ValueError(f"pack {self.name!r}: enforcement must be one of {ENFORCEMENTS}")
        if not isinstance(self.description, str) or not isinstance(self.version, str):
            raise ValueError(f"pack {self.name!r}: description and version must be strings")
        object.__setattr__(self, "policies", tuple(self.policies))
        seen: set[str] = set()
        for policy in self.policies:
            if policy.id in seen:
                raise ValueError(f"pack {self.name!r} defines policy {policy.id!r} twice")
            seen.add(policy.id)

    def policy(self, policy_id: str) -> Policy:
        for policy in self.policies:
            if policy.id == policy_id:
                return policy
        raise KeyError(policy_id)


def enforcement_for(severity: Severity) -> Enforcement:
    """What a policy that states no enforcement runs at: a low-severity rule (a missing tag) advises, the
    rest block. Blocking a deploy over a tag taught teams to waive rules wholesale."""
    return "advisory" if severity == "low" else "mandatory"


def stricter(a: Enforcement, b: Enforcement) -> Enforcement:
    return a if ENFORCEMENTS.index(a) >= ENFORCEMENTS.index(b) else b
