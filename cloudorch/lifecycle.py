"""Apply and the other engine operations, with the gates that run before Pulumi is touched.

Order matters and is tested: a stale saved plan (exit 2), a mandatory policy failure (exit 3) and a
budget overrun (exit 4) stop `apply` before cloudorch even looks for the Pulumi CLI. The commands that
work from state (destroy, refresh, drift, outputs, unlock) need only the stack's identity: they pass none
of these gates, as none of them protects anything once the resources exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from cloudorch import __version__, api
from cloudorch.api import PlanResult, Session
from cloudorch.engine import EngineSettings, PulumiEngine, provider_pins
from cloudorch.errors import UsageError
from cloudorch.plan import FORMAT_VERSION, Plan, sha256_text
from cloudorch.plugins import provider_names
from cloudorch.project import StackIdentity
from cloudorch.provider import PulumiPlugin
from cloudorch.spec.loader import load_stack_header


def load_saved_plan(path: str | Path) -> Plan:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"saved plan {str(path)!r} not found", hint="make one with `cloudorch plan STACK --out FILE`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"saved plan {str(path)!r} is not a readable plan file: {exc}") from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise UsageError(f"saved plan {str(path)!r} has format_version {data.get('format_version') if isinstance(data, dict) else None!r}; "
                         f"this cloudorch reads version {FORMAT_VERSION}", hint="plan again with this version")
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"saved plan {str(path)!r} is malformed at {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def stale_reasons(saved: Plan, current: Plan) -> list[str]:
    """Why a saved plan may no longer be applied, in words; empty when it is still exactly right."""
    reasons = []
    if saved.stack != current.stack:
        reasons.append(f"it is a plan of stack {saved.stack!r}, not {current.stack!r}")
    reasons += [f"{what} changed since the plan was made" for what in saved.fingerprint.differences(current.fingerprint)]
    if not reasons and saved.resources != current.resources:
        reasons.append("the rendered resources differ from the plan (" + _resource_diff(saved, current) + ")")
    return reasons


def _resource_diff(saved: Plan, current: Plan, shown: int = 4) -> str:
    """Added, removed and changed resources by name, with the inputs that changed: what a reviewer needs."""
    before = {r.name: r for r in saved.resources}
    after = {r.name: r for r in current.resources}
    parts = []
    for label, names in (("added", sorted(after.keys() - before.keys())), ("removed", sorted(before.keys() - after.keys()))):
        if names:
            parts.append(f"{label} {', '.join(names[:shown])}" + (f" and {len(names) - shown} more" if len(names) > shown else ""))
    changed = []
    for name in sorted(before.keys() & after.keys()):
        if before[name] != after[name]:
            keys = sorted(k for k in before[name].inputs.keys() | after[name].inputs.keys()
                          if before[name].inputs.get(k) != after[name].inputs.get(k))
            changed.append(f"{name} [{', '.join(keys) or 'options'}]")
    if changed:
        parts.append(f"changed {', '.join(changed[:shown])}" + (f" and {len(changed) - shown} more" if len(changed) > shown else ""))
    return "; ".join(parts)


def gate(stack_path: str | Path, session: Session, plan_path: str | Path | None = None) -> PlanResult:
    """Everything `apply` checks before the engine: returns the plan to apply, or raises with exit 2/3/4/5."""
    saved = load_saved_plan(plan_path) if plan_path is not None else None
    if saved is not None:
        _refuse_if_stale(saved, _early_differences(saved, stack_path, session), stack_path, plan_path)
    result = api.plan(stack_path, session)  # infeasible (5) raises here
    if saved is not None:
        _refuse_if_stale(saved, stale_reasons(saved, result.plan), stack_path, plan_path)
    refusal = result.refusal()
    if refusal is not None:
        raise refusal
    return result


def _early_differences(saved: Plan, stack_path: str | Path, session: Session) -> list[str]:
    """What can be compared before placing anything: so a stale plan is refused (2) even when the changed
    stack would now fail placement or the budget."""
    reasons = []
    if saved.fingerprint.cloudorch_version != __version__:
        reasons.append("the cloudorch version changed since the plan was made")
    try:
        text = Path(stack_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return reasons  # the loader reports it properly
    if saved.fingerprint.stack_sha256 != sha256_text(text):
        reasons.append("the stack file changed since the plan was made")
    if saved.fingerprint.catalog_sha256 != session.catalog.digest:
        reasons.append("the catalog changed since the plan was made")
    return reasons


def _refuse_if_stale(saved: Plan, reasons: list[str], stack_path, plan_path) -> None:
    if reasons:
        raise UsageError(f"the saved plan {str(plan_path)!r} is stale: " + "; ".join(reasons),
                         hint=f"review and save a new plan: cloudorch plan {stack_path} --out {plan_path}")


@dataclass(frozen=True)
class StackState:
    """A stack as the commands that work from its state see it (destroy, refresh, drift, outputs, unlock):
    its identity and engine, from the stack file's name alone, with no placement, rendering or policy.

    Pulumi destroys and refreshes from the state; the program is not run. What it needs besides is the
    resource plugins, which come from the provider classes of the clouds the stack may use, so a stack
    that today's catalog, budget or policy packs would refuse can still be torn down.
    """

    identity: StackIdentity
    engine: PulumiEngine
    plugins: tuple[PulumiPlugin, ...]


def stack_state(stack_path: str | Path, session: Session) -> StackState:
    header = load_stack_header(stack_path)
    identity = session.identity(header.stack)
    clouds = header.clouds if header.clouds is not None else provider_names()
    return StackState(identity, engine_for(identity, session), provider_pins(clouds))


def engine_for(identity: StackIdentity, session: Session) -> PulumiEngine:
    project, config = session.project, session.config
    return PulumiEngine(EngineSettings(
        project_dir=project.root, identity=identity, project_named_in_config=project.source == "config",
        backend_url=config.backend_url, secrets_provider=config.secrets_provider,
    ))
