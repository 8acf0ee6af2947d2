"""Run a team's existing Pulumi CrossGuard resource policies (the ``pulumi_policy`` package) on cloudorch's
rendered resources, and fold their violations into the same report.

CrossGuard normally runs inside ``pulumi preview`` as a gRPC analyzer; here each validator is called
directly with the same ``ResourceValidationArgs`` it would get there, including CrossGuard's own
unknown-value proxy, so a validator that reads an output-dependent input behaves as it does in a preview
(it is skipped for that resource). A policy module that calls ``PolicyPack(...)`` at import time (every
CrossGuard ``__main__.py`` does, and it would start a server and block) is imported with ``PolicyPack``
replaced by a recorder. ``pulumi_policy`` is imported only when such a policy is actually used.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cloudorch.policy.model import Check, NotApplicable, Pack, Policy, Violation
from cloudorch.rendering.model import is_deferred

_SEVERITY = {"low": "low", "medium": "medium", "high": "high", "critical": "critical"}
# cloudorch cannot remediate; a remediation policy still means "this resource is not as required"
_ENFORCEMENT = {"advisory": "advisory", "mandatory": "mandatory", "remediate": "mandatory", "disabled": "disabled"}


def is_resource_policy(obj: Any) -> bool:
    module = sys.modules.get("pulumi_policy")
    return module is not None and isinstance(obj, module.ResourceValidationPolicy)


def _value(enum_or_none: Any, table: dict[str, str], default: str) -> str:
    raw = getattr(enum_or_none, "value", enum_or_none)
    return table.get(str(raw).lower(), default) if raw is not None else default


def policy_id(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "policy"
    return f"crossguard.{slug}"


def _unknowns(value: Any) -> Any:
    """cloudorch's ``{"$ref": ...}`` becomes CrossGuard's unknown sentinel, which its proxy raises on; so does a
    map whose keys are references (``{"$keys": ...}``), as an unknown map is in a Pulumi preview."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    if is_deferred(value):
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {k: _unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns(v) for v in value]
    return value


def _args(policy: Any, resource: Any, ctx: Any) -> Any:
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
    from pulumi_policy.proxy import unknown_checking_proxy

    stack = ctx.stack.stack
    urn = f"urn:pulumi:{stack}::{stack}::{resource.type}::{resource.name}"
    opts = PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                                 additional_secret_outputs=list(resource.secret_outputs))
    props = unknown_checking_proxy(_unknowns(resource.inputs))
    return ResourceValidationArgs(resource.type, props, urn, resource.name, opts, None,
                                  dict(ctx.config), dict(ctx.tags_of(resource.source)))


def _checker(policy: Any) -> Any:
    description = str(policy.description or policy.name)

    def check(resource: Any, ctx: Any) -> list[Any]:
        from pulumi_policy.policy import _NotApplicableError
        from pulumi_policy.proxy import UnknownValueError

        reported: list[Violation] = []

        def report_violation(message: str = "", urn: str | None = None) -> None:
            reported.append(Violation(f"{description}: {message}" if message else description))

        try:
            result = policy.validate(_args(policy, resource, ctx), report_violation)
            if inspect.isawaitable(result):
                import asyncio  # not at the top: it costs ~50 ms to import, and only async validators need it

                asyncio.run(_await(result))
        except UnknownValueError as exc:
            return [NotApplicable(f"can't run during planning: {exc.message}")]
        except _NotApplicableError as exc:
            return [NotApplicable(exc.reason or "policy does not apply")]
        return reported

    return check


async def _await(result: Any) -> None:
    await result


def policy_from_crossguard(policy: Any, *, origin: str | None = None, default_enforcement: str = "advisory") -> Policy:
    """A cloudorch ``Policy`` running one ``ResourceValidationPolicy`` on every rendered resource.

    As in CrossGuard, the policy's own enforcement level wins over its pack's (``default_enforcement``).
    """
    framework = getattr(policy, "framework", None)
    frameworks = {str(framework.name): (str(framework.version or ""),)} if framework is not None else {}
    return Policy(
        id=policy_id(policy.name),
        title=str(policy.display_name or policy.description or policy.name),
        severity=_value(policy.severity, _SEVERITY, "medium"),  # type: ignore[arg-type]
        enforcement=_value(policy.enforcement_level, _ENFORCEMENT, default_enforcement),  # type: ignore[arg-type]
        checks=(Check("rendered", (), _checker(policy)),),
        remediation=str(policy.remediation_steps or ""),
        description=str(policy.description or ""),
        frameworks=frameworks, tags=tuple(policy.tags or ()), url=policy.url, origin=origin,
    )


@dataclass(frozen=True)
class CapturedPack:
    name: str
    policies: tuple[Any, ...]
    enforcement_level: Any = None
    description: str | None = None


def pack_from_crossguard(captured: CapturedPack | Any, *, origin: str | None = None) -> Pack:
    name = re.sub(r"[^a-z0-9-]+", "-", str(captured.name).lower()).strip("-") or "crossguard"
    default = _value(getattr(captured, "enforcement_level", None), _ENFORCEMENT, "advisory")
    policies = tuple(policy_from_crossguard(p, origin=origin, default_enforcement=default)
                     for p in captured.policies if is_resource_policy(p))
    return Pack(name=name if name[0].isalpha() else f"cg-{name}", policies=policies,
                description=str(getattr(captured, "description", "") or ""), origin=origin)


def crossguard_pack(name: str, policies: list[Any], *, enforcement: str | None = None) -> Pack:
    """Wrap CrossGuard policies as a cloudorch pack (for entry points or Python policy modules)."""
    return pack_from_crossguard(CapturedPack(name, tuple(policies), enforcement))


@contextmanager
def capture_policy_packs(sink: list[Any], *, enabled: bool = True) -> Iterator[None]:
    """While importing a CrossGuard module, record ``PolicyPack(...)`` calls instead of serving them."""
    if not enabled:
        yield
        return
    import pulumi_policy
    import pulumi_policy.policy as policy_module

    def recorder(name: str, policies: list[Any], enforcement_level: Any = None, initial_config: Any = None,
                 description: str | None = None, **_: Any) -> None:
        sink.append(CapturedPack(name, tuple(policies), enforcement_level, description))

    saved = (pulumi_policy.PolicyPack, policy_module.PolicyPack)
    pulumi_policy.PolicyPack = policy_module.PolicyPack = recorder  # type: ignore[assignment]
    try:
        yield
    finally:
        pulumi_policy.PolicyPack, policy_module.PolicyPack = saved
